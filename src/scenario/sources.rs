//! Sources: where their messages go, and how they arrive (open, at a constant or scheduled rate,
//! or closed).

use std::collections::HashMap;
use std::sync::Arc;

use toml::Spanned;

use super::classes::source_classes;
use super::distributions::{accepted_fields, distribution};
use super::exchanges::{source_keys, source_priorities};
use super::names::unknown_node;
use super::problems::Problems;
use super::raw::{RawDistribution, RawRatePoint, RawSource};
use super::schedules::{ScheduleField, schedule, shape, without_schedule};
use super::settings::bounded_integer;
use super::traces::{RecordedHeaders, stand_in};
use super::units::{Seconds, show_duration};
use crate::model::{Arrivals, Distribution, Pattern, Replay, Source, Target};

/// The observed window of each replication, `(warmup, warmup + duration)` in seconds: a
/// schedule's mean rate over it is the source's rate in the steady-state analysis.
pub(super) type Window = (f64, f64);

pub(super) fn convert_source(
    raw: &Spanned<RawSource>,
    names: &HashMap<String, Target>,
    keys: &[String],
    classes: &[String],
    window: Option<Window>,
    replay: Option<Arc<Replay>>,
    problems: &mut Problems,
) -> Option<Source> {
    let source = raw.get_ref();
    let context = format!("source '{}'", source.name.get_ref());
    let target = match names.get(source.to.get_ref()) {
        Some(&target) => Some(target),
        None => {
            problems.at(source.to.span(), unknown_node(&context, "to", source.to.get_ref(), names));
            None
        }
    };
    let arrivals = match (&source.arrivals, &replay) {
        (Some(field), replay) => replayed(source, field.span(), replay.clone(), &context, problems),
        (None, _) => arrivals(raw, &context, window, problems),
    };
    let recorded = replay.as_deref().map(RecordedHeaders::of);
    let recorded = recorded.as_ref();
    if let Some(recorded) = recorded {
        refuse_recorded_fields(source, recorded, &context, problems);
    }
    let key_choice = match recorded.and_then(|recorded| recorded.keys.clone()) {
        Some(recorded) => Some(Some(recorded)),
        None => source_keys(source.keys.as_ref(), keys, &context, problems),
    };
    let priorities = match recorded.and_then(|recorded| recorded.priorities.clone()) {
        Some(recorded) => Some(Some(recorded)),
        None => source_priorities(source.priority.as_ref(), &context, problems),
    };
    let message_classes = match recorded.and_then(|recorded| recorded.classes.clone()) {
        Some(recorded) => Some(recorded),
        None => source_classes(source.class.as_ref(), classes, &context, problems),
    };
    let size = match (&source.size, recorded.and_then(|recorded| recorded.size.clone())) {
        (_, Some(recorded)) => Some(Some(recorded)),
        (None, None) => Some(None),
        (Some(raw), None) => {
            distribution(raw, &format!("{context} field 'size' (bytes)"), problems).map(Some)
        }
    };
    Some(Source {
        name: source.name.get_ref().clone(),
        target: target?,
        arrivals: arrivals?,
        keys: key_choice?,
        priorities: priorities?,
        size: size?,
        message_classes: message_classes?,
    })
}

/// A header the trace records cannot also be drawn: records a problem for each field that
/// would be.
fn refuse_recorded_fields(
    source: &RawSource,
    recorded: &RecordedHeaders,
    context: &str,
    problems: &mut Problems,
) {
    let spans = [
        ("keys", "key", recorded.keys.is_some(), source.keys.as_ref().map(Spanned::span)),
        ("priority", "priority", recorded.priorities.is_some(), source.priority.as_ref().map(Spanned::span)),
        ("class", "class", recorded.classes.is_some(), source.class.as_ref().map(Spanned::span)),
        ("size", "size", recorded.size.is_some(), source.size.as_ref().map(Spanned::span)),
    ];
    for (field, column, in_trace, span) in spans {
        if let (true, Some(span)) = (in_trace, span) {
            let message = format!(
                "{context} field '{field}': the trace records each message's '{column}', so the source cannot draw it too: remove '{field}' or the trace's column"
            );
            problems.at(span, message);
        }
    }
}

/// An open source replaying a trace (`None` when the trace could not be read: already reported).
/// Nothing else may say how its messages arrive.
fn replayed(
    source: &RawSource,
    span: std::ops::Range<usize>,
    replay: Option<Arc<Replay>>,
    context: &str,
    problems: &mut Problems,
) -> Option<Arrivals> {
    let others = [
        ("interarrival", source.interarrival.is_some()),
        ("schedule", source.schedule.is_some()),
        ("population", source.population.is_some()),
        ("think", source.think.is_some()),
    ];
    let clashing: Vec<&str> = others.iter().filter(|(_, given)| *given).map(|(name, _)| *name).collect();
    if !clashing.is_empty() {
        let message = format!(
            "{context} field 'arrivals': a replayed trace gives the arrival times, so '{}' cannot be given too",
            clashing.join("', '")
        );
        problems.at(span, message);
        return None;
    }
    let replay = replay?;
    Some(Arrivals::Open { interarrival: stand_in(&replay), pattern: Pattern::Trace(replay) })
}

/// Open (`interarrival`, or a `schedule`) or closed (`population` and `think`) arrivals, exactly
/// one of them.
fn arrivals(
    raw: &Spanned<RawSource>,
    context: &str,
    window: Option<Window>,
    problems: &mut Problems,
) -> Option<Arrivals> {
    let source = raw.get_ref();
    if let Some(list) = &source.schedule {
        return scheduled(source, list, context, window, problems);
    }
    without_schedule(source.shape.as_ref(), context, "shape", "schedule", problems);
    without_schedule(source.repeat.as_ref(), context, "repeat", "schedule", problems);
    match (&source.interarrival, &source.population, &source.think) {
        (Some(interarrival), None, None) => {
            let interarrival =
                distribution(interarrival, &format!("{context} field 'interarrival'"), problems)?;
            Some(Arrivals::Open { interarrival, pattern: Pattern::Renewal })
        }
        (None, Some(population), Some(think)) => {
            let what = format!("{context} field 'population'");
            let population = bounded_integer(Some(population), &what, 1, 10_000_000, problems);
            let think = distribution(think, &format!("{context} field 'think'"), problems)?;
            Some(Arrivals::Closed { population: u32::try_from(population?).ok()?, think })
        }
        _ => {
            let message = format!(
                "{context}: give either 'interarrival' or a 'schedule' (an open source), or both 'population' and 'think' (request-reply clients)"
            );
            problems.at(raw.span(), message);
            None
        }
    }
}

/// An open source whose rate follows a schedule. Its gaps have the shape of `interarrival`
/// (exponential when absent) and the mean of the schedule's mean rate over the observed window.
fn scheduled(
    source: &RawSource,
    list: &Spanned<Vec<Spanned<RawRatePoint>>>,
    context: &str,
    window: Option<Window>,
    problems: &mut Problems,
) -> Option<Arrivals> {
    if source.population.is_some() || source.think.is_some() {
        let message = format!(
            "{context} field 'schedule': a schedule sets the rate of an open source, and request-reply clients ('population' and 'think') have no rate of their own: remove one or the other"
        );
        problems.at(list.span(), message);
        return None;
    }
    let shape = shape(source.shape.as_ref(), context, problems);
    let field = ScheduleField { context, name: "schedule", check: rate_problem };
    let schedule = schedule(&field, list, shape.unwrap_or_default(), source.repeat.as_ref(), problems);
    let gaps = match &source.interarrival {
        None => Distribution::exponential(1.0).ok(),
        Some(raw) => distribution(&mean_filled(raw), &format!("{context} field 'interarrival'"), problems),
    };
    let (_, schedule, gaps, (from, to)) = (shape?, schedule?, gaps?, window?);
    let rate = schedule.mean_over(from, to);
    let interarrival = if rate > 0.0 {
        gaps.with_mean(1.0 / rate).map_err(|error| error.to_string())
    } else {
        Err(format!(
            "the schedule's rate is 0 over the whole observed window, from {} to {}, so the source sends nothing to observe",
            show_duration(from),
            show_duration(to)
        ))
    };
    match interarrival {
        Ok(interarrival) => Some(Arrivals::Open { interarrival, pattern: Pattern::Scheduled(schedule) }),
        Err(message) => {
            problems.at(list.span(), format!("{context} field 'schedule': {message}"));
            None
        }
    }
}

/// Why a scheduled rate is refused, or `None`.
fn rate_problem(rate: f64) -> Option<String> {
    (!(rate.is_finite() && rate >= 0.0))
        .then(|| format!("'rate' must be a number of messages per second >= 0, got {rate}"))
}

/// An inter-arrival table beside a schedule, which sets its mean: when it gives none (only a
/// shape such as `{ dist = "gamma", cv = 2 }`), a mean of 1s stands in.
fn mean_filled(raw: &Spanned<RawDistribution>) -> Spanned<RawDistribution> {
    let mut dist = raw.get_ref().clone();
    let takes_mean = accepted_fields(dist.dist.get_ref()).is_some_and(|fields| fields.contains(&"mean"));
    if takes_mean && dist.rate.is_none() && dist.mean.is_none() && dist.value.is_none() {
        dist.mean = Some(Seconds(1.0));
    }
    Spanned::new(raw.span(), dist)
}
