//! Analysis figures with no textbook closed form, checked against the simulator: a blocking
//! queue fed by a node loses nothing, one fed otherwise than by nodes alone or one Poisson
//! source (a source beside nodes, several sources, a non-Poisson source, non-exponential
//! service) has bounds, not a figure, a work-conserving balancer over unequal servers is
//! stable up to their pooled capacity, and power-of-two over more than two unequal servers is
//! stable exactly when every set of servers keeps up with the pairs it is drawn alone (issue 12,
//! "analysis that an independent simulator contradicts").
//!
//! # Tolerances
//! One Bonferroni family, [`CROSSCHECK`]: 23 interval checks (see
//! [`Family`](crate::support::Family)). A zero growth rate cannot be checked through
//! [`Family::assert_mean`] (which demands a zero half-width for a zero theory value), so
//! [`assert_no_growth`] asks for 0 inside the same Bonferroni interval and for a half-width
//! far below the growth of the unstable even split. Seed 1 everywhere, never re-seeded to pass.

use kendall::analytic::Verdict;
use kendall::experiment::Experiment;
use kendall::report::{AnalysisFile, render_analysis};
use kendall::stats::{Estimate, NodeMetric, SourceMetric};

use crate::support::{
    Family, ScenarioBuilder, analysis, figure, figure_value, named, node, node_figure, scenario, simulate,
    value,
};

/// 23 checks: the tandem's two throughputs; per state-dependent balancer (three of them), the
/// pool's throughput and its growth rate; the random split's growth rate; power-of-two over
/// three unequal servers, stable: the pool's throughput and growth; unstable: the fast
/// server's throughput, the slow pair's throughput and growth; a blocking queue fed by a source
/// and a node: its throughput within its bounds, the node-fed source's throughput; two sources
/// into a blocking queue: its throughput within its bounds; a deterministic source, and
/// deterministic service, into a blocking queue: each throughput within its bounds (see
/// [`assert_within`]); a sender held by a blocking queue past its saturation: the queue's
/// throughput and the sender's growth; two senders held by one blocking queue: their growth
/// above 0. Each 95% half-width must be at most 5% of the theory
/// value (a growth rate's, 0.15/s, is about 3% over 20 replications of 20 000 s).
const CROSSCHECK: Family = Family { checks: 23, error: 0.05, precision: 0.05 };

/// Per replication, the sum over every node of `metric`.
fn pooled(experiment: &Experiment, metric: NodeMetric) -> Estimate {
    let values: Vec<f64> = experiment
        .replications
        .iter()
        .map(|replication| replication.nodes.iter().map(|node| value(&node.metrics, metric)).sum())
        .collect();
    Estimate::from_values(&values).expect("replications")
}

/// Asserts that 0 lies in the Bonferroni interval of a growth rate (messages per second), and
/// that the 95% half-width is below `resolution`: a queue growing at `resolution` or more would
/// be told apart.
fn assert_no_growth(what: &str, estimate: &Estimate, resolution: f64) {
    let freedom = f64::from(u32::try_from(estimate.samples).expect("few replications")) - 1.0;
    let allowed = CROSSCHECK.stretch(freedom) * estimate.half_width();
    println!(
        "{what}: simulated {:.6}/s, 95% half-width {:.6}, allowed ±{allowed:.6}",
        estimate.mean,
        estimate.half_width()
    );
    assert!(estimate.half_width() < resolution, "{what}: {estimate:?} cannot resolve {resolution}/s");
    assert!(estimate.mean.abs() <= allowed, "{what}: the queue grows: {estimate:?}");
}

/// Asserts that the Bonferroni interval of `estimate` meets the bounds [`low`, `high`] that
/// `analyze` states in place of a figure, and that its 95% half-width is at most the family's
/// precision of `high`. With the truth inside the bounds, the interval misses them below or
/// above with at most the probability of one check.
fn assert_within(what: &str, estimate: Option<Estimate>, low: f64, high: f64) {
    let estimate = estimate.unwrap_or_else(|| panic!("{what}: no estimate"));
    let freedom = f64::from(u32::try_from(estimate.samples).expect("few replications")) - 1.0;
    let allowed = CROSSCHECK.stretch(freedom) * estimate.half_width();
    println!(
        "{what}: bounds [{low:.6}, {high:.6}], simulated {:.6}, 95% half-width {:.6}, allowed ±{allowed:.6}",
        estimate.mean,
        estimate.half_width()
    );
    assert!(estimate.half_width() <= CROSSCHECK.precision * high, "{what}: {estimate:?}: runs too short");
    assert!(
        estimate.mean + allowed >= low && estimate.mean - allowed <= high,
        "{what}: {estimate:?} is outside [{low}, {high}]"
    );
}

/// Asserts that `analyze` withholds `metric` at `name`, with a reason saying "no closed form"
/// and containing `says`.
fn assert_withheld(theory: &kendall::analytic::Analysis, name: &str, metric: NodeMetric, says: &str) {
    let withheld = figure(node(theory, name), metric);
    assert!(withheld.value.is_none(), "{name} {metric:?}: {withheld:?}");
    let reason = withheld.reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("no closed form: ") && reason.contains(says), "{name} {metric:?}: {reason}");
}

/// Asserts that `analyze` withholds `metric` of source `name`, saying "no closed form".
fn assert_source_withheld(theory: &kendall::analytic::Analysis, name: &str, metric: SourceMetric) {
    let source = theory.sources.iter().find(|s| s.name == name).expect("a source");
    let withheld = source.metric(metric).expect("a figure");
    assert!(withheld.value.is_none(), "{name} {metric:?}: {withheld:?}");
    let reason = withheld.reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("no closed form: "), "{name} {metric:?}: {reason}");
}

/// A tandem: 0.6/s into s1 (M/M/1, μ = 1/s, unbounded), which routes to s2 (μ = 1/s, capacity
/// 2, `overflow = "block"`).
///
/// s1 holds a served message while s2 is full and never drops one, so nothing is lost: s2's
/// throughput is the 0.6/s offered (not the 1 − p₃ = 0.5404/s of an M/M/1/3 that stops its
/// Poisson source). Saturated, the pair carries 3/4 per second (s2's states 0, 1, 2 and "2
/// with s1 held", equally likely), above 0.6/s, so the tandem is stable. `analyze` says 0.6/s,
/// a drop probability 0, and withholds the headroom (no closed form; at most 1/0.6).
///
/// 2 CI checks: s1's and s2's throughput. Exactly: no drops at either node in any replication.
#[test]
fn a_blocking_queue_fed_by_a_node_passes_everything_offered() {
    let toml = ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("s", "s1", 0.6, "")
        .node("s1", 1, 1.0, "routes = [{ to = \"s2\" }]")
        .node("s2", 1, 1.0, "capacity = 2\noverflow = \"block\"")
        .toml();
    let theory = analysis(&toml);
    let offered = 0.6;
    assert_eq!(node_figure(&theory, "s2", NodeMetric::Throughput), Some(offered));
    assert_eq!(node_figure(&theory, "s2", NodeMetric::DropProbability), Some(0.0));
    assert_eq!(theory.system.headroom, None);
    assert!(figure(node(&theory, "s1"), NodeMetric::MeanSojourn).value.is_none());
    let simulated = simulate(&toml);
    for name in ["s1", "s2"] {
        let summary = named(&simulated.summary.nodes, name);
        CROSSCHECK.assert_mean(
            &format!("blocking tandem {name} throughput"),
            summary.get(NodeMetric::Throughput),
            offered,
        );
        for replication in &simulated.replications {
            let index = simulated.summary.nodes.iter().position(|n| n.name == name).expect("node");
            let node = &replication.nodes[index];
            assert_eq!(node.counts.drops, 0, "{name} dropped in replication {}", replication.index);
        }
    }
}

/// The tandem with s2's capacity 1, offered 0.9/s: below s1's cμ = 1/s, yet unstable.
///
/// Saturated, s1 and s2 form a chain on s2's states 0, 1 and "1 with s1 held", equally likely
/// (births and deaths all at 1/s), so s1 completes at most 2/3 per second. `analyze` used to
/// call s1 stable (ρ = 0.9) and pass 0.9/s on to s2; it now says s1 is unstable, growing at
/// 0.9 − 2/3 = 0.2333/s (fluid limit), and s2 carries 2/3 per second.
///
/// 2 CI checks: s2's throughput, s1's growth rate.
#[test]
fn a_sender_held_by_a_blocking_queue_saturates_below_its_c_mu() {
    let toml = ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("s", "s1", 0.9, "")
        .node("s1", 1, 1.0, "routes = [{ to = \"s2\" }]")
        .node("s2", 1, 1.0, "capacity = 1\noverflow = \"block\"")
        .toml();
    let theory = analysis(&toml);
    assert!(!theory.system.stable);
    assert!(!node(&theory, "s1").stable);
    // Its load is λ over the rate at which it saturates: 0.9/(2/3) = 1.35.
    let load = node(&theory, "s1").utilization;
    assert!((load - 1.35).abs() < 1e-12, "{load}");
    let growth = figure_value(node(&theory, "s1"), NodeMetric::QueueGrowthRate);
    assert!((growth - (0.9 - 2.0 / 3.0)).abs() < 1e-12, "{growth}");
    let carried = figure_value(node(&theory, "s2"), NodeMetric::Throughput);
    assert!((carried - 2.0 / 3.0).abs() < 1e-12, "{carried}");
    let simulated = simulate(&toml);
    CROSSCHECK.assert_mean(
        "held sender past saturation: the blocking queue's throughput",
        named(&simulated.summary.nodes, "s2").get(NodeMetric::Throughput),
        2.0 / 3.0,
    );
    CROSSCHECK.assert_mean(
        "held sender past saturation: its growth",
        named(&simulated.summary.nodes, "s1").get(NodeMetric::QueueGrowthRate),
        0.9 - 2.0 / 3.0,
    );
}

/// 1.8/s through an exchange of `kind` over a fast server (μ = 1.6/s) and a slow one (μ =
/// 0.75/s), both M/M/1 with unbounded queues.
fn unequal(kind: &str) -> String {
    ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("producer", "lb", 1.8, "")
        .exchange("lb", kind, &[r#"{ to = "fast" }"#, r#"{ to = "slow" }"#], "")
        .node("fast", 1, 0.625, "")
        .node("slow", 1, 1.0 / 0.75, "")
        .toml()
}

/// A state-dependent balancer over unequal servers pools them.
///
/// At 1.8/s, an even split gives the slow server 0.9/s > 0.75/s: the random split is unstable,
/// its slow queue growing at 0.9 − 0.75 = 0.15/s (`analyze`'s growth rate, checked against the
/// simulated one). Shortest-queue, least-loaded and power-of-two over two targets (which
/// samples both, so it is shortest-queue) never leave a server idle while a queue waits
/// elsewhere — they send the slow server less as its queue grows — and are stable up to the
/// pooled Σμ = 2.35/s: `analyze` says stable, headroom 2.35/1.8. Simulated, the pool then
/// carries the 1.8/s offered and its queues do not grow.
///
/// 7 CI checks: per balancer, the pool's throughput and growth; random's growth.
#[test]
fn a_state_dependent_balancer_is_stable_up_to_the_pooled_capacity() {
    let (offered, pooled_capacity) = (1.8, 1.6 + 0.75);
    let random = unequal("random");
    let theory = analysis(&random);
    assert!(!theory.system.stable);
    let growth = node(&theory, "slow").growth_rate;
    assert!((growth - 0.15).abs() < 1e-12, "{growth}");
    let simulated = pooled(&simulate(&random), NodeMetric::QueueGrowthRate);
    CROSSCHECK.assert_mean("random split over unequal servers: growth", Some(simulated), growth);
    for kind in ["shortest-queue", "least-loaded", "power-of-two"] {
        let toml = unequal(kind);
        let theory = analysis(&toml);
        assert!(theory.system.stable, "{kind}");
        let headroom = theory.system.headroom.expect("a headroom");
        assert!((headroom - pooled_capacity / offered).abs() < 1e-12, "{kind}: {headroom}");
        let carried: f64 = theory.nodes.iter().map(|node| node.throughput).sum();
        assert!((carried - offered).abs() < 1e-12, "{kind}: {carried}");
        let experiment = simulate(&toml);
        CROSSCHECK.assert_mean(
            &format!("{kind} over unequal servers: pool throughput"),
            Some(pooled(&experiment, NodeMetric::Throughput)),
            offered,
        );
        assert_no_growth(
            &format!("{kind} over unequal servers: pool growth"),
            &pooled(&experiment, NodeMetric::QueueGrowthRate),
            0.01,
        );
    }
}

/// Power-of-two over a fast server and two slow ones, `offered` per second in all.
fn sampled_pairs(offered: f64, fast_mean: f64, slow_mean: f64) -> String {
    ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("producer", "lb", offered, "")
        .exchange(
            "lb",
            "power-of-two",
            &[r#"{ to = "fast" }"#, r#"{ to = "slow1" }"#, r#"{ to = "slow2" }"#],
            "",
        )
        .node("fast", 1, fast_mean, "")
        .node("slow1", 1, slow_mean, "")
        .node("slow2", 1, slow_mean, "")
        .toml()
}

/// Power-of-two over three unequal servers (μ = 2/s, 0.5/s, 0.5/s) at 1.8/s: each message
/// samples two distinct servers and joins the shorter queue, so it is not work-conserving and
/// neither the even split nor the pooled capacity is in general its stability limit.
///
/// The even split gives each slow server 0.6/s > 0.5/s. The two slow servers must take every
/// message whose pair is theirs, a third of them; by Foss and Chernova's condition (every set S
/// of servers below capacity for the messages whose pair lies in S), the pool is stable up to
/// min(3/1.8, 1/0.6, 2.5/0.6) = 1/0.6 = 1.667 times the load, here also the pooled capacity
/// 3/1.8. `analyze` says stable with that headroom, a maximum throughput of 3/s, every server at
/// ρ ≈ 0.6, and has no closed form for the per-server waits. Simulated, the pool carries the
/// 1.8/s offered with no queue growth, where the even split would call it unstable.
///
/// 2 CI checks: the pool's throughput and growth.
#[test]
fn power_of_two_over_unequal_servers_is_stable_where_every_set_keeps_up() {
    let offered = 1.8;
    let toml = sampled_pairs(offered, 0.5, 2.0);
    let theory = analysis(&toml);
    assert!(theory.system.stable, "{:?}", theory.system);
    let exact = 1.0 / (offered / 3.0);
    let headroom = theory.system.headroom.expect("a headroom");
    assert!((headroom - exact).abs() < 1e-12 * exact, "{headroom}");
    let most = theory.system.max_throughput.expect("a maximum throughput");
    assert!((most - 3.0).abs() < 1e-12, "{most}");
    for server in &theory.nodes {
        assert!(figure(server, NodeMetric::MeanWait).value.is_none(), "{}", server.name);
        let rho = figure(server, NodeMetric::Utilization);
        assert!(!rho.exact, "{}", server.name);
        assert!((rho.value.expect("ρ") - 0.6).abs() < 1e-12, "{}: {rho:?}", server.name);
        assert!(!figure(server, NodeMetric::ArrivalRate).exact, "{}", server.name);
    }
    let experiment = simulate(&toml);
    CROSSCHECK.assert_mean(
        "power-of-two over three unequal servers: pool throughput",
        Some(pooled(&experiment, NodeMetric::Throughput)),
        offered,
    );
    assert_no_growth(
        "power-of-two over three unequal servers: pool growth",
        &pooled(&experiment, NodeMetric::QueueGrowthRate),
        0.01,
    );
}

/// Power-of-two over a fast server (μ = 10/s) and two slow ones (μ = 0.1/s) at 0.9/s: far
/// below the pooled capacity 10.2/s, yet unstable.
///
/// A third of the messages sample the slow pair and must join one of them: 0.3/s against their
/// 0.2/s, so by Foss and Chernova's condition the pair saturates (at λ = 0.6/s). `analyze` says
/// unstable: each slow server at ρ = 0.15/0.1 = 1.5, growing at 0.05/s (fluid limit); the fast
/// one offered the other 2/3, 0.6/s. In the fluid limit that is exact: once the slow queues are
/// long, every message that samples the fast server joins it (0.6/s), and the slow pair gets
/// only its own pairs, so it grows at 0.3 − 0.2 = 0.1/s in all.
///
/// 3 CI checks: the fast server's throughput, the slow pair's throughput and its growth.
#[test]
fn power_of_two_over_unequal_servers_saturates_where_a_set_cannot_keep_up() {
    let offered = 0.9;
    let toml = sampled_pairs(offered, 0.1, 10.0);
    let theory = analysis(&toml);
    assert!(!theory.system.stable, "{:?}", theory.system);
    let bottleneck = theory.system.bottleneck.clone().expect("a bottleneck");
    assert!(bottleneck.starts_with("slow"), "{bottleneck}");
    let headroom = theory.system.headroom.expect("a headroom");
    assert!((headroom - 0.2 / 0.3).abs() < 1e-12, "{headroom}");
    for slow in ["slow1", "slow2"] {
        let server = node(&theory, slow);
        assert!(!server.stable, "{slow}");
        assert!((server.utilization - 1.5).abs() < 1e-12, "{slow}: {}", server.utilization);
        assert!((figure_value(server, NodeMetric::QueueGrowthRate) - 0.05).abs() < 1e-12, "{slow}");
    }
    assert!(node(&theory, "fast").stable);
    assert!((figure_value(node(&theory, "fast"), NodeMetric::ArrivalRate) - 0.6).abs() < 1e-12);

    let experiment = simulate(&toml);
    let fast = named(&experiment.summary.nodes, "fast");
    CROSSCHECK.assert_mean(
        "power-of-two, a slow pair saturated: fast server throughput",
        fast.get(NodeMetric::Throughput),
        0.6,
    );
    let slow_pair = |metric: NodeMetric| {
        let values: Vec<f64> = experiment
            .replications
            .iter()
            .map(|replication| {
                (1..3).map(|slow| value(&replication.nodes[slow].metrics, metric)).sum::<f64>()
            })
            .collect();
        Estimate::from_values(&values).expect("replications")
    };
    CROSSCHECK.assert_mean(
        "power-of-two, a slow pair saturated: its throughput",
        Some(slow_pair(NodeMetric::Throughput)),
        0.2,
    );
    CROSSCHECK.assert_mean(
        "power-of-two, a slow pair saturated: its growth",
        Some(slow_pair(NodeMetric::QueueGrowthRate)),
        0.1,
    );
}

/// A blocking queue b (μ = 1/s, capacity 2) fed by a Poisson source, `direct`, at 0.5/s and by
/// node a (M/M/1, μ = 1/s), itself fed 0.3/s by source `via`; b routes to c (μ = 2/s).
///
/// b throttles `direct` (which stops while b is full) but never loses what a sends (a waits
/// with it), so the single-source chain on 0..=K+1 at 0.8/s (0.6612/s, which `analyze` used to
/// print as b's and c's throughput) does not hold: simulated, b carries about 0.707/s. No closed
/// form gives how much `direct` gets in, so `analyze` withholds b's and c's rates with the bounds
/// [what a sends, min(offered, cμ)] = [0.3, 0.8]/s, and `direct`'s throughput and blocked
/// fraction. What `via` sends all passes: its throughput is 0.3/s.
///
/// 2 CI checks: b's throughput within its bounds; `via`'s throughput.
#[test]
fn a_blocking_queue_fed_by_a_source_and_a_node_has_bounds_not_a_figure() {
    let toml = ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("direct", "b", 0.5, "")
        .source("via", "a", 0.3, "")
        .node("a", 1, 1.0, "routes = [{ to = \"b\" }]")
        .node("b", 1, 1.0, "capacity = 2\noverflow = \"block\"\nroutes = [{ to = \"c\" }]")
        .node("c", 1, 0.5, "")
        .toml();
    let theory = analysis(&toml);
    for metric in [NodeMetric::ArrivalRate, NodeMetric::Throughput] {
        assert_withheld(&theory, "b", metric, "between 0.3000/s and 0.8000/s");
        assert_withheld(&theory, "c", metric, "between 0.3000/s and 0.8000/s");
    }
    for metric in [NodeMetric::Utilization, NodeMetric::MeanInSystem, NodeMetric::MeanWait] {
        assert_withheld(&theory, "b", metric, "blocking queue 'b' throttles source 'direct'");
        assert_withheld(&theory, "c", metric, "blocking queue 'b'");
    }
    assert_source_withheld(&theory, "direct", SourceMetric::Throughput);
    assert_source_withheld(&theory, "direct", SourceMetric::BlockedFraction);
    let via = theory.sources.iter().find(|s| s.name == "via").expect("via");
    let carried = via.metric(SourceMetric::Throughput).and_then(|f| f.value).expect("via's throughput");
    assert!((carried - 0.3).abs() < 1e-12, "{carried}");
    let simulated = simulate(&toml);
    let b = named(&simulated.summary.nodes, "b");
    assert_within(
        "source and node into a blocking queue: throughput",
        b.get(NodeMetric::Throughput),
        0.3,
        0.8,
    );
    let via = named(&simulated.summary.sources, "via");
    CROSSCHECK.assert_mean(
        "source and node into a blocking queue: via's throughput",
        via.get(SourceMetric::Throughput),
        0.3,
    );
}

/// Two Poisson sources at 0.4/s each into a blocking queue (μ = 1/s, capacity 2).
///
/// Each source stops while it holds a message, the other goes on, so the queue plus the held
/// messages is a birth-death chain with births Γ = 0.8/s up to 2 and 0.4/s from 2 to 3: between
/// the chains with births 0.8/s on 0..=3 and on 0..=4 (M/M/1/3 and M/M/1/4 at ρ = 0.8):
/// 0.8 (1 − 0.2 × 0.8³/(1 − 0.8⁴)) = 0.661247/s and 0.8 (1 − 0.2 × 0.8⁴/(1 − 0.8⁵)) =
/// 0.702522/s. `analyze` used to print the first as the throughput; simulated, it is about
/// 0.683/s. Now it gives the bounds, and withholds each source's throughput and blocked
/// fraction (with unequal rates no chain gives them).
///
/// 1 CI check: the throughput within its bounds.
#[test]
fn several_sources_into_a_blocking_queue_lie_between_two_chains() {
    let toml = ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("s1", "b", 0.4, "")
        .source("s2", "b", 0.4, "")
        .node("b", 1, 1.0, "capacity = 2\noverflow = \"block\"")
        .toml();
    let theory = analysis(&toml);
    assert_withheld(&theory, "b", NodeMetric::Throughput, "between 0.6612/s and 0.7025/s");
    for name in ["s1", "s2"] {
        assert_source_withheld(&theory, name, SourceMetric::Throughput);
        assert_source_withheld(&theory, name, SourceMetric::BlockedFraction);
    }
    let simulated = simulate(&toml);
    let b = named(&simulated.summary.nodes, "b");
    assert_within(
        "two sources into a blocking queue: throughput",
        b.get(NodeMetric::Throughput),
        0.661_247,
        0.702_522,
    );
}

/// One source at 0.8/s into a blocking queue (capacity 2, mean service 1 s), with deterministic
/// gaps, then with deterministic service.
///
/// Only Poisson arrivals with exponential service make the queue and the held message a
/// birth-death chain; `analyze` used to print that chain's 0.6612/s for both, where the
/// simulated throughputs are about 0.725/s and 0.715/s. It now withholds the queue's rates and
/// the source's throughput and blocked fraction, with the bounds [0, min(γ, cμ)] = [0, 0.8]/s.
///
/// 2 CI checks: each throughput within its bounds.
#[test]
fn a_non_poisson_source_or_general_service_into_a_blocking_queue_has_no_closed_form() {
    let gaps = ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .text("[[source]]\nname = \"s\"\nto = \"b\"\ninterarrival = { dist = \"deterministic\", value = \"1.25s\" }\n")
        .node("b", 1, 1.0, "capacity = 2\noverflow = \"block\"")
        .toml();
    let service = ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("s", "b", 0.8, "")
        .node_with(
            "b",
            "service = { dist = \"deterministic\", value = \"1s\" }\ncapacity = 2\noverflow = \"block\"",
        )
        .toml();
    for (what, toml) in [("deterministic gaps", gaps), ("deterministic service", service)] {
        let theory = analysis(&toml);
        assert_withheld(&theory, "b", NodeMetric::Throughput, "between 0/s and 0.8000/s");
        assert_withheld(&theory, "b", NodeMetric::MeanSojourn, "only Poisson arrivals");
        assert_source_withheld(&theory, "s", SourceMetric::Throughput);
        assert_source_withheld(&theory, "s", SourceMetric::BlockedFraction);
        let simulated = simulate(&toml);
        let b = named(&simulated.summary.nodes, "b");
        assert_within(
            &format!("{what} into a blocking queue: throughput"),
            b.get(NodeMetric::Throughput),
            0.0,
            0.8,
        );
    }
}

/// Two senders, a and b (0.6/s each, one exponential server of mean 1 s, unbounded queues),
/// both routing to q (capacity 1, `overflow = "block"`, mean 0.7 s): each sender's server waits
/// with its finished message while q is full, so each saturates below its cμ of 1/s, and with
/// two senders no formula here says where. Against cμ they look stable (ρ 0.6); `analyze` says
/// their verdict is undetermined and does not call the system stable. Simulated, both queues
/// grow: q (ρ 0.84, room for one) holds them back often enough that 0.6/s is past their
/// saturation, so "stable" would have been wrong.
///
/// 1 CI check: the senders' summed growth rate is above 0.
#[test]
fn senders_held_by_a_shared_blocking_queue_have_no_verdict() {
    let toml = ScenarioBuilder::simulated(20_000.0, 1000.0, 20)
        .source("s1", "a", 0.6, "")
        .source("s2", "b", 0.6, "")
        .node("a", 1, 1.0, "routes = [{ to = \"q\" }]")
        .node("b", 1, 1.0, "routes = [{ to = \"q\" }]")
        .node("q", 1, 0.7, "capacity = 1\noverflow = \"block\"")
        .toml();
    let theory = analysis(&toml);
    assert!(!theory.system.stable, "{:?}", theory.system);
    let reason = theory.system.undetermined.clone().expect("an undetermined verdict");
    for sender in ["a", "b"] {
        let named = format!("node '{sender}' (a blocking queue downstream holds its servers)");
        assert!(reason.contains(&named), "{reason}");
    }
    for sender in ["a", "b"] {
        assert_eq!(node(&theory, sender).verdict, Verdict::Undetermined, "{sender}");
    }
    assert_eq!(node(&theory, "q").verdict, Verdict::Stable);
    let text = render_analysis(&AnalysisFile::new("held", &theory, scenario(&toml).network()));
    assert!(text.contains("the system's stability is undetermined"), "{text}");

    let experiment = simulate(&toml);
    let values: Vec<f64> = experiment
        .replications
        .iter()
        .map(|replication| {
            (0..2).map(|i| value(&replication.nodes[i].metrics, NodeMetric::QueueGrowthRate)).sum()
        })
        .collect();
    let growth = Estimate::from_values(&values).expect("replications");
    let freedom = f64::from(u32::try_from(growth.samples).expect("few replications")) - 1.0;
    let allowed = CROSSCHECK.stretch(freedom) * growth.half_width();
    println!("held senders' growth: simulated {:.6}/s, allowed ±{allowed:.6}", growth.mean);
    assert!(growth.mean - allowed > 0.0, "the senders do not grow: {growth:?}");
}
