//! Message classes: the class a source gives each of its messages (`class`), the service time a
//! node takes per class (`service_by_class`), and the results per class at every node and end
//! to end, in the library, in `analyze` and through the command line.
//!
//! Every expected value is computed in the test from a named closed form (Pollaczek-Khinchine,
//! Cobham, Burke), with its arithmetic in the test's doc comment and the rounded figures asserted
//! to 1e-6 so that a slip in the code shows. Where theory is not needed, identities that hold
//! exactly in every replication are asserted instead (per-class counts adding up to the node's;
//! common random numbers leaving the node figures bit-for-bit unchanged).
//!
//! # Tolerances
//! As in theory.rs (see [`Family`]): every simulated mean is compared with theory through a
//! Bonferroni interval over the [`CHECKS`] comparisons of this module, with a family-wise error
//! rate of [`FAMILY_ERROR`]; every 95% half-width must also be at most [`PRECISION`] of the
//! theory value, so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere,
//! never re-seeded to pass. Figures the library computes without simulating (`analyze`) are
//! compared with ours to [`EXACT`](crate::support::EXACT) relative, and must be marked exact.

use std::fs;

use kendall::analytic::{Analysis, Figure, analyze};
use kendall::experiment::Experiment;
use kendall::model::{Metric, Scenario};
use kendall::report::SummaryFile;
use kendall::stats::{EntitySummary, MessageClassMetric, NodeClassMetric, NodeMetric, SourceMetric};

use crate::support::{
    Family, ScenarioBuilder, assert_analyzed, assert_rejected, kendall, named, node_index, run, scenario,
    simulate, temp, value, write_scenario,
};

/// Comparisons with theory through confidence intervals in this module, the Bonferroni
/// denominator: 13 for the FIFO class mix, 9 for priorities with class-dependent service, 5
/// under preemption, 8 for the tandem.
const CHECKS: u32 = 35;

/// Probability that some check of this module fails by chance alone when the simulator is right.
const FAMILY_ERROR: f64 = 0.05;

/// Largest 95% half-width accepted, relative to the theory value. The runs are sized so that
/// the noisiest figure, a wait at the FIFO mix's ρ = 0.775, has a 95% half-width of about 1.1%
/// (20 replications of 4e5 s), the others 0.2 to 1%. 2% is about twice the noisiest: a sample
/// path that happens to be noisier still passes, while runs too short to tell a wait 2% off
/// from the right one are refused.
const PRECISION: f64 = 0.02;

/// This module's comparisons with theory.
const FAMILY: Family = Family { checks: CHECKS, error: FAMILY_ERROR, precision: PRECISION };

/// Asserts that a figure of `analyze` equals ours up to rounding and is marked exact.
fn assert_exact(what: &str, figure: Option<&Figure>, ours: f64) {
    let figure = figure.unwrap_or_else(|| panic!("{what}: analyze has no such figure"));
    assert_analyzed(what, figure.value, ours);
    assert!(figure.exact, "{what}: analyze marks its figure approximate: {figure:?}");
}

/// Asserts `actual` = `expected` to a relative `tolerance` (rounding of sums in another order).
fn assert_close(what: &str, actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance * expected.abs().max(f64::MIN_POSITIVE),
        "{what}: {actual} vs {expected}"
    );
}

/// What `analyze` says of an inline scenario, with the network's names to look figures up by.
struct Theory {
    scenario: Scenario,
    analysis: Analysis,
}

impl Theory {
    fn of(toml: &str) -> Self {
        let scenario = scenario(toml);
        let analysis = analyze(&scenario, None).expect("solvable traffic equations");
        Self { scenario, analysis }
    }

    /// Position of message class `class` in `network.classes()`, the order of every per-class list.
    fn class_index(&self, class: &str) -> usize {
        let classes = self.scenario.network().message_classes();
        classes
            .iter()
            .position(|name| name == class)
            .unwrap_or_else(|| panic!("no class {class}: {classes:?}"))
    }

    fn node_index(&self, node: &str) -> usize {
        self.analysis.nodes.iter().position(|n| n.name == node).unwrap_or_else(|| panic!("no node {node}"))
    }

    fn node(&self, node: &str, metric: NodeMetric) -> Option<&Figure> {
        self.analysis.nodes[self.node_index(node)].metric(metric)
    }

    /// A figure of the messages of class `class` at `node`.
    fn node_class(&self, node: &str, class: &str, metric: NodeClassMetric) -> Option<&Figure> {
        let classes = &self.analysis.nodes[self.node_index(node)].message_classes;
        classes.get(self.class_index(class)).and_then(|figures| find(figures, metric))
    }

    /// A figure of priority class `rank` (0 the highest) at `node`.
    fn priority_class(&self, node: &str, rank: usize, metric: NodeClassMetric) -> Option<&Figure> {
        let classes = &self.analysis.nodes[self.node_index(node)].priority_classes;
        classes.get(rank).and_then(|figures| find(figures, metric))
    }

    /// A network-wide figure of message class `class`.
    fn class(&self, class: &str, metric: MessageClassMetric) -> Option<&Figure> {
        self.analysis.message_classes.get(self.class_index(class)).and_then(|figures| find(figures, metric))
    }

    fn source(&self, source: &str, metric: SourceMetric) -> Option<&Figure> {
        let found = self.analysis.sources.iter().find(|s| s.name == source);
        found.unwrap_or_else(|| panic!("no source {source}")).metric(metric)
    }
}

/// The figure of `metric` in a list of figures.
fn find<M: Metric + PartialEq>(figures: &[(M, Figure)], metric: M) -> Option<&Figure> {
    figures.iter().find(|(m, _)| *m == metric).map(|(_, figure)| figure)
}

/// The summary of the messages of class `class` at node `node`.
fn node_class<'a>(experiment: &'a Experiment, node: &str, class: &str) -> &'a EntitySummary<NodeClassMetric> {
    named(&experiment.summary.node_message_classes[node_index(experiment, node)], class)
}

/// Sources "orders" (Poisson 0.3/s, class small or large, 1/2 each) and "audits" (Poisson
/// 0.2/s, class large) into one FIFO worker, "station", serving in an exponential 0.5 s, and
/// large messages in a deterministic 2 s.
fn fifo_mix(mut scenario: ScenarioBuilder) -> String {
    scenario
        .source("orders", "station", 0.3, "class = { small = 0.5, large = 0.5 }")
        .source("audits", "station", 0.2, "class = \"large\"")
        .node(
            "station",
            1,
            0.5,
            "service_by_class = { large = { dist = \"deterministic\", value = \"2s\" } }",
        )
        .toml()
}

/// Pollaczek-Khinchine's Wq of the FIFO mix (see [`fifo_classes_share_the_pollaczek_khinchine_wait`]).
fn fifo_mix_wait() -> f64 {
    let (small, large): (f64, f64) = (0.3 * 0.5, 0.3 * 0.5 + 0.2);
    let lambda = small + large;
    let mean = (small * 0.5 + large * 2.0) / lambda;
    let second = (small * 2.0 * 0.5 * 0.5 + large * 2.0 * 2.0) / lambda;
    let rho = lambda * mean;
    assert!((mean - 1.55).abs() < 1e-12 && (rho - 0.775).abs() < 1e-12 && (second - 2.95).abs() < 1e-12);
    lambda * second / (2.0 * (1.0 - rho))
}

/// M/G/1 with a class mix: one FIFO worker, two classes with their own service times.
///
/// The two Poisson sources merge into a Poisson stream of λ = 0.5/s, and each message's class is
/// drawn independently of the arrival times: λ_small = 0.3 · 0.5 = 0.15/s, λ_large = 0.15 + 0.2
/// = 0.35/s. The node is then an M/G/1 queue whose service is the mixture, 0.3 Exp(mean 0.5 s)
/// and 0.7 Det(2 s): E[S] = (0.15 · 0.5 + 0.35 · 2)/0.5 = 1.55 s, ρ = λE[S] = 0.775,
/// E[S²] = (0.15 · 2 · 0.5² + 0.35 · 2²)/0.5 = 2.95 s², and Pollaczek-Khinchine gives
/// Wq = λE[S²]/(2(1 − ρ)) = 1.475/0.45 = 3.277778 s. In FIFO order a message waits for the
/// work it finds, which (PASTA, and a class independent of the past) does not depend on its own
/// class: both classes wait Wq, the node's wait. Sojourns: small Wq + 0.5 = 3.777778 s, large
/// Wq + 2 = 5.277778 s; throughputs λ_c (stable). One node to exit, so each class's end-to-end
/// latency is its sojourn, with the same throughput; per source, orders (half each class)
/// Wq + (0.5 + 2)/2 = 4.527778 s and audits (large) 5.277778 s.
///
/// `analyze` gives the same, to 1e-9, each marked exact (P-K is exact for the mixture).
///
/// Exactly per replication (every completed message is recorded in its own class and no
/// other): Σ_c throughput_c = the node's throughput, Σ_c throughput_c · mean_wait_c = the node's
/// throughput · mean_wait; end to end, Σ_c throughput_c = Σ_s throughput_s and
/// Σ_c throughput_c · latency_c = Σ_s throughput_s · latency_s over the sources s.
///
/// 13 CI checks: throughput, mean wait and sojourn of each class at the node (6), throughput and
/// latency of each class end to end (4), the latency of each source (2), the node's wait (1).
#[test]
fn fifo_classes_share_the_pollaczek_khinchine_wait() {
    let wait = fifo_mix_wait();
    assert!((wait - 3.277_778).abs() < 1e-6, "{wait}");
    // (class, its mean service in seconds, its rate per second)
    let classes = [("small", 0.5, 0.15), ("large", 2.0, 0.35)];
    let sources = [("orders", wait + 1.25), ("audits", wait + 2.0)];
    assert!((sources[0].1 - 4.527_778).abs() < 1e-6, "{sources:?}");

    let toml = fifo_mix(ScenarioBuilder::simulated(400_000.0, 2000.0, 20));
    let theory = Theory::of(&toml);
    assert_eq!(theory.scenario.network().message_classes(), ["large", "small"], "classes sorted by name");
    assert_exact("FIFO mix analyze node Wq", theory.node("station", NodeMetric::MeanWait), wait);
    for (class, service, rate) in classes {
        let what = |metric: &str| format!("FIFO mix analyze {class} {metric}");
        let figure = |metric| theory.node_class("station", class, metric);
        assert_exact(&what("throughput"), figure(NodeClassMetric::Throughput), rate);
        assert_exact(&what("Wq"), figure(NodeClassMetric::MeanWait), wait);
        assert_exact(&what("W"), figure(NodeClassMetric::MeanSojourn), wait + service);
        let figure = |metric| theory.class(class, metric);
        assert_exact(&what("end-to-end throughput"), figure(MessageClassMetric::Throughput), rate);
        assert_exact(&what("latency"), figure(MessageClassMetric::LatencyMean), wait + service);
    }
    for (source, latency) in sources {
        let what = format!("FIFO mix analyze {source} latency");
        assert_exact(&what, theory.source(source, SourceMetric::LatencyMean), latency);
    }

    // 2 events per message: 20 × 4.02e5 s × 0.5/s × 2 = 8e6 events; the 95% half-widths of the
    // waits are about 1.1%.
    let experiment = simulate(&toml);
    let names: Vec<&str> =
        experiment.summary.node_message_classes[0].iter().map(|class| class.name.as_str()).collect();
    assert_eq!(names, ["large", "small"]);
    assert!(experiment.summary.node_priority_classes[0].is_empty(), "a FIFO node has no priority classes");
    for (class, service, rate) in classes {
        let what = |metric: &str| format!("FIFO mix {class} {metric}");
        let at_node = node_class(&experiment, "station", class);
        FAMILY.assert_mean(&what("throughput"), at_node.get(NodeClassMetric::Throughput), rate);
        FAMILY.assert_mean(&what("Wq"), at_node.get(NodeClassMetric::MeanWait), wait);
        FAMILY.assert_mean(&what("W"), at_node.get(NodeClassMetric::MeanSojourn), wait + service);
        let end_to_end = named(&experiment.summary.message_classes, class);
        FAMILY.assert_mean(
            &what("end-to-end throughput"),
            end_to_end.get(MessageClassMetric::Throughput),
            rate,
        );
        FAMILY.assert_mean(&what("latency"), end_to_end.get(MessageClassMetric::LatencyMean), wait + service);
    }
    for (source, latency) in sources {
        let estimate = named(&experiment.summary.sources, source).get(SourceMetric::LatencyMean);
        FAMILY.assert_mean(&format!("FIFO mix {source} latency"), estimate, latency);
    }
    FAMILY.assert_mean("FIFO mix node Wq", experiment.summary.nodes[0].get(NodeMetric::MeanWait), wait);

    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let station = &replication.nodes[0];
        let throughput: f64 =
            station.message_classes.iter().map(|class| value(class, NodeClassMetric::Throughput)).sum();
        let waiting: f64 = station
            .message_classes
            .iter()
            .map(|class| value(class, NodeClassMetric::Throughput) * value(class, NodeClassMetric::MeanWait))
            .sum();
        let node_throughput = value(&station.metrics, NodeMetric::Throughput);
        assert_close(&format!("{context}: node throughput"), throughput, node_throughput, 1e-12);
        let node_waiting = node_throughput * value(&station.metrics, NodeMetric::MeanWait);
        assert_close(&format!("{context}: node total wait"), waiting, node_waiting, 1e-9);

        let per_class =
            |metric| -> f64 { replication.message_classes.iter().map(|class| value(class, metric)).sum() };
        let delivered: f64 =
            replication.sources.iter().map(|source| value(&source.metrics, SourceMetric::Throughput)).sum();
        assert_close(
            &format!("{context}: delivered"),
            per_class(MessageClassMetric::Throughput),
            delivered,
            1e-12,
        );
        let class_latency: f64 = replication
            .message_classes
            .iter()
            .map(|class| {
                value(class, MessageClassMetric::Throughput) * value(class, MessageClassMetric::LatencyMean)
            })
            .sum();
        let source_latency: f64 = replication
            .sources
            .iter()
            .map(|source| {
                value(&source.metrics, SourceMetric::Throughput)
                    * value(&source.metrics, SourceMetric::LatencyMean)
            })
            .sum();
        assert_close(&format!("{context}: total latency"), class_latency, source_latency, 1e-9);
    }
}

/// Non-preemptive priorities with class-dependent service (Cobham), at one worker.
///
/// Sources: "interactive", Poisson 0.3/s, priority 5, class query; "batch", Poisson 0.2/s,
/// priority 0, class query (1/4) or report (3/4). The node serves the highest priority first,
/// never interrupting; a query takes an exponential 0.5 s (E[S²] = 2 · 0.5² = 0.5 s²), a report
/// an Erlang k = 2 of mean 3 s (Var = 3²/2 = 4.5, E[S²] = 4.5 + 9 = 13.5 s²).
///
/// Priority classes: 1 (priority 5), queries only: λ_1 = 0.3, E[S_1] = 0.5, E[S_1²] = 0.5;
/// 2 (priority 0), the batch mixture: λ_2 = 0.2, E[S_2] = 0.25 · 0.5 + 0.75 · 3 = 2.375 s,
/// E[S_2²] = 0.25 · 0.5 + 0.75 · 13.5 = 10.25 s². Residual work
/// R = Σ λ_k E[S_k²]/2 = 0.3 · 0.5/2 + 0.2 · 10.25/2 = 1.1 s; σ_1 = 0.3 · 0.5 = 0.15,
/// σ_2 = 0.15 + 0.2 · 2.375 = 0.625. Cobham: Wq_1 = R/(1 − σ_1) = 1.1/0.85 = 1.294118 s,
/// Wq_2 = R/((1 − σ_1)(1 − σ_2)) = 1.1/0.31875 = 3.450980 s; sojourns Wq_1 + 0.5 = 1.794118 s, Wq_2 + 2.375 = 5.825980 s. The node's mean
/// wait over all messages is the rate-weighted mean (0.3 Wq_1 + 0.2 Wq_2)/0.5 = 2.156863 s.
///
/// Message classes: a message's wait in Cobham's derivation (the residual work, the work of its
/// class and higher found waiting, the higher work arriving meanwhile) does not involve its own
/// service, and its message class is drawn independently of the state it finds, so a message
/// waits as its priority class does whatever its message class. Queries are priority 5 at
/// 0.3/s and priority 0 at 0.05/s: Wq(query) = (0.3 Wq_1 + 0.05 Wq_2)/0.35 = 1.602241 s,
/// W(query) = 2.102241 s; reports are all priority 0: Wq(report) = Wq_2 = 3.450980 s,
/// W(report) = Wq_2 + 3 = 6.450980 s.
///
/// `analyze` gives the same, to 1e-9, each marked exact (Cobham is exact for M/G/1).
///
/// 9 CI checks: wait and sojourn of each priority class (4) and of each message class (4), the
/// node's wait (1).
#[test]
fn priority_classes_and_message_classes_follow_cobham() {
    let Mix {
        interactive,
        batch,
        query_mean,
        report_mean,
        query_second,
        report_second,
        batch_mean,
        batch_second,
    } = Mix::new();
    let residual = (interactive * query_second + batch * batch_second) / 2.0;
    let sigma = [interactive * query_mean, interactive * query_mean + batch * batch_mean];
    let priority_waits = [residual / (1.0 - sigma[0]), residual / ((1.0 - sigma[0]) * (1.0 - sigma[1]))];
    let priority_sojourns = [priority_waits[0] + query_mean, priority_waits[1] + batch_mean];
    let overall = (interactive * priority_waits[0] + batch * priority_waits[1]) / (interactive + batch);
    let batch_queries = 0.25 * batch;
    let query_wait =
        (interactive * priority_waits[0] + batch_queries * priority_waits[1]) / (interactive + batch_queries);
    // (class, wait, sojourn)
    let classes = [
        ("query", query_wait, query_wait + query_mean),
        ("report", priority_waits[1], priority_waits[1] + report_mean),
    ];
    assert!((report_second - 13.5).abs() < 1e-12 && (batch_second - 10.25).abs() < 1e-12);
    assert!((residual - 1.1).abs() < 1e-12 && (sigma[1] - 0.625).abs() < 1e-12, "{residual} {sigma:?}");
    assert!((priority_waits[0] - 1.294_118).abs() < 1e-6 && (priority_waits[1] - 3.450_980).abs() < 1e-6);
    assert!((priority_sojourns[1] - 5.825_980).abs() < 1e-6 && (overall - 2.156_863).abs() < 1e-6);
    assert!((classes[0].1 - 1.602_241).abs() < 1e-6 && (classes[1].2 - 6.450_980).abs() < 1e-6);

    let toml = priority_mix("priority");
    let theory = Theory::of(&toml);
    assert_exact("Cobham analyze node Wq", theory.node("station", NodeMetric::MeanWait), overall);
    for rank in 0..2 {
        let what = |metric: &str| format!("Cobham analyze priority class {rank} {metric}");
        let figure = |metric| theory.priority_class("station", rank, metric);
        assert_exact(&what("Wq"), figure(NodeClassMetric::MeanWait), priority_waits[rank]);
        assert_exact(&what("W"), figure(NodeClassMetric::MeanSojourn), priority_sojourns[rank]);
    }
    for (class, wait, sojourn) in classes {
        let what = |metric: &str| format!("Cobham analyze {class} {metric}");
        let figure = |metric| theory.node_class("station", class, metric);
        assert_exact(&what("Wq"), figure(NodeClassMetric::MeanWait), wait);
        assert_exact(&what("W"), figure(NodeClassMetric::MeanSojourn), sojourn);
    }

    // 2 events per message: 20 × 4.02e5 s × 0.5/s × 2 = 8e6 events; the noisiest figure, the
    // reports' wait, has a 95% half-width of about 0.9%.
    let experiment = simulate(&toml);
    let priority_classes = &experiment.summary.node_priority_classes[0];
    let names: Vec<&str> = priority_classes.iter().map(|class| class.name.as_str()).collect();
    assert_eq!(names, ["priority 5", "priority 0"], "priority classes, highest first");
    for (rank, class) in priority_classes.iter().enumerate() {
        let what = |metric: &str| format!("Cobham priority class {rank} ({}) {metric}", class.name);
        FAMILY.assert_mean(&what("Wq"), class.get(NodeClassMetric::MeanWait), priority_waits[rank]);
        FAMILY.assert_mean(&what("W"), class.get(NodeClassMetric::MeanSojourn), priority_sojourns[rank]);
    }
    for (class, wait, sojourn) in classes {
        let at_node = node_class(&experiment, "station", class);
        FAMILY.assert_mean(&format!("Cobham {class} Wq"), at_node.get(NodeClassMetric::MeanWait), wait);
        FAMILY.assert_mean(&format!("Cobham {class} W"), at_node.get(NodeClassMetric::MeanSojourn), sojourn);
    }
    FAMILY.assert_mean("Cobham node Wq", experiment.summary.nodes[0].get(NodeMetric::MeanWait), overall);
}

/// The rates and service moments shared by the two priority tests (see the Cobham test's
/// comment for the arithmetic).
struct Mix {
    interactive: f64,
    batch: f64,
    query_mean: f64,
    report_mean: f64,
    query_second: f64,
    report_second: f64,
    batch_mean: f64,
    batch_second: f64,
}

impl Mix {
    fn new() -> Self {
        let (interactive, batch, query_mean, report_mean) = (0.3, 0.2, 0.5, 3.0);
        // Exponential: E[S²] = 2E[S]²; Erlang-2: E[S²] = E[S]²(1 + 1/2).
        let (query_second, report_second) = (2.0 * query_mean * query_mean, report_mean * report_mean * 1.5);
        let batch_mean = 0.25 * query_mean + 0.75 * report_mean;
        let batch_second = 0.25 * query_second + 0.75 * report_second;
        Self {
            interactive,
            batch,
            query_mean,
            report_mean,
            query_second,
            report_second,
            batch_mean,
            batch_second,
        }
    }
}

/// Queries at priority 5 and a batch of queries and reports at priority 0 into one worker under
/// `discipline`; reports take an Erlang-2 of mean 3 s, queries the exponential 0.5 s.
fn priority_mix(discipline: &str) -> String {
    let mix = Mix::new();
    ScenarioBuilder::simulated(400_000.0, 2000.0, 20)
        .source("interactive", "station", mix.interactive, "priority = 5\nclass = \"query\"")
        .source("batch", "station", mix.batch, "class = { query = 0.25, report = 0.75 }")
        .node("station", 1, mix.query_mean, &format!("discipline = \"{discipline}\"\nservice_by_class = {{ report = {{ dist = \"erlang\", k = 2, mean = \"3s\" }} }}" ) )
        .toml()
}

/// The same sources and services under preemptive-resume priority, where a message's delay grows
/// with its own service.
///
/// A message of priority class k whose own service is S stays
/// T(S) = S/(1 − σ_{k−1}) + R_k/((1 − σ_{k−1})(1 − σ_k)), with R_k = Σ_{i≤k} λ_i E[S_i²]/2 the
/// residual work of its class and those above (preemptive-resume M/G/1). With the figures above:
/// R_1 = 0.075, R_2 = 1.1, σ_1 = 0.15, σ_2 = 0.625. A query of priority 5:
/// T = 0.5 + 0.075/0.85 = 0.588235 s; a query of priority 0: 0.5/0.85 + 1.1/0.31875 = 4.039216 s;
/// a report (priority 0): 3/0.85 + 3.450980 = 6.980392 s. So W(query) =
/// (0.3 · 0.588235 + 0.05 · 4.039216)/0.35 = 1.081232 s, W(report) = 6.980392 s; their waits
/// are W less their mean service, 0.5 and 3 s; the batch source's latency (a single node) is
/// 0.25 · 4.039216 + 0.75 · 6.980392 = 6.245098 s.
///
/// `analyze` gives the same, to 1e-9, each marked exact.
///
/// 5 CI checks: wait and sojourn of each message class (4), the batch source's latency (1).
#[test]
fn preemption_delays_each_class_by_its_own_service() {
    let Mix { interactive, batch, query_mean, report_mean, query_second, batch_mean, batch_second, .. } =
        Mix::new();
    let residual =
        [interactive * query_second / 2.0, (interactive * query_second + batch * batch_second) / 2.0];
    let sigma = [interactive * query_mean, interactive * query_mean + batch * batch_mean];
    let stay = |rank: usize, own: f64| {
        let above = if rank == 0 { 0.0 } else { sigma[rank - 1] };
        own / (1.0 - above) + residual[rank] / ((1.0 - above) * (1.0 - sigma[rank]))
    };
    let batch_queries = 0.25 * batch;
    let query_sojourn = (interactive * stay(0, query_mean) + batch_queries * stay(1, query_mean))
        / (interactive + batch_queries);
    let report_sojourn = stay(1, report_mean);
    let batch_latency = 0.25 * stay(1, query_mean) + 0.75 * report_sojourn;
    assert!((stay(0, query_mean) - 0.588_235).abs() < 1e-6 && (stay(1, query_mean) - 4.039_216).abs() < 1e-6);
    assert!((query_sojourn - 1.081_232).abs() < 1e-6 && (report_sojourn - 6.980_392).abs() < 1e-6);
    assert!((batch_latency - 6.245_098).abs() < 1e-6);
    // (class, wait, sojourn)
    let classes = [
        ("query", query_sojourn - query_mean, query_sojourn),
        ("report", report_sojourn - report_mean, report_sojourn),
    ];

    let toml = priority_mix("preemptive");
    let theory = Theory::of(&toml);
    for (class, wait, sojourn) in classes {
        let what = |metric: &str| format!("preemptive analyze {class} {metric}");
        let figure = |metric| theory.node_class("station", class, metric);
        assert_exact(&what("Wq"), figure(NodeClassMetric::MeanWait), wait);
        assert_exact(&what("W"), figure(NodeClassMetric::MeanSojourn), sojourn);
    }
    assert_exact(
        "preemptive analyze batch latency",
        theory.source("batch", SourceMetric::LatencyMean),
        batch_latency,
    );

    let experiment = simulate(&toml);
    for (class, wait, sojourn) in classes {
        let at_node = node_class(&experiment, "station", class);
        FAMILY.assert_mean(&format!("preemptive {class} Wq"), at_node.get(NodeClassMetric::MeanWait), wait);
        FAMILY.assert_mean(
            &format!("preemptive {class} W"),
            at_node.get(NodeClassMetric::MeanSojourn),
            sojourn,
        );
    }
    let batch_summary = experiment.summary.sources.iter().find(|s| s.name == "batch").expect("batch");
    FAMILY.assert_mean(
        "preemptive batch latency",
        batch_summary.get(SourceMetric::LatencyMean),
        batch_latency,
    );
}

/// A tandem of two FIFO workers where only the second serves per class.
///
/// Sources: "mixed", Poisson 0.5/s into front, class fast (0.6) or slow (0.4); "direct", Poisson
/// 0.1/s straight into back, class slow. front: exponential 1 s for every class, routing to
/// back; back: exponential 0.5 s, slow messages a deterministic 1.5 s; back routes to exit.
///
/// front is M/M/1 at ρ = 0.5: W_front = 1/(μ − λ) = 2 s for both classes (its service ignores
/// the class). By Burke's theorem its departures are Poisson at 0.5/s, and FIFO keeps the
/// classes, drawn independently of everything else, in order: merged with direct's independent
/// Poisson stream, back sees Poisson arrivals at λ = 0.6/s, of which fast 0.3/s, slow 0.2 + 0.1
/// = 0.3/s, each class independent of the arrival times and of back's state. back is then an
/// M/G/1 with the mixture 1/2 Exp(mean 0.5 s), 1/2 Det(1.5 s): E[S] = 1 s, ρ = 0.6,
/// E[S²] = (2 · 0.5² + 1.5²)/2 = 1.375 s², Wq = λE[S²]/(2(1 − ρ)) = 0.825/0.8 = 1.03125 s;
/// sojourn fast Wq + 0.5 = 1.53125 s, slow Wq + 1.5 = 2.53125 s.
///
/// A class's mean end-to-end latency is the sum over the nodes of its visits there times its
/// sojourn there: fast visits both, 2 + 1.53125 = 3.53125 s; of the slow messages, 2/3 pass
/// through front: 2/3 · 2 + 2.53125 = 3.864583 s. Throughputs: fast 0.3/s, slow 0.3/s. Per
/// source, mixed: 2 + Wq + 0.6 · 0.5 + 0.4 · 1.5 = 3.93125 s; direct: 2.53125 s.
///
/// `analyze` gives the same, to 1e-9, each marked exact (Jackson's M/M/1, then M/G/1 on a
/// Poisson input).
///
/// 8 CI checks: throughput and latency of each class end to end (4), the sojourn of each class
/// at back (2), the latency of each source (2).
#[test]
fn a_class_latency_adds_its_sojourns_along_a_tandem() {
    let (mixed, direct, fast_share): (f64, f64, f64) = (0.5, 0.1, 0.6);
    let front = 1.0 / (1.0 - mixed);
    let (fast, slow) = (mixed * fast_share, mixed * (1.0 - fast_share) + direct);
    let lambda = fast + slow;
    let (fast_mean, slow_mean): (f64, f64) = (0.5, 1.5);
    let mean = (fast * fast_mean + slow * slow_mean) / lambda;
    let second = (fast * 2.0 * fast_mean * fast_mean + slow * slow_mean * slow_mean) / lambda;
    let wait = lambda * second / (2.0 * (1.0 - lambda * mean));
    let back = [wait + fast_mean, wait + slow_mean];
    let through_front = mixed * (1.0 - fast_share) / slow;
    // (class, throughput, latency)
    let classes = [("fast", fast, front + back[0]), ("slow", slow, through_front * front + back[1])];
    let sources = [
        ("mixed", front + wait + fast_share * fast_mean + (1.0 - fast_share) * slow_mean),
        ("direct", back[1]),
    ];
    assert!((mean - 1.0).abs() < 1e-12 && (second - 1.375).abs() < 1e-12 && (wait - 1.031_25).abs() < 1e-12);
    assert!((classes[0].2 - 3.531_25).abs() < 1e-12 && (classes[1].2 - 3.864_583).abs() < 1e-6);
    assert!((sources[0].1 - 3.931_25).abs() < 1e-12, "{sources:?}");

    let toml = ScenarioBuilder::simulated(200_000.0, 2000.0, 20)
        .source("mixed", "front", mixed, "class = { fast = 0.6, slow = 0.4 }")
        .source("direct", "back", direct, "class = \"slow\"")
        .node("front", 1, 1.0, "routes = [{ to = \"back\" }]")
        .node(
            "back",
            1,
            fast_mean,
            "service_by_class = { slow = { dist = \"deterministic\", value = \"1.5s\" } }",
        )
        .toml();
    let theory = Theory::of(&toml);
    for (class, throughput, latency) in classes {
        let what = |metric: &str| format!("tandem analyze {class} {metric}");
        let figure = |metric| theory.class(class, metric);
        assert_exact(&what("throughput"), figure(MessageClassMetric::Throughput), throughput);
        assert_exact(&what("latency"), figure(MessageClassMetric::LatencyMean), latency);
    }
    for (class, sojourn) in [("fast", back[0]), ("slow", back[1])] {
        let figure = theory.node_class("back", class, NodeClassMetric::MeanSojourn);
        assert_exact(&format!("tandem analyze back {class} W"), figure, sojourn);
    }
    for (source, latency) in sources {
        let what = format!("tandem analyze {source} latency");
        assert_exact(&what, theory.source(source, SourceMetric::LatencyMean), latency);
    }

    // 2 events per message and node: 20 × 2.02e5 s × (0.5 × 4 + 0.1 × 2)/s = 8.9e6 events; the
    // 95% half-widths are about 0.4%.
    let experiment = simulate(&toml);
    for (class, throughput, latency) in classes {
        let what = |metric: &str| format!("tandem {class} {metric}");
        let end_to_end = named(&experiment.summary.message_classes, class);
        FAMILY.assert_mean(&what("throughput"), end_to_end.get(MessageClassMetric::Throughput), throughput);
        FAMILY.assert_mean(&what("latency"), end_to_end.get(MessageClassMetric::LatencyMean), latency);
    }
    for (class, sojourn) in [("fast", back[0]), ("slow", back[1])] {
        let estimate = node_class(&experiment, "back", class).get(NodeClassMetric::MeanSojourn);
        FAMILY.assert_mean(&format!("tandem back {class} W"), estimate, sojourn);
    }
    for (source, latency) in sources {
        let estimate = named(&experiment.summary.sources, source).get(SourceMetric::LatencyMean);
        FAMILY.assert_mean(&format!("tandem {source} latency"), estimate, latency);
    }
}

/// A network whose source "a" has `class_a` as extra fields: a (Poisson 0.4/s) and b (Poisson
/// 0.2/s, priority 1 or 0, 1/2 each) into front (one worker, priority discipline, exponential
/// 1 s), which sends 70% on to back (two workers, exponential 1.5 s, capacity 3, drop-tail) and
/// the rest to exit.
fn crn_network(class_a: &str) -> String {
    ScenarioBuilder::simulated(20_000.0, 500.0, 4)
        .source("a", "front", 0.4, &format!("priority = {{ \"1\" = 0.3, \"0\" = 0.7 }}\n{class_a}"))
        .source("b", "front", 0.2, "priority = { \"1\" = 0.5, \"0\" = 0.5 }")
        .node(
            "front",
            1,
            1.0,
            "discipline = \"priority\"\nroutes = [{ to = \"back\", p = 0.7 }, { to = \"exit\", p = 0.3 }]",
        )
        .node("back", 2, 1.5, "capacity = 3\noverflow = \"drop-tail\"")
        .toml()
}

/// An estimate as bits: the mean, the 95% interval's ends, the number of replications.
type EstimateBits = Option<(u64, Option<[u64; 2]>, usize)>;

/// The bits of every estimate of a summary, for a bit-for-bit comparison (`==` on floats would
/// let −0 equal 0).
fn bits<M: Metric>(summary: &EntitySummary<M>) -> Vec<(&'static str, EstimateBits)> {
    summary
        .estimates
        .iter()
        .map(|(metric, estimate)| {
            let bits = estimate.map(|e| {
                (e.mean.to_bits(), e.ci95.map(|[low, high]| [low.to_bits(), high.to_bits()]), e.samples)
            });
            (metric.key(), bits)
        })
        .collect()
}

/// Common random numbers: classes change no draw but their own.
///
/// A source draws its messages' classes from a stream of their own, apart from its other headers
/// (key, priority, size); service times come from each node's service stream, routing from each
/// node's routing stream. Giving source a a class mix (a or b, 1/2 each) adds draws to a's class
/// stream only; a also draws a priority per message, which must not shift, and with no
/// `service_by_class` anywhere every class is served by the node's `service`, so every arrival,
/// priority, service time and route is the same: every node estimate (and the priority classes', and the sources') is bit-for-bit the
/// run's without `class`, and so is every replication's count. The classed run reports its three
/// classes (a, b, and default for source b) at each node and end to end; the plain one, with the
/// single class default, none.
#[test]
fn a_class_mix_without_class_service_changes_no_other_draw() {
    let plain = simulate(&crn_network(""));
    let classed = simulate(&crn_network("class = { a = 0.5, b = 0.5 }"));
    assert_eq!((plain.summary.nodes.len(), classed.summary.nodes.len()), (2, 2));
    for (without, with) in plain.summary.nodes.iter().zip(&classed.summary.nodes) {
        assert_eq!(bits(without), bits(with), "node {}", with.name);
    }
    for (without, with) in
        plain.summary.node_priority_classes.iter().zip(&classed.summary.node_priority_classes)
    {
        assert_eq!(without.len(), with.len());
        for (without, with) in without.iter().zip(with) {
            assert_eq!(bits(without), bits(with), "priority class {}", with.name);
        }
    }
    for (without, with) in plain.summary.sources.iter().zip(&classed.summary.sources) {
        assert_eq!(bits(without), bits(with), "source {}", with.name);
    }
    for (without, with) in plain.replications.iter().zip(&classed.replications) {
        let context = format!("replication {}", with.index);
        assert_eq!(without.events, with.events, "{context}");
        for (node, (without, with)) in without.nodes.iter().zip(&with.nodes).enumerate() {
            assert_eq!(without.counts, with.counts, "{context} node {node}");
            assert!(with.counts.departures > 0, "{context} node {node}");
        }
    }
    assert_eq!(classed.summary.nodes[1].get(NodeMetric::DropProbability).map(|e| e.mean > 0.0), Some(true));

    assert!(plain.summary.message_classes.is_empty());
    assert!(plain.summary.node_message_classes.iter().all(Vec::is_empty));
    let names: Vec<&str> = classed.summary.message_classes.iter().map(|class| class.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "default"]);
    for class in &classed.summary.message_classes {
        let delivered = class.get(MessageClassMetric::Throughput).map(|estimate| estimate.mean);
        assert!(delivered.is_some_and(|rate| rate > 0.0), "class {}: {delivered:?}", class.name);
    }
    for per_node in &classed.summary.node_message_classes {
        let names: Vec<&str> = per_node.iter().map(|class| class.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "default"]);
    }
}

/// The summary.json of a `kendall run` of `contents` (which must succeed), and the file's text.
fn run_summary(contents: &str) -> (SummaryFile, String, String) {
    let dir = temp();
    let path = write_scenario(&dir, "classes.toml", contents);
    let out = dir.path().join("out");
    let output = run(&path, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let text = fs::read_to_string(out.join("summary.json")).expect("summary.json is written");
    let summary = serde_json::from_str(&text).expect("summary.json parses as SummaryFile");
    let csv = fs::read_to_string(out.join("summary.csv")).expect("summary.csv is written");
    (summary, text, csv)
}

/// The keys of a metric family, in report order.
fn keys<M: Metric>() -> Vec<&'static str> {
    M::ALL.iter().map(|metric| metric.key()).collect()
}

/// `kendall run` writes each node's message classes and the network's classes into summary.json
/// (every metric key with a mean, and theory beside it) and summary.csv; a network of one class
/// writes neither field. The theory is the FIFO mix's (see
/// [`fifo_classes_share_the_pollaczek_khinchine_wait`]): every class waits Wq = 3.277778 s, large
/// messages sojourn Wq + 2 s, small ones Wq + 0.5 s.
#[test]
fn run_writes_message_classes_into_summary_json() {
    let wait = fifo_mix_wait();
    let (summary, _, csv) = run_summary(&fifo_mix(ScenarioBuilder::simulated(2000.0, 200.0, 3)));
    let station = &summary.nodes[0];
    let names: Vec<&str> = station.message_classes.iter().map(|class| class.name.as_str()).collect();
    assert_eq!(names, ["large", "small"]);
    for (class, service) in station.message_classes.iter().zip([2.0, 0.5]) {
        let found: Vec<&str> = class.metrics.keys().map(String::as_str).collect();
        let mut expected = keys::<NodeClassMetric>();
        expected.sort_unstable();
        assert_eq!(found, expected, "class {}", class.name);
        for (key, entry) in &class.metrics {
            assert!(entry.mean.is_some() && entry.ci95.is_some(), "class {} {key}: {entry:?}", class.name);
        }
        let what = format!("summary.json {} at the node", class.name);
        assert_exact(&format!("{what} mean_wait"), class.analytic.get("mean_wait"), wait);
        assert_exact(&format!("{what} mean_sojourn"), class.analytic.get("mean_sojourn"), wait + service);
    }
    let names: Vec<&str> = summary.classes.iter().map(|class| class.name.as_str()).collect();
    assert_eq!(names, ["large", "small"]);
    for (class, service) in summary.classes.iter().zip([2.0, 0.5]) {
        let found: Vec<&str> = class.metrics.keys().map(String::as_str).collect();
        let mut expected = keys::<MessageClassMetric>();
        expected.sort_unstable();
        assert_eq!(found, expected, "class {}", class.name);
        for (key, entry) in &class.metrics {
            assert!(entry.mean.is_some() && entry.ci95.is_some(), "class {} {key}: {entry:?}", class.name);
        }
        let what = format!("summary.json {} latency_mean", class.name);
        assert_exact(&what, class.analytic.get("latency_mean"), wait + service);
    }
    for row in [
        "node_class,station/large,mean_wait,",
        "node_class,station/small,mean_sojourn,",
        "class,small,latency_mean,",
    ] {
        assert!(csv.lines().any(|line| line.starts_with(row)), "summary.csv lacks {row:?}: {csv}");
    }

    let one_class = ScenarioBuilder::simulated(2000.0, 200.0, 3)
        .source("orders", "station", 0.3, "")
        .node("station", 1, 0.5, "")
        .toml();
    let (summary, text, csv) = run_summary(&one_class);
    assert!(summary.classes.is_empty() && summary.nodes[0].message_classes.is_empty());
    let json: serde_json::Value = serde_json::from_str(&text).expect("summary.json is JSON");
    assert!(json.get("classes").is_none(), "one class: no top-level classes");
    assert!(json["nodes"][0].get("message_classes").is_none(), "one class: no message_classes");
    assert!(!csv.contains("node_class,") && !csv.contains("\nclass,"), "{csv}");
}

/// `kendall check` lists each source's classes with their probabilities and each node's
/// per-class service; with one class, it says nothing of classes.
#[test]
fn check_describes_message_classes() {
    let dir = temp();
    let path = write_scenario(&dir, "classes.toml", &fifo_mix(ScenarioBuilder::new()));
    let output = kendall().arg("check").arg(&path).output().expect("kendall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let orders = stdout.lines().skip_while(|line| !line.starts_with("source orders")).nth(1);
    assert_eq!(orders, Some("  message classes: 'large' (p 0.5), 'small' (p 0.5)"), "{stdout}");
    let audits = stdout.lines().skip_while(|line| !line.starts_with("source audits")).nth(1);
    assert_eq!(audits, Some("  message classes: 'large' (p 1)"), "{stdout}");
    let station = stdout.lines().skip_while(|line| !line.starts_with("node station")).nth(1);
    assert!(
        station.is_some_and(|line| line.starts_with("  class 'large' service deterministic")),
        "{stdout}"
    );
    assert!(!stdout.contains("class 'small' service"), "{stdout}");

    let path = write_scenario(
        &dir,
        "one.toml",
        &ScenarioBuilder::new().source("s", "q", 0.5, "").node("q", 1, 1.0, "").toml(),
    );
    let output = kendall().arg("check").arg(&path).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("class"));
}

/// `service_by_class` naming a class that no source draws: named with its position and the
/// classes the sources do draw.
#[test]
fn service_for_an_unknown_class_is_rejected() {
    let text = r#"[[source]]
name = "s"
to = "api"
interarrival = { dist = "exponential", rate = 0.5 }
class = { small = 0.5, large = 0.5 }

[[node]]
name = "api"
service = { dist = "exponential", mean = "1s" }
service_by_class = { x = { dist = "deterministic", value = "1s" } }
"#;
    assert_rejected(
        "unknown_class.toml",
        text,
        &[
            "unknown_class.toml:10:",
            "node 'api' field 'service_by_class': unknown class 'x' (the sources' classes: large, small)",
        ],
    );
}

/// A `class` that is neither a class name nor a table of probabilities summing to 1.
#[test]
fn a_bad_class_field_is_rejected() {
    let message = "source 's' field 'class': expected a class name or a table";
    for (name, class) in [
        ("sum.toml", "{ small = 0.5, large = 0.3 }"),
        ("above_one.toml", "{ small = 1.5, large = -0.5 }"),
        ("number.toml", "7"),
        ("empty.toml", "\"\""),
        ("array.toml", "[\"small\", \"large\"]"),
    ] {
        let text = ScenarioBuilder::new()
            .source("s", "api", 0.5, &format!("class = {class}"))
            .node("api", 1, 1.0, "")
            .toml();
        assert_rejected(name, &text, &[&format!("{name}:5:"), message]);
    }
}
