//! The human-readable results table printed by `kendall run`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::analysis::figure_text;
use super::json::{EstimateEntry, PrecisionEntry, SummaryFile};
use super::series::render_peaks;
use crate::analytic::Figure;
pub use crate::format::number;
use crate::stats::{ExchangeMetric, MessageClassMetric, Metric, NodeClassMetric, NodeMetric, SourceMetric};

/// "1 replication", "10 replications".
#[must_use]
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Relative difference of the simulated mean from theory, as a percentage.
fn difference(mean: Option<f64>, figure: Option<&Figure>) -> String {
    match (mean, figure.and_then(|f| f.value)) {
        (Some(mean), Some(theory)) if theory != 0.0 => format!("{:+.1}%", 100.0 * (mean - theory) / theory),
        _ => String::new(),
    }
}

/// One entity's metrics: simulated means and intervals, beside theory where it has a figure.
struct Block<'a> {
    title: String,
    metrics: &'a BTreeMap<String, EstimateEntry>,
    analytic: &'a BTreeMap<String, Figure>,
    misses: &'a [String],
}

impl Block<'_> {
    fn render<M: Metric>(&self, out: &mut String) {
        let _ = writeln!(out, "{}", self.title);
        let _ = writeln!(
            out,
            "  {:<24} {:>12}  {:<22} {:>12} {:>8}",
            "metric", "mean", "95% CI", "theory", "diff"
        );
        for metric in M::ALL {
            let key = metric.key();
            let entry = self.metrics.get(key);
            let unit = metric.unit();
            let mean = entry.and_then(|e| e.mean);
            let mean_text = mean.map_or_else(|| "-".to_owned(), |m| format!("{}{unit}", number(m)));
            let ci = entry
                .and_then(|e| e.ci95)
                .map_or_else(String::new, |[low, high]| format!("[{}, {}]", number(low), number(high)));
            let figure = self.analytic.get(key);
            if mean.is_none() && figure.and_then(|f| f.value).is_none() {
                continue; // nothing measured and nothing predicted (e.g. no multicast here)
            }
            let theory =
                figure.filter(|f| f.value.is_some()).map_or_else(String::new, |f| figure_text(unit, f));
            let flag = if self.misses.iter().any(|m| m == key) { "  outside CI" } else { "" };
            let diff = difference(mean, figure);
            let _ = writeln!(out, "  {key:<24} {mean_text:>12}  {ci:<22} {theory:>12} {diff:>8}{flag}");
        }
    }
}

/// The precision target and whether the run met it, with the figures still too wide.
fn render_precision(precision: &PrecisionEntry, out: &mut String) {
    // Rounded to a millionth so that 0.02 reads "2", not "2.0000000000000004".
    let round = |value: f64| (value * 1e6).round() / 1e6;
    let target = format!(
        "precision target: 95% CI within ±{}% (probabilities ±{})",
        round(100.0 * precision.relative),
        round(precision.absolute)
    );
    if precision.met {
        let _ = writeln!(out, "{target}: met after {}", count(precision.replications, "replication"));
        return;
    }
    let _ = writeln!(
        out,
        "{target}: NOT met, stopped at the maximum of {}; still too wide:",
        count(precision.max_replications, "replication")
    );
    for wide in &precision.too_wide {
        let width = wide.half_width.map_or_else(|| "no interval".to_owned(), |h| format!("±{}", number(h)));
        let _ = writeln!(
            out,
            "  {} {} {}: mean {}, {width}, target ±{}",
            wide.scope,
            wide.name,
            wide.metric,
            number(wide.mean),
            number(wide.limit)
        );
    }
}

/// Renders the summary as text: a header, then one block per node and per source.
#[must_use]
pub fn render_table(summary: &SummaryFile) -> String {
    let mut out = String::new();
    let warmup = match &summary.warmup_auto {
        Some(auto) => format!(
            "an automatic warm-up (MSER-5: mean {}s, longest {}s)",
            number(summary.warmup),
            number(auto.chosen.iter().copied().fold(0.0, f64::max))
        ),
        None => format!("{}s warm-up", summary.warmup),
    };
    let _ = writeln!(
        out,
        "scenario {}: {} of {}s after {warmup}, seed {}; {} events in {:.2}s",
        summary.scenario,
        count(summary.replications, "replication"),
        summary.duration,
        summary.seed,
        summary.events,
        summary.wall_seconds
    );
    if let Some(precision) = &summary.precision {
        render_precision(precision, &mut out);
    }
    if summary.time_varying {
        let series = if summary.peaks.is_some() {
            "; the queues over time are in timeseries.csv beside the fluid prediction (from time 0: the warm-up does not apply to them)"
        } else {
            "; set [simulation] sample_every to see them over time"
        };
        let _ = writeln!(
            out,
            "load follows the clock (a schedule or a trace): these figures are averages over the observed window, with no steady-state theory beside them{series}"
        );
    }
    for node in &summary.nodes {
        let capacity = node.capacity.map_or_else(String::new, |k| format!(", capacity {k}"));
        let servers = node.servers.map_or_else(|| "∞".to_owned(), |c| c.to_string());
        let plural = if node.servers == Some(1) { "" } else { "s" };
        let title = format!("\nnode {} ({servers} server{plural}{capacity})", node.name);
        Block { title, metrics: &node.metrics, analytic: &node.analytic, misses: &node.ci_misses }
            .render::<NodeMetric>(&mut out);
        for class in &node.classes {
            let title = format!("  node {}, messages of priority {}", node.name, class.priority);
            Block { title, metrics: &class.metrics, analytic: &class.analytic, misses: &[] }
                .render::<NodeClassMetric>(&mut out);
        }
        for class in &node.message_classes {
            let title = format!("  node {}, messages of class {}", node.name, class.name);
            Block { title, metrics: &class.metrics, analytic: &class.analytic, misses: &class.ci_misses }
                .render::<NodeClassMetric>(&mut out);
        }
    }
    for source in &summary.sources {
        let title = format!("\nsource {}", source.name);
        Block { title, metrics: &source.metrics, analytic: &source.analytic, misses: &source.ci_misses }
            .render::<SourceMetric>(&mut out);
    }
    for class in &summary.classes {
        let title = format!("\nclass {} (end to end)", class.name);
        Block { title, metrics: &class.metrics, analytic: &class.analytic, misses: &class.ci_misses }
            .render::<MessageClassMetric>(&mut out);
    }
    let no_theory = BTreeMap::new();
    for exchange in &summary.exchanges {
        let title = format!("\nexchange {} ({})", exchange.name, exchange.kind);
        Block { title, metrics: &exchange.metrics, analytic: &no_theory, misses: &[] }
            .render::<ExchangeMetric>(&mut out);
    }
    if let Some(peaks) = &summary.peaks {
        render_peaks(peaks, &mut out);
    }
    let _ = writeln!(
        out,
        "\ntheory: ~ marks an approximation; 'outside CI' flags an exact value the 95% CI misses (about 1 in 20 by chance)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1_u32, "replication"), "1 replication");
        assert_eq!(count(3_u32, "replication"), "3 replications");
    }
}
