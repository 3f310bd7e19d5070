//! The human-readable results table printed by `kendall run`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::json::{EstimateEntry, SummaryFile};
use crate::stats::{Metric, NodeMetric, SourceMetric};

/// The unit printed after a metric's value.
fn unit(key: &str) -> &'static str {
    if key.contains("wait") || key.contains("sojourn") || key.contains("latency") {
        "s"
    } else if key.contains("rate") || key.contains("throughput") {
        "/s"
    } else {
        ""
    }
}

/// A number with four significant digits, without exponent for everyday magnitudes.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".to_owned()
    } else if (1e-3..1e6).contains(&magnitude) {
        let decimals = 3 - magnitude.log10().floor().clamp(-3.0, 3.0) as i32;
        format!("{value:.prec$}", prec = usize::try_from(decimals.max(0)).unwrap_or(0))
    } else {
        format!("{value:.3e}")
    }
}

fn row(out: &mut String, key: &str, entry: Option<&EstimateEntry>) {
    let unit = unit(key);
    let mean = entry.and_then(|e| e.mean).map_or_else(|| "-".to_owned(), |m| format!("{}{unit}", number(m)));
    let ci = entry
        .and_then(|e| e.ci95)
        .map_or_else(String::new, |[low, high]| format!("[{}, {}]", number(low), number(high)));
    let _ = writeln!(out, "  {key:<20} {mean:>14}  {ci}");
}

fn block<M: Metric>(out: &mut String, title: &str, metrics: &BTreeMap<String, EstimateEntry>) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "  {:<20} {:>14}  95% CI", "metric", "mean");
    for metric in M::ALL {
        row(out, metric.key(), metrics.get(metric.key()));
    }
}

/// Renders the summary as text: a header, then one block per node and per source.
#[must_use]
pub fn render_table(summary: &SummaryFile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {}: {} replications of {}s after {}s warm-up, seed {}; {} events in {:.2}s",
        summary.scenario,
        summary.replications,
        summary.duration,
        summary.warmup,
        summary.seed,
        summary.events,
        summary.wall_seconds
    );
    for node in &summary.nodes {
        let capacity = node.capacity.map_or_else(String::new, |k| format!(", capacity {k}"));
        let title = format!("\nnode {} ({} servers{capacity})", node.name, node.servers);
        block::<NodeMetric>(&mut out, &title, &node.metrics);
    }
    for source in &summary.sources {
        block::<SourceMetric>(&mut out, &format!("\nsource {}", source.name), &source.metrics);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(number(0.899_123), "0.8991");
        assert_eq!(number(8.941_23), "8.941");
        assert_eq!(number(1234.5678), "1235");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2.5e-7), "2.500e-7");
    }
}
