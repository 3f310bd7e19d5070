//! The sweep.json and sweep.csv contracts and the `kendall sweep` table: one entry per point of
//! the grid, each with the varied values, the analytic verdict, whether the figures describe a
//! steady state, the SLO checks, and the same node and source entries as summary.json.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::chart::{ImageFormat, LatencyVsLoad, StabilityMap, has_map};
use super::exporter::{Exporter, Json, Table};
use super::files::{ReportError, csv_error, optional, pretty_json};
use super::json::{EstimateEntry, NamedEntry, NodeEntry, SummaryFile};
use super::table::number;
use crate::analytic::Figure;
use crate::experiment::{SloCheck, SweepOutcome, SweepPoint};
use crate::model::Scenario;
use crate::stats::Estimate;

/// The analytic verdict at one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSystem {
    /// Whether every unbounded queue is stable (ρ < 1); `null` when theory cannot tell.
    pub stable: Option<bool>,
    /// The node with the highest utilisation.
    pub bottleneck: Option<String>,
    /// Its utilisation ρ = λ/(cμ) (may exceed 1).
    pub bottleneck_utilization: Option<f64>,
    /// Factor by which every arrival rate can still grow before an unbounded queue saturates
    /// (below 1 past saturation).
    pub headroom: Option<f64>,
    /// Why there is no headroom figure, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom_reason: Option<String>,
}

/// One point of sweep.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointEntry {
    /// The point's index, from 0.
    pub point: usize,
    /// Each varied path to its value at this point, in SI units.
    pub values: BTreeMap<String, f64>,
    /// The analytic verdict.
    pub system: PointSystem,
    /// Whether the simulated means describe a steady state: false past saturation (theory calls
    /// an unbounded queue unstable, or a replication stopped at the cap on messages), where
    /// queues grow and only the growth rates are meaningful.
    pub steady_state: bool,
    /// Whether every SLO holds: each check met on the worst side of its CI, at a steady state
    /// (absent without SLOs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_met: Option<bool>,
    /// Every SLO on every source or node it applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<SloEntry>,
    /// Replications run at this point (more than the scenario's under `--precision`).
    pub replications: usize,
    /// Replications stopped early at the cap on messages in the system.
    pub stopped_early: usize,
    /// Messages and copies lost per second (dropped at full channels, expired without a
    /// dead-letter node, or unroutable).
    pub drop_rate: EstimateEntry,
    /// Growth of the messages held in all nodes, per second (0 at a steady state).
    pub growth_rate: EstimateEntry,
    /// Per node, as in summary.json.
    pub nodes: Vec<NodeEntry>,
    /// Per source, as in summary.json.
    pub sources: Vec<NamedEntry>,
}

/// One SLO judged on one source or node, in sweep.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloEntry {
    /// The expression.
    pub expr: String,
    /// "source" or "node".
    pub scope: String,
    /// The source's or node's name.
    pub name: String,
    /// The metric key.
    pub metric: String,
    /// The estimated mean; `null` when the metric is undefined.
    pub value: Option<f64>,
    /// Its 95% confidence interval.
    pub ci95: Option<[f64; 2]>,
    /// Whether the worst side of the interval meets the SLO.
    pub met: bool,
}

impl From<&SloCheck> for SloEntry {
    fn from(check: &SloCheck) -> Self {
        Self {
            expr: check.expr.clone(),
            scope: check.scope.to_owned(),
            name: check.name.clone(),
            metric: check.metric.clone(),
            value: check.value,
            ci95: check.ci95,
            met: check.met,
        }
    }
}

/// The whole sweep.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    /// Scenario name.
    pub scenario: String,
    /// The varied paths, in grid order (points vary the last fastest).
    pub paths: Vec<String>,
    /// The SLO expressions judged at every point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<String>,
    /// The last point, in sweep order, at which every SLO holds (absent when none does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_meeting_slos: Option<usize>,
    /// Replications per point, as the scenario gives them before variation.
    pub replications: u32,
    /// Master seed: the same at every point (common random numbers).
    pub seed: u64,
    /// Observed simulated time per replication, seconds, before variation.
    pub duration: f64,
    /// Warm-up per replication, seconds, before variation.
    pub warmup: f64,
    /// Events processed over all points.
    pub events: u64,
    /// Wall-clock time of the whole sweep, seconds.
    pub wall_seconds: f64,
    /// Every point, in sweep order.
    pub points: Vec<PointEntry>,
    /// What the user should know, worded as the terminal prints it (absent when nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl SweepFile {
    /// The sweep.json document of `outcome`, a sweep of `scenario`.
    #[must_use]
    pub fn new(scenario: &Scenario, outcome: &SweepOutcome) -> Self {
        let settings = scenario.settings();
        Self {
            scenario: scenario.name().to_owned(),
            paths: outcome.axes.iter().map(|axis| axis.path.clone()).collect(),
            slos: outcome.slos.iter().map(|slo| slo.expr.clone()).collect(),
            last_meeting_slos: outcome.last_meeting_slos(),
            replications: settings.replications(),
            seed: settings.seed(),
            duration: settings.duration_s(),
            warmup: settings.warmup_s(),
            events: outcome.events,
            wall_seconds: outcome.wall_seconds,
            points: outcome
                .points
                .iter()
                .enumerate()
                .map(|(index, point)| PointEntry::new(index, outcome, point))
                .collect(),
            warnings: outcome.warnings.iter().map(ToString::to_string).collect(),
        }
    }
}

impl PointEntry {
    fn new(index: usize, outcome: &SweepOutcome, point: &SweepPoint) -> Self {
        let experiment = &point.experiment;
        let summary = SummaryFile::new(
            &point.scenario,
            &experiment.summary,
            point.analysis.as_ref(),
            experiment.wall_seconds,
        );
        let system = point.analysis.as_ref().map(|analysis| &analysis.system);
        let bottleneck = system.and_then(|system| system.bottleneck.clone());
        let bottleneck_utilization = point.analysis.as_ref().and_then(|analysis| {
            analysis
                .nodes
                .iter()
                .find(|node| Some(&node.name) == bottleneck.as_ref())
                .map(|node| node.utilization)
        });
        Self {
            point: index,
            replications: experiment.replications.len(),
            values: outcome
                .axes
                .iter()
                .map(|axis| axis.path.clone())
                .zip(point.numbers.iter().copied())
                .collect(),
            system: PointSystem {
                stable: point.stable(),
                bottleneck,
                bottleneck_utilization,
                headroom: system.and_then(|system| system.headroom),
                headroom_reason: system.and_then(|system| system.headroom_reason.clone()),
            },
            steady_state: point.steady_state(),
            slo_met: point.meets_slos(),
            slos: point.slo_checks.iter().map(SloEntry::from).collect(),
            stopped_early: experiment.stopped_early(),
            drop_rate: entry(point.drop_rate),
            growth_rate: entry(point.growth_rate),
            nodes: summary.nodes,
            sources: summary.sources,
        }
    }
}

fn entry(estimate: Option<Estimate>) -> EstimateEntry {
    EstimateEntry {
        mean: estimate.map(|e| e.mean),
        ci95: estimate.and_then(|e| e.ci95),
        n: estimate.map_or(0, |e| e.samples),
    }
}

/// The results of `kendall sweep`, ready to export.
#[derive(Debug)]
pub struct SweepReport {
    /// The sweep.json document.
    pub sweep: SweepFile,
}

impl SweepReport {
    /// The report of `outcome`, a sweep of `scenario`.
    #[must_use]
    pub fn new(scenario: &Scenario, outcome: &SweepOutcome) -> Self {
        Self { sweep: SweepFile::new(scenario, outcome) }
    }

    /// The files of a sweep's output directory, by name.
    #[must_use]
    pub fn files() -> [(&'static str, &'static dyn Exporter<Self>); 2] {
        [("sweep.json", &Json), ("sweep.csv", &SweepCsv)]
    }

    /// The charts of this sweep, by name under the output directory (skipped with
    /// `--no-charts`): latency against load, and the stability map when two paths vary.
    #[must_use]
    pub fn charts(&self) -> Vec<(&'static str, &'static dyn Exporter<Self>)> {
        let mut charts: Vec<(&'static str, &'static dyn Exporter<Self>)> = vec![
            ("charts/latency-vs-load.svg", &LatencyVsLoad(ImageFormat::Svg)),
            ("charts/latency-vs-load.png", &LatencyVsLoad(ImageFormat::Png)),
        ];
        if has_map(&self.sweep) {
            charts.push(("charts/stability-map.svg", &StabilityMap(ImageFormat::Svg)));
            charts.push(("charts/stability-map.png", &StabilityMap(ImageFormat::Png)));
        }
        charts
    }
}

/// sweep.csv: long form, one row per point, scope, name and metric: `point`, one column per
/// varied path (its value in SI units), `scope` (node, source, or system for the point's drop and
/// growth rates), `name`, `metric`, `mean`, `ci_low`, `ci_high`, `theory` and `theory_exact`
/// (empty where theory has no value).
#[derive(Debug, Clone, Copy)]
pub struct SweepCsv;

impl Exporter<SweepReport> for Json {
    fn render(&self, result: &SweepReport) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(&result.sweep))
    }
}

impl Exporter<SweepReport> for Table {
    fn render(&self, result: &SweepReport) -> Result<Vec<u8>, ReportError> {
        Ok(render_sweep(&result.sweep).into_bytes())
    }
}

impl Exporter<SweepReport> for SweepCsv {
    fn render(&self, result: &SweepReport) -> Result<Vec<u8>, ReportError> {
        sweep_csv(&result.sweep)
    }
}

/// The metric rows of one point: (scope, name, metric, estimate, theory).
fn rows<'a>(
    file: &'a SweepFile,
    point: &'a PointEntry,
) -> impl Iterator<Item = (&'static str, &'a str, &'a str, &'a EstimateEntry, Option<&'a Figure>)> {
    let nodes = point.nodes.iter().flat_map(|node| {
        node.metrics.iter().map(|(key, estimate)| {
            ("node", node.name.as_str(), key.as_str(), estimate, node.analytic.get(key))
        })
    });
    let sources = point.sources.iter().flat_map(|source| {
        source.metrics.iter().map(|(key, estimate)| {
            ("source", source.name.as_str(), key.as_str(), estimate, source.analytic.get(key))
        })
    });
    let system = [("drop_rate", &point.drop_rate), ("growth_rate", &point.growth_rate)]
        .into_iter()
        .map(|(key, estimate)| ("system", file.scenario.as_str(), key, estimate, None));
    nodes.chain(sources).chain(system)
}

fn sweep_csv(file: &SweepFile) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point"];
    header.extend(file.paths.iter().map(String::as_str));
    header.extend(["scope", "name", "metric", "mean", "ci_low", "ci_high", "theory", "theory_exact"]);
    writer.write_record(&header).map_err(csv_error)?;
    for point in &file.points {
        let mut lead = vec![point.point.to_string()];
        lead.extend(file.paths.iter().map(|path| optional(point.values.get(path).copied())));
        for (scope, name, metric, estimate, figure) in rows(file, point) {
            let [low, high] = estimate.ci95.map_or([None, None], |[l, h]| [Some(l), Some(h)]);
            let theory = figure.and_then(|f| f.value);
            let exact = match (theory, figure) {
                (Some(_), Some(figure)) => figure.exact.to_string(),
                _ => String::new(),
            };
            let mut record = lead.clone();
            record.extend([
                scope.to_owned(),
                name.to_owned(),
                metric.to_owned(),
                optional(estimate.mean),
                optional(low),
                optional(high),
                optional(theory),
                exact,
            ]);
            writer.write_record(&record).map_err(csv_error)?;
        }
    }
    writer.into_inner().map_err(|error| csv_error(error.into_error().into()))
}

/// A mean with its 95% half-width relative to it: `0.01234s ±0.8%`.
fn relative(estimate: &EstimateEntry, unit: &str) -> String {
    match (estimate.mean, estimate.ci95) {
        (Some(mean), Some([low, high])) if mean != 0.0 => {
            format!("{}{unit} ±{:.1}%", number(mean), 50.0 * (high - low) / mean.abs())
        }
        (Some(mean), _) => format!("{}{unit}", number(mean)),
        (None, _) => "-".to_owned(),
    }
}

/// A mean with its absolute 95% half-width, both to two significant digits of the half-width:
/// `98.7 ±1.2`, `0.0003 ±0.0014`.
fn absolute(estimate: &EstimateEntry) -> String {
    match (estimate.mean, estimate.ci95) {
        (Some(mean), Some([low, high])) if high > low => {
            let half_width = (high - low) / 2.0;
            #[allow(clippy::cast_possible_truncation)] // a small exponent
            let decimals = (1 - half_width.log10().floor() as i32).clamp(0, 12);
            let decimals = usize::try_from(decimals).unwrap_or(0);
            format!("{mean:.decimals$} ±{half_width:.decimals$}")
        }
        (Some(mean), _) => number(mean),
        (None, _) => "-".to_owned(),
    }
}

/// A varied value: as typed when short (`0.5`, `3`), else four significant digits.
fn value_text(value: f64) -> String {
    let text = value.to_string();
    if text.len() <= 7 { text } else { number(value) }
}

fn verdict(point: &PointEntry) -> &'static str {
    match (point.system.stable, point.steady_state) {
        (Some(false), _) => "unstable",
        (_, false) => "overloaded",
        (Some(true), true) => "stable",
        (None, true) => "open",
    }
}

fn slo_cell(point: &PointEntry) -> String {
    match point.slo_met {
        None => String::new(),
        Some(true) => "met".to_owned(),
        Some(false) if !point.steady_state => "missed: no steady state".to_owned(),
        Some(false) => {
            let mut missed: Vec<&str> = Vec::new();
            for check in point.slos.iter().filter(|check| !check.met) {
                if !missed.contains(&check.expr.as_str()) {
                    missed.push(&check.expr);
                }
            }
            format!("missed: {}", missed.join("; "))
        }
    }
}

/// One line of the table per point.
fn point_row(file: &SweepFile, point: &PointEntry) -> Vec<String> {
    let mut row = vec![point.point.to_string()];
    row.extend(
        file.paths.iter().map(|path| point.values.get(path).map_or_else(String::new, |v| value_text(*v))),
    );
    row.push(point.system.bottleneck.clone().unwrap_or_else(|| "-".to_owned()));
    row.push(point.system.bottleneck_utilization.map_or_else(|| "-".to_owned(), number));
    row.push(verdict(point).to_owned());
    for source in &point.sources {
        for key in ["latency_mean", "latency_p99"] {
            let cell = match source.metrics.get(key) {
                Some(estimate) if point.steady_state => relative(estimate, "s"),
                _ => "-".to_owned(),
            };
            row.push(cell);
        }
    }
    row.push(absolute(&point.drop_rate));
    row.push(absolute(&point.growth_rate));
    if !file.slos.is_empty() {
        row.push(slo_cell(point));
    }
    row
}

fn header(file: &SweepFile) -> Vec<String> {
    let mut header = vec!["point".to_owned()];
    header.extend(file.paths.iter().cloned());
    header.extend(["bottleneck", "rho", "system"].map(str::to_owned));
    if let Some(point) = file.points.first() {
        for source in &point.sources {
            header.push(format!("{} latency", source.name));
            header.push("p99".to_owned());
        }
    }
    header.extend(["drops/s", "growth/s"].map(str::to_owned));
    if !file.slos.is_empty() {
        header.push("SLO".to_owned());
    }
    header
}

/// Renders the sweep as text: a header, one line per point, a legend and the SLO verdict.
#[must_use]
pub fn render_sweep(file: &SweepFile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sweep {}: {}, {} of {}s after {}s warm-up, seed {} at every point; {} events in {:.2}s\n",
        file.scenario,
        super::table::count(file.points.len() as u64, "point"),
        replications_per_point(file),
        file.duration,
        file.warmup,
        file.seed,
        file.events,
        file.wall_seconds
    );
    let lines: Vec<Vec<String>> =
        std::iter::once(header(file)).chain(file.points.iter().map(|point| point_row(file, point))).collect();
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines.iter().filter_map(|line| line.get(c)).map(|cell| cell.chars().count()).max().unwrap_or(0)
        })
        .collect();
    for line in &lines {
        let cells: Vec<String> =
            line.iter().zip(&widths).map(|(cell, &width)| format!("{cell:<width$}")).collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    let _ = writeln!(
        out,
        "\nrho: utilisation of the bottleneck in theory; latency: each source's end-to-end mean and p99, ± the 95% CI half-width; drops/s: messages lost; growth/s: messages accumulating in the nodes (about 0 at a steady state). Past saturation there is no steady state: no latency is shown, only the growth. system: theory's verdict; open where no closed form decides (see kendall analyze)."
    );
    if !file.slos.is_empty() {
        let verdict = match file.last_meeting_slos.and_then(|index| file.points.get(index)) {
            Some(point) => {
                let values: Vec<String> = file
                    .paths
                    .iter()
                    .filter_map(|path| point.values.get(path).map(|v| format!("{path}={}", value_text(*v))))
                    .collect();
                format!("last point meeting every SLO: {} (point {})", values.join(" "), point.point)
            }
            None => "no point meets every SLO".to_owned(),
        };
        let _ = writeln!(out, "SLO {}: {verdict}", file.slos.join("; "));
    }
    out
}

/// "10 replications each", or their range when `--precision` ran points for different counts.
fn replications_per_point(file: &SweepFile) -> String {
    let counts = file.points.iter().map(|point| point.replications);
    match (counts.clone().min(), counts.max()) {
        (Some(low), Some(high)) if low != high => format!("{low} to {high} replications per point"),
        (Some(count), _) => format!("{} each", super::table::count(count as u64, "replication")),
        _ => format!("{} each", super::table::count(file.replications, "replication")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(mean: f64, half_width: f64) -> EstimateEntry {
        EstimateEntry { mean: Some(mean), ci95: Some([mean - half_width, mean + half_width]), n: 10 }
    }

    #[test]
    fn cells_keep_the_digits_the_interval_supports() {
        assert_eq!(absolute(&estimate(118.93, 2.97)), "118.9 ±3.0");
        assert_eq!(absolute(&estimate(0.000_5, 0.002_977)), "0.0005 ±0.0030");
        assert_eq!(absolute(&estimate(0.0, 0.0)), "0");
        assert_eq!(relative(&estimate(0.012_57, 0.000_150_84), "s"), "0.01257s ±1.2%");
        assert_eq!(relative(&EstimateEntry { mean: None, ci95: None, n: 0 }, "s"), "-");
        assert_eq!(
            (value_text(0.6), value_text(3.0), value_text(1.1f64 / 3.0)),
            ("0.6".into(), "3".into(), "0.3667".into())
        );
    }
}
