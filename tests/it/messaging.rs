//! Messaging semantics (issue 4): exchanges (fanout, topic, direct with an alternate target,
//! key-hash), multicast accounting, drop-head overflow, scenario validation and determinism.
//!
//! Every expected value is computed in the test from a named rule or closed form, with its
//! arithmetic in the test's doc comment: the AMQP 0-9-1 topic rules (RabbitMQ tutorial 5), Kafka's
//! default partitioner, M/M/1 and the M/M/c/K birth-death chain (queueing-formulas.md). Where
//! theory has nothing to say, invariants that hold exactly in every replication are asserted
//! instead (conservation of messages and copies, equal figures with one or two threads).
//!
//! # Tolerances
//! As in theory.rs (see [`Family`]): every simulated mean is compared with theory through a
//! Bonferroni interval over the [`CHECKS`] comparisons of this module, with a family-wise error
//! rate of [`FAMILY_ERROR`]; every 95% half-width must also be at most [`PRECISION`] of the
//! theory value, so that a loose interval cannot hide a wrong simulator (the runs are sized for
//! at most about half of it). Seed 1 everywhere, never re-seeded to pass. Values the library
//! computes without simulating (the traffic equations) are compared with ours to 1e-12 relative:
//! rounding only.

use std::path::Path;

use kendall::analytic::{Analysis, Figure, analyze, station};
use kendall::experiment;
use kendall::model::matching::kafka_partition;
use kendall::scenario::{Problem, ScenarioError};
use kendall::stats::{ExchangeMetric, NodeMetric, ReplicationResult, SourceMetric};

use crate::support::{Family, ScenarioBuilder, analysis, named, node_index, scenario, simulate, value};

/// Comparisons with theory through confidence intervals in this module, the Bonferroni
/// denominator: 12 for fan-out, 8 for the topic exchange, 3 for the alternate target, 4 for
/// key-hash, 3 for drop-head and 2 for the partial multicast (each test lists its own).
const CHECKS: u32 = 32;

/// Probability that some check of this module fails by chance alone when the simulator is right.
const FAMILY_ERROR: f64 = 0.05;

/// Largest 95% half-width accepted, relative to the theory value.
const PRECISION: f64 = 0.02;

/// This module's comparisons with theory.
const FAMILY: Family = Family { checks: CHECKS, error: FAMILY_ERROR, precision: PRECISION };

/// Asserts that a value the library computed without simulating equals ours up to rounding.
fn assert_same(what: &str, library: f64, ours: f64) {
    assert!((library - ours).abs() <= 1e-12 * ours.abs(), "{what}: library {library}, by hand {ours}");
}

/// The analytic arrival rate of the node called `name`.
fn analytic_rate(analysis: &Analysis, name: &str) -> f64 {
    analysis.nodes.iter().find(|node| node.name == name).unwrap_or_else(|| panic!("no {name}")).arrival_rate
}

/// A source's `keys` field: routing keys with their probabilities, `"key" = p, ...`.
fn routing_keys(table: &str) -> String {
    format!("keys = {{ {table} }}")
}

/// Fan-out, λ = 1/s into a fanout exchange bound to three unbounded single-server nodes with
/// exponential service of rates μ = 2, 1.6 and 4/3 per second.
///
/// Each subscriber receives a copy of every message, so its arrival process is the source's
/// Poisson process itself: each node is an M/M/1 at rate λ (the three are correlated through the
/// shared arrivals, which does not change any one node's law):
/// - μ = 2: ρ = 0.5, Wq = ρ/(μ − λ) = 0.5 s, W = 1/(μ − λ) = 1 s;
/// - μ = 1.6: ρ = 0.625, Wq = 0.625/0.6 = 1.041667 s, W = 1/0.6 = 1.666667 s;
/// - μ = 4/3: ρ = 0.75, Wq = 0.75/(1/3) = 2.25 s, W = 3 s.
///
/// Nothing is dropped, so every copy is delivered: copies_per_message = 3 exactly, the source's
/// throughput (copies delivered per second) is 3λ = 3/s, delivered_fraction and
/// all_delivered_fraction are 1. The source's latency_mean averages over copies, equally many per
/// subscriber: (1 + 1.666667 + 3)/3 = 1.888889 s, which is also what `analyze` gives.
///
/// A copy leaves the system right after its only node and was born when it entered that node
/// (the exchange takes no time), so its end-to-end latency is its sojourn there: in every
/// replication each node's subscriber_latency_mean equals its mean_sojourn, over the same copies.
///
/// 12 CI checks: 3 arrival rates, 3 Wq, 3 W, the exchange's arrival rate, the source's throughput
/// and latency.
#[test]
fn fanout_subscribers_are_independent_mm1_queues() {
    let lambda = 1.0;
    let mus = [2.0, 1.6, 4.0 / 3.0];
    let names = ["fast", "medium", "slow"];
    let mut builder = ScenarioBuilder::simulated(200_000.0, 1000.0, 20);
    builder.source("publisher", "fan", lambda, "");
    let bindings: Vec<String> = names.iter().map(|name| format!("{{ to = \"{name}\" }}")).collect();
    let bindings: Vec<&str> = bindings.iter().map(String::as_str).collect();
    builder.exchange("fan", "fanout", &bindings, "");
    for (name, mu) in names.iter().zip(mus) {
        builder.node(name, 1, 1.0 / mu, "");
    }
    let sojourns: Vec<f64> = mus.iter().map(|mu| 1.0 / (mu - lambda)).collect();
    let latency = sojourns.iter().sum::<f64>() / 3.0;
    assert!((latency - 1.888_889).abs() < 1e-6, "{latency}");
    let toml = builder.toml();
    let theory = analysis(&toml);
    let analytic_latency = theory.sources[0].metric(SourceMetric::LatencyMean).and_then(|f| f.value);
    assert_same("analyze source latency_mean", analytic_latency.expect("a latency"), latency);
    // λ + 3λ events per simulated second: 20 × 2.01e5 s × 4 = 1.6e7 events. The noisiest figure,
    // Wq at ρ = 0.75, has a 95% half-width of about 1.2%.
    let experiment = simulate(&toml);
    for (name, mu) in names.iter().zip(mus) {
        let (rho, node) = (lambda / mu, named(&experiment.summary.nodes, name));
        let what = |metric: &str| format!("fan-out {name} (M/M/1, rho {rho:.3}) {metric}");
        let library = station::mmc(lambda, mu, 1).expect("stable");
        assert_same(&what("library Wq"), library.mean_wait, rho / (mu - lambda));
        FAMILY.assert_mean(&what("arrival rate"), node.get(NodeMetric::ArrivalRate), lambda);
        FAMILY.assert_mean(&what("Wq"), node.get(NodeMetric::MeanWait), rho / (mu - lambda));
        FAMILY.assert_mean(&what("W"), node.get(NodeMetric::MeanSojourn), 1.0 / (mu - lambda));
    }
    let fan = named(&experiment.summary.exchanges, "fan");
    FAMILY.assert_mean("fan-out exchange arrival rate", fan.get(ExchangeMetric::ArrivalRate), lambda);
    let publisher = named(&experiment.summary.sources, "publisher");
    FAMILY.assert_mean(
        "fan-out source throughput (copies)",
        publisher.get(SourceMetric::Throughput),
        3.0 * lambda,
    );
    FAMILY.assert_mean(
        "fan-out source latency_mean (per copy)",
        publisher.get(SourceMetric::LatencyMean),
        latency,
    );
    for replication in &experiment.replications {
        let exchange = &replication.exchanges[0];
        assert_eq!(value(&exchange.metrics, ExchangeMetric::CopiesPerMessage), 3.0);
        assert_eq!(value(&exchange.metrics, ExchangeMetric::UnroutableFraction), 0.0);
        let source = &replication.sources[0];
        assert_eq!(source.dropped, 0);
        assert_eq!(value(&source.metrics, SourceMetric::DeliveredFraction), 1.0);
        assert_eq!(value(&source.metrics, SourceMetric::AllDeliveredFraction), 1.0);
        for (name, node) in names.iter().zip(&replication.nodes) {
            assert_eq!(node.counts.drops, 0);
            // Same copies, same values (latency = now − birth = now − arrival), same order: the
            // sums are bit-identical.
            assert_eq!(
                node.metrics.get(NodeMetric::SubscriberLatencyMean),
                node.metrics.get(NodeMetric::MeanSojourn),
                "replication {} node {name}",
                replication.index
            );
        }
    }
}

/// Keys of [`topic_exchange_routes_by_amqp_patterns`] with their probabilities.
const TOPIC_KEYS: &str = r#""sensor.temp.eu" = 0.3, "sensor.hum.eu" = 0.2, "sensor.temp.us" = 0.15, "log.error" = 0.1, "log" = 0.05, "app.db.error" = 0.05, "status.ping" = 0.1, "sensor.eu" = 0.05"#;

/// Topic exchange, λ = 10/s, bindings (AMQP 0-9-1: words split on '.', `*` exactly one word, `#`
/// zero or more):
/// - eu: `sensor.*.eu`;
/// - temp: `sensor.temp.#` and `*.temp.*` (two bindings to the same queue);
/// - logs: `log.#`;
/// - alerts: `#.error`.
///
/// Keys and where they go, by the rules:
/// - sensor.temp.eu (0.3): eu, and temp through both of its bindings, one copy (RabbitMQ delivers
///   once per queue);
/// - sensor.hum.eu (0.2): eu only (`sensor.temp.#` needs the word temp, `*.temp.*` too);
/// - sensor.temp.us (0.15): temp, through both bindings, one copy;
/// - log.error (0.1): logs and alerts;
/// - log (0.05): logs (`#` matches zero words); not alerts (`#.error` needs a last word error);
/// - app.db.error (0.05): alerts;
/// - status.ping (0.1) and sensor.eu (0.05, two words where `sensor.*.eu` needs three):
///   unroutable, dropped.
///
/// Rates: eu (0.3 + 0.2) λ = 5/s; temp (0.3 + 0.15) λ = 4.5/s; logs (0.1 + 0.05) λ = 1.5/s;
/// alerts (0.1 + 0.05) λ = 1.5/s. unroutable_fraction = 0.1 + 0.05 = 0.15; copies per message
/// = 0.5 + 0.45 + 0.15 + 0.15 = 1.25. No node drops, so the source's delivered_fraction is
/// delivered copies over copies plus unroutable messages, 1.25/(1.25 + 0.15) = 0.892857, and the
/// fraction of messages delivered to every target is 1 − 0.15 = 0.85.
///
/// 8 CI checks: 4 arrival rates, unroutable_fraction, copies_per_message, the two fractions.
#[test]
fn topic_exchange_routes_by_amqp_patterns() {
    let lambda = 10.0;
    let expected = [("eu", 0.3 + 0.2), ("temp", 0.3 + 0.15), ("logs", 0.1 + 0.05), ("alerts", 0.1 + 0.05)];
    let unroutable = 0.1 + 0.05;
    let copies: f64 = expected.iter().map(|(_, p)| p).sum();
    assert!((copies - 1.25).abs() < 1e-12);
    let mut builder = ScenarioBuilder::simulated(10_000.0, 100.0, 20);
    builder.source("sensors", "readings", lambda, &routing_keys(TOPIC_KEYS));
    builder.exchange(
        "readings",
        "topic",
        &[
            r#"{ key = "sensor.*.eu", to = "eu" }"#,
            r#"{ key = "sensor.temp.#", to = "temp" }"#,
            r#"{ key = "*.temp.*", to = "temp" }"#,
            r#"{ key = "log.#", to = "logs" }"#,
            r##"{ key = "#.error", to = "alerts" }"##,
        ],
        "",
    );
    for (name, _) in expected {
        builder.node(name, 1, 0.05, "");
    }
    let toml = builder.toml();
    let theory = analysis(&toml);
    for (name, p) in expected {
        assert_same(&format!("analyze arrival rate of {name}"), analytic_rate(&theory, name), p * lambda);
    }
    let delivered = copies / (copies + unroutable);
    assert!((delivered - 0.892_857).abs() < 1e-6, "{delivered}");
    let figure = theory.sources[0].metric(SourceMetric::DeliveredFraction).and_then(|f| f.value);
    assert_same("analyze delivered_fraction", figure.expect("a fraction"), delivered);
    // λ (1 + 1.25) events per simulated second: 20 × 1.01e4 s × 22.5 = 4.5e6 events.
    let experiment = simulate(&toml);
    for (name, p) in expected {
        let node = named(&experiment.summary.nodes, name);
        FAMILY.assert_mean(
            &format!("topic {name} arrival rate"),
            node.get(NodeMetric::ArrivalRate),
            p * lambda,
        );
    }
    let readings = named(&experiment.summary.exchanges, "readings");
    FAMILY.assert_mean(
        "topic unroutable_fraction",
        readings.get(ExchangeMetric::UnroutableFraction),
        unroutable,
    );
    FAMILY.assert_mean("topic copies_per_message", readings.get(ExchangeMetric::CopiesPerMessage), copies);
    let sensors = named(&experiment.summary.sources, "sensors");
    FAMILY.assert_mean("topic delivered_fraction", sensors.get(SourceMetric::DeliveredFraction), delivered);
    FAMILY.assert_mean(
        "topic all_delivered_fraction",
        sensors.get(SourceMetric::AllDeliveredFraction),
        1.0 - unroutable,
    );
}

/// Direct exchange with an alternate target (RabbitMQ's alternate exchange), λ = 10/s, keys
/// a (0.5), b (0.3) and zzz (0.2); bindings a → qa, b → qb, `unroutable = "dead"`. zzz matches no
/// binding, so it goes to dead: qa 5/s, qb 3/s, dead 2/s, and nothing is dropped
/// (delivered_fraction = 1 in every replication).
///
/// 3 CI checks: the three arrival rates.
#[test]
fn unroutable_messages_go_to_the_alternate_target() {
    let lambda = 10.0;
    let expected = [("qa", 0.5), ("qb", 0.3), ("dead", 0.2)];
    let mut builder = ScenarioBuilder::simulated(5_000.0, 100.0, 20);
    builder.source("producer", "direct", lambda, &routing_keys(r#""a" = 0.5, "b" = 0.3, "zzz" = 0.2"#));
    builder.exchange(
        "direct",
        "direct",
        &[r#"{ key = "a", to = "qa" }"#, r#"{ key = "b", to = "qb" }"#],
        "unroutable = \"dead\"",
    );
    for (name, _) in expected {
        builder.node(name, 1, 0.05, "");
    }
    let toml = builder.toml();
    let theory = analysis(&toml);
    for (name, p) in expected {
        assert_same(&format!("analyze arrival rate of {name}"), analytic_rate(&theory, name), p * lambda);
    }
    // 2λ events per simulated second: 20 × 5.1e3 s × 20 = 2e6 events.
    let experiment = simulate(&toml);
    for (name, p) in expected {
        let node = named(&experiment.summary.nodes, name);
        FAMILY.assert_mean(
            &format!("alternate {name} arrival rate"),
            node.get(NodeMetric::ArrivalRate),
            p * lambda,
        );
    }
    for replication in &experiment.replications {
        let source = &replication.sources[0];
        assert_eq!(source.dropped, 0, "replication {}", replication.index);
        assert_eq!(value(&source.metrics, SourceMetric::DeliveredFraction), 1.0);
    }
}

/// What the exchange metrics say about messages sent to the alternate target, with the
/// scenario of [`unroutable_messages_go_to_the_alternate_target`] (one replication suffices: the
/// claims are exact counts).
///
/// `copies_per_message` is documented as "mean number of targets a message is sent to": a
/// message sent to the alternate target is sent to one target, so every message of that scenario
/// goes to exactly one target and the metric must be exactly 1. The engine reports
/// `routed(exchange, 0)` for them (the number of matching bindings), so it comes out near 0.8.
#[test]
fn copies_per_message_counts_the_alternate_target() {
    let mut builder = ScenarioBuilder::simulated(1_000.0, 0.0, 2);
    builder.source("producer", "direct", 10.0, &routing_keys(r#""a" = 0.5, "b" = 0.3, "zzz" = 0.2"#));
    builder.exchange(
        "direct",
        "direct",
        &[r#"{ key = "a", to = "qa" }"#, r#"{ key = "b", to = "qb" }"#],
        "unroutable = \"dead\"",
    );
    for name in ["qa", "qb", "dead"] {
        builder.node(name, 1, 0.05, "");
    }
    let toml = builder.toml();
    for replication in simulate(&toml).replications {
        let copies = value(&replication.exchanges[0].metrics, ExchangeMetric::CopiesPerMessage);
        assert_eq!(copies, 1.0, "replication {}", replication.index);
    }
}

/// AMQP 0-9-1 messages always carry a routing key, the empty string when the publisher gives
/// none (`basic.publish`'s routing-key defaults to ""), and RabbitMQ routes "" to a `#` binding
/// (its routing_SUITE, quoted in src/model/matching.rs: key "" reaches `#`, `#.#`, `""` and
/// `#.#.#`; `topic_matches("#", "")` is true). A keyless source into a topic exchange whose only
/// binding is `#` should therefore have every message delivered to q: arrivals(q) = routed and
/// nothing unroutable. kendall routes a keyless message to no topic binding at all and drops
/// every message as unroutable (and `analyze` gives q an arrival rate of 0).
#[test]
fn keyless_messages_reach_the_catch_all_topic_binding() {
    let toml = ScenarioBuilder::simulated(1_000.0, 0.0, 2)
        .source("producer", "topic", 1.0, "")
        .exchange("topic", "topic", &[r##"{ key = "#", to = "q" }"##], "")
        .node("q", 1, 0.1, "")
        .toml();
    for replication in simulate(&toml).replications {
        let exchange = &replication.exchanges[0];
        assert_eq!(exchange.unroutable, 0, "replication {}", replication.index);
        assert_eq!(
            replication.nodes[0].counts.arrivals, exchange.routed,
            "replication {}",
            replication.index
        );
    }
}

/// scenarios/rabbitmq-topic.toml states its routing in its comments: at 50 messages/s with keys
/// sensor.temp.eu 0.5, sensor.hum.eu 0.2, sensor.temp.us 0.2 and status.ping 0.1,
/// eu-archive (`sensor.*.eu`) gets 0.5 + 0.2 = 70%, 35/s; temperatures (`sensor.temp.#`) gets
/// 0.5 + 0.2 = 70%, 35/s; audit (`#`) every message, 50/s. `analyze` must agree (the traffic
/// equations give offered rates, before eu-archive's drop-head buffer discards anything).
#[test]
fn shipped_topic_scenario_routes_as_its_comments_say() {
    let scenario = kendall::scenario::load(Path::new("scenarios/rabbitmq-topic.toml")).expect("valid");
    let theory = analyze(&scenario, None).expect("solvable");
    for (name, rate) in [("eu-archive", 50.0 * 0.7), ("temperatures", 50.0 * 0.7), ("audit", 50.0)] {
        assert_same(&format!("rabbitmq-topic {name}"), analytic_rate(&theory, name), rate);
    }
}

/// Published partitions among 1000 from Kafka's Java client (kafka-python's
/// `test_murmur2_java_compatibility`, quoted in src/model/matching.rs): "" → 681, "a" → 524,
/// "ab" → 434, "abc" → 107, "123456789" → 566. Since 4 divides 1000, (h mod 1000) mod 4 =
/// h mod 4, so the partition among 4 is the published one mod 4: 1, 0, 2, 3, 2. Kafka's
/// `UtilsTest` hashes give two more: murmur2("21") = −973932308, toPositive = 2^31 − 973932308
/// = 1173551340 ≡ 0 (mod 4); murmur2("foobar") = −790332482, toPositive = 1357151166 ≡ 2.
const PUBLISHED_PARTITIONS_OF_4: [(&str, u32); 7] =
    [("", 1), ("a", 0), ("ab", 2), ("abc", 3), ("123456789", 2), ("21", 0), ("foobar", 2)];

/// Key-hash (Kafka's default partitioner) over 4 partitions, λ = 10/s, keys with a hot key "abc"
/// at 0.55: "" 0.1, "a" 0.1, "ab" 0.1, "abc" 0.55, "123456789" 0.05, "21" 0.05, "foobar" 0.05.
///
/// By [`PUBLISHED_PARTITIONS_OF_4`] (asserted against `kafka_partition`, which must agree with
/// the Java client): partition 0 gets "a" and "21", 0.15 λ = 1.5/s; partition 1 gets "",
/// 1/s; partition 2 gets "ab", "123456789" and "foobar", 0.2 λ = 2/s; partition 3 gets the hot
/// key alone, 5.5/s, more than the three others together. The expected rates are also computed
/// through `kafka_partition` and through `analyze`, and must agree to rounding.
///
/// 4 CI checks: the four arrival rates.
#[test]
fn key_hash_partitions_as_kafka_does() {
    let lambda = 10.0;
    let keys = [
        ("", 0.1),
        ("a", 0.1),
        ("ab", 0.1),
        ("abc", 0.55),
        ("123456789", 0.05),
        ("21", 0.05),
        ("foobar", 0.05),
    ];
    let by_hand = [0.15, 0.1, 0.2, 0.55];
    for (key, partition) in PUBLISHED_PARTITIONS_OF_4 {
        assert_eq!(kafka_partition(key.as_bytes(), 4), partition, "key {key:?}");
    }
    let mut through_library = [0.0; 4];
    for (key, p) in keys {
        through_library[kafka_partition(key.as_bytes(), 4) as usize] += p;
    }
    let mut builder = ScenarioBuilder::simulated(5_000.0, 100.0, 20);
    let table: Vec<String> = keys.iter().map(|(key, p)| format!("\"{key}\" = {p}")).collect();
    builder.source("producer", "partitioner", lambda, &routing_keys(&table.join(", ")));
    let partitions = ["p0", "p1", "p2", "p3"];
    let bindings: Vec<String> = partitions.iter().map(|p| format!("{{ to = \"{p}\" }}")).collect();
    let bindings: Vec<&str> = bindings.iter().map(String::as_str).collect();
    builder.exchange("partitioner", "key-hash", &bindings, "");
    for name in partitions {
        builder.node(name, 1, 0.05, "");
    }
    let toml = builder.toml();
    let theory = analysis(&toml);
    for ((name, hand), library) in partitions.iter().zip(by_hand).zip(through_library) {
        assert_same(&format!("{name} share through kafka_partition"), library, hand);
        assert_same(&format!("analyze arrival rate of {name}"), analytic_rate(&theory, name), hand * lambda);
    }
    assert!(by_hand[3] > by_hand[..3].iter().sum::<f64>(), "the hot partition");
    // 2λ events per simulated second: 20 × 5.1e3 s × 20 = 2e6 events.
    let experiment = simulate(&toml);
    for (name, share) in partitions.iter().zip(by_hand) {
        let node = named(&experiment.summary.nodes, name);
        FAMILY.assert_mean(
            &format!("key-hash {name} arrival rate"),
            node.get(NodeMetric::ArrivalRate),
            share * lambda,
        );
    }
    let hot = named(&experiment.summary.nodes, "p3").get(NodeMetric::Utilization).expect("utilisation");
    for name in &partitions[..3] {
        let other = named(&experiment.summary.nodes, name).get(NodeMetric::Utilization).expect("utilisation");
        assert!(hot.mean > other.mean, "p3 is the hot partition: {hot:?} vs {name} {other:?}");
    }
}

/// The network of [`messages_and_copies_are_conserved`]: a keyless publisher at 1/s into a
/// fanout exchange bound to a (unbounded, then a2), b (capacity 3, drop-head) and c (capacity 3,
/// drop-tail), each of b and c at ρ = 0.9 so that both drop; and a keyed producer at 0.5/s into a
/// direct exchange binding only "x" (0.7) to d (capacity 2, ρ = 0.875), "nope" (0.3) being
/// dropped as unroutable.
fn conservation_network(mut builder: ScenarioBuilder) -> String {
    builder
        .source("publisher", "fan", 1.0, "")
        .source("keyed", "direct", 0.5, &routing_keys(r#""x" = 0.7, "nope" = 0.3"#))
        .exchange("fan", "fanout", &[r#"{ to = "a" }"#, r#"{ to = "b" }"#, r#"{ to = "c" }"#], "")
        .exchange("direct", "direct", &[r#"{ key = "x", to = "d" }"#], "unroutable = \"drop\"")
        .node("a", 1, 0.8, "routes = [{ to = \"a2\" }]")
        .node("a2", 1, 0.5, "")
        .node("b", 1, 0.9, "capacity = 3\noverflow = \"drop-head\"")
        .node("c", 1, 0.9, "capacity = 3\noverflow = \"drop-tail\"")
        .node("d", 1, 2.5, "capacity = 2")
        .toml()
}

/// Conservation with copies, drop-head, drop-tail and unroutable drops, warm-up 0 (so the
/// window holds every message ever created and `in_system_start` = 0), exact in every
/// replication:
/// - per node: arrivals = departures + drops + in_system_end (a drop-head victim was counted
///   when it arrived and is counted as a drop when pushed out; the arrival that pushed it is
///   admitted);
/// - publisher: its messages enter the fanout exchange the instant they are created, so the
///   exchange's `routed` counts them, and each becomes 3 copies (copies_per_message = 3
///   exactly). A copy enters exactly one of a, b, c, so Σ arrivals(a, b, c) = 3 routed, a's
///   departures all go to a2, and every copy ends delivered (leaving b, c or a2), dropped (at b or
///   c) or is still in one node at the end: delivered + dropped + Σ in_system_end(a, a2, b, c)
///   = 3 routed, with dropped = drops(b) + drops(c) and delivered = departures(a2, b, c);
/// - keyed: each message is routed by the direct exchange at creation, to d or dropped as
///   unroutable: arrivals(d) = routed − unroutable, dropped = unroutable + drops(d),
///   delivered = departures(d), so delivered + dropped + in_system_end(d) = routed.
#[test]
fn messages_and_copies_are_conserved() {
    let toml = conservation_network(ScenarioBuilder::simulated(20_000.0, 0.0, 4));
    // About 1 + 3 + 2 + 0.5 + 0.35 events per simulated second: 4 × 2e4 s × 7 = 6e5 events.
    let experiment = simulate(&toml);
    let [a, a2, b, c, d] = ["a", "a2", "b", "c", "d"].map(|name| node_index(&experiment, name));
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let counts: Vec<_> = replication.nodes.iter().map(|node| node.counts).collect();
        for (index, count) in counts.iter().enumerate() {
            assert_eq!(count.in_system_start, 0, "{context} node {index}: {count:?}");
            assert_eq!(
                count.arrivals,
                count.departures + count.drops + u64::from(count.in_system_end),
                "{context} node {index}: {count:?}"
            );
        }
        for (index, name) in [(b, "b"), (c, "c"), (d, "d")] {
            assert!(counts[index].drops > 0, "{context}: the test needs drops at {name}");
        }
        assert_eq!(counts[a].drops + counts[a2].drops, 0, "{context}");
        let (fan, direct) = (&replication.exchanges[0], &replication.exchanges[1]);
        assert_eq!(value(&fan.metrics, ExchangeMetric::CopiesPerMessage), 3.0, "{context}");
        assert_eq!(fan.unroutable, 0, "{context}");
        assert!(direct.unroutable > 0, "{context}: the test needs unroutable messages");
        let (publisher, keyed) = (&replication.sources[0], &replication.sources[1]);
        let held = |nodes: &[usize]| nodes.iter().map(|&i| u64::from(counts[i].in_system_end)).sum::<u64>();
        assert_eq!(counts[a].arrivals + counts[b].arrivals + counts[c].arrivals, 3 * fan.routed, "{context}");
        assert_eq!(counts[a2].arrivals, counts[a].departures, "{context}");
        assert_eq!(publisher.dropped, counts[b].drops + counts[c].drops, "{context}");
        assert_eq!(publisher.delivered, counts[a2].departures + counts[b].departures + counts[c].departures);
        assert_eq!(
            publisher.delivered + publisher.dropped + held(&[a, a2, b, c]),
            3 * fan.routed,
            "{context}"
        );
        assert_eq!(counts[d].arrivals, direct.routed - direct.unroutable, "{context}");
        assert_eq!(keyed.dropped, direct.unroutable + counts[d].drops, "{context}");
        assert_eq!(keyed.delivered, counts[d].departures, "{context}");
        assert_eq!(keyed.delivered + keyed.dropped + held(&[d]), direct.routed, "{context}");
    }
}

/// Drop-head at M/M/2/6, λ = 2.4/s, μ = 1/s (a = 2.4, offered ρ = 1.2).
///
/// Which message is discarded does not change the number in system: a drop-head arrival at a full
/// channel removes one waiting message and adds itself, leaving K, exactly as a drop-tail
/// arrival leaves K; service is memoryless and the victim is never in service, so the count is
/// the same birth-death chain as M/M/c/K. With PASTA the drop probability is p_K:
/// weights a^n/n! for n ≤ 2 and a^n/(2! 2^(n−2)) above: 1, 2.4, 2.88, 3.456, 4.1472, 4.97664,
/// 5.971968, sum 24.831808, so p_6 = 5.971968/24.831808 = 0.240497 and
/// L = Σ n p_n = 95.832576/24.831808 = 3.859236.
///
/// The waits of served messages do depend on the policy (drop-head discards the longest
/// waiters), so `analyze` gives the birth-death figures for the drop probability and L but
/// none for mean_wait and mean_sojourn, with a reason naming drop-head.
///
/// 3 CI checks: the drop probability and L, and the drop-tail twin's W.
#[test]
fn drop_head_drops_as_the_birth_death_chain() {
    let (lambda, mu, servers, capacity): (f64, f64, u32, u32) = (2.4, 1.0, 2, 6);
    let a = lambda / mu;
    let weights: Vec<f64> = (0..=capacity)
        .map(|n| {
            let n_i = i32::try_from(n).expect("small");
            if n <= servers {
                a.powi(n_i) / (1..=n).map(f64::from).product::<f64>()
            } else {
                a.powi(n_i) / (2.0 * 2_f64.powi(n_i - 2))
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let p_k = weights[capacity as usize] / total;
    let length = weights.iter().zip(0..).map(|(w, n)| f64::from(n) * w).sum::<f64>() / total;
    assert!((p_k - 0.240_497).abs() < 1e-6 && (length - 3.859_236).abs() < 1e-6, "{p_k} {length}");
    let library = station::mmck(lambda, mu, servers, capacity).expect("valid");
    assert_same("station::mmck drop probability", library.drop_probability, p_k);
    assert_same("station::mmck L", library.mean_in_system, length);
    let toml = ScenarioBuilder::simulated(20_000.0, 200.0, 20)
        .source("publisher", "queue", lambda, "")
        .node("queue", servers, 1.0 / mu, &format!("capacity = {capacity}\noverflow = \"drop-head\""))
        .toml();
    let theory = analysis(&toml);
    let figure = |metric| -> &Figure { theory.nodes[0].metric(metric).expect("a figure") };
    assert_same("analyze drop probability", figure(NodeMetric::DropProbability).value.expect("value"), p_k);
    assert!(figure(NodeMetric::DropProbability).exact);
    assert_same("analyze L", figure(NodeMetric::MeanInSystem).value.expect("value"), length);
    for metric in [NodeMetric::MeanWait, NodeMetric::MeanSojourn] {
        let missing = figure(metric);
        let reason = missing.reason.as_deref().unwrap_or_default();
        assert!(missing.value.is_none() && reason.contains("drop-head"), "{metric:?}: {missing:?}");
    }
    // λ + throughput ≈ 4.2 events per simulated second: 20 × 2.02e4 s × 4.2 = 1.7e6 events.
    let experiment = simulate(&toml);
    let node = &experiment.summary.nodes[0];
    FAMILY.assert_mean("M/M/2/6 drop-head drop probability", node.get(NodeMetric::DropProbability), p_k);
    FAMILY.assert_mean("M/M/2/6 drop-head L", node.get(NodeMetric::MeanInSystem), length);
    // The same argument on sample paths: with the same seed, the drop-tail twin sees the same
    // arrivals and, as the engine draws a service time when a service starts (and services start
    // at the same instants in both), the same service times, so its counts, L and utilisation are
    // identical in every replication. Only the waits differ: drop-head pushes out the messages
    // that waited longest, so its served messages stay shorter than drop-tail's W = L/(λ(1 − p_K))
    // = 3.859236/1.822808 = 2.117193 s (Little's law over admitted messages, all served).
    let twin = simulate(&toml.replace("drop-head", "drop-tail"));
    for (head, tail) in experiment.replications.iter().zip(&twin.replications) {
        let (head, tail) = (&head.nodes[0], &tail.nodes[0]);
        assert_eq!(head.counts, tail.counts);
        assert_eq!(
            head.metrics.get(NodeMetric::DropProbability),
            tail.metrics.get(NodeMetric::DropProbability)
        );
        // The time integrals agree up to rounding only: drop-head reports a state change at each
        // drop (the count is unchanged) and drop-tail does not, so the areas are summed in
        // different pieces. About 1e5 pieces of relative rounding 1.1e-16 each: 1e-9 is ample.
        for metric in [NodeMetric::MeanInSystem, NodeMetric::Utilization] {
            let (h, t) = (value(&head.metrics, metric), value(&tail.metrics, metric));
            assert!((h - t).abs() <= 1e-9 * t, "{metric:?}: drop-head {h}, drop-tail {t}");
        }
    }
    let tail_w = length / (lambda * (1.0 - p_k));
    assert!((tail_w - 2.117_193).abs() < 1e-6, "{tail_w}");
    FAMILY.assert_mean(
        "M/M/2/6 drop-tail twin W",
        twin.summary.nodes[0].get(NodeMetric::MeanSojourn),
        tail_w,
    );
    let head_w = node.get(NodeMetric::MeanSojourn).expect("sojourn");
    println!("M/M/2/6 drop-head W: {head_w:?}, below drop-tail's {tail_w:.6}");
    assert!(head_w.ci95.is_some_and(|[_, high]| high < tail_w), "{head_w:?} vs {tail_w}");
}

/// A partial multicast: λ = 1/s into a fanout bound to lossy (M/M/1/5, μ = 1/0.9 s, ρ = 0.9,
/// drop-tail) and full (M/M/1 unbounded, μ = 2). Both see the source's Poisson stream.
///
/// Fractions. lossy drops p_K = (1 − ρ) ρ^K/(1 − ρ^(K+1)) = 0.1 · 0.59049/0.468559 = 0.126023 of its
/// copies; full drops none. A message is delivered to all exactly when its lossy copy is
/// admitted, so all_delivered_fraction = 1 − p_K = 0.873977, while delivered_fraction counts
/// copies, half of which never drop: 1 − p_K/2 = 0.936989. In every replication the first is
/// strictly smaller, exactly, whenever P ≤ D where P counts the messages with one copy ended and
/// one still held at the end, and D the partial messages. Proof: with M messages ended, x dropped
/// and d delivered copies, d + x = 2M + P and x ≤ D + P; so x/(d + x) ≤ (D + P)/(2M + P), which
/// is < D/M iff P (M − D) < D M, true when P ≤ D and D ≥ 1. Observable bounds: P ≤ in_system_end
/// of lossy plus full (each such message has a copy in a node) and D ≥ x − P, so
/// 2 (in_system_end sum) < x suffices, and is asserted.
///
/// Latency to all. Every message delivered to all had its lossy copy delivered, and its
/// delivered-to-all latency is max(T_lossy, T_full) ≥ T_lossy. Conversely every delivered lossy
/// copy belongs to a message delivered to all (full never drops), except at most in_system_end(full)
/// whose full copy is still queued at the end. So over the same messages, all_latency_mean ≥
/// lossy's subscriber_latency_mean, strictly by E[(T_full − T_lossy)+] (about 0.2 s here, against
/// an edge effect of a few messages out of 5e4). lossy is the slower subscriber (its W =
/// L/(λ(1 − p_K)) = 2.194782/0.873977 = 2.511257 s against full's 1/(2 − 1) = 1 s), hence
/// all_latency_mean ≥ the larger subscriber mean. Against the faster subscriber alone there is no
/// such law: its mean covers copies whose lossy sibling dropped, which arrived in bursts and
/// waited longer, so E[T_full | all delivered] can be smaller than E[T_full].
///
/// 2 CI checks: the two fractions.
#[test]
fn partial_multicast_is_reported_as_such() {
    let (lambda, rho, capacity) = (1.0, 0.9_f64, 5);
    let p_k = (1.0 - rho) * rho.powi(capacity) / (1.0 - rho.powi(capacity + 1));
    assert!((p_k - 0.126_023).abs() < 1e-6, "{p_k}");
    let library = station::mmck(lambda, lambda / rho, 1, 5).expect("valid").drop_probability;
    assert_same("station::mmck M/M/1/5 drop probability", library, p_k);
    let mut builder = ScenarioBuilder::simulated(50_000.0, 0.0, 20);
    builder.source("publisher", "fan", lambda, "");
    builder.exchange("fan", "fanout", &[r#"{ to = "lossy" }"#, r#"{ to = "full" }"#], "");
    builder.node("lossy", 1, rho / lambda, &format!("capacity = {capacity}"));
    builder.node("full", 1, 0.5, "");
    let toml = builder.toml();
    // λ + 2λ events per simulated second: 20 × 5e4 s × 3 = 3e6 events.
    let experiment = simulate(&toml);
    let publisher = named(&experiment.summary.sources, "publisher");
    FAMILY.assert_mean(
        "partial multicast delivered_fraction",
        publisher.get(SourceMetric::DeliveredFraction),
        1.0 - p_k / 2.0,
    );
    FAMILY.assert_mean(
        "partial multicast all_delivered_fraction",
        publisher.get(SourceMetric::AllDeliveredFraction),
        1.0 - p_k,
    );
    let (lossy, full) = (node_index(&experiment, "lossy"), node_index(&experiment, "full"));
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let source = &replication.sources[0];
        let pending = u64::from(
            replication.nodes[lossy].counts.in_system_end + replication.nodes[full].counts.in_system_end,
        );
        assert!(
            2 * pending < source.dropped,
            "{context}: the proof needs 2 P < x: {pending} vs {}",
            source.dropped
        );
        let all = value(&source.metrics, SourceMetric::AllDeliveredFraction);
        let copies = value(&source.metrics, SourceMetric::DeliveredFraction);
        assert!(all < copies, "{context}: all_delivered_fraction {all} vs delivered_fraction {copies}");
        let all_latency = value(&source.metrics, SourceMetric::AllLatencyMean);
        let subscriber =
            |index: usize| value(&replication.nodes[index].metrics, NodeMetric::SubscriberLatencyMean);
        let (slow, fast) = (subscriber(lossy), subscriber(full));
        println!("{context}: all_latency_mean {all_latency:.4}, lossy {slow:.4}, full {fast:.4}");
        assert!(slow > fast, "{context}: lossy is the slower subscriber");
        assert!(all_latency >= slow, "{context}: all_latency_mean {all_latency} < lossy's {slow}");
    }
}

/// The problems reported for an invalid scenario.
fn problems(toml: &str) -> Vec<Problem> {
    match kendall::scenario::parse(toml, "bad", Path::new("bad.toml")) {
        Ok(_) => panic!("accepted an invalid scenario:\n{toml}"),
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        Err(other) => panic!("expected a validation error, got: {other}"),
    }
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|line| line.contains(needle)).unwrap_or_else(|| panic!("no {needle:?}")) + 1
}

/// A valid base around one exchange `x` of type `kind` with one binding (none if empty) and
/// `extra` fields: a source with routing keys `keys` into x, and nodes n1 and n2.
fn with_exchange(kind: &str, binding: &str, extra: &str, keys: &str) -> String {
    ScenarioBuilder::new()
        .source("s", "x", 1.0, &routing_keys(keys))
        .exchange("x", kind, &[binding], extra)
        .node("n1", 1, 0.1, "")
        .node("n2", 1, 0.1, "")
        .toml()
}

/// Bad input, each case through `kendall::scenario::parse`: one problem, at the line of the
/// offending text, naming the exchange or source and the field at fault, and rendered as
/// `bad.toml:LINE:COLUMN: ...`.
/// - unknown exchange type: `type = "headers"`;
/// - a binding to an unknown node;
/// - a direct binding without a key, a fanout binding with a key, a key-hash binding with a key
///   (partitions are chosen by the hash, so a key-hash exchange rejects binding keys);
/// - key probabilities summing to 0.9;
/// - an exchange without bindings;
/// - an unknown alternate target;
/// - an exchange loop x → y → x (copies forever in zero time), reported at x's table.
#[test]
fn invalid_exchanges_are_reported_with_line_and_field() {
    let keys = r#""k" = 1.0"#;
    let cases: Vec<(String, &str, Vec<&str>)> = vec![
        (
            with_exchange("headers", r#"{ to = "n1" }"#, "", keys),
            "\"headers\"",
            vec!["exchange 'x'", "field 'type'", "'headers'"],
        ),
        (
            with_exchange("fanout", r#"{ to = "ghost" }"#, "", keys),
            "ghost",
            vec!["exchange 'x'", "field 'bindings.to'", "'ghost'"],
        ),
        (
            with_exchange("direct", r#"{ to = "n1" }"#, "", keys),
            "bindings",
            vec!["exchange 'x'", "field 'bindings'", "needs a key"],
        ),
        (
            with_exchange("fanout", r#"{ key = "k", to = "n1" }"#, "", keys),
            "bindings",
            vec!["exchange 'x'", "field 'bindings.key'", "fanout"],
        ),
        (
            with_exchange("key-hash", r#"{ key = "k", to = "n1" }"#, "", keys),
            "bindings",
            vec!["exchange 'x'", "field 'bindings.key'", "key-hash"],
        ),
        (
            with_exchange("fanout", r#"{ to = "n1" }"#, "", r#""k" = 0.5, "j" = 0.4"#),
            "keys",
            vec!["source 's'", "field 'keys'", "0.9"],
        ),
        (
            with_exchange("fanout", "", "", keys),
            "[[exchange]]",
            vec!["exchange 'x'", "field 'bindings'", "at least one binding"],
        ),
        (
            with_exchange("direct", r#"{ key = "k", to = "n1" }"#, "unroutable = \"nowhere\"", keys),
            "nowhere",
            vec!["exchange 'x'", "field 'unroutable'", "'nowhere'"],
        ),
    ];
    for (toml, needle, words) in cases {
        let found = problems(&toml);
        assert_eq!(found.len(), 1, "{toml}\n{found:?}");
        let problem = &found[0];
        assert_eq!(problem.line, line_of(&toml, needle), "{toml}\n{problem:?}");
        for word in words {
            assert!(problem.message.contains(word), "{:?} lacks {word:?}", problem.message);
        }
        let rendered =
            kendall::scenario::parse(&toml, "bad", Path::new("bad.toml")).expect_err("invalid").to_string();
        assert!(
            rendered.starts_with(&format!("bad.toml:{}:{}: ", problem.line, problem.column)),
            "{rendered}"
        );
    }
    let found = problems(&exchange_loop());
    assert_eq!(found.len(), 1, "{found:?}");
    let message = &found[0].message;
    assert!(message.starts_with("exchange 'x'") && message.contains("routes back to itself"), "{found:?}");
    assert_eq!(found[0].line, line_of(&exchange_loop(), "[[exchange]]"), "at x's table header: {found:?}");
}

/// A source into exchange x, which fans out to y and node n1; y fans out back to x.
fn exchange_loop() -> String {
    ScenarioBuilder::new()
        .source("s", "x", 1.0, "")
        .exchange("x", "fanout", &[r#"{ to = "y" }"#, r#"{ to = "n1" }"#], "")
        .exchange("y", "fanout", &[r#"{ to = "x" }"#], "")
        .node("n1", 1, 0.1, "")
        .toml()
}

/// README: "Every problem is reported as `file:line:column:` with the field at fault". The loop
/// x → y → x is made by the bindings, so the message should name the field 'bindings' (as every
/// other exchange problem names its field); it says only "exchange 'x' routes back to itself
/// through other exchanges without passing a node".
#[test]
fn exchange_loop_error_names_the_field() {
    let found = problems(&exchange_loop());
    assert!(found[0].message.contains("field 'bindings'"), "{found:?}");
}

/// Determinism with exchanges: the network of [`messages_and_copies_are_conserved`] (fanout,
/// direct with unroutable drops, drop-head, drop-tail) with a warm-up, run with 1 and with 2
/// threads: every estimate of every node, source and exchange is identical, and so is every
/// replication's every metric and count. Replications derive their streams from (seed,
/// replication) only and are reduced in index order.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let scenario = scenario(&conservation_network(ScenarioBuilder::simulated(5_000.0, 500.0, 4)));
    let one = experiment::run(&scenario, Some(1), &|| {}).expect("pool");
    let two = experiment::run(&scenario, Some(2), &|| {}).expect("pool");
    for (left, right) in one.summary.nodes.iter().zip(&two.summary.nodes) {
        assert_eq!(left.estimates, right.estimates, "node {}", left.name);
    }
    for (left, right) in one.summary.sources.iter().zip(&two.summary.sources) {
        assert_eq!(left.estimates, right.estimates, "source {}", left.name);
    }
    for (left, right) in one.summary.exchanges.iter().zip(&two.summary.exchanges) {
        assert_eq!(left.estimates, right.estimates, "exchange {}", left.name);
    }
    assert_eq!(one.summary.exchanges.len(), 2);
    assert_eq!(one.events, two.events);
    for (left, right) in one.replications.iter().zip(&two.replications) {
        assert_same_replication(left, right);
    }
}

/// Asserts that two results of the same replication are identical.
fn assert_same_replication(left: &ReplicationResult, right: &ReplicationResult) {
    let context = format!("replication {}", left.index);
    assert_eq!(
        (left.index, left.events, left.observed_s),
        (right.index, right.events, right.observed_s),
        "{context}"
    );
    for (l, r) in left.nodes.iter().zip(&right.nodes) {
        assert_eq!((l.counts, &l.metrics), (r.counts, &r.metrics), "{context}");
    }
    for (l, r) in left.sources.iter().zip(&right.sources) {
        assert_eq!((l.delivered, l.dropped, &l.metrics), (r.delivered, r.dropped, &r.metrics), "{context}");
    }
    for (l, r) in left.exchanges.iter().zip(&right.exchanges) {
        assert_eq!((l.routed, l.unroutable, &l.metrics), (r.routed, r.unroutable, &r.metrics), "{context}");
    }
}
