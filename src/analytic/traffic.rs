//! Traffic equations of an open network: the arrival rate at every node, counting feedback loops,
//! and how overloaded or finite nodes cap what flows downstream.

use super::linear::{SingularMatrix, solve};
use super::station::mmck;
use crate::model::{Network, Node, Target};

/// Iterations of the capped fixed point before giving up on convergence.
const MAX_ITERATIONS: usize = 100_000;

/// Relative change below which the fixed point has converged.
const CONVERGED: f64 = 1e-13;

/// Flow rates through the network in steady state (or, for overloaded nodes, in the fluid limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Flows {
    /// Messages offered to each node per second (admitted or not).
    pub arrival_rate: Vec<f64>,
    /// Fraction of each node's arrivals that leave it served: 1 − drop probability for a finite
    /// channel; min(1, cμ/λ) for an unbounded one (an overloaded queue passes only cμ per second).
    pub pass_fraction: Vec<f64>,
}

impl Flows {
    /// Messages completing service at node `index` per second.
    #[must_use]
    pub fn throughput(&self, index: usize) -> f64 {
        self.arrival_rate[index] * self.pass_fraction[index]
    }
}

/// Fraction of the arrivals a node lets through at arrival rate `lambda`.
#[must_use]
pub fn pass_fraction(node: &Node, lambda: f64) -> f64 {
    let mu = node.service_rate();
    match node.capacity {
        Some(capacity) => {
            // A finite channel has finitely many workers (validation rejects ∞ with a capacity).
            let servers = node.servers.count().unwrap_or(capacity);
            mmck(lambda, mu, servers, capacity).map_or(1.0, |m| 1.0 - m.drop_probability)
        }
        None if lambda > node.capacity_rate() => node.capacity_rate() / lambda,
        None => 1.0,
    }
}

/// External arrival rate into each node, with every source's rate multiplied by `scale`.
fn external_rates(network: &Network, scale: f64) -> Vec<f64> {
    let mut gamma = vec![0.0; network.nodes().len()];
    for source in network.sources() {
        if let Target::Node(id) = source.target {
            gamma[id.index()] += scale * source.rate();
        }
    }
    gamma
}

/// The matrix I − Pᵀ of the routing probabilities between nodes.
fn identity_minus_routing_transposed(network: &Network) -> Vec<Vec<f64>> {
    let n = network.nodes().len();
    let mut matrix: Vec<Vec<f64>> =
        (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for (from, node) in network.nodes().iter().enumerate() {
        for route in node.routing.branches() {
            if let Target::Node(to) = route.target {
                matrix[to.index()][from] -= route.probability;
            }
        }
    }
    matrix
}

/// Mean number of visits to each node by a message entering at node `entry`.
///
/// # Formula
/// v = e_entry + Pᵀ v, solved as (I − Pᵀ) v = e_entry.
///
/// # Errors
/// When the routing has a loop without exit (the system is singular).
pub fn visits(network: &Network, entry: usize) -> Result<Vec<f64>, SingularMatrix> {
    let mut rhs = vec![0.0; network.nodes().len()];
    rhs[entry] = 1.0;
    solve(identity_minus_routing_transposed(network), rhs)
}

/// Solves the traffic equations with every source's rate multiplied by `scale`.
///
/// # Formula
/// Uncapped: λ = γ + Pᵀλ, i.e. (I − Pᵀ)λ = γ. Capped: λ_j = γ_j + Σ_i λ_i·q_i(λ_i)·p_ij where
/// q_i is the node's pass fraction, iterated from the uncapped solution (which bounds it above).
///
/// # Errors
/// When the routing has a loop without exit.
pub fn flows(network: &Network, scale: f64) -> Result<Flows, SingularMatrix> {
    let gamma = external_rates(network, scale);
    let mut lambda = solve(identity_minus_routing_transposed(network), gamma.clone())?;
    for rate in &mut lambda {
        *rate = rate.max(0.0);
    }
    let nodes = network.nodes();
    let mut pass: Vec<f64> = nodes.iter().zip(&lambda).map(|(node, &l)| pass_fraction(node, l)).collect();
    if pass.iter().any(|&q| q < 1.0) {
        for _ in 0..MAX_ITERATIONS {
            let mut next = gamma.clone();
            for (from, node) in nodes.iter().enumerate() {
                let out = lambda[from] * pass[from];
                for route in node.routing.branches() {
                    if let Target::Node(to) = route.target {
                        next[to.index()] += out * route.probability;
                    }
                }
            }
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
        let visits = visits(&network(FEEDBACK), 0).unwrap();
        assert!((visits[0] - 4.0 / 3.0).abs() < 1e-12);
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
}
