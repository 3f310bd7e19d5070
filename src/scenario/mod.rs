//! Scenario files: TOML in, a validated [`Scenario`] out. Parsing (`raw`) and validation
//! (`convert`) are separate layers; every problem is reported with its line and column.

mod classes;
mod convert;
mod error;
mod exchanges;
mod raw;
mod units;

use std::path::Path;

pub use error::{Problem, ScenarioError};
pub use units::parse_duration;

use crate::model::Scenario;
use convert::{Problems, line_column};
use raw::RawScenario;

/// Run settings given outside the file (on the command line), which take precedence over the
/// file's `[simulation]` table. A default warm-up follows an overridden duration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Observed simulated time per replication, seconds (positive).
    pub duration_s: Option<f64>,
    /// Warm-up per replication, seconds.
    pub warmup_s: Option<f64>,
    /// Number of replications (at least 1).
    pub replications: Option<u32>,
    /// Master seed.
    pub seed: Option<u64>,
}

/// Reads and validates a scenario file. The scenario's name defaults to the file stem.
///
/// # Errors
/// When the file cannot be read, is not valid TOML of the expected shape, or describes an invalid
/// model.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_with(path, &Overrides::default())
}

/// Reads and validates a scenario file, with some settings overridden.
///
/// # Errors
/// As for [`load`].
pub fn load_with(path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
    let stem = path.file_stem().map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned());
    parse_with(&text, &stem, path, overrides)
}

/// The dotted path of the field a TOML error is about ("simulation.warmup"), when known. The
/// parser exposes it only in its rendering without the input text.
fn field_path(mut error: toml::de::Error) -> Option<String> {
    error.set_input(None);
    let rendered = error.to_string();
    let keys = rendered.lines().rev().find_map(|line| line.strip_prefix("in `")?.strip_suffix('`'))?;
    Some(keys.to_owned())
}

/// Validates scenario text; `path` is used in messages only.
///
/// # Errors
/// As for [`load`], without the read error.
pub fn parse(text: &str, default_name: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    parse_with(text, default_name, path, &Overrides::default())
}

/// Validates scenario text with some settings overridden; `path` is used in messages only.
///
/// # Errors
/// As for [`load`], without the read error.
pub fn parse_with(
    text: &str,
    default_name: &str,
    path: &Path,
    overrides: &Overrides,
) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = toml::from_str(text).map_err(|error| {
        let (line, column) = error.span().map_or((1, 1), |span| line_column(text, span.start));
        let message = error.message().trim().replace('\n', " ");
        let message = match field_path(error) {
            Some(field) => format!("field '{field}': {message}"),
            None => message,
        };
        ScenarioError::Syntax { path: path.to_owned(), problem: Problem { line, column, message } }
    })?;
    let mut problems = Problems::new(text);
    let scenario = convert::convert(raw, default_name, overrides, &mut problems);
    let mut problems = problems.into_list();
    match scenario {
        Some(scenario) if problems.is_empty() => Ok(scenario),
        _ => {
            problems.sort_by_key(|p| (p.line, p.column));
            Err(ScenarioError::Invalid { path: path.to_owned(), problems })
        }
    }
}
