//! Work distribution: the one target a balancing exchange (round-robin, random, shortest-queue,
//! power-of-two, least-loaded) or a key-hash exchange given a keyless message picks.

use super::Replication;
use crate::engine::Observer;
use crate::engine::streams::SimRng;
use crate::model::{ExchangeId, ExchangeKind, Target, unit_interval};

impl<O: Observer> Replication<'_, O> {
    /// The one target a work-distributing exchange picks among `targets` (never empty).
    #[inline(never)]
    pub(super) fn balance(&mut self, exchange_id: ExchangeId, targets: &[Target]) -> Target {
        let index = exchange_id.index();
        let rng = &mut self.balancing_streams[index];
        let held = |target: Target| match target {
            Target::Node(node) => f64::from(self.stations[node.index()].in_system),
            Target::Exchange(_) | Target::Exit => 0.0,
        };
        match self.network.exchange(exchange_id).kind {
            ExchangeKind::RoundRobin => {
                let turn = &mut self.round_robin[index];
                let target = targets[*turn % targets.len()];
                *turn = (*turn + 1) % targets.len();
                target
            }
            ExchangeKind::PowerOfTwo if targets.len() > 1 => {
                let first = uniform_index(rng, targets.len());
                let second = (first + 1 + uniform_index(rng, targets.len() - 1)) % targets.len();
                let (a, b) = (targets[first], targets[second]);
                if held(b) < held(a) { b } else { a }
            }
            ExchangeKind::ShortestQueue => fewest(targets, held, rng),
            ExchangeKind::LeastLoaded => {
                // Per server it has now (infinitely many: 0; none at the moment: never chosen
                // while another can serve).
                let per_worker = |target: Target| match target {
                    Target::Node(node) => match self.network.node(node).servers.count() {
                        None => 0.0,
                        Some(_) => match self.stations[node.index()].servers {
                            0 => f64::INFINITY,
                            servers => held(target) / f64::from(servers),
                        },
                    },
                    Target::Exchange(_) | Target::Exit => 0.0,
                };
                fewest(targets, per_worker, rng)
            }
            _ => targets[uniform_index(rng, targets.len())],
        }
    }
}

/// A uniform index in 0..n.
fn uniform_index(rng: &mut SimRng, n: usize) -> usize {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = (unit_interval(rng) * n as f64) as usize;
    index.min(n - 1)
}

/// The target with the smallest `load`, ties broken uniformly at random (reservoir sampling).
fn fewest(targets: &[Target], load: impl Fn(Target) -> f64, rng: &mut SimRng) -> Target {
    let mut best = targets[0];
    let mut best_load = load(best);
    let mut ties = 1;
    for &target in &targets[1..] {
        let candidate = load(target);
        if candidate < best_load {
            (best, best_load, ties) = (target, candidate, 1);
        } else if candidate == best_load {
            ties += 1;
            if uniform_index(rng, ties) == 0 {
                best = target;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::testing::{replication, scenario};
    use crate::model::Scenario;
    use crate::model::{NodeId, Target};

    /// One source into a work-distributing exchange of `kind` over four single-server nodes,
    /// `n0` to `n3`, except `n3`, which has two servers.
    fn balancer(kind: &str) -> Scenario {
        scenario(&format!(
            r#"
            [[source]]
            name = "s"
            to = "x"
            interarrival = {{ dist = "exponential", rate = 1.0 }}
            [[exchange]]
            name = "x"
            type = "{kind}"
            bindings = [{{ to = "n0" }}, {{ to = "n1" }}, {{ to = "n2" }}, {{ to = "n3" }}]
            [[node]]
            name = "n0"
            service = {{ dist = "exponential", mean = "1s" }}
            [[node]]
            name = "n1"
            service = {{ dist = "exponential", mean = "1s" }}
            [[node]]
            name = "n2"
            service = {{ dist = "exponential", mean = "1s" }}
            [[node]]
            name = "n3"
            servers = 2
            service = {{ dist = "exponential", mean = "1s" }}
            "#
        ))
    }

    /// How often each of the four nodes is picked in `draws` choices, the nodes holding
    /// `in_system` messages (which the choices do not change).
    fn picks(kind: &str, in_system: [u32; 4], draws: u32) -> [u32; 4] {
        let scenario = balancer(kind);
        let mut replication = replication(&scenario);
        for (station, held) in replication.stations.iter_mut().zip(in_system) {
            station.in_system = held;
        }
        let exchange = crate::model::ExchangeId(0);
        let targets = scenario.network.exchange(exchange).targets(None).to_vec();
        let mut counts = [0; 4];
        for _ in 0..draws {
            let Target::Node(NodeId(node)) = replication.balance(exchange, &targets) else {
                panic!("the targets are nodes")
            };
            counts[node as usize] += 1;
        }
        counts
    }

    /// Shortest-queue over four nodes, three of which tie for the fewest messages: the tie is
    /// broken uniformly at random, so each tied node's count in n = 30 000 choices is
    /// binomial(n, 1/3): mean 10 000, standard deviation √(n · 1/3 · 2/3) = 81.6. A tolerance of
    /// 400 is 4.9 standard deviations, which a correct tie-break exceeds with probability below
    /// 3 · 10⁻⁶ per count; a tie-break favouring the first or last tied node (p = 1/2 or 1/6)
    /// is 5 000 away. The seed is fixed, so the counts are the same at every run.
    #[test]
    fn shortest_queue_breaks_ties_uniformly_at_random() {
        let counts = picks("shortest-queue", [1, 0, 0, 0], 30_000);
        assert_eq!(counts[0], 0, "the longer queue is never picked: {counts:?}");
        for &count in &counts[1..] {
            assert!(count.abs_diff(10_000) <= 400, "{counts:?}");
        }
    }

    /// Least-loaded compares messages per server: n3 holds 2 messages at 2 servers (1 each) and
    /// ties with n2 (1 at 1), while n0 and n1 hold 2 each; binomial(20 000, 1/2) has standard
    /// deviation 70.7, and 350 is 4.9 of them.
    #[test]
    fn least_loaded_counts_messages_per_worker() {
        let counts = picks("least-loaded", [2, 2, 1, 2], 20_000);
        assert_eq!(counts[0] + counts[1], 0, "{counts:?}");
        assert!(counts[2].abs_diff(10_000) <= 350 && counts[3].abs_diff(10_000) <= 350, "{counts:?}");
    }

    /// Power-of-two picks two distinct nodes at random and sends to the one holding fewer
    /// messages: the node holding the most is never picked, and the one holding the fewest
    /// whenever it is among the two, with probability 1/2 (3 of the 6 pairs).
    #[test]
    fn power_of_two_takes_the_shorter_of_two_distinct_nodes() {
        let counts = picks("power-of-two", [3, 2, 1, 0], 6_000);
        assert_eq!(counts[0], 0, "{counts:?}");
        // binomial(6 000, 1/2): standard deviation 38.7; 190 is 4.9 of them.
        assert!(counts[3].abs_diff(3_000) <= 190, "{counts:?}");
    }

    /// Round-robin takes the targets in binding order, whatever they hold.
    #[test]
    fn round_robin_cycles_in_binding_order() {
        assert_eq!(picks("round-robin", [5, 0, 9, 1], 10), [3, 3, 2, 2]);
    }
}
