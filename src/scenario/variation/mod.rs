//! Variations: validated edits of a scenario by path (`node.storage.servers=8`, `load=1.5`), as
//! sweeps, comparisons and the planner make them. A variation edits what the file says, and the
//! edited scenario then goes through exactly the conversion and checks of a file: there is no
//! second, unvalidated way to change a scenario.

mod edit;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::LoadedScenario;
use super::convert::convert;
use super::problems::Problems;
pub(super) use edit::numeric_paths;

/// A change to one numeric field of a scenario, by path, written `PATH=VALUE`.
///
/// Paths name entities by their names in the file:
/// - `node.NAME.servers` (a count or `infinite`; not for a node with a `servers_schedule`),
///   `node.NAME.capacity`, `node.NAME.ttl`, `node.NAME.per_byte`, and `node.NAME.service.PARAM`;
/// - `source.NAME.interarrival.PARAM` (of a source with a `schedule`, which sets its rate, only
///   the parameters of its shape: `cv`, `k`, `min`, `max`), `source.NAME.population`,
///   `source.NAME.think.PARAM`, `source.NAME.size.PARAM`;
/// - `simulation.duration`, `simulation.warmup`, `simulation.replications`, `simulation.seed`,
///   `simulation.max_in_system`, `simulation.sample_every`;
/// - `load`: a factor on the arrival rate of every open source (1 = as in the file), which
///   scales a rate and every rate of a schedule, and divides a mean, value, min or max,
///   whichever the file gave.
///
/// PARAM is a field of a distribution table (`rate`, `mean`, `value`, `cv`, `k`, `min`, `max`);
/// setting `mean` replaces a `rate` or `value` given in the file, and setting `rate` or `value`
/// replaces a `mean`. Values are written as in a scenario file: durations take units (`50ms`,
/// `2h`), rates are numbers per second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variation {
    path: String,
    value: String,
}

impl Variation {
    /// The path of the field it changes, such as `node.storage.servers`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The new value, as written.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl FromStr for Variation {
    type Err = VariationError;

    /// Reads `PATH=VALUE`; the path is resolved, and the value read, when the variation is
    /// applied to a scenario by [`vary`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let form = |reason| VariationError::Form { text: text.to_owned(), reason };
        let (path, value) = text.split_once('=').ok_or_else(|| form("it has no '='"))?;
        let (path, value) = (path.trim(), value.trim());
        if path.is_empty() {
            return Err(form("the path before '=' is empty"));
        }
        if value.is_empty() {
            return Err(form("the value after '=' is empty"));
        }
        if path.split('.').any(str::is_empty) {
            return Err(VariationError::Path {
                path: path.to_owned(),
                reason: "a path is words joined by single dots, such as node.storage.servers".to_owned(),
            });
        }
        Ok(Self { path: path.to_owned(), value: value.to_owned() })
    }
}

impl fmt::Display for Variation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// Why a variation cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VariationError {
    /// The text is not of the form `PATH=VALUE`.
    #[error(
        "invalid variation '{text}', which should be PATH=VALUE such as node.storage.servers=4: {reason}"
    )]
    Form {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The path names nothing in the scenario; the reason lists what is valid there.
    #[error("invalid variation path '{path}': {reason}")]
    Path {
        /// The path given.
        path: String,
        /// What is wrong, with the valid choices at that point.
        reason: String,
    },
    /// The value cannot be read as the field's type (a count, a duration, a number).
    #[error("invalid value '{value}' for '{path}': {reason}")]
    Value {
        /// The path of the field.
        path: String,
        /// The value given.
        value: String,
        /// What the field expects, as a scenario file would say it.
        reason: String,
    },
    /// The varied scenario fails the checks of a scenario file; every problem is listed.
    #[error("{}", Listing(problems))]
    Invalid {
        /// Every problem, each with the variations it comes from.
        problems: Vec<VariationProblem>,
    },
}

/// One problem of a varied scenario, as a scenario file would report it, with the variations
/// that caused it in place of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariationProblem {
    /// The variation the problem is at, or all of them when it arises from their combination.
    pub variations: Vec<Variation>,
    /// What is wrong, in the words of the file's checks.
    pub message: String,
}

impl fmt::Display for VariationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.variations.iter().map(|v| format!("'{v}'")).collect();
        write!(f, "variation {}: {}", names.join(", "), self.message)
    }
}

/// Renders one problem per line.
struct Listing<'a>(&'a [VariationProblem]);

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// The scenario with `variations` applied in order, validated by the same conversion and checks
/// as a scenario file. Applied to a varied scenario, the new variations add to its own.
///
/// # Errors
/// A path that names nothing in the scenario, a value that cannot be read as the field's type,
/// or a varied scenario that fails the file's checks (every problem, naming the variation).
pub fn vary(base: &LoadedScenario, variations: &[Variation]) -> Result<LoadedScenario, VariationError> {
    let mut raw = base.raw.clone();
    let mut overrides = base.overrides.clone();
    let first = base.variations.len();
    for (index, variation) in variations.iter().enumerate() {
        edit::apply(&mut raw, &mut overrides, variation, first + index)?;
    }
    let all: Vec<Variation> = base.variations.iter().chain(variations).cloned().collect();
    let scenario = convert(&raw, &base.default_name, &base.base, &overrides)
        .map_err(|problems| attribute(problems, &all))?;
    let (default_name, directory) = (base.default_name.clone(), base.base.clone());
    let (path, anchors) = (base.path.clone(), base.anchors.clone());
    Ok(LoadedScenario {
        scenario,
        raw,
        default_name,
        base: directory,
        overrides,
        variations: all,
        path,
        anchors,
    })
}

/// Each problem with the variation whose edit it is at, or all of them.
fn attribute(problems: Problems, variations: &[Variation]) -> VariationError {
    let problems = problems
        .into_offsets()
        .into_iter()
        .map(|(offset, message)| {
            let variations = match edit::variation_at(offset) {
                Some(index) if index < variations.len() => vec![variations[index].clone()],
                _ => variations.to_vec(),
            };
            VariationProblem { variations, message }
        })
        .collect();
    VariationError::Invalid { problems }
}
