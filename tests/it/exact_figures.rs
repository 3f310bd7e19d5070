//! The library's exact figures against the simulator, one case per exact model: every figure
//! `analyze` labels exact (and only those: the labels are asserted too) is compared with the
//! simulated estimate of the same metric; where theory is only approximate, the figures say so.
//!
//! # Tolerances
//! As in theory.rs (see [`Family`]): a Bonferroni interval over the [`CHECKS`] comparisons of
//! this module, a precision floor of [`PRECISION`] on every 95% half-width (the runs are sized
//! for about half of it), [`PERCENTILE_BIAS`] more for percentiles, and seed 1 everywhere. A
//! theory value of 0 (the drop probability of an unbounded queue, the wait with infinitely many
//! servers) demands a simulated 0 in every replication. Figures compared with a hand computation
//! agree to 1e-12 relative (rounding only).

use kendall::model::Metric;
use kendall::stats::{NodeMetric, SourceMetric};

use crate::support::{
    Family, ScenarioBuilder, analysis, assert_close, figure, figure_value, node, simulate, single_station,
};
use crate::traffic_equations::feedback;

/// Comparisons with the simulator in this module, the Bonferroni denominator: 27 for M/M/1,
/// 27 for M/M/c, 17 for M/M/c/K, 17 for M/M/c/c, 17 for M/G/1, 18 for M/G/∞, 57 for Jackson
/// (each test asserts its own count). Those whose theory is 0 or 1 with a simulated interval of
/// width 0 cannot fail by chance; counting them only makes the intervals a little wider.
const CHECKS: u32 = 180;

/// Probability that some check of this module fails by chance alone when the simulator and the
/// theory are both right.
const FAMILY_ERROR: f64 = 0.05;

/// Largest 95% half-width accepted, relative to the theory value.
const PRECISION: f64 = 0.02;

/// Relative allowance for the bias of a percentile read from an HDR histogram with 3 significant
/// digits (derived in theory.rs).
const PERCENTILE_BIAS: f64 = 0.002;

/// This module's comparisons with the simulator.
const FAMILY: Family = Family { checks: CHECKS, error: FAMILY_ERROR, precision: PRECISION };

fn is_percentile(key: &str) -> bool {
    key.ends_with("_p50") || key.ends_with("_p95") || key.ends_with("_p99")
}

/// What one node of a case must look like.
struct NodeExpectation<'a> {
    name: &'static str,
    model: &'static str,
    /// Fragment of the method of the mean figures (and of a finite queue's drop probability).
    means: &'static str,
    /// Metrics expected to be labelled exact with a value, in report order.
    exact: &'a [NodeMetric],
}

/// The fragment naming the formula expected behind an exact figure.
fn expected_method(key: &str, means: &'static str, bounded: bool) -> &'static str {
    match key {
        "arrival_rate" | "throughput" => "traffic equations",
        "utilization" => "λ/(cμ)",
        "drop_probability" if !bounded => "unbounded queue",
        "expired_fraction" => "no TTL",
        "blocked_fraction" => "no blocking queue",
        "latency_mean" | "all_latency_mean" => "Little",
        "delivered_fraction" | "all_delivered_fraction" => "absorption",
        // With infinitely many servers nobody waits: the wait percentiles are 0.
        key if is_percentile(key) && means == "M/G/∞" => "infinitely many servers",
        key if is_percentile(key) => "M/M/c FCFS waiting-time distribution",
        _ => means,
    }
}

/// Compares every figure labelled exact, with a value, with the simulated estimate of the same
/// metric; asserts that the exact figures are exactly those expected and that each method names
/// the expected formula. Analyses `toml`, then simulates it. Returns the number of comparisons.
fn compare_exact(
    case: &str,
    toml: &str,
    nodes: &[NodeExpectation<'_>],
    source_exact: &[SourceMetric],
) -> usize {
    let analysis = analysis(toml);
    let experiment = simulate(toml);
    let mut compared = 0;
    assert_eq!(analysis.nodes.len(), nodes.len());
    for ((node, expected), simulated) in analysis.nodes.iter().zip(nodes).zip(&experiment.summary.nodes) {
        assert_eq!(node.name, expected.name);
        assert_eq!(node.model, expected.model, "{case}: node {}", node.name);
        let bounded = node.model.matches('/').count() == 3;
        let mut exact = Vec::new();
        for (metric, figure) in &node.metrics {
            let (Some(value), true) = (figure.value, figure.exact) else { continue };
            let key = metric.key();
            let method = expected_method(key, expected.means, bounded);
            assert!(
                figure.method.contains(method),
                "{case}: node {} {key} is labelled '{}', expected '{method}'",
                node.name,
                figure.method
            );
            let bias = if is_percentile(key) { PERCENTILE_BIAS } else { 0.0 };
            let what = format!("{case} node {} {key}", node.name);
            FAMILY.assert_agrees(&what, simulated.get(*metric), value, bias);
            exact.push(*metric);
            compared += 1;
        }
        assert_eq!(exact, expected.exact, "{case}: node {}: the figures labelled exact", node.name);
    }
    for (source, simulated) in analysis.sources.iter().zip(&experiment.summary.sources) {
        let mut exact = Vec::new();
        for (metric, figure) in &source.metrics {
            let (Some(value), true) = (figure.value, figure.exact) else { continue };
            let key = metric.key();
            let method = expected_method(key, "", false);
            assert!(
                figure.method.contains(method),
                "{case}: source {} {key} is labelled '{}', expected '{method}'",
                source.name,
                figure.method
            );
            let bias = if is_percentile(key) { PERCENTILE_BIAS } else { 0.0 };
            let what = format!("{case} source {} {key}", source.name);
            FAMILY.assert_agrees(&what, simulated.get(*metric), value, bias);
            exact.push(*metric);
            compared += 1;
        }
        assert_eq!(exact, source_exact, "{case}: source {}: the figures labelled exact", source.name);
    }
    compared
}

/// [`compare_exact`] for the one node "station" of a [`single_station`] scenario, whose model is
/// `model`, whose mean figures' method names `means`, and whose exact figures are `exact`.
fn compare_station(
    case: &str,
    toml: &str,
    model: &'static str,
    means: &'static str,
    exact: &[NodeMetric],
    source_exact: &[SourceMetric],
) -> usize {
    compare_exact(case, toml, &[NodeExpectation { name: "station", model, means, exact }], source_exact)
}

/// Node metrics exact for a stable M/M/c queue without TTL (nothing expires): every one but the
/// growth rate, a fluid limit (an asymptotic figure, labelled approximate), and the subscriber
/// latencies, which belong to multicast.
const MMC_NODE: &[NodeMetric] = &[
    NodeMetric::ArrivalRate,
    NodeMetric::Throughput,
    NodeMetric::Utilization,
    NodeMetric::MeanInSystem,
    NodeMetric::MeanInQueue,
    NodeMetric::MeanWait,
    NodeMetric::MeanSojourn,
    NodeMetric::WaitProbability,
    NodeMetric::WaitP50,
    NodeMetric::WaitP95,
    NodeMetric::WaitP99,
    NodeMetric::SojournP50,
    NodeMetric::SojournP95,
    NodeMetric::SojournP99,
    NodeMetric::DropProbability,
    NodeMetric::ExpiredFraction,
    NodeMetric::BlockedFraction,
];

/// Source metrics exact through a single M/M/c node: all of them (without multicast, the
/// delivered-to-all figures are the plain ones).
const MMC_SOURCE: &[SourceMetric] = &[
    SourceMetric::LatencyMean,
    SourceMetric::LatencyP50,
    SourceMetric::LatencyP95,
    SourceMetric::LatencyP99,
    SourceMetric::Throughput,
    SourceMetric::DeliveredFraction,
    SourceMetric::AllDeliveredFraction,
    SourceMetric::AllLatencyMean,
    SourceMetric::AllLatencyP99,
    SourceMetric::BlockedFraction,
];

/// Node metrics exact for M/M/c/K and M/G/1, which have no closed-form percentiles.
const MEANS_NODE: &[NodeMetric] = &[
    NodeMetric::ArrivalRate,
    NodeMetric::Throughput,
    NodeMetric::Utilization,
    NodeMetric::MeanInSystem,
    NodeMetric::MeanInQueue,
    NodeMetric::MeanWait,
    NodeMetric::MeanSojourn,
    NodeMetric::WaitProbability,
    NodeMetric::DropProbability,
    NodeMetric::ExpiredFraction,
    NodeMetric::BlockedFraction,
];

/// Source metrics exact behind a single finite queue: the delivered messages' latency is the
/// admitted messages' sojourn W.
const LOSSY_SOURCE: &[SourceMetric] = &[
    SourceMetric::LatencyMean,
    SourceMetric::Throughput,
    SourceMetric::DeliveredFraction,
    SourceMetric::AllDeliveredFraction,
    SourceMetric::AllLatencyMean,
    SourceMetric::BlockedFraction,
];

/// Source metrics exact through one M/G/1 or M/G/∞ node, or a Jackson network.
const MEAN_SOURCE: &[SourceMetric] = &[
    SourceMetric::LatencyMean,
    SourceMetric::Throughput,
    SourceMetric::DeliveredFraction,
    SourceMetric::AllDeliveredFraction,
    SourceMetric::AllLatencyMean,
    SourceMetric::BlockedFraction,
];

/// M/M/1, lambda = 0.7, mu = 1 (rho = 0.7). Theory: L = rho/(1 − rho) = 2.333333,
/// Lq = L − rho = 1.633333, Wq = rho/(mu − lambda) = 2.333333 s, W = 1/(mu − lambda) = 3.333333 s;
/// P(Wq > t) = rho e^(−0.3 t), so wait p50/p95/p99 = ln(rho/(1 − p))/0.3 = 1.121574, 8.796858,
/// 14.161651 s; the sojourn is Exp(0.3): p50/p95/p99 = −ln(1 − p)/0.3 = 2.310491, 9.985774,
/// 15.350567 s. Run: 1.4 events per simulated second, 20 × 1e6 s = 2.8e7 events; the wait p99 is
/// the noisiest figure (95% half-width about 0.8%).
#[test]
fn mm1_exact_figures_match_the_simulator() {
    let toml = single_station(1_000_000.0, 1000.0, 0.7, r#"service = { dist = "exponential", mean = "1s" }"#);
    assert_eq!(
        compare_station("M/M/1 rho 0.7", &toml, "M/M/1", "M/M/c (Erlang C)", MMC_NODE, MMC_SOURCE),
        27
    );
}

/// M/M/3, lambda = 2.4, mu = 1 (a = 2.4, rho = 0.8). Erlang C(3, 2.4) = 288/445 = 0.647191;
/// Wq = C/(3 − 2.4) = 1.078652 s, W = 2.078652 s, Lq = 2.588764, L = 4.988764; wait p50 =
/// ln(C/0.5)/0.6 = 0.430056 s. Run: 4.8 events per simulated second, 20 × 6e5 s = 5.8e7 events.
#[test]
fn mmc_exact_figures_match_the_simulator() {
    let node = "servers = 3\nservice = { dist = \"exponential\", mean = \"1s\" }";
    let toml = single_station(600_000.0, 1000.0, 2.4, node);
    assert_eq!(
        compare_station("M/M/3 rho 0.8", &toml, "M/M/3", "M/M/c (Erlang C)", MMC_NODE, MMC_SOURCE),
        27
    );
}

/// M/M/2/5, lambda = 1.8, mu = 1 (lambda/(c mu) = 0.9): p_n ∝ 1, 1.8, 1.62, 1.458, 1.3122,
/// 1.18098 (sum 8.37118), so the drop probability is p_5 = 0.141077, the throughput
/// 1.8 (1 − p_5) = 1.546062, L = 20.5677/8.37118 = 2.456965, Lq = 7.62534/8.37118 = 0.910904,
/// W = L/X = 1.589177 s, Wq = 0.589177 s, utilisation X/2 = 0.773031.
///
/// The source's mean latency through this single node is its W exactly: every delivered message
/// makes one visit.
#[test]
fn mmck_exact_figures_match_the_simulator() {
    let node = "servers = 2\ncapacity = 5\nservice = { dist = \"exponential\", mean = \"1s\" }";
    let toml = single_station(50_000.0, 500.0, 1.8, node);
    assert_eq!(
        compare_station("M/M/2/5 rho 0.9", &toml, "M/M/2/5", "M/M/c/K birth-death", MEANS_NODE, LOSSY_SOURCE),
        17
    );
}

/// M/M/4/4, the Erlang loss system, lambda = 3, mu = 1: Erlang B(4, 3) = (81/24) / (1 + 3 + 9/2 +
/// 27/6 + 81/24) = 27/131 = 0.206107; throughput 3 × 104/131 = 2.381679 = L (W = 1 s, no wait);
/// utilisation 2.381679/4 = 0.595420; delivered fraction 104/131 = 0.793893.
#[test]
fn erlang_loss_exact_figures_match_the_simulator() {
    let node = "servers = 4\ncapacity = 4\nservice = { dist = \"exponential\", mean = \"1s\" }";
    let toml = single_station(50_000.0, 500.0, 3.0, node);
    let analysis = analysis(&toml);
    assert_close(
        "Erlang B(4, 3)",
        figure_value(&analysis.nodes[0], NodeMetric::DropProbability),
        27.0 / 131.0,
    );
    // M/M/c/c is M/M/c/K with K = c; its birth-death solution is Erlang B.
    assert_eq!(compare_station("M/M/4/4 a 3", &toml, "M/M/4/4", "Erlang B", MEANS_NODE, LOSSY_SOURCE), 17);
}

/// M/G/1 with gamma service of mean 1 s and cv 0.5 (Cs² = 0.25), lambda = 0.7: Pollaczek-Khinchine
/// Wq = rho E[S] (1 + Cs²)/(2 (1 − rho)) = 0.7 × 1.25/0.6 = 1.458333 s, W = 2.458333 s,
/// Lq = 1.020833, L = 1.720833. Run: 20 × 2e5 s = 5.6e6 events.
#[test]
fn mg1_exact_figures_match_the_simulator() {
    let toml =
        single_station(200_000.0, 1000.0, 0.7, r#"service = { dist = "gamma", mean = "1s", cv = 0.5 }"#);
    assert_eq!(
        compare_station(
            "M/G/1 gamma cv 0.5 rho 0.7",
            &toml,
            "M/G/1",
            "M/G/1 Pollaczek-Khinchine",
            MEANS_NODE,
            MEAN_SOURCE
        ),
        17
    );
}

/// M/G/∞ with lognormal service of mean 2 s and cv 1, lambda = 3: L = lambda E[S] = 6, W = 2 s,
/// Wq = Lq = 0 (utilisation is undefined with infinitely many servers).
#[test]
fn mg_infinity_exact_figures_match_the_simulator() {
    let node = "servers = \"infinite\"\nservice = { dist = \"lognormal\", mean = \"2s\", cv = 1.0 }";
    let toml = single_station(50_000.0, 500.0, 3.0, node);
    let exact = [
        NodeMetric::ArrivalRate,
        NodeMetric::Throughput,
        NodeMetric::MeanInSystem,
        NodeMetric::MeanInQueue,
        NodeMetric::MeanWait,
        NodeMetric::MeanSojourn,
        NodeMetric::WaitProbability,
        NodeMetric::WaitP50,
        NodeMetric::WaitP95,
        NodeMetric::WaitP99,
        NodeMetric::DropProbability,
        NodeMetric::ExpiredFraction,
    ];
    assert_eq!(compare_station("M/G/∞ lognormal cv 1", &toml, "M/G/∞", "M/G/∞", &exact, MEAN_SOURCE), 18);
}

/// [`feedback`] simulated. Product form: each node is an M/M/c with its lambda, and since an
/// arrival at a node of an open Jackson network sees the stationary distribution (the arrival
/// theorem), each visit's FCFS wait and sojourn follow the M/M/c distributions, so the per-node
/// percentiles are exact too. a: C(2, 1.5) = 2 × 0.75²/1.75 = 0.642857, Wq = C/(4/3 − 1) =
/// 1.928571 s, L = 1.928571 + 1.5 = 3.428571; b: M/M/1 at 0.75, W = 5 s, L = 3; c: M/M/1 at 0.7,
/// W = 4.666667 s, L = 2.333333. End to end (Little): (3.428571 + 3 + 2.333333)/0.82 = 10.685250 s.
/// Run: about 5.8 events per simulated second, 20 × 8e5 s = 4.7e7 events.
#[test]
fn jackson_exact_figures_match_the_simulator() {
    let toml = feedback(ScenarioBuilder::simulated(800_000.0, 1000.0, 20));
    let means = "Jackson product form, M/M/c (Erlang C)";
    let nodes = [
        NodeExpectation { name: "a", model: "M/M/2", means, exact: MMC_NODE },
        NodeExpectation { name: "b", model: "M/M/1", means, exact: MMC_NODE },
        NodeExpectation { name: "c", model: "M/M/1", means, exact: MMC_NODE },
    ];
    assert_eq!(compare_exact("Jackson feedback", &toml, &nodes, MEAN_SOURCE), 57);
}

/// Where theory is only approximate, the figures say so, and name the approximation.
///
/// G/G/1: hyperexponential arrivals with mean 1 s and cv 2 (Ca² = 4) into an exponential server
/// of mean 0.7 s: Kingman Wq ≈ (rho/(1 − rho)) ((Ca² + Cs²)/2) E[S] = (0.7/0.3)(5/2)(0.7) =
/// 4.083333 s. Behind it, gamma servers see the G/M/1's departures, which are not Poisson:
/// Allen-Cunneen. M/M/1 → M/G/1: Burke's theorem makes the second node's input Poisson, so
/// Pollaczek-Khinchine is exact there; M/G/1 → M/M/1: the second node's input is not Poisson.
#[test]
fn approximations_are_labelled_approximate() {
    let bursty = analysis(
        r#"
[[source]]
name = "devices"
to = "parser"
interarrival = { dist = "hyperexponential", mean = "1s", cv = 2.0 }

[[node]]
name = "parser"
service = { dist = "exponential", mean = "0.7s" }
routes = [{ to = "indexer" }]

[[node]]
name = "indexer"
servers = 3
service = { dist = "gamma", mean = "2s", cv = 0.5 }
"#,
    );
    let parser = node(&bursty, "parser");
    assert_eq!(parser.model, "G/M/1");
    for metric in
        [NodeMetric::MeanWait, NodeMetric::MeanSojourn, NodeMetric::MeanInSystem, NodeMetric::MeanInQueue]
    {
        let figure = figure(parser, metric);
        assert!(!figure.exact, "{metric:?}: {figure:?}");
        assert!(figure.method.contains("Kingman"), "{metric:?}: {figure:?}");
    }
    assert_close("Kingman Wq", figure_value(parser, NodeMetric::MeanWait), 0.7 / 0.3 * 2.5 * 0.7);
    // The arrival rate is still exact (traffic equations), and the percentiles have no value.
    assert!(figure(parser, NodeMetric::ArrivalRate).exact);
    assert_eq!(figure(parser, NodeMetric::WaitP99).value, None);
    let indexer = node(&bursty, "indexer");
    assert_eq!(indexer.model, "G/G/3");
    let wait = figure(indexer, NodeMetric::MeanWait);
    assert!(!wait.exact && wait.method.contains("Allen-Cunneen"), "{wait:?}");
    let latency = bursty.sources[0].metric(SourceMetric::LatencyMean).expect("a latency figure");
    assert!(!latency.exact && latency.value.is_some(), "{latency:?}");

    let tandem = |first: &str, second: &str| {
        analysis(
            &ScenarioBuilder::new()
                .source("clients", "first", 0.5, "")
                .node_with("first", &format!("service = {first}\nroutes = [{{ to = \"second\" }}]"))
                .node_with("second", &format!("service = {second}"))
                .toml(),
        )
    };
    let exponential = r#"{ dist = "exponential", mean = "1s" }"#;
    let gamma = r#"{ dist = "gamma", mean = "1s", cv = 0.5 }"#;
    let burke = tandem(exponential, gamma);
    let second = node(&burke, "second");
    assert_eq!(second.model, "M/G/1");
    let wait = figure(second, NodeMetric::MeanWait);
    assert!(wait.exact && wait.method.contains("Pollaczek-Khinchine"), "{wait:?}");
    // PK at rho 0.5: Wq = 0.5 × 1.25/(2 × 0.5) = 0.625 s.
    assert_close("M/G/1 behind M/M/1", figure_value(second, NodeMetric::MeanWait), 0.625);
    let latency = burke.sources[0].metric(SourceMetric::LatencyMean).expect("a latency figure");
    // W = 2 s (M/M/1 at 0.5) + 1.625 s.
    assert!(latency.exact, "{latency:?}");
    assert_close("latency through M/M/1 then M/G/1", latency.value.expect("a value"), 3.625);
    let reversed = tandem(gamma, exponential);
    let second = node(&reversed, "second");
    assert_eq!(second.model, "G/M/1");
    let wait = figure(second, NodeMetric::MeanWait);
    assert!(!wait.exact && wait.method.contains("Kingman"), "{wait:?}");
}
