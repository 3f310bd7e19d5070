//! Scenario files: TOML in, a validated [`Scenario`] out. Parsing (`raw`) and validation
//! (`convert`) are separate layers; every problem is reported with its line and column.

mod classes;
mod convert;
mod distributions;
mod error;
mod exchanges;
mod names;
mod nodes;
mod problems;
mod raw;
mod schedules;
mod settings;
mod sources;
mod traces;
mod units;
mod variation;

use std::path::{Path, PathBuf};

pub use error::{Problem, ScenarioError};
pub use settings::Overrides;
pub use units::parse_duration;
pub use variation::{Variation, VariationError, VariationProblem, vary};

use crate::model::Scenario;
use problems::{Problems, line_column};
use raw::RawScenario;

/// A validated scenario with what it was validated from (the file's parsed contents and the
/// overrides), so that a [`Variation`] of it goes through exactly the checks of a file (see
/// [`vary`]).
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    scenario: Scenario,
    raw: RawScenario,
    default_name: String,
    /// The directory the file's relative paths (traces) start from.
    base: PathBuf,
    overrides: Overrides,
    variations: Vec<Variation>,
}

impl LoadedScenario {
    /// Reads and validates a scenario file, with some settings overridden. The scenario's name
    /// defaults to the file stem.
    ///
    /// # Errors
    /// When the file cannot be read, is not valid TOML of the expected shape, or describes an
    /// invalid model.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Self, ScenarioError> {
        let bytes =
            std::fs::read(path).map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
        let text = String::from_utf8(bytes).map_err(|error| not_utf8(path, &error))?;
        let stem =
            path.file_stem().map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned());
        Self::parse(&text, &stem, path, overrides)
    }

    /// Validates scenario text with some settings overridden; `path` names the file in messages,
    /// and its directory is where relative paths in the text (traces) start.
    ///
    /// # Errors
    /// As for [`LoadedScenario::load`], without the read error.
    pub fn parse(
        text: &str,
        default_name: &str,
        path: &Path,
        overrides: &Overrides,
    ) -> Result<Self, ScenarioError> {
        Self::parse_in(
            text,
            default_name,
            path,
            &path.parent().map(Path::to_owned).unwrap_or_default(),
            overrides,
        )
    }

    /// As [`LoadedScenario::parse`], but relative paths in the text (traces) start from `base`
    /// rather than from `path`'s directory: for a copy of a scenario file kept apart from its
    /// traces (an output directory's scenario.toml).
    ///
    /// # Errors
    /// As for [`LoadedScenario::parse`].
    pub fn parse_in(
        text: &str,
        default_name: &str,
        path: &Path,
        base: &Path,
        overrides: &Overrides,
    ) -> Result<Self, ScenarioError> {
        if let Some(message) = convert::too_long(text.len()) {
            let problem = Problem { line: 1, column: 1, message };
            return Err(ScenarioError::Syntax { path: path.to_owned(), problem });
        }
        let raw: RawScenario = toml::from_str(text).map_err(|error| {
            let (line, column) = error.span().map_or((1, 1), |span| line_column(text, span.start));
            let message = error.message().trim().replace('\n', " ");
            let message = match field_path(error) {
                Some(field) => format!("field '{field}': {message}"),
                None => message,
            };
            ScenarioError::Syntax { path: path.to_owned(), problem: Problem { line, column, message } }
        })?;
        let base = base.to_owned();
        let scenario =
            convert::convert(&raw, default_name, &base, overrides).map_err(|problems: Problems| {
                ScenarioError::Invalid { path: path.to_owned(), problems: problems.located(text) }
            })?;
        let (default_name, overrides) = (default_name.to_owned(), overrides.clone());
        Ok(Self { scenario, raw, default_name, base, overrides, variations: Vec::new() })
    }

    /// The validated scenario.
    #[must_use]
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The validated scenario, without what it was validated from.
    #[must_use]
    pub fn into_scenario(self) -> Scenario {
        self.scenario
    }

    /// The variations applied to the file, in order (none for the file as loaded).
    #[must_use]
    pub fn variations(&self) -> &[Variation] {
        &self.variations
    }

    /// A name for this configuration in reports: its variations as written, separated by spaces
    /// (`load=1.5 node.storage.servers=4`), or "as-is" for the file as loaded.
    #[must_use]
    pub fn label(&self) -> String {
        if self.variations.is_empty() {
            return "as-is".to_owned();
        }
        self.variations.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
    }

    /// Every numeric path a [`Variation`] of this scenario can name, in file order.
    #[must_use]
    pub fn numeric_paths(&self) -> Vec<String> {
        variation::numeric_paths(&self.raw)
    }
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
    LoadedScenario::load(path, overrides).map(LoadedScenario::into_scenario)
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
    LoadedScenario::parse(text, default_name, path, overrides).map(LoadedScenario::into_scenario)
}

/// The error for a file that is not UTF-8 text: where the first bad byte is, by line, column and
/// byte offset.
fn not_utf8(path: &Path, error: &std::string::FromUtf8Error) -> ScenarioError {
    let offset = error.utf8_error().valid_up_to();
    let valid = std::str::from_utf8(&error.as_bytes()[..offset]).unwrap_or_default();
    let (line, column) = line_column(valid, offset);
    let message = format!(
        "the file is not UTF-8 text: byte {offset} (0x{:02x}) is not valid UTF-8; a scenario is a TOML text file",
        error.as_bytes()[offset]
    );
    ScenarioError::Syntax { path: path.to_owned(), problem: Problem { line, column, message } }
}
