//! Analysis figures with no textbook closed form, checked against the simulator: a blocking
//! queue fed by a node loses nothing, a work-conserving balancer over unequal servers is
//! stable up to their pooled capacity, and power-of-two over more than two unequal servers is
//! stable exactly when every set of servers keeps up with the pairs it is drawn alone (issue 12,
//! "analysis that an independent simulator contradicts").
//!
//! # Tolerances
//! One Bonferroni family, [`CROSSCHECK`]: 15 interval checks (see
//! [`Family`](crate::support::Family)). A zero growth rate cannot be checked through
//! [`Family::assert_mean`] (which demands a zero half-width for a zero theory value), so
//! [`assert_no_growth`] asks for 0 inside the same Bonferroni interval and for a half-width
//! far below the growth of the unstable even split. Seed 1 everywhere, never re-seeded to pass.

use kendall::experiment::Experiment;
use kendall::stats::{Estimate, NodeMetric};

use crate::support::{
    Family, ScenarioBuilder, analysis, figure, figure_value, named, node, node_figure, simulate, value,
};

/// 15 checks: the tandem's two throughputs; per state-dependent balancer (three of them), the
/// pool's throughput and its growth rate; the random split's growth rate; power-of-two over
/// three unequal servers, stable: the pool's throughput and growth; unstable: the fast
/// server's throughput, the slow pair's throughput and growth. Each 95% half-width
/// must be at most 5% of the theory value (a growth rate's, 0.15/s, is about 3% over 20
/// replications of 20 000 s).
const CROSSCHECK: Family = Family { checks: 15, error: 0.05, precision: 0.05 };

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
