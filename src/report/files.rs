//! Writing the output directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use thiserror::Error;

use serde::Serialize;

use super::json::SummaryFile;
use crate::experiment::Experiment;
use crate::model::Scenario;
use crate::stats::{Metric, MetricValues, ReplicationResult, write_records};

/// Why the output files could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A file or directory could not be created or written.
    #[error("cannot write {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A CSV document could not be encoded.
    #[error("cannot encode CSV")]
    Csv {
        /// The CSV error.
        source: csv::Error,
    },
    /// A chart could not be drawn.
    #[error("cannot draw a chart: {message}")]
    Draw {
        /// What the drawing backend reported.
        message: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ReportError + '_ {
    move |source| ReportError::Io { path: path.to_owned(), source }
}

/// A JSON document, pretty-printed with a final newline.
#[must_use]
pub fn pretty_json<T: Serialize>(document: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(document).expect("output documents serialise");
    bytes.push(b'\n');
    bytes
}

/// The temporary files being written, for [`abandon_partial_files`]; `None` once abandoned,
/// when no more may be written.
static PARTIAL: Mutex<Option<Vec<PathBuf>>> = Mutex::new(Some(Vec::new()));

fn partial_files() -> MutexGuard<'static, Option<Vec<PathBuf>>> {
    PARTIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every temporary (`*.partial`) file being written and refuses to write more: for a
/// signal handler (SIGINT, SIGTERM) to call before the process exits, so that an interrupted
/// command leaves no half-written file behind and the previous outputs as they were. Waits for
/// a file being written to be complete first.
pub fn abandon_partial_files() {
    let mut partial = partial_files();
    for path in partial.take().unwrap_or_default() {
        let _ = fs::remove_file(path);
    }
}

/// Writes `bytes` to the temporary file `path`, registered for [`abandon_partial_files`].
fn write_partial(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let mut partial = partial_files();
    let Some(list) = partial.as_mut() else {
        let interrupted = io::Error::new(io::ErrorKind::Interrupted, "interrupted");
        return Err(ReportError::Io { path: path.to_owned(), source: interrupted });
    };
    list.push(path.to_owned());
    fs::write(path, bytes).map_err(io_error(path))
}

/// Forgets temporary files that were renamed into place or removed.
fn forget_partial(paths: &[PathBuf]) {
    if let Some(list) = partial_files().as_mut() {
        list.retain(|path| !paths.contains(path));
    }
}

/// Checks that files can be written into `dir` before a long computation whose results would
/// be lost otherwise: creates it (and its missing parents) and a temporary file in it, then
/// removes what it created.
///
/// # Errors
/// [`ReportError::Io`] naming the directory or file that cannot be created.
pub fn check_writable(dir: &Path) -> Result<(), ReportError> {
    let missing: Vec<&Path> =
        dir.ancestors().take_while(|path| !path.as_os_str().is_empty() && !path.exists()).collect();
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let probe = dir.join(".kendall-write-check.partial");
    let written = write_partial(&probe, b"");
    let _ = fs::remove_file(&probe);
    forget_partial(std::slice::from_ref(&probe));
    for created in missing {
        let _ = fs::remove_dir(created);
    }
    written
}

/// Writes every file under a temporary name, then renames them all into place: either all
/// files are complete or none is written.
pub(super) fn write_all(
    dir: &Path,
    files: Vec<(PathBuf, Result<Vec<u8>, ReportError>)>,
) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut staged = Vec::new();
    for (path, contents) in files {
        let mut temporary = path.clone().into_os_string();
        temporary.push(".partial");
        let temporary = PathBuf::from(temporary);
        let written = contents.and_then(|bytes| {
            let parent = temporary.parent().unwrap_or(dir);
            fs::create_dir_all(parent).map_err(io_error(parent))?;
            write_partial(&temporary, &bytes)
        });
        if let Err(error) = written {
            for (temporary, _) in &staged {
                let _ = fs::remove_file(temporary);
            }
            let _ = fs::remove_file(&temporary);
            let mut abandoned: Vec<PathBuf> = staged.into_iter().map(|(temporary, _)| temporary).collect();
            abandoned.push(temporary);
            forget_partial(&abandoned);
            return Err(error);
        }
        staged.push((temporary, path));
    }
    let renamed =
        staged.iter().try_for_each(|(temporary, path)| fs::rename(temporary, path).map_err(io_error(path)));
    let temporaries: Vec<PathBuf> = staged.iter().map(|(temporary, _)| temporary.clone()).collect();
    if renamed.is_err() {
        // Those not renamed yet: none is left half-way.
        temporaries.iter().for_each(|temporary| drop(fs::remove_file(temporary)));
    }
    forget_partial(&temporaries);
    renamed?;
    Ok(staged.into_iter().map(|(_, path)| path).collect())
}

pub(super) fn csv_error(source: csv::Error) -> ReportError {
    ReportError::Csv { source }
}

pub(super) fn optional(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

/// summary.csv: one row per scope, name and metric.
pub(super) fn summary_csv(summary: &SummaryFile) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["scope", "name", "metric", "mean", "ci_low", "ci_high", "n"]).map_err(csv_error)?;
    let nodes = summary.nodes.iter().map(|n| ("node", n.name.clone(), &n.metrics));
    let node_priority_classes = summary.nodes.iter().flat_map(|n| {
        n.message_classes.iter().map(|c| ("node_class", format!("{}/{}", n.name, c.name), &c.metrics))
    });
    let sources = summary.sources.iter().map(|s| ("source", s.name.clone(), &s.metrics));
    let exchanges = summary.exchanges.iter().map(|e| ("exchange", e.name.clone(), &e.metrics));
    let classes = summary.classes.iter().map(|c| ("class", c.name.clone(), &c.metrics));
    for (scope, name, metrics) in
        nodes.chain(node_priority_classes).chain(sources).chain(exchanges).chain(classes)
    {
        for (metric, entry) in metrics {
            let [low, high] = entry.ci95.map_or([None, None], |[l, h]| [Some(l), Some(h)]);
            let n = entry.n.to_string();
            writer
                .write_record([
                    scope,
                    &name,
                    metric,
                    &optional(entry.mean),
                    &optional(low),
                    &optional(high),
                    &n,
                ])
                .map_err(csv_error)?;
        }
    }
    writer.into_inner().map_err(|error| csv_error(error.into_error().into()))
}

/// replications.jsonl: every record, one line per replication.
pub(super) fn records_jsonl(records: &[ReplicationResult]) -> Result<Vec<u8>, ReportError> {
    let mut bytes = Vec::new();
    write_records(&mut bytes, records).map_err(io_error(Path::new("replications.jsonl")))?;
    Ok(bytes)
}

/// replications.csv: one row per replication, scope, name and metric.
pub(super) fn replications_csv(scenario: &Scenario, experiment: &Experiment) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["replication", "scope", "name", "metric", "value"]).map_err(csv_error)?;
    let network = &scenario.network;
    for replication in &experiment.replications {
        let index = replication.index.to_string();
        let mut write = |scope: &str, name: &str, metric: &str, value: Option<f64>| {
            writer.write_record([&index, scope, name, metric, &optional(value)]).map_err(csv_error)
        };
        for (node, result) in network.nodes().iter().zip(&replication.nodes) {
            write_values(&mut write, "node", &node.name, &result.metrics)?;
            for (class, values) in network.message_classes().iter().zip(&result.message_classes) {
                write_values(&mut write, "node_class", &format!("{}/{class}", node.name), values)?;
            }
        }
        for (source, result) in network.sources().iter().zip(&replication.sources) {
            write_values(&mut write, "source", &source.name, &result.metrics)?;
        }
        for (exchange, result) in network.exchanges().iter().zip(&replication.exchanges) {
            write_values(&mut write, "exchange", &exchange.name, &result.metrics)?;
        }
        for (class, values) in network.message_classes().iter().zip(&replication.message_classes) {
            write_values(&mut write, "class", class, values)?;
        }
    }
    writer.into_inner().map_err(|error| csv_error(error.into_error().into()))
}

fn write_values<M: Metric>(
    write: &mut impl FnMut(&str, &str, &str, Option<f64>) -> Result<(), ReportError>,
    scope: &str,
    name: &str,
    values: &MetricValues<M>,
) -> Result<(), ReportError> {
    values.iter().try_for_each(|(metric, value)| write(scope, name, metric.key(), value))
}
