//! Validation of message classes: the class each source gives its messages, and the service
//! time a node takes for the messages of a class.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::distributions::distribution;
use super::exchanges::{probability, valid_choice};
use super::problems::Problems;
use super::raw::{RawDistribution, RawNode, RawSource};
use crate::model::{Choice, DEFAULT_CLASS, Distribution, MessageClassId};

/// Every class any source names, sorted (with [`DEFAULT_CLASS`] when some source names none):
/// position = [`MessageClassId`].
pub(super) fn intern_classes(sources: &[Spanned<RawSource>]) -> Vec<String> {
    let mut classes = BTreeSet::new();
    for source in sources {
        match source.get_ref().class.as_ref().map(Spanned::get_ref) {
            None => {
                classes.insert(DEFAULT_CLASS.to_owned());
            }
            Some(toml::Value::String(name)) => {
                classes.insert(name.clone());
            }
            Some(toml::Value::Table(table)) => classes.extend(table.keys().cloned()),
            Some(_) => {} // reported by `source_classes`
        }
    }
    classes.into_iter().collect()
}

/// The id of a class among the interned `classes`.
fn class_id(classes: &[String], name: &str) -> Option<MessageClassId> {
    let index = classes.binary_search_by(|class| class.as_str().cmp(name)).ok()?;
    u16::try_from(index).ok().map(MessageClassId)
}

/// A source's class distribution: `class = "orders"`, or a table of classes and probabilities
/// such as `class = { orders = 0.7, refunds = 0.3 }`; without the field, [`DEFAULT_CLASS`].
pub(super) fn source_classes(
    field: Option<&Spanned<toml::Value>>,
    classes: &[String],
    context: &str,
    problems: &mut Problems,
) -> Option<Choice<MessageClassId>> {
    let single = |name: &str| class_id(classes, name).map(|id| Choice::new(vec![(id, 1.0)]));
    let Some(field) = field else { return single(DEFAULT_CLASS) };
    let weighted: Option<Vec<(MessageClassId, f64)>> = match field.get_ref() {
        toml::Value::String(name) if !name.is_empty() => Some(vec![(class_id(classes, name)?, 1.0)]),
        toml::Value::Table(table) => {
            table.iter().map(|(name, value)| Some((class_id(classes, name)?, probability(value)?))).collect()
        }
        _ => None,
    };
    match weighted.and_then(valid_choice) {
        Some(choice) => Some(choice),
        None => {
            let message = format!(
                "{context} field 'class': expected a class name or a table of class names and probabilities summing to 1, such as {{ orders = 0.7, refunds = 0.3 }}"
            );
            problems.at(field.span(), message);
            None
        }
    }
}

/// A node's `service_by_class`: the service time of the messages of each class listed, indexed
/// by [`MessageClassId`] (`None` for the classes that take the node's `service`).
pub(super) fn class_service(
    node: &RawNode,
    classes: &[String],
    context: &str,
    problems: &mut Problems,
) -> Option<Vec<Option<Distribution>>> {
    let Some(field) = &node.service_by_class else { return Some(Vec::new()) };
    let table: &BTreeMap<String, Spanned<RawDistribution>> = field.get_ref();
    let mut services = vec![None; classes.len()];
    let mut valid = true;
    for (name, raw) in table {
        let what = format!("{context} field 'service_by_class' class '{name}'");
        let service = distribution(raw, &what, problems);
        match (class_id(classes, name), service) {
            (Some(id), Some(service)) => services[id.index()] = Some(service),
            (Some(_), None) => valid = false, // reported by `distribution`
            (None, _) => {
                let message = format!(
                    "{context} field 'service_by_class': unknown class '{name}' (the sources' classes: {})",
                    classes.join(", ")
                );
                problems.at(raw.span(), message);
                valid = false;
            }
        }
    }
    valid.then_some(services)
}
