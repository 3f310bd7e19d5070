//! Replayed traffic in a scenario file: `arrivals = { trace = "traces/orders.csv", replay =
//! "offset" }`. The trace is read relative to the scenario file's directory before anything
//! runs, and its keys, priorities and classes join the scenario's own.

use std::path::Path;
use std::sync::Arc;

use toml::Spanned;

use super::problems::Problems;
use super::raw::{RawSource, RawTraceArrivals};
use crate::model::{
    Choice, Distribution, KeyChoice, KeyId, MessageClassId, Replay, ReplayMode, TraceHeaders,
};
use crate::trace::Trace;

/// A source's trace, read, with how replications replay it.
#[derive(Debug)]
pub(super) struct SourceTrace {
    trace: Trace,
    mode: ReplayMode,
}

/// Reads the trace of every source that replays one (`None` for the others, and for a trace that
/// cannot be read or a bad `replay`, which are recorded as problems).
pub(super) fn read_traces(
    sources: &[Spanned<RawSource>],
    base: &Path,
    problems: &mut Problems,
) -> Vec<Option<SourceTrace>> {
    sources
        .iter()
        .map(|source| {
            let source = source.get_ref();
            let arrivals = source.arrivals.as_ref()?;
            let context = format!("source '{}' field 'arrivals'", source.name.get_ref());
            read_trace(arrivals, base, &context, problems)
        })
        .collect()
}

fn read_trace(
    arrivals: &Spanned<RawTraceArrivals>,
    base: &Path,
    context: &str,
    problems: &mut Problems,
) -> Option<SourceTrace> {
    let raw = arrivals.get_ref();
    let mode = match raw.replay.as_ref() {
        None => Some(ReplayMode::Exact),
        Some(mode) => match mode.get_ref().as_str() {
            "exact" => Some(ReplayMode::Exact),
            "offset" => Some(ReplayMode::Offset),
            "bootstrap" => Some(ReplayMode::Bootstrap),
            other => {
                let message = format!(
                    "{context}: 'replay' must be \"exact\" (the trace as recorded), \"offset\" (repeated, a random start per replication) or \"bootstrap\" (gaps drawn with replacement), got \"{other}\""
                );
                problems.at(mode.span(), message);
                None
            }
        },
    };
    let path = base.join(raw.trace.get_ref());
    let trace = match Trace::read(&path) {
        Ok(trace) if trace.times().last() > trace.times().first() => Some(trace),
        Ok(_) => {
            let message = format!(
                "{context}: every message of {} has the same time: a trace must span some time",
                path.display()
            );
            problems.at(raw.trace.span(), message);
            None
        }
        Err(error) => {
            problems.at(raw.trace.span(), format!("{context}: {error}"));
            None
        }
    };
    Some(SourceTrace { trace: trace?, mode: mode? })
}

/// `names` (sorted) with `more` added, sorted and without duplicates.
pub(super) fn with_names<'a>(names: Vec<String>, more: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut all: std::collections::BTreeSet<String> = names.into_iter().collect();
    all.extend(more.cloned());
    all.into_iter().collect()
}

/// The routing keys the traces carry.
pub(super) fn trace_keys(traces: &[Option<SourceTrace>]) -> impl Iterator<Item = &String> {
    traces.iter().flatten().filter_map(|trace| trace.trace.keys()).flatten()
}

/// The message class names the traces carry.
pub(super) fn trace_classes(traces: &[Option<SourceTrace>]) -> impl Iterator<Item = &String> {
    traces.iter().flatten().filter_map(|trace| trace.trace.classes()).flatten()
}

impl SourceTrace {
    /// The replay of the trace, its keys and classes as the network's ids (`keys` and `classes`
    /// hold every name the trace has, sorted).
    pub(super) fn replay(&self, keys: &[String], classes: &[String]) -> Arc<Replay> {
        let index = |names: &[String], name: &String| {
            names.binary_search(name).expect("every trace name was interned")
        };
        let headers = TraceHeaders {
            keys: self.trace.keys().map(|names| {
                names.iter().map(|name| KeyId(u32::try_from(index(keys, name)).unwrap_or(u32::MAX))).collect()
            }),
            priorities: self.trace.priorities().map(<[u8]>::to_vec),
            sizes: self.trace.sizes().map(<[f64]>::to_vec),
            classes: self.trace.classes().map(|names| {
                names
                    .iter()
                    .map(|name| MessageClassId(u16::try_from(index(classes, name)).unwrap_or(u16::MAX)))
                    .collect()
            }),
        };
        Arc::new(Replay::new(self.trace.times().to_vec(), headers, self.mode))
    }
}

/// A distribution with the mean and coefficient of variation of a trace's gaps: what the
/// steady-state analysis takes for the replayed arrivals.
pub(super) fn stand_in(replay: &Replay) -> Distribution {
    let gaps: Vec<f64> = replay.gaps().collect();
    let (mean, cv) = mean_cv(gaps.iter().copied());
    let fitted = if cv > 1e-9 { Distribution::gamma(mean, cv) } else { Distribution::deterministic(mean) };
    fitted.or_else(|_| Distribution::exponential(mean)).expect("a trace's mean gap is positive")
}

/// How often each value occurs, as a choice in first-seen order (what the steady-state analysis
/// takes for a header the trace records).
fn frequencies<T: Copy + PartialEq>(values: &[T]) -> Choice<T> {
    let mut counts: Vec<(T, f64)> = Vec::new();
    for &value in values {
        match counts.iter_mut().find(|(seen, _)| *seen == value) {
            Some((_, count)) => *count += 1.0,
            None => counts.push((value, 1.0)),
        }
    }
    let total = values.len() as f64;
    Choice::new(counts.into_iter().map(|(value, count)| (value, count / total)).collect())
}

/// The headers a trace records, as the distributions the steady-state analysis takes for them:
/// each key, priority and class with its frequency in the trace, and a stand-in for the sizes.
#[derive(Debug)]
pub(super) struct RecordedHeaders {
    /// The keys' frequencies.
    pub keys: Option<KeyChoice>,
    /// The priorities' frequencies.
    pub priorities: Option<Choice<u8>>,
    /// The classes' frequencies.
    pub classes: Option<Choice<MessageClassId>>,
    /// The sizes' mean and coefficient of variation, bytes.
    pub size: Option<Distribution>,
}

impl RecordedHeaders {
    /// What `replay` records.
    pub(super) fn of(replay: &Replay) -> Self {
        let headers = replay.headers();
        Self {
            keys: headers.keys.as_deref().map(frequencies),
            priorities: headers.priorities.as_deref().map(frequencies),
            classes: headers.classes.as_deref().map(frequencies),
            size: headers.sizes.as_deref().and_then(size_stand_in),
        }
    }
}

/// A distribution with the sizes' mean and cv; `None` when every size is 0.
fn size_stand_in(sizes: &[f64]) -> Option<Distribution> {
    let (mean, cv) = mean_cv(sizes.iter().copied());
    if mean <= 0.0 {
        return None;
    }
    if cv > 1e-9 { Distribution::gamma(mean, cv) } else { Distribution::deterministic(mean) }.ok()
}

/// The mean and the coefficient of variation (sample standard deviation over the mean).
fn mean_cv(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let count = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / count;
    let variance = values.map(|value| (value - mean).powi(2)).sum::<f64>() / (count - 1.0).max(1.0);
    (mean, if mean > 0.0 { variance.sqrt() / mean } else { 0.0 })
}
