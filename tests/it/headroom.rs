//! Stability, bottleneck and headroom in `analyze`: how far the load can grow, which node
//! saturates first, and, past saturation, how fast a queue grows and when it fills; by hand,
//! and at the edges (rho exactly 1, only infinitely many servers, only finite queues, rates
//! of 1e-12 and 1e12), where the command line must agree with the library and print no NaN.
//!
//! Reference values are compared with the library's to 1e-12 relative (rounding only) unless a
//! comment derives another tolerance.

use kendall::analytic::Verdict;
use kendall::analytic::analyze;
use kendall::stats::{NodeMetric, SourceMetric};

use crate::support::{
    ScenarioBuilder, analysis, analyze_checked, assert_close, figure, figure_value, node, one_node, scenario,
};

/// A tandem with a second source, by hand. s1 (3/s) → x (4 servers of mean 0.5 s, c mu = 8/s),
/// which sends half to y (1 server of mean 0.1 s, mu = 10/s) and lets half exit; s2 (1/s) → y
/// directly. lambda_x = 3, lambda_y = 1 + 1.5 = 2.5: rho_x = 0.375, rho_y = 0.25, so x is the
/// bottleneck although y gets less work per message. Scaling every source by h: x saturates at
/// 3h = 8, y at 2.5h = 10, so the headroom is 8/3 and the maximum throughput 8/3 × 4 = 32/3
/// messages/s entering the system.
///
/// Then y alone gets slower (mean 0.35 s, rho_y = 0.875): y becomes the bottleneck and saturates
/// first, at 2.5h = 1/0.35, h = 8/7, max throughput 32/7.
#[test]
fn headroom_max_throughput_and_bottleneck_of_a_tandem_by_hand() {
    let tandem = |mean_y: f64| {
        ScenarioBuilder::new()
            .source("s1", "x", 3.0, "")
            .source("s2", "y", 1.0, "")
            .node("x", 4, 0.5, "routes = [{ to = \"y\", p = 0.5 }, { to = \"exit\", p = 0.5 }]")
            .node("y", 1, mean_y, "")
            .toml()
    };
    let fast = analysis(&tandem(0.1));
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

    let slow = analysis(&tandem(0.35));
    assert_close("rho_y", node(&slow, "y").utilization, 0.875);
    assert_eq!(slow.system.bottleneck.as_deref(), Some("y"));
    let headroom = slow.system.headroom.expect("a headroom");
    assert!((headroom - 8.0 / 7.0).abs() <= 1e-12, "{headroom}");
    let max = slow.system.max_throughput.expect("a maximum throughput");
    assert!((max - 32.0 / 7.0).abs() <= 1e-11, "{max}");
}

/// An overloaded node, by hand: 5 messages/s into 2 servers of mean 0.5 s (c mu = 4/s). Its queue
/// grows by lambda − c mu = 1 message/s, so it holds 10^6 (the default N) after 10^6 s, and N =
/// 500 after 500 s. Downstream, one server of mean 0.2 s receives only the 4/s the overloaded
/// node passes (demand 5/s): rho = 0.8, stable. The system is unstable, the overloaded node is
/// the bottleneck (rho 1.25), and the headroom is 4/5: the load must shrink by a fifth.
///
/// A bounded node fills to its capacity instead of N: M/M/1/10 offered 3/s with mu = 1 grows by
/// 2/s and is full after 10/2 = 5 s, whatever N.
#[test]
fn growth_rate_and_time_to_fill_of_an_overloaded_node_by_hand() {
    let toml = ScenarioBuilder::new()
        .source("s", "front", 5.0, "")
        .node("front", 2, 0.5, "routes = [{ to = \"back\" }]")
        .node("back", 1, 0.2, "")
        .toml();
    let network = scenario(&toml);
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
        &ScenarioBuilder::new().source("s", "buffer", 3.0, "").node("buffer", 1, 1.0, "capacity = 10").toml(),
    );
    for fill in [None, Some(500.0)] {
        let analysis = analyze(&bounded, fill).expect("solvable");
        let buffer = &analysis.nodes[0];
        assert_eq!((buffer.stable, buffer.verdict), (false, Verdict::Saturated));
        // It fills at λ − cμ = 2/s, then holds steady and drops: no lasting growth.
        assert_close("growth", buffer.growth_rate, 0.0);
        assert_close("N", buffer.fill_target, 10.0);
        assert_close("time to full", buffer.time_to_fill.expect("a time to fill"), 5.0);
        // A finite queue is always stable as a whole: it drops instead of growing.
        assert!(analysis.system.stable);
    }
}

/// rho exactly 1 on an unbounded queue (lambda = c mu, both exact in binary). Decision: the
/// node is unstable. The queue is null recurrent: it empties again and again but has no
/// stationary distribution and its mean length grows like √t, so there is no steady-state
/// figure (null, with the reason). Its fluid drift lambda − c mu is exactly 0, so the growth
/// rate is 0 (growth is sublinear) and the fluid model never reaches N: no time to fill. The
/// system is unstable; no growth at all is possible, so the headroom is exactly 1 and the
/// maximum throughput is today's rate. `kendall` warns.
///
/// A bounded queue at rho = 1 is a different matter: it has a steady state, M/M/2/5 with
/// a = c = 2: p_n ∝ 1, 2, 2, 2, 2, 2, so it drops p_5 = 2/11 and holds L = 30/11.
#[test]
fn rho_exactly_one() {
    for (case, rate, node) in [
        ("rho1_mm1", 1.0, r#"service = { dist = "exponential", mean = "1s" }"#),
        ("rho1_mm4", 2.0, "servers = 4\nservice = { dist = \"exponential\", mean = \"2s\" }"),
    ] {
        let (analysis, stderr) = analyze_checked(case, &one_node(rate, node));
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
            stderr.contains("warning: node 'n' is unstable") && stderr.contains("rho = 1.000"),
            "{stderr}"
        );
    }
    let (analysis, _) = analyze_checked(
        "rho1_bounded",
        &one_node(1.0, "servers = 2\ncapacity = 5\nservice = { dist = \"exponential\", mean = \"2s\" }"),
    );
    let n = &analysis.nodes[0];
    assert_eq!((n.stable, n.verdict), (false, Verdict::Saturated));
    assert_eq!(n.growth_rate, 0.0);
    assert_close("p_5", figure_value(n, NodeMetric::DropProbability), 2.0 / 11.0);
    assert_close("L", figure_value(n, NodeMetric::MeanInSystem), 30.0 / 11.0);
    assert!(analysis.system.stable);
}

/// Only infinitely many servers: nobody ever waits, so no load saturates a queue and there is no
/// headroom (null, with headroom_reason). 1e6 arrivals/s, each held an exponential hour: M/M/∞,
/// L = lambda E[S] = 3.6e9 in flight, W = 3600 s, the sojourn p99 is the service time's,
/// ln(100) × 3600 s, and the utilisation of infinitely many servers is undefined (null, with a
/// reason).
#[test]
fn infinite_servers_never_saturate() {
    let delay = "servers = \"infinite\"\nservice = { dist = \"exponential\", mean = \"1h\" }";
    let (analysis, _) = analyze_checked("delay", &one_node(1e6, delay));
    let n = &analysis.nodes[0];
    assert_eq!(n.model, "M/M/∞");
    assert!(n.stable);
    assert_close("L", figure_value(n, NodeMetric::MeanInSystem), 3.6e9);
    assert_close("W", figure_value(n, NodeMetric::MeanSojourn), 3600.0);
    assert_eq!(figure_value(n, NodeMetric::WaitP99), 0.0);
    assert_close("sojourn p99", figure_value(n, NodeMetric::SojournP99), 100f64.ln() * 3600.0);
    assert!(figure(n, NodeMetric::SojournP99).exact);
    assert_eq!(figure(n, NodeMetric::Utilization).value, None);
    let system = &analysis.system;
    assert!(system.stable);
    assert_eq!((system.headroom, system.max_throughput), (None, None));
    assert!(system.headroom_reason.is_some());
}

/// Only finite queues: no queue can grow, overload drops instead, so there is no headroom
/// (null, with headroom_reason) and no maximum throughput. M/M/2/4 offered 3/s drops 81/203 (see
/// [`crate::erlang::mmck_blocking_by_hand`]) and passes 366/203 per second to an M/M/1/3.
#[test]
fn a_network_of_finite_channels_has_no_headroom() {
    let toml = ScenarioBuilder::new()
        .source("s", "a", 3.0, "")
        .node("a", 2, 1.0, "capacity = 4\nroutes = [{ to = \"b\" }]")
        .node("b", 1, 1.0, "capacity = 3")
        .toml();
    let (analysis, _) = analyze_checked("finite", &toml);
    let system = &analysis.system;
    assert_eq!(system.headroom, None);
    assert_eq!(system.max_throughput, None);
    assert!(system.headroom_reason.as_deref().is_some_and(|r| r.contains("finite")), "{system:?}");
    assert!(system.stable);
    assert_close("b's arrivals", node(&analysis, "b").arrival_rate, 366.0 / 203.0);
    // b's input (what a lets through) is not Poisson: no exact figure for its drops.
    assert!(!figure(node(&analysis, "b"), NodeMetric::DropProbability).exact);
}

/// A nearly idle M/M/1: lambda = 1e-12, mu = 1. W = 1/(1 − 1e-12) ≈ 1 s, L = rho/(1 − rho) ≈
/// 1e-12, nobody waits at the percentiles; the load could grow 1e12-fold, to 1 message/s.
#[test]
fn a_tiny_arrival_rate() {
    let (analysis, _) =
        analyze_checked("tiny", &one_node(1e-12, "service = { dist = \"exponential\", mean = \"1s\" }"));
    let n = &analysis.nodes[0];
    assert_close("W", figure_value(n, NodeMetric::MeanSojourn), 1.0 / (1.0 - 1e-12));
    assert_close("L", figure_value(n, NodeMetric::MeanInSystem), 1e-12 / (1.0 - 1e-12));
    assert_eq!(figure_value(n, NodeMetric::WaitP99), 0.0);
    assert_close("sojourn p50", figure_value(n, NodeMetric::SojournP50), 2f64.ln() / (1.0 - 1e-12));
    let headroom = analysis.system.headroom.expect("a headroom");
    assert!((headroom - 1e12).abs() <= 1e-3, "{headroom}");
    let max = analysis.system.max_throughput.expect("a maximum throughput");
    assert!((max - 1.0).abs() <= 1e-12, "{max}");
}

/// Rates of 1e12 per second. 1e12 arrivals/s into 1000 servers of rate 1e12 (rho = 0.001):
/// W = 1e-12 s, L = a = 1; the sojourn p99 is that of the service time, ln(100) × 1e-12 s (within
/// 1e-6: the wait is negligible). The same arrivals into one server of mean 1 s: the queue grows
/// by 1e12 − 1 per second and holds 10^6 after about 1e-6 s. And a server of rate 1e12 behind a
/// source of 1/s: rho = 1e-12.
#[test]
fn huge_rates() {
    let fast = "servers = 1000\nservice = { dist = \"exponential\", rate = 1e12 }";
    let (analysis, _) = analyze_checked("huge_fast", &one_node(1e12, fast));
    let n = &analysis.nodes[0];
    assert_close("rho", n.utilization, 1e-3);
    assert!((figure_value(n, NodeMetric::MeanSojourn) - 1e-12).abs() <= 1e-24);
    assert!((figure_value(n, NodeMetric::MeanInSystem) - 1.0).abs() <= 1e-12);
    let p99 = figure_value(n, NodeMetric::SojournP99);
    assert!((p99 - 100f64.ln() * 1e-12).abs() <= 1e-6 * p99, "{p99}");

    let (analysis, _) = analyze_checked(
        "huge_overload",
        &one_node(1e12, "service = { dist = \"exponential\", mean = \"1s\" }"),
    );
    let n = &analysis.nodes[0];
    assert_close("growth", n.growth_rate, 1e12 - 1.0);
    assert_close("time to fill", n.time_to_fill.expect("a time to fill"), 1e6 / (1e12 - 1.0));

    let (analysis, _) =
        analyze_checked("huge_service", &one_node(1.0, "service = { dist = \"exponential\", rate = 1e12 }"));
    let n = &analysis.nodes[0];
    assert_close("rho", n.utilization, 1e-12);
    assert!(n.stable);
}
