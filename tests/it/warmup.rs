//! `warmup = "auto"`: MSER-5 on a pilot of each replication chooses its warm-up. On an M/M/1
//! started empty near saturation it truncates a plausible amount and reduces the bias
//! that a short run without warm-up has.

use std::fs;

use serde_json::Value;

use kendall::experiment;
use kendall::stats::{Estimate, NodeMetric, ReplicationResult};

use crate::support::{ScenarioBuilder, run, scenario, temp, write_scenario};

/// M/M/1 at rho = 0.95 (lambda 0.95/s, mu 1/s), started empty, 2000 s per replication.
/// Exact L = rho/(1 − rho) = 19; the relaxation time 1/(mu(1 − sqrt(rho))²) ≈ 1560 s
/// (Kleinrock, Queueing Systems I, §2.10) is of the order of the run, so a run without warm-up
/// underestimates L badly.
fn mm1(warmup: &str, replications: u32) -> String {
    ScenarioBuilder::settings(&format!(
        "duration = 2000.0\nwarmup = {warmup}\nreplications = {replications}\nseed = 1"
    ))
    .source("clients", "server", 0.95, "")
    .node("server", 1, 1.0, "")
    .toml()
}

fn in_system(records: &[ReplicationResult]) -> Vec<f64> {
    records.iter().map(|r| r.nodes[0].metrics.get(NodeMetric::MeanInSystem).unwrap()).collect()
}

#[test]
fn auto_warmup_reduces_the_bias_of_a_short_run_started_empty() {
    const EXACT_L: f64 = 19.0;
    let none = experiment::run(&scenario(&mm1("0.0", 400)), None, &|| {}).unwrap();
    let auto = experiment::run(&scenario(&mm1("\"auto\"", 400)), None, &|| {}).unwrap();
    let (l_none, l_auto) = (in_system(&none.replications), in_system(&auto.replications));
    // The same streams (replication i on seed 1, i): the runs differ only by the warm-up.
    let bias = |values: &[f64]| {
        Estimate::from_values(&values.iter().map(|l| l - EXACT_L).collect::<Vec<_>>()).unwrap()
    };
    let (bias_none, bias_auto) = (bias(&l_none), bias(&l_auto));
    let paired: Vec<f64> = l_auto.iter().zip(&l_none).map(|(a, n)| a - n).collect();
    let gain = Estimate::from_values(&paired).unwrap();
    let chosen: Vec<f64> = auto.replications.iter().map(|r| r.warmup_s).collect();
    let mean_chosen = chosen.iter().sum::<f64>() / chosen.len() as f64;
    println!(
        "bias without {bias_none:?}\nbias with auto {bias_auto:?}\npaired gain {gain:?}\nmean warm-up {mean_chosen}s"
    );
    // Without warm-up the run is biased low: the whole 95% CI of the error lies below 0.
    assert!(bias_none.ci95.unwrap()[1] < 0.0, "{bias_none:?}");
    // The automatic warm-up raises every paired estimate on average (CI above 0) and leaves a
    // smaller absolute bias.
    assert!(gain.ci95.unwrap()[0] > 0.0, "{gain:?}");
    assert!(bias_auto.mean.abs() < bias_none.mean.abs(), "{bias_auto:?} vs {bias_none:?}");
    // A plausible truncation: some, but on average well under half the run.
    assert!(mean_chosen > 20.0 && mean_chosen < 1000.0, "{mean_chosen}");
    assert!(none.replications.iter().all(|r| r.warmup_s == 0.0 && !r.warmup_unresolved));
}

#[test]
fn summary_json_reports_each_replications_warmup() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &mm1("10.0", 4));
    let out = dir.path().join("out");
    let output = run(&path, &out, &["--warmup", "auto", "--duration", "500s"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let chosen = summary["warmup_auto"]["chosen"].as_array().unwrap();
    assert_eq!(chosen.len(), 4);
    let mean = chosen.iter().map(|c| c.as_f64().unwrap()).sum::<f64>() / 4.0;
    assert!((summary["warmup"].as_f64().unwrap() - mean).abs() < 1e-9);
    // Each choice is a whole number of MSER-5 batches of 500 s / 200 = 2.5 s.
    assert!(chosen.iter().all(|c| (c.as_f64().unwrap() / 2.5).fract().abs() < 1e-9), "{chosen:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("automatic warm-up (MSER-5"), "{stdout}");
    let unresolved = summary["warmup_auto"]["unresolved"].as_array().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(unresolved.is_empty(), !stderr.contains("too short for MSER-5"), "{stderr}");
    // A fixed warm-up writes no such entry; a bad value names the flag's choices.
    let fixed = run(&path, &out, &[]);
    assert!(fixed.status.success());
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(summary.get("warmup_auto").is_none());
    let bad = run(&path, &out, &["--warmup", "automatic"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("\"auto\""));
}
