//! Traffic equations of an open network: the arrival rate at every node, counting feedback loops
//! and every multicast copy, and how overloaded or finite nodes cap what flows downstream.
//!
//! Exchanges are zero-time vertices. Since their routing depends on the message's key, which
//! differs by source, the equations are solved per source and summed. What a blocking queue lets
//! through, and the bounds the flows take where that has no closed form, come from
//! [`blocking`](super::blocking).

use std::sync::OnceLock;

use super::balancer::balancer_shares;
use super::blocking::{
    Bound, Feed, Unknown, feed_reason, feeds, node_pass_fraction, saturations, source_share,
};
use super::linear::SingularMatrix;
use super::scc::components;
use super::sparse::{SparseMatrix, solve_sparse};
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
    /// Row i, column j: expected copies sent from vertex i to vertex j per message leaving i.
    pub copies: SparseMatrix,
    /// Expected copies sent from vertex i to exit per message leaving i.
    pub to_exit: Vec<f64>,
    /// Expected copies an exchange drops as unroutable per message it routes.
    pub unroutable: Vec<f64>,
    /// Per vertex, the routes with a network delay: (target vertex or `None` for exit,
    /// probability × mean delay in seconds).
    pub delays: Vec<Vec<(Option<usize>, f64)>>,
    /// The visits with nothing capped, once solved (see [`SourceFlow::visits`]).
    uncapped: OnceLock<Vec<f64>>,
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
        let mut copies: Vec<Vec<(usize, f64)>> = vec![Vec::new(); vertices];
        let mut to_exit = vec![0.0; vertices];
        let mut unroutable = vec![0.0; vertices];
        let mut send = |from: usize, target: Target, amount: f64| match vertex(network, target) {
            Some(to) => copies[from].push((to, amount)),
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
                    // policies over identical targets). Over unequal targets the state-dependent
                    // ones split so as to saturate where they do (see `balancer_shares`).
                    (targets, _)
                        if exchange.kind.is_balancer()
                            || (exchange.kind == ExchangeKind::KeyHash && key.is_none()) =>
                    {
                        let shares = balancer_shares(network, exchange.kind, targets);
                        for (i, &target) in targets.iter().enumerate() {
                            #[allow(clippy::cast_precision_loss)]
                            let share =
                                shares.as_ref().map_or(1.0 / targets.len() as f64, |shares| shares[i]);
                            send(n + x, target, p * share);
                        }
                    }
                    (targets, _) => targets.iter().for_each(|&target| send(n + x, target, p)),
                }
            }
        }
        // A join turns the N parts of a fork back into one message.
        let parts: Vec<f64> = network
            .nodes()
            .iter()
            .map(|node| node.join.map_or(1.0, |fork| f64::from(network.exchange(fork).total_parts())))
            .collect();
        for row in &mut copies {
            for (to, amount) in row.iter_mut() {
                *amount /= parts.get(*to).copied().unwrap_or(1.0);
            }
        }
        let copies = SparseMatrix::from_rows(copies);
        Self {
            entry: vertex(network, source.target),
            copies,
            to_exit,
            unroutable,
            delays,
            uncapped: OnceLock::new(),
        }
    }

    /// Whether a message can be copied or forked (some vertex sends more than one copy on
    /// average).
    #[must_use]
    pub fn copies_messages(&self) -> bool {
        self.to_exit
            .iter()
            .enumerate()
            .any(|(i, exit)| self.copies.row(i).iter().map(|&(_, c)| c).sum::<f64>() + exit > 1.0 + 1e-12)
    }

    /// Expected visits to each vertex per message the source creates, when each vertex passes on
    /// the fraction `pass` of what arrives (exchanges pass everything).
    ///
    /// # Formula
    /// v = e_entry + (Q F)ᵀ v, solved sparsely ([`solve_sparse`]); with nothing capped (every
    /// pass fraction 1) solved once and remembered.
    ///
    /// # Errors
    /// When the routing has a loop without exit.
    pub fn visits(&self, pass: &[f64]) -> Result<Vec<f64>, SingularMatrix> {
        if pass.iter().all(|&q| q == 1.0) {
            if let Some(known) = self.uncapped.get() {
                return Ok(known.clone());
            }
            let solved = self.solve_visits(&[])?;
            return Ok(self.uncapped.get_or_init(|| solved).clone());
        }
        self.solve_visits(pass)
    }

    /// Solves [`SourceFlow::visits`].
    fn solve_visits(&self, pass: &[f64]) -> Result<Vec<f64>, SingularMatrix> {
        let vertices = self.to_exit.len();
        let mut rhs = vec![0.0; vertices];
        let Some(entry) = self.entry else { return Ok(rhs) };
        rhs[entry] = 1.0;
        solve_sparse(&self.passed(pass).transpose(), &rhs)
    }

    /// Q F: the expected copies between vertices, row i scaled by the fraction q_i that vertex i
    /// passes on (1 for vertices beyond `pass`).
    #[must_use]
    pub fn passed(&self, pass: &[f64]) -> SparseMatrix {
        self.copies.scale_rows(|i| pass.get(i).copied().unwrap_or(1.0))
    }
}

/// Flow rates through the network in steady state (or, for overloaded nodes, in the fluid limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Flows {
    /// Messages offered to each node per second (admitted or not), copies included.
    pub arrival_rate: Vec<f64>,
    /// Fraction of each node's arrivals that leave it served: 1 − drop probability for a finite
    /// queue; min(1, cμ/λ) for an unbounded one (an overloaded queue passes only cμ per second).
    /// Where a blocking queue's throughput has no closed form ([`Feed::Shared`],
    /// [`Feed::Sources`]), these flows are its upper bound, and [`Flows::unknown`] says so.
    pub pass_fraction: Vec<f64>,
    /// The pass fractions of the lower bound on the flows (equal to `pass_fraction` where every
    /// blocking queue's throughput has a closed form).
    pub pass_lower: Vec<f64>,
    /// Per node, the bounds on its rates when they have no closed form.
    pub unknown: Vec<Option<Unknown>>,
    /// Per node, the completion rate at which its unbounded queue saturates: cμ, or less for a
    /// sender held by a blocking queue where [`held_saturation`](super::blocking::held_saturation)
    /// gives it.
    pub saturation: Vec<f64>,
}

/// Fraction of the arrivals a node lets through at arrival rate `lambda`: 1 − the drop
/// probability of a finite queue (for a blocking one, the fraction one Poisson source is held:
/// for any other feed see [`node_pass_fraction`]).
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
/// between vertices and Q the pass fractions; λ = Σ_s λˢ. The pass fractions depend on λ: from
/// the uncapped solution (Q = I), which bounds it above, the flows are settled one strongly
/// connected component at a time, downstream, at once off the loops and by Gauss-Seidel sweeps
/// around a loop (monotone from above: what a node passes grows with what it is offered).
///
/// # Errors
/// When the routing has a loop without exit.
pub fn flows(network: &Network, scale: f64) -> Result<Flows, SingularMatrix> {
    flows_of(network, &source_flows(network), scale)
}

/// [`flows`], given the flow graph of every source, in network order ([`source_flows`]).
///
/// Where a blocking queue's throughput has no closed form, the flows are its upper bound, and
/// [`Flows::unknown`] holds the bounds of every node whose rates depend on it (the flows solved
/// again at the lower bound: what a node passes grows with what it is offered).
///
/// # Errors
/// When the routing has a loop without exit.
pub fn flows_of(network: &Network, graphs: &[SourceFlow], scale: f64) -> Result<Flows, SingularMatrix> {
    let feeds = feeds(network, graphs)?;
    let saturation = saturations(network, &feeds, graphs)?;
    let flows_at = |bound| flows_at(network, graphs, (&feeds, &saturation), scale, bound);
    let upper = flows_at(Bound::Upper)?;
    let unknown = |feed: &Option<Feed>| matches!(feed, Some(Feed::Sources(_) | Feed::Shared));
    if !feeds.iter().any(unknown) {
        return Ok(upper);
    }
    let lower = flows_at(Bound::Lower)?;
    Ok(upper.bounded_by(network, lower, &feeds))
}

/// The flows with every blocking queue whose throughput has no closed form at `bound`.
fn flows_at(
    network: &Network,
    graphs: &[SourceFlow],
    (feeds, saturation): (&[Option<Feed>], &[f64]),
    scale: f64,
    bound: Bound,
) -> Result<Flows, SingularMatrix> {
    let n = network.nodes().len();
    // Per source, the uncapped rate into every vertex: an upper bound on the capped one.
    let mut per_source: Vec<Vec<f64>> = Vec::with_capacity(graphs.len());
    for (source, graph) in network.sources().iter().zip(graphs) {
        let rate = scale * source.open_rate().unwrap_or(0.0) * source_share(feeds, source, bound);
        per_source.push(graph.visits(&[])?.into_iter().map(|v| rate * v.max(0.0)).collect());
    }
    let lambda = node_totals(&per_source, n);
    let nodes = network.nodes();
    let pass: Vec<f64> = lambda
        .iter()
        .enumerate()
        .map(|(i, &l)| node_pass_fraction(&nodes[i], feeds[i], l, bound, saturation[i]))
        .collect();
    if pass.iter().all(|&q| q >= 1.0) {
        return Ok(Flows::known(lambda, pass, saturation));
    }
    Ok(Capped::new(network, graphs, (feeds, saturation), scale, bound).settle(per_source))
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

    /// Flows whose every rate has a closed form.
    fn known(arrival_rate: Vec<f64>, pass_fraction: Vec<f64>, saturation: &[f64]) -> Self {
        let n = arrival_rate.len();
        Self {
            arrival_rate,
            pass_lower: pass_fraction.clone(),
            pass_fraction,
            unknown: vec![None; n],
            saturation: saturation.to_vec(),
        }
    }

    /// These flows (the upper bound) with the bounds from the `lower` flows, where some
    /// blocking queue, fed as `feeds` says, has no closed form for its throughput.
    fn bounded_by(mut self, network: &Network, lower: Self, feeds: &[Option<Feed>]) -> Self {
        let reasons: Vec<Option<String>> =
            feeds.iter().enumerate().map(|(i, &feed)| feed_reason(network, i, feed, &self)).collect();
        let names: Vec<String> = reasons
            .iter()
            .zip(network.nodes())
            .filter(|(reason, _)| reason.is_some())
            .map(|(_, node)| format!("'{}'", node.name))
            .collect();
        let upstream = match names.as_slice() {
            [one] => format!("blocking queue {one}, whose throughput has none"),
            many => format!("blocking queues {}, whose throughputs have none", many.join(", ")),
        };
        let differ = |a: f64, b: f64| (a - b).abs() > 1e-12 * a.abs().max(b.abs());
        for (i, own) in reasons.into_iter().enumerate() {
            let arrival = (lower.arrival_rate[i], self.arrival_rate[i]);
            let throughput = (lower.throughput(i), self.throughput(i));
            if !differ(arrival.0, arrival.1) && !differ(throughput.0, throughput.1) {
                continue;
            }
            let reason =
                own.unwrap_or_else(|| format!("no closed form: its arrivals come through {upstream}"));
            self.unknown[i] = Some(Unknown { arrival, throughput, reason });
        }
        self.pass_lower = lower.pass_fraction;
        self
    }
}

/// The sum over the sources of their rates into each of the `n` nodes.
fn node_totals(per_source: &[Vec<f64>], n: usize) -> Vec<f64> {
    (0..n).map(|i| per_source.iter().map(|rates| rates[i]).sum()).collect()
}

/// The flows of a network where some node passes on less than it is offered.
struct Capped<'a> {
    /// The network.
    network: &'a Network,
    /// Per source, the expected copies into each vertex from each other (Fˢ transposed).
    incoming: Vec<SparseMatrix>,
    /// Per source, its entry vertex and rate.
    entries: Vec<(Option<usize>, f64)>,
    /// Per vertex, every vertex some source's messages go to next.
    successors: Vec<Vec<usize>>,
    /// How each blocking queue is fed.
    feeds: &'a [Option<Feed>],
    /// Where each unbounded queue saturates.
    saturation: &'a [f64],
    /// Which bound of an unknown blocking throughput to take.
    bound: Bound,
}

impl<'a> Capped<'a> {
    fn new(
        network: &'a Network,
        graphs: &[SourceFlow],
        (feeds, saturation): (&'a [Option<Feed>], &'a [f64]),
        scale: f64,
        bound: Bound,
    ) -> Self {
        let vertices = network.nodes().len() + network.exchanges().len();
        let mut successors = vec![Vec::new(); vertices];
        for graph in graphs {
            for (i, next) in successors.iter_mut().enumerate() {
                next.extend(graph.copies.row(i).iter().map(|&(j, _)| j));
            }
        }
        for next in &mut successors {
            next.sort_unstable();
            next.dedup();
        }
        let entries = network
            .sources()
            .iter()
            .zip(graphs)
            .map(|(source, graph)| {
                let share = source_share(feeds, source, bound);
                (graph.entry, scale * source.open_rate().unwrap_or(0.0) * share)
            })
            .collect();
        let incoming = graphs.iter().map(|g| g.copies.transpose()).collect();
        Self { network, incoming, entries, successors, feeds, saturation, bound }
    }

    /// What node `index` passes at arrival rate `lambda`.
    fn pass(&self, index: usize, lambda: f64) -> f64 {
        let node = &self.network.nodes()[index];
        node_pass_fraction(node, self.feeds[index], lambda, self.bound, self.saturation[index])
    }

    /// The flows, from the uncapped rates `rates` (per source, per vertex), settled one
    /// component at a time from upstream down.
    fn settle(&self, mut rates: Vec<Vec<f64>>) -> Flows {
        let nodes = self.network.nodes();
        let vertices = self.successors.len();
        // What each node passes at its uncapped rate: consistent with `rates`, from above.
        let mut pass: Vec<f64> = (0..vertices)
            .map(|v| if v < nodes.len() { self.pass(v, rates.iter().map(|r| r[v]).sum()) } else { 1.0 })
            .collect();
        let mut inside = vec![false; vertices];
        let mut order = components(vertices, |v| self.successors[v].iter().copied());
        order.reverse();
        for component in order {
            component.iter().for_each(|&v| inside[v] = true);
            // What flows in from upstream, already settled.
            let inflow: Vec<Vec<f64>> = component
                .iter()
                .map(|&v| {
                    (0..rates.len())
                        .map(|s| {
                            let (entry, rate) = self.entries[s];
                            let from_upstream: f64 = self.incoming[s]
                                .row(v)
                                .iter()
                                .filter(|&&(u, _)| !inside[u])
                                .map(|&(u, copies)| rates[s][u] * pass[u] * copies)
                                .sum();
                            from_upstream + if entry == Some(v) { rate } else { 0.0 }
                        })
                        .collect()
                })
                .collect();
            let looped = component.len() > 1 || self.successors[component[0]].contains(&component[0]);
            for _ in 0..if looped { MAX_ITERATIONS } else { 1 } {
                let mut change: f64 = 0.0;
                for (&v, inflow) in component.iter().zip(&inflow) {
                    let previous: f64 = rates.iter().map(|r| r[v]).sum();
                    let mut total = 0.0;
                    for (s, &outside) in inflow.iter().enumerate() {
                        let around: f64 = self.incoming[s]
                            .row(v)
                            .iter()
                            .filter(|&&(u, _)| inside[u])
                            .map(|&(u, copies)| rates[s][u] * pass[u] * copies)
                            .sum();
                        rates[s][v] = outside + around;
                        total += rates[s][v];
                    }
                    if v < nodes.len() {
                        pass[v] = self.pass(v, total);
                    }
                    change = change.max((total - previous).abs() / total.abs().max(1e-300));
                }
                if change < CONVERGED {
                    break;
                }
            }
            component.iter().for_each(|&v| inside[v] = false);
        }
        let n = nodes.len();
        pass.truncate(n);
        Flows::known(node_totals(&rates, n), pass, self.saturation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::fixtures::network;

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

    #[test]
    fn a_shortest_queue_balancer_pools_unequal_servers() {
        // 1.5/s over a fast server (μ = 1.6/s) and a slow one (μ = 0.75/s). Split evenly, the
        // slow one would get 0.75/s, ρ = 1, and the pool would look saturated; shortest-queue
        // sends the slow one less, and the pool saturates only at Σμ = 2.35/s: headroom
        // 2.35/1.5, each server at the pool's ρ = 1.5/2.35, the fast one receiving
        // 1.5 × 1.6/2.35. Per-server waits have no closed form (the queues decide the split).
        let text = r#"
            [[source]]
            name = "s"
            to = "lb"
            interarrival = { dist = "exponential", rate = 1.5 }
            [[exchange]]
            name = "lb"
            type = "shortest-queue"
            bindings = [{ to = "fast" }, { to = "slow" }]
            [[node]]
            name = "fast"
            service = { dist = "exponential", mean = "0.625s" }
            [[node]]
            name = "slow"
            service = { dist = "exponential", mean = "1.3333333333333333s" }
        "#;
        let analysis = crate::analytic::fixtures::analysis(text);
        assert!(analysis.system.stable);
        assert!((analysis.system.headroom.unwrap() - 2.35 / 1.5).abs() < 1e-12);
        assert!((analysis.system.max_throughput.unwrap() - 2.35).abs() < 1e-12);
        for node in &analysis.nodes {
            assert!((node.utilization - 1.5 / 2.35).abs() < 1e-12, "{}", node.name);
            assert!(node.metric(crate::model::NodeMetric::MeanWait).unwrap().value.is_none());
            assert!(!node.metric(crate::model::NodeMetric::ArrivalRate).unwrap().exact);
        }
        assert!((analysis.nodes[0].arrival_rate - 1.5 * 1.6 / 2.35).abs() < 1e-12);
    }
}
