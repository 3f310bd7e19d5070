//! The network as a reader sees it drawn: sources, exchanges, nodes and the exit as vertices,
//! the routes between them as edges, each node labelled with its model and load from theory.
//! Kept in analysis.json, so that `kendall report` redraws an analysis's graph without the
//! scenario; laid out and drawn by the report page.

use serde::{Deserialize, Serialize};

use crate::analytic::Analysis;
use crate::model::{Network, Target, Unroutable};

/// What a vertex stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VertexKind {
    /// A producer.
    Source,
    /// A broker exchange.
    Exchange,
    /// A process and its channel.
    Node,
    /// The node theory names the bottleneck.
    Bottleneck,
    /// A node theory calls unstable.
    Unstable,
    /// Where delivered messages leave.
    Exit,
}

/// A vertex: its name, a second line (the model and load, or the kind) and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vertex {
    /// The source's, exchange's or node's name ("exit" for the exit).
    pub name: String,
    /// What the drawing writes under the name.
    pub detail: String,
    /// What it stands for.
    pub kind: VertexKind,
}

/// A route from one vertex to another, by their indices in [`Topology::vertices`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// The vertex the route leaves.
    pub from: usize,
    /// The vertex it reaches.
    pub to: usize,
    /// Its probability when below 1, or why it is taken ("expired"); none otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The network's vertices (sources, then exchanges, then nodes, then the exit) and its routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Every vertex, in that order.
    pub vertices: Vec<Vertex>,
    /// Every route.
    pub edges: Vec<Edge>,
}

impl Topology {
    /// The topology of `network`, each node labelled from `analysis` when there is one (else
    /// with its servers).
    #[must_use]
    pub fn new(network: &Network, analysis: Option<&Analysis>) -> Self {
        let (sources, exchanges) = (network.sources().len(), network.exchanges().len());
        let exit = sources + exchanges + network.nodes().len();
        let index = |target: Target| match target {
            Target::Exchange(id) => sources + id.index(),
            Target::Node(id) => sources + exchanges + id.index(),
            Target::Exit => exit,
        };
        let vertex = |name: &str, detail: String, kind| Vertex { name: name.to_owned(), detail, kind };
        let mut vertices: Vec<Vertex> = network
            .sources()
            .iter()
            .map(|s| vertex(&s.name, "source".to_owned(), VertexKind::Source))
            .collect();
        let mut edges: Vec<Edge> = network
            .sources()
            .iter()
            .enumerate()
            .map(|(i, s)| Edge { from: i, to: index(s.target), label: None })
            .collect();
        for (i, exchange) in network.exchanges().iter().enumerate() {
            let detail = format!("exchange ({})", exchange.kind.name());
            vertices.push(vertex(&exchange.name, detail, VertexKind::Exchange));
            let mut targets: Vec<Target> = exchange.bindings.iter().map(|b| b.target).collect();
            if let Unroutable::To(target) = exchange.unroutable {
                targets.push(target);
            }
            targets.dedup();
            edges.extend(targets.into_iter().map(|t| Edge { from: sources + i, to: index(t), label: None }));
        }
        let bottleneck = analysis.and_then(|a| a.system.bottleneck.as_deref());
        for (i, node) in network.nodes().iter().enumerate() {
            let theory = analysis.map(|a| &a.nodes[i]);
            let kind = match theory {
                Some(t) if t.verdict.overloaded() => VertexKind::Unstable,
                _ if Some(node.name.as_str()) == bottleneck => VertexKind::Bottleneck,
                _ => VertexKind::Node,
            };
            let detail = theory.map_or_else(
                || format!("{} servers", node.servers),
                |t| match t.bounds {
                    Some(bounds) => {
                        format!("{}, ρ {:.2}–{:.2}", t.model, bounds.utilization[0], bounds.utilization[1])
                    }
                    None => format!("{}, ρ {:.2}", t.model, t.utilization),
                },
            );
            vertices.push(vertex(&node.name, detail, kind));
            let from = sources + exchanges + i;
            for route in node.routing.branches() {
                let label = (route.probability < 1.0).then(|| format!("{:.2}", route.probability));
                edges.push(Edge { from, to: index(route.target), label });
            }
            if let Some(target) = node.dead_letter {
                edges.push(Edge { from, to: index(target), label: Some("expired".to_owned()) });
            }
        }
        vertices.push(vertex("exit", "delivered".to_owned(), VertexKind::Exit));
        Self { vertices, edges }
    }

    /// How many vertices are sources (the first ones).
    #[must_use]
    pub fn sources(&self) -> usize {
        self.vertices.iter().take_while(|v| v.kind == VertexKind::Source).count()
    }
}
