//! Scenario files: TOML in, a validated [`Scenario`] out. Parsing (`raw`) and validation
//! (`convert`) are separate layers; every problem is reported with its line and column.

mod classes;
mod convert;
mod distributions;
mod error;
mod exchanges;
mod limits;
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
pub use limits::{
    BYTES_PER_MESSAGE, MAX_HORIZON_S, MAX_MESSAGES, MAX_REPLICATIONS, MEMORY_VARIABLE, Workload,
    available_memory, expected_messages, memory_ceiling, memory_override, show_bytes, show_messages,
};
pub use settings::Overrides;
pub use units::parse_duration;
pub use variation::{Variation, VariationError, VariationProblem, vary};

use crate::model::Scenario;
use problems::{Problems, line_column};
use raw::RawScenario;
use toml::Spanned;

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
    /// The file, for messages about the work a command would ask.
    path: PathBuf,
    /// Where the settings that bound the work are in the file.
    anchors: Anchors,
}

/// Where a run's work and memory are set in the file: line and column, and the field's name.
#[derive(Debug, Clone)]
struct Anchors {
    /// The field a message about the messages to simulate points at: the first source when
    /// `--duration` overrides the file's, else the file's duration, else its replications, else
    /// the first source.
    workload: (usize, usize, String),
    /// `max_in_system`, else the `[simulation]` table, else the top of the file.
    max_in_system: (usize, usize),
}

impl Anchors {
    fn new(raw: &RawScenario, overrides: &Overrides, text: &str) -> Self {
        let sim = raw.simulation.as_ref().map(Spanned::get_ref);
        let at = |span: std::ops::Range<usize>| line_column(text, span.start);
        let duration = sim.and_then(|s| s.duration.as_ref());
        let replications =
            sim.and_then(|s| s.replications.as_ref()).filter(|_| overrides.replications.is_none());
        let first_source = || {
            let source = raw.source.first();
            let (line, column) = source.map_or((1, 1), |source| at(source.span()));
            let name = source.map_or(String::new(), |source| source.get_ref().name.get_ref().clone());
            (line, column, name)
        };
        let workload = if overrides.duration_s.is_some() {
            let (line, column, name) = first_source();
            (line, column, format!("--duration, with source '{name}'"))
        } else if let Some(field) = duration {
            let (line, column) = at(field.span());
            (line, column, "[simulation] field 'duration'".to_owned())
        } else if let Some(field) = replications {
            let (line, column) = at(field.span());
            (line, column, "[simulation] field 'replications'".to_owned())
        } else {
            let (line, column, name) = first_source();
            (line, column, format!("source '{name}'"))
        };
        let max_in_system = match (sim.and_then(|s| s.max_in_system.as_ref()), &raw.simulation) {
            (Some(field), _) => at(field.span()),
            (None, Some(table)) => at(table.span()),
            (None, None) => (1, 1),
        };
        Self { workload, max_in_system }
    }
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
            let message = match error.span().and_then(|span| duplicate_key(&message, text, span.start)) {
                Some(key) => format!(
                    "duplicate key '{key}': a key (or a [table]) may be given only once in the same table"
                ),
                None => message,
            };
            let on_line = error.span().and_then(|span| key_on_line(text, span.start));
            let on_line = on_line.filter(|key| !message.contains(key.as_str()));
            let field = field_path(error).or(on_line);
            let message = match field {
                Some(field) => format!("field '{field}': {message}"),
                None => message,
            };
            ScenarioError::Syntax { path: path.to_owned(), problem: Problem { line, column, message } }
        })?;
        let base = base.to_owned();
        let anchors = Anchors::new(&raw, overrides, text);
        let scenario =
            convert::convert(&raw, default_name, &base, overrides).map_err(|problems: Problems| {
                ScenarioError::Invalid { path: path.to_owned(), problems: problems.located(text) }
            })?;
        let (default_name, overrides) = (default_name.to_owned(), overrides.clone());
        let path = path.to_owned();
        Ok(Self { scenario, raw, default_name, base, overrides, variations: Vec::new(), path, anchors })
    }

    /// Refuses a run of `replications` replications (all of a run's, a precision target's
    /// most) that would generate more than [`MAX_MESSAGES`] messages, before any simulation;
    /// returns the messages expected.
    ///
    /// # Errors
    /// [`ScenarioError::Invalid`] at the duration (else the replications, else the first
    /// source), with the estimate and how it was made.
    pub fn check_workload(&self, replications: u64) -> Result<f64, ScenarioError> {
        let workload = Workload::new(&self.scenario, replications);
        let messages = workload.messages();
        if messages <= MAX_MESSAGES {
            return Ok(messages);
        }
        Err(self.workload_error(&format!(
            "this run would simulate {workload}, more than kendall's limit of {MAX_MESSAGES:e} (hours of computing): shorten the duration, lower the rates or run fewer replications"
        )))
    }

    /// A refusal of the work a command asks of scenarios made from this file (a run, a sweep's
    /// points, a plan's configurations): `message` says what the work is and why it is too
    /// much, and is given at the field that sets the work (the duration, else the
    /// replications, else the first source; `--duration` when it overrides the file's),
    /// `file:line:column: field: message`.
    #[must_use]
    pub fn workload_error(&self, message: &str) -> ScenarioError {
        let (line, column, field) = &self.anchors.workload;
        ScenarioError::Invalid {
            path: self.path.clone(),
            problems: vec![Problem { line: *line, column: *column, message: format!("{field}: {message}") }],
        }
    }

    /// A note when the file's `max_in_system` asks for more messages in flight than `ceiling`,
    /// what the memory available allows each of `parallel` replications running at once (see
    /// [`memory_ceiling`]): `file:line:column:`, the memory it would take and where replications
    /// stop instead.
    #[must_use]
    pub fn memory_note(&self, ceiling: u32, parallel: usize) -> Option<String> {
        let sim = self.raw.simulation.as_ref().map(Spanned::get_ref);
        let requested = sim
            .and_then(|s| s.max_in_system.as_ref())
            .and_then(|field| u32::try_from(*field.get_ref()).ok())
            .unwrap_or(crate::model::Settings::DEFAULT_MAX_IN_SYSTEM);
        if requested <= ceiling {
            return None;
        }
        let (line, column) = self.anchors.max_in_system;
        #[allow(clippy::cast_precision_loss)] // bytes, shown rounded
        let need = |messages: u32| (u64::from(messages) * BYTES_PER_MESSAGE * parallel as u64) as f64;
        Some(format!(
            "{}:{line}:{column}: [simulation] field 'max_in_system' {requested} would need {} for the messages in flight of {} ({BYTES_PER_MESSAGE} bytes each), more than half the {} available: an overloaded replication stops at {ceiling} messages in the system instead",
            self.path.display(),
            limits::show_bytes(need(requested)),
            if parallel == 1 {
                "one replication".to_owned()
            } else {
                format!("{parallel} replications running at once")
            },
            limits::show_bytes(2.0 * need(ceiling)),
        ))
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

/// The key a TOML "duplicate key" error at byte `offset` of `text` is about: a bare key, or a
/// quoted one without its quotes.
fn duplicate_key(message: &str, text: &str, offset: usize) -> Option<String> {
    if message != "duplicate key" {
        return None;
    }
    let rest = text.get(offset..)?;
    let key = match rest.chars().next()? {
        quote @ ('"' | '\'') => rest[1..].split(quote).next()?,
        _ => rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).next()?,
    };
    (!key.is_empty()).then(|| key.to_owned())
}

/// The key or table a line of TOML sets, for a syntax error at byte `offset` of `text` that the
/// parser does not place in a field: `duration` in `duration = fast`, `simulation` in
/// `[simulation`.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |newline| newline + 1);
    let line = text[start..].lines().next()?.trim();
    let is_key = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let key = match line.strip_prefix('[') {
        Some(header) => header.trim_start_matches('[').split(|c: char| !is_key(c)).next()?,
        None => line.split_once('=')?.0.trim(),
    };
    (!key.is_empty() && key.chars().all(is_key)).then(|| key.to_owned())
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
