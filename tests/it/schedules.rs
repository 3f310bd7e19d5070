//! Schedules in a scenario file: a source's rate schedule (`schedule`, `shape`, `repeat`), a
//! node's `servers_schedule`, and `[simulation] sample_every`. Accepted files give the model
//! values computed by hand; `load` scales a schedule; every bad input exits 2 naming the file,
//! line, column and field, and writes nothing.

use std::path::Path;

use kendall::model::{Pattern, Servers, Shape};
use kendall::scenario::{LoadedScenario, Overrides, Variation, vary};

use crate::support::{
    ScenarioBuilder, assert_close, assert_rejected, kendall, run, scenario, temp, write_scenario,
};

/// A node "worker" of 2 exponential servers of mean 10 ms.
const WORKER: &str =
    "[[node]]\nname = \"worker\"\nservers = 2\nservice = { dist = \"exponential\", mean = \"10ms\" }\n";

/// A scenario with `[simulation]` fields, a source "orders" to "worker" with `fields`, and `node`.
fn with_source(simulation: &str, fields: &str, node: &str) -> String {
    ScenarioBuilder::settings(simulation)
        .text(&format!("[[source]]\nname = \"orders\"\nto = \"worker\"\n{fields}\n\n"))
        .text(node)
        .toml()
}

/// A scheduled source "orders" into [`WORKER`], warm-up 50 s, duration 150 s.
fn scheduled(fields: &str) -> String {
    with_source("duration = \"150s\"\nwarmup = \"50s\"", fields, WORKER)
}

/// A Poisson source into a node "worker" with `node_fields`, warm-up 0 s, duration 1 h.
fn staffed(node_fields: &str) -> String {
    ScenarioBuilder::settings("duration = \"1h\"\nwarmup = \"0s\"")
        .source("orders", "worker", 3.0, "")
        .node_with(
            "worker",
            &format!("service = {{ dist = \"exponential\", mean = \"10ms\" }}\n{node_fields}"),
        )
        .toml()
}

#[test]
fn a_step_schedule_gives_the_source_its_mean_rate_over_the_observed_window() {
    let parsed = scenario(&scheduled(
        "schedule = [{ at = 0, rate = 10 }, { at = \"100s\", rate = 30 }, { at = \"2m30s\", rate = 10 }]",
    ));
    let source = &parsed.network().sources()[0];
    let schedule = source.schedule().expect("a rate schedule");
    assert_eq!(schedule.points().collect::<Vec<_>>(), [(0.0, 10.0), (100.0, 30.0), (150.0, 10.0)]);
    assert_eq!((schedule.shape(), schedule.period()), (Shape::Step, None));
    // Window [50 s, 200 s]: 50 s at 10, 50 s at 30, 50 s at 10, so (500 + 1500 + 500) / 150.
    assert_close("window-mean rate", source.open_rate().unwrap(), 2500.0 / 150.0);
    // Without an interarrival the gaps are exponential: a non-homogeneous Poisson process.
    assert!(source.is_poisson());
}

#[test]
fn a_linear_repeating_schedule_averages_its_trapezoids_over_the_window() {
    let text = with_source(
        "duration = \"200s\"\nwarmup = \"50s\"",
        "schedule = [{ at = \"0s\", rate = 0 }, { at = \"100s\", rate = 20 }]\nshape = \"linear\"\nrepeat = \"200s\"",
        WORKER,
    );
    let parsed = scenario(&text);
    let source = &parsed.network().sources()[0];
    let schedule = source.schedule().expect("a rate schedule");
    assert_eq!((schedule.shape(), schedule.period()), (Shape::Linear, Some(200.0)));
    // The rate rises 0 → 20 over [0, 100], falls back to 0 over [100, 200], and repeats.
    // Window [50, 250]: ∫₅₀¹⁰⁰ 0.2t dt = 750, the falling triangle 1000, ∫₂₀₀²⁵⁰ 0.2(t − 200) dt
    // = 250; (750 + 1000 + 250) / 200 = 10 per second.
    assert_close("window-mean rate", source.open_rate().unwrap(), 10.0);
}

#[test]
fn an_interarrival_beside_a_schedule_gives_the_shape_of_the_gaps_and_the_schedule_their_rate() {
    let points =
        "schedule = [{ at = \"0s\", rate = 10 }, { at = \"100s\", rate = 30 }, { at = \"150s\", rate = 10 }]";
    for (interarrival, scv) in [
        ("{ dist = \"gamma\", cv = 2.0 }", 4.0),
        ("{ dist = \"gamma\", mean = \"1h\", cv = 0.5 }", 0.25),
        ("{ dist = \"erlang\", k = 4 }", 0.25),
        ("{ dist = \"deterministic\", value = \"3s\" }", 0.0),
        ("{ dist = \"exponential\", rate = 99 }", 1.0),
    ] {
        let parsed = scenario(&scheduled(&format!("interarrival = {interarrival}\n{points}")));
        let source = &parsed.network().sources()[0];
        assert_close(interarrival, source.gap().mean(), 150.0 / 2500.0);
        assert_close(interarrival, source.gap().scv(), scv);
        assert!(matches!(
            source.arrivals(),
            kendall::model::Arrivals::Open { pattern: Pattern::Scheduled(_), .. }
        ));
    }
}

#[test]
fn a_servers_schedule_gives_the_node_its_largest_count_and_its_steps() {
    let parsed = scenario(&staffed(
        "servers_schedule = [{ at = \"0s\", servers = 10 }, { at = \"1000s\", servers = 0 }, { at = \"20m\", servers = 14 }]\nrepeat = \"1h30m\"",
    ));
    let node = &parsed.network().nodes()[0];
    assert_eq!(node.servers(), Servers::Finite(14));
    let schedule = node.servers_schedule().expect("a servers schedule");
    assert_eq!(schedule.points().collect::<Vec<_>>(), [(0.0, 10.0), (1000.0, 0.0), (1200.0, 14.0)]);
    assert_eq!((schedule.shape(), schedule.period()), (Shape::Step, Some(5400.0)));
}

#[test]
fn sample_every_is_read_as_a_duration() {
    let text = ScenarioBuilder::settings("duration = \"1h\"\nsample_every = \"10s\"")
        .source("orders", "worker", 3.0, "")
        .node("worker", 1, 0.01, "")
        .toml();
    assert_eq!(scenario(&text).settings().sample_every(), Some(10.0));
    let without =
        ScenarioBuilder::new().source("orders", "worker", 3.0, "").node("worker", 1, 0.01, "").toml();
    assert_eq!(scenario(&without).settings().sample_every(), None);
}

#[test]
fn load_multiplies_every_rate_of_a_schedule() {
    let text = scheduled(
        "schedule = [{ at = \"0s\", rate = 10 }, { at = \"100s\", rate = 30 }, { at = \"150s\", rate = 10 }]",
    );
    let base = LoadedScenario::parse(&text, "load", Path::new("load.toml"), &Overrides::default()).unwrap();
    let doubled = vary(&base, &["load=2".parse::<Variation>().unwrap()]).unwrap();
    let source = &doubled.scenario().network().sources()[0];
    let points: Vec<(f64, f64)> = source.schedule().unwrap().points().collect();
    assert_eq!(points, [(0.0, 20.0), (100.0, 60.0), (150.0, 20.0)]);
    assert_close("doubled window-mean rate", source.open_rate().unwrap(), 2.0 * 2500.0 / 150.0);
}

#[test]
fn check_describes_the_schedules_and_the_time_series() {
    let dir = temp();
    let text = with_source(
        "duration = \"3h\"\nwarmup = \"0s\"\nsample_every = \"10s\"",
        "schedule = [{ at = \"0s\", rate = 400 }, { at = \"2h\", rate = 1200 }, { at = \"2h30m\", rate = 400 }]\nrepeat = \"24h\"",
        "[[node]]\nname = \"worker\"\nservice = { dist = \"exponential\", mean = \"1ms\" }\nservers_schedule = [{ at = \"0s\", servers = 1 }, { at = \"1h\", servers = 2 }]\n",
    );
    let path = write_scenario(&dir, "peak.toml", &text);
    let output = kendall().arg("check").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // (2h × 400 + 30m × 1200 + 30m × 400) / 3h = 533.33 per second.
    for line in [
        "time series: every 10s (1080 intervals per replication)",
        "source orders: 533.3 messages/s (the schedule's mean over the observed window)",
        "rate schedule: 400/s at 0s, 1200/s at 7200s, 400/s at 9000s (step, repeating every 86400s)",
        "servers over time: 1 at 0s, 2 at 3600s (step, the last held for ever)",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from {stdout}");
    }
}

/// Every malformed source schedule: the message names the file, line and column, and the field.
#[test]
fn bad_rate_schedules_are_rejected_naming_the_point_and_the_field() {
    for (name, fields, line_column, message) in [
        (
            "decreasing.toml",
            "schedule = [{ at = \"0s\", rate = 400 }, { at = \"2h30m\", rate = 1200 }, { at = \"2h\", rate = 400 }]",
            ":7:78:",
            "source 'orders' field 'schedule' point 3: 'at' 2h must be after the previous point's 2h30m",
        ),
        (
            "negative.toml",
            "schedule = [{ at = \"0s\", rate = 400 }, { at = \"1m\", rate = -5 }]",
            ":7:60:",
            "source 'orders' field 'schedule' point 2: 'rate' must be a number of messages per second >= 0, got -5",
        ),
        ("empty.toml", "schedule = []", ":7:12:", "source 'orders' field 'schedule' is empty"),
        (
            "late_start.toml",
            "schedule = [{ at = \"10s\", rate = 400 }]",
            ":7:20:",
            "source 'orders' field 'schedule' point 1: 'at' must be 0s (the start of the run), got 10s",
        ),
        (
            "shape.toml",
            "schedule = [{ at = \"0s\", rate = 4 }]\nshape = \"cubic\"",
            ":8:9:",
            "source 'orders' field 'shape': unknown shape 'cubic', expected \"step\" or \"linear\"",
        ),
        (
            "short_repeat.toml",
            "schedule = [{ at = \"0s\", rate = 4 }, { at = \"2h\", rate = 8 }]\nrepeat = \"1h\"",
            ":8:10:",
            "source 'orders' field 'repeat' 1h must be longer than the last point's 'at' 2h",
        ),
        (
            "lone_repeat.toml",
            "interarrival = { dist = \"exponential\", rate = 4.0 }\nrepeat = \"1h\"",
            ":8:10:",
            "source 'orders' field 'repeat' applies to a 'schedule', and there is none",
        ),
        (
            "lone_shape.toml",
            "interarrival = { dist = \"exponential\", rate = 4.0 }\nshape = \"linear\"",
            ":8:9:",
            "source 'orders' field 'shape' applies to a 'schedule', and there is none",
        ),
        (
            "silent.toml",
            "schedule = [{ at = \"0s\", rate = 4 }, { at = \"1s\", rate = 0 }]",
            ":7:12:",
            "source 'orders' field 'schedule': the schedule's rate is 0 over the whole observed window, from 10s to 1m50s",
        ),
        (
            "closed.toml",
            "population = 4\nthink = { dist = \"exponential\", mean = \"1s\" }\nschedule = [{ at = \"0s\", rate = 4 }]",
            ":9:12:",
            "source 'orders' field 'schedule': a schedule sets the rate of an open source, and request-reply clients",
        ),
        (
            "missing_rate.toml",
            "schedule = [{ at = \"0s\" }]",
            ":7:13:",
            "field 'source.schedule': missing field `rate`",
        ),
        (
            "negative_at.toml",
            "schedule = [{ at = \"0s\", rate = 4 }, { at = \"-1s\", rate = 4 }]",
            ":7:45:",
            "field 'source.schedule.at': invalid duration '-1s'",
        ),
    ] {
        // The warm-up is 10 s and `assert_rejected` runs for 100 s.
        let text = with_source("warmup = \"10s\"", fields, WORKER);
        assert_rejected(name, &text, &[&format!("{name}{line_column} {message}")]);
    }
}

/// Every malformed servers schedule.
#[test]
fn bad_servers_schedules_are_rejected_naming_the_point_and_the_field() {
    for (name, fields, line_column, message) in [
        (
            "fraction.toml",
            "servers_schedule = [{ at = \"0s\", servers = 2.5 }]",
            ":13:44:",
            "node 'worker' field 'servers_schedule' point 1: 'servers' must be a whole number from 0 to 1000000, got 2.5",
        ),
        (
            "no_server.toml",
            "servers_schedule = [{ at = \"0s\", servers = 0 }, { at = \"1m\", servers = 0 }]",
            ":13:20:",
            "node 'worker' field 'servers_schedule' never has a server",
        ),
        (
            "both.toml",
            "servers = 3\nservers_schedule = [{ at = \"0s\", servers = 2 }]",
            ":13:11:",
            "node 'worker': give either 'servers' or 'servers_schedule', not both",
        ),
        (
            "decreasing.toml",
            "servers_schedule = [{ at = \"0s\", servers = 2 }, { at = \"1m\", servers = 1 }, { at = \"30s\", servers = 3 }]",
            ":13:84:",
            "node 'worker' field 'servers_schedule' point 3: 'at' 30s must be after the previous point's 1m",
        ),
        (
            "lone_repeat.toml",
            "servers = 3\nrepeat = \"1h\"",
            ":14:10:",
            "node 'worker' field 'repeat' applies to a 'servers_schedule', and there is none",
        ),
        (
            "short_repeat.toml",
            "servers_schedule = [{ at = \"0s\", servers = 2 }, { at = \"1h\", servers = 1 }]\nrepeat = \"30m\"",
            ":14:10:",
            "node 'worker' field 'repeat' 30m must be longer than the last point's 'at' 1h",
        ),
        ("empty.toml", "servers_schedule = []", ":13:20:", "node 'worker' field 'servers_schedule' is empty"),
        (
            "capacity.toml",
            "servers_schedule = [{ at = \"0s\", servers = 2 }, { at = \"1h\", servers = 5 }]\ncapacity = 4",
            ":14:12:",
            "node 'worker' field 'capacity' (4) counts waiting and in-service messages, so it must be at least the servers_schedule's largest count (5)",
        ),
    ] {
        assert_rejected(name, &staffed(fields), &[&format!("{name}{line_column} {message}")]);
    }
}

#[test]
fn bad_sample_every_is_rejected_with_the_number_of_intervals() {
    let text = |every: &str| {
        ScenarioBuilder::settings(&format!("warmup = \"0s\"\nsample_every = {every}"))
            .source("orders", "worker", 3.0, "")
            .node("worker", 1, 0.01, "")
            .toml()
    };
    // `assert_rejected` runs for 100 s: 100 s / 10 us = 10^7 intervals.
    assert_rejected(
        "fine.toml",
        &text("\"10us\""),
        &[
            "fine.toml:3:16: [simulation] field 'sample_every' 10us cuts each replication's 1m40s (warm-up included) into 10000000 intervals, more than 1000000",
        ],
    );
    assert_rejected(
        "zero.toml",
        &text("0"),
        &["zero.toml:3:16: [simulation] field 'sample_every' must be positive, got 0s"],
    );
}

/// An automatic warm-up waits for a steady state that a schedule never reaches.
#[test]
fn an_automatic_warmup_is_refused_when_the_load_follows_the_clock() {
    let steps = "servers_schedule = [{ at = \"0s\", servers = 1 }, { at = \"10s\", servers = 2 }]";
    let text = ScenarioBuilder::settings("warmup = \"auto\"")
        .source("orders", "worker", 3.0, "")
        .node_with("worker", &format!("service = {{ dist = \"exponential\", mean = \"10ms\" }}\n{steps}"))
        .toml();
    assert_rejected(
        "auto.toml",
        &text,
        &[
            "auto.toml:2:10: [simulation] field 'warmup' \"auto\" chooses a warm-up by waiting for the load to settle, but node 'worker' follows a servers_schedule",
            "warmup = \"0s\"",
        ],
    );
    // The same from the command line: nothing is written.
    let dir = temp();
    let path = write_scenario(&dir, "flag.toml", &scheduled("schedule = [{ at = \"0s\", rate = 4 }]"));
    let out = dir.path().join("out");
    let output = run(&path, &out, &["--warmup", "auto"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--warmup auto chooses a warm-up")
            && stderr.contains("source 'orders' follows a rate schedule"),
        "{stderr}"
    );
    assert!(!out.exists());
}
