//! Size-dependent service: a service time that grows with the message's size, against
//! Pollaczek-Khinchine.
//!
//! # Tolerances
//! One Bonferroni family with the other feature tests, [`FEATURES`] (see
//! [`Family`](crate::support::Family)): every simulated mean is compared with theory through an
//! interval over its 42 checks; every 95% half-width must also be at most 2% of the theory value,
//! so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere, never re-seeded to
//! pass.
//! Figures the library computes without simulating (`analyze`) are compared with ours to
//! [`EXACT`](crate::support::EXACT) relative: rounding only.

use kendall::stats::NodeMetric;

use crate::support::{EXACT, FEATURES, ScenarioBuilder, analysis, named, node_figure, simulate};

/// Size-dependent service: B = 0.5 s + 0.5 ms per byte, with message sizes Exp(mean 1000 bytes),
/// so E[B] = 0.5 + 0.0005 × 1000 = 1 s and Var(B) = 0.0005² × 1000² = 0.25 s², SCV 0.25. With
/// Poisson arrivals at 0.5/s (ρ = 0.5) Pollaczek-Khinchine gives
/// Wq = ρ E[B] (1 + SCV)/(2(1 − ρ)) = 0.5 × 1 × 1.25/1 = 0.625 s and W = 1.625 s; `analyze`
/// stands the service by one with the same two moments, which is all P-K uses.
///
/// 2 CI checks: Wq and W.
#[test]
fn service_grows_with_the_message_size() {
    let toml = ScenarioBuilder::simulated(100_000.0, 10_000.0, 20)
        .source("s", "q", 0.5, "size = { dist = \"exponential\", mean = 1000 }")
        .node_with("q", "service = { dist = \"deterministic\", value = \"0.5s\" }\nper_byte = \"0.5ms\"")
        .toml();
    let (wait, sojourn) = (0.625, 1.625);
    let analysis = analysis(&toml);
    let analytic_wait = node_figure(&analysis, "q", NodeMetric::MeanWait).expect("a P-K figure");
    assert!((analytic_wait - wait).abs() <= EXACT * wait, "analyze: {analytic_wait}");
    let experiment = simulate(&toml);
    let q = named(&experiment.summary.nodes, "q");
    FEATURES.assert_agrees("size-dependent service Wq", q.get(NodeMetric::MeanWait), wait, 0.0);
    FEATURES.assert_agrees("size-dependent service W", q.get(NodeMetric::MeanSojourn), sojourn, 0.0);
}
