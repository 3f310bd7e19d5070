//! From what the file says to the validated model, collecting every problem (not only the first),
//! each at the place in the text it refers to.

use std::path::Path;

use toml::Spanned;

use super::classes::intern_classes;
use super::exchanges::{convert_exchange, intern_keys};
use super::names::target_names;
use super::nodes::convert_node;
use super::problems::Problems;
use super::raw::RawScenario;
use super::settings::{Overrides, scenario_name, settings};
use super::sources::convert_source;
use super::traces::{read_traces, trace_classes, trace_keys, with_names};
use crate::model::{Exchange, Network, NetworkError, Node, Scenario, Source};

/// Most nodes and exchanges a scenario may declare. Analysis takes about a second and a few
/// hundred megabytes per 100 000 of them; the engine keeps statistics per node.
pub(super) const MAX_NODES_AND_EXCHANGES: usize = 100_000;

/// Largest scenario text read, in bytes (32 MiB). Parsing holds about 50 bytes per byte of
/// text: a file this large needs some 1.6 GB before anything is checked.
pub(super) const MAX_SCENARIO_BYTES: usize = 32 << 20;

/// Why a scenario text of `bytes` is refused before parsing, when it is beyond
/// [`MAX_SCENARIO_BYTES`].
pub(super) fn too_long(bytes: usize) -> Option<String> {
    (bytes > MAX_SCENARIO_BYTES).then(|| {
        format!(
            "the scenario is {bytes} bytes, more than the limit of {MAX_SCENARIO_BYTES} bytes (32 MiB): split it, or model similar nodes as one with more servers"
        )
    })
}

/// Converts a parsed file into a scenario, or returns every problem found.
pub(super) fn convert(
    raw: &RawScenario,
    default_name: &str,
    base: &Path,
    overrides: &Overrides,
) -> Result<Scenario, Problems> {
    let mut problems = Problems::default();
    match build(raw, default_name, base, overrides, &mut problems) {
        Some(scenario) if problems.is_empty() => Ok(scenario),
        _ => Err(problems),
    }
}

/// The scenario, when every part converts and the network's structure is valid; records every
/// problem found.
fn build(
    raw: &RawScenario,
    default_name: &str,
    base: &Path,
    overrides: &Overrides,
    problems: &mut Problems,
) -> Option<Scenario> {
    if too_large(raw, problems) {
        return None;
    }
    let name = scenario_name(raw.name.as_ref(), default_name, problems);
    let settings = settings(raw.simulation.as_ref(), overrides, problems);
    let names = target_names(raw, problems);
    let traces = read_traces(&raw.source, base, problems);
    let keys = with_names(intern_keys(&raw.source), trace_keys(&traces));
    let classes = with_names(intern_classes(&raw.source), trace_classes(&traces));
    let nodes: Vec<Option<Node>> =
        raw.node.iter().map(|node| convert_node(node, &names, &classes, problems)).collect();
    let window = settings.as_ref().map(|settings| (settings.warmup_s(), settings.horizon_s()));
    let sources: Vec<Option<Source>> = raw
        .source
        .iter()
        .zip(&traces)
        .map(|(source, trace)| {
            let replay = trace.as_ref().map(|trace| trace.replay(&keys, &classes));
            convert_source(source, &names, &keys, &classes, window, replay, problems)
        })
        .collect();
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
    if settings.auto_warmup() {
        refuse_auto_warmup(raw, overrides, &sources, &nodes, problems);
    }
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
            let message = match &error {
                NetworkError::NoExit(node) => format!("{error} ({})", loop_from(raw, node).join(" → ")),
                _ => error.to_string(),
            };
            problems.at(span, message);
            None
        }
    }
}

/// The path from `start` (a node that cannot reach exit) round the loop it falls into, by name
/// through nodes and exchanges, the first repeated name last: `a → b → c → a`. Every target of
/// such a node or exchange cannot reach exit either, so the first one is followed.
fn loop_from(raw: &RawScenario, start: &str) -> Vec<String> {
    let next = |name: &str| -> Option<String> {
        let node_targets = raw.node.iter().find(|n| n.get_ref().name.get_ref() == name).map(|node| {
            node.get_ref().routes.iter().flatten().map(|route| route.get_ref().to.get_ref().clone()).collect()
        });
        let targets: Vec<String> = node_targets.or_else(|| {
            let exchange = raw.exchange.iter().find(|e| e.get_ref().name.get_ref() == name)?;
            let exchange = exchange.get_ref();
            let bindings = exchange.bindings.iter().map(|binding| binding.get_ref().to.get_ref().clone());
            Some(bindings.chain(exchange.unroutable.iter().map(|u| u.get_ref().clone())).collect())
        })?;
        targets.into_iter().find(|target| target != "exit" && target != "drop")
    };
    let mut path = vec![start.to_owned()];
    while let Some(target) = next(&path[path.len() - 1]) {
        let repeated = path.contains(&target);
        path.push(target);
        if repeated {
            break;
        }
    }
    path
}

/// An automatic warm-up waits for the load to settle, which never happens when it follows the
/// clock: records a problem when a source or node does.
fn refuse_auto_warmup(
    raw: &RawScenario,
    overrides: &Overrides,
    sources: &[Source],
    nodes: &[Node],
    problems: &mut Problems,
) {
    let scheduled = sources.iter().find_map(|source| {
        let what = if source.schedule().is_some() {
            "follows a rate schedule"
        } else {
            source.replay().map(|_| "replays a trace")?
        };
        Some(format!("source '{}' {what}", source.name()))
    });
    let staffed = || {
        let node = nodes.iter().find(|node| node.servers_schedule().is_some())?;
        Some(format!("node '{}' follows a servers_schedule", node.name()))
    };
    let Some(reason) = scheduled.or_else(staffed) else { return };
    let (span, given) = match raw.simulation.as_ref().and_then(|sim| sim.get_ref().warmup.as_ref()) {
        Some(field) if !overrides.auto_warmup => (field.span(), "[simulation] field 'warmup' \"auto\""),
        _ => (0..0, "--warmup auto"),
    };
    problems.at(
        span,
        format!(
            "{given} chooses a warm-up by waiting for the load to settle, but {reason}, so it never settles: give a fixed warm-up such as warmup = \"0s\" (the transient is what a schedule shows)"
        ),
    );
}

/// Records a problem, at the first node or exchange beyond the limit, when the scenario declares
/// more than [`MAX_NODES_AND_EXCHANGES`]; nothing else is checked then.
fn too_large(raw: &RawScenario, problems: &mut Problems) -> bool {
    let count = raw.node.len() + raw.exchange.len();
    if count <= MAX_NODES_AND_EXCHANGES {
        return false;
    }
    let beyond = raw
        .node
        .get(MAX_NODES_AND_EXCHANGES)
        .map_or_else(|| raw.exchange[MAX_NODES_AND_EXCHANGES - raw.node.len()].span(), Spanned::span);
    problems.at(
        beyond,
        format!(
            "the scenario declares {count} nodes and exchanges, more than the limit of {MAX_NODES_AND_EXCHANGES}: split it, or model similar nodes as one with more servers"
        ),
    );
    true
}
