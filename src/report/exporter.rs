//! One interface for every output format, as hyperfine's `Exporter`: a format renders a result
//! document to bytes, and [`write_files`] puts a set of them in an output directory.

use std::path::{Path, PathBuf};

use super::analysis::{AnalysisFile, render_analysis};
use super::chart::{ImageFormat, LatencyDistribution, QueueOverTime, Utilization};
use super::files::{ReportError, pretty_json, records_jsonl, replications_csv, summary_csv, write_all};
use super::json::{PrecisionEntry, SummaryFile};
use super::series::timeseries_csv;
use super::table::render_table;
use crate::experiment::{RunOutcome, StudyOutcome};
use crate::model::Scenario;

/// An output format for result documents of type `R`.
pub trait Exporter<R: ?Sized> {
    /// `result` in this format.
    ///
    /// # Errors
    /// When the document cannot be encoded.
    fn render(&self, result: &R) -> Result<Vec<u8>, ReportError>;
}

/// The results of `kendall run`, ready to export.
#[derive(Debug)]
pub struct RunReport<'a> {
    /// The scenario simulated.
    pub scenario: &'a Scenario,
    /// Its simulation, theory and warnings.
    pub outcome: &'a RunOutcome,
    /// The summary.json document.
    pub summary: SummaryFile,
}

impl<'a> RunReport<'a> {
    /// The report of `outcome`, a run of `scenario`.
    #[must_use]
    pub fn new(scenario: &'a Scenario, outcome: &'a RunOutcome) -> Self {
        let experiment = &outcome.experiment;
        let mut summary = SummaryFile::new(
            scenario,
            &experiment.summary,
            outcome.analysis.as_ref(),
            experiment.wall_seconds,
        );
        summary.precision = outcome.precision.as_ref().map(PrecisionEntry::new);
        Self { scenario, outcome, summary }
    }

    /// The files of a run's output directory, by name.
    #[must_use]
    pub fn files() -> [(&'static str, &'a dyn Exporter<Self>); 4] {
        [
            ("summary.json", &Json),
            ("summary.csv", &SummaryCsv),
            ("replications.csv", &ReplicationsCsv),
            ("replications.jsonl", &ReplicationsJsonl),
        ]
    }

    /// The files of a run with a time series (`sample_every`), by name: timeseries.csv; none
    /// without one.
    #[must_use]
    pub fn series_files(&self) -> Vec<(&'static str, &'a dyn Exporter<Self>)> {
        match self.outcome.experiment.summary.series {
            Some(_) => vec![("timeseries.csv", &TimeSeriesCsv)],
            None => Vec::new(),
        }
    }

    /// The charts of a run with a time series (`sample_every`), by name under the output
    /// directory: the queue length over time; none without one (skipped with `--no-charts`).
    #[must_use]
    pub fn series_charts(&self) -> Vec<(&'static str, &'a dyn Exporter<Self>)> {
        match self.outcome.experiment.summary.series {
            Some(_) => vec![
                ("charts/queue-over-time.svg", &QueueOverTime(ImageFormat::Svg)),
                ("charts/queue-over-time.png", &QueueOverTime(ImageFormat::Png)),
            ],
            None => Vec::new(),
        }
    }

    /// The charts of a run, by name under the output directory (skipped with `--no-charts`).
    #[must_use]
    pub fn charts() -> [(&'static str, &'a dyn Exporter<Self>); 4] {
        [
            ("charts/utilization.svg", &Utilization(ImageFormat::Svg)),
            ("charts/utilization.png", &Utilization(ImageFormat::Png)),
            ("charts/latency-distribution.svg", &LatencyDistribution(ImageFormat::Svg)),
            ("charts/latency-distribution.png", &LatencyDistribution(ImageFormat::Png)),
        ]
    }
}

/// The results of `kendall analyze`, ready to export.
#[derive(Debug)]
pub struct StudyReport {
    /// The analysis.json document.
    pub analysis: AnalysisFile,
}

impl StudyReport {
    /// The report of `outcome`, an analysis of `scenario`.
    #[must_use]
    pub fn new(scenario: &Scenario, outcome: &StudyOutcome) -> Self {
        Self { analysis: AnalysisFile::new(&scenario.name, &outcome.analysis, &scenario.network) }
    }

    /// The files of an analysis's output directory, by name.
    #[must_use]
    pub fn files() -> [(&'static str, &'static dyn Exporter<Self>); 1] {
        [("analysis.json", &Json)]
    }

    /// The charts of an analysis, by name under the output directory (skipped with
    /// `--no-charts`): theory's utilisation per node.
    #[must_use]
    pub fn charts() -> [(&'static str, &'static dyn Exporter<Self>); 2] {
        [
            ("charts/utilization.svg", &Utilization(ImageFormat::Svg)),
            ("charts/utilization.png", &Utilization(ImageFormat::Png)),
        ]
    }
}

/// The JSON document of a result (summary.json, analysis.json), pretty-printed.
#[derive(Debug, Clone, Copy)]
pub struct Json;

/// The readable table printed on a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Table;

/// summary.csv: one row per scope, name and metric, with the mean and its CI.
#[derive(Debug, Clone, Copy)]
pub struct SummaryCsv;

/// replications.csv: one row per replication, scope, name and metric.
#[derive(Debug, Clone, Copy)]
pub struct ReplicationsCsv;

/// timeseries.csv: per node or source, metric and interval of a run with `sample_every`, the
/// mean across replications with its 95% CI, the 10th and 90th percentiles and theory
/// (columns [`TIMESERIES_COLUMNS`](super::TIMESERIES_COLUMNS)); empty without a time series.
#[derive(Debug, Clone, Copy)]
pub struct TimeSeriesCsv;

impl Exporter<RunReport<'_>> for TimeSeriesCsv {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        match &result.outcome.experiment.summary.series {
            Some(series) => timeseries_csv(series),
            None => Ok(Vec::new()),
        }
    }
}

/// replications.jsonl: every per-replication record, one JSON line each: the input from which
/// every other output can be rebuilt (see [`Summary::new`](crate::stats::Summary::new)).
#[derive(Debug, Clone, Copy)]
pub struct ReplicationsJsonl;

impl Exporter<RunReport<'_>> for ReplicationsJsonl {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        records_jsonl(&result.outcome.experiment.replications)
    }
}

impl Exporter<RunReport<'_>> for Json {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(&result.summary))
    }
}

impl Exporter<StudyReport> for Json {
    fn render(&self, result: &StudyReport) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(&result.analysis))
    }
}

impl Exporter<RunReport<'_>> for Table {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(render_table(&result.summary).into_bytes())
    }
}

impl Exporter<StudyReport> for Table {
    fn render(&self, result: &StudyReport) -> Result<Vec<u8>, ReportError> {
        Ok(render_analysis(&result.analysis).into_bytes())
    }
}

impl Exporter<RunReport<'_>> for SummaryCsv {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        summary_csv(&result.summary)
    }
}

impl Exporter<RunReport<'_>> for ReplicationsCsv {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        replications_csv(result.scenario, &result.outcome.experiment)
    }
}

/// Writes `result` in every format of `files` into `dir` (created if needed), each under its
/// name, and returns their paths.
///
/// # Errors
/// When a document cannot be rendered or a file written; no final file is then left
/// half-written, and either every file is complete or none is written.
pub fn write_files<R: ?Sized>(
    dir: &Path,
    result: &R,
    files: &[(&str, &dyn Exporter<R>)],
) -> Result<Vec<PathBuf>, ReportError> {
    let rendered = files.iter().map(|(name, exporter)| (dir.join(name), exporter.render(result))).collect();
    write_all(dir, rendered)
}
