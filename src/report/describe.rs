//! `kendall check`: what kendall understood of a scenario, in words.

use std::fmt::Write as _;

use crate::model::{Network, Node, Scenario, Target};

fn target_name(network: &Network, target: Target) -> &str {
    match target {
        Target::Node(id) => &network.node(id).name,
        Target::Exit => "exit",
    }
}

/// Kendall notation of a node, e.g. "M/M/1" or "M/D/4/10" (the arrival letter is "G" when the
/// node is fed by anything other than a single Poisson source).
fn notation(node: &Node, poisson_arrivals: bool) -> String {
    let arrivals = if poisson_arrivals { "M" } else { "G" };
    let capacity = node.capacity.map_or_else(String::new, |k| format!("/{k}"));
    format!("{arrivals}/{}/{}{capacity}", node.service.kendall_letter(), node.servers)
}

/// Whether a node's only input is one exponential source (so its arrivals are Poisson).
fn poisson_fed(network: &Network, index: usize) -> bool {
    let from_nodes = network.nodes().iter().flat_map(|node| node.routing.branches()).any(|route| {
        route.target == Target::Node(crate::model::NodeId(u32::try_from(index).unwrap_or(u32::MAX)))
    });
    let feeding: Vec<_> = network
        .sources()
        .iter()
        .filter(|source| {
            source.target == Target::Node(crate::model::NodeId(u32::try_from(index).unwrap_or(u32::MAX)))
        })
        .collect();
    !from_nodes && !feeding.is_empty() && feeding.iter().all(|source| source.interarrival.is_exponential())
}

/// Describes a scenario: its settings, sources, nodes and routes.
#[must_use]
pub fn describe(scenario: &Scenario) -> String {
    let mut out = String::new();
    let settings = &scenario.settings;
    let network = &scenario.network;
    let _ = writeln!(out, "scenario {} is valid", scenario.name);
    let _ = writeln!(
        out,
        "simulation: {} replications of {}s after {}s warm-up, seed {}, at most {} messages in the system",
        settings.replications, settings.duration_s, settings.warmup_s, settings.seed, settings.max_in_system
    );
    for source in network.sources() {
        let _ = writeln!(
            out,
            "source {}: {:.6} messages/s to {}, inter-arrival {}",
            source.name,
            source.rate(),
            target_name(network, source.target),
            source.interarrival
        );
    }
    for (index, node) in network.nodes().iter().enumerate() {
        let capacity = node
            .capacity
            .map_or_else(|| "unbounded".to_owned(), |k| format!("capacity {k} ({})", node.overflow.name()));
        let _ = writeln!(
            out,
            "node {} [{}]: {} servers, service {}, {capacity}, fifo",
            node.name,
            notation(node, poisson_fed(network, index)),
            node.servers,
            node.service
        );
        let routes: Vec<String> = node
            .routing
            .branches()
            .map(|route| format!("{} (p {})", target_name(network, route.target), route.probability))
            .collect();
        let _ = writeln!(out, "  routes: {}", routes.join(", "));
    }
    out
}
