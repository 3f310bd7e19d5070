//! replications.jsonl is the contract: read back and reduced, it gives the very summary.json of
//! the run that wrote it.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::BufReader;
use std::path::Path;

use kendall::analytic::analyze;
use kendall::report::{SummaryFile, pretty_json};
use kendall::scenario::{Overrides, load_with};
use kendall::stats::{Metric, NodeClassMetric, NodeMetric, SourceMetric, Summary, read_records};
use serde_json::Value;

use crate::support::{run, temp};

/// Priority classes at a node, and a topic exchange.
const IOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/iot-pipeline.toml");
/// Message classes, at every node and end to end.
const ORDERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/order-service.toml");

/// Short runs: the contract does not depend on the length.
const ARGS: [&str; 6] = ["--duration", "200s", "--warmup", "20s", "--replications", "3"];

/// Runs `kendall run SCENARIO` with [`ARGS`] into a temporary directory and returns it.
fn run_short(scenario: &str) -> tempfile::TempDir {
    let out = temp();
    let output = run(Path::new(scenario), out.path(), &ARGS);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    out
}

#[test]
fn records_read_back_reduce_to_a_byte_identical_summary_json() {
    for file in [IOT, ORDERS] {
        let out = run_short(file);
        let written = fs::read(out.path().join("summary.json")).expect("summary.json is written");
        let jsonl = File::open(out.path().join("replications.jsonl")).expect("replications.jsonl is written");
        let records = read_records(BufReader::new(jsonl)).expect("well-formed records");
        assert_eq!(records.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1, 2], "{file}");

        // As the CLI does: the same overrides, the same analysis; only the wall clock is taken
        // from the file, as the one field that is not a result.
        let overrides = Overrides {
            duration_s: Some(200.0),
            warmup_s: Some(20.0),
            replications: Some(3),
            seed: None,
            auto_warmup: false,
            memory_max_in_system: None,
        };
        let scenario = load_with(Path::new(file), &overrides).expect("a valid scenario");
        let analysis = analyze(&scenario, None).ok();
        let wall_seconds =
            serde_json::from_slice::<SummaryFile>(&written).expect("a SummaryFile").wall_seconds;
        let summary = Summary::new(scenario.network(), &records);
        let rebuilt = pretty_json(&SummaryFile::new(&scenario, &summary, analysis.as_ref(), wall_seconds));
        assert!(rebuilt == written, "{file}: summary.json differs when rebuilt from replications.jsonl");

        // The run exercised what the record must carry.
        let parsed: SummaryFile = serde_json::from_slice(&written).expect("a SummaryFile");
        assert!(parsed.nodes.iter().flat_map(|node| node.metrics.values()).all(|entry| entry.n <= 3));
        assert!(parsed.sources.iter().flat_map(|source| source.metrics.values()).any(|entry| entry.n == 3));
        if file == IOT {
            assert!(
                records[0].nodes.iter().any(|node| !node.priority_classes.is_empty()),
                "no priority class"
            );
            assert!(!records[0].exchanges.is_empty(), "no exchange");
        } else {
            assert!(!records[0].message_classes.is_empty(), "no message class");
            assert!(records[0].nodes.iter().all(|node| !node.message_classes.is_empty()));
        }
    }
}

/// The keys of a JSON object.
fn keys(value: &Value) -> BTreeSet<&str> {
    value.as_object().expect("an object").keys().map(String::as_str).collect()
}

/// Asserts that a metric object names every metric of the family.
fn assert_metrics<M: Metric>(value: &Value, what: &str) {
    let expected: BTreeSet<&str> = M::ALL.iter().map(|metric| metric.key()).collect();
    assert_eq!(keys(value), expected, "{what}");
}

#[test]
fn the_jsonl_has_one_line_per_replication_with_every_field() {
    let out = run_short(IOT);
    let text = fs::read_to_string(out.path().join("replications.jsonl")).expect("replications.jsonl");
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    assert_eq!(lines.len(), 3, "one line per replication");
    for (index, line) in lines.iter().enumerate() {
        assert_eq!(line["index"], index);
        let top = [
            "index",
            "events",
            "observed_s",
            "warmup_s",
            "warmup_unresolved",
            "stopped_early",
            "deadlocked",
            "nodes",
            "sources",
            "exchanges",
            "message_classes",
            "message_class_latencies",
        ];
        assert_eq!(keys(line), BTreeSet::from(top));
        assert!(line["events"].as_u64().is_some_and(|events| events > 0));
        assert_eq!(line["observed_s"].as_f64(), Some(200.0));
        assert_eq!(line["warmup_s"].as_f64(), Some(20.0));
        assert!(line["stopped_early"].is_boolean() && line["deadlocked"].is_boolean());
        for node in line["nodes"].as_array().expect("nodes") {
            let node_keys = ["metrics", "priority_classes", "message_classes", "counts", "histograms"];
            assert_eq!(keys(node), BTreeSet::from(node_keys));
            assert_metrics::<NodeMetric>(&node["metrics"], "node metrics");
            for class in node["priority_classes"].as_array().expect("priority classes") {
                assert_metrics::<NodeClassMetric>(class, "priority class metrics");
            }
            let counts = ["arrivals", "departures", "drops", "expired", "in_system_start", "in_system_end"];
            assert_eq!(keys(&node["counts"]), BTreeSet::from(counts));
            let histograms = &node["histograms"];
            assert_eq!(
                keys(histograms),
                BTreeSet::from(["all", "subscriber_latencies", "priority_classes", "message_classes"])
            );
            assert_eq!(keys(&histograms["all"]), BTreeSet::from(["waits", "sojourns"]));
            assert_eq!(
                histograms["priority_classes"].as_array().map(Vec::len),
                node["priority_classes"].as_array().map(Vec::len)
            );
            // Sparse: runs [first bucket, count, ...], as many messages as departed.
            let departed: u64 = histograms["all"]["sojourns"]
                .as_array()
                .expect("runs")
                .iter()
                .flat_map(|run| &run.as_array().expect("a run")[1..])
                .map(|count| count.as_u64().expect("a count"))
                .sum();
            assert_eq!(Some(departed), node["counts"]["departures"].as_u64());
        }
        for source in line["sources"].as_array().expect("sources") {
            assert_eq!(keys(source), BTreeSet::from(["metrics", "delivered", "dropped", "histograms"]));
            assert_metrics::<SourceMetric>(&source["metrics"], "source metrics");
            let parts = ["latencies", "copy_latencies", "multicast_latencies"];
            assert_eq!(keys(&source["histograms"]), BTreeSet::from(parts));
        }
        for exchange in line["exchanges"].as_array().expect("exchanges") {
            assert_eq!(keys(exchange), BTreeSet::from(["metrics", "routed", "unroutable"]));
        }
    }
}
