//! Sources: where their messages go, and how they arrive (open or closed).

use std::collections::HashMap;

use toml::Spanned;

use super::classes::source_classes;
use super::distributions::distribution;
use super::exchanges::{source_keys, source_priorities};
use super::names::unknown_node;
use super::problems::Problems;
use super::raw::RawSource;
use super::settings::bounded_integer;
use crate::model::{Arrivals, Pattern, Source, Target};

pub(super) fn convert_source(
    raw: &Spanned<RawSource>,
    names: &HashMap<String, Target>,
    keys: &[String],
    classes: &[String],
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
    let arrivals = arrivals(raw, &context, problems);
    let key_choice = source_keys(source.keys.as_ref(), keys, &context, problems);
    let priorities = source_priorities(source.priority.as_ref(), &context, problems);
    let message_classes = source_classes(source.class.as_ref(), classes, &context, problems);
    let size = match &source.size {
        None => Some(None),
        Some(raw) => distribution(raw, &format!("{context} field 'size' (bytes)"), problems).map(Some),
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

/// Open (`interarrival`) or closed (`population` and `think`) arrivals, exactly one of them.
fn arrivals(raw: &Spanned<RawSource>, context: &str, problems: &mut Problems) -> Option<Arrivals> {
    let source = raw.get_ref();
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
                "{context}: give either 'interarrival' (an open source) or both 'population' and 'think' (request-reply clients)"
            );
            problems.at(raw.span(), message);
            None
        }
    }
}
