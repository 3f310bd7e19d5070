//! The fluid prediction of load over time (issue 10): `kendall analyze` on a scenario whose
//! load follows the clock reports every node's peak backlog, when it is reached and how long it
//! takes to drain, withholds the steady-state figures (there is no steady state), and leaves
//! analysis.json of a steady scenario without the key.

use std::fs;

use kendall::report::AnalysisFile;

use crate::support::{analyze_cli, temp, write_scenario};

/// Analyses `toml` with `kendall analyze` and returns analysis.json.
fn analysis_json(toml: &str) -> AnalysisFile {
    let dir = temp();
    let path = write_scenario(&dir, "fluid.toml", toml);
    let out = dir.path().join("out");
    let output = analyze_cli(&path, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let text = fs::read_to_string(out.join("analysis.json")).expect("analysis.json is written");
    serde_json::from_str(&text).expect("analysis.json is an AnalysisFile")
}

fn assert_exact(what: &str, got: f64, expected: f64) {
    assert!((got - expected).abs() <= 1e-9 * (1.0 + expected.abs()), "{what}: {got}, expected {expected}");
}

/// One source at 10/s, 30/s over [100 s, 200 s), then 10/s, into c = 2 servers of mean 0.1 s
/// (cμ = 20/s). Fluid: q′ = 30 − 20 = 10/s during the burst, so 1000 messages wait at
/// t = 200 s; then q′ = 10 − 20 = −10/s drains them in 100 s. Over the window [0, 400 s] the
/// mean rate is (10 × 300 + 30 × 100)/400 = 15/s: ρ = 0.75.
const BURST: &str = r#"
    [simulation]
    duration = "400s"
    warmup = "0s"
    sample_every = "10s"
    [[source]]
    name = "orders"
    to = "worker"
    schedule = [{ at = "0s", rate = 10 }, { at = "100s", rate = 30 }, { at = "200s", rate = 10 }]
    [[node]]
    name = "worker"
    servers = 2
    service = { dist = "exponential", mean = "0.1s" }
"#;

#[test]
fn a_burst_peaks_and_drains_as_the_fluid_says_and_withholds_steady_state_figures() {
    let file = analysis_json(BURST);
    let load = file.load_over_time.expect("a time-varying scenario has a fluid prediction");
    assert_eq!(load.horizon_s, Some(400.0));
    let worker = &load.nodes[0];
    assert_exact("peak", worker.peak_backlog, 1000.0);
    assert_exact("peak at", worker.peak_at_s, 200.0);
    assert_exact("drain", worker.drain_s.expect("drained by 400 s"), 100.0);
    assert_exact("rho over the window", file.nodes[0].utilization, 0.75);
    for (key, figure) in &file.nodes[0].metrics {
        assert_eq!(figure.value, None, "{key} has no steady state");
        assert!(figure.reason.as_deref().is_some_and(|r| r.contains("time-varying")), "{key}: {figure:?}");
    }
}

/// One server of mean 0.1 s (μ = 10/s) at 5/s, with no server over [100 s, 160 s]: the outage
/// piles up 5 × 60 = 300 messages by t = 160 s, which drain at cμ − λ = 5/s in 60 s.
#[test]
fn an_outage_builds_lambda_times_its_length_and_drains_at_the_spare_capacity() {
    let toml = r#"
        [simulation]
        duration = "400s"
        warmup = "0s"
        [[source]]
        name = "orders"
        to = "worker"
        interarrival = { dist = "exponential", rate = 5 }
        [[node]]
        name = "worker"
        servers_schedule = [{ at = "0s", servers = 1 }, { at = "100s", servers = 0 }, { at = "160s", servers = 1 }]
        service = { dist = "exponential", mean = "0.1s" }
    "#;
    let load = analysis_json(toml).load_over_time.expect("a fluid prediction");
    let worker = &load.nodes[0];
    assert_exact("peak", worker.peak_backlog, 300.0);
    assert_exact("peak at", worker.peak_at_s, 160.0);
    assert_exact("drain", worker.drain_s.expect("drained by 400 s"), 60.0);
}

/// A tandem: a (μ = 10/s) passes at most 10/s of a 15/s burst over [100 s, 200 s), so b
/// (μ = 8/s) grows at 10 − 8 = 2/s while a is backlogged (until a drains at t = 300 s): 400
/// messages, drained at 8 − 5 = 3/s in 400/3 s.
#[test]
fn an_overloaded_node_caps_what_the_next_one_receives() {
    let toml = r#"
        [simulation]
        duration = "500s"
        warmup = "0s"
        [[source]]
        name = "orders"
        to = "a"
        schedule = [{ at = "0s", rate = 5 }, { at = "100s", rate = 15 }, { at = "200s", rate = 5 }]
        [[node]]
        name = "a"
        servers = 1
        service = { dist = "exponential", mean = "0.1s" }
        routes = [{ to = "b" }]
        [[node]]
        name = "b"
        servers = 1
        service = { dist = "exponential", mean = "0.125s" }
    "#;
    let load = analysis_json(toml).load_over_time.expect("a fluid prediction");
    assert_exact("a peak", load.nodes[0].peak_backlog, 500.0);
    assert_exact("b peak", load.nodes[1].peak_backlog, 400.0);
    assert_exact("b peak at", load.nodes[1].peak_at_s, 300.0);
    assert_exact("b drain", load.nodes[1].drain_s.expect("drained by 500 s"), 400.0 / 3.0);
}

/// A linear ramp from 0 to 20/s at 100 s and back to 0 at 200 s into μ = 10/s: the queue grows
/// from t = 50 s to t = 150 s, to ∫₅₀¹⁵⁰ (λ − 10) dt = 500, and is empty at t = 225 s.
#[test]
fn a_linear_ramp_peaks_where_the_rate_falls_back_to_capacity() {
    let toml = r#"
        [simulation]
        duration = "300s"
        warmup = "0s"
        [[source]]
        name = "orders"
        to = "worker"
        schedule = [{ at = "0s", rate = 0 }, { at = "100s", rate = 20 }, { at = "200s", rate = 0 }]
        shape = "linear"
        [[node]]
        name = "worker"
        servers = 1
        service = { dist = "exponential", mean = "0.1s" }
    "#;
    let load = analysis_json(toml).load_over_time.expect("a fluid prediction");
    assert!(!load.exact, "a linear schedule is integrated in steps");
    let worker = &load.nodes[0];
    assert!((worker.peak_backlog - 500.0).abs() < 1e-6, "{worker:?}");
    assert!((worker.peak_at_s - 150.0).abs() < 1e-6, "{worker:?}");
    assert!((worker.drain_s.expect("drained") - 75.0).abs() < 1e-6, "{worker:?}");
}

/// A fanout copies the burst to both subscribers: p (μ = 20/s) grows at 10/s to 1000, q
/// (μ = 40/s) never queues.
#[test]
fn a_fanout_copies_the_burst_to_every_subscriber() {
    let toml = r#"
        [simulation]
        duration = "400s"
        warmup = "0s"
        [[source]]
        name = "orders"
        to = "fan"
        schedule = [{ at = "0s", rate = 10 }, { at = "100s", rate = 30 }, { at = "200s", rate = 10 }]
        [[exchange]]
        name = "fan"
        type = "fanout"
        bindings = [{ to = "p" }, { to = "q" }]
        [[node]]
        name = "p"
        servers = 1
        service = { dist = "exponential", mean = "0.05s" }
        [[node]]
        name = "q"
        servers = 1
        service = { dist = "exponential", mean = "0.025s" }
    "#;
    let load = analysis_json(toml).load_over_time.expect("a fluid prediction");
    assert_exact("p peak", load.nodes[0].peak_backlog, 1000.0);
    assert_exact("p drain", load.nodes[0].drain_s.expect("drained"), 100.0);
    assert_exact("q peak", load.nodes[1].peak_backlog, 0.0);
}

/// A steady scenario's analysis.json has no `load_over_time` key: its output is unchanged.
#[test]
fn a_steady_scenario_has_no_load_over_time() {
    let toml = r#"
        [[source]]
        name = "orders"
        to = "worker"
        interarrival = { dist = "exponential", rate = 10 }
        [[node]]
        name = "worker"
        servers = 2
        service = { dist = "exponential", mean = "0.1s" }
    "#;
    let dir = temp();
    let path = write_scenario(&dir, "steady.toml", toml);
    let out = dir.path().join("out");
    assert_eq!(analyze_cli(&path, &out, &[]).status.code(), Some(0));
    let text = fs::read_to_string(out.join("analysis.json")).expect("analysis.json is written");
    assert!(!text.contains("load_over_time"), "{text}");
    assert_eq!(analysis_json(toml).load_over_time, None);
}
