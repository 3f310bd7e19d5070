//! The system as a whole: whether every unbounded queue is stable, the bottleneck, and the
//! headroom before the first unbounded queue saturates.

use super::blocking::Unknown;
use super::linear::SingularMatrix;
use super::results::{NodeAnalysis, SystemAnalysis, Verdict};
use super::traffic::{Flows, flows};
use crate::format::number;
use crate::model::{Network, Node, Overflow, Source, Target};

/// Doublings searched past the first saturation the uncapped load predicts.
const MAX_DOUBLINGS: u32 = 50;

/// The reason given when no unbounded queue can saturate.
const NEVER_SATURATES: &str = "no queue saturates at any load: each unbounded queue has infinitely many servers or sits behind bounded queues";

/// The system-wide figures, from the nodes' own; `demand` is the arrival rate at each node
/// with nothing capped (the linear traffic equations).
pub(super) fn analyze_system(
    network: &Network,
    nodes: &[NodeAnalysis],
    demand: &[f64],
    flow: &Flows,
) -> Result<SystemAnalysis, SingularMatrix> {
    let stable = network.nodes().iter().zip(nodes).all(|(node, a)| !node.has_unbounded_queue() || a.stable);
    let undetermined = undetermined(nodes, flow);
    let bottleneck =
        nodes.iter().max_by(|a, b| a.utilization.total_cmp(&b.utilization)).map(|a| a.name.clone());
    let offered_rate: f64 = network.sources().iter().filter_map(Source::open_rate).sum();
    let (headroom, headroom_reason) = match headroom(network, demand)? {
        (Some(bound), reason) => match withheld(network, demand, flow, bound) {
            Some(withheld) => (None, Some(withheld)),
            None => (Some(bound), reason),
        },
        found => found,
    };
    let max_throughput = headroom.map(|h| max_throughput(network, demand, h, offered_rate));
    Ok(SystemAnalysis {
        stable,
        undetermined,
        bottleneck,
        headroom,
        headroom_reason,
        max_throughput,
        offered_rate,
        population_curve: Vec::new(),
    })
}

/// Why the system's stability is open, when no queue is known to be unstable and some is
/// [`Verdict::Undetermined`]: each such node with its cause (see `node::undetermined`).
fn undetermined(nodes: &[NodeAnalysis], flow: &Flows) -> Option<String> {
    if nodes.iter().any(|node| node.verdict == Verdict::Unstable) {
        return None;
    }
    let open: Vec<String> = nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.verdict == Verdict::Undetermined)
        .map(|(i, node)| {
            let cause = if flow.unknown[i].is_some() {
                "its arrival rate has only bounds, either side of where it saturates"
            } else {
                "a blocking queue downstream holds its servers"
            };
            format!("node '{}' ({cause})", node.name)
        })
        .collect();
    (!open.is_empty()).then(|| format!("no closed form for {}", open.join(", ")))
}

/// The offered rate at which the first unbounded queue saturates: `headroom` × `offered`,
/// computed where that would overflow or underflow as cμ / (λ/offered) at the saturating node.
fn max_throughput(network: &Network, demand: &[f64], headroom: f64, offered: f64) -> f64 {
    let product = headroom * offered;
    if product.is_normal() {
        return product;
    }
    // The node that saturates first: cμ = headroom × λ there.
    let first = network
        .nodes()
        .iter()
        .zip(demand)
        .filter(|(node, lambda)| node.has_unbounded_queue() && **lambda > 0.0)
        .map(|(node, &lambda)| node.capacity_rate() / (lambda / offered))
        .fold(f64::INFINITY, f64::min);
    if first.is_finite() { first } else { product }
}

/// Why the headroom `bound` that the traffic equations give is only a bound, if it is.
///
/// A sender held by a blocking queue saturates below its cμ, so the bound is an upper one. An
/// unbounded queue whose arrival rate has no closed form (behind a blocking queue that throttles
/// a source beside other senders) saturates, in the flows, at the most that queue can carry, so
/// the bound is a lower one. With both, it is neither.
fn withheld(network: &Network, demand: &[f64], flow: &Flows, bound: f64) -> Option<String> {
    let held = held_sender(network, demand);
    let unknown = network
        .nodes()
        .iter()
        .zip(&flow.unknown)
        .find(|(node, unknown)| node.has_unbounded_queue() && unknown.is_some())
        .and_then(|(node, unknown)| unknown.as_ref().map(|u| (node, u)));
    let waits = |node: &Node| {
        format!(
            "no closed form: node '{}' waits while a blocking queue downstream is full, so it saturates below its cμ",
            node.name
        )
    };
    let after = |node: &Node, unknown: &Unknown| {
        let why = unknown.reason.trim_start_matches("no closed form: ");
        format!("no closed form: node '{}' depends on a throughput that has none ({why})", node.name)
    };
    match (held, unknown) {
        (None, None) => None,
        (Some(held), None) => {
            Some(format!("{}; the load can grow by a factor {} at most", waits(held), number(bound)))
        }
        (None, Some((node, unknown))) => Some(format!(
            "{}; the load can grow by a factor {} at least",
            after(node, unknown),
            number(bound)
        )),
        (Some(held), Some((node, unknown))) => Some(format!("{}; {}", waits(held), after(node, unknown))),
    }
}

/// A node with traffic and an unbounded queue that routes to a blocking queue: its servers wait
/// while that queue is full, so it saturates at a load no closed form gives.
fn held_sender<'a>(network: &'a Network, demand: &[f64]) -> Option<&'a Node> {
    network.nodes().iter().zip(demand).find_map(|(node, &lambda)| {
        let blocks = |route: &crate::model::Route| {
            matches!(route.target, Target::Node(next) if network.node(next).overflow == Overflow::Block)
        };
        (lambda > 0.0 && node.has_unbounded_queue() && node.routing.branches().any(blocks)).then_some(node)
    })
}

/// Whether some unbounded queue is at or beyond saturation with source rates scaled by `scale`.
fn saturated(network: &Network, scale: f64) -> Result<bool, SingularMatrix> {
    let flow = flows(network, scale)?;
    Ok(network
        .nodes()
        .iter()
        .zip(&flow.arrival_rate)
        .any(|(node, &lambda)| node.has_unbounded_queue() && lambda >= node.capacity_rate()))
}

/// The largest factor on every source's rate that keeps all unbounded queues below saturation.
///
/// # Formula
/// With nothing capped, the rates grow in proportion to the load, so the factor is
/// min over the unbounded queues of cμ/λ (a ratio: no overflow for extreme rates). When a
/// finite queue, or a queue with a TTL that saturates first, caps what flows on, it is found by
/// doubling from that bound then bisection (saturation is monotone in the factor).
fn headroom(network: &Network, demand: &[f64]) -> Result<(Option<f64>, Option<String>), SingularMatrix> {
    if network.nodes().iter().all(|node| !node.has_unbounded_queue()) {
        return Ok((
            None,
            Some("every queue is finite: overload drops messages instead of growing one".to_owned()),
        ));
    }
    let ratio = |node: &Node, lambda: f64| node.capacity_rate() / lambda;
    let bound = network
        .nodes()
        .iter()
        .zip(demand)
        .filter(|(node, lambda)| node.has_unbounded_queue() && **lambda > 0.0)
        .map(|(node, &lambda)| ratio(node, lambda))
        .fold(f64::INFINITY, f64::min);
    if !(bound.is_finite() && bound > 0.0) {
        return Ok((None, Some(NEVER_SATURATES.to_owned())));
    }
    // Nothing capped below `bound`: no finite queue, and every queue with a TTL keeps up.
    let uncapped = network.nodes().iter().zip(demand).all(|(node, &lambda)| {
        node.capacity.is_none()
            && (node.has_unbounded_queue() || lambda <= 0.0 || ratio(node, lambda) >= bound)
    });
    if uncapped || saturated(network, bound)? {
        return Ok((Some(bound), None));
    }
    let (mut low, mut high) = (bound, 2.0 * bound);
    let mut doublings = 0;
    while !saturated(network, high)? {
        (low, high) = (high, 2.0 * high);
        doublings += 1;
        if doublings > MAX_DOUBLINGS || !high.is_finite() {
            return Ok((None, Some(NEVER_SATURATES.to_owned())));
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if saturated(network, mid)? {
            high = mid;
        } else {
            low = mid;
        }
        if high - low <= high * 1e-15 {
            break;
        }
    }
    Ok((Some(high), None))
}

#[cfg(test)]
mod tests {
    use crate::analytic::fixtures::{TANDEM, analysis};

    #[test]
    fn headroom_and_bottleneck_of_a_tandem() {
        // ρa = 2 × 0.25 = 0.5; ρb = 2 × 0.8 / 2 = 0.8. b saturates when the load grows by 1/0.8.
        let analysis = analysis(TANDEM);
        assert_eq!(analysis.system.bottleneck.as_deref(), Some("b"));
        assert!((analysis.system.headroom.unwrap() - 1.25).abs() < 1e-12);
        assert!((analysis.system.max_throughput.unwrap() - 2.5).abs() < 1e-12);
        assert!(analysis.system.stable);
    }
}
