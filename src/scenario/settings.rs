//! The scenario's name and its `[simulation]` table: how each replication is run.

use toml::Spanned;

use super::limits::{MAX_HORIZON_S, MAX_REPLICATIONS};
use super::problems::Problems;
use super::raw::RawSimulation;
use super::units::{Seconds, Warmup, show_duration};
use crate::model::Settings;

/// Run settings given outside the file (on the command line), which take precedence over the
/// file's `[simulation]` table. A default warm-up follows an overridden duration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Observed simulated time per replication, seconds (positive).
    pub duration_s: Option<f64>,
    /// Warm-up per replication, seconds.
    pub warmup_s: Option<f64>,
    /// Each replication chooses its warm-up by MSER-5 (unless `warmup_s` is given).
    pub auto_warmup: bool,
    /// Number of replications (at least 1).
    pub replications: Option<u32>,
    /// Master seed.
    pub seed: Option<u64>,
    /// The most messages in flight the memory available allows each replication running at
    /// once (see [`memory_ceiling`](super::memory_ceiling)): a lower `max_in_system` is kept,
    /// a higher one is lowered to it, so that an overloaded replication stops cleanly.
    pub memory_max_in_system: Option<u32>,
}

/// Defaults of the `[simulation]` table.
const DEFAULT_DURATION_S: f64 = 10_000.0;
const DEFAULT_REPLICATIONS: u32 = 10;
const DEFAULT_SEED: u64 = 1;
/// Most intervals a time series may have: its memory and output grow with their number.
const MAX_INTERVALS: f64 = 1_000_000.0;

/// Whether a character may appear in a directory name on every common file system: letters and
/// digits of any script, and punctuation other than path separators, control characters and
/// the characters Windows reserves.
fn is_safe_char(c: char) -> bool {
    !c.is_control() && !matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*')
}

/// Whether a name is safe as a directory name: safe characters, not empty, not starting with
/// '.' and not ending with a space or '.' (which Windows drops).
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.ends_with([' ', '.'])
        && name.chars().all(is_safe_char)
}

/// The scenario's name, which names its output directory: the file's `name`, else the file stem
/// with the characters a file system rejects replaced by '-' (readable names, in any script, stay
/// as they are).
pub(super) fn scenario_name(
    name: Option<&Spanned<String>>,
    default_name: &str,
    problems: &mut Problems,
) -> String {
    match name {
        Some(name) if is_safe_name(name.get_ref()) => name.get_ref().clone(),
        Some(name) => {
            let message = format!(
                "field 'name': '{}' cannot name an output directory; use no / \\ < > : \" | ? * or control characters, and do not start with '.' or end with a space or '.'",
                name.get_ref().escape_debug()
            );
            problems.at(name.span(), message);
            String::new()
        }
        None => {
            let cleaned: String =
                default_name.chars().map(|c| if is_safe_char(c) { c } else { '-' }).collect();
            let cleaned = cleaned.trim_end_matches([' ', '.']);
            if is_safe_name(cleaned) { cleaned.to_owned() } else { format!("scenario{cleaned}") }
        }
    }
}

pub(super) fn settings(
    raw: Option<&Spanned<RawSimulation>>,
    overrides: &Overrides,
    problems: &mut Problems,
) -> Option<Settings> {
    let default = RawSimulation::default();
    let sim = raw.map_or(&default, Spanned::get_ref);
    let before = problems.len();
    let file_duration = sim.duration.as_ref().map_or(DEFAULT_DURATION_S, |d| d.get_ref().0);
    if let Some(duration) = &sim.duration
        && file_duration <= 0.0
        && overrides.duration_s.is_none()
    {
        problems.at(
            duration.span(),
            format!("[simulation] field 'duration' must be positive, got {file_duration}s"),
        );
    }
    let duration_s = overrides.duration_s.unwrap_or(file_duration);
    let file_warmup = sim.warmup.as_ref().map(|w| *w.get_ref());
    let warmup = match overrides.warmup_s {
        Some(seconds) => Some(Warmup::Fixed(Seconds(seconds))),
        None if overrides.auto_warmup => Some(Warmup::Auto),
        None => file_warmup,
    };
    let (warmup_s, auto_warmup) = match warmup {
        Some(Warmup::Auto) => (0.0, true),
        Some(Warmup::Fixed(Seconds(seconds))) => (seconds, false),
        None => (duration_s / 10.0, false),
    };
    check_horizon(sim, overrides, warmup_s + duration_s, problems);
    let replications = bounded_integer(
        sim.replications.as_ref(),
        "[simulation] field 'replications'",
        1,
        MAX_REPLICATIONS.into(),
        problems,
    )
    .map_or(DEFAULT_REPLICATIONS, |r| u32::try_from(r).unwrap_or(u32::MAX));
    let seed = bounded_integer(sim.seed.as_ref(), "[simulation] field 'seed'", 0, i64::MAX, problems)
        .map_or(DEFAULT_SEED, |s| u64::try_from(s).unwrap_or_default());
    let max_in_system = bounded_integer(
        sim.max_in_system.as_ref(),
        "[simulation] field 'max_in_system'",
        1,
        u32::MAX.into(),
        problems,
    )
    .map_or(Settings::DEFAULT_MAX_IN_SYSTEM, |m| u32::try_from(m).unwrap_or(u32::MAX))
    .min(overrides.memory_max_in_system.unwrap_or(u32::MAX));
    // An automatic warm-up is at most half the duration (MSER-5 truncates at most half its pilot).
    let horizon_s = if auto_warmup { 1.5 * duration_s } else { warmup_s + duration_s };
    let sample_every = sample_every(sim.sample_every.as_ref(), horizon_s, problems);
    (problems.len() == before).then_some(Settings {
        duration_s,
        warmup_s,
        auto_warmup,
        replications: overrides.replications.unwrap_or(replications),
        seed: overrides.seed.unwrap_or(seed),
        max_in_system,
        sample_every,
    })
}

/// Records a problem when a replication's simulated time (warm-up and duration) exceeds
/// [`MAX_HORIZON_S`], at the file's duration or warm-up when it gives them.
fn check_horizon(sim: &RawSimulation, overrides: &Overrides, horizon_s: f64, problems: &mut Problems) {
    if horizon_s <= MAX_HORIZON_S {
        return;
    }
    let duration = sim.duration.as_ref().filter(|_| overrides.duration_s.is_none());
    let warmup = sim.warmup.as_ref().filter(|_| overrides.warmup_s.is_none());
    let warmup_s = |warmup: &Spanned<Warmup>| match warmup.get_ref() {
        Warmup::Fixed(Seconds(seconds)) => *seconds,
        Warmup::Auto => 0.0,
    };
    let (span, field) = match (duration, warmup) {
        (Some(duration), Some(warmup)) if warmup_s(warmup) > duration.get_ref().0 => {
            (warmup.span(), "warmup")
        }
        (Some(duration), _) => (duration.span(), "duration"),
        (None, Some(warmup)) => (warmup.span(), "warmup"),
        (None, None) => (0..0, "duration"),
    };
    problems.at(
        span,
        format!(
            "[simulation] field '{field}': a replication of {horizon_s:e}s (warm-up and duration) is longer than kendall's limit of {MAX_HORIZON_S:e}s (about 31 700 years), beyond which the simulated clock loses its resolution"
        ),
    );
}

/// The length of a time series' intervals: positive, and at most [`MAX_INTERVALS`] of them over
/// a replication's `horizon_s` (warm-up included).
fn sample_every(field: Option<&Spanned<Seconds>>, horizon_s: f64, problems: &mut Problems) -> Option<f64> {
    let field = field?;
    let every = field.get_ref().0;
    let intervals = (horizon_s / every).ceil();
    let problem = if every <= 0.0 {
        format!("[simulation] field 'sample_every' must be positive, got {}", show_duration(every))
    } else if intervals > MAX_INTERVALS {
        format!(
            "[simulation] field 'sample_every' {} cuts each replication's {} (warm-up included) into {intervals} intervals, more than {MAX_INTERVALS}: choose a longer interval",
            show_duration(every),
            show_duration(horizon_s)
        )
    } else {
        return Some(every);
    };
    problems.at(field.span(), problem);
    None
}

/// An optional integer field that must lie in `[low, high]`; records a problem otherwise.
pub(super) fn bounded_integer(
    field: Option<&Spanned<i64>>,
    what: &str,
    low: i64,
    high: i64,
    problems: &mut Problems,
) -> Option<i64> {
    let field = field?;
    let value = *field.get_ref();
    if (low..=high).contains(&value) {
        Some(value)
    } else {
        problems.at(field.span(), format!("{what} must be between {low} and {high}, got {value}"));
        None
    }
}
