//! Validation of exchanges, their bindings, and the routing keys sources draw.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use toml::Spanned;

use super::names::unknown_node;
use super::problems::Problems;
use super::raw::{RawExchange, RawSource};
use crate::model::matching::validate_topic_pattern;
use crate::model::{Binding, Choice, Exchange, ExchangeKind, KeyChoice, KeyId, Target, Unroutable};

/// Tolerance on the sum of probabilities: a source's keys, priorities and classes, a node's routes.
pub(super) const PROBABILITY_TOLERANCE: f64 = 1e-9;

/// Every routing key any source draws, sorted: position = [`KeyId`].
pub(super) fn intern_keys(sources: &[Spanned<RawSource>]) -> Vec<String> {
    let keys: BTreeSet<&String> =
        sources.iter().filter_map(|s| s.get_ref().keys.as_ref()).flat_map(|k| k.get_ref().keys()).collect();
    keys.into_iter().cloned().collect()
}

/// A source's key distribution; records a problem when probabilities are not positive or do not
/// sum to 1.
pub(super) fn source_keys(
    field: Option<&Spanned<BTreeMap<String, f64>>>,
    keys: &[String],
    context: &str,
    problems: &mut Problems,
) -> Option<Option<KeyChoice>> {
    let Some(field) = field else { return Some(None) };
    let table = field.get_ref();
    let bad: Vec<String> = table
        .iter()
        .filter(|(_, p)| !(**p > 0.0 && **p <= 1.0))
        .map(|(k, p)| format!("'{k}' = {p}"))
        .collect();
    let total: f64 = table.values().sum();
    if table.is_empty() || !bad.is_empty() || (total - 1.0).abs() > PROBABILITY_TOLERANCE {
        let message = format!(
            "{context} field 'keys': each key needs a probability in (0, 1] and they must sum to 1, got {} key(s) summing to {total}{}",
            table.len(),
            if bad.is_empty() { String::new() } else { format!(" (invalid: {})", bad.join(", ")) }
        );
        problems.at(field.span(), message);
        return None;
    }
    let weighted = table
        .iter()
        .map(|(key, &p)| {
            let index = keys.binary_search(key).expect("every source key was interned");
            (KeyId(u32::try_from(index).unwrap_or(u32::MAX)), p)
        })
        .collect();
    Some(Some(KeyChoice::new(weighted)))
}

/// A source's message priorities: `priority = 5`, or a table of priorities and probabilities
/// such as `priority = { "9" = 0.1, "0" = 0.9 }`. Priorities are integers 0..=255, higher more
/// urgent.
pub(super) fn source_priorities(
    field: Option<&Spanned<toml::Value>>,
    context: &str,
    problems: &mut Problems,
) -> Option<Option<Choice<u8>>> {
    let Some(field) = field else { return Some(None) };
    let level = |value: i64| u8::try_from(value).ok();
    let weighted: Option<Vec<(u8, f64)>> = match field.get_ref() {
        toml::Value::Integer(value) => level(*value).map(|p| vec![(p, 1.0)]),
        toml::Value::Table(table) => {
            table.iter().map(|(key, value)| Some((level(key.parse().ok()?)?, probability(value)?))).collect()
        }
        _ => None,
    };
    match weighted.and_then(valid_choice) {
        Some(choice) => Some(Some(choice)),
        None => {
            let message = format!(
                "{context} field 'priority': expected an integer 0..=255 or a table of priorities and probabilities summing to 1, such as {{ \"9\" = 0.1, \"0\" = 0.9 }}"
            );
            problems.at(field.span(), message);
            None
        }
    }
}

/// A number given as a probability (a float, or an integer such as 1).
pub(super) fn probability(value: &toml::Value) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // only 0 and 1 are valid integers
    value.as_float().or_else(|| value.as_integer().map(|i| i as f64))
}

/// The values with their probabilities, if there is at least one, each is in (0, 1], and they
/// sum to 1 within [`PROBABILITY_TOLERANCE`].
pub(super) fn valid_choice<T: Copy>(weighted: Vec<(T, f64)>) -> Option<Choice<T>> {
    let total: f64 = weighted.iter().map(|(_, p)| p).sum();
    let valid = !weighted.is_empty()
        && weighted.iter().all(|&(_, p)| p > 0.0 && p <= 1.0)
        && (total - 1.0).abs() <= PROBABILITY_TOLERANCE;
    valid.then(|| Choice::new(weighted))
}

fn exchange_kind(field: &Spanned<String>, context: &str, problems: &mut Problems) -> Option<ExchangeKind> {
    let kind = match field.get_ref().as_str() {
        "direct" => ExchangeKind::Direct,
        "fanout" => ExchangeKind::Fanout,
        "topic" => ExchangeKind::Topic,
        "prefix" => ExchangeKind::Prefix,
        "key-hash" => ExchangeKind::KeyHash,
        "round-robin" => ExchangeKind::RoundRobin,
        "random" => ExchangeKind::Random,
        "shortest-queue" => ExchangeKind::ShortestQueue,
        "power-of-two" => ExchangeKind::PowerOfTwo,
        "least-loaded" => ExchangeKind::LeastLoaded,
        "fork" => ExchangeKind::Fork,
        other => {
            let message = format!(
                "{context} field 'type': unknown exchange type '{other}', expected one of direct, fanout, topic, prefix, key-hash, round-robin, random, shortest-queue, power-of-two, least-loaded, fork"
            );
            problems.at(field.span(), message);
            return None;
        }
    };
    Some(kind)
}

/// Converts one `[[exchange]]`, checking that each binding has a key exactly when its type needs
/// one, and that every target exists.
pub(super) fn convert_exchange(
    raw: &Spanned<RawExchange>,
    names: &HashMap<String, Target>,
    keys: &[String],
    problems: &mut Problems,
) -> Option<Exchange> {
    let exchange = raw.get_ref();
    let context = format!("exchange '{}'", exchange.name.get_ref());
    let kind = exchange_kind(&exchange.kind, &context, problems);
    let before = problems.len();
    let mut bindings = Vec::with_capacity(exchange.bindings.len());
    for raw_binding in &exchange.bindings {
        let binding = raw_binding.get_ref();
        let Some(&target) = names.get(binding.to.get_ref()) else {
            problems
                .at(binding.to.span(), unknown_node(&context, "bindings.to", binding.to.get_ref(), names));
            continue;
        };
        let kind = kind?;
        if kind.is_state_dependent() && !matches!(target, Target::Node(_)) {
            let message = format!(
                "{context} field 'bindings.to': a {} exchange compares queue lengths, so '{}' must be a node",
                kind.name(),
                binding.to.get_ref()
            );
            problems.at(binding.to.span(), message);
        }
        let pattern = binding_key(binding.key.as_ref(), kind, raw_binding.span(), &context, problems);
        bindings.push(Binding { pattern: pattern.unwrap_or_default(), target });
    }
    if exchange.bindings.is_empty() {
        problems
            .at(raw.span(), format!("{context} field 'bindings': an exchange needs at least one binding"));
    }
    let unroutable = match &exchange.unroutable {
        None => Unroutable::Drop,
        Some(field) if field.get_ref() == "drop" => Unroutable::Drop,
        Some(field) => match names.get(field.get_ref()) {
            Some(&target) => Unroutable::To(target),
            None => {
                let message = unknown_node(&context, "unroutable", field.get_ref(), names);
                problems.at(field.span(), format!("{message}; or \"drop\""));
                return None;
            }
        },
    };
    let kind = kind?;
    let parts = match (&exchange.parts, kind) {
        (None, _) => 1,
        (Some(field), ExchangeKind::Fork) if (1..=10_000).contains(field.get_ref()) => {
            u32::try_from(*field.get_ref()).unwrap_or(1)
        }
        (Some(field), _) => {
            let message = format!(
                "{context} field 'parts' must be between 1 and 10000, and only a fork exchange takes it, got {}",
                field.get_ref()
            );
            problems.at(field.span(), message);
            return None;
        }
    };
    let name = exchange.name.get_ref().clone();
    (problems.len() == before).then(|| match kind {
        ExchangeKind::Fork => Exchange::fork(name, bindings, parts, keys),
        _ => Exchange::new(name, kind, bindings, unroutable, keys),
    })
}

/// A binding's key, checked against what the exchange type expects.
fn binding_key(
    key: Option<&Spanned<String>>,
    kind: ExchangeKind,
    binding_span: std::ops::Range<usize>,
    context: &str,
    problems: &mut Problems,
) -> Option<String> {
    let needs_key = matches!(kind, ExchangeKind::Direct | ExchangeKind::Topic | ExchangeKind::Prefix);
    match (key, needs_key) {
        (Some(key), true) => {
            if kind == ExchangeKind::Topic
                && let Err(message) = validate_topic_pattern(key.get_ref())
            {
                problems.at(key.span(), format!("{context} field 'bindings.key': {message}"));
            }
            Some(key.get_ref().clone())
        }
        (None, true) => {
            let message = format!("{context} field 'bindings': a {} binding needs a key", kind.name());
            problems.at(binding_span, message);
            None
        }
        (Some(key), false) => {
            let message = format!(
                "{context} field 'bindings.key': a {} exchange ignores binding keys; remove it",
                kind.name()
            );
            problems.at(key.span(), message);
            None
        }
        (None, false) => None,
    }
}
