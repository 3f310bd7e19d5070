//! Scenario files: TOML in, a validated [`Scenario`] out. Parsing (`raw`) and validation
//! (`convert`) are separate layers; every problem is reported with its line and column.

mod convert;
mod error;
mod raw;
mod units;

use std::path::Path;

pub use error::{Problem, ScenarioError};
pub use units::parse_duration;

use crate::model::Scenario;
use convert::{Problems, line_column};
use raw::RawScenario;

/// Reads and validates a scenario file. The scenario's name defaults to the file stem.
///
/// # Errors
/// When the file cannot be read, is not valid TOML of the expected shape, or describes an invalid
/// model.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
    let stem = path.file_stem().map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned());
    parse(&text, &stem, path)
}

/// Validates scenario text; `path` is used in messages only.
///
/// # Errors
/// As for [`load`], without the read error.
pub fn parse(text: &str, default_name: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = toml::from_str(text).map_err(|error| {
        let (line, column) = error.span().map_or((1, 1), |span| line_column(text, span.start));
        let message = error.message().trim().replace('\n', " ");
        ScenarioError::Syntax { path: path.to_owned(), problem: Problem { line, column, message } }
    })?;
    let mut problems = Problems::new(text);
    let scenario = convert::convert(raw, default_name, &mut problems);
    let mut problems = problems.into_list();
    match scenario {
        Some(scenario) if problems.is_empty() => Ok(scenario),
        _ => {
            problems.sort_by_key(|p| (p.line, p.column));
            Err(ScenarioError::Invalid { path: path.to_owned(), problems })
        }
    }
}
