//! Traffic equations of an open network: the arrival rate at every node, counting feedback loops
//! and every multicast copy, and how overloaded or finite nodes cap what flows downstream.
//!
//! Exchanges are zero-time vertices. Since their routing depends on the message's key, which
//! differs by source, the equations are solved per source and summed.

use super::linear::{SingularMatrix, solve};
use super::station::mmck;
use crate::model::{ExchangeKind, Network, Node, Overflow, Source, Target, Unroutable};

/// Iterations of the capped fixed point before giving up on convergence.
const MAX_ITERATIONS: usize = 10_000;

/// Relative change below which the fixed point has converged.
const CONVERGED: f64 = 1e-13;

/// The expected flow out of each vertex (nodes first, then exchanges) for one source's messages.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFlow {
    /// Vertex index of the source's target (`None` when it sends straight to exit).
    pub entry: Option<usize>,
    /// `copies[i][j]`: expected copies sent from vertex i to vertex j per message leaving i.
    pub copies: Vec<Vec<f64>>,
    /// Expected copies sent from vertex i to exit per message leaving i.
    pub to_exit: Vec<f64>,
    /// Expected copies an exchange drops as unroutable per message it routes.
    pub unroutable: Vec<f64>,
    /// Per vertex, the routes with a network delay: (target vertex or `None` for exit,
    /// probability × mean delay in seconds).
    pub delays: Vec<Vec<(Option<usize>, f64)>>,
}

/// Vertex index of a target: nodes first, then exchanges.
#[must_use]
pub fn vertex(network: &Network, target: Target) -> Option<usize> {
    match target {
        Target::Node(id) => Some(id.index()),
        Target::Exchange(id) => Some(network.nodes().len() + id.index()),
        Target::Exit => None,
    }
}

impl SourceFlow {
    /// The flow graph of `source`'s messages.
    #[must_use]
    pub fn new(network: &Network, source: &Source) -> Self {
        let (n, vertices) = (network.nodes().len(), network.nodes().len() + network.exchanges().len());
        let mut copies = vec![vec![0.0; vertices]; vertices];
        let mut to_exit = vec![0.0; vertices];
        let mut unroutable = vec![0.0; vertices];
        let mut send = |from: usize, target: Target, amount: f64| match vertex(network, target) {
            Some(to) => copies[from][to] += amount,
            None => to_exit[from] += amount,
        };
        let mut delays = vec![Vec::new(); vertices];
        for (i, node) in network.nodes().iter().enumerate() {
            for route in node.routing.branches() {
                send(i, route.target, route.probability);
                if let Some(delay) = &route.delay {
                    delays[i].push((vertex(network, route.target), route.probability * delay.mean()));
                }
            }
        }
        let keys: Vec<_> = match &source.keys {
            Some(choice) => choice.weighted().map(|(key, p)| (Some(key), p)).collect(),
            None => vec![(None, 1.0)],
        };
        for (x, exchange) in network.exchanges().iter().enumerate() {
            for &(key, p) in &keys {
                match (exchange.targets(key), exchange.unroutable) {
                    ([], Unroutable::Drop) => unroutable[n + x] += p,
                    ([], Unroutable::To(target)) => send(n + x, target, p),
                    // A balancer sends each message to one of its targets: 1/n each on average
                    // (exactly for round-robin and random; by symmetry for the state-dependent
                    // policies over identical targets).
                    (targets, _)
                        if exchange.kind.is_balancer()
                            || (exchange.kind == ExchangeKind::KeyHash && key.is_none()) =>
                    {
                        #[allow(clippy::cast_precision_loss)]
                        let share = p / targets.len() as f64;
                        targets.iter().for_each(|&target| send(n + x, target, share));
                    }
                    (targets, _) => targets.iter().for_each(|&target| send(n + x, target, p)),
                }
            }
        }
        // A join turns the N parts of a fork back into one message.
        for (j, node) in network.nodes().iter().enumerate() {
            if let Some(fork) = node.join {
                let parts = f64::from(network.exchange(fork).total_parts());
                copies.iter_mut().for_each(|row| row[j] /= parts);
            }
        }
        Self { entry: vertex(network, source.target), copies, to_exit, unroutable, delays }
    }

    /// Whether a message can be copied or forked (some vertex sends more than one copy on
    /// average).
    #[must_use]
    pub fn copies_messages(&self) -> bool {
        self.copies.iter().zip(&self.to_exit).any(|(row, exit)| row.iter().sum::<f64>() + exit > 1.0 + 1e-12)
    }

    /// Expected visits to each vertex per message the source creates, when each vertex passes on
    /// the fraction `pass` of what arrives (exchanges pass everything).
    ///
    /// # Formula
    /// v = e_entry + (Q F)ᵀ v, solved as (I − (Q F)ᵀ) v = e_entry.
    ///
    /// # Errors
    /// When the routing has a loop without exit.
    pub fn visits(&self, pass: &[f64]) -> Result<Vec<f64>, SingularMatrix> {
        let vertices = self.to_exit.len();
        let mut rhs = vec![0.0; vertices];
        let Some(entry) = self.entry else { return Ok(rhs) };
        rhs[entry] = 1.0;
        let matrix = self.pass_matrix(pass);
        let transposed = (0..vertices).map(|i| (0..vertices).map(|j| matrix[j][i]).collect()).collect();
        solve(transposed, rhs)
    }

    /// I − Q F: the identity less the expected copies between vertices, row i scaled by the
    /// fraction q_i that vertex i passes on (1 for vertices beyond `pass`).
    #[must_use]
    pub fn pass_matrix(&self, pass: &[f64]) -> Vec<Vec<f64>> {
        self.copies
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let q = pass.get(i).copied().unwrap_or(1.0);
                row.iter().enumerate().map(|(j, &copies)| f64::from(u8::from(i == j)) - q * copies).collect()
            })
            .collect()
    }
}

/// Flow rates through the network in steady state (or, for overloaded nodes, in the fluid limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Flows {
    /// Messages offered to each node per second (admitted or not), copies included.
    pub arrival_rate: Vec<f64>,
    /// Fraction of each node's arrivals that leave it served: 1 − drop probability for a finite
    /// queue; min(1, cμ/λ) for an unbounded one (an overloaded queue passes only cμ per second).
    pub pass_fraction: Vec<f64>,
}

impl Flows {
    /// Messages completing service at node `index` per second.
    #[must_use]
    pub fn throughput(&self, index: usize) -> f64 {
        self.arrival_rate[index] * self.pass_fraction[index]
    }

    /// Pass fractions of every vertex: the nodes', then 1 for each exchange.
    #[must_use]
    pub fn vertex_pass(&self, exchanges: usize) -> Vec<f64> {
        self.pass_fraction.iter().copied().chain(std::iter::repeat_n(1.0, exchanges)).collect()
    }
}

/// Fraction of the arrivals a node lets through at arrival rate `lambda`.
#[must_use]
pub fn pass_fraction(node: &Node, lambda: f64) -> f64 {
    let mu = node.service_rate();
    match node.capacity {
        Some(capacity) => {
            // A finite queue has finitely many servers (validation rejects ∞ with a capacity).
            let servers = node.servers.count().unwrap_or(capacity);
            // A blocking queue loses nothing but throttles its sender: while it is full and
            // one message waits outside, nothing more arrives (state K + 1 of the chain).
            let states = if node.overflow == Overflow::Block { capacity + 1 } else { capacity };
            mmck(lambda, mu, servers, states).map_or(1.0, |m| 1.0 - m.drop_probability)
        }
        None if lambda > node.capacity_rate() => node.capacity_rate() / lambda,
        None => 1.0,
    }
}

/// The flow graph of every source, in network order.
#[must_use]
pub fn source_flows(network: &Network) -> Vec<SourceFlow> {
    network.sources().iter().map(|source| SourceFlow::new(network, source)).collect()
}

/// Solves the traffic equations with every source's rate multiplied by `scale`.
///
/// # Formula
/// Per source s: λˢ = γˢ e_entry + (Q Fˢ)ᵀ λˢ, where Fˢ holds the expected copies per message
/// between vertices and Q the pass fractions; λ = Σ_s λˢ. The pass fractions depend on λ, so the
/// system is iterated from the uncapped solution (Q = I), which bounds it above.
///
/// # Errors
/// When the routing has a loop without exit.
pub fn flows(network: &Network, scale: f64) -> Result<Flows, SingularMatrix> {
    let graphs = source_flows(network);
    let nodes = network.nodes();
    let n = nodes.len();
    // Per source, the uncapped rate into every vertex: an upper bound on the capped one.
    let mut per_source: Vec<Vec<f64>> = Vec::with_capacity(graphs.len());
    for (source, graph) in network.sources().iter().zip(&graphs) {
        let rate = scale * source.open_rate().unwrap_or(0.0);
        per_source.push(graph.visits(&[])?.into_iter().map(|v| rate * v.max(0.0)).collect());
    }
    let totals = |per_source: &[Vec<f64>]| -> Vec<f64> {
        (0..n).map(|i| per_source.iter().map(|rates| rates[i]).sum()).collect()
    };
    let mut lambda = totals(&per_source);
    let mut pass: Vec<f64> = nodes.iter().zip(&lambda).map(|(node, &l)| pass_fraction(node, l)).collect();
    if pass.iter().any(|&q| q < 1.0) {
        // Fixed point on the flows themselves: what leaves a node is what it passes, so an
        // overloaded node's output is its capacity and the iteration settles at once.
        for _ in 0..MAX_ITERATIONS {
            for ((source, graph), rates) in network.sources().iter().zip(&graphs).zip(&mut per_source) {
                let mut next = vec![0.0; rates.len()];
                if let Some(entry) = graph.entry {
                    next[entry] = scale * source.open_rate().unwrap_or(0.0);
                }
                for (from, row) in graph.copies.iter().enumerate() {
                    let out = rates[from] * pass.get(from).copied().unwrap_or(1.0);
                    for (to, &copies) in row.iter().enumerate() {
                        next[to] += out * copies;
                    }
                }
                *rates = next;
            }
            let next = totals(&per_source);
            let change = next
                .iter()
                .zip(&lambda)
                .map(|(a, b)| (a - b).abs() / a.abs().max(1e-300))
                .fold(0.0, f64::max);
            lambda = next;
            pass = nodes.iter().zip(&lambda).map(|(node, &l)| pass_fraction(node, l)).collect();
            if change < CONVERGED {
                break;
            }
        }
    }
    Ok(Flows { arrival_rate: lambda, pass_fraction: pass })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use std::path::Path;

    fn network(text: &str) -> Network {
        parse(text, "t", Path::new("t.toml")).unwrap().network
    }

    const FEEDBACK: &str = r#"
        [[source]]
        name = "s"
        to = "a"
        interarrival = { dist = "exponential", rate = 1.0 }
        [[node]]
        name = "a"
        service = { dist = "exponential", mean = "0.1s" }
        routes = [{ to = "b", p = 0.5 }, { to = "exit", p = 0.5 }]
        [[node]]
        name = "b"
        service = { dist = "exponential", mean = "0.1s" }
        routes = [{ to = "a", p = 0.5 }, { to = "exit", p = 0.5 }]
    "#;

    #[test]
    fn feedback_loops_multiply_the_arrival_rate() {
        // λa = 1 + 0.5 λb, λb = 0.5 λa  =>  λa = 1/(1 − 0.25) = 4/3, λb = 2/3.
        let flows = flows(&network(FEEDBACK), 1.0).unwrap();
        assert!((flows.arrival_rate[0] - 4.0 / 3.0).abs() < 1e-12);
        assert!((flows.arrival_rate[1] - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn an_overloaded_node_caps_the_flow_downstream() {
        let text = r#"
            [[source]]
            name = "s"
            to = "a"
            interarrival = { dist = "exponential", rate = 3.0 }
            [[node]]
            name = "a"
            service = { dist = "exponential", mean = "0.5s" }
            routes = [{ to = "b" }]
            [[node]]
            name = "b"
            service = { dist = "exponential", mean = "0.1s" }
        "#;
        // a serves at most cμ = 2/s of its 3/s, so b receives 2/s.
        let flows = flows(&network(text), 1.0).unwrap();
        assert!((flows.arrival_rate[1] - 2.0).abs() < 1e-12);
        assert!((flows.pass_fraction[0] - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn exchanges_route_by_key_and_copy() {
        // Keys a.x (0.25) and b.x (0.75) at rate 4/s into a topic exchange binding "a.*" to q1
        // and "#" to q2: q1 gets 0.25 × 4 = 1/s, q2 every message, 4/s (two copies of a.x).
        let text = r##"
            [[source]]
            name = "s"
            to = "x"
            interarrival = { dist = "exponential", rate = 4.0 }
            keys = { "a.x" = 0.25, "b.x" = 0.75 }
            [[exchange]]
            name = "x"
            type = "topic"
            bindings = [{ key = "a.*", to = "q1" }, { key = "#", to = "q2" }]
            [[node]]
            name = "q1"
            service = { dist = "exponential", mean = "0.1s" }
            [[node]]
            name = "q2"
            service = { dist = "exponential", mean = "0.1s" }
        "##;
        let flows = flows(&network(text), 1.0).unwrap();
        assert!((flows.arrival_rate[0] - 1.0).abs() < 1e-12);
        assert!((flows.arrival_rate[1] - 4.0).abs() < 1e-12);
    }
}
