//! The outputs of `kendall compare`: compare.json, compare.csv (one row per configuration, scope,
//! name and metric) and the terminal table, over one document, [`CompareFile`].

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::chart::{Comparison, ImageFormat};
use super::exporter::{Exporter, Json, Table};
use super::files::{ReportError, pretty_json};
use super::table::{count, number};
use crate::experiment::{CompareOutcome, Configuration, MetricDifference, Scope, Streams};
use crate::stats::Interval;

/// One configuration of a comparison in compare.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationEntry {
    /// Its name: the file stem, or the variations' label.
    pub name: String,
    /// The scenario file it comes from.
    pub file: String,
    /// The variations applied to the file (`PATH=VALUE`), empty for the file as it is.
    pub set: Vec<String>,
    /// The master seed it ran on.
    pub seed: u64,
    /// Observed simulated time per replication, seconds.
    pub duration: f64,
    /// Discarded warm-up per replication, seconds.
    pub warmup: f64,
    /// Replications stopped early (at the cap on messages, or deadlocked).
    pub stopped_early: usize,
}

/// One metric of one configuration against the baseline, in compare.json and compare.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DifferenceEntry {
    /// The configuration's name.
    pub configuration: String,
    /// "source", "node", "exchange" or "class".
    pub scope: Scope,
    /// The entity's name.
    pub name: String,
    /// The metric's key, as in summary.json.
    pub metric: String,
    /// Its unit: "s", "/s", or "" for counts and fractions.
    pub unit: String,
    /// The baseline's mean.
    pub baseline_mean: f64,
    /// The 95% CI of the baseline's mean.
    pub baseline_ci95: Option<[f64; 2]>,
    /// The configuration's mean.
    pub mean: f64,
    /// The 95% CI of the configuration's mean.
    pub mean_ci95: Option<[f64; 2]>,
    /// The difference of the means, configuration minus baseline.
    pub difference: f64,
    /// The 95% CI of the difference (paired t, or Welch's with independent streams; for a
    /// percentile, over the replications' pseudo-values in the pooled quantiles).
    pub ci95: Option<[f64; 2]>,
    /// Whether that interval excludes 0.
    pub significant: bool,
    /// Replications behind the difference (pairs, or the smaller sample).
    pub n: usize,
}

impl DifferenceEntry {
    fn new(row: &MetricDifference, configurations: &[Configuration]) -> Self {
        Self {
            configuration: configurations[row.configuration].name.clone(),
            scope: row.scope,
            name: row.name.clone(),
            metric: row.metric.to_owned(),
            unit: row.unit.to_owned(),
            baseline_mean: row.baseline.mean,
            baseline_ci95: row.baseline.ci95,
            mean: row.estimate.mean,
            mean_ci95: row.estimate.ci95,
            difference: row.difference.mean,
            ci95: row.difference.ci95,
            significant: row.difference.significant(),
            n: row.difference.samples,
        }
    }
}

/// The whole compare.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareFile {
    /// The baseline configuration's name (the first).
    pub baseline: String,
    /// Common random numbers or independent streams.
    pub streams: Streams,
    /// How the differences' intervals were formed: paired t, or Welch's.
    pub interval: Interval,
    /// Replications of each configuration.
    pub replications: u32,
    /// Wall-clock time of the whole comparison, seconds.
    pub wall_seconds: f64,
    /// Every configuration, the baseline first.
    pub configurations: Vec<ConfigurationEntry>,
    /// Every metric present in all configurations, per configuration after the baseline: source
    /// metrics first, then nodes from the baseline's busiest down, exchanges, classes.
    pub differences: Vec<DifferenceEntry>,
    /// What the user should know, each prefixed by its configuration's name, worded as the
    /// terminal prints it (absent when nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The results of `kendall compare`, ready to export.
#[derive(Debug)]
pub struct CompareReport {
    /// The compare.json document.
    pub file: CompareFile,
}

impl CompareReport {
    /// The report of `outcome`, a comparison of `configurations`.
    #[must_use]
    pub fn new(configurations: &[Configuration], outcome: &CompareOutcome) -> Self {
        let entries = configurations
            .iter()
            .zip(&outcome.seeds)
            .zip(&outcome.experiments)
            .map(|((configuration, &seed), experiment)| {
                let settings = configuration.scenario.settings();
                ConfigurationEntry {
                    name: configuration.name.clone(),
                    file: configuration.file.display().to_string(),
                    set: configuration.set.iter().map(ToString::to_string).collect(),
                    seed,
                    duration: settings.duration_s(),
                    warmup: settings.warmup_s(),
                    stopped_early: experiment.stopped_early() + experiment.deadlocked(),
                }
            })
            .collect();
        let file = CompareFile {
            baseline: configurations.first().map(|c| c.name.clone()).unwrap_or_default(),
            streams: outcome.streams,
            interval: outcome.streams.interval(),
            replications: configurations.first().map_or(0, |c| c.scenario.settings().replications()),
            wall_seconds: outcome.experiments.first().map_or(0.0, |e| e.wall_seconds),
            configurations: entries,
            differences: outcome
                .differences
                .iter()
                .map(|row| DifferenceEntry::new(row, configurations))
                .collect(),
            warnings: outcome.warnings.iter().map(|(name, warning)| format!("{name}: {warning}")).collect(),
        };
        Self { file }
    }

    /// The files of a comparison's output directory, by name.
    #[must_use]
    pub fn files() -> [(&'static str, &'static dyn Exporter<Self>); 2] {
        [("compare.json", &Json), ("compare.csv", &CompareCsv)]
    }

    /// The charts of a comparison, by name under the output directory (skipped with
    /// `--no-charts`).
    #[must_use]
    pub fn charts() -> [(&'static str, &'static dyn Exporter<Self>); 2] {
        [
            ("charts/comparison.svg", &Comparison(ImageFormat::Svg)),
            ("charts/comparison.png", &Comparison(ImageFormat::Png)),
        ]
    }
}

/// compare.csv: the rows of compare.json's `differences`, one per configuration, scope, name
/// and metric.
#[derive(Debug, Clone, Copy)]
pub struct CompareCsv;

impl Exporter<CompareReport> for Json {
    fn render(&self, result: &CompareReport) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(&result.file))
    }
}

impl Exporter<CompareReport> for CompareCsv {
    fn render(&self, result: &CompareReport) -> Result<Vec<u8>, ReportError> {
        let csv_error = |source| ReportError::Csv { source };
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record([
                "configuration",
                "scope",
                "name",
                "metric",
                "unit",
                "baseline_mean",
                "mean",
                "difference",
                "ci_low",
                "ci_high",
                "significant",
                "n",
                "baseline_ci_low",
                "baseline_ci_high",
                "mean_ci_low",
                "mean_ci_high",
            ])
            .map_err(csv_error)?;
        for row in &result.file.differences {
            let [low, high] = ends(row.ci95);
            let [baseline_low, baseline_high] = ends(row.baseline_ci95);
            let [mean_low, mean_high] = ends(row.mean_ci95);
            writer
                .write_record([
                    row.configuration.clone(),
                    row.scope.key().to_owned(),
                    row.name.clone(),
                    row.metric.clone(),
                    row.unit.clone(),
                    row.baseline_mean.to_string(),
                    row.mean.to_string(),
                    row.difference.to_string(),
                    low,
                    high,
                    row.significant.to_string(),
                    row.n.to_string(),
                    baseline_low,
                    baseline_high,
                    mean_low,
                    mean_high,
                ])
                .map_err(csv_error)?;
        }
        writer.into_inner().map_err(|error| csv_error(error.into_error().into()))
    }
}

/// An interval's ends as CSV fields, empty without one.
fn ends(ci95: Option<[f64; 2]>) -> [String; 2] {
    ci95.map_or([String::new(), String::new()], |[low, high]| [low.to_string(), high.to_string()])
}

impl Exporter<CompareReport> for Table {
    fn render(&self, result: &CompareReport) -> Result<Vec<u8>, ReportError> {
        Ok(render_compare(&result.file).into_bytes())
    }
}

/// A mean with its unit and 95% half-width: `10.02s ±0.41`.
fn with_half_width(mean: f64, unit: &str, ci95: Option<[f64; 2]>) -> String {
    match ci95 {
        Some([low, high]) => format!("{}{unit} ±{}", number(mean), number((high - low) / 2.0)),
        None => format!("{}{unit}", number(mean)),
    }
}

/// The metrics the table shows, per scope, for a capacity review: latency, throughput and
/// losses end to end, then each node's load, queue, waits and drops (every metric is in the
/// files).
const TABLE_METRICS: [(Scope, &[&str]); 3] = [
    (Scope::Source, &["latency_mean", "latency_p99", "throughput", "delivered_fraction"]),
    (
        Scope::Node,
        &["utilization", "mean_in_system", "mean_wait", "mean_sojourn", "sojourn_p99", "drop_probability"],
    ),
    (Scope::Class, &["latency_mean", "latency_p99"]),
];

/// Whether the table shows `row`: one of [`TABLE_METRICS`], and not identical in every
/// replication of both configurations.
fn shown(row: &DifferenceEntry) -> bool {
    let listed = TABLE_METRICS
        .iter()
        .any(|(scope, metrics)| *scope == row.scope && metrics.contains(&row.metric.as_str()));
    let identical = row.difference == 0.0 && row.ci95.is_none_or(|ci| ci == [0.0, 0.0]);
    listed && !identical
}

/// Renders the comparison as text: a header, then per configuration after the baseline, one
/// line per metric of [`TABLE_METRICS`] that differs in some replication.
fn render_compare(file: &CompareFile) -> String {
    let mut out = String::new();
    let streams = match file.streams {
        Streams::Common => "common random numbers, paired t intervals",
        Streams::Independent => "independent streams, Welch intervals",
    };
    let _ = writeln!(
        out,
        "compare: {} configurations, {} each, {streams}; {:.2}s",
        file.configurations.len(),
        count(file.replications, "replication"),
        file.wall_seconds
    );
    for (index, configuration) in file.configurations.iter().enumerate() {
        let role = if index == 0 { "baseline" } else { "against the baseline" };
        let set = if configuration.set.is_empty() {
            String::new()
        } else {
            format!(" --set {}", configuration.set.join(" "))
        };
        let _ = writeln!(
            out,
            "  {} ({role}): {}{set}, {}s after {}s warm-up, seed {}",
            configuration.name,
            configuration.file,
            configuration.duration,
            configuration.warmup,
            configuration.seed
        );
    }
    for configuration in file.configurations.iter().skip(1) {
        let _ = writeln!(out, "\n{} vs {}", configuration.name, file.baseline);
        let _ = writeln!(
            out,
            "  {:<24} {:<24} {:>20} {:>20} {:>11}  {:<24} {:>8}",
            "where", "metric", "baseline", "this", "difference", "95% CI", "change"
        );
        let rows = file.differences.iter().filter(|row| row.configuration == configuration.name);
        let (shown_rows, hidden): (Vec<_>, Vec<_>) = rows.partition(|row| shown(row));
        for row in shown_rows {
            let ci = row
                .ci95
                .map_or_else(String::new, |[low, high]| format!("[{}, {}]", number(low), number(high)));
            let change = if row.baseline_mean == 0.0 {
                String::new()
            } else {
                format!("{:+.1}%", 100.0 * row.difference / row.baseline_mean.abs())
            };
            let flag = if row.significant { "  *" } else { "" };
            let _ = writeln!(
                out,
                "  {:<24} {:<24} {:>20} {:>20} {:>11}  {ci:<24} {change:>8}{flag}",
                format!("{} {}", row.scope.key(), row.name),
                row.metric,
                with_half_width(row.baseline_mean, &row.unit, row.baseline_ci95),
                with_half_width(row.mean, &row.unit, row.mean_ci95),
                format!("{}{}", number(row.difference), row.unit),
            );
        }
        let _ = writeln!(
            out,
            "  ({} more metrics in compare.csv: other percentiles, or identical in every replication)",
            hidden.len()
        );
    }
    let _ = writeln!(
        out,
        "\nmeans ± 95% half-widths (percentiles pool every replication, as run reports them); * marks a difference whose 95% CI excludes 0 (about 1 in 20 by chance when there is none)"
    );
    out
}
