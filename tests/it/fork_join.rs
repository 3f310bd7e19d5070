//! Fork/join: a fork exchange splits a job into parts and a join node gathers them; the latency
//! follows Nelson-Tantawi, the join releases one message per job, and a job whose parts are
//! dropped is lost.
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

use crate::support::{FEATURES, ScenarioBuilder, analysis, assert_analyzed, node_index, simulate, value};

/// The bindings of the fork `split`: one part to a, one to b.
const BRANCHES: [&str; 2] = [r#"{ to = "a" }"#, r#"{ to = "b" }"#];

/// The fields of the join node `gather`: infinitely many servers, deterministic 10 ms.
const GATHER: &str =
    "join = \"split\"\nservers = \"infinite\"\nservice = { dist = \"deterministic\", value = \"10ms\" }";

/// A Poisson source at `lambda` into a fork `split` whose two parts go to the single-server
/// exponential nodes a and b (mean 1 s; `a_extra` holds more fields of a), both routing to the
/// join node `gather`: infinitely many servers, deterministic 10 ms.
fn fork_join(duration_s: f64, warmup_s: f64, lambda: f64, a_extra: &str) -> String {
    ScenarioBuilder::simulated(duration_s, warmup_s, 20)
        .source("jobs", "split", lambda, "")
        .exchange("split", "fork", &BRANCHES, "")
        .node("a", 1, 1.0, &format!("routes = [{{ to = \"gather\" }}]\n{a_extra}"))
        .node("b", 1, 1.0, "routes = [{ to = \"gather\" }]")
        .node_with("gather", GATHER)
        .toml()
}

/// Fork/join: λ = 0.5/s, two identical M/M/1 branches (μ = 1/s, ρ = 0.5) fed the same Poisson
/// stream, joined, then 10 ms at the join. Flatto-Hahn / Nelson-Tantawi, exact for two
/// branches: E[max(T_a, T_b)] = ((12 − ρ)/8)/(μ − λ) = (11.5/8)/0.5 = 2.875 s (not the 3 s of
/// two independent Exp(0.5) sojourns), plus 0.01 s at the join: latency 2.885 s, also
/// `analyze`'s figure (labelled exact), to 1e-9.
///
/// Counts, exactly per replication with no warm-up: each job puts one part in a and one in b,
/// so arrivals(a) = arrivals(b) = the fork's routed count; both branches are FIFO with the same
/// arrival order, so the k-th departure of each is job k's part and the jobs complete are the
/// first min(departures(a), departures(b)): that many originals are released into the join,
/// arrivals(gather) = min(departures(a), departures(b)); gather routes to exit, so the source's
/// delivered count is departures(gather), and nothing is dropped. Hence the join's arrival rate
/// is λ (one message per job) in CI.
///
/// A part that is dropped loses its job. With a bounded to K = 2 (drop-tail), a's part is dropped
/// exactly when a is full on arrival: a is M/M/1/2 with Poisson arrivals, so
/// p_2 = ρ²(1 − ρ)/(1 − ρ³) = 0.125/0.875 = 0.142857 (PASTA), b never drops, and
/// all_delivered_fraction = 1 − p_2 = 0.857143.
///
/// 3 CI checks: latency, the join's arrival rate, all_delivered_fraction.
#[test]
fn fork_join_matches_nelson_tantawi_and_releases_one_message_per_job() {
    let (lambda, mu, join_s): (f64, f64, f64) = (0.5, 1.0, 0.01);
    let rho = lambda / mu;
    let latency = (12.0 - rho) / 8.0 / (mu - lambda) + join_s;
    assert!((latency - 2.885).abs() < 1e-12, "{latency}");
    let toml = fork_join(100_000.0, 0.0, lambda, "");
    let theory = analysis(&toml);
    let figure = theory.sources[0].metric(SourceMetric::LatencyMean).expect("a latency figure");
    assert!(figure.exact, "{figure:?}");
    assert_analyzed("fork/join analyze latency", figure.value, latency);

    // 4 events per job: 20 × 1e5 s × 2 = 4e6 events.
    let experiment = simulate(&toml);
    let (a, b, gather) =
        (node_index(&experiment, "a"), node_index(&experiment, "b"), node_index(&experiment, "gather"));
    FEATURES.assert_mean(
        "fork/join latency",
        experiment.summary.sources[0].get(SourceMetric::LatencyMean),
        latency,
    );
    FEATURES.assert_mean(
        "fork/join join arrival rate",
        experiment.summary.nodes[gather].get(NodeMetric::ArrivalRate),
        lambda,
    );
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let counts = |i: usize| replication.nodes[i].counts;
        assert_eq!(counts(a).arrivals, replication.exchanges[0].routed, "{context}");
        assert_eq!(counts(b).arrivals, replication.exchanges[0].routed, "{context}");
        assert_eq!(counts(gather).arrivals, counts(a).departures.min(counts(b).departures), "{context}");
        assert_eq!(replication.sources[0].delivered, counts(gather).departures, "{context}");
        assert_eq!(replication.sources[0].dropped, 0, "{context}");
        assert_eq!(value(&replication.sources[0].metrics, SourceMetric::AllDeliveredFraction), 1.0);
    }

    let lossy = simulate(&fork_join(50_000.0, 500.0, lambda, "capacity = 2\noverflow = \"drop-tail\""));
    let p2 = rho * rho * (1.0 - rho) / (1.0 - rho.powi(3));
    FEATURES.assert_mean(
        "fork/join with a dropping branch all_delivered_fraction",
        lossy.summary.sources[0].get(SourceMetric::AllDeliveredFraction),
        1.0 - p2,
    );
    for replication in &lossy.replications {
        assert!(value(&replication.sources[0].metrics, SourceMetric::AllDeliveredFraction) < 1.0);
    }
}

/// A fork job whose every part is dropped is reported lost.
///
/// Two identical branches of capacity 1 (drop-tail) with deterministic 1 s service behind a
/// fork, joined at `gather`; λ = 0.5/s. Both branches receive the same arrival instants and
/// serve for the same time, so their states are always equal: a job's two parts are admitted
/// together or dropped together, at the instant of the fork, and drops(a) = drops(b) exactly.
/// Each branch is M/D/1/1, whose loss probability is Erlang B(1, a = λ E[S] = 0.5) = a/(1 + a)
/// = 1/3 (insensitive to the service law, PASTA), so a third of the jobs never complete and
/// all_delivered_fraction is 2/3. Exactly per replication: the jobs ending in the window
/// are the originals delivered (the join releases them, they leave after `gather`) and the jobs
/// lost, whose parts were dropped at the same instant, drops(a) of them; so
/// all_delivered_fraction = delivered/(delivered + drops(a)).
///
/// Actual: 1.0 in every replication. `Messages::end_part` calls a job whose parts were never
/// gathered `Scattered` even when some part failed (`job.failed`), and `job_ended` closes a
/// scattered job as delivered without reporting it lost.
#[test]
fn a_fork_job_with_every_part_dropped_is_lost() {
    let branch = "capacity = 1\noverflow = \"drop-tail\"\nservice = { dist = \"deterministic\", value = \"1s\" }\nroutes = [{ to = \"gather\" }]";
    let toml = ScenarioBuilder::simulated(20_000.0, 100.0, 4)
        .source("jobs", "split", 0.5, "")
        .exchange("split", "fork", &BRANCHES, "")
        .node_with("a", branch)
        .node_with("b", branch)
        .node_with("gather", GATHER)
        .toml();
    let experiment = simulate(&toml);
    for replication in &experiment.replications {
        let context = format!("replication {}", replication.index);
        let (a, b) = (replication.nodes[0].counts, replication.nodes[1].counts);
        assert_eq!(a.drops, b.drops, "{context}: the branches are identical");
        assert!(a.drops > 0, "{context}");
        let delivered = replication.sources[0].delivered;
        #[allow(clippy::cast_precision_loss)] // counts far below 2^53
        let expected = delivered as f64 / (delivered + a.drops) as f64;
        let reported = value(&replication.sources[0].metrics, SourceMetric::AllDeliveredFraction);
        assert!(
            (reported - expected).abs() <= 1e-12,
            "{context}: all_delivered_fraction {reported}, expected {expected} ({delivered} delivered, {} lost)",
            a.drops
        );
    }
}
