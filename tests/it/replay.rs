//! Trace replay: a source sends the messages of a recorded trace, read relative to the scenario
//! file, with the headers it recorded; a missing or malformed trace is refused before anything
//! runs, naming the resolved path and line.

use std::fs;
use std::path::Path;

use kendall::experiment::{self, Experiment};
use kendall::scenario::{LoadedScenario, Overrides};

use crate::support::{kendall, run, temp, write_scenario};

/// A trace of `rows` messages 0.5 s apart (seconds in a `time` column), alternating keys "a" and
/// "b", written under `dir/traces/`.
fn write_trace(dir: &Path, rows: usize) {
    let mut text = String::from("time,key\n");
    for row in 0..rows {
        text.push_str(&format!("{},{}\n", 0.5 * row as f64, if row % 3 == 0 { "a" } else { "b" }));
    }
    fs::create_dir_all(dir.join("traces")).unwrap();
    fs::write(dir.join("traces/t.csv"), text).unwrap();
}

/// A source replaying `traces/t.csv` (`replay` mode) into a topic exchange that sends key "a" to
/// node `na` and "b" to `nb`, both with infinitely many servers.
fn replaying(replay: &str, duration: &str) -> String {
    format!(
        r#"
        [simulation]
        duration = "{duration}"
        warmup = "0s"
        replications = 3
        [[source]]
        name = "recorded"
        to = "x"
        arrivals = {{ trace = "traces/t.csv", replay = "{replay}" }}
        [[exchange]]
        name = "x"
        type = "direct"
        bindings = [{{ key = "a", to = "na" }}, {{ key = "b", to = "nb" }}]
        [[node]]
        name = "na"
        servers = "infinite"
        service = {{ dist = "exponential", mean = "1s" }}
        [[node]]
        name = "nb"
        servers = "infinite"
        service = {{ dist = "exponential", mean = "1s" }}
        "#
    )
}

fn replayed(replay: &str, duration: &str, rows: usize) -> Experiment {
    let dir = temp();
    write_trace(dir.path(), rows);
    let path = write_scenario(&dir, "replay.toml", &replaying(replay, duration));
    let loaded = LoadedScenario::load(&path, &Overrides::default()).expect("a valid scenario");
    experiment::run(loaded.scenario(), None, &|| {}).expect("thread pool")
}

/// Messages offered to each node in each replication.
fn arrivals(experiment: &Experiment) -> Vec<[u64; 2]> {
    experiment
        .replications
        .iter()
        .map(|record| [record.nodes[0].counts.arrivals, record.nodes[1].counts.arrivals])
        .collect()
}

#[test]
fn an_exact_replay_sends_every_recorded_message_with_its_key_in_every_replication() {
    // 100 rows: rows 0, 3, ..., 99 carry key "a" (34 of them), the other 66 "b"; the last is
    // at 49.5 s, inside the 60 s window.
    let experiment = replayed("exact", "60s", 100);
    assert_eq!(arrivals(&experiment), vec![[34, 66]; 3]);
}

#[test]
fn an_offset_replay_repeats_the_trace_from_a_different_start_in_each_replication() {
    // The period is 49.5 s + one mean gap of 0.5 s = 50 s, so 200 s hold exactly 4 laps of 100
    // messages whatever the shift, of which 136 carry "a".
    let experiment = replayed("offset", "200s", 100);
    let counts = arrivals(&experiment);
    for count in &counts {
        assert_eq!(count[0] + count[1], 400, "{counts:?}");
        // A lap starts anywhere, so the split can shift by a row or so at each end.
        assert!((134..=138).contains(&count[0]), "{counts:?}");
    }
}

#[test]
fn a_bootstrap_replay_keeps_the_trace_rate() {
    // Every gap is 0.5 s, so drawn gaps give exactly 2 messages a second: 399 or 400 in 200 s.
    let experiment = replayed("bootstrap", "200s", 100);
    for count in arrivals(&experiment) {
        assert!((399..=400).contains(&(count[0] + count[1])), "{count:?}");
    }
}

#[test]
fn a_missing_or_malformed_trace_is_refused_with_its_resolved_path_and_line() {
    let dir = temp();
    let path = write_scenario(&dir, "replay.toml", &replaying("exact", "60s"));
    let out = dir.path().join("out");
    let output = run(&path, &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let resolved = dir.path().join("traces/t.csv");
    assert!(stderr.contains(&resolved.display().to_string()), "{stderr}");
    assert!(stderr.contains("replay.toml:9:"), "the scenario line of the field: {stderr}");
    assert!(!out.exists());

    fs::create_dir_all(dir.path().join("traces")).unwrap();
    fs::write(&resolved, "time,key\n0,a\n1.5,b\n1.2,a\n").unwrap();
    let output = run(&path, &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 4") && stderr.contains("'time'"), "{stderr}");
    assert!(output.stdout.is_empty() && !out.exists());

    let check = kendall().arg("check").arg(&path).output().unwrap();
    assert_eq!(check.status.code(), Some(2));

    // A device is never read: /dev/zero would be read forever.
    let device =
        write_scenario(&dir, "device.toml", &replaying("exact", "60s").replace("traces/t.csv", "/dev/zero"));
    let check = kendall().arg("check").arg(&device).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/dev/zero: not a regular file"), "{stderr}");
}

#[test]
fn a_replay_mode_kendall_does_not_know_and_a_second_way_to_arrive_are_refused() {
    let dir = temp();
    write_trace(dir.path(), 10);
    let text = replaying("shuffle", "60s");
    let path = write_scenario(&dir, "bad-mode.toml", &text);
    let output = kendall().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("'replay' must be \"exact\""), "{stderr}");

    let text = replaying("exact", "60s")
        .replace("arrivals = {", "interarrival = { dist = \"exponential\", rate = 1 }\n        arrivals = {");
    let path = write_scenario(&dir, "both.toml", &text);
    let output = kendall().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("field 'arrivals'") && stderr.contains("'interarrival'"), "{stderr}");
}

#[test]
fn check_says_what_a_source_replays() {
    let dir = temp();
    write_trace(dir.path(), 100);
    let path = write_scenario(&dir, "replay.toml", &replaying("offset", "60s"));
    let output = kendall().arg("check").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("replays a trace: 100 messages over 49.5s (offset replay)"), "{stdout}");
    // 34 of the 100 rows carry key "a".
    assert!(stdout.contains("'a' (p 0.34)"), "{stdout}");
}
