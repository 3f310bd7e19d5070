//! Work-distributing exchanges: random, round-robin and shortest-queue balancers split the work
//! as their rules say.
//!
//! # Tolerances
//! One Bonferroni family with the other feature tests, [`FEATURES`] (see
//! [`Family`](crate::support::Family)): every simulated mean is compared with theory through an
//! interval over its 42 checks; every 95% half-width must also be at most 2% of the theory value,
//! so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere, never re-seeded to
//! pass.
//! Figures the library computes without simulating (`analyze`) are compared with ours to
//! [`EXACT`](crate::support::EXACT) relative: rounding only.

use kendall::experiment::Experiment;
use kendall::stats::{Estimate, ExchangeMetric, NodeMetric, ReplicationResult};

use crate::support::{
    FEATURES, ScenarioBuilder, analysis, assert_analyzed, named, node_figure, simulate, value,
};

/// A Poisson source (λ = 1.8/s) into an exchange of `kind` over three M/M/1 nodes (μ = 1/s).
fn balanced(kind: &str) -> String {
    ScenarioBuilder::simulated(300_000.0, 1000.0, 20)
        .source("producer", "spread", 1.8, "")
        .exchange("spread", kind, &[r#"{ to = "w0" }"#, r#"{ to = "w1" }"#, r#"{ to = "w2" }"#], "")
        .node("w0", 1, 1.0, "")
        .node("w1", 1, 1.0, "")
        .node("w2", 1, 1.0, "")
        .toml()
}

/// Per replication, the mean wait over the messages served by all nodes: Σ departures_i Wq_i /
/// Σ departures_i.
fn pooled_wait(replication: &ReplicationResult) -> f64 {
    let (mut served, mut total) = (0.0, 0.0);
    for node in &replication.nodes {
        #[allow(clippy::cast_precision_loss)] // counts far below 2^53
        let departures = node.counts.departures as f64;
        served += departures;
        total += departures * value(&node.metrics, NodeMetric::MeanWait);
    }
    total / served
}

/// Work distribution: λ = 1.8/s over three identical M/M/1 workers (μ = 1/s).
///
/// Random: an independent uniform choice per message thins the Poisson stream into three
/// independent Poisson streams of λ/3 = 0.6/s, so each worker is an M/M/1 at ρ = 0.6:
/// Wq = ρ/(μ − λ/3) = 0.6/0.4 = 1.5 s (also `analyze`'s figure, to 1e-9).
///
/// Round-robin: the targets take turns, so over any stretch of consecutive messages (the
/// observation window included) each worker's arrivals are within one message of a third of the
/// exchange's routed count, in every replication. Each worker then sees every third arrival:
/// Erlang-3 gaps of rate λ per phase, a GI/M/1 queue whose wait is Wq = σ/(μ(1 − σ)) with σ the
/// root in (0, 1) of σ = A*(μ(1 − σ)), A*(s) = (λ/(λ + s))³ the gaps' Laplace transform:
/// σ = (1.8/(2.8 − σ))³ = 0.448549 (fixed-point iteration, a contraction here), Wq = 0.813396 s.
///
/// Shortest queue on the same seed (same arrival and service streams): sending each message to
/// the worker holding the fewest uses the state that random ignores, so it avoids joining a
/// long queue while another worker idles; the pooled M/M/3 (Erlang C: Σ_{k<3} a^k/k! = 4.42,
/// P = a³/3! · 3/(3 − a) = 2.43, C = 2.43/6.85 = 0.354745, Wq = C/(3 − 1.8) = 0.295620 s) is
/// a lower bound for it (coupled through uniformisation, the central queue keeps min(N, 3)
/// workers busy, the most any policy can, so its N is stochastically smallest; with the same
/// mean number busy, λ/μ, Little gives the smallest Wq = (L − λ/μ)/λ), random's 1.5 s far above.
/// The pooled wait of shortest-queue (Σ departures_i Wq_i / Σ departures_i per replication) is
/// asserted between the two only with Bonferroni intervals that clear both bounds.
///
/// 9 CI checks: 3 Wq for random, 3 for round-robin, the three interval ends of the comparison.
#[test]
fn balancers_split_work_as_their_rules_say() {
    let (lambda, mu): (f64, f64) = (1.8, 1.0);
    let share = lambda / 3.0;
    let wait = share / mu / (mu - share);
    assert!((wait - 1.5).abs() < 1e-12, "{wait}");
    let random_toml = balanced("random");
    let theory = analysis(&random_toml);
    // About 3.6 events per simulated second: 20 × 3.01e5 s × 3.6 = 2.2e7 events per run; the 95%
    // half-widths of the waits are about 0.8%.
    let random = simulate(&random_toml);
    for name in ["w0", "w1", "w2"] {
        assert_analyzed(
            &format!("random {name} analyze Wq"),
            node_figure(&theory, name, NodeMetric::MeanWait),
            wait,
        );
        FEATURES.assert_mean(
            &format!("random split {name} (M/M/1 rho 0.6) Wq"),
            named(&random.summary.nodes, name).get(NodeMetric::MeanWait),
            wait,
        );
    }

    let mut sigma = 0.5;
    for _ in 0..200 {
        sigma = (lambda / (lambda + mu * (1.0 - sigma))).powi(3);
    }
    let erlang_wait = sigma / (mu * (1.0 - sigma));
    assert!((sigma - 0.448_549).abs() < 1e-6 && (erlang_wait - 0.813_396).abs() < 1e-6, "{sigma}");
    let round_robin = simulate(&balanced("round-robin"));
    for name in ["w0", "w1", "w2"] {
        let estimate = named(&round_robin.summary.nodes, name).get(NodeMetric::MeanWait);
        FEATURES.assert_mean(&format!("round-robin {name} (E3/M/1) Wq"), estimate, erlang_wait);
    }
    for replication in &round_robin.replications {
        let routed = replication.exchanges[0].routed;
        let exchange_rate = value(&replication.exchanges[0].metrics, ExchangeMetric::ArrivalRate);
        assert!(exchange_rate > 0.0);
        for node in &replication.nodes {
            #[allow(clippy::cast_precision_loss)] // counts far below 2^53
            let off = (node.counts.arrivals as f64 - routed as f64 / 3.0).abs();
            assert!(off < 1.0, "replication {}: {} of {routed}", replication.index, node.counts.arrivals);
        }
    }

    let shortest = simulate(&balanced("shortest-queue"));
    let estimate = |experiment: &Experiment| {
        let waits: Vec<f64> = experiment.replications.iter().map(pooled_wait).collect();
        Estimate::from_values(&waits).expect("replications")
    };
    let (random_wait, shortest_wait) = (estimate(&random), estimate(&shortest));
    let stretch = FEATURES.stretch(f64::from(u32::try_from(random_wait.samples).expect("few")) - 1.0);
    let random_low = random_wait.mean - stretch * random_wait.half_width();
    let shortest_low = shortest_wait.mean - stretch * shortest_wait.half_width();
    let shortest_high = shortest_wait.mean + stretch * shortest_wait.half_width();
    let pooled = {
        let a = lambda / mu;
        let waiting = a.powi(3) / 6.0 * 3.0 / (3.0 - a);
        waiting / (1.0 + a + a * a / 2.0 + waiting) / (3.0 * mu - lambda)
    };
    assert!((pooled - 0.295_620).abs() < 1e-6, "{pooled}");
    println!(
        "pooled Wq: random {:.6} (Bonferroni low {random_low:.6}), shortest-queue {:.6} \
         (Bonferroni [{shortest_low:.6}, {shortest_high:.6}]), M/M/3 {pooled:.6}",
        random_wait.mean, shortest_wait.mean
    );
    assert!(shortest_high < random_low, "shortest-queue {shortest_wait:?} vs random {random_wait:?}");
    assert!(pooled < shortest_low, "shortest-queue {shortest_wait:?} vs M/M/3 {pooled}");
}
