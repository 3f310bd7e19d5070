//! Which nodes see Poisson arrivals, which form a Jackson (product-form) sub-network, and the
//! other features of a network's arrival streams that decide which closed form fits a node.

use super::balancer::balancer_shares;
use super::reach::Reach;
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
    /// The node is pooled with unequal others by a shortest-queue, least-loaded or
    /// power-of-two balancer: its arrivals depend on every pooled queue, so no closed form
    /// gives its waits (its rate is the share that saturates where the balancer does,
    /// approximate below saturation).
    pub(super) pooled: Vec<bool>,
    /// The node's arrival rate is exact: no state-dependent balancer (shortest queue, power of
    /// two, least loaded) upstream, whose split depends on the queues.
    pub(super) rate_exact: Vec<bool>,
}

impl Shape {
    /// The shape of `network`'s arrivals, given its flows and the flow of each source.
    pub(super) fn of(network: &Network, flow: &Flows, graphs: &[SourceFlow]) -> Self {
        let n = network.nodes().len();
        let reach = Reach::new(successors(network, graphs));
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
        // Per node, the sources that feed it straight (from their entry through exchanges only).
        let mut feeders: Vec<Vec<&Source>> = vec![Vec::new(); n];
        for (source, graph) in network.sources().iter().zip(graphs) {
            let Some(entry) = graph.entry else { continue };
            let direct = reach.reached_from_any([entry], |via| via >= n);
            for (i, fed) in feeders.iter_mut().enumerate() {
                if i == entry || direct[i] {
                    fed.push(source);
                }
            }
        }
        let fed_by_poisson: Vec<bool> =
            feeders.iter().map(|fed| fed.iter().all(|s| s.is_poisson())).collect();
        // Downstream of a balancer other than random, arrivals are not Poisson (round-robin
        // gives Erlang gaps; the others depend on the queues).
        let after = |pick: fn(ExchangeKind) -> bool| -> Vec<bool> {
            let starts =
                network.exchanges().iter().enumerate().filter(|(_, e)| pick(e.kind)).map(|(x, _)| n + x);
            reach.reached_from_any(starts, |_| true)
        };
        let after_non_poisson = after(|kind| kind.is_balancer() && kind != ExchangeKind::Random);
        // Expiry removes an unknown share of a TTL node's messages before service.
        let after_ttl =
            reach.reached_from_any((0..n).filter(|&j| network.nodes()[j].ttl.is_some()), |_| true);
        let rate_exact: Vec<bool> = after(ExchangeKind::is_state_dependent)
            .iter()
            .zip(&after_ttl)
            .take(n)
            .map(|(&balanced, &expiring)| !balanced && !expiring)
            .collect();
        // Some other node upstream is not M/M/c fed by Poisson sources.
        let tainted = reach.reached_from_another(|j| j < n && !(markovian[j] && fed_by_poisson[j]));
        let mut poisson_input = vec![false; n];
        let mut jackson = vec![false; n];
        for i in 0..n {
            let upstream_ok = !tainted[i] && fed_by_poisson[i] && !after_non_poisson[i];
            poisson_input[i] = upstream_ok && !reach.on_loop(i);
            jackson[i] = upstream_ok && markovian[i];
        }
        // Fed by some node, straight or through exchanges.
        let fed_by_nodes = reach.reached_from_any(0..n, |via| via >= n);
        let single_source_scv = (0..n)
            .map(|i| match (feeders[i].as_slice(), fed_by_nodes[i]) {
                ([only], false) => {
                    only.open_rate().map(|_| only.gap().scv() / round_robin_share(network, only, i))
                }
                _ => None,
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
        // A fork that sends several of its parts to the same node.
        let mut batched = vec![false; n];
        for exchange in network.exchanges().iter().filter(|e| e.kind == ExchangeKind::Fork) {
            let mut targets: Vec<usize> = exchange
                .targets(None)
                .iter()
                .filter_map(|&t| match t {
                    Target::Node(id) => Some(id.index()),
                    _ => None,
                })
                .collect();
            targets.sort_unstable();
            targets.windows(2).filter(|pair| pair[0] == pair[1]).for_each(|pair| batched[pair[0]] = true);
        }
        let mut pooled = vec![false; n];
        for exchange in network.exchanges() {
            let targets = exchange.targets(None);
            if balancer_shares(network, exchange.kind, targets).is_some() {
                for target in targets {
                    if let Target::Node(id) = target {
                        pooled[id.index()] = true;
                    }
                }
            }
        }
        Self { poisson_input, jackson, single_source_scv, rate_exact, blocked_downstream, batched, pooled }
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

/// Per vertex, the vertices some source's messages can go to in one hop (by a route, a binding,
/// or dead-lettering).
fn successors(network: &Network, graphs: &[SourceFlow]) -> Vec<Vec<usize>> {
    let vertices = network.nodes().len() + network.exchanges().len();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); vertices];
    for graph in graphs {
        for (i, next) in successors.iter_mut().enumerate() {
            next.extend(graph.copies.row(i).iter().filter(|&&(_, c)| c > 0.0).map(|&(j, _)| j));
        }
    }
    for (i, node) in network.nodes().iter().enumerate() {
        if let Some(j) = node.dead_letter.and_then(|target| vertex(network, target)) {
            successors[i].push(j);
        }
    }
    successors
}

/// Whether `node` is offered at least what its servers can serve.
fn overloaded(node: &Node, lambda: f64) -> bool {
    lambda >= node.capacity_rate()
}
