//! Writing the output directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

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
            fs::write(&temporary, bytes).map_err(io_error(&temporary))
        });
        if let Err(error) = written {
            for (temporary, _) in &staged {
                let _ = fs::remove_file(temporary);
            }
            let _ = fs::remove_file(&temporary);
            return Err(error);
        }
        staged.push((temporary, path));
    }
    for (temporary, path) in &staged {
        fs::rename(temporary, path).map_err(io_error(path))?;
    }
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
