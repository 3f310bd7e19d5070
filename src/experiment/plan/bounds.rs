//! What theory fixes before any simulation: each node's offered load, the fewest servers that
//! keep it under the utilisation cap, and the utilisation of a plan.

use crate::analytic::Analysis;
use crate::model::{Network, Node, Servers};

/// The offered load a = λ/μ of every node, in erlangs, at the rates of `analysis`, counting
/// what would arrive if nothing upstream were overloaded or dropped.
pub(super) fn offered_loads(network: &Network, analysis: &Analysis) -> Vec<f64> {
    network
        .nodes()
        .iter()
        .zip(&analysis.nodes)
        .map(|(node, figures)| match node.servers().count() {
            Some(servers) if figures.arrival_rate > 0.0 => {
                figures.utilization * f64::from(servers) * figures.demand_rate / figures.arrival_rate
            }
            _ => figures.demand_rate * node.service().mean(),
        })
        .collect()
}

/// The fewest servers that keep a node with offered load `offered` at a utilisation of at
/// most `cap`, and below 1 when its queue is unbounded (stability).
///
/// # Formula
/// c = ⌈a/U⌉, plus one when the queue is unbounded and a/c = 1.
pub(super) fn fewest_servers(offered: f64, cap: f64, unbounded: bool) -> u32 {
    let needed = (offered / cap - 1e-9).ceil().clamp(1.0, f64::from(u32::MAX - 1));
    let servers = needed as u32;
    if unbounded && offered >= f64::from(servers) { servers + 1 } else { servers }
}

/// The fewest servers with which `node`, offered `offered` erlangs, is stable in theory; `None`
/// when it always is (a capacity bounds its queue) or has infinitely many servers.
pub(super) fn fewest_stable(node: &Node, offered: f64) -> Option<u32> {
    let unbounded = node.has_unbounded_queue() && node.servers().count().is_some();
    unbounded.then(|| fewest_servers(offered, 1.0, true))
}

/// Utilisation ρ = a/c of a node with offered load `offered` on `servers`; `None` with
/// infinitely many.
pub(super) fn utilization(offered: f64, servers: Servers) -> Option<f64> {
    servers.count().map(|count| offered / f64::from(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fewest_servers_meet_the_cap_and_stability() {
        // a = 6.5 erlangs: 7 servers give rho 0.929 <= 1; under a cap of 0.8, 9 give 0.722.
        assert_eq!(fewest_servers(6.5, 1.0, true), 7);
        assert_eq!(fewest_servers(6.5, 0.8, true), 9);
        // a = 7 exactly: 7 servers are saturated (rho = 1), so an unbounded queue needs 8, a
        // bounded one may run at rho = 1.
        assert_eq!(fewest_servers(7.0, 1.0, true), 8);
        assert_eq!(fewest_servers(7.0, 1.0, false), 7);
        assert_eq!(fewest_servers(0.0, 1.0, true), 1);
        assert_eq!(utilization(6.5, Servers::Finite(10)), Some(0.65));
        assert_eq!(utilization(6.5, Servers::Infinite), None);
    }
}
