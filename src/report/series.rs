//! The time series of a run (`sample_every`): timeseries.csv, and the peak and drain of each
//! node's queue in summary.json and in the table.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::files::{ReportError, csv_error, optional};
use super::json::EstimateEntry;
use super::table::{count, number};
use crate::stats::{Estimate, Metric, NodePeak, TimeSeries};

/// The columns of timeseries.csv.
pub const TIMESERIES_COLUMNS: [&str; 10] =
    ["time", "scope", "name", "metric", "mean", "ci_low", "ci_high", "p10", "p90", "theory"];

/// The curve of mean messages held across replications, in summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveEntry {
    /// Its highest interval mean, messages.
    pub peak: f64,
    /// The end of that interval, seconds.
    pub peak_time: f64,
    /// Its median before the peak, messages.
    pub pre_peak: f64,
    /// Seconds from the peak until it is back within 10% of the pre-peak level; `null` when it
    /// is not by the end.
    pub drain_time: Option<f64>,
}

/// One node's queue over time in summary.json: figures of each replication's own curve of
/// interval means of messages held, reduced across replications, and those of the mean curve.
/// The pre-peak level is the median before the peak; drained is back within 10% of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakEntry {
    /// The node's name.
    pub node: String,
    /// Each replication's highest interval mean of messages held.
    pub peak: EstimateEntry,
    /// When each replication peaked (the end of the interval), seconds.
    pub peak_time: EstimateEntry,
    /// Each replication's drain time, seconds, over those that drained (`n` of them).
    pub drain_time: EstimateEntry,
    /// Replications whose queue was not drained by the end of the run.
    pub undrained: usize,
    /// The curve of the mean across replications.
    pub mean_curve: CurveEntry,
}

fn entry(estimate: Option<Estimate>) -> EstimateEntry {
    EstimateEntry {
        mean: estimate.map(|e| e.mean),
        ci95: estimate.and_then(|e| e.ci95),
        n: estimate.map_or(0, |e| e.samples),
    }
}

impl PeakEntry {
    /// The entry of one node's peak.
    #[must_use]
    pub fn new(peak: &NodePeak) -> Self {
        let curve = &peak.mean_curve;
        Self {
            node: peak.name.clone(),
            peak: entry(Some(peak.peak)),
            peak_time: entry(Some(peak.peak_time_s)),
            drain_time: entry(peak.drain_s),
            undrained: peak.undrained,
            mean_curve: CurveEntry {
                peak: curve.peak,
                peak_time: curve.peak_time_s,
                pre_peak: curve.pre_peak,
                drain_time: curve.drain_s,
            },
        }
    }
}

/// timeseries.csv: one row per node or source, metric and interval (each series in time
/// order), cells empty where undefined, `theory` empty where none is given.
pub(super) fn timeseries_csv(series: &TimeSeries) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(TIMESERIES_COLUMNS).map_err(csv_error)?;
    for row in &series.rows {
        let mean = row.estimate.map(|e| e.mean);
        let [low, high] = row.estimate.and_then(|e| e.ci95).map_or([None, None], |[l, h]| [Some(l), Some(h)]);
        writer
            .write_record([
                &row.end_s.to_string(),
                row.scope.name(),
                &row.name,
                row.metric.key(),
                &optional(mean),
                &optional(low),
                &optional(high),
                &optional(row.p10),
                &optional(row.p90),
                &optional(row.theory),
            ])
            .map_err(csv_error)?;
    }
    writer.into_inner().map_err(|error| csv_error(error.into_error().into()))
}

/// A mean and its interval: "6.5 [3.4, 9.6]".
pub(super) fn with_interval(entry: &EstimateEntry, unit: &str) -> String {
    let mean = entry.mean.map_or_else(|| "-".to_owned(), |m| format!("{}{unit}", number(m)));
    match entry.ci95 {
        Some([low, high]) => format!("{mean} [{}, {}]", number(low), number(high)),
        None => mean,
    }
}

/// A duration in seconds with its interval, as `with_interval` in seconds ("1326s [1312, 1340]").
pub(super) fn seconds_interval(entry: &EstimateEntry) -> String {
    with_interval(entry, "s")
}

/// A node's drain time, each duration written by `text`: its mean and interval, or how many
/// replications had not drained by the end.
pub(super) fn drain_text(peak: &PeakEntry, text: fn(&EstimateEntry) -> String) -> String {
    if peak.undrained == 0 {
        text(&peak.drain_time)
    } else if peak.drain_time.n == 0 {
        "not drained by the end".to_owned()
    } else {
        format!(
            "not drained by the end in {} of {}; the others {}",
            peak.undrained,
            count(u64::try_from(peak.peak.n).unwrap_or(u64::MAX), "replication"),
            text(&peak.drain_time)
        )
    }
}

/// A time on the run's clock in hours, minutes and seconds ("2h10m", "1m", "45s"), rounded to
/// the second from a minute on; below a minute and not whole seconds, four significant digits
/// in seconds.
pub(super) fn clock_text(seconds: f64) -> String {
    let seconds = if seconds >= 60.0 { seconds.round() } else { seconds };
    if !(seconds >= 1.0 && seconds.fract() == 0.0 && seconds < 1e9) {
        return format!("{}s", number(seconds));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole, positive, < 1e9
    let whole = seconds as u64;
    let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60);
    let mut text = String::new();
    for (value, unit) in [(hours, "h"), (minutes, "m"), (secs, "s")] {
        if value > 0 {
            let _ = write!(text, "{value}{unit}");
        }
    }
    text
}

/// The table's section on each node's queue over time.
pub(super) fn render_peaks(peaks: &[PeakEntry], out: &mut String) {
    let _ = writeln!(
        out,
        "\nqueue over time: each replication's peak interval mean of messages held, when, and the time \
         back to within 10% of the level before it; mean [95% CI] across replications"
    );
    let _ = writeln!(out, "  {:<20} {:<28} {:<28} drain", "node", "peak (messages)", "at");
    for peak in peaks {
        let _ = writeln!(
            out,
            "  {:<20} {:<28} {:<28} {}",
            peak.node,
            with_interval(&peak.peak, ""),
            with_interval(&peak.peak_time, "s"),
            drain_text(peak, seconds_interval)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{SeriesMetric, SeriesRow};

    fn estimate(mean: f64, ci95: Option<[f64; 2]>, n: usize) -> EstimateEntry {
        EstimateEntry { mean: Some(mean), ci95, n }
    }

    fn peak(undrained: usize, drained: usize) -> PeakEntry {
        let n = undrained + drained;
        PeakEntry {
            node: "server".to_owned(),
            peak: estimate(6.5, Some([3.5, 9.5]), n),
            peak_time: estimate(20.0, Some([20.0, 20.0]), n),
            drain_time: if drained == 0 {
                EstimateEntry { mean: None, ci95: None, n: 0 }
            } else {
                estimate(10.0, None, drained)
            },
            undrained,
            mean_curve: CurveEntry { peak: 6.5, peak_time: 20.0, pre_peak: 2.0, drain_time: Some(10.0) },
        }
    }

    #[test]
    fn timeseries_csv_has_its_columns_and_one_line_per_row() {
        let row = |metric, estimate, theory| SeriesRow {
            start_s: 0.0,
            end_s: 10.0,
            scope: SeriesMetric::scope(metric),
            entity: 0,
            name: "server".to_owned(),
            metric,
            estimate,
            p10: estimate.map(|_| 1.3),
            p90: estimate.map(|_| 2.7),
            replications: 4,
            theory,
        };
        let two = Estimate { mean: 2.0, ci95: Some([0.5, 3.5]), samples: 4 };
        let series = TimeSeries {
            every_s: 10.0,
            times_s: vec![10.0],
            rows: vec![
                row(SeriesMetric::InSystem, Some(two), Some(2.25)),
                row(SeriesMetric::LatencyP99, None, None),
            ],
            peaks: Vec::new(),
        };
        let text = String::from_utf8(timeseries_csv(&series).unwrap()).unwrap();
        assert_eq!(
            text,
            "time,scope,name,metric,mean,ci_low,ci_high,p10,p90,theory\n\
             10,node,server,in_system,2,0.5,3.5,1.3,2.7,2.25\n\
             10,source,server,latency_p99,,,,,,\n"
        );
    }

    #[test]
    fn clock_text_reads_as_a_clock() {
        assert_eq!(clock_text(60.0), "1m");
        assert_eq!(clock_text(7800.0), "2h10m");
        assert_eq!(clock_text(3661.0), "1h1m1s");
        assert_eq!(clock_text(10.0), "10s");
        assert_eq!(clock_text(0.5), "0.5000s");
        assert_eq!(clock_text(45.5), "45.50s");
        assert_eq!(clock_text(7800.4), "2h10m");
    }

    #[test]
    fn the_table_says_when_a_queue_did_not_drain() {
        let mut out = String::new();
        render_peaks(&[peak(0, 1), peak(2, 2), peak(3, 0)], &mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1 + 2 + 3, "{out}");
        assert!(
            lines[3].contains("6.500 [3.500, 9.500]") && lines[3].contains("20.00s [20.00, 20.00]"),
            "{out}"
        );
        assert!(lines[3].ends_with("10.00s"), "{out}");
        assert!(
            lines[4].ends_with("not drained by the end in 2 of 4 replications; the others 10.00s"),
            "{out}"
        );
        assert!(lines[5].ends_with("not drained by the end"), "{out}");
    }
}
