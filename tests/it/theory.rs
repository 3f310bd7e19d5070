//! The simulator against queueing theory.
//!
//! Every expected value comes from a named closed form, computed in the test from the formula
//! (notation: arrival rate lambda, service rate mu, c servers, offered load a = lambda/mu,
//! utilisation rho = a/c), with its arithmetic in the test's doc comment.
//!
//! # Tolerances
//! A simulated mean is compared with theory through the Student t interval over its
//! replications. This module makes [`CHECKS`] such comparisons; at 95% each, some would miss by
//! chance alone, so each uses a Bonferroni interval instead: the module's family-wise error rate
//! is [`FAMILY_ERROR`], each check gets FAMILY_ERROR/CHECKS, and the library's 95% half-width is
//! stretched by t(1 − FAMILY_ERROR/(2 CHECKS), n − 1) / t(0.975, n − 1), about 1.6 with 20
//! replications. Bonferroni holds under any dependence between the checks, which matters here:
//! every test uses seed 1, so the single-station tests draw the same arrival and service streams
//! (common random numbers) and their errors are correlated. So that a loose interval cannot hide
//! a wrong simulator, every check also asserts that the 95% half-width is at most [`PRECISION`]
//! of the theory value; the run lengths are sized for about half of that.
//!
//! Percentiles get [`PERCENTILE_BIAS`] more. Little's law and conservation are identities,
//! checked in every replication, exactly or within a bound derived from its counts.

use kendall::analytic::station;
use kendall::stats::{NodeMetric, ReplicationResult, SourceMetric};

use crate::support::{Family, ScenarioBuilder, simulate, single_station};

/// Comparisons with theory through confidence intervals in this module, the Bonferroni
/// denominator: 8 for M/M/1, 1 for M/M/c, 1 for M/M/c/K, 2 for M/G/1, 4 for Jackson.
const CHECKS: u32 = 16;

/// Probability that some check of this module fails by chance alone when the simulator is right.
const FAMILY_ERROR: f64 = 0.05;

/// Largest 95% half-width accepted, relative to the theory value.
const PRECISION: f64 = 0.02;

/// Relative allowance for the bias of a percentile read from an HDR histogram with 3 significant
/// digits: it reports a bucket's upper end, up to 0.1% above the value, and the per-replication
/// sample quantile has a small bias of its own; 0.2% covers both.
const PERCENTILE_BIAS: f64 = 0.002;

/// This module's comparisons with theory (see [`Family`]).
const FAMILY: Family = Family { checks: CHECKS, error: FAMILY_ERROR, precision: PRECISION };

/// Asserts that a closed form of `kendall::analytic` agrees with the test's own computation.
fn assert_same(what: &str, library: f64, ours: f64) {
    assert!((library - ours).abs() <= 1e-12 * ours.abs(), "{what}: library {library}, formula {ours}");
}

/// Erlang C, the probability of waiting in M/M/c, from its defining sum rather than the library's
/// Erlang B recursion: with P = a^c/c! · c/(c − a), C = P / (Σ_{k<c} a^k/k! + P).
fn erlang_c_by_sum(servers: u32, a: f64) -> f64 {
    let c = f64::from(servers);
    let term = |k: u32| (1..=k).map(|j| a / f64::from(j)).product::<f64>();
    let waiting = term(servers) * c / (c - a);
    waiting / ((0..servers).map(term).sum::<f64>() + waiting)
}

/// M/M/1 with mu = 1 at utilisation `rho`, 20 replications of `duration_s`: Wq = rho/(mu − lambda),
/// W = 1/(mu − lambda), L = rho/(1 − rho) and, the sojourn being Exp(mu − lambda),
/// p99 = ln(100)/(mu − lambda).
fn check_mm1(rho: f64, duration_s: f64, warmup_s: f64) {
    let (lambda, mu) = (rho, 1.0);
    let p99 = 100f64.ln() / (mu - lambda);
    let library = station::mmc_sojourn_quantile(lambda, mu, 1, 0.99).expect("stable");
    assert!((library - p99).abs() <= 1e-9 * p99, "mmc_sojourn_quantile {library} vs {p99}");
    let service = r#"{ dist = "exponential", rate = 1.0 }"#;
    let experiment =
        simulate(&single_station(duration_s, warmup_s, lambda, &format!("servers = 1\nservice = {service}")));
    let node = &experiment.summary.nodes[0];
    let what = |metric: &str| format!("M/M/1 rho {rho} {metric}");
    FAMILY.assert_mean(&what("Wq"), node.get(NodeMetric::MeanWait), rho / (mu - lambda));
    FAMILY.assert_mean(&what("W"), node.get(NodeMetric::MeanSojourn), 1.0 / (mu - lambda));
    FAMILY.assert_mean(&what("L"), node.get(NodeMetric::MeanInSystem), rho / (1.0 - rho));
    FAMILY.assert_agrees(&what("sojourn p99"), node.get(NodeMetric::SojournP99), p99, PERCENTILE_BIAS);
}

/// M/M/1, mu = 1, rho = 0.5: Wq = 0.5/0.5 = 1 s, W = 1/0.5 = 2 s, L = 0.5/0.5 = 1,
/// sojourn p99 = ln(100)/0.5 = 9.2103 s.
#[test]
fn mm1_at_half_load_matches_theory() {
    // About 1 event per simulated second: 20 × 2e5 s = 4e6 events.
    check_mm1(0.5, 200_000.0, 1000.0);
}

/// M/M/1, mu = 1, rho = 0.9: Wq = 0.9/0.1 = 9 s, W = 1/0.1 = 10 s, L = 0.9/0.1 = 9,
/// sojourn p99 = ln(100)/0.1 = 46.0517 s.
#[test]
fn mm1_at_heavy_load_matches_theory() {
    // The variance of L over a run of T seconds is about 2 rho (1 + rho) / ((1 − rho)^4 mu T)
    // = 34200/T: over 20 × 3e6 s the 95% half-width of L is about 2.09 · sqrt(34200/6e7) = 0.05,
    // 0.55%; the p99 is noisier (about 1.3%). The relaxation time, about
    // 1/(mu (1 − sqrt(rho))^2) = 380 s, is far below the 1e4 s warm-up. 1.1e8 events.
    check_mm1(0.9, 3_000_000.0, 10_000.0);
}

/// M/M/4, mu = 1, lambda = 3.4 (a = 3.4, rho = 0.85), Erlang C:
/// Σ_{k<4} a^k/k! = 1 + 3.4 + 5.78 + 6.550667 = 16.730667; P = a^4/4! · 4/0.6
/// = 5.568067 · 6.666667 = 37.120444; C = 37.120444 / 53.851111 = 0.689316;
/// Wq = C/(c mu − lambda) = 0.689316/0.6 = 1.148860 s.
#[test]
fn mmc_wait_matches_erlang_c() {
    let (lambda, mu, servers) = (3.4, 1.0, 4);
    let wq = erlang_c_by_sum(servers, lambda / mu) / (f64::from(servers) * mu - lambda);
    assert!((wq - 1.148_860).abs() < 1e-6, "{wq}");
    assert_same(
        "analytic::station::mmc Wq",
        station::mmc(lambda, mu, servers).expect("stable").mean_wait,
        wq,
    );
    // 6.8 events per simulated second: 20 × 2e5 s = 2.7e7 events.
    let service = r#"{ dist = "exponential", mean = "1s" }"#;
    let experiment = simulate(&single_station(
        200_000.0,
        2000.0,
        lambda,
        &format!("servers = {servers}\nservice = {service}"),
    ));
    FAMILY.assert_mean("M/M/4 rho 0.85 Wq", experiment.summary.nodes[0].get(NodeMetric::MeanWait), wq);
}

/// M/M/2/10, mu = 1, lambda = 2.2 (a = 2.2, lambda/(c mu) = 1.1), birth-death:
/// p_n ∝ a^n/n! for n ≤ 2 and a^n/(2! 2^(n−2)) for 2 < n ≤ 10, that is 1, 2.2, 2.42, 2.42 · 1.1,
/// ..., 2.42 · 1.1^8. Σ = 3.2 + 2.42 (1.1^9 − 1)/0.1 = 3.2 + 2.42 · 13.579477 = 36.062334, so the
/// drop probability is p_10 = 2.42 · 1.1^8 / Σ = 2.42 · 2.143589 / 36.062334 = 0.143848.
#[test]
fn mmck_drop_probability_matches_birth_death() {
    let (lambda, mu, servers, capacity): (f64, f64, u32, u32) = (2.2, 1.0, 2, 10);
    let a = lambda / mu;
    let power = |x: f64, n: u32| x.powi(i32::try_from(n).expect("small exponent"));
    let factorial = |n: u32| (1..=n).map(f64::from).product::<f64>();
    let weight = |n: u32| {
        if n <= servers {
            power(a, n) / factorial(n)
        } else {
            power(a, n) / (factorial(servers) * power(f64::from(servers), n - servers))
        }
    };
    let p_k = weight(capacity) / (0..=capacity).map(weight).sum::<f64>();
    assert!((p_k - 0.143_848).abs() < 1e-6, "{p_k}");
    let library = station::mmck(lambda, mu, servers, capacity).expect("valid").drop_probability;
    assert_same("analytic::station::mmck drop probability", library, p_k);
    // 4.4 events per simulated second: 20 × 5e4 s = 4e6 events.
    let extra = format!("capacity = {capacity}\noverflow = \"drop-tail\"");
    let service = r#"{ dist = "exponential", mean = "1s" }"#;
    let experiment = simulate(&single_station(
        50_000.0,
        500.0,
        lambda,
        &format!("servers = {servers}\nservice = {service}\n{extra}"),
    ));
    FAMILY.assert_mean(
        "M/M/2/10 drop probability",
        experiment.summary.nodes[0].get(NodeMetric::DropProbability),
        p_k,
    );
}

/// Pollaczek-Khinchine, Wq = rho E[S] (1 + Cs²) / (2 (1 − rho)), with E[S] = 1 s:
/// M/D/1 at rho 0.8 (Cs² = 0): Wq = 0.8 · 1 / 0.4 = 2 s;
/// M/G/1, lognormal service with cv 1.5 (Cs² = 2.25), rho 0.7: Wq = 0.7 · 3.25 / 0.6 = 3.791667 s.
#[test]
fn mg1_wait_matches_pollaczek_khinchine() {
    // Events: 2 rho per simulated second. The lognormal's heavier tail (E[S³] = 3.25³) makes its
    // mean wait noisier, hence the longer runs.
    let cases = [
        ("M/D/1 rho 0.8", 0.8, r#"{ dist = "deterministic", value = "1s" }"#, 0.0, 200_000.0),
        (
            "M/G/1 lognormal cv 1.5 rho 0.7",
            0.7,
            r#"{ dist = "lognormal", mean = "1s", cv = 1.5 }"#,
            2.25,
            800_000.0,
        ),
    ];
    for (what, rho, service, scv, duration_s) in cases {
        let wq = rho * 1.0 * (1.0 + scv) / (2.0 * (1.0 - rho));
        assert_same("analytic::station::mg1 Wq", station::mg1(rho, 1.0, scv).expect("stable").mean_wait, wq);
        let experiment =
            simulate(&single_station(duration_s, 2000.0, rho, &format!("servers = 1\nservice = {service}")));
        FAMILY.assert_mean(&format!("{what} Wq"), experiment.summary.nodes[0].get(NodeMetric::MeanWait), wq);
    }
}

/// Open Jackson network: a Poisson source at gamma = 0.88/s into A; A → B 0.6 / C 0.4;
/// B → A 0.2 / exit 0.8; C → exit.
///
/// Traffic equations: lambda_A = gamma + 0.2 lambda_B, lambda_B = 0.6 lambda_A and
/// lambda_C = 0.4 lambda_A, so lambda_A (1 − 0.2 · 0.6) = 0.88: lambda_A = 1, lambda_B = 0.6,
/// lambda_C = 0.4.
///
/// Product form, each node an independent M/M/c:
/// A: c = 2, E[S] = 1.6 s: rho_A = 1 · 1.6/2 = 0.8; a = 1.6, Erlang C = 6.4/(2.6 + 6.4) = 0.711111,
///    L_A = lambda_A Wq + a = 0.711111/(2 · 0.625 − 1) + 1.6 = 4.444444;
/// B: c = 1, E[S] = 1.25 s: rho_B = 0.6 · 1.25 = 0.75, L_B = 0.75/0.25 = 3;
/// C: c = 1, E[S] = 2 s: rho_C = 0.4 · 2 = 0.8, L_C = 0.8/0.2 = 4.
/// Mean end-to-end latency, Little's law over the network: (4.444444 + 3 + 4)/0.88 = 13.005051 s.
#[test]
fn jackson_network_matches_product_form() {
    let gamma = 0.88;
    let lambda_a = gamma / (1.0 - 0.2 * 0.6);
    let (lambda_b, lambda_c) = (0.6 * lambda_a, 0.4 * lambda_a);
    let (mean_a, mean_b, mean_c) = (1.6, 1.25, 2.0);
    let rho = [lambda_a * mean_a / 2.0, lambda_b * mean_b, lambda_c * mean_c];
    let wait_a = erlang_c_by_sum(2, lambda_a * mean_a) / (2.0 / mean_a - lambda_a);
    let lengths = [lambda_a * wait_a + lambda_a * mean_a, rho[1] / (1.0 - rho[1]), rho[2] / (1.0 - rho[2])];
    let latency = lengths.iter().sum::<f64>() / gamma;
    assert!((latency - 13.005_051).abs() < 1e-6, "{latency}");
    // 0.88 arrivals and 2 completions per simulated second: 20 × 2e5 s = 1.2e7 events.
    let toml = ScenarioBuilder::simulated(200_000.0, 2000.0, 20)
        .source("clients", "a", gamma, "")
        .node("a", 2, mean_a, "routes = [{ to = \"b\", p = 0.6 }, { to = \"c\", p = 0.4 }]")
        .node("b", 1, mean_b, "routes = [{ to = \"a\", p = 0.2 }, { to = \"exit\", p = 0.8 }]")
        .node("c", 1, mean_c, "")
        .toml();
    let experiment = simulate(&toml);
    for (node, rho) in experiment.summary.nodes.iter().zip(rho) {
        FAMILY.assert_mean(
            &format!("Jackson node {} utilisation", node.name),
            node.get(NodeMetric::Utilization),
            rho,
        );
    }
    let measured = experiment.summary.sources[0].get(SourceMetric::LatencyMean);
    FAMILY.assert_mean("Jackson end-to-end latency", measured, latency);
}

/// A network with feedback and finite buffers where every service time is bounded (uniform or
/// deterministic), so that every stay at a node is bounded too. Traffic before drops:
/// lambda_A = 1 + 0.25 lambda_B with lambda_B = lambda_C = 0.5 lambda_A, so lambda_A = 1.14,
/// rho_A = 1.14 · 1.5/2 = 0.86, rho_B = 0.57 · 0.9 = 0.51, rho_C = 0.57 · 1.5 = 0.86: with
/// capacities 10, 2 and 6 every node drops now and then.
const FEEDBACK_NETWORK: &str = r#"
[[source]]
name = "clients"
to = "a"
interarrival = { dist = "exponential", rate = 1.0 }

[[node]]
name = "a"
servers = 2
capacity = 10
overflow = "drop-tail"
service = { dist = "uniform", min = "1s", max = "2s" }
routes = [{ to = "b", p = 0.5 }, { to = "c", p = 0.5 }]

[[node]]
name = "b"
capacity = 2
overflow = "drop-tail"
service = { dist = "uniform", min = "0.2s", max = "1.6s" }
routes = [{ to = "a", p = 0.25 }, { to = "exit", p = 0.75 }]

[[node]]
name = "c"
capacity = 6
overflow = "drop-tail"
service = { dist = "deterministic", value = "1.5s" }
"#;

/// Per node of [`FEEDBACK_NETWORK`]: its capacity K and its longest service time in seconds.
const FEEDBACK_BOUNDS: [(u32, f64); 3] = [(10, 2.0), (2, 1.6), (6, 1.5)];

/// The replications of [`FEEDBACK_NETWORK`].
fn feedback_network(duration_s: f64, warmup_s: f64, replications: u32) -> Vec<ReplicationResult> {
    simulate(&ScenarioBuilder::simulated(duration_s, warmup_s, replications).text(FEEDBACK_NETWORK).toml())
        .replications
}

/// Little's law per node, L = X W and Lq = X Wq, in every replication, within its edge effects.
///
/// Over a window of T seconds, L T is the area under the node's count N(t), that is the time each
/// message spent at the node inside the window, while X W T is the sum of the whole sojourns of
/// the messages completing in the window. They differ only through messages straddling an edge:
/// those still at the node at the end (their time in the window is in the area, not in the sum)
/// and those already there at the start that completed (their time before the window is in the
/// sum, not in the area). Each contributes at most its sojourn, and with FIFO service, at most
/// K − 1 messages ahead and every service at most s_max, a sojourn is at most K s_max. Hence
/// |L − X W| ≤ (in_system_start + in_system_end) K s_max / T. The same edge messages bound
/// |Lq − X Wq|, a wait being shorter than its sojourn (a wait counts at departure, so a message
/// in service at the end is an edge message for it as well). A relative 1e-9 covers rounding in
/// sums of about 1e4 terms.
#[test]
fn littles_law_holds_per_node_in_every_replication() {
    // About 4.5 events per simulated second: 6 × 2.2e4 s = 6e5 events.
    for replication in feedback_network(20_000.0, 2000.0, 6) {
        let window = replication.observed_s;
        for (index, (node, (capacity, longest))) in replication.nodes.iter().zip(FEEDBACK_BOUNDS).enumerate()
        {
            let metric = |m| node.metrics.get(m).unwrap_or_else(|| panic!("node {index}: no {m:?}"));
            let throughput = metric(NodeMetric::Throughput);
            let counts = node.counts;
            let edge = f64::from(counts.in_system_start + counts.in_system_end);
            let bound = edge * f64::from(capacity) * longest / window;
            for (length, time) in [
                (NodeMetric::MeanInSystem, NodeMetric::MeanSojourn),
                (NodeMetric::MeanInQueue, NodeMetric::MeanWait),
            ] {
                let (l, w) = (metric(length), metric(time));
                let (difference, tolerance) = ((l - throughput * w).abs(), bound + 1e-9 * l);
                println!(
                    "replication {} node {index}: {length:?} {l:.6}, X {time:?} {:.6}, difference {difference:.1e}, bound {tolerance:.1e}",
                    replication.index,
                    throughput * w,
                );
                assert!(
                    difference <= tolerance,
                    "replication {} node {index}: {length:?} {l} vs throughput {throughput} × {time:?} {w}, bound {tolerance}",
                    replication.index
                );
            }
        }
    }
}

/// Conservation per node, which needs no theory: with no warm-up every message offered to a node
/// was served, dropped or is still there, arrivals = departures + drops + in_system_end, exactly;
/// every drop is charged to the (only) source. After a warm-up the messages present when the
/// window opened join the left side.
#[test]
fn messages_are_conserved_per_node() {
    for (warmup_s, replications) in [(0.0, 4), (2000.0, 2)] {
        for replication in feedback_network(20_000.0, warmup_s, replications) {
            let context = format!("warm-up {warmup_s}s, replication {}", replication.index);
            let mut node_drops = 0;
            for node in &replication.nodes {
                let counts = node.counts;
                assert!(counts.drops > 0, "{context}: the test needs drops at every node: {counts:?}");
                if warmup_s == 0.0 {
                    assert_eq!(counts.in_system_start, 0, "{context}: {counts:?}");
                }
                assert_eq!(
                    counts.arrivals + u64::from(counts.in_system_start),
                    counts.departures + counts.drops + u64::from(counts.in_system_end),
                    "{context}: {counts:?}"
                );
                node_drops += counts.drops;
            }
            assert_eq!(node_drops, replication.sources[0].dropped, "{context}");
        }
    }
}
