//! Time-to-live with dead-lettering: the expired fraction of M/M/1+D, and every expired message
//! counted, dead-lettered or dropped, exactly in every replication.
//!
//! # Tolerances
//! One Bonferroni family with the other feature tests, [`FEATURES`] (see
//! [`Family`](crate::support::Family)): every simulated mean is compared with theory through an
//! interval over its 42 checks; every 95% half-width must also be at most 2% of the theory value,
//! so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere, never re-seeded to
//! pass.

use kendall::stats::{NodeMetric, ReplicationResult, SourceMetric};

use crate::support::{FEATURES, ScenarioBuilder, node_index, simulate, value};

/// A Poisson source (λ = 0.9/s) into an M/M/1 node q (μ = 1/s) whose messages expire after
/// waiting 2 s (`ttl`); with `dead_letter`, expired messages go to the node dlq (infinitely many
/// workers, 0.1 s), which routes to exit.
fn ttl_station(duration_s: f64, warmup_s: f64, replications: u32, dead_letter: bool) -> String {
    let mut scenario = ScenarioBuilder::simulated(duration_s, warmup_s, replications);
    scenario.source("producer", "q", 0.9, "");
    if dead_letter {
        scenario.node("q", 1, 1.0, "ttl = \"2s\"\ndead_letter = \"dlq\"").node_with(
            "dlq",
            "servers = \"infinite\"\nservice = { dist = \"deterministic\", value = \"100ms\" }",
        );
    } else {
        scenario.node("q", 1, 1.0, "ttl = \"2s\"");
    }
    scenario.toml()
}

/// Asserts per node arrivals + in_system_start = departures + drops + expired + in_system_end.
fn assert_conserved(replication: &ReplicationResult) {
    for (index, node) in replication.nodes.iter().enumerate() {
        let counts = node.counts;
        assert_eq!(
            counts.arrivals + u64::from(counts.in_system_start),
            counts.departures + counts.drops + counts.expired + u64::from(counts.in_system_end),
            "replication {} node {index}: {counts:?}",
            replication.index
        );
    }
}

/// Time-to-live: λ = 0.9/s into M/M/1 (μ = 1/s) with a TTL of D = 2 s on the wait.
///
/// Expiry happens at the head of the queue, but a message past its deadline behind the head
/// never takes service either, so the messages served are those of M/M/1+D, the queue with
/// deterministic patience D (an arrival is served iff its wait, with expired messages taking no
/// service, is at most D). Level crossing on the workload V of the messages that will be served:
/// density f(x) = λ π0 e^{−(μ−λ)x} for x ≤ D and f(D) e^{−μ(x−D)} beyond, with
/// π0 = 1/(1 + λ(1 − E)/(μ − λ) + λE/μ), E = e^{−(μ−λ)D} = e^{−0.2}; an arrival expires iff it
/// finds V > D (PASTA): P = λ π0 E/μ = 0.218764 (π0 = 0.296887). Check of the density: the
/// served rate μ(1 − π0) equals λ(1 − P). The runs start empty without warm-up (needed for the
/// exact counts below); the relaxation time of this queue is tens of seconds, so the start's
/// bias on a 5e4 s replication is about 1e-5 relative, far below the CI.
///
/// Exactly per replication: conservation per node (arrivals + in_system_start = departures +
/// drops + expired + in_system_end); with a dead-letter node and no warm-up, its arrivals are the
/// TTL node's expired count, nothing is lost (the source's dropped count is 0 and its delivered
/// count is departures(q) + departures(dlq), both routing to exit). Without a dead-letter node
/// (and with a warm-up), each expired message is a drop for the source: dropped = expired(q),
/// delivered = departures(q), delivered_fraction < 1.
///
/// 1 CI check: the expired fraction.
#[test]
fn expired_messages_are_counted_and_dead_lettered() {
    let (lambda, mu, ttl): (f64, f64, f64) = (0.9, 1.0, 2.0);
    let e = (-(mu - lambda) * ttl).exp();
    let idle = 1.0 / (1.0 + lambda * (1.0 - e) / (mu - lambda) + lambda * e / mu);
    let expired = lambda * idle * e / mu;
    assert!((expired - 0.218_764).abs() < 1e-6 && (idle - 0.296_887).abs() < 1e-6, "{expired} {idle}");
    assert!((mu * (1.0 - idle) - lambda * (1.0 - expired)).abs() < 1e-12);

    // About 2.6 events per simulated second: 20 × 5e4 s × 2.6 = 2.6e6 events.
    let experiment = simulate(&ttl_station(50_000.0, 0.0, 20, true));
    let (q, dlq) = (node_index(&experiment, "q"), node_index(&experiment, "dlq"));
    FEATURES.assert_mean(
        "M/M/1+D expired fraction",
        experiment.summary.nodes[q].get(NodeMetric::ExpiredFraction),
        expired,
    );
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        assert_conserved(replication);
        let (q, dlq, producer) =
            (replication.nodes[q].counts, replication.nodes[dlq].counts, &replication.sources[0]);
        assert!(q.expired > 0, "{context}: {q:?}");
        assert_eq!((dlq.in_system_start, dlq.expired, dlq.drops), (0, 0, 0), "{context}: {dlq:?}");
        assert_eq!(dlq.arrivals, q.expired, "{context}");
        assert_eq!(producer.dropped, 0, "{context}");
        assert_eq!(producer.delivered, q.departures + dlq.departures, "{context}");
        assert_eq!(value(&producer.metrics, SourceMetric::DeliveredFraction), 1.0, "{context}");
    }

    let dropping = simulate(&ttl_station(10_000.0, 500.0, 4, false));
    for replication in &dropping.replications {
        let context = format!("replication {}", replication.index);
        assert_conserved(replication);
        let (q, producer) = (replication.nodes[0].counts, &replication.sources[0]);
        assert!(q.expired > 0, "{context}: {q:?}");
        assert_eq!(producer.dropped, q.expired, "{context}");
        assert_eq!(producer.delivered, q.departures, "{context}");
        assert!(value(&producer.metrics, SourceMetric::DeliveredFraction) < 1.0, "{context}");
    }
}
