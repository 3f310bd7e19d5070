//! Backpressure (`overflow = "block"`): a blocking channel and its source form one birth-death
//! chain, and no message is ever lost, exactly in every replication.
//!
//! # Tolerances
//! One Bonferroni family with the other feature tests, [`FEATURES`] (see
//! [`Family`](crate::support::Family)): every simulated mean is compared with theory through an
//! interval over its 42 checks; every 95% half-width must also be at most 2% of the theory value,
//! so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere, never re-seeded to
//! pass.
//! Figures the library computes without simulating (`analyze`) are compared with ours to
//! [`EXACT`](crate::support::EXACT) relative: rounding only.

use kendall::stats::{NodeMetric, SourceMetric};

use crate::support::{
    FEATURES, ScenarioBuilder, analysis, assert_analyzed, node_figure, simulate, source_figure, value,
};

/// The stationary distribution of a birth-death chain on 0..=`top` with birth rate `lambda` and
/// death rate min(n, c) `mu`: p_n ∝ Π_{j=1..n} lambda/(min(j, c) mu), built by ratios.
fn birth_death(lambda: f64, mu: f64, servers: u32, top: u32) -> Vec<f64> {
    let mut weights = vec![1.0];
    for j in 1..=top {
        let previous = weights[weights.len() - 1];
        weights.push(previous * lambda / (f64::from(j.min(servers)) * mu));
    }
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// Backpressure at one node: a Poisson source (λ = 1.8/s) into an M/M/2 node (μ = 1/s) of
/// capacity K = 4 with `overflow = "block"`.
///
/// While the channel is full the source holds its next message and produces nothing more, so
/// the number of messages n (in the node, plus the one held) is a birth-death chain on 0..=K+1:
/// birth λ in states 0..=K, death min(n, 2) μ (in state K+1 the two workers are busy and a
/// departure lets the held message in). Weights relative to p_0: 1, 1.8, 1.62, 1.458, 1.3122,
/// 1.18098, sum 8.37118; so p_5 = p_{K+1} = 0.141077.
/// - throughput λ(1 − p_{K+1}) = 1.8 · 0.858923 = 1.546062/s;
/// - L = Σ min(n, K) p_n (the node holds at most K) = (1.8 + 3.24 + 4.374 + 5.2488 + 4 · 1.18098)
///   / 8.37118 = 2.315889;
/// - W = L/throughput = 1.497928 s (Little);
/// - the source is blocked exactly in state K+1: blocked_fraction = p_{K+1} = 0.141077;
/// - nothing is ever dropped: drop_probability = 0 in every replication;
/// - latency = W + the time held at the source: by Little on the source's held message,
///   p_{K+1} = throughput · E[hold], so E[hold] = p_{K+1}/(λ(1 − p_{K+1})) = 0.091249 s and the
///   latency is 1.589177 s.
///
/// Each is also `analyze`'s figure ("M/M/c/K with its Poisson source blocked"), to 1e-9.
///
/// 5 CI checks: throughput, L, W, blocked_fraction, latency.
#[test]
fn blocking_channel_is_a_birth_death_chain_with_its_source() {
    let (lambda, mu, servers, capacity) = (1.8, 1.0, 2, 4);
    let p = birth_death(lambda, mu, servers, capacity + 1);
    let held = p[p.len() - 1];
    let throughput = lambda * (1.0 - held);
    let in_system: f64 =
        p.iter().enumerate().map(|(n, p_n)| f64::from(u32::try_from(n).unwrap().min(capacity)) * p_n).sum();
    let sojourn = in_system / throughput;
    let latency = sojourn + held / (lambda * (1.0 - held));
    assert!((held - 0.141_077).abs() < 1e-6, "{held}");
    assert!((in_system - 2.315_889).abs() < 1e-6, "{in_system}");
    assert!((latency - 1.589_177).abs() < 1e-6, "{latency}");

    let toml = ScenarioBuilder::simulated(100_000.0, 500.0, 20)
        .source("producer", "channel", lambda, "")
        .node("channel", servers, 1.0 / mu, &format!("capacity = {capacity}\noverflow = \"block\""))
        .toml();
    let theory = analysis(&toml);
    let what = |metric: &str| format!("blocking M/M/2/4 {metric}");
    assert_analyzed(
        &what("analyze throughput"),
        node_figure(&theory, "channel", NodeMetric::Throughput),
        throughput,
    );
    assert_analyzed(&what("analyze L"), node_figure(&theory, "channel", NodeMetric::MeanInSystem), in_system);
    assert_analyzed(&what("analyze W"), node_figure(&theory, "channel", NodeMetric::MeanSojourn), sojourn);
    assert_eq!(node_figure(&theory, "channel", NodeMetric::DropProbability), Some(0.0));
    assert_analyzed(
        &what("analyze blocked_fraction"),
        source_figure(&theory, SourceMetric::BlockedFraction),
        held,
    );
    assert_analyzed(&what("analyze latency"), source_figure(&theory, SourceMetric::LatencyMean), latency);

    // About 2 × 1.55 events per simulated second: 20 × 1.005e5 s = 6.2e6 events.
    let experiment = simulate(&toml);
    let channel = &experiment.summary.nodes[0];
    let producer = &experiment.summary.sources[0];
    FEATURES.assert_mean(&what("throughput"), channel.get(NodeMetric::Throughput), throughput);
    FEATURES.assert_mean(&what("L"), channel.get(NodeMetric::MeanInSystem), in_system);
    FEATURES.assert_mean(&what("W"), channel.get(NodeMetric::MeanSojourn), sojourn);
    FEATURES.assert_mean(&what("source blocked_fraction"), producer.get(SourceMetric::BlockedFraction), held);
    FEATURES.assert_mean(&what("source latency"), producer.get(SourceMetric::LatencyMean), latency);
    for replication in &experiment.replications {
        let counts = replication.nodes[0].counts;
        assert_eq!(counts.drops, 0, "replication {}", replication.index);
        assert_eq!(value(&replication.nodes[0].metrics, NodeMetric::DropProbability), 0.0);
        assert_eq!(replication.sources[0].dropped, 0);
        assert!(counts.in_system_end <= capacity, "{counts:?}");
    }
}

/// Backpressure never loses a message: a Poisson source (λ = 0.8/s) into a (one worker,
/// μ = 2/s, K = 2, block), which routes to b (one worker, μ = 1/s, K = 2, block), which routes to
/// exit. b is the slow stage, so a's worker often finishes a message that b cannot take yet and
/// holds it; when a is full, the source holds its next message.
///
/// With no warm-up, every replication satisfies, exactly:
/// - no drop anywhere (node drops, the source's dropped count), and nothing expires;
/// - per node, arrivals = departures + in_system_end (nothing there at the start);
/// - a message leaves a exactly when it enters b (blocking after service: the worker hands it
///   over when b has room, at the same instant): arrivals(b) = departures(a);
/// - b routes to exit: departures(b) = messages delivered to the source's exit;
/// - hence arrivals(a) = delivered + in_system_end(a) + in_system_end(b): every message that
///   entered the network was delivered or is still inside. A message the source created is
///   either in a or held by the source, and an open source holds at most one (it stops producing
///   while it holds one), so created − arrivals(a) ∈ {0, 1};
/// - each node holds at most its capacity at the end;
/// - a's worker is sometimes blocked (blocked_fraction > 0), and so is the source.
#[test]
fn backpressure_never_loses_a_message() {
    let toml = ScenarioBuilder::simulated(20_000.0, 0.0, 4)
        .source("producer", "a", 0.8, "")
        .node("a", 1, 0.5, "capacity = 2\noverflow = \"block\"\nroutes = [{ to = \"b\" }]")
        .node("b", 1, 1.0, "capacity = 2\noverflow = \"block\"")
        .toml();
    // About 3 × 0.8 events per simulated second: 4 × 2e4 s = 2e5 events.
    let experiment = simulate(&toml);
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let [a, b] = [&replication.nodes[0], &replication.nodes[1]];
        let producer = &replication.sources[0];
        for node in [a, b] {
            let counts = node.counts;
            assert_eq!(
                (counts.drops, counts.expired, counts.in_system_start),
                (0, 0, 0),
                "{context}: {counts:?}"
            );
            assert_eq!(
                counts.arrivals,
                counts.departures + u64::from(counts.in_system_end),
                "{context}: {counts:?}"
            );
            assert!(counts.in_system_end <= 2, "{context}: {counts:?}");
        }
        assert_eq!(b.counts.arrivals, a.counts.departures, "{context}");
        assert_eq!(b.counts.departures, producer.delivered, "{context}");
        assert_eq!(producer.dropped, 0, "{context}");
        assert_eq!(value(&producer.metrics, SourceMetric::DeliveredFraction), 1.0, "{context}");
        assert_eq!(
            a.counts.arrivals,
            producer.delivered + u64::from(a.counts.in_system_end) + u64::from(b.counts.in_system_end),
            "{context}"
        );
        let blocked = value(&a.metrics, NodeMetric::BlockedFraction);
        let source_blocked = value(&producer.metrics, SourceMetric::BlockedFraction);
        println!("{context}: a blocked_fraction {blocked:.4}, source blocked_fraction {source_blocked:.4}");
        assert!(blocked > 0.0 && source_blocked > 0.0, "{context}: {blocked}, {source_blocked}");
        assert_eq!(value(&b.metrics, NodeMetric::BlockedFraction), 0.0, "{context}: b routes to exit");
    }
}
