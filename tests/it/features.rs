//! The features of issue 4 beyond routing: backpressure (`overflow = "block"`) and deadlock
//! detection, priority disciplines, closed request-reply populations, fork/join, time-to-live
//! with dead-lettering, route delays and work-distributing exchanges.
//!
//! Every expected value is computed in the test from a named closed form (queueing-formulas.md)
//! or an independent derivation, with its arithmetic in the test's doc comment. Where theory has
//! nothing to say, identities that hold exactly in every replication are asserted instead
//! (conservation of messages through blocking channels, joins and expiry; equal counts under
//! common random numbers).
//!
//! # Tolerances
//! As in theory.rs (see [`Family`]): every simulated mean is compared with theory through a
//! Bonferroni interval over the [`CHECKS`] comparisons of this module, with a family-wise error
//! rate of [`FAMILY_ERROR`]; every 95% half-width must also be at most [`PRECISION`] of the
//! theory value, so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere,
//! never re-seeded to pass. Figures the library computes without simulating (`analyze`) are
//! compared with ours to [`EXACT`] relative: rounding only.

use std::path::Path;

use kendall::analytic::{Analysis, analyze};
use kendall::experiment::Experiment;
use kendall::model::{Metric, Scenario};
use kendall::stats::{
    ClassMetric, EntitySummary, Estimate, ExchangeMetric, NodeMetric, ReplicationResult, SourceMetric,
};

use crate::support::{Family, simulate};

/// Comparisons with theory through confidence intervals in this module, the Bonferroni
/// denominator: 5 for the blocking M/M/c/K, 11 + 6 for priorities, 4 for MVA, 3 for fork/join,
/// 1 for TTL, 1 for route delays, 3 for the random balancer, 3 for round-robin, 3 interval
/// ends for shortest-queue (random's lower end, shortest-queue's two ends) and 2 for
/// size-dependent service.
const CHECKS: u32 = 42;

/// Probability that some check of this module fails by chance alone when the simulator is right.
const FAMILY_ERROR: f64 = 0.05;

/// Largest 95% half-width accepted, relative to the theory value.
const PRECISION: f64 = 0.02;

/// Relative agreement demanded between `analyze` and the test's own closed forms: both evaluate
/// the same few arithmetic operations, so only rounding separates them.
const EXACT: f64 = 1e-9;

/// This module's comparisons with theory.
const FAMILY: Family = Family { checks: CHECKS, error: FAMILY_ERROR, precision: PRECISION };

/// Asserts that a simulated mean agrees with theory (Bonferroni interval and precision floor).
fn assert_mean(what: &str, estimate: Option<Estimate>, theory: f64) {
    FAMILY.assert_agrees(what, estimate, theory, 0.0);
}

/// Asserts that a figure of `analyze` equals ours up to rounding.
fn assert_same(what: &str, library: Option<f64>, ours: f64) {
    let library = library.unwrap_or_else(|| panic!("{what}: analyze gives no value"));
    assert!(
        (library - ours).abs() <= EXACT * ours.abs().max(f64::MIN_POSITIVE),
        "{what}: analyze {library}, by hand {ours}"
    );
}

/// The `[simulation]` table, durations in seconds at full precision, seed 1.
fn simulation(duration_s: f64, warmup_s: f64, replications: u32) -> String {
    format!(
        "[simulation]\nduration = {duration_s:?}\nwarmup = {warmup_s:?}\nreplications = {replications}\nseed = 1\n\n"
    )
}

/// Parses an inline scenario.
fn scenario(toml: &str) -> Scenario {
    kendall::scenario::parse(toml, "features", Path::new("features.toml")).expect("valid scenario")
}

/// What `analyze` says of an inline scenario.
fn analysis(toml: &str) -> Analysis {
    analyze(scenario(toml).network(), None).expect("solvable traffic equations")
}

/// The summary of the node, source or exchange called `name`.
fn named<'a, M: Metric>(entities: &'a [EntitySummary<M>], name: &str) -> &'a EntitySummary<M> {
    entities.iter().find(|entity| entity.name == name).unwrap_or_else(|| panic!("no entity {name}"))
}

/// Position of the node called `name` in the network (and in every replication's `nodes`).
fn node_index(experiment: &Experiment, name: &str) -> usize {
    experiment.summary.nodes.iter().position(|node| node.name == name).unwrap_or_else(|| panic!("no {name}"))
}

/// `analyze`'s value of a node metric.
fn node_figure(analysis: &Analysis, name: &str, metric: NodeMetric) -> Option<f64> {
    let node = analysis.nodes.iter().find(|node| node.name == name).unwrap_or_else(|| panic!("no {name}"));
    node.metric(metric).and_then(|figure| figure.value)
}

/// `analyze`'s value of a metric of the first source.
fn source_figure(analysis: &Analysis, metric: SourceMetric) -> Option<f64> {
    analysis.sources[0].metric(metric).and_then(|figure| figure.value)
}

/// One replication's value of a metric, which must be defined.
fn value<M: Metric + std::fmt::Debug>(values: &kendall::model::MetricValues<M>, metric: M) -> f64 {
    values.get(metric).unwrap_or_else(|| panic!("no {metric:?}"))
}

/// A Poisson source `name` at `rate` per second into `to`; `extra` holds more fields.
fn source(name: &str, to: &str, rate: f64, extra: &str) -> String {
    format!(
        "[[source]]\nname = \"{name}\"\nto = \"{to}\"\ninterarrival = {{ dist = \"exponential\", rate = {rate:?} }}\n{extra}\n\n"
    )
}

/// A node with exponential service of mean `mean_s` seconds; `extra` holds more fields.
fn node(name: &str, servers: u32, mean_s: f64, extra: &str) -> String {
    format!(
        "[[node]]\nname = \"{name}\"\nservers = {servers}\nservice = {{ dist = \"exponential\", mean = {mean_s:?} }}\n{extra}\n\n"
    )
}

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

    let toml = format!(
        "{}{}{}",
        simulation(100_000.0, 500.0, 20),
        source("producer", "channel", lambda, ""),
        node("channel", servers, 1.0 / mu, &format!("capacity = {capacity}\noverflow = \"block\""))
    );
    let theory = analysis(&toml);
    let what = |metric: &str| format!("blocking M/M/2/4 {metric}");
    assert_same(
        &what("analyze throughput"),
        node_figure(&theory, "channel", NodeMetric::Throughput),
        throughput,
    );
    assert_same(&what("analyze L"), node_figure(&theory, "channel", NodeMetric::MeanInSystem), in_system);
    assert_same(&what("analyze W"), node_figure(&theory, "channel", NodeMetric::MeanSojourn), sojourn);
    assert_eq!(node_figure(&theory, "channel", NodeMetric::DropProbability), Some(0.0));
    assert_same(
        &what("analyze blocked_fraction"),
        source_figure(&theory, SourceMetric::BlockedFraction),
        held,
    );
    assert_same(&what("analyze latency"), source_figure(&theory, SourceMetric::LatencyMean), latency);

    // About 2 × 1.55 events per simulated second: 20 × 1.005e5 s = 6.2e6 events.
    let experiment = simulate(&toml);
    let channel = &experiment.summary.nodes[0];
    let producer = &experiment.summary.sources[0];
    assert_mean(&what("throughput"), channel.get(NodeMetric::Throughput), throughput);
    assert_mean(&what("L"), channel.get(NodeMetric::MeanInSystem), in_system);
    assert_mean(&what("W"), channel.get(NodeMetric::MeanSojourn), sojourn);
    assert_mean(&what("source blocked_fraction"), producer.get(SourceMetric::BlockedFraction), held);
    assert_mean(&what("source latency"), producer.get(SourceMetric::LatencyMean), latency);
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
    let toml = format!(
        "{}{}{}{}",
        simulation(20_000.0, 0.0, 4),
        source("producer", "a", 0.8, ""),
        node("a", 1, 0.5, "capacity = 2\noverflow = \"block\"\nroutes = [{ to = \"b\" }]"),
        node("b", 1, 1.0, "capacity = 2\noverflow = \"block\""),
    );
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

/// Two blocking nodes of capacity 1 that route to each other with probability 0.9 (else to
/// exit), fed by a Poisson source: as soon as each holds a finished message bound for the other,
/// neither can move, and the source, finding a full, holds its message too. From every state
/// that deadlock is reached with positive probability within a bounded time, so the time to it
/// has a geometric tail, and with services of 1 s it comes within seconds; over 1e5 s every
/// replication deadlocks (a replication that did not would reach the horizon and fail the test).
/// The engine must then report it and stop at the time of the deadlock instead of running an
/// empty calendar to the horizon; `kendall run` exits 0 with a warning that names it.
#[test]
fn a_cycle_of_full_blocking_channels_deadlocks_and_is_reported() {
    let duration_s = 100_000.0;
    let toml = format!(
        "{}{}{}{}",
        simulation(duration_s, 0.0, 4),
        source("producer", "a", 0.5, ""),
        node(
            "a",
            1,
            1.0,
            "capacity = 1\noverflow = \"block\"\nroutes = [{ to = \"b\", p = 0.9 }, { to = \"exit\", p = 0.1 }]"
        ),
        node(
            "b",
            1,
            1.0,
            "capacity = 1\noverflow = \"block\"\nroutes = [{ to = \"a\", p = 0.9 }, { to = \"exit\", p = 0.1 }]"
        ),
    );
    let experiment = simulate(&toml);
    assert_eq!(experiment.deadlocked(), experiment.replications.len());
    for replication in &experiment.replications {
        println!("replication {}: deadlocked after {:.3}s", replication.index, replication.observed_s);
        assert!(replication.deadlocked && !replication.stopped_early, "replication {}", replication.index);
        assert!(
            replication.observed_s > 0.0 && replication.observed_s < duration_s,
            "replication {}: observed {}s",
            replication.index,
            replication.observed_s
        );
        // Frozen: each node holds its one message, and its worker holds it blocked.
        for node in &replication.nodes {
            assert_eq!(node.counts.in_system_end, 1, "replication {}: {:?}", replication.index, node.counts);
        }
    }

    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("deadlock.toml");
    std::fs::write(&file, &toml).expect("the scenario is written");
    let output = assert_cmd::Command::cargo_bin("kendall")
        .expect("the kendall binary is built")
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--quiet")
        .output()
        .expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("deadlocked"), "stderr: {stderr}");
}

/// The same frozen cycle beside a part of the network that keeps running: a second source feeds
/// an unrelated node, so the calendar never runs dry. The cycle can never move again, so the
/// engine must still see the deadlock when it forms (not run the live part to the horizon), and
/// stop there with both cycle nodes holding their one message each, their workers blocked.
#[test]
fn a_deadlock_is_found_while_the_rest_of_the_network_runs() {
    let duration_s = 100_000.0;
    let cycle = "capacity = 1\noverflow = \"block\"\nroutes = [{ to = \"PEER\", p = 0.9 }, { to = \"exit\", p = 0.1 }]";
    let toml = format!(
        "{}{}{}{}{}{}",
        simulation(duration_s, 0.0, 4),
        source("producer", "a", 0.5, ""),
        source("bystander", "c", 0.5, ""),
        node("a", 1, 1.0, &cycle.replace("PEER", "b")),
        node("b", 1, 1.0, &cycle.replace("PEER", "a")),
        node("c", 1, 1.0, ""),
    );
    let experiment = simulate(&toml);
    assert_eq!(experiment.deadlocked(), experiment.replications.len());
    for replication in &experiment.replications {
        println!("replication {}: deadlocked after {:.3}s", replication.index, replication.observed_s);
        assert!(replication.deadlocked && !replication.stopped_early, "replication {}", replication.index);
        assert!(replication.observed_s < duration_s, "replication {} ran to the horizon", replication.index);
        for name in ["a", "b"] {
            let node = &replication.nodes[node_index(&experiment, name)];
            assert_eq!(
                node.counts.in_system_end, 1,
                "replication {} node {name}: {:?}",
                replication.index, node.counts
            );
        }
    }
}

/// Where every delivery leaves from one node, that node's subscriber latency is every source's
/// latency (the collector merges the sources' histograms instead of recording each delivery
/// twice): in every replication its mean and p99 equal the source's, over the same deliveries.
/// Where a second way out exists (the first node sends some messages out too), there is no sole
/// exit node.
#[test]
fn a_sole_exit_node_reports_every_delivery_as_its_subscribers() {
    let toml = format!(
        "{}{}{}{}{}",
        simulation(2_000.0, 200.0, 3),
        source("producer", "a", 0.5, "keys = { \"x\" = 0.5, \"y\" = 0.5 }"),
        node("a", 1, 0.5, "routes = [{ to = \"router\" }]"),
        "[[exchange]]\nname = \"router\"\ntype = \"direct\"\nbindings = [{ key = \"x\", to = \"b\" }, { key = \"y\", to = \"b\" }]\n\n",
        node("b", 1, 0.5, ""),
    );
    let scenario = kendall::scenario::parse(&toml, "sole", std::path::Path::new("sole.toml")).expect("valid");
    assert_eq!(scenario.network().sole_exit_node(), Some(kendall::model::NodeId(1)));
    let experiment = simulate(&toml);
    let b = node_index(&experiment, "b");
    for replication in &experiment.replications {
        let (node, source) = (&replication.nodes[b].metrics, &replication.sources[0].metrics);
        let mean = value(node, NodeMetric::SubscriberLatencyMean);
        assert!((mean - value(source, SourceMetric::LatencyMean)).abs() <= 1e-12 * mean);
        assert_eq!(value(node, NodeMetric::SubscriberLatencyP99), value(source, SourceMetric::LatencyP99));
    }
    let leaky =
        toml.replace("[{ to = \"router\" }]", "[{ to = \"router\", p = 0.9 }, { to = \"exit\", p = 0.1 }]");
    let scenario =
        kendall::scenario::parse(&leaky, "leaky", std::path::Path::new("leaky.toml")).expect("valid");
    assert_eq!(scenario.network().sole_exit_node(), None);
}

/// A node of `servers` workers fed by a Poisson source at `lambda` whose messages are priority 1
/// or 0 with probability 1/2 each (priority 1, class 0, is served first), under `discipline`.
fn two_class_station(lambda: f64, servers: u32, service: &str, discipline: &str, duration_s: f64) -> String {
    format!(
        r#"{}
[[source]]
name = "mixed"
to = "station"
interarrival = {{ dist = "exponential", rate = {lambda:?} }}
priority = {{ "1" = 0.5, "0" = 0.5 }}

[[node]]
name = "station"
servers = {servers}
service = {service}
discipline = "{discipline}"
"#,
        simulation(duration_s, 1000.0, 20)
    )
}

/// `analyze`'s value of a class metric of the first node.
fn class_figure(analysis: &Analysis, class: usize, metric: ClassMetric) -> Option<f64> {
    let figures = &analysis.nodes[0].classes[class];
    figures.iter().find(|(m, _)| *m == metric).and_then(|(_, figure)| figure.value)
}

/// One two-class priority case and what theory says of it.
struct PriorityCase<'a> {
    name: &'a str,
    lambda: f64,
    servers: u32,
    service: &'a str,
    discipline: &'a str,
    duration_s: f64,
    /// The per-class figure compared, with its value for class 0 (the higher) and class 1.
    metric: ClassMetric,
    classes: [f64; 2],
    /// Whether `analyze` has per-class figures for this case.
    analyzed_classes: bool,
    /// A node figure over all messages, with its value (`analyze` has it too).
    overall: Option<(NodeMetric, f64)>,
}

/// Compares one case with theory: `analyze` to 1e-9, the simulation through CIs.
fn check_priorities(case: &PriorityCase) {
    let toml = two_class_station(case.lambda, case.servers, case.service, case.discipline, case.duration_s);
    let theory = analysis(&toml);
    let metric = case.metric;
    if case.analyzed_classes {
        for (class, &ours) in case.classes.iter().enumerate() {
            let what = format!("{} analyze class {class} {metric:?}", case.name);
            assert_same(&what, class_figure(&theory, class, metric), ours);
        }
    }
    if let Some((node_metric, ours)) = case.overall {
        let what = format!("{} analyze {node_metric:?}", case.name);
        assert_same(&what, node_figure(&theory, "station", node_metric), ours);
    }
    let experiment = simulate(&toml);
    let per_class = &experiment.summary.node_classes[0];
    assert_eq!(per_class.len(), 2);
    for (class, &ours) in case.classes.iter().enumerate() {
        assert_mean(&format!("{} class {class} {metric:?}", case.name), per_class[class].get(metric), ours);
    }
    if let Some((node_metric, ours)) = case.overall {
        let what = format!("{} overall {node_metric:?}", case.name);
        assert_mean(&what, experiment.summary.nodes[0].get(node_metric), ours);
    }
}

/// Two priority classes at one worker, λ_1 = λ_2 = 0.3/s (class 1 the higher), E[S] = 1 s, so
/// ρ_1 = ρ_2 = 0.3, σ_1 = 0.3, σ_2 = 0.6.
///
/// Non-preemptive, exponential service (E[S²] = 2): R = Σ λ_i E[S²]/2 = 0.6 · 2/2 = 0.6;
/// Cobham: Wq_1 = R/(1 − σ_1) = 0.6/0.7 = 0.857143 s, Wq_2 = R/((1 − σ_1)(1 − σ_2))
/// = 0.6/(0.7 · 0.4) = 2.142857 s.
///
/// Preemptive-resume, exponential service: T_1 = E[S] + R_1/(1 − σ_1) with R_1 = 0.3 · 2/2 = 0.3
/// (class 1 sees an M/M/1 of its own): T_1 = 1 + 0.428571 = 1.428571 s;
/// T_2 = E[S]/(1 − σ_1) + R/((1 − σ_1)(1 − σ_2)) = 1.428571 + 2.142857 = 3.571429 s.
///
/// Deterministic service (M/D/1, E[S²] = 1), non-preemptive: R = 0.6/2 = 0.3, Wq_1 = 0.3/0.7
/// = 0.428571 s, Wq_2 = 0.3/0.28 = 1.071429 s. Preemptive-resume: R_1 = 0.15,
/// T_1 = 1 + 0.15/0.7 = 1.214286 s, T_2 = 1/0.7 + 0.3/0.28 = 2.5 s. With exponential service a
/// wrong resume (restarting or redrawing the interrupted service) would go unnoticed, since the
/// remaining service has the same law; with deterministic service it would not.
///
/// Conservation law (Kleinrock): with one work-conserving worker and the same service law for
/// every class, the mean wait over all messages of a non-preemptive discipline is the FCFS one:
/// M/M/1 Wq = ρ/(μ − λ) = 0.6/0.4 = 1.5 s = (0.857143 + 2.142857)/2, and M/D/1
/// Pollaczek-Khinchine Wq = ρ E[S]/(2(1 − ρ)) = 0.75 s = (0.428571 + 1.071429)/2. With
/// exponential service the number of messages in the node is M/M/1's whatever the priorities,
/// preemptive included, so the mean wait (reported as sojourn − service for preempted messages)
/// is 1.5 s there too: (1.428571 + 3.571429)/2 − 1 = 1.5. (Preemption with deterministic
/// service changes the overall mean: (1.214286 + 2.5)/2 − 1 = 0.857 s, not 0.75 s; not asserted.)
///
/// The per-class figures and the overall ones are also `analyze`'s, to 1e-9.
///
/// 11 CI checks: 3 per case, 2 for preemptive M/D/1.
#[test]
fn priority_classes_follow_cobham_and_preemptive_resume() {
    let (lambda, mean) = (0.6, 1.0);
    let rate = lambda / 2.0;
    let sigma = [rate * mean, 2.0 * rate * mean];
    let between = (1.0 - sigma[0]) * (1.0 - sigma[1]);
    let fcfs_wait = |second_moment: f64| lambda * second_moment / (2.0 * (1.0 - lambda * mean));
    let cobham = |second_moment: f64| {
        let r = lambda * second_moment / 2.0;
        [r / (1.0 - sigma[0]), r / between]
    };
    let preemptive = |second_moment: f64| {
        let (r1, r) = (rate * second_moment / 2.0, lambda * second_moment / 2.0);
        [mean + r1 / (1.0 - sigma[0]), mean / (1.0 - sigma[0]) + r / between]
    };
    let exponential = r#"{ dist = "exponential", mean = "1s" }"#;
    let deterministic = r#"{ dist = "deterministic", value = "1s" }"#;
    let case = |name, service, discipline, metric, classes, overall| PriorityCase {
        name,
        lambda,
        servers: 1,
        service,
        discipline,
        duration_s: 400_000.0,
        metric,
        classes,
        analyzed_classes: true,
        overall,
    };
    let cases = [
        case(
            "M/M/1 non-preemptive",
            exponential,
            "priority",
            ClassMetric::MeanWait,
            cobham(2.0),
            Some((NodeMetric::MeanWait, fcfs_wait(2.0))),
        ),
        case(
            "M/M/1 preemptive-resume",
            exponential,
            "preemptive",
            ClassMetric::MeanSojourn,
            preemptive(2.0),
            Some((NodeMetric::MeanWait, fcfs_wait(2.0))),
        ),
        case(
            "M/D/1 non-preemptive",
            deterministic,
            "priority",
            ClassMetric::MeanWait,
            cobham(1.0),
            Some((NodeMetric::MeanWait, fcfs_wait(1.0))),
        ),
        case(
            "M/D/1 preemptive-resume",
            deterministic,
            "preemptive",
            ClassMetric::MeanSojourn,
            preemptive(1.0),
            None,
        ),
    ];
    let by_hand = [[0.857_143, 2.142_857], [1.428_571, 3.571_429], [0.428_571, 1.071_429], [1.214_286, 2.5]];
    // 2λ events per simulated second (more with preemption): 20 × 4.01e5 s × 1.2 = 9.6e6 events
    // per case; the noisiest figure, class 1's wait under Cobham, has a 95% half-width of 0.8%.
    for (case, hand) in cases.iter().zip(by_hand) {
        for (ours, rounded) in case.classes.iter().zip(hand) {
            assert!((ours - rounded).abs() < 1e-6, "{}: {ours} vs {rounded}", case.name);
        }
        check_priorities(case);
    }
    assert!((fcfs_wait(2.0) - 1.5).abs() < 1e-12 && (fcfs_wait(1.0) - 0.75).abs() < 1e-12);
}

/// Two priority classes at two exponential workers: λ = 1.4/s split evenly (λ_i = 0.7/s), μ = 1/s,
/// a = 1.4, ρ = 0.7; σ_i = Σ_{j≤i} λ_j/(cμ), so σ_1 = 0.35, σ_2 = 0.7. Erlang C(2, 1.4)
/// = 2ρ²/(1 + ρ) = 0.98/1.7 = 0.576471, and M/M/2 gives Wq = C/(cμ − λ) = 0.960784 s,
/// W = 1.960784 s.
///
/// Non-preemptive (Cobham's M/M/c form): Wq_k = (C/(cμ))/((1 − σ_{k−1})(1 − σ_k)):
/// Wq_1 = 0.288235/0.65 = 0.443439 s, Wq_2 = 0.288235/(0.65 · 0.3) = 1.478130 s; their mean
/// is M/M/2's 0.960784 s (conservation).
///
/// Preemptive-resume: class 1 never waits for class 2, so it sees an M/M/2 of its own at
/// λ_1 = 0.7: C(2, 0.7) = 2 · 0.35²/1.35 = 0.181481, T_1 = 1 + 0.181481/1.3 = 1.139601 s. All
/// services being exponential and no worker idling while messages wait, the total number in the
/// node is M/M/2's, so the mean sojourn over all messages is W = 1.960784 s and class 2's is
/// T_2 = 2W − T_1 = 2.781967 s (equal rates). The library has no per-class closed form for
/// several preemptive workers, so only the simulation is checked against these.
///
/// 6 CI checks: 3 per discipline.
#[test]
fn priority_classes_at_several_workers() {
    let (lambda, mu, servers) = (1.4, 1.0, 2);
    let a = lambda / mu;
    let erlang_c = |a: f64| {
        let rho = a / 2.0;
        2.0 * rho * rho / (1.0 + rho)
    };
    let (wait, sigma) = (erlang_c(a) / (2.0 * mu - lambda), [lambda / 4.0, lambda / 2.0]);
    let sojourn = wait + 1.0 / mu;
    let base = erlang_c(a) / (2.0 * mu);
    let cobham = [base / (1.0 - sigma[0]), base / ((1.0 - sigma[0]) * (1.0 - sigma[1]))];
    let high = erlang_c(lambda / 2.0) / (2.0 * mu - lambda / 2.0) + 1.0 / mu;
    let preemptive = [high, 2.0 * sojourn - high];
    assert!((wait - 0.960_784).abs() < 1e-6 && (sojourn - 1.960_784).abs() < 1e-6, "{wait}");
    assert!((cobham[0] - 0.443_439).abs() < 1e-6 && (cobham[1] - 1.478_130).abs() < 1e-6, "{cobham:?}");
    assert!((preemptive[0] - 1.139_601).abs() < 1e-6 && (preemptive[1] - 2.781_967).abs() < 1e-6);
    let exponential = r#"{ dist = "exponential", mean = "1s" }"#;
    // 2λ events per simulated second: 20 × 4.01e5 s × 2.8 = 2.2e7 events per case; the noisiest
    // figure, class 1's wait under Cobham, has a 95% half-width of about 0.8%.
    let common = |name, discipline, metric, classes, analyzed_classes, overall| PriorityCase {
        name,
        lambda,
        servers,
        service: exponential,
        discipline,
        duration_s: 400_000.0,
        metric,
        classes,
        analyzed_classes,
        overall: Some(overall),
    };
    check_priorities(&common(
        "M/M/2 non-preemptive",
        "priority",
        ClassMetric::MeanWait,
        cobham,
        true,
        (NodeMetric::MeanWait, wait),
    ));
    check_priorities(&common(
        "M/M/2 preemptive-resume",
        "preemptive",
        ClassMetric::MeanSojourn,
        preemptive,
        false,
        (NodeMetric::MeanSojourn, sojourn),
    ));
}

/// Request-reply: N = 3 clients, each thinking an exponential Z = 1 s, then sending a request
/// through cpu (one worker, exponential, 0.4 s) and disk (one worker, exponential, 0.6 s) to
/// exit, where the reply reaches it and it thinks again. A closed product-form network: exact
/// MVA with demands D = (0.4, 0.6) s, by hand:
/// - n = 1: R = (0.4, 0.6), ΣR = 1, X = 1/(Z + 1) = 0.5/s, Q = X R = (0.2, 0.3);
/// - n = 2: R = (0.4 · 1.2, 0.6 · 1.3) = (0.48, 0.78), ΣR = 1.26, X = 2/2.26 = 0.884956/s,
///   Q = (0.424779, 0.690265);
/// - n = 3: R = (0.4 · 1.424779, 0.6 · 1.690265) = (0.569912, 1.014159), ΣR = 1.584071 s,
///   X = 3/2.584071 = 1.160959/s, Q = (0.661644, 1.177397).
///
/// The source's throughput is X(3), its latency_mean the response time ΣR(3) (creation after
/// thinking to the reply), and each node's mean_in_system its Q_k(3). `analyze` gives the same
/// to 1e-9. 4 CI checks.
#[test]
fn closed_clients_follow_exact_mva() {
    let (think, demands, population) = (1.0, [0.4, 0.6], 3u32);
    let mut queues = [0.0; 2];
    let (mut throughput, mut response) = (0.0, 0.0);
    for n in 1..=population {
        let residence = [demands[0] * (1.0 + queues[0]), demands[1] * (1.0 + queues[1])];
        response = residence[0] + residence[1];
        throughput = f64::from(n) / (think + response);
        queues = [throughput * residence[0], throughput * residence[1]];
    }
    assert!((throughput - 1.160_959).abs() < 1e-6, "{throughput}");
    assert!((response - 1.584_071).abs() < 1e-6, "{response}");
    assert!((queues[0] - 0.661_644).abs() < 1e-6 && (queues[1] - 1.177_397).abs() < 1e-6, "{queues:?}");

    let toml = format!(
        r#"{}
[[source]]
name = "clients"
to = "cpu"
population = {population}
think = {{ dist = "exponential", mean = "{think}s" }}

{}{}"#,
        simulation(50_000.0, 500.0, 20),
        node("cpu", 1, demands[0], "routes = [{ to = \"disk\" }]"),
        node("disk", 1, demands[1], ""),
    );
    let theory = analysis(&toml);
    assert_same("MVA analyze throughput", source_figure(&theory, SourceMetric::Throughput), throughput);
    assert_same("MVA analyze response time", source_figure(&theory, SourceMetric::LatencyMean), response);
    assert_same("MVA analyze Q cpu", node_figure(&theory, "cpu", NodeMetric::MeanInSystem), queues[0]);
    assert_same("MVA analyze Q disk", node_figure(&theory, "disk", NodeMetric::MeanInSystem), queues[1]);

    // 3 X events per simulated second: 20 × 5.05e4 s × 3.5 = 3.5e6 events.
    let experiment = simulate(&toml);
    let clients = &experiment.summary.sources[0];
    assert_mean("MVA N=3 throughput", clients.get(SourceMetric::Throughput), throughput);
    assert_mean("MVA N=3 response time", clients.get(SourceMetric::LatencyMean), response);
    assert_mean("MVA N=3 Q cpu", experiment.summary.nodes[0].get(NodeMetric::MeanInSystem), queues[0]);
    assert_mean("MVA N=3 Q disk", experiment.summary.nodes[1].get(NodeMetric::MeanInSystem), queues[1]);
}

/// A Poisson source at `lambda` into a fork `split` whose two parts go to the single-worker
/// exponential nodes a and b (mean 1 s; `a_extra` holds more fields of a), both routing to the
/// join node `gather`: infinitely many workers, deterministic 10 ms.
fn fork_join(duration_s: f64, warmup_s: f64, lambda: f64, a_extra: &str) -> String {
    format!(
        r#"{}{}
[[exchange]]
name = "split"
type = "fork"
bindings = [{{ to = "a" }}, {{ to = "b" }}]

{}{}
[[node]]
name = "gather"
join = "split"
servers = "infinite"
service = {{ dist = "deterministic", value = "10ms" }}
"#,
        simulation(duration_s, warmup_s, 20),
        source("jobs", "split", lambda, ""),
        node("a", 1, 1.0, &format!("routes = [{{ to = \"gather\" }}]\n{a_extra}")),
        node("b", 1, 1.0, "routes = [{ to = \"gather\" }]"),
    )
}

/// Fork/join: λ = 0.5/s, two identical M/M/1 branches (μ = 1/s, ρ = 0.5) fed the same Poisson
/// stream, joined, then 10 ms at the join. Flatto-Hahn / Nelson-Tantawi, exact for two
/// branches: E[max(T_a, T_b)] = ((12 − ρ)/8)/(μ − λ) = (11.5/8)/0.5 = 2.875 s (not the 3 s of
/// two independent Exp(0.5) sojourns), plus 0.01 s at the join: latency 2.885 s, also
/// `analyze`'s figure (labelled exact), to 1e-9.
///
/// Counts, exactly per replication with no warm-up: each job puts one part in a and one in b,
/// so arrivals(a) = arrivals(b) = the fork's routed count; both branches are FIFO with the same
/// arrival order, so the k-th departure of each is job k's part and the jobs complete are the
/// first min(departures(a), departures(b)): that many originals are released into the join,
/// arrivals(gather) = min(departures(a), departures(b)); gather routes to exit, so the source's
/// delivered count is departures(gather), and nothing is dropped. Hence the join's arrival rate
/// is λ (one message per job) in CI.
///
/// A part that is dropped loses its job. With a bounded to K = 2 (drop-tail), a's part is dropped
/// exactly when a is full on arrival: a is M/M/1/2 with Poisson arrivals, so
/// p_2 = ρ²(1 − ρ)/(1 − ρ³) = 0.125/0.875 = 0.142857 (PASTA), b never drops, and
/// all_delivered_fraction = 1 − p_2 = 0.857143.
///
/// 3 CI checks: latency, the join's arrival rate, all_delivered_fraction.
#[test]
fn fork_join_matches_nelson_tantawi_and_releases_one_message_per_job() {
    let (lambda, mu, join_s): (f64, f64, f64) = (0.5, 1.0, 0.01);
    let rho = lambda / mu;
    let latency = (12.0 - rho) / 8.0 / (mu - lambda) + join_s;
    assert!((latency - 2.885).abs() < 1e-12, "{latency}");
    let toml = fork_join(100_000.0, 0.0, lambda, "");
    let theory = analysis(&toml);
    let figure = theory.sources[0].metric(SourceMetric::LatencyMean).expect("a latency figure");
    assert!(figure.exact, "{figure:?}");
    assert_same("fork/join analyze latency", figure.value, latency);

    // 4 events per job: 20 × 1e5 s × 2 = 4e6 events.
    let experiment = simulate(&toml);
    let (a, b, gather) =
        (node_index(&experiment, "a"), node_index(&experiment, "b"), node_index(&experiment, "gather"));
    assert_mean("fork/join latency", experiment.summary.sources[0].get(SourceMetric::LatencyMean), latency);
    assert_mean(
        "fork/join join arrival rate",
        experiment.summary.nodes[gather].get(NodeMetric::ArrivalRate),
        lambda,
    );
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let counts = |i: usize| replication.nodes[i].counts;
        assert_eq!(counts(a).arrivals, replication.exchanges[0].routed, "{context}");
        assert_eq!(counts(b).arrivals, replication.exchanges[0].routed, "{context}");
        assert_eq!(counts(gather).arrivals, counts(a).departures.min(counts(b).departures), "{context}");
        assert_eq!(replication.sources[0].delivered, counts(gather).departures, "{context}");
        assert_eq!(replication.sources[0].dropped, 0, "{context}");
        assert_eq!(value(&replication.sources[0].metrics, SourceMetric::AllDeliveredFraction), 1.0);
    }

    let lossy = simulate(&fork_join(50_000.0, 500.0, lambda, "capacity = 2\noverflow = \"drop-tail\""));
    let p2 = rho * rho * (1.0 - rho) / (1.0 - rho.powi(3));
    assert_mean(
        "fork/join with a dropping branch all_delivered_fraction",
        lossy.summary.sources[0].get(SourceMetric::AllDeliveredFraction),
        1.0 - p2,
    );
    for replication in &lossy.replications {
        assert!(value(&replication.sources[0].metrics, SourceMetric::AllDeliveredFraction) < 1.0);
    }
}

/// A Poisson source (λ = 0.9/s) into an M/M/1 node q (μ = 1/s) whose messages expire after
/// waiting 2 s (`ttl`); with `dead_letter`, expired messages go to the node dlq (infinitely many
/// workers, 0.1 s), which routes to exit.
fn ttl_station(duration_s: f64, warmup_s: f64, replications: u32, dead_letter: bool) -> String {
    let (dead_letter, dlq) = if dead_letter {
        (
            "dead_letter = \"dlq\"",
            "[[node]]\nname = \"dlq\"\nservers = \"infinite\"\nservice = { dist = \"deterministic\", value = \"100ms\" }\n",
        )
    } else {
        ("", "")
    };
    format!(
        "{}{}{}{dlq}",
        simulation(duration_s, warmup_s, replications),
        source("producer", "q", 0.9, ""),
        node("q", 1, 1.0, &format!("ttl = \"2s\"\n{dead_letter}")),
    )
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
    assert_mean(
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

/// A Poisson source (λ = 0.5/s) into q (M/M/1, μ = 1/s), which routes to r (one worker,
/// exponential, mean 0.8 s) over a route with `delay` (a TOML distribution, or nothing).
fn delayed_tandem(warmup_s: f64, delay: Option<&str>) -> String {
    let delay = delay.map_or_else(String::new, |delay| format!(", delay = {delay}"));
    format!(
        "{}{}{}{}",
        simulation(50_000.0, warmup_s, 20),
        source("producer", "q", 0.5, ""),
        node("q", 1, 1.0, &format!("routes = [{{ to = \"r\"{delay} }}]")),
        node("r", 1, 0.8, ""),
    )
}

/// Route delays: q → r with a deterministic delay of d = 0.75 s, against the same route without
/// delay, same seed.
///
/// Theory: a deterministic delay shifts the Poisson output of q (Burke) by d, which leaves it
/// Poisson, so the latency is W_q + d + W_r = 1/(1 − 0.5) + 0.75 + 1/(1.25 − 0.5)
/// = 2 + 0.75 + 1.333333 = 4.083333 s, `analyze`'s figure to 1e-9 (and 3.333333 s without the
/// delay).
///
/// Common random numbers make more than that provable. Source arrivals, q's and r's services
/// and q's routing each draw from their own stream, and a deterministic delay draws nothing that
/// another entity uses, so q's sample path is the same in both runs and r's is the same shifted
/// by d: every message's latency grows by exactly d, up to rounding of the event times (about
/// 1e-12 s per addition near t = 5e4 s). The two runs do not deliver the same messages in the
/// same window, though: with the delay, the messages leaving q during the last d seconds are
/// still in transit at the horizon, and those that left q just before the warm-up ends are
/// delivered after it. Shifting the delayed run's warm-up by d makes the windows match: a
/// message is delivered at time t + d in the window [W + d, W + d + T] exactly when it is
/// delivered at t in [W, W + T] without the delay. So per replication, the delivered counts are
/// equal and the mean latencies differ by d, to 1e-8 s (rounding: each of r's event times is a
/// chain of additions within a busy period, each rounding at most 1.8e-12 s; the sums of about
/// 2.5e4 latencies round to a relative 2.5e4 · 1.1e-16 each).
///
/// 1 CI check: the delayed run's latency.
#[test]
fn a_route_delay_adds_exactly_its_value_to_the_latency() {
    let (lambda, delay_s, warmup_s): (f64, f64, f64) = (0.5, 0.75, 1000.0);
    let latency = 1.0 / (1.0 - lambda) + delay_s + 1.0 / (1.25 - lambda);
    assert!((latency - 4.083_333).abs() < 1e-6, "{latency}");
    let deterministic = format!("{{ dist = \"deterministic\", value = {delay_s:?} }}");
    let theory = analysis(&delayed_tandem(warmup_s, Some(&deterministic)));
    assert_same("route delay analyze latency", source_figure(&theory, SourceMetric::LatencyMean), latency);

    // 4 events per message (the transit included): 20 × 5.1e4 s × 2 = 2e6 events per run.
    let plain = simulate(&delayed_tandem(warmup_s, None));
    let delayed = simulate(&delayed_tandem(warmup_s + delay_s, Some(&deterministic)));
    assert_mean("route delay latency", delayed.summary.sources[0].get(SourceMetric::LatencyMean), latency);
    for (without, with) in plain.replications.iter().zip(&delayed.replications) {
        let context = format!("replication {}", with.index);
        let (without_source, with_source) = (&without.sources[0], &with.sources[0]);
        assert_eq!(without_source.delivered, with_source.delivered, "{context}");
        let difference = value(&with_source.metrics, SourceMetric::LatencyMean)
            - value(&without_source.metrics, SourceMetric::LatencyMean);
        println!("{context}: latency difference − d = {:.3e} s", difference - delay_s);
        assert!((difference - delay_s).abs() <= 1e-8, "{context}: difference {difference}");
    }
}

/// A Poisson source (λ = 1.8/s) into an exchange of `kind` over three M/M/1 nodes (μ = 1/s).
fn balanced(kind: &str) -> String {
    let nodes: String = ["w0", "w1", "w2"].iter().map(|name| node(name, 1, 1.0, "")).collect();
    format!(
        "{}{}[[exchange]]\nname = \"spread\"\ntype = \"{kind}\"\nbindings = [{{ to = \"w0\" }}, {{ to = \"w1\" }}, {{ to = \"w2\" }}]\n\n{nodes}",
        simulation(300_000.0, 1000.0, 20),
        source("producer", "spread", 1.8, ""),
    )
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
        assert_same(
            &format!("random {name} analyze Wq"),
            node_figure(&theory, name, NodeMetric::MeanWait),
            wait,
        );
        assert_mean(
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
        assert_mean(&format!("round-robin {name} (E3/M/1) Wq"), estimate, erlang_wait);
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
    let stretch = FAMILY.stretch(f64::from(u32::try_from(random_wait.samples).expect("few")) - 1.0);
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

/// A fork job whose every part is dropped is reported lost.
///
/// Two identical branches of capacity 1 (drop-tail) with deterministic 1 s service behind a
/// fork, joined at `gather`; λ = 0.5/s. Both branches receive the same arrival instants and
/// serve for the same time, so their states are always equal: a job's two parts are admitted
/// together or dropped together, at the instant of the fork, and drops(a) = drops(b) exactly.
/// Each branch is M/D/1/1, whose loss probability is Erlang B(1, a = λ E[S] = 0.5) = a/(1 + a)
/// = 1/3 (insensitive to the service law, PASTA), so a third of the jobs never complete and
/// all_delivered_fraction is 2/3. Exactly per replication: the jobs ending in the window
/// are the originals delivered (the join releases them, they leave after `gather`) and the jobs
/// lost, whose parts were dropped at the same instant, drops(a) of them; so
/// all_delivered_fraction = delivered/(delivered + drops(a)).
///
/// Actual: 1.0 in every replication. `Messages::end_part` calls a job whose parts were never
/// gathered `Scattered` even when some part failed (`job.failed`), and `job_ended` closes a
/// scattered job as delivered without reporting it lost.
#[test]
fn a_fork_job_with_every_part_dropped_is_lost() {
    let toml = format!(
        r#"{}{}
[[exchange]]
name = "split"
type = "fork"
bindings = [{{ to = "a" }}, {{ to = "b" }}]

[[node]]
name = "a"
capacity = 1
overflow = "drop-tail"
service = {{ dist = "deterministic", value = "1s" }}
routes = [{{ to = "gather" }}]

[[node]]
name = "b"
capacity = 1
overflow = "drop-tail"
service = {{ dist = "deterministic", value = "1s" }}
routes = [{{ to = "gather" }}]

[[node]]
name = "gather"
join = "split"
servers = "infinite"
service = {{ dist = "deterministic", value = "10ms" }}
"#,
        simulation(20_000.0, 100.0, 4),
        source("jobs", "split", 0.5, ""),
    );
    let experiment = simulate(&toml);
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let (a, b) = (replication.nodes[0].counts, replication.nodes[1].counts);
        assert_eq!(a.drops, b.drops, "{context}: the branches are identical");
        assert!(a.drops > 0, "{context}");
        let delivered = replication.sources[0].delivered;
        #[allow(clippy::cast_precision_loss)] // counts far below 2^53
        let expected = delivered as f64 / (delivered + a.drops) as f64;
        let reported = value(&replication.sources[0].metrics, SourceMetric::AllDeliveredFraction);
        assert!(
            (reported - expected).abs() <= 1e-12,
            "{context}: all_delivered_fraction {reported}, expected {expected} ({delivered} delivered, {} lost)",
            a.drops
        );
    }
}

/// A preempted message that leaves its node while waiting (dropped by drop-head, or expired by
/// its TTL) does not disturb the run: its interrupted service's completion is stale, and every
/// service has an id unique in the replication, so the slot's next message cannot match it.
///
/// One worker, discipline "preemptive", two classes (priority 1 or 0, 1/2 each), exponential
/// service of mean 1 s:
/// - capacity 2 with drop-head, λ = 1.5/s: the number of messages in the node is the M/M/1/2
///   chain whatever the order of service (exponential service, no idling, drop-head keeps the
///   count of drop-tail), p ∝ (1, 1.5, 2.25): drop probability p_2 = 2.25/4.75 = 0.473684,
///   throughput 1 − p_0 = 0.789474/s; nothing stops early, and per replication
///   arrivals = departures + drops + in_system_end with in_system_end ≤ 2;
/// - no capacity, TTL 0.5 s, λ = 0.8/s: stable (ρ = 0.8), nothing stops early, and
///   arrivals = departures + expired + in_system_end.
///
/// Actual: every replication stops early, "with 1000000 messages in the system", after a few
/// hundred events. The interrupted service's completion event stays in the calendar, recognised
/// as stale only through `Message::service_id`; when the preempted message is dropped (drop-head
/// picks the front of the lowest class, where the preempted message was put back) or expires,
/// its slab id is freed and reused by the next message, whose `service_id` starts again at 0, so
/// the stale event completes the wrong message (twice removed, counts wrapped).
#[test]
fn preempted_messages_leaving_while_waiting_do_not_corrupt_the_run() {
    for (rate, extra) in [(1.5, "capacity = 2\noverflow = \"drop-head\""), (0.8, "ttl = \"0.5s\"")] {
        let toml = format!(
            "{}{}{}",
            simulation(20_000.0, 0.0, 4),
            source("mixed", "station", rate, "priority = { \"1\" = 0.5, \"0\" = 0.5 }"),
            node("station", 1, 1.0, &format!("discipline = \"preemptive\"\n{extra}")),
        );
        let experiment = kendall::experiment::run(&scenario(&toml), None, &|| {}).expect("thread pool");
        for replication in &experiment.replications {
            let counts = replication.nodes[0].counts;
            let context = format!("{extra:?}, replication {}: {counts:?}", replication.index);
            assert!(
                !replication.stopped_early,
                "{context}: stopped early after {} events",
                replication.events
            );
            assert_eq!(
                counts.arrivals,
                counts.departures + counts.drops + counts.expired + u64::from(counts.in_system_end),
                "{context}"
            );
        }
    }
}

/// Size-dependent service: B = 0.5 s + 0.5 ms per byte, with message sizes Exp(mean 1000 bytes),
/// so E[B] = 0.5 + 0.0005 × 1000 = 1 s and Var(B) = 0.0005² × 1000² = 0.25 s², SCV 0.25. With
/// Poisson arrivals at 0.5/s (ρ = 0.5) Pollaczek-Khinchine gives
/// Wq = ρ E[B] (1 + SCV)/(2(1 − ρ)) = 0.5 × 1 × 1.25/1 = 0.625 s and W = 1.625 s; `analyze`
/// stands the service by one with the same two moments, which is all P-K uses.
///
/// 2 CI checks: Wq and W.
#[test]
fn service_grows_with_the_message_size() {
    let toml = format!(
        "{}{}[[node]]\nname = \"q\"\nservice = {{ dist = \"deterministic\", value = \"0.5s\" }}\nper_byte = \"0.5ms\"\n",
        simulation(100_000.0, 10_000.0, 20),
        source("s", "q", 0.5, "size = { dist = \"exponential\", mean = 1000 }"),
    );
    let (wait, sojourn) = (0.625, 1.625);
    let analysis = analysis(&toml);
    let analytic_wait = node_figure(&analysis, "q", NodeMetric::MeanWait).expect("a P-K figure");
    assert!((analytic_wait - wait).abs() <= EXACT * wait, "analyze: {analytic_wait}");
    let experiment = simulate(&toml);
    let q = named(&experiment.summary.nodes, "q");
    FAMILY.assert_agrees("size-dependent service Wq", q.get(NodeMetric::MeanWait), wait, 0.0);
    FAMILY.assert_agrees("size-dependent service W", q.get(NodeMetric::MeanSojourn), sojourn, 0.0);
}
