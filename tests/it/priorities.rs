//! Priority classes at one node: non-preemptive (Cobham) and preemptive-resume, at one worker
//! and at several, and preempted messages that leave while waiting (dropped or expired).
//!
//! # Tolerances
//! One Bonferroni family with the other feature tests, [`FEATURES`] (see
//! [`Family`](crate::support::Family)): every simulated mean is compared with theory through an
//! interval over its 42 checks; every 95% half-width must also be at most 2% of the theory value,
//! so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere, never re-seeded to
//! pass.
//! Figures the library computes without simulating (`analyze`) are compared with ours to
//! [`EXACT`](crate::support::EXACT) relative: rounding only.

use kendall::analytic::Analysis;
use kendall::stats::{NodeClassMetric, NodeMetric};

use crate::support::{FEATURES, ScenarioBuilder, analysis, assert_analyzed, node_figure, scenario, simulate};

/// A node of `servers` workers fed by a Poisson source at `lambda` whose messages are priority 1
/// or 0 with probability 1/2 each (priority 1, class 0, is served first), under `discipline`.
fn two_class_station(lambda: f64, servers: u32, service: &str, discipline: &str, duration_s: f64) -> String {
    ScenarioBuilder::simulated(duration_s, 1000.0, 20)
        .source("mixed", "station", lambda, "priority = { \"1\" = 0.5, \"0\" = 0.5 }")
        .node_with(
            "station",
            &format!("servers = {servers}\nservice = {service}\ndiscipline = \"{discipline}\""),
        )
        .toml()
}

/// `analyze`'s value of a class metric of the first node.
fn class_figure(analysis: &Analysis, class: usize, metric: NodeClassMetric) -> Option<f64> {
    let figures = &analysis.nodes[0].priority_classes[class];
    figures.iter().find(|(m, _)| *m == metric).and_then(|(_, figure)| figure.value)
}

/// One two-class priority case and what theory says of it.
struct PriorityCase<'a> {
    name: &'a str,
    lambda: f64,
    servers: u32,
    service: &'a str,
    discipline: &'a str,
    duration_s: f64,
    /// The per-class figure compared, with its value for class 0 (the higher) and class 1.
    metric: NodeClassMetric,
    classes: [f64; 2],
    /// Whether `analyze` has per-class figures for this case.
    analyzed_classes: bool,
    /// A node figure over all messages, with its value (`analyze` has it too).
    overall: Option<(NodeMetric, f64)>,
}

/// Compares one case with theory: `analyze` to 1e-9, the simulation through CIs.
fn check_priorities(case: &PriorityCase) {
    let toml = two_class_station(case.lambda, case.servers, case.service, case.discipline, case.duration_s);
    let theory = analysis(&toml);
    let metric = case.metric;
    if case.analyzed_classes {
        for (class, &ours) in case.classes.iter().enumerate() {
            let what = format!("{} analyze class {class} {metric:?}", case.name);
            assert_analyzed(&what, class_figure(&theory, class, metric), ours);
        }
    }
    if let Some((node_metric, ours)) = case.overall {
        let what = format!("{} analyze {node_metric:?}", case.name);
        assert_analyzed(&what, node_figure(&theory, "station", node_metric), ours);
    }
    let experiment = simulate(&toml);
    let per_class = &experiment.summary.node_priority_classes[0];
    assert_eq!(per_class.len(), 2);
    for (class, &ours) in case.classes.iter().enumerate() {
        FEATURES.assert_mean(
            &format!("{} class {class} {metric:?}", case.name),
            per_class[class].get(metric),
            ours,
        );
    }
    if let Some((node_metric, ours)) = case.overall {
        let what = format!("{} overall {node_metric:?}", case.name);
        FEATURES.assert_mean(&what, experiment.summary.nodes[0].get(node_metric), ours);
    }
}

/// Two priority classes at one worker, λ_1 = λ_2 = 0.3/s (class 1 the higher), E[S] = 1 s, so
/// ρ_1 = ρ_2 = 0.3, σ_1 = 0.3, σ_2 = 0.6.
///
/// Non-preemptive, exponential service (E[S²] = 2): R = Σ λ_i E[S²]/2 = 0.6 · 2/2 = 0.6;
/// Cobham: Wq_1 = R/(1 − σ_1) = 0.6/0.7 = 0.857143 s, Wq_2 = R/((1 − σ_1)(1 − σ_2))
/// = 0.6/(0.7 · 0.4) = 2.142857 s.
///
/// Preemptive-resume, exponential service: T_1 = E[S] + R_1/(1 − σ_1) with R_1 = 0.3 · 2/2 = 0.3
/// (class 1 sees an M/M/1 of its own): T_1 = 1 + 0.428571 = 1.428571 s;
/// T_2 = E[S]/(1 − σ_1) + R/((1 − σ_1)(1 − σ_2)) = 1.428571 + 2.142857 = 3.571429 s.
///
/// Deterministic service (M/D/1, E[S²] = 1), non-preemptive: R = 0.6/2 = 0.3, Wq_1 = 0.3/0.7
/// = 0.428571 s, Wq_2 = 0.3/0.28 = 1.071429 s. Preemptive-resume: R_1 = 0.15,
/// T_1 = 1 + 0.15/0.7 = 1.214286 s, T_2 = 1/0.7 + 0.3/0.28 = 2.5 s. With exponential service a
/// wrong resume (restarting or redrawing the interrupted service) would go unnoticed, since the
/// remaining service has the same law; with deterministic service it would not.
///
/// Conservation law (Kleinrock): with one work-conserving worker and the same service law for
/// every class, the mean wait over all messages of a non-preemptive discipline is the FCFS one:
/// M/M/1 Wq = ρ/(μ − λ) = 0.6/0.4 = 1.5 s = (0.857143 + 2.142857)/2, and M/D/1
/// Pollaczek-Khinchine Wq = ρ E[S]/(2(1 − ρ)) = 0.75 s = (0.428571 + 1.071429)/2. With
/// exponential service the number of messages in the node is M/M/1's whatever the priorities,
/// preemptive included, so the mean wait (reported as sojourn − service for preempted messages)
/// is 1.5 s there too: (1.428571 + 3.571429)/2 − 1 = 1.5. (Preemption with deterministic
/// service changes the overall mean: (1.214286 + 2.5)/2 − 1 = 0.857 s, not 0.75 s; not asserted.)
///
/// The per-class figures and the overall ones are also `analyze`'s, to 1e-9.
///
/// 11 CI checks: 3 per case, 2 for preemptive M/D/1.
#[test]
fn priority_classes_follow_cobham_and_preemptive_resume() {
    let (lambda, mean) = (0.6, 1.0);
    let rate = lambda / 2.0;
    let sigma = [rate * mean, 2.0 * rate * mean];
    let between = (1.0 - sigma[0]) * (1.0 - sigma[1]);
    let fcfs_wait = |second_moment: f64| lambda * second_moment / (2.0 * (1.0 - lambda * mean));
    let cobham = |second_moment: f64| {
        let r = lambda * second_moment / 2.0;
        [r / (1.0 - sigma[0]), r / between]
    };
    let preemptive = |second_moment: f64| {
        let (r1, r) = (rate * second_moment / 2.0, lambda * second_moment / 2.0);
        [mean + r1 / (1.0 - sigma[0]), mean / (1.0 - sigma[0]) + r / between]
    };
    let exponential = r#"{ dist = "exponential", mean = "1s" }"#;
    let deterministic = r#"{ dist = "deterministic", value = "1s" }"#;
    let case = |name, service, discipline, metric, classes, overall| PriorityCase {
        name,
        lambda,
        servers: 1,
        service,
        discipline,
        duration_s: 400_000.0,
        metric,
        classes,
        analyzed_classes: true,
        overall,
    };
    let cases = [
        case(
            "M/M/1 non-preemptive",
            exponential,
            "priority",
            NodeClassMetric::MeanWait,
            cobham(2.0),
            Some((NodeMetric::MeanWait, fcfs_wait(2.0))),
        ),
        case(
            "M/M/1 preemptive-resume",
            exponential,
            "preemptive",
            NodeClassMetric::MeanSojourn,
            preemptive(2.0),
            Some((NodeMetric::MeanWait, fcfs_wait(2.0))),
        ),
        case(
            "M/D/1 non-preemptive",
            deterministic,
            "priority",
            NodeClassMetric::MeanWait,
            cobham(1.0),
            Some((NodeMetric::MeanWait, fcfs_wait(1.0))),
        ),
        case(
            "M/D/1 preemptive-resume",
            deterministic,
            "preemptive",
            NodeClassMetric::MeanSojourn,
            preemptive(1.0),
            None,
        ),
    ];
    let by_hand = [[0.857_143, 2.142_857], [1.428_571, 3.571_429], [0.428_571, 1.071_429], [1.214_286, 2.5]];
    // 2λ events per simulated second (more with preemption): 20 × 4.01e5 s × 1.2 = 9.6e6 events
    // per case; the noisiest figure, class 1's wait under Cobham, has a 95% half-width of 0.8%.
    for (case, hand) in cases.iter().zip(by_hand) {
        for (ours, rounded) in case.classes.iter().zip(hand) {
            assert!((ours - rounded).abs() < 1e-6, "{}: {ours} vs {rounded}", case.name);
        }
        check_priorities(case);
    }
    assert!((fcfs_wait(2.0) - 1.5).abs() < 1e-12 && (fcfs_wait(1.0) - 0.75).abs() < 1e-12);
}

/// Two priority classes at two exponential workers: λ = 1.4/s split evenly (λ_i = 0.7/s), μ = 1/s,
/// a = 1.4, ρ = 0.7; σ_i = Σ_{j≤i} λ_j/(cμ), so σ_1 = 0.35, σ_2 = 0.7. Erlang C(2, 1.4)
/// = 2ρ²/(1 + ρ) = 0.98/1.7 = 0.576471, and M/M/2 gives Wq = C/(cμ − λ) = 0.960784 s,
/// W = 1.960784 s.
///
/// Non-preemptive (Cobham's M/M/c form): Wq_k = (C/(cμ))/((1 − σ_{k−1})(1 − σ_k)):
/// Wq_1 = 0.288235/0.65 = 0.443439 s, Wq_2 = 0.288235/(0.65 · 0.3) = 1.478130 s; their mean
/// is M/M/2's 0.960784 s (conservation).
///
/// Preemptive-resume: class 1 never waits for class 2, so it sees an M/M/2 of its own at
/// λ_1 = 0.7: C(2, 0.7) = 2 · 0.35²/1.35 = 0.181481, T_1 = 1 + 0.181481/1.3 = 1.139601 s. All
/// services being exponential and no worker idling while messages wait, the total number in the
/// node is M/M/2's, so the mean sojourn over all messages is W = 1.960784 s and class 2's is
/// T_2 = 2W − T_1 = 2.781967 s (equal rates). The library has no per-class closed form for
/// several preemptive workers, so only the simulation is checked against these.
///
/// 6 CI checks: 3 per discipline.
#[test]
fn priority_classes_at_several_workers() {
    let (lambda, mu, servers) = (1.4, 1.0, 2);
    let a = lambda / mu;
    let erlang_c = |a: f64| {
        let rho = a / 2.0;
        2.0 * rho * rho / (1.0 + rho)
    };
    let (wait, sigma) = (erlang_c(a) / (2.0 * mu - lambda), [lambda / 4.0, lambda / 2.0]);
    let sojourn = wait + 1.0 / mu;
    let base = erlang_c(a) / (2.0 * mu);
    let cobham = [base / (1.0 - sigma[0]), base / ((1.0 - sigma[0]) * (1.0 - sigma[1]))];
    let high = erlang_c(lambda / 2.0) / (2.0 * mu - lambda / 2.0) + 1.0 / mu;
    let preemptive = [high, 2.0 * sojourn - high];
    assert!((wait - 0.960_784).abs() < 1e-6 && (sojourn - 1.960_784).abs() < 1e-6, "{wait}");
    assert!((cobham[0] - 0.443_439).abs() < 1e-6 && (cobham[1] - 1.478_130).abs() < 1e-6, "{cobham:?}");
    assert!((preemptive[0] - 1.139_601).abs() < 1e-6 && (preemptive[1] - 2.781_967).abs() < 1e-6);
    let exponential = r#"{ dist = "exponential", mean = "1s" }"#;
    // 2λ events per simulated second: 20 × 4.01e5 s × 2.8 = 2.2e7 events per case; the noisiest
    // figure, class 1's wait under Cobham, has a 95% half-width of about 0.8%.
    let common = |name, discipline, metric, classes, analyzed_classes, overall| PriorityCase {
        name,
        lambda,
        servers,
        service: exponential,
        discipline,
        duration_s: 400_000.0,
        metric,
        classes,
        analyzed_classes,
        overall: Some(overall),
    };
    check_priorities(&common(
        "M/M/2 non-preemptive",
        "priority",
        NodeClassMetric::MeanWait,
        cobham,
        true,
        (NodeMetric::MeanWait, wait),
    ));
    check_priorities(&common(
        "M/M/2 preemptive-resume",
        "preemptive",
        NodeClassMetric::MeanSojourn,
        preemptive,
        false,
        (NodeMetric::MeanSojourn, sojourn),
    ));
}

/// A preempted message that leaves its node while waiting (dropped by drop-head, or expired by
/// its TTL) does not disturb the run: its interrupted service's completion is stale, and every
/// service has an id unique in the replication, so the slot's next message cannot match it.
///
/// One worker, discipline "preemptive", two classes (priority 1 or 0, 1/2 each), exponential
/// service of mean 1 s:
/// - capacity 2 with drop-head, λ = 1.5/s: the number of messages in the node is the M/M/1/2
///   chain whatever the order of service (exponential service, no idling, drop-head keeps the
///   count of drop-tail), p ∝ (1, 1.5, 2.25): drop probability p_2 = 2.25/4.75 = 0.473684,
///   throughput 1 − p_0 = 0.789474/s; nothing stops early, and per replication
///   arrivals = departures + drops + in_system_end with in_system_end ≤ 2;
/// - no capacity, TTL 0.5 s, λ = 0.8/s: stable (ρ = 0.8), nothing stops early, and
///   arrivals = departures + expired + in_system_end.
///
/// Actual: every replication stops early, "with 1000000 messages in the system", after a few
/// hundred events. The interrupted service's completion event stays in the calendar, recognised
/// as stale only through `Message::service_id`; when the preempted message is dropped (drop-head
/// picks the front of the lowest class, where the preempted message was put back) or expires,
/// its slab id is freed and reused by the next message, whose `service_id` starts again at 0, so
/// the stale event completes the wrong message (twice removed, counts wrapped).
#[test]
fn preempted_messages_leaving_while_waiting_do_not_corrupt_the_run() {
    for (rate, extra) in [(1.5, "capacity = 2\noverflow = \"drop-head\""), (0.8, "ttl = \"0.5s\"")] {
        let toml = ScenarioBuilder::simulated(20_000.0, 0.0, 4)
            .source("mixed", "station", rate, "priority = { \"1\" = 0.5, \"0\" = 0.5 }")
            .node("station", 1, 1.0, &format!("discipline = \"preemptive\"\n{extra}"))
            .toml();
        let experiment = kendall::experiment::run(&scenario(&toml), None, &|| {}).expect("thread pool");
        for replication in &experiment.replications {
            let counts = replication.nodes[0].counts;
            let context = format!("{extra:?}, replication {}: {counts:?}", replication.index);
            assert!(
                !replication.stopped_early,
                "{context}: stopped early after {} events",
                replication.events
            );
            assert_eq!(
                counts.arrivals,
                counts.departures + counts.drops + counts.expired + u64::from(counts.in_system_end),
                "{context}"
            );
        }
    }
}
