//! Theory without simulation: `kendall::analytic::analyze` and `kendall analyze`.
//!
//! Three kinds of test:
//! - the library's exact figures against the simulator, one case per exact model: every figure
//!   labelled exact (and only those: the labels are asserted too) is compared with the simulated
//!   estimate of the same metric;
//! - the library against reference values computed independently (a published table, or
//!   arithmetic by hand written in the test's comment);
//! - edge cases and the command line: finite numbers or a clear error, never NaN or a panic.
//!
//! # Tolerances
//! As in theory.rs (see [`Family`]): a Bonferroni interval over the [`CHECKS`] comparisons of
//! this module, a precision floor of [`PRECISION`] on every 95% half-width (the runs are sized
//! for about half of it), [`PERCENTILE_BIAS`] more for percentiles, and seed 1 everywhere. A
//! theory value of 0 (the drop probability of an unbounded channel, the wait with infinitely many
//! workers) demands a simulated 0 in every replication.
//!
//! Reference values computed by the library are compared with ours to 1e-12 relative (rounding
//! only) unless a comment derives another tolerance.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Output;

use kendall::analytic::station;
use kendall::analytic::{Analysis, Figure, NodeAnalysis, Verdict, analyze};
use kendall::experiment::Experiment;
use kendall::model::{Metric, Scenario};
use kendall::report::{AnalysisFile, EstimateEntry, SummaryFile};
use kendall::stats::{NodeMetric, SourceMetric};
use serde_json::Value;

use crate::support::{Family, kendall, simulate, simulation, temp, write_scenario};

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

fn scenario(toml: &str) -> Scenario {
    kendall::scenario::parse(toml, "analysis", Path::new("analysis.toml")).expect("valid scenario")
}

fn analysis(toml: &str) -> Analysis {
    analyze(scenario(toml).network(), None).expect("solvable traffic equations")
}

fn node<'a>(analysis: &'a Analysis, name: &str) -> &'a NodeAnalysis {
    analysis.nodes.iter().find(|node| node.name == name).unwrap_or_else(|| panic!("no node {name}"))
}

fn figure(node: &NodeAnalysis, metric: NodeMetric) -> &Figure {
    node.metric(metric).unwrap_or_else(|| panic!("node {}: no {metric:?} figure", node.name))
}

/// The value of a figure, which must exist.
fn value(node: &NodeAnalysis, metric: NodeMetric) -> f64 {
    figure(node, metric).value.unwrap_or_else(|| panic!("node {}: {metric:?} has no value", node.name))
}

fn source_value(analysis: &Analysis, metric: SourceMetric) -> f64 {
    analysis.sources[0]
        .metric(metric)
        .and_then(|figure| figure.value)
        .unwrap_or_else(|| panic!("source: {metric:?} has no value"))
}

/// Asserts `actual` = `expected` up to rounding (1e-12 relative, or 1e-300 absolute near 0).
fn assert_close(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1e-288),
        "{what}: {actual}, expected {expected}"
    );
}

fn is_percentile(key: &str) -> bool {
    key.ends_with("_p50") || key.ends_with("_p95") || key.ends_with("_p99")
}

// ---------------------------------------------------------------------------------------------
// The library's exact figures against the simulator.

/// What one node of a case must look like.
struct NodeExpectation<'a> {
    name: &'static str,
    model: &'static str,
    /// Fragment of the method of the mean figures (and of a finite channel's drop probability).
    means: &'static str,
    /// Metrics expected to be labelled exact with a value, in report order.
    exact: &'a [NodeMetric],
}

/// The fragment naming the formula expected behind an exact figure.
fn expected_method(key: &str, means: &'static str, bounded: bool) -> &'static str {
    match key {
        "arrival_rate" | "throughput" => "traffic equations",
        "utilization" => "λ/(cμ)",
        "drop_probability" if !bounded => "unbounded channel",
        "expired_fraction" => "no TTL",
        "blocked_fraction" => "no blocking channel",
        "latency_mean" | "all_latency_mean" => "Little",
        "delivered_fraction" | "all_delivered_fraction" => "absorption",
        // With infinitely many workers nobody waits: the wait percentiles are 0.
        key if is_percentile(key) && means == "M/G/∞" => "infinitely many workers",
        key if is_percentile(key) => "M/M/c FCFS waiting-time distribution",
        _ => means,
    }
}

/// Compares every figure labelled exact, with a value, with the simulated estimate of the same
/// metric; asserts that the exact figures are exactly those expected and that each method names
/// the expected formula. Returns the number of comparisons.
fn compare_exact(
    case: &str,
    analysis: &Analysis,
    experiment: &Experiment,
    nodes: &[NodeExpectation<'_>],
    source_exact: &[SourceMetric],
) -> usize {
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

/// Source metrics exact behind a single finite channel: the delivered messages' latency is the
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

/// A Poisson source at `lambda` per second into one node named "station" with the given fields,
/// 20 replications.
fn single(duration_s: f64, warmup_s: f64, lambda: f64, node: &str) -> String {
    format!(
        r#"{}
[[source]]
name = "arrivals"
to = "station"
interarrival = {{ dist = "exponential", rate = {lambda} }}

[[node]]
name = "station"
{node}
"#,
        simulation(duration_s, warmup_s, 20)
    )
}

/// M/M/1, lambda = 0.7, mu = 1 (rho = 0.7). Theory: L = rho/(1 − rho) = 2.333333,
/// Lq = L − rho = 1.633333, Wq = rho/(mu − lambda) = 2.333333 s, W = 1/(mu − lambda) = 3.333333 s;
/// P(Wq > t) = rho e^(−0.3 t), so wait p50/p95/p99 = ln(rho/(1 − p))/0.3 = 1.121574, 8.796858,
/// 14.161651 s; the sojourn is Exp(0.3): p50/p95/p99 = −ln(1 − p)/0.3 = 2.310491, 9.985774,
/// 15.350567 s. Run: 1.4 events per simulated second, 20 × 1e6 s = 2.8e7 events; the wait p99 is
/// the noisiest figure (95% half-width about 0.8%).
#[test]
fn mm1_exact_figures_match_the_simulator() {
    let toml = single(1_000_000.0, 1000.0, 0.7, r#"service = { dist = "exponential", mean = "1s" }"#);
    let analysis = analysis(&toml);
    let experiment = simulate(&toml);
    let nodes =
        [NodeExpectation { name: "station", model: "M/M/1", means: "M/M/c (Erlang C)", exact: MMC_NODE }];
    assert_eq!(compare_exact("M/M/1 rho 0.7", &analysis, &experiment, &nodes, MMC_SOURCE), 27);
}

/// M/M/3, lambda = 2.4, mu = 1 (a = 2.4, rho = 0.8). Erlang C(3, 2.4) = 288/445 = 0.647191;
/// Wq = C/(3 − 2.4) = 1.078652 s, W = 2.078652 s, Lq = 2.588764, L = 4.988764; wait p50 =
/// ln(C/0.5)/0.6 = 0.430056 s. Run: 4.8 events per simulated second, 20 × 6e5 s = 5.8e7 events.
#[test]
fn mmc_exact_figures_match_the_simulator() {
    let node = r#"servers = 3
service = { dist = "exponential", mean = "1s" }"#;
    let toml = single(600_000.0, 1000.0, 2.4, node);
    let analysis = analysis(&toml);
    let experiment = simulate(&toml);
    let nodes =
        [NodeExpectation { name: "station", model: "M/M/3", means: "M/M/c (Erlang C)", exact: MMC_NODE }];
    assert_eq!(compare_exact("M/M/3 rho 0.8", &analysis, &experiment, &nodes, MMC_SOURCE), 27);
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
    let node = r#"servers = 2
capacity = 5
service = { dist = "exponential", mean = "1s" }"#;
    let toml = single(50_000.0, 500.0, 1.8, node);
    let analysis = analysis(&toml);
    let experiment = simulate(&toml);
    let nodes = [NodeExpectation {
        name: "station",
        model: "M/M/2/5",
        means: "M/M/c/K birth-death",
        exact: MEANS_NODE,
    }];
    assert_eq!(compare_exact("M/M/2/5 rho 0.9", &analysis, &experiment, &nodes, LOSSY_SOURCE), 17);
}

/// M/M/4/4, the Erlang loss system, lambda = 3, mu = 1: Erlang B(4, 3) = (81/24) / (1 + 3 + 9/2 +
/// 27/6 + 81/24) = 27/131 = 0.206107; throughput 3 × 104/131 = 2.381679 = L (W = 1 s, no wait);
/// utilisation 2.381679/4 = 0.595420; delivered fraction 104/131 = 0.793893.
#[test]
fn erlang_loss_exact_figures_match_the_simulator() {
    let node = r#"servers = 4
capacity = 4
service = { dist = "exponential", mean = "1s" }"#;
    let toml = single(50_000.0, 500.0, 3.0, node);
    let analysis = analysis(&toml);
    assert_close("Erlang B(4, 3)", value(&analysis.nodes[0], NodeMetric::DropProbability), 27.0 / 131.0);
    let experiment = simulate(&toml);
    // M/M/c/c is M/M/c/K with K = c; its birth-death solution is Erlang B.
    let nodes = [NodeExpectation { name: "station", model: "M/M/4/4", means: "Erlang B", exact: MEANS_NODE }];
    assert_eq!(compare_exact("M/M/4/4 a 3", &analysis, &experiment, &nodes, LOSSY_SOURCE), 17);
}

/// M/G/1 with gamma service of mean 1 s and cv 0.5 (Cs² = 0.25), lambda = 0.7: Pollaczek-Khinchine
/// Wq = rho E[S] (1 + Cs²)/(2 (1 − rho)) = 0.7 × 1.25/0.6 = 1.458333 s, W = 2.458333 s,
/// Lq = 1.020833, L = 1.720833. Run: 20 × 2e5 s = 5.6e6 events.
#[test]
fn mg1_exact_figures_match_the_simulator() {
    let toml = single(200_000.0, 1000.0, 0.7, r#"service = { dist = "gamma", mean = "1s", cv = 0.5 }"#);
    let analysis = analysis(&toml);
    let experiment = simulate(&toml);
    let nodes = [NodeExpectation {
        name: "station",
        model: "M/G/1",
        means: "M/G/1 Pollaczek-Khinchine",
        exact: MEANS_NODE,
    }];
    assert_eq!(compare_exact("M/G/1 gamma cv 0.5 rho 0.7", &analysis, &experiment, &nodes, MEAN_SOURCE), 17);
}

/// M/G/∞ with lognormal service of mean 2 s and cv 1, lambda = 3: L = lambda E[S] = 6, W = 2 s,
/// Wq = Lq = 0 (utilisation is undefined with infinitely many workers).
#[test]
fn mg_infinity_exact_figures_match_the_simulator() {
    let node = r#"servers = "infinite"
service = { dist = "lognormal", mean = "2s", cv = 1.0 }"#;
    let toml = single(50_000.0, 500.0, 3.0, node);
    let analysis = analysis(&toml);
    let experiment = simulate(&toml);
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
    let nodes = [NodeExpectation { name: "station", model: "M/G/∞", means: "M/G/∞", exact: &exact }];
    assert_eq!(compare_exact("M/G/∞ lognormal cv 1", &analysis, &experiment, &nodes, MEAN_SOURCE), 18);
}

/// An open Jackson network with two feedback loops (a → b → a and a → c → b → a), solved by hand
/// in [`traffic_equations_of_a_feedback_network`]: lambda = (1, 0.6, 0.5), rho = (0.75, 0.75, 0.7).
const FEEDBACK: &str = r#"
[[source]]
name = "clients"
to = "a"
interarrival = { dist = "exponential", rate = 0.82 }

[[node]]
name = "a"
servers = 2
service = { dist = "exponential", mean = "1.5s" }
routes = [{ to = "b", p = 0.5 }, { to = "c", p = 0.5 }]

[[node]]
name = "b"
service = { dist = "exponential", mean = "1.25s" }
routes = [{ to = "a", p = 0.3 }, { to = "exit", p = 0.7 }]

[[node]]
name = "c"
service = { dist = "exponential", mean = "1.4s" }
routes = [{ to = "b", p = 0.2 }, { to = "exit", p = 0.8 }]
"#;

/// [`FEEDBACK`] simulated. Product form: each node is an M/M/c with its lambda, and since an
/// arrival at a node of an open Jackson network sees the stationary distribution (the arrival
/// theorem), each visit's FCFS wait and sojourn follow the M/M/c distributions, so the per-node
/// percentiles are exact too. a: C(2, 1.5) = 2 × 0.75²/1.75 = 0.642857, Wq = C/(4/3 − 1) =
/// 1.928571 s, L = 1.928571 + 1.5 = 3.428571; b: M/M/1 at 0.75, W = 5 s, L = 3; c: M/M/1 at 0.7,
/// W = 4.666667 s, L = 2.333333. End to end (Little): (3.428571 + 3 + 2.333333)/0.82 = 10.685250 s.
/// Run: about 5.8 events per simulated second, 20 × 8e5 s = 4.7e7 events.
#[test]
fn jackson_exact_figures_match_the_simulator() {
    let toml = format!("{}{FEEDBACK}", simulation(800_000.0, 1000.0, 20));
    let analysis = analysis(&toml);
    let experiment = simulate(&toml);
    let means = "Jackson product form, M/M/c (Erlang C)";
    let nodes = [
        NodeExpectation { name: "a", model: "M/M/2", means, exact: MMC_NODE },
        NodeExpectation { name: "b", model: "M/M/1", means, exact: MMC_NODE },
        NodeExpectation { name: "c", model: "M/M/1", means, exact: MMC_NODE },
    ];
    assert_eq!(compare_exact("Jackson feedback", &analysis, &experiment, &nodes, MEAN_SOURCE), 57);
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
    assert_close("Kingman Wq", value(parser, NodeMetric::MeanWait), 0.7 / 0.3 * 2.5 * 0.7);
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
        analysis(&format!(
            r#"
[[source]]
name = "clients"
to = "first"
interarrival = {{ dist = "exponential", rate = 0.5 }}

[[node]]
name = "first"
service = {first}
routes = [{{ to = "second" }}]

[[node]]
name = "second"
service = {second}
"#
        ))
    };
    let exponential = r#"{ dist = "exponential", mean = "1s" }"#;
    let gamma = r#"{ dist = "gamma", mean = "1s", cv = 0.5 }"#;
    let burke = tandem(exponential, gamma);
    let second = node(&burke, "second");
    assert_eq!(second.model, "M/G/1");
    let wait = figure(second, NodeMetric::MeanWait);
    assert!(wait.exact && wait.method.contains("Pollaczek-Khinchine"), "{wait:?}");
    // PK at rho 0.5: Wq = 0.5 × 1.25/(2 × 0.5) = 0.625 s.
    assert_close("M/G/1 behind M/M/1", value(second, NodeMetric::MeanWait), 0.625);
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

// ---------------------------------------------------------------------------------------------
// Reference values computed independently.

/// Erlang B against the published Erlang B table (telephone traffic engineering; the 1% grade of
/// service column, load in erlangs to 3 decimals): N = 5: 1.361, N = 10: 4.461, N = 20: 12.031,
/// N = 50: 37.901, N = 100: 84.064. The load at which the library's B reaches 1%, found by
/// bisection, must round to the table's value. Cross-checked with exact rational arithmetic
/// (Python `fractions`: B(c, a) = (a^c/c!) / Σ_{k≤c} a^k/k!), which gives 1.360787, 4.461177,
/// 12.030615, 37.901398 and 84.064159.
#[test]
fn erlang_b_matches_the_published_table() {
    for (servers, table) in [(5, 1.361), (10, 4.461), (20, 12.031), (50, 37.901), (100, 84.064)] {
        let (mut low, mut high) = (0.0, f64::from(servers));
        for _ in 0..100 {
            let mid = 0.5 * (low + high);
            if station::erlang_b(servers, mid) < 0.01 {
                low = mid;
            } else {
                high = mid;
            }
        }
        assert!((low - table).abs() <= 0.0005, "N = {servers}: B = 1% at {low} erlangs, table {table}");
    }
    // Through analyze: an M/M/10/10 offered the table's 4.461 erlangs drops 1% of arrivals, within
    // the table's rounding: dB/da = B (c/a − 1 + B) = 0.01 × 1.2516 per erlang, times 0.0005.
    let loss = analysis(
        r#"
[[source]]
name = "calls"
to = "trunks"
interarrival = { dist = "exponential", rate = 4.461 }

[[node]]
name = "trunks"
servers = 10
capacity = 10
service = { dist = "exponential", mean = "1s" }
"#,
    );
    let blocking = value(&loss.nodes[0], NodeMetric::DropProbability);
    assert!((blocking - 0.01).abs() <= 0.01 * 1.2516 * 0.0005, "{blocking}");
    assert!(figure(&loss.nodes[0], NodeMetric::DropProbability).exact);
}

/// Erlang C against exact rational arithmetic (Python `fractions`, with P = a^c/c! · c/(c − a),
/// C(c, a) = P / (P + Σ_{k<c} a^k/k!)): C(10, 8) = 0.40918015079644354 and C(3, 2.4) = 288/445;
/// C(2, 1) = 1/3 by hand (B(2, 1) = 1/5, C = (1/5)/(1 − (1/2)(4/5))). Through analyze, an M/M/10
/// at a = 8 waits Wq = C/(c mu − lambda) = 0.409180/2 s on average, and its P(Wq > t) =
/// C e^(−2t) makes the wait p95 ln(C/0.05)/2.
#[test]
fn erlang_c_matches_exact_arithmetic() {
    assert_close("C(10, 8)", station::erlang_c(10, 8.0), 0.409_180_150_796_443_54);
    assert_close("C(3, 2.4)", station::erlang_c(3, 2.4), 288.0 / 445.0);
    assert_close("C(2, 1)", station::erlang_c(2, 1.0), 1.0 / 3.0);
    let pool = analysis(
        r#"
[[source]]
name = "calls"
to = "agents"
interarrival = { dist = "exponential", rate = 8.0 }

[[node]]
name = "agents"
servers = 10
service = { dist = "exponential", mean = "1s" }
"#,
    );
    let agents = &pool.nodes[0];
    let c = 0.409_180_150_796_443_54;
    assert_close("M/M/10 Wq", value(agents, NodeMetric::MeanWait), c / 2.0);
    assert_close("M/M/10 W", value(agents, NodeMetric::MeanSojourn), c / 2.0 + 1.0);
    assert_close("M/M/10 wait p95", value(agents, NodeMetric::WaitP95), (c / 0.05).ln() / 2.0);
    // P(wait) = 0.41 < 0.5: the median wait is 0.
    assert_eq!(value(agents, NodeMetric::WaitP50), 0.0);
}

/// M/M/2/4 with lambda = 3, mu = 1 (a = 3), by hand: p_n ∝ 1, 3, 9/2, 27/4, 81/8 (a^n/n! up to
/// c = 2, then a factor a/c = 3/2 per message), sum 203/8, so the drop probability is
/// p_4 = 81/203; L = (3 + 9 + 81/4 + 81/2)/(203/8) = 582/203; Lq = (27/4 + 2 × 81/8)/(203/8) =
/// 216/203; throughput 3 (1 − 81/203) = 366/203; W = L/X = 582/366, Wq = 216/366. And M/M/1/1,
/// lambda = 2, mu = 1: p_1 = a/(1 + a) = 2/3, L = 2/3, W = 1 s, Wq = 0.
#[test]
fn mmck_blocking_by_hand() {
    let toml = |lambda: f64, servers: u32, capacity: u32| {
        format!(
            r#"
[[source]]
name = "s"
to = "n"
interarrival = {{ dist = "exponential", rate = {lambda} }}

[[node]]
name = "n"
servers = {servers}
capacity = {capacity}
service = {{ dist = "exponential", mean = "1s" }}
"#
        )
    };
    let small = analysis(&toml(3.0, 2, 4));
    let n = &small.nodes[0];
    assert_eq!(n.model, "M/M/2/4");
    assert_close("p_4", value(n, NodeMetric::DropProbability), 81.0 / 203.0);
    assert_close("L", value(n, NodeMetric::MeanInSystem), 582.0 / 203.0);
    assert_close("Lq", value(n, NodeMetric::MeanInQueue), 216.0 / 203.0);
    assert_close("throughput", value(n, NodeMetric::Throughput), 366.0 / 203.0);
    assert_close("W", value(n, NodeMetric::MeanSojourn), 582.0 / 366.0);
    assert_close("Wq", value(n, NodeMetric::MeanWait), 216.0 / 366.0);
    assert_close("delivered", source_value(&small, SourceMetric::DeliveredFraction), 122.0 / 203.0);
    let one = analysis(&toml(2.0, 1, 1));
    let n = &one.nodes[0];
    assert_close("M/M/1/1 p_1", value(n, NodeMetric::DropProbability), 2.0 / 3.0);
    assert_close("M/M/1/1 L", value(n, NodeMetric::MeanInSystem), 2.0 / 3.0);
    assert_close("M/M/1/1 W", value(n, NodeMetric::MeanSojourn), 1.0);
    assert_eq!(value(n, NodeMetric::MeanWait), 0.0);
}

/// [`FEEDBACK`] by hand: lambda_a = 0.82 + 0.3 lambda_b, lambda_c = 0.5 lambda_a,
/// lambda_b = 0.5 lambda_a + 0.2 lambda_c = 0.6 lambda_a, so lambda_a (1 − 0.18) = 0.82:
/// lambda = (1, 0.6, 0.5); rho_a = 1 × 1.5/2 = 0.75, rho_b = 0.6 × 1.25 = 0.75,
/// rho_c = 0.5 × 1.4 = 0.7. A message makes 1/0.82 = 1.219512 visits to a on average, and the
/// end-to-end latency is Σ L / gamma = 10.685250 s (see [`jackson_exact_figures_match_the_simulator`]).
#[test]
fn traffic_equations_of_a_feedback_network() {
    let analysis = analysis(FEEDBACK);
    for (name, lambda, rho) in [("a", 1.0, 0.75), ("b", 0.6, 0.75), ("c", 0.5, 0.7)] {
        let node = node(&analysis, name);
        assert_close(&format!("lambda_{name}"), node.arrival_rate, lambda);
        assert_close(&format!("demand_{name}"), node.demand_rate, lambda);
        assert_close(&format!("rho_{name}"), node.utilization, rho);
        assert_close(&format!("throughput_{name}"), node.throughput, lambda);
        assert!(node.stable && node.verdict == Verdict::Stable && node.growth_rate == 0.0);
        assert_eq!(node.time_to_fill, None);
    }
    let lengths = 0.642_857_142_857_142_9 / (4.0 / 3.0 - 1.0) + 1.5 + 3.0 + 0.7 / 0.3;
    assert_close("latency", source_value(&analysis, SourceMetric::LatencyMean), lengths / 0.82);
    assert!(analysis.system.stable);
}

/// A tandem with a second source, by hand. s1 (3/s) → x (4 workers of mean 0.5 s, c mu = 8/s),
/// which sends half to y (1 worker of mean 0.1 s, mu = 10/s) and lets half exit; s2 (1/s) → y
/// directly. lambda_x = 3, lambda_y = 1 + 1.5 = 2.5: rho_x = 0.375, rho_y = 0.25, so x is the
/// bottleneck although y gets less work per message. Scaling every source by h: x saturates at
/// 3h = 8, y at 2.5h = 10, so the headroom is 8/3 and the maximum throughput 8/3 × 4 = 32/3
/// messages/s entering the system.
///
/// Then y alone gets slower (mean 0.35 s, rho_y = 0.875): y becomes the bottleneck and saturates
/// first, at 2.5h = 1/0.35, h = 8/7, max throughput 32/7.
#[test]
fn headroom_max_throughput_and_bottleneck_of_a_tandem_by_hand() {
    let tandem = |mean_y: &str| {
        format!(
            r#"
[[source]]
name = "s1"
to = "x"
interarrival = {{ dist = "exponential", rate = 3.0 }}

[[source]]
name = "s2"
to = "y"
interarrival = {{ dist = "exponential", rate = 1.0 }}

[[node]]
name = "x"
servers = 4
service = {{ dist = "exponential", mean = "0.5s" }}
routes = [{{ to = "y", p = 0.5 }}, {{ to = "exit", p = 0.5 }}]

[[node]]
name = "y"
service = {{ dist = "exponential", mean = "{mean_y}" }}
"#
        )
    };
    let fast = analysis(&tandem("0.1s"));
    assert_close("rho_x", node(&fast, "x").utilization, 0.375);
    assert_close("rho_y", node(&fast, "y").utilization, 0.25);
    let system = &fast.system;
    assert_eq!(system.bottleneck.as_deref(), Some("x"));
    assert!(system.stable);
    assert_close("offered", system.offered_rate, 4.0);
    // The headroom is found by bisection to about 1e-15 relative.
    let headroom = system.headroom.expect("a headroom");
    assert!((headroom - 8.0 / 3.0).abs() <= 1e-12, "{headroom}");
    let max = system.max_throughput.expect("a maximum throughput");
    assert!((max - 32.0 / 3.0).abs() <= 1e-11, "{max}");
    assert_eq!(system.headroom_reason, None);

    let slow = analysis(&tandem("0.35s"));
    assert_close("rho_y", node(&slow, "y").utilization, 0.875);
    assert_eq!(slow.system.bottleneck.as_deref(), Some("y"));
    let headroom = slow.system.headroom.expect("a headroom");
    assert!((headroom - 8.0 / 7.0).abs() <= 1e-12, "{headroom}");
    let max = slow.system.max_throughput.expect("a maximum throughput");
    assert!((max - 32.0 / 7.0).abs() <= 1e-11, "{max}");
}

/// An overloaded node, by hand: 5 messages/s into 2 workers of mean 0.5 s (c mu = 4/s). Its queue
/// grows by lambda − c mu = 1 message/s, so it holds 10^6 (the default N) after 10^6 s, and N =
/// 500 after 500 s. Downstream, one worker of mean 0.2 s receives only the 4/s the overloaded
/// node passes (demand 5/s): rho = 0.8, stable. The system is unstable, the overloaded node is
/// the bottleneck (rho 1.25), and the headroom is 4/5: the load must shrink by a fifth.
///
/// A bounded node fills to its capacity instead of N: M/M/1/10 offered 3/s with mu = 1 grows by
/// 2/s and is full after 10/2 = 5 s, whatever N.
#[test]
fn growth_rate_and_time_to_fill_of_an_overloaded_node_by_hand() {
    let toml = r#"
[[source]]
name = "s"
to = "front"
interarrival = { dist = "exponential", rate = 5.0 }

[[node]]
name = "front"
servers = 2
service = { dist = "exponential", mean = "0.5s" }
routes = [{ to = "back" }]

[[node]]
name = "back"
service = { dist = "exponential", mean = "0.2s" }
"#;
    let network = scenario(toml).network().clone();
    let default = analyze(&network, None).expect("solvable");
    let front = node(&default, "front");
    assert_eq!((front.stable, front.verdict), (false, Verdict::Unstable));
    assert_close("rho", front.utilization, 1.25);
    assert_close("growth", front.growth_rate, 1.0);
    assert_close("N", front.fill_target, 1e6);
    assert_close("time to 1e6", front.time_to_fill.expect("a time to fill"), 1e6);
    assert_close("throughput", front.throughput, 4.0);
    let growth = figure(front, NodeMetric::QueueGrowthRate);
    assert_eq!(growth.value, Some(1.0));
    assert!(!growth.exact, "an asymptotic figure: {growth:?}");
    let wait = figure(front, NodeMetric::MeanWait);
    assert_eq!(wait.value, None);
    assert!(wait.reason.as_deref().is_some_and(|r| r.contains("unstable")), "{wait:?}");
    let back = node(&default, "back");
    assert_close("back lambda", back.arrival_rate, 4.0);
    assert_close("back demand", back.demand_rate, 5.0);
    assert_close("back rho", back.utilization, 0.8);
    assert!(back.stable && back.growth_rate == 0.0);
    assert!(!default.system.stable);
    assert_eq!(default.system.bottleneck.as_deref(), Some("front"));
    let headroom = default.system.headroom.expect("a headroom");
    assert!((headroom - 0.8).abs() <= 1e-12, "{headroom}");

    let custom = analyze(&network, Some(500.0)).expect("solvable");
    let front = node(&custom, "front");
    assert_close("N", front.fill_target, 500.0);
    assert_close("time to 500", front.time_to_fill.expect("a time to fill"), 500.0);

    let bounded = scenario(
        r#"
[[source]]
name = "s"
to = "buffer"
interarrival = { dist = "exponential", rate = 3.0 }

[[node]]
name = "buffer"
capacity = 10
service = { dist = "exponential", mean = "1s" }
"#,
    )
    .network()
    .clone();
    for fill in [None, Some(500.0)] {
        let analysis = analyze(&bounded, fill).expect("solvable");
        let buffer = &analysis.nodes[0];
        assert_eq!((buffer.stable, buffer.verdict), (false, Verdict::Saturated));
        // It fills at λ − cμ = 2/s, then holds steady and drops: no lasting growth.
        assert_close("growth", buffer.growth_rate, 0.0);
        assert_close("N", buffer.fill_target, 10.0);
        assert_close("time to full", buffer.time_to_fill.expect("a time to fill"), 5.0);
        // A finite channel is always stable as a whole: it drops instead of growing.
        assert!(analysis.system.stable);
    }
}

// ---------------------------------------------------------------------------------------------
// Edge cases, through the library and through `kendall analyze --format json`.

/// Asserts that every number of an analysis is finite and every figure without a value gives
/// its reason; probabilities must lie in [0, 1].
fn assert_sane(case: &str, analysis: &Analysis) {
    let finite = |what: &str, x: f64| assert!(x.is_finite(), "{case}: {what} = {x}");
    let figure_ok = |what: &str, key: &str, figure: &Figure| {
        match figure.value {
            Some(x) => finite(&format!("{what} {key}"), x),
            None => assert!(
                figure.reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{case}: {what} {key} has neither a value nor a reason: {figure:?}"
            ),
        }
        if matches!(key, "drop_probability" | "delivered_fraction")
            && let Some(p) = figure.value
        {
            assert!((0.0..=1.0).contains(&p), "{case}: {what} {key} = {p} is not a probability");
        }
    };
    let system = &analysis.system;
    finite("offered_rate", system.offered_rate);
    match system.headroom {
        Some(headroom) => {
            finite("headroom", headroom);
            finite(
                "max_throughput",
                system.max_throughput.expect("a maximum throughput beside the headroom"),
            );
        }
        None => {
            assert!(system.headroom_reason.is_some(), "{case}: no headroom and no reason");
            assert_eq!(system.max_throughput, None);
        }
    }
    for node in &analysis.nodes {
        let what = format!("node {}", node.name);
        for (field, x) in [
            ("arrival_rate", node.arrival_rate),
            ("demand_rate", node.demand_rate),
            ("utilization", node.utilization),
            ("throughput", node.throughput),
            ("growth_rate", node.growth_rate),
            ("fill_target", node.fill_target),
        ] {
            finite(&format!("{what} {field}"), x);
        }
        assert!(node.growth_rate >= 0.0, "{case}: {what} growth {}", node.growth_rate);
        if node.stable {
            assert_eq!(node.growth_rate, 0.0, "{case}: {what}");
        }
        if let Some(time) = node.time_to_fill {
            finite(&format!("{what} time_to_fill"), time);
        }
        assert_eq!(node.metrics.len(), NodeMetric::ALL.len());
        for (metric, figure) in &node.metrics {
            figure_ok(&what, metric.key(), figure);
        }
    }
    for source in &analysis.sources {
        let what = format!("source {}", source.name);
        assert_eq!(source.metrics.len(), SourceMetric::ALL.len());
        for (metric, figure) in &source.metrics {
            figure_ok(&what, metric.key(), figure);
        }
    }
}

/// Walks a JSON document: every number is finite, and every figure (an object with a `method`)
/// has a `value`, an `exact` flag and, where the value is null, a `reason`. serde_json writes NaN
/// and infinity as null, so the second rule is what catches them.
fn assert_json_sane(case: &str, value: &Value, path: &str) {
    match value {
        Value::Number(number) => {
            assert!(number.as_f64().is_some_and(f64::is_finite), "{case}: {path} = {number}");
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_json_sane(case, item, &format!("{path}[{i}]"));
            }
        }
        Value::Object(map) => {
            if map.contains_key("method") {
                assert!(map.get("exact").is_some_and(Value::is_boolean), "{case}: {path}: {value}");
                match map.get("value") {
                    Some(Value::Number(_)) => {}
                    Some(Value::Null) => assert!(
                        map.get("reason").and_then(Value::as_str).is_some_and(|r| !r.is_empty()),
                        "{case}: {path} is null without a reason: {value}"
                    ),
                    other => panic!("{case}: {path}: value {other:?}"),
                }
            }
            if map.get("headroom").is_some_and(Value::is_null) {
                assert!(
                    map.get("headroom_reason").and_then(Value::as_str).is_some_and(|r| !r.is_empty()),
                    "{case}: {path}: a null headroom without headroom_reason: {value}"
                );
            }
            for (key, item) in map {
                assert_json_sane(case, item, &format!("{path}.{key}"));
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// Runs `kendall analyze FILE --format json --quiet --out DIR` with the extra arguments.
fn analyze_cli(path: &Path, out: &Path, extra: &[&str]) -> Output {
    kendall()
        .arg("analyze")
        .arg(path)
        .args(["--format", "json", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("kendall runs")
}

/// Analyses an edge case through the library and through `kendall analyze --format json`: both
/// must succeed, hold only finite numbers and reasons for the missing ones, and agree with each
/// other, and the JSON printed must be analysis.json. Returns the analysis and the warnings.
fn edge(name: &str, toml: &str) -> (Analysis, String) {
    let analysis = analysis(toml);
    let network = scenario(toml).network().clone();
    assert_sane(name, &analysis);
    let dir = temp();
    let path = write_scenario(&dir, &format!("{name}.toml"), toml);
    let out = dir.path().join("out");
    let output = analyze_cli(&path, &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).expect("analyze prints JSON");
    assert_json_sane(name, &json, "");
    let file: AnalysisFile = serde_json::from_value(json).expect("the JSON is an AnalysisFile");
    assert_eq!(
        file,
        AnalysisFile::new(name, &analysis, &network),
        "{name}: the command line and the library differ"
    );
    let written = fs::read(out.join("analysis.json")).expect("analysis.json is written");
    assert_eq!(written, output.stdout, "{name}: analysis.json differs from the printed JSON");
    (analysis, stderr)
}

/// One node fed by one Poisson source; `node` holds the node's fields.
fn one_node(rate: &str, node: &str) -> String {
    format!(
        r#"[[source]]
name = "s"
to = "n"
interarrival = {{ dist = "exponential", rate = {rate} }}

[[node]]
name = "n"
{node}
"#
    )
}

/// rho exactly 1 on an unbounded queue (lambda = c mu, both exact in binary). Decision: the
/// node is unstable. The queue is null recurrent: it empties again and again but has no
/// stationary distribution and its mean length grows like √t, so there is no steady-state
/// figure (null, with the reason). Its fluid drift lambda − c mu is exactly 0, so the growth
/// rate is 0 (growth is sublinear) and the fluid model never reaches N: no time to fill. The
/// system is unstable; no growth at all is possible, so the headroom is exactly 1 and the
/// maximum throughput is today's rate. `kendall` warns.
///
/// A bounded channel at rho = 1 is a different matter: it has a steady state, M/M/2/5 with
/// a = c = 2: p_n ∝ 1, 2, 2, 2, 2, 2, so it drops p_5 = 2/11 and holds L = 30/11.
#[test]
fn rho_exactly_one() {
    for (case, rate, node) in [
        ("rho1_mm1", "1.0", r#"service = { dist = "exponential", mean = "1s" }"#),
        ("rho1_mm4", "2.0", "servers = 4\nservice = { dist = \"exponential\", mean = \"2s\" }"),
    ] {
        let (analysis, stderr) = edge(case, &one_node(rate, node));
        let n = &analysis.nodes[0];
        assert_eq!((n.stable, n.verdict), (false, Verdict::Unstable), "{case}");
        assert_eq!(n.utilization, 1.0, "{case}");
        assert_eq!(n.growth_rate, 0.0, "{case}");
        assert_eq!(n.time_to_fill, None, "{case}");
        for metric in
            [NodeMetric::MeanWait, NodeMetric::MeanSojourn, NodeMetric::MeanInSystem, NodeMetric::WaitP99]
        {
            let figure = figure(n, metric);
            assert_eq!(figure.value, None, "{case} {metric:?}");
            assert!(
                figure.reason.as_deref().is_some_and(|r| r.contains("no steady state")),
                "{case}: {figure:?}"
            );
        }
        let latency = analysis.sources[0].metric(SourceMetric::LatencyMean).expect("a latency figure");
        assert_eq!(latency.value, None, "{case}");
        let system = &analysis.system;
        assert!(!system.stable, "{case}");
        assert_eq!(system.headroom, Some(1.0), "{case}");
        assert_eq!(system.max_throughput, Some(system.offered_rate), "{case}");
        assert!(
            stderr.contains("warning: node 'n' is unstable") && stderr.contains("rho = 1.0000"),
            "{stderr}"
        );
    }
    let (analysis, _) = edge(
        "rho1_bounded",
        &one_node("1.0", "servers = 2\ncapacity = 5\nservice = { dist = \"exponential\", mean = \"2s\" }"),
    );
    let n = &analysis.nodes[0];
    assert_eq!((n.stable, n.verdict), (false, Verdict::Saturated));
    assert_eq!(n.growth_rate, 0.0);
    assert_close("p_5", value(n, NodeMetric::DropProbability), 2.0 / 11.0);
    assert_close("L", value(n, NodeMetric::MeanInSystem), 30.0 / 11.0);
    assert!(analysis.system.stable);
}

/// A thousand workers: Erlang C without factorials. M/M/1000 at a = 950: exact rational
/// arithmetic (Python `fractions`, the Erlang B recursion) gives C = 0.06825341537714143, so
/// Wq = C/50 = 0.0013650683075428285 s; Little's law ties the rest: L − Lq = a, W − Wq = 1 s,
/// L = lambda W. Overloaded at lambda = 1200: the queue grows by 200/s, 10^6 after 5000 s.
/// M/M/1000/1000 at a = 1000: Erlang B = 0.02481191764616041 (same script).
#[test]
fn a_thousand_servers() {
    let workers = "servers = 1000\nservice = { dist = \"exponential\", mean = \"1s\" }";
    let (analysis, _) = edge("c1000", &one_node("950.0", workers));
    let n = &analysis.nodes[0];
    let c = 0.068_253_415_377_141_43;
    assert!((value(n, NodeMetric::MeanWait) - c / 50.0).abs() <= 1e-9 * c / 50.0);
    let (l, lq) = (value(n, NodeMetric::MeanInSystem), value(n, NodeMetric::MeanInQueue));
    let (w, wq) = (value(n, NodeMetric::MeanSojourn), value(n, NodeMetric::MeanWait));
    assert!((l - lq - 950.0).abs() <= 1e-9 * l);
    assert!((w - wq - 1.0).abs() <= 1e-12);
    assert!((l - 950.0 * w).abs() <= 1e-9 * l);
    assert!(value(n, NodeMetric::WaitP99) > 0.0);

    let (analysis, _) = edge("c1000_overloaded", &one_node("1200.0", workers));
    let n = &analysis.nodes[0];
    assert_close("growth", n.growth_rate, 200.0);
    assert_close("time to fill", n.time_to_fill.expect("a time to fill"), 5000.0);

    let loss = "servers = 1000\ncapacity = 1000\nservice = { dist = \"exponential\", mean = \"1s\" }";
    let (analysis, _) = edge("c1000_loss", &one_node("1000.0", loss));
    let blocking = value(&analysis.nodes[0], NodeMetric::DropProbability);
    assert!((blocking - 0.024_811_917_646_160_41).abs() <= 1e-12, "{blocking}");
}

/// K = 1: one worker and no waiting room, M/M/1/1 offered 2/s with mu = 1: Erlang B(1, 2) =
/// 2/(1 + 2) = 2/3 dropped; no wait. Overloaded (a = 2) but bounded: "saturated", and the system
/// is stable; it is full, by the fluid model, after 1/(2 − 1) = 1 s.
#[test]
fn capacity_one() {
    let (analysis, _) =
        edge("k1", &one_node("2.0", "capacity = 1\nservice = { dist = \"exponential\", mean = \"1s\" }"));
    let n = &analysis.nodes[0];
    assert_eq!(n.model, "M/M/1/1");
    assert_eq!((n.stable, n.verdict), (false, Verdict::Saturated));
    assert_close("drop", value(n, NodeMetric::DropProbability), 2.0 / 3.0);
    assert_eq!(value(n, NodeMetric::MeanWait), 0.0);
    assert_close("W", value(n, NodeMetric::MeanSojourn), 1.0);
    assert_close("time to full", n.time_to_fill.expect("a time to fill"), 1.0);
    assert!(analysis.system.stable);
    assert!(analysis.system.headroom.is_none() && analysis.system.headroom_reason.is_some());
}

/// A nearly idle M/M/1: lambda = 1e-12, mu = 1. W = 1/(1 − 1e-12) ≈ 1 s, L = rho/(1 − rho) ≈
/// 1e-12, nobody waits at the percentiles; the load could grow 1e12-fold, to 1 message/s.
#[test]
fn a_tiny_arrival_rate() {
    let (analysis, _) =
        edge("tiny", &one_node("1e-12", "service = { dist = \"exponential\", mean = \"1s\" }"));
    let n = &analysis.nodes[0];
    assert_close("W", value(n, NodeMetric::MeanSojourn), 1.0 / (1.0 - 1e-12));
    assert_close("L", value(n, NodeMetric::MeanInSystem), 1e-12 / (1.0 - 1e-12));
    assert_eq!(value(n, NodeMetric::WaitP99), 0.0);
    assert_close("sojourn p50", value(n, NodeMetric::SojournP50), 2f64.ln() / (1.0 - 1e-12));
    let headroom = analysis.system.headroom.expect("a headroom");
    assert!((headroom - 1e12).abs() <= 1e-3, "{headroom}");
    let max = analysis.system.max_throughput.expect("a maximum throughput");
    assert!((max - 1.0).abs() <= 1e-12, "{max}");
}

/// Rates of 1e12 per second. 1e12 arrivals/s into 1000 workers of rate 1e12 (rho = 0.001):
/// W = 1e-12 s, L = a = 1; the sojourn p99 is that of the service time, ln(100) × 1e-12 s (within
/// 1e-6: the wait is negligible). The same arrivals into one worker of mean 1 s: the queue grows
/// by 1e12 − 1 per second and holds 10^6 after about 1e-6 s. And a worker of rate 1e12 behind a
/// source of 1/s: rho = 1e-12.
#[test]
fn huge_rates() {
    let fast = "servers = 1000\nservice = { dist = \"exponential\", rate = 1e12 }";
    let (analysis, _) = edge("huge_fast", &one_node("1e12", fast));
    let n = &analysis.nodes[0];
    assert_close("rho", n.utilization, 1e-3);
    assert!((value(n, NodeMetric::MeanSojourn) - 1e-12).abs() <= 1e-24);
    assert!((value(n, NodeMetric::MeanInSystem) - 1.0).abs() <= 1e-12);
    let p99 = value(n, NodeMetric::SojournP99);
    assert!((p99 - 100f64.ln() * 1e-12).abs() <= 1e-6 * p99, "{p99}");

    let (analysis, _) =
        edge("huge_overload", &one_node("1e12", "service = { dist = \"exponential\", mean = \"1s\" }"));
    let n = &analysis.nodes[0];
    assert_close("growth", n.growth_rate, 1e12 - 1.0);
    assert_close("time to fill", n.time_to_fill.expect("a time to fill"), 1e6 / (1e12 - 1.0));

    let (analysis, _) =
        edge("huge_service", &one_node("1.0", "service = { dist = \"exponential\", rate = 1e12 }"));
    let n = &analysis.nodes[0];
    assert_close("rho", n.utilization, 1e-12);
    assert!(n.stable);
}

/// capacity = servers: a loss system. With exponential service, M/M/3/3 offered a = 2: Erlang
/// B(3, 2) = (8/6)/(1 + 2 + 2 + 8/6) = 4/19; no wait. With lognormal service (M/G/3/3) Erlang B
/// still holds by insensitivity, but the library gives no figure: it must then say why, with no
/// NaN (reported as a gap, not asserted).
#[test]
fn capacity_equal_to_servers_is_a_loss_system() {
    let exponential = "servers = 3\ncapacity = 3\nservice = { dist = \"exponential\", mean = \"1s\" }";
    let (analysis, _) = edge("loss", &one_node("2.0", exponential));
    let n = &analysis.nodes[0];
    assert_eq!(n.model, "M/M/3/3");
    assert_close("Erlang B(3, 2)", value(n, NodeMetric::DropProbability), 4.0 / 19.0);
    assert_eq!(value(n, NodeMetric::MeanWait), 0.0);
    assert_eq!(value(n, NodeMetric::MeanInQueue), 0.0);
    assert_close("W", value(n, NodeMetric::MeanSojourn), 1.0);
    let lognormal = "servers = 3\ncapacity = 3\nservice = { dist = \"lognormal\", mean = \"1s\", cv = 1.5 }";
    let (analysis, _) = edge("loss_lognormal", &one_node("2.0", lognormal));
    assert_eq!(analysis.nodes[0].model, "M/G/3/3");
}

/// Only infinitely many workers: nobody ever waits, so no load saturates a queue and there is no
/// headroom (null, with headroom_reason). 1e6 arrivals/s, each held an exponential hour: M/M/∞,
/// L = lambda E[S] = 3.6e9 in flight, W = 3600 s, the sojourn p99 is the service time's,
/// ln(100) × 3600 s, and the utilisation of infinitely many workers is undefined (null, with a
/// reason).
#[test]
fn infinite_servers_never_saturate() {
    let delay = "servers = \"infinite\"\nservice = { dist = \"exponential\", mean = \"1h\" }";
    let (analysis, _) = edge("delay", &one_node("1e6", delay));
    let n = &analysis.nodes[0];
    assert_eq!(n.model, "M/M/∞");
    assert!(n.stable);
    assert_close("L", value(n, NodeMetric::MeanInSystem), 3.6e9);
    assert_close("W", value(n, NodeMetric::MeanSojourn), 3600.0);
    assert_eq!(value(n, NodeMetric::WaitP99), 0.0);
    assert_close("sojourn p99", value(n, NodeMetric::SojournP99), 100f64.ln() * 3600.0);
    assert!(figure(n, NodeMetric::SojournP99).exact);
    assert_eq!(figure(n, NodeMetric::Utilization).value, None);
    let system = &analysis.system;
    assert!(system.stable);
    assert_eq!((system.headroom, system.max_throughput), (None, None));
    assert!(system.headroom_reason.is_some());
}

/// Only finite channels: no queue can grow, overload drops instead, so there is no headroom
/// (null, with headroom_reason) and no maximum throughput. M/M/2/4 offered 3/s drops 81/203 (see
/// [`mmck_blocking_by_hand`]) and passes 366/203 per second to an M/M/1/3.
#[test]
fn a_network_of_finite_channels_has_no_headroom() {
    let toml = r#"[[source]]
name = "s"
to = "a"
interarrival = { dist = "exponential", rate = 3.0 }

[[node]]
name = "a"
servers = 2
capacity = 4
service = { dist = "exponential", mean = "1s" }
routes = [{ to = "b" }]

[[node]]
name = "b"
capacity = 3
service = { dist = "exponential", mean = "1s" }
"#;
    let (analysis, _) = edge("finite", toml);
    let system = &analysis.system;
    assert_eq!(system.headroom, None);
    assert_eq!(system.max_throughput, None);
    assert!(system.headroom_reason.as_deref().is_some_and(|r| r.contains("finite")), "{system:?}");
    assert!(system.stable);
    assert_close("b's arrivals", node(&analysis, "b").arrival_rate, 366.0 / 203.0);
    // b's input (what a lets through) is not Poisson: no exact figure for its drops.
    assert!(!figure(node(&analysis, "b"), NodeMetric::DropProbability).exact);
}

/// A feedback loop whose exit is rare: node a lets a message leave with probability 2^-40
/// (about 9.1e-13), so a message makes 2^40 ≈ 1.1e12 visits on average, each of 1 µs: 1.1e6
/// seconds of work per message. One message per second overloads a, which then serves
/// c mu = 1e6 messages per second; the load could only be 1e6/2^40 = 9.09e-7 of today's
/// (the headroom). Not singular, and no NaN. The probabilities are written with 17 significant
/// digits so that in binary they sum to exactly 1 (see
/// [`routes_summing_to_one_within_tolerance_deliver_one_copy`] for what happens otherwise);
/// nothing drops, so every message is eventually delivered. The growth rate
/// is asserted in [`feedback_through_an_overloaded_node_is_capped`].
#[test]
fn a_loop_that_rarely_exits() {
    let (analysis, _) = edge("loop", &rare_exit_loop());
    let a = &analysis.nodes[0];
    assert_eq!((a.stable, a.verdict), (false, Verdict::Unstable));
    assert!((a.demand_rate - 2f64.powi(40)).abs() <= 1e-9 * a.demand_rate, "{}", a.demand_rate);
    assert!(a.growth_rate > 0.0);
    assert_close("throughput", a.throughput, 1e6);
    let headroom = analysis.system.headroom.expect("a headroom");
    assert!((headroom - 1e6 * 2f64.powi(-40)).abs() <= 1e-12 * headroom, "{headroom}");
    assert_close("delivered", source_value(&analysis, SourceMetric::DeliveredFraction), 1.0);
}

/// [`a_loop_that_rarely_exits`]'s network.
fn rare_exit_loop() -> String {
    let exit = 2f64.powi(-40);
    format!(
        r#"[[source]]
name = "s"
to = "a"
interarrival = {{ dist = "exponential", rate = 1.0 }}

[[node]]
name = "a"
service = {{ dist = "exponential", mean = "1us" }}
routes = [{{ to = "a", p = {:.17} }}, {{ to = "exit", p = {exit:e} }}]
"#,
        1.0 - exit
    )
}

/// Feedback around an overloaded node. 0.5 messages/s enter a single worker of mean 1 s that
/// sends 90% of what it serves back to itself. Overloaded, it serves mu = 1 message/s, 0.9 of which return: it is offered
/// lambda = 0.5 + 0.9 × 1 = 1.4 per second (rho 1.4) and its queue grows by 1.4 − 1 = 0.4 per
/// second, reaching 10^6 after 2.5e6 s. (Uncapped, the traffic equations would give 0.5/0.1 = 5.)
/// Likewise [`a_loop_that_rarely_exits`]: lambda = 1 + 1e6 (1 − 2^-40), growth 1 − 1e6 · 2^-40.
/// (A capped fixed point iterated as lambda = gamma / (1 − q(lambda) p) would oscillate; the
/// library iterates the flows, so an overloaded node's output is its capacity.)
#[test]
fn feedback_through_an_overloaded_node_is_capped() {
    let (analysis, _) = edge(
        "overloaded_feedback",
        &one_node(
            "0.5",
            "service = { dist = \"exponential\", mean = \"1s\" }\nroutes = [{ to = \"n\", p = 0.9 }, { to = \"exit\", p = 0.1 }]",
        ),
    );
    let n = &analysis.nodes[0];
    assert_close("demand", n.demand_rate, 5.0);
    assert!((n.arrival_rate - 1.4).abs() <= 1e-12, "lambda {}", n.arrival_rate);
    assert!((n.utilization - 1.4).abs() <= 1e-12, "rho {}", n.utilization);
    assert!((n.growth_rate - 0.4).abs() <= 1e-12, "growth {}", n.growth_rate);
    assert_close("throughput", n.throughput, 1.0);
    let time = n.time_to_fill.expect("a time to fill");
    assert!((time - 2.5e6).abs() <= 1e-6 * 2.5e6, "{time}");

    let (analysis, _) = edge("loop", &rare_exit_loop());
    let a = &analysis.nodes[0];
    // The fixed point stops at 1e-13 relative on lambda ≈ 1e6: the growth is good to about 1e-7.
    let growth = 1.0 - 1e6 * 2f64.powi(-40);
    assert!((a.growth_rate - growth).abs() <= 1e-6, "{} vs {growth}", a.growth_rate);
}

/// Route probabilities that sum to 1 only within the validation's 1e-9 tolerance are
/// normalised, by the engine and by the analysis alike. Here node a keeps a message with
/// p = 1 − 1e-10 and lets it exit with p = 1e-9 (the sum, 1 + 9e-10, is accepted). Nothing drops
/// and nothing is copied: every message is delivered once, so the source's throughput is its
/// rate, 1e-12 per second, and the delivered-to-all figures equal the plain ones.
#[test]
fn routes_summing_to_one_within_tolerance_deliver_one_copy() {
    let toml = r#"[[source]]
name = "s"
to = "a"
interarrival = { dist = "exponential", rate = 1e-12 }

[[node]]
name = "a"
service = { dist = "exponential", mean = "1ns" }
routes = [{ to = "a", p = 0.9999999999 }, { to = "exit", p = 1e-9 }]
"#;
    let (analysis, _) = edge("loop_tolerance", toml);
    let throughput = source_value(&analysis, SourceMetric::Throughput);
    // A message visits a about 1e10 times, so the traffic equations' matrix has a condition
    // number near 1e10: solving it in f64 (machine epsilon 2.2e-16) can lose up to
    // 1e10 × 2.2e-16 ≈ 2.2e-6 of relative precision. Allow 1e-5.
    assert!((throughput - 1e-12).abs() <= 1e-5 * 1e-12, "throughput {throughput}");
    assert_close("delivered", source_value(&analysis, SourceMetric::DeliveredFraction), 1.0);
    assert_close("delivered to all", source_value(&analysis, SourceMetric::AllDeliveredFraction), 1.0);
}

// ---------------------------------------------------------------------------------------------
// The command line.

const MICROSERVICES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/microservices.toml");

/// `kendall analyze scenarios/microservices.toml --out DIR` writes DIR/analysis.json with every
/// contract field. Traffic by hand (the scenario's comment): gateway 40 + 20 = 60/s (4 workers
/// of 50 ms: rho 0.75), catalog 0.3 × 60 = 18/s (2 of 40 ms: 0.36), orders = db = 0.7 × 60/0.9 =
/// 46.667/s (8 of 150 ms: 0.875; 1 of 15 ms: 0.7). The bottleneck is orders; it saturates when
/// the load grows by 1/0.875 = 8/7, at 60 × 8/7 = 68.571 messages/s.
#[test]
fn analyze_writes_analysis_json() {
    let dir = temp();
    let out = dir.path().join("out");
    let output =
        kendall().arg("analyze").arg(MICROSERVICES).arg("--out").arg(&out).output().expect("kendall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "a stable scenario gives no warning");
    assert!(stdout.contains("bottleneck: orders"), "{stdout}");
    assert!(stdout.contains("analysis.json"), "the table names the file written: {stdout}");

    let text = fs::read_to_string(out.join("analysis.json")).expect("analysis.json is written");
    let json: Value = serde_json::from_str(&text).expect("analysis.json is JSON");
    assert_json_sane("microservices", &json, "");
    assert_eq!(json["scenario"], "microservices");
    for key in ["stable", "bottleneck", "headroom", "max_throughput"] {
        assert!(json["system"].get(key).is_some(), "system.{key} is missing");
    }
    let nodes = json["nodes"].as_array().expect("a list of nodes");
    assert_eq!(nodes.len(), 4);
    for node in nodes {
        for key in ["name", "arrival_rate", "utilization", "stable", "growth_rate", "metrics"] {
            assert!(node.get(key).is_some(), "node field {key} is missing: {node}");
        }
        assert_eq!(node["growth_rate"], 0.0, "a stable node does not grow: {node}");
        for metric in NodeMetric::ALL {
            let figure = &node["metrics"][metric.key()];
            for key in ["value", "exact", "method"] {
                assert!(figure.get(key).is_some(), "{} {}.{key} is missing", node["name"], metric.key());
            }
        }
    }
    let sources = json["sources"].as_array().expect("a list of sources");
    assert_eq!(sources.len(), 2);
    for source in sources {
        assert!(source.get("name").is_some());
        for metric in SourceMetric::ALL {
            let figure = &source["metrics"][metric.key()];
            for key in ["value", "exact", "method"] {
                assert!(figure.get(key).is_some(), "{} {}.{key} is missing", source["name"], metric.key());
            }
        }
    }

    let file: AnalysisFile = serde_json::from_str(&text).expect("analysis.json is an AnalysisFile");
    assert!(file.system.stable);
    assert_eq!(file.system.bottleneck.as_deref(), Some("orders"));
    let headroom = file.system.headroom.expect("a headroom");
    assert!((headroom - 8.0 / 7.0).abs() <= 1e-12, "{headroom}");
    let max = file.system.max_throughput.expect("a maximum throughput");
    assert!((max - 480.0 / 7.0).abs() <= 1e-10, "{max}");
    let orders_rate = 0.7 * 60.0 / 0.9;
    for (entry, (name, lambda, rho)) in file.nodes.iter().zip([
        ("gateway", 60.0, 0.75),
        ("catalog", 18.0, 0.36),
        ("orders", orders_rate, 0.875),
        ("db", orders_rate, 0.7),
    ]) {
        assert_eq!(entry.name, name);
        assert_close(&format!("{name} lambda"), entry.arrival_rate, lambda);
        assert_close(&format!("{name} rho"), entry.utilization, rho);
        assert!(entry.stable && entry.verdict == Verdict::Stable);
        assert!(entry.metrics["mean_wait"].exact, "{name}: a Jackson network");
    }
    assert_eq!(file.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["web", "mobile"]);
}

/// `--fill N` changes the time until an overloaded queue holds N messages: 5/s into c mu = 4/s
/// grows by 1/s (see [`growth_rate_and_time_to_fill_of_an_overloaded_node_by_hand`]). An invalid
/// N is bad input.
#[test]
fn analyze_fill_flag() {
    let dir = temp();
    let path = write_scenario(
        &dir,
        "overloaded.toml",
        &one_node("5.0", "servers = 2\nservice = { dist = \"exponential\", mean = \"0.5s\" }"),
    );
    let out = dir.path().join("out");
    for (extra, fill) in [(&[][..], 1e6), (&["--fill", "500"][..], 500.0)] {
        let output = analyze_cli(&path, &out, extra);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let file: AnalysisFile = serde_json::from_slice(&output.stdout).expect("an AnalysisFile");
        let n = &file.nodes[0];
        assert_eq!((n.verdict, n.growth_rate), (Verdict::Unstable, 1.0));
        assert_close("N", n.fill_target, fill);
        assert_close("time to fill", n.time_to_fill.expect("a time to fill"), fill);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("node 'n'") && stderr.contains("rho = 1.2500"), "{stderr}");
    }
    for bad in ["0", "-3", "abc", "inf"] {
        let output = analyze_cli(&path, &dir.path().join("bad"), &["--fill", bad]);
        assert_eq!(output.status.code(), Some(2), "--fill {bad}");
        assert!(!dir.path().join("bad").exists());
    }
}

/// `kendall analyze` on a bad file exits 2, says what is wrong and where, and writes nothing.
#[test]
fn analyze_rejects_bad_files() {
    let dir = temp();
    let cases = [
        ("malformed.toml", "[[node]\nname = \"x\"\n", &["malformed.toml"][..]),
        (
            "unknown.toml",
            "[[source]]\nname = \"s\"\nto = \"n\"\ninterarrival = { dist = \"exponential\", rate = 1.0 }\n\n[[node]]\nname = \"n\"\nservice = { dist = \"exponential\", mean = \"1s\" }\nspeed = 3\n",
            &["unknown.toml", "speed"][..],
        ),
        (
            "zero_servers.toml",
            "[[source]]\nname = \"s\"\nto = \"n\"\ninterarrival = { dist = \"exponential\", rate = 1.0 }\n\n[[node]]\nname = \"n\"\nservers = 0\nservice = { dist = \"exponential\", mean = \"1s\" }\n",
            &["zero_servers.toml", "servers"][..],
        ),
    ];
    for (name, contents, fragments) in cases {
        let path = write_scenario(&dir, name, contents);
        let out = dir.path().join(format!("out-{name}"));
        let output =
            kendall().arg("analyze").arg(&path).arg("--out").arg(&out).output().expect("kendall runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        for fragment in fragments {
            assert!(stderr.contains(fragment), "{name}: stderr lacks {fragment:?}: {stderr}");
        }
        assert!(output.stdout.is_empty(), "{name}");
        assert!(!out.exists(), "{name}: an output directory was created for a bad input");
    }
    let missing = dir.path().join("missing.toml");
    let output =
        kendall().arg("analyze").arg(&missing).arg("--out").arg(dir.path()).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.toml"));
}

/// `kendall run` puts theory beside the simulation: every node and source of summary.json has an
/// `analytic` entry per metric (value, exact, method) and a `ci_misses` list, which names exactly
/// the metrics whose 95% CI misses an exact analytic value (recomputed here). The table shows a
/// theory column.
#[test]
fn run_writes_theory_into_summary_json() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = kendall()
        .arg("run")
        .arg(MICROSERVICES)
        .args(["--duration", "200s", "--warmup", "20s", "--replications", "3", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("theory") && stdout.contains("diff"), "{stdout}");

    let text = fs::read_to_string(out.join("summary.json")).expect("summary.json is written");
    let json: Value = serde_json::from_str(&text).expect("summary.json is JSON");
    for (list, keys) in [
        ("nodes", NodeMetric::ALL.iter().map(|m| m.key()).collect::<Vec<_>>()),
        ("sources", SourceMetric::ALL.iter().map(|m| m.key()).collect::<Vec<_>>()),
    ] {
        for entry in json[list].as_array().expect("a list") {
            assert!(entry["ci_misses"].is_array(), "{list}: no ci_misses list: {entry}");
            for key in &keys {
                let figure = &entry["analytic"][key];
                for field in ["value", "exact", "method"] {
                    assert!(figure.get(field).is_some(), "{list} {} analytic {key}.{field}", entry["name"]);
                }
            }
        }
    }
    assert_json_sane("summary.json analytic", &json, "");

    let summary: SummaryFile = serde_json::from_str(&text).expect("summary.json is a SummaryFile");
    let analysis = analyze(kendall::scenario::load(Path::new(MICROSERVICES)).expect("valid").network(), None)
        .expect("solvable");
    let misses = |metrics: &BTreeMap<String, EstimateEntry>, analytic: &BTreeMap<String, Figure>| {
        analytic
            .iter()
            .filter(|(key, figure)| {
                let (Some(value), true, Some([low, high])) =
                    (figure.value, figure.exact, metrics.get(*key).and_then(|e| e.ci95))
                else {
                    return false;
                };
                // The library's slack for intervals of zero width: 1e-9 relative.
                let slack = 1e-9 * value.abs();
                value < low - slack || value > high + slack
            })
            .map(|(key, _)| key.clone())
            .collect::<Vec<_>>()
    };
    for (entry, theory) in summary.nodes.iter().zip(&analysis.nodes) {
        let expected: BTreeMap<String, Figure> =
            theory.metrics.iter().map(|(m, f)| (m.key().to_owned(), f.clone())).collect();
        assert_eq!(entry.analytic, expected, "node {}: summary.json's theory is analyze's", entry.name);
        assert_eq!(entry.ci_misses, misses(&entry.metrics, &entry.analytic), "node {}", entry.name);
    }
    for (entry, theory) in summary.sources.iter().zip(&analysis.sources) {
        let expected: BTreeMap<String, Figure> =
            theory.metrics.iter().map(|(m, f)| (m.key().to_owned(), f.clone())).collect();
        assert_eq!(entry.analytic, expected, "source {}", entry.name);
        assert_eq!(entry.ci_misses, misses(&entry.metrics, &entry.analytic), "source {}", entry.name);
    }
}

/// `kendall run` on an overloaded scenario warns before simulating, naming the node and its rho
/// (1.5/s into one worker of mean 1 s: rho = 1.5, growing by 0.5/s).
#[test]
fn run_warns_about_an_overloaded_node() {
    let dir = temp();
    let toml = r#"[simulation]
max_in_system = 200

[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 1.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;
    let path = write_scenario(&dir, "overload.toml", toml);
    let output = kendall()
        .arg("run")
        .arg(&path)
        .args(["--duration", "1000s", "--replications", "2", "--quiet", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: node 'server' is unstable: rho = 1.5000"), "{stderr}");
    assert!(stderr.contains("0.5"), "the growth rate: {stderr}");
}
