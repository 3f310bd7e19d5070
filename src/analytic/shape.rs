//! Which nodes see Poisson arrivals, which form a Jackson (product-form) sub-network, and the
//! other features of a network's arrival streams that decide which closed form fits a node.

use super::traffic::{Flows, SourceFlow, vertex};
use crate::model::{ExchangeKind, Network, Node, Overflow, Source, Target};

/// Which nodes see Poisson arrivals, and which form a Jackson (product-form) sub-network.
/// Exchanges are transparent: splitting a Poisson stream by independent keys, or copying it,
/// gives Poisson streams.
pub(super) struct Shape {
    /// The arrival process at the node is Poisson.
    pub(super) poisson_input: Vec<bool>,
    /// The node and everything upstream of it are M/M/c with unbounded, stable queues fed by
    /// Poisson sources: product form holds, M/M/c results are exact even with feedback.
    pub(super) jackson: Vec<bool>,
    /// The arrival SCV when the node is fed by exactly one renewal source and nothing else.
    pub(super) single_source_scv: Vec<Option<f64>>,
    /// The node routes to a blocking queue, so its servers can be held up by it: no closed
    /// form accounts for that.
    pub(super) blocked_downstream: Vec<bool>,
    /// The node receives several parts of a fork at once (batch arrivals).
    pub(super) batched: Vec<bool>,
    /// The node's arrival rate is exact: no state-dependent balancer (shortest queue, power of
    /// two, least loaded) upstream, whose split depends on the queues.
    pub(super) rate_exact: Vec<bool>,
}

impl Shape {
    /// The shape of `network`'s arrivals, given its flows and the flow of each source.
    pub(super) fn of(network: &Network, flow: &Flows, graphs: &[SourceFlow]) -> Self {
        let n = network.nodes().len();
        let edges = edges(network, graphs);
        let reach = closure(&edges, |_| true);
        // Reached from a vertex without passing through a node (through exchanges only).
        let direct = closure(&edges, |via| via >= n);
        let markovian: Vec<bool> = network
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, node)| {
                node.service.is_exponential()
                    && node.has_unbounded_queue()
                    && flow.pass_fraction[i] >= 1.0
                    && !overloaded(node, flow.arrival_rate[i])
            })
            .collect();
        let feeders = |i: usize| -> Vec<&Source> {
            network
                .sources()
                .iter()
                .zip(graphs)
                .filter(|(_, g)| g.entry.is_some_and(|e| e == i || direct[e][i]))
                .map(|(s, _)| s)
                .collect()
        };
        let fed_by_poisson = |i: usize| feeders(i).iter().all(|s| s.is_poisson());
        // Downstream of a balancer other than random, arrivals are not Poisson (round-robin
        // gives Erlang gaps; the others depend on the queues).
        let after = |pick: fn(ExchangeKind) -> bool| -> Vec<bool> {
            (0..n)
                .map(|i| network.exchanges().iter().enumerate().any(|(x, e)| pick(e.kind) && reach[n + x][i]))
                .collect()
        };
        let after_non_poisson = after(|kind| kind.is_balancer() && kind != ExchangeKind::Random);
        // Expiry removes an unknown share of a TTL node's messages before service.
        let after_ttl: Vec<bool> = (0..n)
            .map(|i| network.nodes().iter().enumerate().any(|(j, node)| node.ttl.is_some() && reach[j][i]))
            .collect();
        let rate_exact: Vec<bool> = after(ExchangeKind::is_state_dependent)
            .iter()
            .zip(&after_ttl)
            .map(|(&balanced, &expiring)| !balanced && !expiring)
            .collect();
        let mut poisson_input = vec![false; n];
        let mut jackson = vec![false; n];
        for i in 0..n {
            let upstream: Vec<usize> = (0..n).filter(|&j| j != i && reach[j][i]).collect();
            let upstream_ok = upstream.iter().all(|&j| markovian[j] && fed_by_poisson(j))
                && fed_by_poisson(i)
                && !after_non_poisson[i];
            poisson_input[i] = upstream_ok && !reach[i][i];
            jackson[i] = upstream_ok && markovian[i];
        }
        let single_source_scv = (0..n)
            .map(|i| {
                let fed_by_nodes = (0..n).any(|j| direct[j][i]);
                match (feeders(i).as_slice(), fed_by_nodes) {
                    ([only], false) => {
                        only.open_rate().map(|_| only.gap().scv() / round_robin_share(network, only, i))
                    }
                    _ => None,
                }
            })
            .collect();
        let blocked_downstream = network
            .nodes()
            .iter()
            .map(|node| {
                node.routing.branches().any(|route| {
                    matches!(route.target, Target::Node(next) if network.node(next).overflow == Overflow::Block)
                })
            })
            .collect();
        let batched = (0..n)
            .map(|i| {
                network.exchanges().iter().any(|exchange| {
                    exchange.kind == ExchangeKind::Fork
                        && exchange
                            .targets(None)
                            .iter()
                            .filter(|&&t| matches!(t, Target::Node(id) if id.index() == i))
                            .count()
                            > 1
                })
            })
            .collect();
        Self { poisson_input, jackson, single_source_scv, rate_exact, blocked_downstream, batched }
    }
}

/// The number of targets a source's round-robin exchange deals its messages to, when node
/// `index` is one of them (1 otherwise): each target then sees every n-th gap, a sum of n gaps,
/// whose SCV is the source's divided by n.
fn round_robin_share(network: &Network, source: &Source, index: usize) -> f64 {
    match source.target {
        Target::Exchange(id) if network.exchange(id).kind == ExchangeKind::RoundRobin => {
            let targets = network.exchange(id).targets(None);
            if targets.contains(&Target::Node(crate::model::NodeId(u32::try_from(index).unwrap_or(u32::MAX))))
            {
                #[allow(clippy::cast_precision_loss)]
                let n = targets.len() as f64;
                n
            } else {
                1.0
            }
        }
        _ => 1.0,
    }
}

/// `edges[i][j]`: some source's messages can go from vertex i to vertex j in one hop (by a route,
/// a binding, or dead-lettering).
fn edges(network: &Network, graphs: &[SourceFlow]) -> Vec<Vec<bool>> {
    let vertices = network.nodes().len() + network.exchanges().len();
    let mut edges: Vec<Vec<bool>> = (0..vertices)
        .map(|i| (0..vertices).map(|j| graphs.iter().any(|g| g.copies[i][j] > 0.0)).collect())
        .collect();
    for (i, node) in network.nodes().iter().enumerate() {
        if let Some(j) = node.dead_letter.and_then(|target| vertex(network, target)) {
            edges[i][j] = true;
        }
    }
    edges
}

/// `reach[i][j]`: vertex j can be reached from vertex i in one or more hops, passing only through
/// intermediate vertices `k` with `through(k)` (Floyd-Warshall).
fn closure(edges: &[Vec<bool>], through: impl Fn(usize) -> bool) -> Vec<Vec<bool>> {
    let mut reach = edges.to_vec();
    let vertices = reach.len();
    for k in (0..vertices).filter(|&k| through(k)) {
        let through_k = reach[k].clone();
        for row in &mut reach {
            if row[k] {
                for (cell, &via) in row.iter_mut().zip(&through_k) {
                    *cell |= via;
                }
            }
        }
    }
    reach
}

/// Whether `node` is offered at least what its servers can serve.
fn overloaded(node: &Node, lambda: f64) -> bool {
    lambda >= node.capacity_rate()
}
