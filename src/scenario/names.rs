//! Names of route targets: every node and exchange by its unique name, and the message for a
//! name that is none of them.

use std::collections::HashMap;

use super::problems::Problems;
use super::raw::RawScenario;
use crate::model::{ExchangeId, NodeId, Target};

/// Route targets (nodes and exchanges) by name; records duplicate and reserved names.
pub(super) fn target_names(raw: &RawScenario, problems: &mut Problems) -> HashMap<String, Target> {
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

/// Most known names an unknown-name message lists.
const KNOWN_SHOWN: usize = 20;

/// The message for a field naming no node or exchange, listing the names there are (the first
/// 20 in alphabetical order, and how many more).
pub(super) fn unknown_node(
    context: &str,
    field: &str,
    name: &str,
    names: &HashMap<String, Target>,
) -> String {
    let mut known: Vec<&str> = names.keys().map(String::as_str).collect();
    // The first few in order: a list of every name of a large network would make one line per
    // bad route as long as the file.
    let shown = known.len().min(KNOWN_SHOWN);
    if shown > 0 {
        known.select_nth_unstable(shown - 1);
    }
    known[..shown].sort_unstable();
    let more = if known.len() > shown { format!(" and {} more", known.len() - shown) } else { String::new() };
    let listed = if shown == 0 { "none".to_owned() } else { known[..shown].join(", ") };
    format!(
        "{context} field '{field}': unknown node or exchange '{name}' (known: {listed}{more}; or \"exit\" in routes)"
    )
}
