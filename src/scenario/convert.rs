//! From what the file says to the validated model, collecting every problem (not only the first),
//! each at the place in the text it refers to.

use std::collections::HashMap;

use toml::Spanned;

use super::Overrides;
use super::classes::intern_classes;
use super::exchanges::{convert_exchange, intern_keys};
use super::nodes::convert_node;
use super::problems::Problems;
use super::raw::RawScenario;
use super::settings::{scenario_name, settings};
use super::sources::convert_source;
use crate::model::{Exchange, ExchangeId, Network, NetworkError, Node, NodeId, Scenario, Source, Target};

/// Converts a parsed file into a scenario, or returns every problem found.
pub(super) fn convert(
    raw: &RawScenario,
    default_name: &str,
    overrides: &Overrides,
) -> Result<Scenario, Problems> {
    let mut problems = Problems::default();
    match build(raw, default_name, overrides, &mut problems) {
        Some(scenario) if problems.is_empty() => Ok(scenario),
        _ => Err(problems),
    }
}

/// The scenario, when every part converts and the network's structure is valid; records every
/// problem found.
fn build(
    raw: &RawScenario,
    default_name: &str,
    overrides: &Overrides,
    problems: &mut Problems,
) -> Option<Scenario> {
    let name = scenario_name(raw.name.as_ref(), default_name, problems);
    let settings = settings(raw.simulation.as_ref(), overrides, problems);
    let names = target_names(raw, problems);
    let keys = intern_keys(&raw.source);
    let classes = intern_classes(&raw.source);
    let nodes: Vec<Option<Node>> =
        raw.node.iter().map(|node| convert_node(node, &names, &classes, problems)).collect();
    let sources: Vec<Option<Source>> =
        raw.source.iter().map(|source| convert_source(source, &names, &keys, &classes, problems)).collect();
    let exchanges: Vec<Option<Exchange>> =
        raw.exchange.iter().map(|exchange| convert_exchange(exchange, &names, &keys, problems)).collect();
    if raw.source.is_empty() {
        problems.at(0..0, "the scenario has no [[source]]: add at least one producer".to_owned());
    }
    if raw.node.is_empty() {
        problems.at(0..0, "the scenario has no [[node]]: add at least one process".to_owned());
    }
    let (Some(settings), Some(nodes), Some(sources), Some(exchanges)) = (
        settings,
        nodes.into_iter().collect::<Option<Vec<_>>>(),
        sources.into_iter().collect::<Option<Vec<_>>>(),
        exchanges.into_iter().collect::<Option<Vec<_>>>(),
    ) else {
        return None;
    };
    if !problems.is_empty() {
        return None;
    }
    match Network::new(sources, nodes, exchanges, keys, classes) {
        Ok(network) => Some(Scenario { name, settings, network }),
        Err(error) => {
            let span = match &error {
                NetworkError::NoExit(node)
                | NetworkError::IndirectBlocking { node, .. }
                | NetworkError::JoinWithoutFork { node, .. } => raw
                    .node
                    .iter()
                    .find(|raw_node| raw_node.get_ref().name.get_ref() == node)
                    .map_or(0..0, Spanned::span),
                NetworkError::ExchangeLoop(exchange) => raw
                    .exchange
                    .iter()
                    .find(|raw_exchange| raw_exchange.get_ref().name.get_ref() == exchange)
                    .map_or(0..0, Spanned::span),
                _ => 0..0,
            };
            problems.at(span, error.to_string());
            None
        }
    }
}

/// Route targets (nodes and exchanges) by name; records duplicate and reserved names.
fn target_names(raw: &RawScenario, problems: &mut Problems) -> HashMap<String, Target> {
    let mut names = HashMap::new();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let id = |index: usize| u32::try_from(index).unwrap_or(u32::MAX);
    let all = raw
        .node
        .iter()
        .enumerate()
        .map(|(i, n)| (&n.get_ref().name, "node", Some(Target::Node(NodeId(id(i))))))
        .chain(
            raw.exchange
                .iter()
                .enumerate()
                .map(|(i, e)| (&e.get_ref().name, "exchange", Some(Target::Exchange(ExchangeId(id(i)))))),
        )
        .chain(raw.source.iter().map(|s| (&s.get_ref().name, "source", None)));
    for (name, kind, target) in all {
        let text = name.get_ref().as_str();
        if text.is_empty() || text == "exit" {
            problems
                .at(name.span(), format!("{kind} name '{text}' is reserved or empty: choose another name"));
        } else if let Some(first) = seen.insert(text, kind) {
            problems.at(
                name.span(),
                format!("{kind} name '{text}' is already used by a {first}: names must be unique"),
            );
        } else if let Some(target) = target {
            names.insert(text.to_owned(), target);
        }
    }
    names
}

pub(super) fn unknown_node(
    context: &str,
    field: &str,
    name: &str,
    names: &HashMap<String, Target>,
) -> String {
    let mut known: Vec<&str> = names.keys().map(String::as_str).collect();
    known.sort_unstable();
    format!(
        "{context} field '{field}': unknown node or exchange '{name}' (known: {}; or \"exit\" in routes)",
        known.join(", ")
    )
}
