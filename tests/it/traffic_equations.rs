//! The traffic equations in `analyze`: arrival rates through feedback, through an overloaded
//! node (whose output is its capacity), around a loop that rarely exits, and with route
//! probabilities summing to 1 only within the validation's tolerance.
//!
//! Reference values are compared with the library's to 1e-12 relative (rounding only) unless a
//! comment derives another tolerance.

use kendall::analytic::Verdict;
use kendall::stats::SourceMetric;

use crate::support::{
    ScenarioBuilder, analysis, analyze_checked, assert_close, node, one_node, source_value,
};

/// An open Jackson network with two feedback loops (a → b → a and a → c → b → a), solved by hand
/// in [`traffic_equations_of_a_feedback_network`]: lambda = (1, 0.6, 0.5), rho = (0.75, 0.75, 0.7);
/// its tables follow `builder`'s.
pub fn feedback(mut builder: ScenarioBuilder) -> String {
    builder
        .source("clients", "a", 0.82, "")
        .node("a", 2, 1.5, "routes = [{ to = \"b\", p = 0.5 }, { to = \"c\", p = 0.5 }]")
        .node("b", 1, 1.25, "routes = [{ to = \"a\", p = 0.3 }, { to = \"exit\", p = 0.7 }]")
        .node("c", 1, 1.4, "routes = [{ to = \"b\", p = 0.2 }, { to = \"exit\", p = 0.8 }]")
        .toml()
}

/// [`feedback`] by hand: lambda_a = 0.82 + 0.3 lambda_b, lambda_c = 0.5 lambda_a,
/// lambda_b = 0.5 lambda_a + 0.2 lambda_c = 0.6 lambda_a, so lambda_a (1 − 0.18) = 0.82:
/// lambda = (1, 0.6, 0.5); rho_a = 1 × 1.5/2 = 0.75, rho_b = 0.6 × 1.25 = 0.75,
/// rho_c = 0.5 × 1.4 = 0.7. A message makes 1/0.82 = 1.219512 visits to a on average, and the
/// end-to-end latency is Σ L / gamma = 10.685250 s (see
/// [`crate::exact_figures::jackson_exact_figures_match_the_simulator`]).
#[test]
fn traffic_equations_of_a_feedback_network() {
    let analysis = analysis(&feedback(ScenarioBuilder::new()));
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
    let (analysis, _) = analyze_checked("loop", &rare_exit_loop());
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
    let routes =
        format!("routes = [{{ to = \"a\", p = {:.17} }}, {{ to = \"exit\", p = {exit:e} }}]", 1.0 - exit);
    ScenarioBuilder::new()
        .source("s", "a", 1.0, "")
        .node_with("a", &format!("service = {{ dist = \"exponential\", mean = \"1us\" }}\n{routes}"))
        .toml()
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
    let (analysis, _) = analyze_checked(
        "overloaded_feedback",
        &one_node(
            0.5,
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

    let (analysis, _) = analyze_checked("loop", &rare_exit_loop());
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
    let toml = ScenarioBuilder::new()
        .source("s", "a", 1e-12, "")
        .node_with(
            "a",
            "service = { dist = \"exponential\", mean = \"1ns\" }\nroutes = [{ to = \"a\", p = 0.9999999999 }, { to = \"exit\", p = 1e-9 }]",
        )
        .toml();
    let (analysis, _) = analyze_checked("loop_tolerance", &toml);
    let throughput = source_value(&analysis, SourceMetric::Throughput);
    // A message visits a about 1e10 times, so the traffic equations' matrix has a condition
    // number near 1e10: solving it in f64 (machine epsilon 2.2e-16) can lose up to
    // 1e10 × 2.2e-16 ≈ 2.2e-6 of relative precision. Allow 1e-5.
    assert!((throughput - 1e-12).abs() <= 1e-5 * 1e-12, "throughput {throughput}");
    assert_close("delivered", source_value(&analysis, SourceMetric::DeliveredFraction), 1.0);
    assert_close("delivered to all", source_value(&analysis, SourceMetric::AllDeliveredFraction), 1.0);
}
