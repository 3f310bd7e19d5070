//! Closed request-reply populations: a closed product-form network against exact mean value
//! analysis.
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
    FEATURES, ScenarioBuilder, analysis, assert_analyzed, node_figure, simulate, source_figure,
};

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

    let clients = format!(
        "[[source]]\nname = \"clients\"\nto = \"cpu\"\npopulation = {population}\nthink = {{ dist = \"exponential\", mean = \"{think}s\" }}\n\n"
    );
    let toml = ScenarioBuilder::simulated(50_000.0, 500.0, 20)
        .text(&clients)
        .node("cpu", 1, demands[0], "routes = [{ to = \"disk\" }]")
        .node("disk", 1, demands[1], "")
        .toml();
    let theory = analysis(&toml);
    assert_analyzed("MVA analyze throughput", source_figure(&theory, SourceMetric::Throughput), throughput);
    assert_analyzed("MVA analyze response time", source_figure(&theory, SourceMetric::LatencyMean), response);
    assert_analyzed("MVA analyze Q cpu", node_figure(&theory, "cpu", NodeMetric::MeanInSystem), queues[0]);
    assert_analyzed("MVA analyze Q disk", node_figure(&theory, "disk", NodeMetric::MeanInSystem), queues[1]);

    // 3 X events per simulated second: 20 × 5.05e4 s × 3.5 = 3.5e6 events.
    let experiment = simulate(&toml);
    let clients = &experiment.summary.sources[0];
    FEATURES.assert_mean("MVA N=3 throughput", clients.get(SourceMetric::Throughput), throughput);
    FEATURES.assert_mean("MVA N=3 response time", clients.get(SourceMetric::LatencyMean), response);
    FEATURES.assert_mean(
        "MVA N=3 Q cpu",
        experiment.summary.nodes[0].get(NodeMetric::MeanInSystem),
        queues[0],
    );
    FEATURES.assert_mean(
        "MVA N=3 Q disk",
        experiment.summary.nodes[1].get(NodeMetric::MeanInSystem),
        queues[1],
    );
}
