//! Rebuilding an output directory without simulating (`kendall report DIR`).
//!
//! Every command that writes report.html also writes command.json (which command made the page,
//! with which kendall and command line); a run also keeps what it was made from: scenario.toml
//! (the scenario file's text as loaded) and run.json (where the file was, the effective settings
//! and the precision target). With replications.jsonl, the run's records, that is enough to
//! redo the one reduction ([`Summary::new`](crate::stats::Summary::new)) and the analysis, and to write every derived file
//! again byte for byte. A sweep's, a comparison's and an analysis's outputs are drawn from
//! sweep.json, compare.json and analysis.json alone, a plan's from plan.json (plan.toml, the
//! recommended scenario, is kept as it is).
//!
//! Traces named in scenario.toml are read where the run read them: relative to the original
//! scenario file's directory, recorded in run.json as an absolute path. They are not copied (a
//! trace can be far larger than every other output).

use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::exporter::{Exporter, RunReport};
use super::files::{ReportError, pretty_json};
use super::html::Html;
use super::{CompareReport, PlanReport, StudyReport, SweepReport, write_files};
use crate::experiment::{Experiment, Precision, PrecisionReport, RunOutcome, too_wide};
use crate::model::{Network, Scenario};
use crate::scenario::{LoadedScenario, Overrides, ScenarioError};
use crate::stats::{RecordError, ReplicationResult, read_records};

/// The command whose results an output directory's report.html shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandKind {
    /// `kendall run`: summary.json and the files beside it.
    Run,
    /// `kendall sweep`: sweep.json and sweep.csv.
    Sweep,
    /// `kendall compare`: compare.json and compare.csv.
    Compare,
    /// `kendall plan`: plan.json and plan.toml.
    Plan,
    /// `kendall analyze`: analysis.json.
    Analyze,
}

/// command.json: which command wrote the directory's report.html, with which kendall and
/// command line. Written with report.html, so it names the same command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandFile {
    /// The version of kendall that ran the command.
    pub kendall_version: String,
    /// The command.
    pub command: CommandKind,
    /// Its command line, as a shell reads it back (see [`shell_command`](super::shell_command)).
    pub line: String,
}

impl CommandFile {
    /// command.json of `command` run as `line` by this version of kendall.
    #[must_use]
    pub fn new(command: CommandKind, line: String) -> Self {
        Self { kendall_version: env!("CARGO_PKG_VERSION").to_owned(), command, line }
    }
}

impl<R: ?Sized> Exporter<R> for CommandFile {
    fn render(&self, _: &R) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(self))
    }
}

/// The effective run settings in run.json: the file's, with the command line's overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsEntry {
    /// Master seed.
    pub seed: u64,
    /// Replications (the batch size under a precision target).
    pub replications: u32,
    /// Observed simulated time per replication, seconds.
    pub duration_s: f64,
    /// Warm-up per replication, seconds (0 with `auto_warmup`).
    pub warmup_s: f64,
    /// Each replication chose its warm-up by MSER-5.
    pub auto_warmup: bool,
}

impl SettingsEntry {
    /// The overrides that give these settings to the scenario file they came from.
    fn overrides(&self) -> Overrides {
        Overrides {
            duration_s: Some(self.duration_s),
            warmup_s: (!self.auto_warmup).then_some(self.warmup_s),
            auto_warmup: self.auto_warmup,
            replications: Some(self.replications),
            seed: Some(self.seed),
            memory_max_in_system: None,
        }
    }
}

/// A precision target (`--precision`) in run.json.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecisionTarget {
    /// Largest 95% CI half-width of a mean or percentile, relative to its value.
    pub relative: f64,
    /// Largest 95% CI half-width of a probability or fraction, absolute.
    pub absolute: f64,
    /// Replications at which the run stops even if some figure is still too wide.
    pub max_replications: u32,
}

impl From<&Precision> for PrecisionTarget {
    fn from(target: &Precision) -> Self {
        Self {
            relative: target.relative,
            absolute: target.absolute,
            max_replications: target.max_replications,
        }
    }
}

impl From<PrecisionTarget> for Precision {
    fn from(target: PrecisionTarget) -> Self {
        Self {
            relative: target.relative,
            absolute: target.absolute,
            max_replications: target.max_replications,
        }
    }
}

/// run.json: what a run was made from besides the scenario's text (scenario.toml) and its
/// records (replications.jsonl).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    /// The scenario file as run, absolute: its stem is the scenario's default name, and its
    /// directory is where the relative paths in it (traces) start.
    pub scenario: PathBuf,
    /// The effective settings.
    pub settings: SettingsEntry,
    /// The precision target, for a run under `--precision`.
    pub precision: Option<PrecisionTarget>,
    /// Wall-clock time of the simulation, seconds: the one figure the records do not give.
    pub wall_seconds: f64,
}

impl RunFile {
    /// run.json of `outcome`, a run of `scenario` loaded from the file `path`.
    ///
    /// # Errors
    /// When `path` cannot be made absolute (the current directory is gone).
    pub fn new(path: &Path, scenario: &Scenario, outcome: &RunOutcome) -> io::Result<Self> {
        let settings = scenario.settings();
        Ok(Self {
            scenario: std::path::absolute(path)?,
            settings: SettingsEntry {
                seed: settings.seed(),
                replications: settings.replications(),
                duration_s: settings.duration_s(),
                warmup_s: settings.warmup_s(),
                auto_warmup: settings.auto_warmup(),
            },
            precision: outcome.precision.as_ref().map(|report| PrecisionTarget::from(&report.target)),
            wall_seconds: outcome.experiment.wall_seconds,
        })
    }
}

impl Exporter<RunReport<'_>> for RunFile {
    fn render(&self, _: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(self))
    }
}

/// scenario.toml: the scenario file's text, exactly as the run loaded it.
#[derive(Debug, Clone)]
pub struct ScenarioText(pub String);

impl Exporter<RunReport<'_>> for ScenarioText {
    fn render(&self, _: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(self.0.clone().into_bytes())
    }
}

/// Why an output directory cannot be rebuilt.
#[derive(Debug, Error)]
pub enum RebuildError {
    /// The path is not a directory.
    #[error("{} does not exist or is not a directory", dir.display())]
    NotADirectory {
        /// The path given.
        dir: PathBuf,
    },
    /// The directory holds no command.json: no report.html of a kendall command.
    #[error(
        "{} is not the output of kendall run, sweep, compare, plan or analyze: it has no command.json{}",
        dir.display(),
        nothing_to_rebuild(dir)
    )]
    NotOutput {
        /// The directory.
        dir: PathBuf,
    },
    /// A file the rebuild needs is missing.
    #[error("{} is missing, and the rebuild needs it", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A file cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A JSON file is not what kendall writes there.
    #[error("{} is corrupt", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: serde_json::Error,
    },
    /// replications.jsonl cannot be read back.
    #[error("{} is corrupt", path.display())]
    Records {
        /// The file.
        path: PathBuf,
        /// Which line, and what is wrong.
        source: RecordError,
    },
    /// scenario.toml no longer loads (or a trace it names is gone).
    #[error("the run's scenario does not load")]
    Scenario(#[source] ScenarioError),
    /// The records do not fit the scenario: scenario.toml or replications.jsonl was replaced.
    #[error("{} does not fit {}: {message}", records.display(), scenario.display())]
    Mismatch {
        /// replications.jsonl.
        records: PathBuf,
        /// scenario.toml.
        scenario: PathBuf,
        /// The first difference.
        message: String,
    },
    /// The rebuilt files cannot be written.
    #[error(transparent)]
    Write(#[from] ReportError),
}

/// Why a directory without command.json has nothing to rebuild, for the files it does hold.
fn nothing_to_rebuild(dir: &Path) -> &'static str {
    if dir.join("analysis.json").is_file() {
        "; it was written by a kendall whose analyze wrote no report.html: run kendall analyze again"
    } else if dir.join("summary.json").is_file() {
        "; it was written by a kendall without `kendall report`, which kept no scenario.toml or run.json"
    } else {
        ""
    }
}

/// What `kendall report` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebuilt {
    /// The files rewritten, in order.
    pub written: Vec<PathBuf>,
    /// The version of kendall that wrote the directory, when not this one.
    pub other_version: Option<String>,
}

/// Rewrites every file of `dir` derived from the results it holds (the data files beside them,
/// the charts unless `!charts`, report.html) without simulating, and returns what it wrote.
/// Nothing is written unless everything can be.
///
/// # Errors
/// When `dir` is not a kendall output, a file it needs is missing or corrupt, or the rebuilt
/// files cannot be written ([`RebuildError::Write`]).
pub fn rebuild(dir: &Path, charts: bool) -> Result<Rebuilt, RebuildError> {
    if !dir.is_dir() {
        return Err(RebuildError::NotADirectory { dir: dir.to_owned() });
    }
    let command_path = dir.join("command.json");
    if !command_path.is_file() {
        return Err(RebuildError::NotOutput { dir: dir.to_owned() });
    }
    let command: CommandFile = read_json(&command_path)?;
    let page = Html::new(command.line.clone(), charts).run_with(command.kendall_version.clone());
    let written = match command.command {
        CommandKind::Run => {
            let (scenario, outcome) = read_run(dir)?;
            let report = RunReport::new(&scenario, &outcome);
            let mut files = derived(&RunReport::files(), "replications.jsonl");
            files.extend(report.series_files());
            let mut chart_files = RunReport::charts().to_vec();
            chart_files.extend(report.series_charts());
            write(dir, &report, files, &chart_files, charts, &page)?
        }
        CommandKind::Sweep => {
            let report = SweepReport { sweep: read_json(&dir.join("sweep.json"))? };
            let files = derived(&SweepReport::files(), "sweep.json");
            write(dir, &report, files, &report.charts(), charts, &page)?
        }
        CommandKind::Compare => {
            let report = CompareReport { file: read_json(&dir.join("compare.json"))? };
            let files = derived(&CompareReport::files(), "compare.json");
            write(dir, &report, files, &CompareReport::charts(), charts, &page)?
        }
        CommandKind::Analyze => {
            let report = StudyReport { analysis: read_json(&dir.join("analysis.json"))? };
            write(dir, &report, Vec::new(), &StudyReport::charts(), charts, &page)?
        }
        CommandKind::Plan => {
            let file = read_json(&dir.join("plan.json"))?;
            let toml = String::from_utf8_lossy(&read(&dir.join("plan.toml"))?).into_owned();
            let report = PlanReport { file, toml };
            write(dir, &report, Vec::new(), &report.charts(), charts, &page)?
        }
    };
    let other_version =
        (command.kendall_version != env!("CARGO_PKG_VERSION")).then_some(command.kendall_version);
    Ok(Rebuilt { written, other_version })
}

/// The files of `files` but `input`, the one they are derived from.
fn derived<'a, R: ?Sized>(
    files: &[(&'a str, &'a dyn Exporter<R>)],
    input: &str,
) -> Vec<(&'a str, &'a dyn Exporter<R>)> {
    files.iter().filter(|(name, _)| *name != input).copied().collect()
}

/// Writes `files`, then `charts` when asked for, then report.html.
fn write<'a, R: ?Sized>(
    dir: &Path,
    report: &R,
    mut files: Vec<(&'a str, &'a dyn Exporter<R>)>,
    chart_files: &[(&'a str, &'a dyn Exporter<R>)],
    charts: bool,
    page: &'a Html,
) -> Result<Vec<PathBuf>, RebuildError>
where
    Html: Exporter<R>,
{
    if charts {
        files.extend_from_slice(chart_files);
    }
    files.push(("report.html", page));
    Ok(write_files(dir, report, &files)?)
}

/// The scenario of the run in `dir` and its outcome, from scenario.toml, run.json and
/// replications.jsonl.
fn read_run(dir: &Path) -> Result<(Scenario, RunOutcome), RebuildError> {
    let run: RunFile = read_json(&dir.join("run.json"))?;
    let scenario_path = dir.join("scenario.toml");
    let scenario = read_scenario(&scenario_path, &run)?;
    let records_path = dir.join("replications.jsonl");
    let file =
        File::open(&records_path).map_err(|source| missing_or_unreadable(records_path.clone(), source))?;
    let records = read_records(BufReader::new(file))
        .map_err(|source| RebuildError::Records { path: records_path.clone(), source })?;
    if let Err(message) = fits(scenario.network(), &records) {
        return Err(RebuildError::Mismatch { records: records_path, scenario: scenario_path, message });
    }
    let experiment = Experiment::new(scenario.network(), records, run.wall_seconds);
    let precision = run.precision.map(|target| {
        let target = Precision::from(target);
        let replications = u32::try_from(experiment.replications.len()).unwrap_or(u32::MAX);
        PrecisionReport { target, replications, too_wide: too_wide(&experiment.summary, &target) }
    });
    let outcome = RunOutcome::new(&scenario, experiment, precision);
    Ok((scenario, outcome))
}

/// The scenario in `path` (scenario.toml) as `run` loaded it: named after the original file by
/// default, its traces read from the original file's directory, with the run's settings.
fn read_scenario(path: &Path, run: &RunFile) -> Result<Scenario, RebuildError> {
    let text = String::from_utf8(read(path)?).map_err(|error| RebuildError::Read {
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, error),
    })?;
    let stem =
        run.scenario.file_stem().map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned());
    let base = run.scenario.parent().map(Path::to_owned).unwrap_or_default();
    LoadedScenario::parse_in(&text, &stem, path, &base, &run.settings.overrides())
        .map(LoadedScenario::into_scenario)
        .map_err(RebuildError::Scenario)
}

/// Whether `records` are replications 0, 1, ... of `network`, each measuring the same entities,
/// classes and series; the first difference otherwise.
fn fits(network: &Network, records: &[ReplicationResult]) -> Result<(), String> {
    let Some(first) = records.first() else {
        return Err("it holds no replication".to_owned());
    };
    for (line, record) in records.iter().enumerate().map(|(i, record)| (i + 1, record)) {
        let counts = [
            ("nodes", record.nodes.len(), network.nodes().len()),
            ("sources", record.sources.len(), network.sources().len()),
            ("exchanges", record.exchanges.len(), network.exchanges().len()),
        ];
        if let Some((what, found, wanted)) = counts.into_iter().find(|(_, found, wanted)| found != wanted) {
            return Err(format!(
                "the record on line {line} has {found} {what} where the scenario has {wanted}"
            ));
        }
        if record.index as usize != line - 1 {
            return Err(format!("line {line} holds replication {}, not {}", record.index, line - 1));
        }
        if shape(record) != shape(first) {
            return Err(format!("the record on line {line} measured other classes or series than line 1"));
        }
    }
    if !measurable(network, first) {
        return Err("the records measured other classes or series than the scenario has".to_owned());
    }
    Ok(())
}

/// What a record measured beyond its entities: the classes at each node and end to end, and the
/// series' entities.
type Shape = (usize, usize, Vec<(usize, usize)>, Option<(usize, usize)>);

/// The [`Shape`] of `record`.
fn shape(record: &ReplicationResult) -> Shape {
    let classes =
        record.nodes.iter().map(|node| (node.priority_classes.len(), node.message_classes.len())).collect();
    let series = record.series.as_ref().map(|series| (series.nodes.len(), series.sources.len()));
    (record.message_classes.len(), record.message_class_latencies.len(), classes, series)
}

/// Whether `network` has every class and series entity `record` measured.
fn measurable(network: &Network, record: &ReplicationResult) -> bool {
    let series = record.series.as_ref().is_none_or(|series| {
        series.nodes.len() == network.nodes().len() && series.sources.len() == network.sources().len()
    });
    let classes = network.message_classes().len();
    series
        && record.message_classes.len() <= classes
        && record.nodes.iter().all(|node| {
            node.priority_classes.len() <= network.priorities().len() && node.message_classes.len() <= classes
        })
}

/// The bytes of `path`, a file the rebuild needs.
fn read(path: &Path) -> Result<Vec<u8>, RebuildError> {
    fs::read(path).map_err(|source| missing_or_unreadable(path.to_owned(), source))
}

/// [`RebuildError::Missing`] for a file that is not there, else [`RebuildError::Read`].
fn missing_or_unreadable(path: PathBuf, source: io::Error) -> RebuildError {
    if source.kind() == io::ErrorKind::NotFound {
        RebuildError::Missing { path }
    } else {
        RebuildError::Read { path, source }
    }
}

/// The JSON document in `path`, a file the rebuild needs.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, RebuildError> {
    let bytes = read(path)?;
    serde_json::from_slice(&bytes).map_err(|source| RebuildError::Corrupt { path: path.to_owned(), source })
}
