//! The shipped scenarios: every file in `scenarios/` (found by listing the directory, so a new
//! file is covered without touching this module) validates, is analysed with finite numbers, and
//! runs briefly with conservation holding at every node; and every analytic figure that a
//! scenario's comments quote is what `kendall::analytic::analyze` computes.
//!
//! The quoted figures are hard-coded in [`QUOTES`], each with the text that carries it in the
//! scenario file (asserted to appear there verbatim, so the comment and this table cannot drift
//! apart) and the value, from a formula computed here where one is short (Erlang C,
//! Pollaczek-Khinchine, the M/M/c/K birth-death chain, traffic equations), else the library's
//! value at full precision. A scenario whose comments quote no figure (`zeromq-pipeline.toml`)
//! has no entry; one that starts quoting figures needs entries here.
//!
//! # Tolerances
//! Analytic figures are deterministic: compared to [`RELATIVE`] (1e-9), which leaves room for
//! rounding only. The brief runs are checked through identities that hold exactly in every
//! replication (message conservation), not against theory: `exact_figures.rs`, `messaging.rs` and
//! `theory.rs` compare the simulator with theory.

use std::path::{Path, PathBuf};

use kendall::analytic::{Analysis, Figure, Verdict, analyze};
use kendall::experiment;
use kendall::model::Scenario;
use kendall::scenario::{Overrides, load, load_with};
use kendall::stats::{MessageClassMetric, NodeClassMetric, NodeMetric, SourceMetric};

use crate::support::{node, node_numbers};

/// Relative tolerance between a quoted figure and `analyze`'s value: rounding only.
const RELATIVE: f64 = 1e-9;

/// Longest observed window of a brief run, seconds.
const BRIEF_DURATION_S: f64 = 200.0;

/// Most external messages a brief replication should create: a scenario with a higher offered
/// rate is run for correspondingly less time, so that the test stays fast.
const BRIEF_MESSAGES: f64 = 300_000.0;

/// Replications of a brief run (two, so that intervals exist).
const BRIEF_REPLICATIONS: u32 = 2;

/// Every `.toml` file in `scenarios/`, sorted.
fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario in {}", dir.display());
    files
}

fn shipped(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file)
}

fn load_shipped(path: &Path) -> Scenario {
    load(path).unwrap_or_else(|error| panic!("{error}"))
}

fn assert_finite(what: &str, value: f64) {
    assert!(value.is_finite(), "{what}: {value} is not finite");
}

/// Every number of an analysis is finite (figures without a value carry a reason instead).
fn assert_all_finite(file: &str, analysis: &Analysis) {
    let system = &analysis.system;
    assert_finite(&format!("{file}: offered_rate"), system.offered_rate);
    for (what, value) in [("headroom", system.headroom), ("max_throughput", system.max_throughput)] {
        value.inspect(|&v| assert_finite(&format!("{file}: {what}"), v));
    }
    assert!(system.headroom.is_some() || system.headroom_reason.is_some(), "{file}: headroom unexplained");
    let check_figure = |what: String, figure: &Figure| match figure.value {
        Some(value) => assert_finite(&what, value),
        None => assert!(figure.reason.is_some(), "{what}: no value and no reason"),
    };
    for node in &analysis.nodes {
        let name = &node.name;
        for (what, value) in node_numbers(node) {
            assert_finite(&format!("{file}: node {name} {what}"), value);
        }
        node.time_to_fill.inspect(|&t| assert_finite(&format!("{file}: node {name} time_to_fill"), t));
        for (metric, figure) in &node.metrics {
            check_figure(format!("{file}: node {name} {metric:?}"), figure);
        }
        for (class, figures) in node.priority_classes.iter().enumerate() {
            for (metric, figure) in figures {
                check_figure(format!("{file}: node {name} class {class} {metric:?}"), figure);
            }
        }
    }
    for source in &analysis.sources {
        for (metric, figure) in &source.metrics {
            check_figure(format!("{file}: source {} {metric:?}", source.name), figure);
        }
    }
}

/// The scenario with a short run: at most [`BRIEF_DURATION_S`] observed, less when the offered
/// rate would create more than [`BRIEF_MESSAGES`] messages, a tenth of that as warm-up.
fn brief(path: &Path, analysis: &Analysis) -> Scenario {
    let rate = analysis.system.offered_rate;
    let duration_s = if rate > 0.0 { BRIEF_DURATION_S.min(BRIEF_MESSAGES / rate) } else { BRIEF_DURATION_S };
    let overrides = Overrides {
        duration_s: Some(duration_s),
        warmup_s: Some(duration_s / 10.0),
        replications: Some(BRIEF_REPLICATIONS),
        seed: None,
        auto_warmup: false,
        memory_max_in_system: None,
    };
    load_with(path, &overrides).unwrap_or_else(|error| panic!("{error}"))
}

/// Each shipped scenario loads, is analysed with finite numbers, and runs: two short
/// replications, each with events, without deadlock, stopping early only if theory calls the
/// system unstable, and conserving messages at every node: what arrived in the window either
/// completed service, was dropped, expired, or is the change in what the node holds.
#[test]
fn every_shipped_scenario_validates_analyzes_and_runs() {
    for path in scenario_files() {
        let file = path.file_name().map_or_else(String::new, |name| name.to_string_lossy().into_owned());
        let scenario = load_shipped(&path);
        assert!(!scenario.network().nodes().is_empty(), "{file}: no node");
        let analysis =
            analyze(&scenario, None).unwrap_or_else(|error| panic!("{file}: analyze failed: {error}"));
        assert_eq!(analysis.nodes.len(), scenario.network().nodes().len(), "{file}: one analysis per node");
        assert_all_finite(&file, &analysis);

        let short = brief(&path, &analysis);
        let experiment = experiment::run(&short, None, &|| {}).expect("thread pool");
        assert_eq!(experiment.replications.len(), BRIEF_REPLICATIONS as usize, "{file}");
        assert!(experiment.events > 0, "{file}: no event");
        assert_eq!(experiment.deadlocked(), 0, "{file}: a replication deadlocked");
        if experiment.stopped_early() > 0 {
            assert!(!analysis.system.stable, "{file}: a stable system stopped early");
        }
        for replication in &experiment.replications {
            let run = format!("{file} replication {}", replication.index);
            assert!(replication.events > 0, "{run}: no event");
            assert!(replication.observed_s > 0.0, "{run}: empty window");
            for (node, result) in scenario.network().nodes().iter().zip(&replication.nodes) {
                let counts = result.counts;
                let gone = counts.departures + counts.drops + counts.expired;
                let held = i64::from(counts.in_system_end) - i64::from(counts.in_system_start);
                assert_eq!(
                    i64::try_from(counts.arrivals).expect("count") - i64::try_from(gone).expect("count"),
                    held,
                    "{run}: node {} does not conserve messages: {counts:?}",
                    node.name()
                );
            }
            for (exchange, result) in scenario.network().exchanges().iter().zip(&replication.exchanges) {
                assert!(result.unroutable <= result.routed, "{run}: exchange {}", exchange.name());
            }
        }
        println!("{file}: {} events in {:.2}s", experiment.events, experiment.wall_seconds);
    }
}

/// Where a quoted figure lives in an [`Analysis`].
#[derive(Debug, Clone, Copy)]
enum At {
    /// A node metric's figure.
    Node(&'static str, NodeMetric),
    /// A node's offered arrival rate λ (the "λ" of `analyze`'s node header).
    Rate(&'static str),
    /// A node's offered load per worker ρ = λ/(cμ) (the header's "ρ", which may exceed 1).
    Rho(&'static str),
    /// A node's throughput (the header's "throughput").
    Throughput(&'static str),
    /// A node's queue growth rate λ − cμ.
    Growth(&'static str),
    /// A per-class figure of a priority node, by message priority.
    Class(&'static str, u8, NodeClassMetric),
    /// A per message class figure of a node, by class name.
    MessageClass(&'static str, &'static str, NodeClassMetric),
    /// A message class's end-to-end figure, by class name.
    EndToEnd(&'static str, MessageClassMetric),
    /// A source metric's figure.
    Source(&'static str, SourceMetric),
    /// A node's arrival rate per message of the (only) source: its visit ratio.
    Visits(&'static str),
    /// The factor by which arrivals can grow before a queue saturates.
    Headroom,
    /// The external arrival rate at that point.
    MaxThroughput,
}

/// A figure quoted in a scenario's comments.
struct Quote {
    /// The scenario file.
    file: &'static str,
    /// The text carrying the figure, verbatim from the file.
    text: &'static str,
    /// Where `analyze` reports it.
    at: At,
    /// Its value.
    value: f64,
    /// Whether `analyze` labels it exact (`Some(false)`: approximate, quoted with `~`); `None`
    /// for the unlabelled header figures.
    exact: Option<bool>,
}

/// Probability of waiting in an M/M/c with offered load `a` (Erlang C), through the Erlang B
/// recursion B(k) = a B(k − 1)/(k + a B(k − 1)), C = B/(1 − ρ(1 − B)).
fn erlang_c(c: u32, a: f64) -> f64 {
    let b = (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b));
    b / (1.0 - a / f64::from(c) * (1.0 - b))
}

/// M/M/c mean wait C(c, a)/(cμ − λ).
fn mmc_wait(lambda: f64, mu: f64, c: u32) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda)
}

/// M/G/1 mean wait (Pollaczek-Khinchine) λE[S²]/(2(1 − ρ)), E[S²] = E[S]²(1 + SCV).
fn pk_wait(lambda: f64, mean_s: f64, scv: f64) -> f64 {
    lambda * mean_s * mean_s * (1.0 + scv) / (2.0 * (1.0 - lambda * mean_s))
}

/// M/M/c/K drop probability: the birth-death chain's `p_K`, with `p_n` ∝ aⁿ/n! up to c and
/// ∝ aᶜ/c! ρⁿ⁻ᶜ beyond.
fn mmck_drop(lambda: f64, mu: f64, c: u32, k: u32) -> f64 {
    let a = lambda / mu;
    let weights: Vec<f64> = (0..=k)
        .scan(1.0, |w, n| {
            if n > 0 {
                *w *= a / f64::from(n.min(c));
            }
            Some(*w)
        })
        .collect();
    weights[k as usize] / weights.iter().sum::<f64>()
}

/// The figures quoted in the scenarios' comments.
fn quotes() -> Vec<Quote> {
    let q = |file, text, at, value, exact| Quote { file, text, at, value, exact };
    let (exact, approx, header) = (Some(true), Some(false), None);
    // iot-pipeline: ingest M/M/8 (λ 1000, μ 1/0.006), storage M/M/6 (λ 1000, μ 200), analytics
    // Allen-Cunneen M/G/4 (λ 894, E[S] 3.5 ms, SCV 2.25), alerts M/M/1 (λ 8, μ 20) with Cobham's
    // classes: R = λE[S²]/2 = 8 × 2 × 0.05²/2 = 0.02, σ₁ = 2 × 0.05 = 0.1, σ₂ = 0.4.
    let ingest_wait = mmc_wait(1000.0, 1.0 / 0.006, 8);
    let storage_wait = mmc_wait(1000.0, 200.0, 6);
    let analytics_wait = mmc_wait(894.0, 1.0 / 0.0035, 4) * (1.0 + 2.25) / 2.0;
    // kafka-partitions: M/G/1 partitions, E[S] 2 ms, SCV 0.25; the orders' mean latency weighs
    // each partition's sojourn by its share of the keys (8, 5, 16, 37, 6, 28%).
    let partition = |lambda: f64| pk_wait(lambda, 0.002, 0.25);
    let orders_latency: f64 =
        [(106.0, 0.08), (70.0, 0.05), (202.0, 0.16), (454.0, 0.37), (82.0, 0.06), (346.0, 0.28)]
            .iter()
            .map(|&(lambda, share)| share * (partition(lambda) + 0.002))
            .sum();
    // zeromq-pubsub: the tick recorder is an M/M/1/1000 at ρ = 1.05; ρ¹⁰⁰¹ ≈ 1.6e21, so to
    // double precision p_K = (ρ − 1)/ρ = 1/21, throughput λ(1 − p_K) = μ = 952.38/s, and
    // L = ρ/(1 − ρ) + K + 1 = 980, W = L/(λ(1 − p_K)). Copies: 0.5 + 0.3 + 0.35 + 1 = 2.15 per
    // message, of which 1/21 is dropped.
    let recorder_drop = 0.05 / 1.05;
    // order-service: payments serve orders (36/s, exponential 12 ms) and refunds (6/s, gamma
    // 60 ms with cv 1.5, E[S²] = 0.06²(1 + 1.5²)), a P-K M/G/1 on the mixture; the API is an M/M/4
    // (λ 42, μ 50) every class crosses first.
    let payments_load = 36.0 * 0.012 + 6.0 * 0.06;
    let payments_wait =
        (36.0 * 2.0 * 0.012 * 0.012 + 6.0 * 0.06 * 0.06 * 3.25) / (2.0 * (1.0 - payments_load));
    let api_sojourn = mmc_wait(42.0, 50.0, 4) + 0.02;
    let recorder_throughput = 1000.0 * (1.0 - recorder_drop);
    vec![
        // zeromq-pubsub.toml
        q("zeromq-pubsub.toml", "eu-pricer [M/M/1/1000]: λ 500.0/s", At::Rate("eu-pricer"), 500.0, header),
        q("zeromq-pubsub.toml", "ρ 0.8000, throughput 500.0/s", At::Rho("eu-pricer"), 0.8, header),
        q("zeromq-pubsub.toml", "ρ 0.8000, throughput 500.0/s", At::Throughput("eu-pricer"), 500.0, header),
        q(
            "zeromq-pubsub.toml",
            "mean_sojourn              0.008000s  M/M/c/K birth-death",
            At::Node("eu-pricer", NodeMetric::MeanSojourn),
            1.0 / (625.0 - 500.0),
            exact,
        ),
        q(
            "zeromq-pubsub.toml",
            "us-pricer [M/M/1/1000]: λ 300.0/s, ρ 0.7500",
            At::Rho("us-pricer"),
            0.75,
            header,
        ),
        q(
            "zeromq-pubsub.toml",
            "mean_sojourn               0.01000s  M/M/c/K birth-death",
            At::Node("us-pricer", NodeMetric::MeanSojourn),
            1.0 / (400.0 - 300.0),
            exact,
        ),
        q(
            "zeromq-pubsub.toml",
            "dax-risk [M/M/1/1000]: λ 350.0/s, ρ 0.7000",
            At::Rate("dax-risk"),
            350.0,
            header,
        ),
        q(
            "zeromq-pubsub.toml",
            "mean_sojourn              0.006667s  M/M/c/K birth-death",
            At::Node("dax-risk", NodeMetric::MeanSojourn),
            1.0 / (500.0 - 350.0),
            exact,
        ),
        q(
            "zeromq-pubsub.toml",
            "tick-recorder [M/M/1/1000]: λ 1000/s, ρ 1.050",
            At::Rho("tick-recorder"),
            1.05,
            header,
        ),
        q(
            "zeromq-pubsub.toml",
            "throughput 952.4/s, saturated",
            At::Throughput("tick-recorder"),
            recorder_throughput,
            header,
        ),
        q(
            "zeromq-pubsub.toml",
            "mean_sojourn                 1.029s  M/M/c/K birth-death",
            At::Node("tick-recorder", NodeMetric::MeanSojourn),
            (1.05 / (1.0 - 1.05) + 1001.0) / recorder_throughput,
            exact,
        ),
        q(
            "zeromq-pubsub.toml",
            "drop_probability            0.04762  M/M/c/K birth-death",
            At::Node("tick-recorder", NodeMetric::DropProbability),
            recorder_drop,
            exact,
        ),
        q(
            "zeromq-pubsub.toml",
            "throughput                   2102/s  traffic equations",
            At::Source("market-feed", SourceMetric::Throughput),
            1000.0 * (2.15 - recorder_drop),
            exact,
        ),
        q(
            "zeromq-pubsub.toml",
            "delivered_fraction           0.9779  absorption probabilities (expected copies)",
            At::Source("market-feed", SourceMetric::DeliveredFraction),
            (2.15 - recorder_drop) / 2.15,
            exact,
        ),
        // rabbitmq-work-queue.toml: the shared queue is an M/M/4 (λ 80, μ 25); the round-robin
        // consumers get Kingman with arrival and service SCV 1: Wq = ρ/(1 − ρ) E[S] = 4 × 0.04.
        q(
            "rabbitmq-work-queue.toml",
            "node tasks [M/M/4]: λ 80.00/s, ρ 0.8000",
            At::Rho("tasks"),
            0.8,
            header,
        ),
        q(
            "rabbitmq-work-queue.toml",
            "mean_wait                  0.02982s  M/M/c (Erlang C)",
            At::Node("tasks", NodeMetric::MeanWait),
            mmc_wait(80.0, 25.0, 4),
            exact,
        ),
        q(
            "rabbitmq-work-queue.toml",
            "mean_sojourn               0.06982s  M/M/c (Erlang C)",
            At::Node("tasks", NodeMetric::MeanSojourn),
            mmc_wait(80.0, 25.0, 4) + 0.04,
            exact,
        ),
        // The M/M/c FCFS sojourn-time quantile, the library's value at full precision.
        q(
            "rabbitmq-work-queue.toml",
            "sojourn_p99                 0.2757s  M/M/c FCFS waiting-time distribution",
            At::Node("tasks", NodeMetric::SojournP99),
            0.275_728_149_955_318_75,
            exact,
        ),
        q("rabbitmq-work-queue.toml", "consumer-1 [G/M/1]: λ 20.00/s", At::Rate("consumer-1"), 20.0, header),
        q(
            "rabbitmq-work-queue.toml",
            "mean_wait                  ~0.1000s  G/G/1 Kingman",
            At::Node("consumer-1", NodeMetric::MeanWait),
            // Kingman with the Erlang-4 gaps of a 4-way round-robin: Ca² = 1/4, Cs² = 1.
            0.8 / 0.2 * (0.25 + 1.0) / 2.0 * 0.04,
            approx,
        ),
        q(
            "rabbitmq-work-queue.toml",
            "mean_sojourn               ~0.1400s  G/G/1 Kingman",
            At::Node("consumer-1", NodeMetric::MeanSojourn),
            0.8 / 0.2 * (0.25 + 1.0) / 2.0 * 0.04 + 0.04,
            approx,
        ),
        // kafka-partitions.toml: partition 3 takes 0.37 × 1200 + 60/6 = 454/s of μ = 500/s.
        q("kafka-partitions.toml", "grow by a factor 1.101", At::Headroom, 500.0 / 454.0, header),
        q(
            "kafka-partitions.toml",
            "max throughput 1388/s",
            At::MaxThroughput,
            1260.0 * 500.0 / 454.0,
            header,
        ),
        q("kafka-partitions.toml", "partition-3 [M/G/1]: λ 454.0/s", At::Rate("partition-3"), 454.0, header),
        q("kafka-partitions.toml", "λ 454.0/s, ρ 0.9080", At::Rho("partition-3"), 0.908, header),
        q(
            "kafka-partitions.toml",
            "mean_wait                  0.01234s  M/G/1 Pollaczek-Khinchine",
            At::Node("partition-3", NodeMetric::MeanWait),
            partition(454.0),
            exact,
        ),
        q(
            "kafka-partitions.toml",
            "mean_sojourn               0.01434s  M/G/1 Pollaczek-Khinchine",
            At::Node("partition-3", NodeMetric::MeanSojourn),
            partition(454.0) + 0.002,
            exact,
        ),
        q(
            "kafka-partitions.toml",
            "partition-5 [M/G/1]: λ 346.0/s, ρ 0.6920",
            At::Rho("partition-5"),
            0.692,
            header,
        ),
        q(
            "kafka-partitions.toml",
            "mean_wait                 0.002808s  M/G/1 Pollaczek-Khinchine",
            At::Node("partition-5", NodeMetric::MeanWait),
            partition(346.0),
            exact,
        ),
        q(
            "kafka-partitions.toml",
            "partition-1 [M/G/1]: λ 70.00/s, ρ 0.1400",
            At::Rho("partition-1"),
            0.14,
            header,
        ),
        q(
            "kafka-partitions.toml",
            "mean_wait                 2.035e-4s  M/G/1 Pollaczek-Khinchine",
            At::Node("partition-1", NodeMetric::MeanWait),
            partition(70.0),
            exact,
        ),
        q(
            "kafka-partitions.toml",
            "latency_mean              0.007538s  Σ visits × W (Little)",
            At::Source("orders", SourceMetric::LatencyMean),
            orders_latency,
            exact,
        ),
        // iot-pipeline.toml: storage (1000 × 0.005/6 = 0.8333) saturates first, at 1.2 × today.
        q("iot-pipeline.toml", "grow by a factor 1.200", At::Headroom, 1.2, header),
        q("iot-pipeline.toml", "max throughput 1200/s", At::MaxThroughput, 1200.0, header),
        q("iot-pipeline.toml", "ingest [M/M/8]: λ 1000/s, ρ 0.7500", At::Rho("ingest"), 0.75, header),
        q(
            "iot-pipeline.toml",
            "mean_wait                 0.001071s  M/M/c (Erlang C)",
            At::Node("ingest", NodeMetric::MeanWait),
            ingest_wait,
            exact,
        ),
        q(
            "iot-pipeline.toml",
            "sojourn_p99                0.02945s  M/M/c FCFS waiting-time distribution",
            At::Node("ingest", NodeMetric::SojournP99),
            0.029_450_929_947_863_656,
            exact,
        ),
        q(
            "iot-pipeline.toml",
            "storage [M/M/6]: λ 1000/s, ρ 0.8333",
            At::Rho("storage"),
            1000.0 * 0.005 / 6.0,
            header,
        ),
        q(
            "iot-pipeline.toml",
            "mean_wait                 0.002938s  M/M/c (Erlang C)",
            At::Node("storage", NodeMetric::MeanWait),
            storage_wait,
            exact,
        ),
        q(
            "iot-pipeline.toml",
            "sojourn_p99                0.03066s  M/M/c FCFS waiting-time distribution",
            At::Node("storage", NodeMetric::SojournP99),
            0.030_658_868_577_257_865,
            exact,
        ),
        // 894/s: every telemetry key, 0.99 × 600 + 300.
        q(
            "iot-pipeline.toml",
            "analytics [M/G/4]: λ 894.0/s",
            At::Rate("analytics"),
            0.99 * 600.0 + 300.0,
            header,
        ),
        q("iot-pipeline.toml", "λ 894.0/s, ρ 0.7823", At::Rho("analytics"), 894.0 * 0.0035 / 4.0, header),
        q(
            "iot-pipeline.toml",
            "mean_sojourn             ~0.007188s  G/G/c Allen-Cunneen (arrival SCV 1 assumed)",
            At::Node("analytics", NodeMetric::MeanSojourn),
            analytics_wait + 0.0035,
            approx,
        ),
        // 8/s: 1% of the thermostats' 600/s and 2% of the detectors' 100/s.
        q("iot-pipeline.toml", "alerts [M/M/1]: λ 8.000/s, ρ 0.4000", At::Rate("alerts"), 8.0, header),
        q("iot-pipeline.toml", "alerts [M/M/1]: λ 8.000/s, ρ 0.4000", At::Rho("alerts"), 0.4, header),
        q(
            "iot-pipeline.toml",
            "mean_wait                  0.03333s  M/M/c (Erlang C)",
            At::Node("alerts", NodeMetric::MeanWait),
            0.4 / (20.0 - 8.0),
            exact,
        ),
        q("iot-pipeline.toml", "pager [M/G/2]: λ 8.000/s, ρ 0.8000", At::Rho("pager"), 0.8, header),
        q(
            "iot-pipeline.toml",
            "priority 9     mean_wait 0.02222s",
            At::Class("alerts", 9, NodeClassMetric::MeanWait),
            0.02 / 0.9,
            exact,
        ),
        q(
            "iot-pipeline.toml",
            "priority 0     mean_wait 0.03704s",
            At::Class("alerts", 0, NodeClassMetric::MeanWait),
            0.02 / (0.9 * 0.6),
            exact,
        ),
        q(
            "order-service.toml",
            "payments [M/G/1]: λ 42.00/s, ρ 0.7920",
            At::Rho("payments"),
            payments_load,
            header,
        ),
        q(
            "order-service.toml",
            "mean_wait                   0.1937s  M/G/1 Pollaczek-Khinchine",
            At::Node("payments", NodeMetric::MeanWait),
            payments_wait,
            exact,
        ),
        q(
            "order-service.toml",
            "mean_sojourn                0.2057s",
            At::MessageClass("payments", "order", NodeClassMetric::MeanSojourn),
            payments_wait + 0.012,
            exact,
        ),
        q(
            "order-service.toml",
            "mean_sojourn                0.2537s",
            At::MessageClass("payments", "refund", NodeClassMetric::MeanSojourn),
            payments_wait + 0.06,
            exact,
        ),
        q(
            "order-service.toml",
            "latency_mean                0.2257s",
            At::EndToEnd("order", MessageClassMetric::LatencyMean),
            api_sojourn + payments_wait + 0.012,
            exact,
        ),
        // mm1.toml: λ 0.9, μ 1.
        q("mm1.toml", "Wq = rho/(mu - lambda) = 9s", At::Node("server", NodeMetric::MeanWait), 9.0, exact),
        q("mm1.toml", "W = 10s", At::Node("server", NodeMetric::MeanSojourn), 10.0, exact),
        q("mm1.toml", "L = 9", At::Node("server", NodeMetric::MeanInSystem), 9.0, exact),
        q(
            "mm1.toml",
            "sojourn p99 = ln(100)/(mu - lambda) = 46.05s",
            At::Node("server", NodeMetric::SojournP99),
            100f64.ln() / 0.1,
            exact,
        ),
        // mmc.toml: λ 3.4, μ 1, c 4.
        q("mmc.toml", "M/M/4 at rho = 0.85", At::Rho("workers"), 0.85, header),
        q(
            "mmc.toml",
            "Wq = C/(c mu - lambda) = 1.149s",
            At::Node("workers", NodeMetric::MeanWait),
            mmc_wait(3.4, 1.0, 4),
            exact,
        ),
        q(
            "mmc.toml",
            "C(4, 3.4) = 0.6893",
            At::Node("workers", NodeMetric::WaitProbability),
            erlang_c(4, 3.4),
            exact,
        ),
        // bounded-buffer.toml: M/M/2/10, λ 2.2, μ 1.
        q(
            "bounded-buffer.toml",
            "drop probability of 0.1438",
            At::Node("consumer", NodeMetric::DropProbability),
            mmck_drop(2.2, 1.0, 2, 10),
            exact,
        ),
        // microservices.toml: gateway 40 + 20; catalog 0.3 × 60; orders = db = 0.7 × 60/0.9.
        q("microservices.toml", "gateway 60/s", At::Rate("gateway"), 60.0, header),
        q("microservices.toml", "catalog 18/s", At::Rate("catalog"), 18.0, header),
        q("microservices.toml", "orders = db = 42/0.9 = 46.67/s", At::Rate("orders"), 42.0 / 0.9, header),
        q("microservices.toml", "orders = db = 42/0.9 = 46.67/s", At::Rate("db"), 42.0 / 0.9, header),
        q("microservices.toml", "gateway 0.75", At::Rho("gateway"), 0.75, header),
        q("microservices.toml", "catalog 0.36", At::Rho("catalog"), 0.36, header),
        q("microservices.toml", "orders 0.875", At::Rho("orders"), 0.875, header),
        q("microservices.toml", "db 0.70", At::Rho("db"), 0.7, header),
        // overload.toml: 1000/s offered to 8 × 1/0.01 = 800/s.
        q("overload.toml", "grows by about 200 messages/s", At::Growth("parser"), 200.0, header),
        q("overload.toml", "only ever sees the 800/s", At::Rate("indexer"), 800.0, header),
        // rabbitmq-topic.toml: 50/s with keys temp.eu 0.5, hum.eu 0.2, temp.us 0.2, ping 0.1.
        q("rabbitmq-topic.toml", "0.5 + 0.2 = 70% of 50/s = 35/s", At::Rate("eu-archive"), 35.0, header),
        q("rabbitmq-topic.toml", "rho = 35 x 0.05 / 2 = 0.875", At::Rho("eu-archive"), 0.875, header),
        q("rabbitmq-topic.toml", "= 70%          = 35/s", At::Rate("temperatures"), 35.0, header),
        q("rabbitmq-topic.toml", "rho = 35 x 0.08 / 4 = 0.7", At::Rho("temperatures"), 0.7, header),
        q(
            "rabbitmq-topic.toml",
            "every message (a copy)                              = 50/s",
            At::Rate("audit"),
            50.0,
            header,
        ),
        q("rabbitmq-topic.toml", "rho = 50 x 0.015 = 0.75", At::Rho("audit"), 0.75, header),
        // mapreduce.toml: 8 map tasks per job at 0.6 jobs/s, on 6 mappers of 1 s; the join
        // turns 8 parts back into one job for the reducer (0.8 s).
        q("mapreduce.toml", "8 x 0.6 = 4.8 tasks/s", At::Rate("mappers"), 8.0 * 0.6, header),
        q("mapreduce.toml", "(rho 0.8)", At::Rho("mappers"), 0.8, header),
        q("mapreduce.toml", "0.6 jobs/s", At::Rate("reducer"), 0.6, header),
        q("mapreduce.toml", "0.6 jobs/s x 0.8 s = 0.48", At::Rho("reducer"), 0.48, header),
        // request-reply.toml: a request visits api and db 1/(1 − 0.3) times each.
        q("request-reply.toml", "api = 1/(1 - 0.3) = 1.4286", At::Visits("api"), 1.0 / 0.7, header),
        q("request-reply.toml", "db = 1.4286", At::Visits("db"), 1.0 / 0.7, header),
    ]
}

fn source_figure<'a>(analysis: &'a Analysis, name: &str, metric: SourceMetric) -> &'a Figure {
    analysis
        .sources
        .iter()
        .find(|source| source.name == name)
        .unwrap_or_else(|| panic!("no source {name}"))
        .metric(metric)
        .unwrap_or_else(|| panic!("source {name}: no {metric:?}"))
}

/// The value of a quoted figure in `analysis`, with its exactness label when it has one.
fn look_up(scenario: &Scenario, analysis: &Analysis, at: At) -> (f64, Option<bool>) {
    let labelled = |figure: &Figure| {
        (figure.value.unwrap_or_else(|| panic!("{at:?}: no value ({:?})", figure.reason)), Some(figure.exact))
    };
    match at {
        At::Node(name, metric) => {
            labelled(node(analysis, name).metric(metric).unwrap_or_else(|| panic!("{at:?}: no figure")))
        }
        At::Rate(name) => (node(analysis, name).arrival_rate, None),
        At::Rho(name) => (node(analysis, name).utilization, None),
        At::Throughput(name) => (node(analysis, name).throughput, None),
        At::Growth(name) => (node(analysis, name).growth_rate, None),
        At::Class(name, priority, metric) => {
            let classes = &node(analysis, name).priority_classes;
            let class = classes
                .get(scenario.network().class_of(priority))
                .unwrap_or_else(|| panic!("{at:?}: no class of priority {priority}"));
            labelled(&class.iter().find(|(m, _)| *m == metric).expect("every class metric").1)
        }
        At::MessageClass(name, class, metric) => {
            let figures = &node(analysis, name).message_classes[class_index(scenario, class)];
            labelled(&figures.iter().find(|(m, _)| *m == metric).expect("every class metric").1)
        }
        At::EndToEnd(class, metric) => {
            let figures = &analysis.message_classes[class_index(scenario, class)];
            labelled(&figures.iter().find(|(m, _)| *m == metric).expect("every class metric").1)
        }
        At::Source(name, metric) => labelled(source_figure(analysis, name, metric)),
        At::Visits(name) => {
            let [source] = analysis.sources.as_slice() else { panic!("{at:?}: needs exactly one source") };
            let throughput = source_figure(analysis, &source.name, SourceMetric::Throughput)
                .value
                .expect("the source's throughput");
            (node(analysis, name).arrival_rate / throughput, None)
        }
        At::Headroom => (analysis.system.headroom.expect("a headroom"), None),
        At::MaxThroughput => (analysis.system.max_throughput.expect("a max throughput"), None),
    }
}

/// The index of the message class named `class`.
fn class_index(scenario: &Scenario, class: &str) -> usize {
    let classes = scenario.network().message_classes();
    classes.iter().position(|name| name == class).unwrap_or_else(|| panic!("no class {class} in {classes:?}"))
}

/// The numbers written in `text` ("1.149s", "ρ 0.8000", "2.035e-4s"), each with half a unit
/// of its last digit: the rounding its writing allows.
fn written_numbers(text: &str) -> Vec<(f64, f64)> {
    let mut numbers = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = &rest[start..];
        let mut end = tail.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(tail.len());
        let mantissa = tail[..end].trim_end_matches('.');
        // An exponent: "e", an optional sign, digits.
        let exponent = tail[end..].strip_prefix('e').and_then(|after| {
            let digits = after.trim_start_matches('-');
            let sign = after.len() - digits.len();
            let length = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
            (sign <= 1 && length > 0).then(|| (after[..sign + length].parse::<i32>().ok(), 1 + sign + length))
        });
        let (scale, skip) = match exponent {
            Some((Some(exponent), skip)) => (exponent, skip),
            _ => (0, 0),
        };
        if let Ok(value) = mantissa.parse::<f64>() {
            let decimals = mantissa.split_once('.').map_or(0, |(_, fraction)| fraction.len());
            let decimals = i32::try_from(decimals).expect("a few digits");
            numbers.push((value * 10f64.powi(scale), 0.5 * 10f64.powi(scale - decimals)));
        }
        end += skip;
        rest = &tail[end..];
    }
    numbers
}

/// Whether `text` writes `value` as one of its numbers, to the rounding of its digits.
fn writes(text: &str, value: f64) -> bool {
    written_numbers(text).iter().any(|&(number, rounding)| (number - value).abs() <= rounding * (1.0 + 1e-9))
}

#[test]
fn written_numbers_carry_their_rounding() {
    assert_eq!(written_numbers("Wq = C/(c mu - lambda) = 1.149s."), [(1.149, 0.0005)]);
    assert_eq!(written_numbers("ρ 0.8000, throughput 500.0/s"), [(0.8, 0.00005), (500.0, 0.05)]);
    assert_eq!(written_numbers("M/M/4 at rho = 0.85"), [(4.0, 0.5), (0.85, 0.005)]);
    assert!(writes("Wq = C/(c mu - lambda) = 1.149s", 1.148_860) && !writes("= 1.173s", 1.148_860));
    assert!(!writes("drop probability of 0.1254", 0.143_848));
    let [(value, rounding)] = written_numbers("mean_wait 2.035e-4s")[..] else { panic!("one number") };
    assert!((value - 2.035e-4).abs() < 1e-15 && (rounding - 0.5e-7).abs() < 1e-18);
}

/// Every figure quoted in a scenario's comments appears there verbatim, is written there to its
/// rounding as the value computed here (from the formula, independently of the library), and is
/// what `analyze` computes, to rounding, with the same exact/approximate label.
#[test]
fn quoted_analytic_figures_are_what_analyze_computes() {
    let quotes = quotes();
    let mut files: Vec<&str> = quotes.iter().map(|quote| quote.file).collect();
    files.dedup();
    for file in files {
        let path = shipped(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{file}: {error}"));
        let scenario = load_shipped(&path);
        let analysis = analyze(&scenario, None).expect("solvable traffic equations");
        for quote in quotes.iter().filter(|quote| quote.file == file) {
            let what = format!("{file}: {:?} quoted as {:?}", quote.at, quote.text);
            assert!(text.contains(quote.text), "{what}: the text is not in the file");
            assert!(writes(quote.text, quote.value), "{what}: the figure written is not {}", quote.value);
            let (value, exact) = look_up(&scenario, &analysis, quote.at);
            assert!(
                (value - quote.value).abs() <= RELATIVE * quote.value.abs(),
                "{what}: analyze gives {value}, expected {}",
                quote.value
            );
            assert_eq!(exact, quote.exact, "{what}: exactness label");
        }
    }
}

/// The bottlenecks the scenarios name, and the verdict of the overloaded ZeroMQ subscriber.
#[test]
fn quoted_bottlenecks_and_verdicts_are_what_analyze_computes() {
    let cases = [
        ("kafka-partitions.toml", "bottleneck: partition-3", "partition-3"),
        ("iot-pipeline.toml", "bottleneck: storage", "storage"),
        ("request-reply.toml", "the database saturates first", "db"),
    ];
    for (file, text, bottleneck) in cases {
        let path = shipped(file);
        assert!(std::fs::read_to_string(&path).expect("readable").contains(text), "{file}: {text:?}");
        let analysis = analyze(&load_shipped(&path), None).expect("solvable");
        assert_eq!(analysis.system.bottleneck.as_deref(), Some(bottleneck), "{file}");
    }
    let path = shipped("zeromq-pubsub.toml");
    let analysis = analyze(&load_shipped(&path), None).expect("solvable");
    let recorder = node(&analysis, "tick-recorder");
    assert_eq!((recorder.model.as_str(), recorder.verdict), ("M/M/1/1000", Verdict::Saturated));
    // "its HWM fills within about 21 s": 1000 messages at λ − μ = 1000 − 952.38 per second.
    let fill = recorder.time_to_fill.expect("a saturated channel fills");
    assert!((fill - 1000.0 / (1000.0 - 1000.0 / 1.05)).abs() <= RELATIVE * fill, "time to fill {fill}");
}

/// The figures README.md quotes from `analyze`, checked as those of the scenario files: the
/// text appears in README.md, writes the value computed here to its rounding, and `analyze`
/// gives that value. iot-pipeline's storage is an M/M/6 at λ 1000/s, μ 200/s: ρ = 1000/1200,
/// the highest, so every rate can grow by 1200/1000 before it saturates.
#[test]
fn figures_quoted_in_the_readme_are_what_analyze_computes() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable");
    let q = |file, text, at, value| Quote { file, text, at, value, exact: None };
    let quotes = [
        q("iot-pipeline.toml", "storage (six writers, ρ 0.83)", At::Rho("storage"), 1000.0 / 1200.0),
        q("iot-pipeline.toml", "grow by a factor 1.200", At::Headroom, 1.2),
        q("iot-pipeline.toml", "max throughput 1200/s", At::MaxThroughput, 1200.0),
        q("mm1.toml", "M/M/1 at ρ = 0.9", At::Rho("server"), 0.9),
        q("mmc.toml", "M/M/4 at ρ = 0.85", At::Rho("workers"), 0.85),
    ];
    for quote in quotes {
        let what = format!("README.md: {:?} quoted as {:?}", quote.at, quote.text);
        assert!(readme.contains(quote.text), "{what}: the text is not in README.md");
        assert!(writes(quote.text, quote.value), "{what}: the figure written is not {}", quote.value);
        let scenario = load_shipped(&shipped(quote.file));
        let analysis = analyze(&scenario, None).expect("solvable traffic equations");
        let (value, _) = look_up(&scenario, &analysis, quote.at);
        assert!((value - quote.value).abs() <= RELATIVE * quote.value.abs(), "{what}: analyze gives {value}");
    }
}
