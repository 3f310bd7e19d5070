//! Blocking queues (finite, `overflow = "block"`): how each is fed, which decides whether its
//! throughput has a closed form, and what it lets through.
//!
//! A blocking queue loses nothing: a full queue holds its sender back. Fed by nodes alone, it
//! passes all they send (up to cμ); fed by one Poisson source with exponential service, it is a
//! birth-death chain; otherwise its throughput has only bounds ([`Unknown`]), and the traffic
//! equations are solved at each [`Bound`]. A node whose servers it can hold saturates below its
//! cμ ([`held_saturation`]).

use super::linear::SingularMatrix;
use super::station::mmck;
use super::traffic::{Flows, SourceFlow, pass_fraction};
use crate::model::{Network, Node, Overflow, Source, Target};

/// A node's rates when they depend on a blocking queue whose throughput has no closed form:
/// sound bounds, from the flows with every such queue at its least and at its most.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    /// Least and most messages offered per second.
    pub arrival: (f64, f64),
    /// Least and most messages completing service per second.
    pub throughput: (f64, f64),
    /// Why, starting "no closed form: ".
    pub reason: String,
}

/// Which bound of a blocking queue's unknown throughput the flows take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The least it can carry.
    Lower,
    /// The most it can carry.
    Upper,
}

/// How a blocking queue (finite, `overflow = "block"`) is fed, which decides whether its
/// throughput has a closed form. Exchanges cannot feed one (validation rejects it), so its
/// senders are the sources whose `to` it is and the nodes that route to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Only by nodes, which wait while it is full and lose nothing: it passes all they send
    /// (up to cμ).
    Nodes,
    /// By one Poisson source alone, with exponential service: exactly a birth-death chain on
    /// 0..=K+1, state K+1 meaning "full, and the source holds a message".
    OnePoisson,
    /// By m ≥ 2 Poisson sources alone, with exponential service. Each stops while it holds a
    /// message, the others go on: the number in the queue plus the messages held is a
    /// birth-death chain whose birth rate falls from Γ = Σγ (up to K) to the rates of the
    /// sources not yet held, so its throughput lies between the chains with birth rate Γ on
    /// 0..=K+1 and on 0..=K+m (stochastic ordering of birth-death chains).
    Sources(u32),
    /// Otherwise: sources with nodes, a non-Poisson source, or non-exponential service. No
    /// closed form: it carries at least what its nodes send and at most min(offered, cμ).
    Shared,
}

/// How each node of `network` is fed, when it is a blocking queue (`None` for any other node),
/// given the flow graph of every source ([`source_flows`](super::traffic::source_flows)): a node counts as a sender when some
/// source's messages reach it.
///
/// # Errors
/// When the routing has a loop without exit.
pub fn feeds(network: &Network, graphs: &[SourceFlow]) -> Result<Vec<Option<Feed>>, SingularMatrix> {
    let n = network.nodes().len();
    let blocking = |node: &Node| node.overflow == Overflow::Block && node.capacity.is_some();
    if !network.nodes().iter().any(blocking) {
        return Ok(vec![None; n]);
    }
    let mut sources = vec![0_u32; n];
    let mut markovian: Vec<bool> = network.nodes().iter().map(|node| node.service.is_exponential()).collect();
    for source in network.sources() {
        if let Target::Node(id) = source.target {
            sources[id.index()] = sources[id.index()].saturating_add(1);
            markovian[id.index()] &= source.is_poisson();
        }
    }
    let reached = reached(graphs, n)?;
    let mut from_nodes = vec![false; n];
    for sender in network.nodes().iter().zip(&reached).filter(|(_, reached)| **reached).map(|(node, _)| node)
    {
        for route in sender.routing.branches() {
            if let Target::Node(id) = route.target {
                from_nodes[id.index()] = true;
            }
        }
    }
    Ok(network
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, node)| {
            blocking(node).then_some(match (sources[i], from_nodes[i]) {
                (0, _) => Feed::Nodes,
                (1, false) if markovian[i] => Feed::OnePoisson,
                (m, false) if markovian[i] => Feed::Sources(m),
                _ => Feed::Shared,
            })
        })
        .collect())
}

/// Why blocking queue `index`, fed as `feed`, has no closed form for its throughput, if it has
/// none; `flows` says which nodes carry traffic.
#[must_use]
pub fn feed_reason(network: &Network, index: usize, feed: Option<Feed>, flows: &Flows) -> Option<String> {
    let node = &network.nodes()[index];
    let entering = network
        .sources()
        .iter()
        .filter(|s| matches!(s.target, Target::Node(id) if id.index() == index))
        .map(|s| format!("'{}'", s.name))
        .collect::<Vec<_>>()
        .join(", ");
    let name = &node.name;
    let from_nodes = || {
        network.nodes().iter().zip(&flows.arrival_rate).any(|(sender, &rate)| {
            rate > 0.0
                && sender
                    .routing
                    .branches()
                    .any(|r| matches!(r.target, Target::Node(id) if id.index() == index))
        })
    };
    match feed? {
        Feed::Nodes | Feed::OnePoisson => None,
        Feed::Sources(m) => Some(format!(
            "no closed form: blocking queue '{name}' throttles {m} sources ({entering}), each held alone while it is full"
        )),
        Feed::Shared if from_nodes() => Some(format!(
            "no closed form: blocking queue '{name}' throttles source {entering} and never loses what its nodes send"
        )),
        Feed::Shared => Some(format!(
            "no closed form: blocking queue '{name}' throttles source {entering}, and only Poisson arrivals with exponential service form a birth-death chain"
        )),
    }
}

/// Most states of a held sender's saturated chain worth summing (beyond, no saturation is
/// given and the node keeps cμ, withheld as any other held sender).
const MAX_CHAIN_STATES: u32 = 1_000_000;

/// Per node, the completion rate at which its unbounded queue saturates: cμ, except for a
/// sender that [`held_saturation`] solves.
///
/// # Errors
/// When the routing has a loop without exit.
pub fn saturations(
    network: &Network,
    feeds: &[Option<Feed>],
    graphs: &[SourceFlow],
) -> Result<Vec<f64>, SingularMatrix> {
    let n = network.nodes().len();
    let mut saturation: Vec<f64> = network.nodes().iter().map(Node::capacity_rate).collect();
    if !feeds.contains(&Some(Feed::Nodes)) {
        return Ok(saturation);
    }
    let reached = reached(graphs, n)?;
    // Per blocking queue fed by nodes, the nodes with traffic that route to it.
    let mut senders: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in network.nodes().iter().enumerate().filter(|&(i, _)| reached[i]) {
        for route in node.routing.branches().filter(|r| r.probability > 0.0) {
            if let Target::Node(id) = route.target
                && feeds[id.index()] == Some(Feed::Nodes)
                && !senders[id.index()].contains(&i)
            {
                senders[id.index()].push(i);
            }
        }
    }
    for (queue, from) in senders.iter().enumerate() {
        if let [sender] = from.as_slice()
            && let Some(rate) = held_saturation(network, *sender, queue)
        {
            saturation[*sender] = saturation[*sender].min(rate);
        }
    }
    Ok(saturation)
}

/// Per node of the `n`, whether some source's messages reach it.
fn reached(graphs: &[SourceFlow], n: usize) -> Result<Vec<bool>, SingularMatrix> {
    let mut reached = vec![false; n];
    for graph in graphs {
        for (i, visits) in graph.visits(&[])?.into_iter().take(n).enumerate() {
            reached[i] |= visits > 0.0;
        }
    }
    Ok(reached)
}

/// The completion rate at which `sender`, an unbounded queue of c₁ exponential servers, saturates
/// when it routes with probability p to the blocking queue `queue` (c₂ exponential servers,
/// capacity K, fed by nothing else and itself held by nothing), its other routes free.
///
/// # Formula
/// Saturated, the sender always has work, and n = (messages in the queue) + (sender's servers
/// holding a message it cannot pass on) is a birth-death chain on 0..=K+c₁: births
/// p (c₁ − h) μ₁ with h = max(0, n − K) servers held, deaths min(n, c₂) μ₂. The sender saturates
/// at Σ πₙ (c₁ − hₙ) μ₁, exactly (the drift condition of the quasi-birth-death process of its
/// queue). A Poisson source into the queue would be the same chain with c₁ = 1: the single
/// source's blocking chain.
#[must_use]
pub fn held_saturation(network: &Network, sender: usize, queue: usize) -> Option<f64> {
    let (from, to) = (&network.nodes()[sender], &network.nodes()[queue]);
    let p: f64 = from
        .routing
        .branches()
        .filter(|r| matches!(r.target, Target::Node(id) if id.index() == queue))
        .map(|r| r.probability)
        .sum();
    let blocks = |node: &Node| {
        node.routing.branches().any(|r| {
            matches!(r.target, Target::Node(id) if network.node(id).overflow == Overflow::Block && id.index() != queue)
        })
    };
    let (Some(c1), Some(c2), Some(k)) = (from.servers.count(), to.servers.count(), to.capacity) else {
        return None;
    };
    let markovian = from.service.is_exponential() && to.service.is_exponential();
    let states = k.checked_add(c1).filter(|&n| n <= MAX_CHAIN_STATES)?;
    if !markovian || !from.has_unbounded_queue() || blocks(from) || blocks(to) || p <= 0.0 {
        return None;
    }
    let (mu1, mu2) = (from.service_rate(), to.service_rate());
    let serving = |n: u32| f64::from(c1 - n.saturating_sub(k).min(c1));
    let (mut weight, mut total, mut served) = (1.0_f64, 0.0_f64, 0.0_f64);
    for n in 0..=states {
        if n > 0 {
            weight *= p * serving(n - 1) * mu1 / (f64::from(n.min(c2)) * mu2);
        }
        total += weight;
        served += weight * serving(n) * mu1;
        if weight > 1e200 {
            (weight, total, served) = (weight * 1e-200, total * 1e-200, served * 1e-200);
        }
    }
    (total > 0.0 && served.is_finite()).then(|| served / total)
}

/// Fraction of the arrivals a node lets through at arrival rate `lambda`, for `node` fed as
/// `feed` ([`feeds`]): as [`pass_fraction`], except for a blocking queue, which passes what its
/// [`Feed`] lets in: everything its nodes send (they wait while it is full), up to cμ; exactly
/// the birth-death chain's share for one Poisson source; and, where no closed form exists, the
/// `bound` asked for (with [`Bound::Lower`] and [`Feed::Shared`], its sources send nothing: see
/// [`source_share`]).
///
/// An unbounded queue passes min(1, `saturation`/λ): `saturation` is cμ, or less for a sender
/// held by a blocking queue ([`saturations`]).
#[must_use]
pub fn node_pass_fraction(
    node: &Node,
    feed: Option<Feed>,
    lambda: f64,
    bound: Bound,
    saturation: f64,
) -> f64 {
    if node.capacity.is_none() && saturation < node.capacity_rate() {
        return if lambda > saturation { saturation / lambda } else { 1.0 };
    }
    let (Some(feed), Some(capacity)) = (feed, node.capacity) else {
        return pass_fraction(node, lambda);
    };
    let chain = |states: u32| {
        let servers = node.servers.count().unwrap_or(capacity);
        mmck(lambda, node.service_rate(), servers, states).map_or(1.0, |m| 1.0 - m.drop_probability)
    };
    match (feed, bound) {
        (Feed::OnePoisson, _) | (Feed::Sources(_), Bound::Lower) => chain(capacity + 1),
        (Feed::Sources(m), Bound::Upper) => chain(capacity.saturating_add(m)),
        (Feed::Nodes | Feed::Shared, _) if lambda > node.capacity_rate() => node.capacity_rate() / lambda,
        (Feed::Nodes | Feed::Shared, _) => 1.0,
    }
}

/// The share of `source`'s rate the flows at `bound` count, given every node's [`feeds`]: none
/// at [`Bound::Lower`] for a source into a blocking queue fed as [`Feed::Shared`] (it may get
/// nothing in), all of it otherwise.
#[must_use]
pub fn source_share(feeds: &[Option<Feed>], source: &Source, bound: Bound) -> f64 {
    let shared = matches!(source.target, Target::Node(id) if feeds[id.index()] == Some(Feed::Shared));
    if shared && bound == Bound::Lower { 0.0 } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::fixtures::network;
    use crate::analytic::traffic::{flows, source_flows};

    const BLOCKED_TANDEM: &str = r#"
        [[source]]
        name = "s"
        to = "s1"
        interarrival = { dist = "exponential", rate = 0.6 }
        [[node]]
        name = "s1"
        service = { dist = "exponential", mean = "1s" }
        routes = [{ to = "s2" }]
        [[node]]
        name = "s2"
        capacity = 2
        overflow = "block"
        service = { dist = "exponential", mean = "1s" }
    "#;

    #[test]
    fn a_blocking_queue_fed_by_a_node_loses_nothing() {
        // s1 holds a served message while s2 is full and never drops one, so s2 passes all of
        // the 0.6/s (not the 1 − p_3 of an M/M/1/3 source-blocking chain, 0.5404/s).
        let flows = flows(&network(BLOCKED_TANDEM), 1.0).unwrap();
        assert!((flows.arrival_rate[1] - 0.6).abs() < 1e-15);
        assert!((flows.throughput(1) - 0.6).abs() < 1e-15);
        // The same queue fed straight by the source holds the source back: 1 − p_3 of M/M/1/3
        // at ρ = 0.6, p_3 = 0.4 × 0.6³ / (1 − 0.6⁴) = 0.0864 / 0.8704.
        let direct = network(
            &BLOCKED_TANDEM.replace("to = \"s1\"\n        interarrival", "to = \"s2\"\n        interarrival"),
        );
        let flows = crate::analytic::traffic::flows(&direct, 1.0).unwrap();
        assert!((flows.pass_fraction[1] - (1.0 - 0.0864 / 0.8704)).abs() < 1e-12);
    }

    /// A blocking queue b (μ = 1/s, capacity 2) fed 0.5/s by a source and 0.3/s by node a;
    /// b routes to c.
    const SHARED: &str = r#"
        [[source]]
        name = "direct"
        to = "b"
        interarrival = { dist = "exponential", rate = 0.5 }
        [[source]]
        name = "via"
        to = "a"
        interarrival = { dist = "exponential", rate = 0.3 }
        [[node]]
        name = "a"
        service = { dist = "exponential", mean = "1s" }
        routes = [{ to = "b" }]
        [[node]]
        name = "b"
        capacity = 2
        overflow = "block"
        service = { dist = "exponential", mean = "1s" }
        routes = [{ to = "c" }]
        [[node]]
        name = "c"
        service = { dist = "exponential", mean = "0.5s" }
    "#;

    #[test]
    fn a_blocking_queue_fed_by_a_source_and_a_node_is_bounded() {
        // b carries at least what a sends (0.3/s, never lost) and at most min(0.8, cμ = 1):
        // both rates of b and of c downstream have no closed form; a's are exact.
        let network = network(SHARED);
        let feeds = feeds(&network, &source_flows(&network)).unwrap();
        assert_eq!(feeds, vec![None, Some(Feed::Shared), None]);
        let flows = flows(&network, 1.0).unwrap();
        assert!(flows.unknown[0].is_none());
        for i in [1, 2] {
            let unknown = flows.unknown[i].as_ref().unwrap();
            assert!((unknown.throughput.0 - 0.3).abs() < 1e-12, "{unknown:?}");
            assert!((unknown.throughput.1 - 0.8).abs() < 1e-12, "{unknown:?}");
        }
        assert!(flows.unknown[1].as_ref().unwrap().reason.contains("throttles source 'direct'"));
        assert!(flows.unknown[2].as_ref().unwrap().reason.contains("through blocking queue 'b'"));
        // At the lower bound the source into b sends nothing; what a sends all passes.
        assert_eq!(source_share(&feeds, &network.sources()[0], Bound::Lower), 0.0);
        assert_eq!(source_share(&feeds, &network.sources()[1], Bound::Lower), 1.0);
        assert_eq!(flows.pass_lower[1], 1.0);
    }

    #[test]
    fn several_poisson_sources_lie_between_two_chains() {
        // Two Poisson sources at 0.4/s into M/M/1 with K = 2: between M/M/1/3 and M/M/1/4 at
        // ρ = 0.8, 0.8 (1 − 0.2 × 0.8³/(1 − 0.8⁴)) and 0.8 (1 − 0.2 × 0.8⁴/(1 − 0.8⁵)).
        let text = r#"
            [[source]]
            name = "s1"
            to = "b"
            interarrival = { dist = "exponential", rate = 0.4 }
            [[source]]
            name = "s2"
            to = "b"
            interarrival = { dist = "exponential", rate = 0.4 }
            [[node]]
            name = "b"
            capacity = 2
            overflow = "block"
            service = { dist = "exponential", mean = "1s" }
        "#;
        let two = network(text);
        assert_eq!(feeds(&two, &source_flows(&two)).unwrap(), vec![Some(Feed::Sources(2))]);
        let unknown = flows(&two, 1.0).unwrap().unknown[0].clone().unwrap();
        let low = 0.8 * (1.0 - 0.2 * 0.8_f64.powi(3) / (1.0 - 0.8_f64.powi(4)));
        let high = 0.8 * (1.0 - 0.2 * 0.8_f64.powi(4) / (1.0 - 0.8_f64.powi(5)));
        assert!((unknown.throughput.0 - low).abs() < 1e-12, "{unknown:?}");
        assert!((unknown.throughput.1 - high).abs() < 1e-12, "{unknown:?}");
        // One of them alone is exact.
        let one = network(&text.replacen("[[source]]", "[[node]]\n            name = \"idle\"\n            service = { dist = \"exponential\", mean = \"1s\" }\n            [[source]]", 1).replacen("to = \"b\"", "to = \"idle\"", 1));
        let feeds = feeds(&one, &source_flows(&one)).unwrap();
        assert_eq!(feeds[1], Some(Feed::OnePoisson));
        assert!(flows(&one, 1.0).unwrap().unknown[1].is_none());
    }

    #[test]
    fn a_non_poisson_source_into_a_blocking_queue_is_bounded_by_its_rate() {
        let text = r#"
            [[source]]
            name = "s"
            to = "b"
            interarrival = { dist = "deterministic", value = "2s" }
            [[node]]
            name = "b"
            capacity = 2
            overflow = "block"
            service = { dist = "exponential", mean = "1s" }
        "#;
        let network = network(text);
        assert_eq!(feeds(&network, &source_flows(&network)).unwrap(), vec![Some(Feed::Shared)]);
        let unknown = flows(&network, 1.0).unwrap().unknown[0].clone().unwrap();
        assert_eq!(unknown.throughput, (0.0, 0.5));
        assert!(unknown.reason.contains("only Poisson arrivals"), "{}", unknown.reason);
    }

    #[test]
    fn a_held_sender_saturates_where_its_chain_says() {
        // s1 and s2 (μ = 1, K = 2) saturated: n = 0, 1, 2, 3 (3: s2 full, s1 held), births 1
        // in 0..=2 and deaths 1, so uniform: s1 completes 3/4 per second. With K = 1, 2/3.
        assert!((held_saturation(&network(BLOCKED_TANDEM), 0, 1).unwrap() - 0.75).abs() < 1e-12);
        let small = BLOCKED_TANDEM.replace("capacity = 2", "capacity = 1");
        let tandem = network(&small);
        let saturation = saturations(&tandem, &[None, Some(Feed::Nodes)], &source_flows(&tandem)).unwrap();
        assert!((saturation[0] - 2.0 / 3.0).abs() < 1e-12);
        assert!((saturation[1] - 1.0).abs() < 1e-15);
        // Offered 0.7/s, s1 passes only 2/3 per second on to s2.
        let flows = flows(&network(&small.replace("rate = 0.6", "rate = 0.7")), 1.0).unwrap();
        assert!((flows.throughput(1) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_sender_held_by_a_blocking_queue_has_no_confident_headroom() {
        // Saturated, s1 and s2 (μ = 1, K = 2) form a chain on s2's states 0, 1, 2 and "2 with
        // s1 held", all equally likely by the cut equations, so the tandem carries 3/4 per
        // second: the true headroom is 0.75/0.6 = 1.25, below the 1/0.6 that ignoring blocking
        // gives. No closed form: the headroom is withheld, with the upper bound.
        let analysis = crate::analytic::fixtures::analysis(BLOCKED_TANDEM);
        assert_eq!(analysis.system.headroom, None);
        assert_eq!(analysis.system.max_throughput, None);
        let reason = analysis.system.headroom_reason.unwrap();
        assert!(reason.starts_with("no closed form: node 's1' waits"), "{reason}");
        assert!(reason.contains("by a factor 1.667 at most"), "{reason}");
        let held = &analysis.nodes[0];
        let reason = held.metric(crate::model::NodeMetric::MeanSojourn).unwrap().reason.clone().unwrap();
        assert!(reason.contains("blocking queue downstream"), "{reason}");
        assert!(!held.metric(crate::model::NodeMetric::Utilization).unwrap().exact);
    }
}
