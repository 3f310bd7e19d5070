//! The command line: exit codes, error messages, output files.
//!
//! Every run writes into a temporary directory (`--out`) and is kept small (a few replications of
//! a few thousand simulated seconds), so that the module runs in well under a second of simulation.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Output;

use kendall::report::SummaryFile;
use tempfile::TempDir;

use crate::support::{ScenarioBuilder, assert_rejected, kendall, run, temp, write_scenario};

/// The shipped M/M/1 scenario (rho = 0.9), used as a fixture.
const MM1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mm1.toml");

/// Node metric keys that summary.json promises (more may be added, none renamed).
const NODE_METRICS: [&str; 14] = [
    "arrival_rate",
    "throughput",
    "utilization",
    "mean_in_system",
    "mean_in_queue",
    "mean_wait",
    "mean_sojourn",
    "wait_p50",
    "wait_p95",
    "wait_p99",
    "sojourn_p50",
    "sojourn_p95",
    "sojourn_p99",
    "drop_probability",
];

/// Source metric keys that summary.json promises.
const SOURCE_METRICS: [&str; 6] =
    ["latency_mean", "latency_p50", "latency_p95", "latency_p99", "throughput", "delivered_fraction"];

/// Like [`run`], asserting exit status 0.
fn run_ok(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    let output = run(scenario, out, extra);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn read_summary(dir: &Path) -> SummaryFile {
    let text = fs::read_to_string(dir.join("summary.json")).expect("summary.json is written");
    serde_json::from_str(&text).expect("summary.json parses as SummaryFile")
}

/// The records of a CSV file after checking its header.
fn read_csv(path: &Path, header: &[&str]) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_path(path).expect("the CSV file is written");
    assert_eq!(reader.headers().expect("a header"), header, "{}", path.display());
    reader.records().collect::<Result<_, _>>().expect("well-formed CSV records")
}

/// `kendall run scenarios/mm1.toml` writes the three files, with every contract field of
/// summary.json, one summary.csv row per metric and one replications.csv row per replication and
/// metric.
#[test]
fn run_writes_the_three_output_files() {
    let out = temp();
    run_ok(Path::new(MM1), out.path(), &["--duration", "2000s", "--replications", "4"]);

    let summary = read_summary(out.path());
    assert_eq!(summary.scenario, "mm1");
    assert_eq!(summary.replications, 4);
    assert_eq!(summary.seed, 1);
    assert_eq!(summary.duration, 2000.0);
    assert_eq!(summary.warmup, 1000.0);
    assert!(summary.events > 0);
    assert!(summary.wall_seconds >= 0.0);
    assert_eq!(summary.stopped_early, 0);
    assert_eq!(summary.nodes.len(), 1);
    let node = &summary.nodes[0];
    assert_eq!(node.name, "server");
    assert_eq!(node.servers, Some(1));
    assert_eq!(node.capacity, None);
    for key in NODE_METRICS {
        assert!(node.metrics.contains_key(key), "node metric {key} missing");
    }
    assert_eq!(summary.sources.len(), 1);
    assert_eq!(summary.sources[0].name, "clients");
    for key in SOURCE_METRICS {
        assert!(summary.sources[0].metrics.contains_key(key), "source metric {key} missing");
    }

    // summary.csv: exactly one row per (scope, name, metric) of summary.json, same means.
    let rows = read_csv(
        &out.path().join("summary.csv"),
        &["scope", "name", "metric", "mean", "ci_low", "ci_high", "n"],
    );
    let node_rows = node.metrics.iter().map(|(key, entry)| (("node", "server", key.as_str()), entry.mean));
    let source_rows = summary.sources[0]
        .metrics
        .iter()
        .map(|(key, entry)| (("source", "clients", key.as_str()), entry.mean));
    let expected: BTreeMap<_, _> = node_rows.chain(source_rows).collect();
    let found: BTreeMap<_, _> = rows
        .iter()
        .map(|row| {
            let mean = (!row[3].is_empty()).then(|| row[3].parse::<f64>().expect("a number"));
            ((&row[0], &row[1], &row[2]), mean)
        })
        .collect();
    assert_eq!(rows.len(), expected.len(), "one row per metric");
    assert!(found.keys().eq(expected.keys()), "{:?} != {:?}", found.keys(), expected.keys());
    // serde_json without its float_roundtrip feature may parse a number one ulp off what was
    // written, so the means agree to a relative 1e-12 rather than exactly.
    for (key, csv_mean) in &found {
        match (csv_mean, expected[key]) {
            (Some(csv), Some(json)) => assert!((csv - json).abs() <= 1e-12 * json.abs(), "{key:?}"),
            (csv, json) => assert_eq!(*csv, json, "{key:?}"),
        }
    }

    // replications.csv: replications x (node metrics + source metrics) rows, indices 0..4.
    let rows =
        read_csv(&out.path().join("replications.csv"), &["replication", "scope", "name", "metric", "value"]);
    let per_replication = node.metrics.len() + summary.sources[0].metrics.len();
    assert_eq!(rows.len(), 4 * per_replication);
    let indices: BTreeSet<&str> = rows.iter().map(|row| row.get(0).expect("a column")).collect();
    assert_eq!(indices, BTreeSet::from(["0", "1", "2", "3"]));
}

/// Results depend on the seed, not on the number of worker threads (replications are collected
/// in index order and reduced serially).
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (one, two) = (temp(), temp());
    let args = ["--duration", "2000s", "--replications", "6"];
    run_ok(Path::new(MM1), one.path(), &[&args[..], &["--threads", "1"]].concat());
    run_ok(Path::new(MM1), two.path(), &[&args[..], &["--threads", "2"]].concat());

    let (mut first, mut second) = (read_summary(one.path()), read_summary(two.path()));
    first.wall_seconds = 0.0;
    second.wall_seconds = 0.0;
    assert_eq!(first, second);
    let bytes = |dir: &TempDir| fs::read(dir.path().join("replications.csv")).expect("replications.csv");
    assert_eq!(bytes(&one), bytes(&two));
}

/// `--replications`, `--seed`, `--duration` (with a unit) and `--warmup` override the file and
/// appear in summary.json.
#[test]
fn flags_override_the_file_settings() {
    let out = temp();
    let args = ["--replications", "3", "--seed", "42", "--duration", "25m", "--warmup", "100s"];
    run_ok(Path::new(MM1), out.path(), &args);
    let summary = read_summary(out.path());
    assert_eq!(summary.replications, 3);
    assert_eq!(summary.seed, 42);
    assert_eq!(summary.duration, 1500.0);
    assert_eq!(summary.warmup, 100.0);
    let rows =
        read_csv(&out.path().join("replications.csv"), &["replication", "scope", "name", "metric", "value"]);
    let indices: BTreeSet<&str> = rows.iter().map(|row| row.get(0).expect("a column")).collect();
    assert_eq!(indices, BTreeSet::from(["0", "1", "2"]));
}

/// A duration flag takes what a file takes: a bare number in exponent form is seconds; a
/// negative one is refused by kendall's own message (exit 2, nothing written), not by clap's
/// tip to write `-- -5`.
#[test]
fn duration_flags_read_like_the_file() {
    let out = temp();
    run_ok(Path::new(MM1), out.path(), &["--replications", "2", "--duration", "2e3", "--warmup", "1E2"]);
    let summary = read_summary(out.path());
    assert_eq!((summary.duration, summary.warmup), (2000.0, 100.0));
    let refused = temp();
    let output = run(Path::new(MM1), &refused.path().join("out"), &["--duration", "-5"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("invalid duration '-5'") && !stderr.contains("-- -5"), "{stderr}");
    assert!(!refused.path().join("out").exists());
}

/// `--format json` prints the summary.json document on standard output.
#[test]
fn json_format_prints_the_summary() {
    let out = temp();
    let output = run_ok(
        Path::new(MM1),
        out.path(),
        &["--duration", "2000s", "--replications", "4", "--format", "json"],
    );
    let printed: SummaryFile = serde_json::from_slice(&output.stdout).expect("stdout parses as SummaryFile");
    assert_eq!(printed, read_summary(out.path()));
}

/// Another seed gives other random streams, hence other estimates.
#[test]
fn another_seed_gives_other_results() {
    let (first, second) = (temp(), temp());
    let args = ["--duration", "2000s", "--replications", "4"];
    run_ok(Path::new(MM1), first.path(), &[&args[..], &["--seed", "7"]].concat());
    run_ok(Path::new(MM1), second.path(), &[&args[..], &["--seed", "8"]].concat());
    let (first, second) = (read_summary(first.path()), read_summary(second.path()));
    assert_ne!(first.nodes[0].metrics, second.nodes[0].metrics);
    assert_ne!(first.events, second.events);
}

/// Text that is not TOML: the parser's position and message.
#[test]
fn malformed_toml_is_rejected() {
    assert_rejected("malformed.toml", "name = \"mm1\n[[source]]\n", &["malformed.toml:1:", "string"]);
}

/// A misspelt field is named, with its line, and the accepted fields listed.
#[test]
fn unknown_field_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
srvers = 2
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected("unknown_field.toml", text, &["unknown_field.toml:8:", "srvers", "servers"]);
}

/// A source sending to a node that does not exist.
#[test]
fn unknown_source_target_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "sever"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected("unknown_to.toml", text, &["unknown_to.toml:3:", "'to'", "sever"]);
}

/// A route to a node that does not exist.
#[test]
fn unknown_route_target_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
routes = [{ to = "db" }]
"#;
    assert_rejected("unknown_route.toml", text, &["unknown_route.toml:9:", "routes", "'db'"]);
}

/// A negative arrival rate.
#[test]
fn negative_rate_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = -0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected("negative_rate.toml", text, &["negative_rate.toml:4:", "interarrival", "rate", "-0.5"]);
}

/// A zero arrival rate (no traffic, an infinite mean inter-arrival time).
#[test]
fn zero_rate_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected("zero_rate.toml", text, &["zero_rate.toml:4:", "interarrival", "rate"]);
}

/// A node with no server.
#[test]
fn zero_servers_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
servers = 0
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected("zero_servers.toml", text, &["zero_servers.toml:8:", "servers", "got 0"]);
}

/// Route probabilities that sum to 0.8, not 1.
#[test]
fn probabilities_not_summing_to_one_are_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
routes = [{ to = "exit", p = 0.5 }, { to = "server", p = 0.3 }]
"#;
    assert_rejected("route_sum.toml", text, &["route_sum.toml:9:", "routes", "sum to 1", "0.8"]);
}

/// a -> b -> a with no route to exit: messages would circulate forever.
#[test]
fn cycle_without_exit_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "a"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "a"
service = { dist = "exponential", mean = "1s" }
routes = [{ to = "b" }]

[[node]]
name = "b"
service = { dist = "exponential", mean = "1s" }
routes = [{ to = "a" }]
"#;
    assert_rejected("cycle.toml", text, &["cycle.toml:6:", "node 'a'", "exit"]);
}

/// A distribution family kendall does not know.
#[test]
fn unknown_distribution_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "poisson", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected(
        "unknown_dist.toml",
        text,
        &["unknown_dist.toml:4:", "interarrival", "'poisson'", "exponential"],
    );
}

/// A gamma service time without its coefficient of variation.
#[test]
fn distribution_missing_a_field_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "gamma", mean = "1s" }
"#;
    assert_rejected("gamma.toml", text, &["gamma.toml:8:", "service", "gamma", "cv"]);
}

/// A field that the family does not take (an exponential has cv = 1 by definition).
#[test]
fn distribution_with_a_stray_field_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s", cv = 2.0 }
"#;
    assert_rejected("stray.toml", text, &["stray.toml:8:", "service", "exponential", "cv"]);
}

/// Capacity counts messages in service too, so it cannot be below the number of servers.
#[test]
fn capacity_below_servers_is_rejected() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
servers = 4
capacity = 2
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected("capacity.toml", text, &["capacity.toml:9:", "capacity", "servers"]);
}

/// A duration with a unit kendall does not know.
#[test]
fn bad_duration_is_rejected() {
    let text = r#"[simulation]
duration = "10 parsecs"

[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;
    assert_rejected("duration.toml", text, &["duration.toml:2:", "10 parsecs", "ms"]);
}

/// A scenario file that does not exist is bad input too (exit status 2), named in the message.
#[test]
fn missing_file_is_rejected() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = run(&dir.path().join("absent.toml"), &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("absent.toml"), "{stderr}");
    assert!(!out.exists());
}

/// Invalid flag values are refused before anything runs (exit status 2).
#[test]
fn invalid_flags_are_rejected() {
    for bad in
        [["--threads", "0"], ["--replications", "0"], ["--duration", "10 parsecs"], ["--duration", "0s"]]
    {
        let dir = temp();
        let out = dir.path().join("out");
        let output = run(Path::new(MM1), &out, &bad);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(stderr.contains(bad[0]), "{bad:?}: {stderr}");
        assert!(!out.exists(), "{bad:?}");
    }
}

/// Every problem of a file is reported, each on its own line with its own position.
#[test]
fn several_problems_are_all_reported() {
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
servers = 0
service = { dist = "exponential", mean = "1s" }
routes = [{ to = "db" }]
"#;
    assert_rejected("multi.toml", text, &["multi.toml:8:", "'servers'", "multi.toml:10:", "'db'"]);
    let dir = temp();
    let path = write_scenario(&dir, "multi.toml", text);
    let output = kendall().arg("check").arg(&path).output().expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let servers = stderr.lines().find(|line| line.contains("'servers'")).expect("a line for servers");
    let route = stderr.lines().find(|line| line.contains("'db'")).expect("a line for the route");
    assert!(servers.contains("multi.toml:8:") && !servers.contains("'db'"), "{stderr}");
    assert!(route.contains("multi.toml:10:"), "{stderr}");
}

/// `kendall check` describes a valid file in Kendall notation and refuses a bad one.
#[test]
fn check_describes_or_rejects() {
    let output = kendall().arg("check").arg(MM1).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("server") && stdout.contains("M/M/1"), "{stdout}");

    let dir = temp();
    let path = write_scenario(&dir, "bad.toml", "[[node]]\nname = \"server\"\nservers = 0\n");
    let output = kendall().arg("check").arg(&path).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.toml:"));
}

/// `kendall run --help` documents every flag, and the default of every flag that takes a value.
#[test]
fn run_help_documents_flags_and_defaults() {
    let output = kendall().args(["run", "--help"]).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    let flags =
        ["--replications", "--seed", "--duration", "--warmup", "--threads", "--out", "--quiet", "--format"];
    for flag in flags {
        let start = help.find(&format!("      {flag}")).unwrap_or_else(|| panic!("{flag} missing: {help}"));
        let rest = &help[start + flag.len() + 6..];
        let section = &rest[..rest.find("\n      --").or_else(|| rest.find("\n  -h")).unwrap_or(rest.len())];
        if flag != "--quiet" {
            assert!(section.contains("default"), "{flag} has no documented default: {section}");
        }
    }
}

/// An overloaded node (rho = 1.5, unbounded queue) stops each replication at `max_in_system`
/// and still writes its results, with a positive queue growth rate and a warning.
#[test]
fn overloaded_scenario_stops_early_and_reports() {
    let dir = temp();
    let text = ScenarioBuilder::settings("max_in_system = 2000")
        .source("clients", "server", 1.5, "")
        .node("server", 1, 1.0, "")
        .toml();
    let path = write_scenario(&dir, "overload.toml", &text);
    let out = dir.path().join("out");
    let output = run_ok(&path, &out, &["--duration", "20000s", "--replications", "4"]);
    let summary = read_summary(&out);
    assert!(summary.stopped_early > 0);
    assert_eq!(summary.max_in_system, 2000);
    // The queue grows at about lambda - mu = 0.5 messages per second.
    let growth = summary.nodes[0].metrics["queue_growth_rate"].mean.expect("a growth rate");
    assert!(growth > 0.0, "queue_growth_rate {growth}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("warning"));
}

/// With no warm-up in the file, the default warm-up is a tenth of the duration actually run,
/// including a `--duration` given on the command line (as `run --help` documents).
#[test]
fn default_warmup_follows_the_duration_flag() {
    let dir = temp();
    let text = r#"[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.5 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;
    let path = write_scenario(&dir, "no_warmup.toml", text);
    let out = dir.path().join("out");
    run_ok(&path, &out, &["--duration", "100s", "--replications", "2"]);
    assert_eq!(read_summary(&out).warmup, 10.0);
}

/// Scenario names stay readable in any script: only what a file system rejects is refused in a
/// `name`, or replaced by '-' in a file stem.
#[test]
fn scenario_names_keep_any_script_and_lose_only_what_a_file_system_rejects() {
    let body =
        ScenarioBuilder::simulated(100.0, 10.0, 2).source("s", "n", 0.5, "").node("n", 1, 1.0, "").toml();
    let dir = temp();
    let named = write_scenario(&dir, "named.toml", &format!("name = \"Bestellungen Zürich 東京\"\n{body}"));
    run_ok(&named, &dir.path().join("named"), &[]);
    assert_eq!(read_summary(&dir.path().join("named")).scenario, "Bestellungen Zürich 東京");
    let stem = write_scenario(&dir, "orders: EU?.toml", &body);
    run_ok(&stem, &dir.path().join("stem"), &[]);
    assert_eq!(read_summary(&dir.path().join("stem")).scenario, "orders- EU-");
    for bad in ["../x", "a/b", ".hidden", "trailing."] {
        assert_rejected(
            "bad_name.toml",
            &format!("name = \"{bad}\"\n{body}"),
            &["bad_name.toml:1:", &format!("'{bad}' cannot name an output directory")],
        );
    }
}

/// A file that is not UTF-8 text is refused with the place of its first bad byte: line, column
/// and byte offset (here byte 36 = the 11 bytes of line 1, 13 of line 2 and 12 of line 3 before
/// it, at column 13), exit 2 and nothing written.
#[test]
fn binary_garbage_is_located() {
    let dir = temp();
    let path = dir.path().join("garbage.toml");
    fs::write(&path, b"name = \"x\"\n[simulation]\nduration = \"\xff\xfe\"\n").expect("written");
    let out = dir.path().join("out");
    let output = run(&path, &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("garbage.toml:3:13:") && stderr.contains("byte 36 (0xff)"), "{stderr}");
    assert!(!out.exists());
}

/// summary.json carries each source's latency distribution from p10 to p99.9, pooled over the
/// replications' merged histograms: with one replication its p50, p95 and p99 are that
/// replication's own, and the percentiles never decrease.
#[test]
fn summary_json_has_each_source_latency_distribution() {
    let dir = temp();
    let out = dir.path().join("out");
    run_ok(Path::new("scenarios/mm1.toml"), &out, &["--replications", "1", "--duration", "2000s"]);
    let summary = read_summary(&out);
    let source = &summary.sources[0];
    let distribution = source.latency_distribution.as_ref().expect("a latency distribution");
    let names = ["p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9"];
    let values: Vec<f64> = names.iter().map(|name| distribution[*name]).collect();
    assert!(values.windows(2).all(|pair| pair[0] <= pair[1]) && values[0] > 0.0, "{distribution:?}");
    for name in ["p50", "p95", "p99"] {
        let own = source.metrics[&format!("latency_{name}")].mean;
        assert_eq!(Some(distribution[name]), own, "{name}");
    }
}

/// The files of a directory tree and their contents, by path relative to `dir`.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next).expect("the directory is read") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).expect("inside dir").to_string_lossy().into_owned();
                files.insert(name, fs::read(&path).expect("the file is read"));
            }
        }
    }
    files
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_the_previous_outputs_and_no_partial_file() {
    let dir = temp();
    let out = dir.path().join("out");
    run_ok(Path::new(MM1), &out, &["--duration", "1000s", "--replications", "2"]);
    let before = tree(&out);
    for signal in ["-INT", "-TERM"] {
        // About 1.8e9 messages: minutes of simulation, interrupted after a second.
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kendall"))
            .args(["run", MM1, "--quiet", "--duration", "1e8", "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kendall starts");
        std::thread::sleep(std::time::Duration::from_secs(1));
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill {signal}");
        let output = child.wait_with_output().expect("kendall ends");
        assert_eq!(output.status.code(), Some(130), "{signal}: status {:?}", output.status);
        let after = tree(&out);
        assert!(after.keys().all(|name| !name.ends_with(".partial")), "{signal}: {:?}", after.keys());
        assert!(after == before, "{signal}: the previous outputs changed");
    }
}

#[test]
fn an_output_directory_that_cannot_be_written_is_refused_before_simulating() {
    let dir = temp();
    let blocker = write_scenario(&dir, "a-file", "not a directory");
    // A run of about 1.8e9 messages would take minutes: the refusal comes first.
    let output = run(Path::new(MM1), &blocker.join("out"), &["--duration", "1e8"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("cannot write") && stderr.contains("a-file"), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "nothing was simulated");
}

#[test]
fn results_are_printed_when_the_files_cannot_be_written_at_the_end() {
    let dir = temp();
    let out = dir.path().join("out");
    // summary.json is a directory that is not empty: it cannot be replaced by the file.
    fs::create_dir_all(out.join("summary.json")).expect("a directory");
    fs::write(out.join("summary.json/keep"), "kept").expect("a file");
    let output = kendall()
        .args(["run", MM1, "--duration", "1000s", "--replications", "2", "--no-charts", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stdout.contains("node server") && stdout.contains("mean_sojourn"), "stdout: {stdout}");
    assert!(!stdout.contains("wrote "), "stdout: {stdout}");
    assert!(stderr.contains("the results above were not saved"), "stderr: {stderr}");
    assert!(tree(&out).keys().all(|name| !name.ends_with(".partial")), "{:?}", tree(&out).keys());
    assert_eq!(fs::read_to_string(out.join("summary.json/keep")).expect("kept"), "kept");
}

#[test]
fn a_cap_beyond_the_memory_is_lowered_with_a_warning() {
    let dir = temp();
    let toml = ScenarioBuilder::settings("max_in_system = 4294967295")
        .source("in", "s", 50.0, "")
        .node("s", 1, 0.1, "")
        .toml();
    let path = write_scenario(&dir, "huge-cap.toml", &toml);
    // 4294967295 messages of 128 bytes are 550 GB, more than any machine that runs this test.
    let expected =
        ["huge-cap.toml:2:17: [simulation] field 'max_in_system' 4294967295 would need", "(128 bytes each)"];
    let output = kendall().arg("check").arg(&path).output().expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(expected.iter().all(|e| stderr.contains(e)), "check: {stderr}");
    let output = run(&path, &dir.path().join("out"), &["--duration", "100s", "--replications", "2"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(expected.iter().all(|e| stderr.contains(e)), "run: {stderr}");
    assert!(stderr.contains("an overloaded replication stops at"), "run: {stderr}");
}

/// 400 replications of 10 000 s of the M/M/1 keep about 200 MB of records (measured: 525 kB
/// counted each); with `KENDALL_MEMORY=20MB` they may take 10 MB, so the run stops after its
/// first replications, says why, exits 2 and writes nothing.
#[test]
fn a_run_whose_records_would_outgrow_the_memory_stops_early_and_says_why() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = kendall()
        .env("KENDALL_MEMORY", "20MB")
        .args(["run", MM1, "--replications", "400", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    for fragment in
        ["400 replications would keep about", "more than half of the 20.0 MB available", "--replications"]
    {
        assert!(stderr.contains(fragment), "stderr lacks {fragment:?}: {stderr}");
    }
    assert!(output.stdout.is_empty() && !out.exists(), "nothing is written");
    // The same run within the memory it may use goes on.
    let output = kendall()
        .env("KENDALL_MEMORY", "2GB")
        .args(["run", MM1, "--replications", "4", "--duration", "100s", "--quiet", "--no-charts", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_memory_setting_that_is_not_a_size_is_refused() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = kendall()
        .env("KENDALL_MEMORY", "lots")
        .args(["run", MM1, "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("KENDALL_MEMORY=\"lots\" is not a size"), "stderr: {stderr}");
    assert!(!out.exists());
}

/// `kendall merge` counts the records of the shards it reads as a run does: with
/// `KENDALL_MEMORY=10MB`, 40 replications of 10 000 s of the M/M/1 (about 0.8 MB each, counted)
/// are refused, exit 2, nothing written; without it they merge.
#[test]
fn a_merge_whose_records_would_outgrow_the_memory_is_refused() {
    let dir = temp();
    let shards = dir.path().join("shards");
    for shard in ["0/2", "1/2"] {
        let output = kendall()
            .args(["run", MM1, "--replications", "40", "--quiet", "--shard", shard, "--out"])
            .arg(&shards)
            .output()
            .expect("kendall runs");
        assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    }
    let out = dir.path().join("out");
    let merge = |memory: &str| {
        kendall()
            .env("KENDALL_MEMORY", memory)
            .arg("merge")
            .arg(&shards)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .output()
    };
    let output = merge("10MB").expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("40 replications would keep about"), "stderr: {stderr}");
    assert!(!out.exists(), "nothing is written");
    let output = merge("4GB").expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(out.join("summary.json").exists());
}
