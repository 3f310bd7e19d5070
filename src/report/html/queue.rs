//! The queue over time of a run with a time series (`sample_every`): the chart, each node's
//! peak, when and its drain time, and what the steady-state figures mean when the load follows
//! the clock.

use std::fmt::Write as _;

use super::markup::{HtmlTable, escape};
use crate::analytic::varying::is_time_varying;
use crate::report::series::{clock_text, drain_text, with_interval};
use crate::report::{EstimateEntry, Exporter, ImageFormat, QueueOverTime, ReportError, RunReport, number};

/// The section, when the run has a time series; with its chart inline when `charts`.
pub(super) fn render(result: &RunReport<'_>, charts: bool, out: &mut String) -> Result<(), ReportError> {
    let Some(peaks) = &result.summary.peaks else { return Ok(()) };
    out.push_str("<section>\n<h2>Queue over time</h2>\n");
    if is_time_varying(&result.scenario.network) {
        out.push_str(
            "<p class=\"note\">The load follows the clock, so the network has no steady state: the \
             figures above are averages over the observed window, and the steady-state theory beside \
             them is withheld. What happens over time is below, beside the fluid approximation.</p>\n",
        );
    }
    if charts {
        let svg = String::from_utf8_lossy(&QueueOverTime(ImageFormat::Svg).render(result)?).into_owned();
        let _ = writeln!(
            out,
            "<figure>\n{svg}\n<figcaption>Also in charts/queue-over-time.svg and as PNG beside it.\
             </figcaption>\n</figure>"
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">Each replication's peak interval mean of messages held, when it is reached \
         (the end of the interval) and the time until the queue is back within 10% of its level \
         before the peak: mean [95% CI] across replications; and the same figures of the mean curve.</p>"
    );
    let mut table =
        HtmlTable::new(&["node", "peak (messages)", "at", "drain time", "mean curve: peak, at, drain"], 1);
    for peak in peaks {
        let curve = &peak.mean_curve;
        let drain = curve.drain_time.map_or_else(|| "not drained".to_owned(), clock_text);
        table.row(
            None,
            vec![
                escape(&peak.node),
                with_interval(&peak.peak, ""),
                clock_interval(&peak.peak_time),
                escape(&drain_text(peak, clock_interval)),
                format!("{} at {}, drained in {drain}", number(curve.peak), clock_text(curve.peak_time)),
            ],
        );
    }
    table.render(out);
    out.push_str("</section>\n");
    Ok(())
}

/// A time with its 95% interval on the run's clock: "2h11m [2h10m, 2h12m]".
fn clock_interval(entry: &EstimateEntry) -> String {
    let mean = entry.mean.map_or_else(|| "-".to_owned(), clock_text);
    match entry.ci95 {
        Some([low, high]) => format!("{mean} [{}, {}]", clock_text(low), clock_text(high)),
        None => mean,
    }
}
