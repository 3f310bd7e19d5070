//! Run-length control: `--precision` adds replications in batches until every figure's 95% CI is
//! narrow enough, independently of the thread count, or says that the maximum stopped it.

use std::fs;

use serde_json::Value;

use kendall::experiment::{self, Precision, PrecisionReport, run_until_precise};
use kendall::model::Metric;
use kendall::stats::{EntitySummary, ReplicationResult, Summary};

use crate::support::{ScenarioBuilder, run, scenario, temp, write_scenario};

/// M/M/1 at rho = 0.8 (every wait percentile from p50 up is positive, since P(wait > 0) = 0.8),
/// 500 s per replication, batches of 10.
fn mm1() -> String {
    ScenarioBuilder::simulated(500.0, 50.0, 10)
        .source("clients", "server", 0.8, "")
        .node("server", 1, 1.0, "")
        .toml()
}

/// The figures of one entity that miss `precision`, judged here independently of the library:
/// a non-zero mean needs a half-width of at most `target`·|mean|, or `target` for a probability or
/// fraction (no unit, not a mean count); `queue_growth_rate` (0 when stable) is exempt.
fn misses<M: Metric>(entity: &EntitySummary<M>, target: f64) -> Vec<String> {
    entity
        .estimates
        .iter()
        .filter_map(|&(metric, estimate)| {
            let estimate = estimate?;
            let key = metric.key();
            if estimate.mean == 0.0 || key == "queue_growth_rate" {
                return None;
            }
            let fraction = metric.unit().is_empty() && !key.starts_with("mean_in_");
            let limit = if fraction { target } else { target * estimate.mean.abs() };
            let precise = estimate.ci95.is_some() && estimate.half_width() <= limit;
            (!precise).then(|| format!("{}.{key}", entity.name))
        })
        .collect()
}

fn all_misses(summary: &Summary, target: f64) -> Vec<String> {
    let nodes = summary.nodes.iter().flat_map(|node| misses(node, target));
    nodes.chain(summary.sources.iter().flat_map(|source| misses(source, target))).collect()
}

fn precise(threads: usize, precision: &Precision) -> (Vec<ReplicationResult>, Summary, PrecisionReport) {
    let (mut experiments, mut reports) =
        run_until_precise(&[scenario(&mm1())], precision, Some(threads), &|| {}).expect("thread pool");
    let experiment = experiments.remove(0);
    (experiment.replications, experiment.summary, reports.remove(0))
}

#[test]
fn stops_at_the_first_batch_that_meets_the_target() {
    let precision = Precision::new(0.10);
    let (records, summary, report) = precise(2, &precision);
    let n = records.len();
    assert!(report.met(), "{:?}", report.too_wide);
    assert_eq!(report.replications as usize, n);
    assert!(n > 10 && n % 10 == 0 && n < 1000, "{n} replications");
    assert_eq!(all_misses(&summary, 0.10), Vec::<String>::new());
    // One batch fewer was not enough: some figure was still too wide.
    let scenario = scenario(&mm1());
    let fewer = Summary::new(scenario.network(), &records[..n - 10]);
    assert!(!all_misses(&fewer, 0.10).is_empty(), "{} replications would have done", n - 10);
    // The records are replications 0..n, the first ten those of a plain ten-replication run.
    assert!(records.iter().enumerate().all(|(i, r)| r.index as usize == i));
    let plain = experiment::run(&scenario, Some(2), &|| {}).expect("thread pool");
    assert_eq!(&records[..10], plain.replications.as_slice());
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let precision = Precision::new(0.15);
    let (one, _, report_one) = precise(1, &precision);
    let (two, _, report_two) = precise(2, &precision);
    assert_eq!(report_one, report_two);
    assert_eq!(one, two);
}

#[test]
fn the_maximum_stops_the_run_and_the_output_says_so() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &mm1());
    let out = dir.path().join("out");
    let output = run(&path, &out, &["--precision", "1%", "--max-replications", "25"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("NOT met, stopped at the maximum of 25 replications"), "{table}");
    assert!(table.contains("node server mean_sojourn"), "{table}");
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // Batches of 10 up to the maximum: 10, 20, then 5 more.
    assert_eq!(summary["replications"], 25);
    let precision = &summary["precision"];
    assert_eq!(precision["met"], false);
    assert_eq!(precision["replications"], 25);
    assert_eq!(precision["relative"], 0.01);
    let wide = precision["too_wide"].as_array().unwrap();
    assert!(wide.iter().any(|w| w["scope"] == "source" && w["metric"] == "latency_p99"), "{wide:?}");
    for figure in wide {
        assert!(figure["half_width"].as_f64().is_none_or(|h| h > figure["limit"].as_f64().unwrap()));
    }
    assert_eq!(fs::read_to_string(out.join("replications.jsonl")).unwrap().lines().count(), 25);
}

#[test]
fn a_bad_target_is_rejected() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &mm1());
    let out = dir.path().join("out");
    for bad in ["0%", "150%", "two", "-1"] {
        let output = run(&path, &out, &["--precision", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(bad), "{bad}");
    }
    assert!(!out.exists());
}

/// Two M/M/1 configurations (rho 0.8 and, 5% faster, 0.762) compared under a precision target
/// run together: they stop at the same replication count, so every difference stays paired, and
/// both meet the target (checked independently of the library) unless the maximum stopped them.
#[test]
fn compared_configurations_run_until_all_are_precise_together() {
    let configurations = experiment::configurations(
        &[write_scenario(&temp(), "pair.toml", &mm1())],
        &[vec!["node.server.service.mean=0.95".parse().expect("a variation")]],
        &kendall::scenario::Overrides::default(),
    );
    let configurations = configurations.expect("valid configurations");
    let length = experiment::RunLength::Precise(Precision::new(0.05));
    let outcome = experiment::compare(&configurations, experiment::Streams::Common, &length, Some(2), &|| {})
        .expect("thread pool");
    let [baseline, faster] = &outcome.experiments[..] else { panic!("two experiments") };
    assert_eq!(baseline.replications.len(), faster.replications.len(), "paired replications");
    assert!(baseline.replications.len() > 10, "the target needs more than one batch");
    let target_met = |experiment: &experiment::Experiment| all_misses(&experiment.summary, 0.05).is_empty();
    let at_max = baseline.replications.len() == Precision::DEFAULT_MAX_REPLICATIONS as usize;
    assert!(at_max || (target_met(baseline) && target_met(faster)));
    assert!(outcome.differences.iter().all(|d| d.difference.samples == baseline.replications.len()));
}

/// A sweep under a precision target runs each point until its own figures meet it: the busier
/// point (rho 0.85) needs more replications than the lighter one (rho 0.6; both above 0.5, so
/// that every wait percentile from p50 up is positive), and each meets it. Replications of
/// 2000 s: with 500 s, the honest interval of the median wait (a pooled quantile, no longer
/// biased with each replication's) needs the maximum of 1000 replications at both points.
#[test]
fn each_sweep_point_runs_until_precise() {
    let dir = temp();
    let long = ScenarioBuilder::simulated(2000.0, 200.0, 10)
        .source("clients", "server", 0.8, "")
        .node("server", 1, 1.0, "")
        .toml();
    let path = write_scenario(&dir, "sweep.toml", &long);
    let out = dir.path().join("out");
    let output = crate::support::kendall()
        .arg("sweep")
        .arg(&path)
        .args(["--vary", "load=0.75,1.0625", "--precision", "5%", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let sweep: Value =
        serde_json::from_slice(&fs::read(out.join("sweep.json")).expect("sweep.json")).expect("JSON");
    let n = |point: usize| sweep["points"][point]["replications"].as_u64().expect("replications");
    assert!(n(0) > 10 && n(1) > n(0) && n(1) < 1000, "replications per point: {} and {}", n(0), n(1));
    assert_eq!(sweep["points"][1]["nodes"][0]["metrics"]["mean_sojourn"]["n"].as_u64(), Some(n(1)));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains(&format!("{} to {} replications per point", n(0), n(1))), "{table}");
    for point in 0..2 {
        let sojourn = &sweep["points"][point]["nodes"][0]["metrics"]["mean_sojourn"];
        let [low, high] = [sojourn["ci95"][0].as_f64().unwrap(), sojourn["ci95"][1].as_f64().unwrap()];
        assert!((high - low) / 2.0 <= 0.05 * sojourn["mean"].as_f64().unwrap(), "point {point}: {sojourn}");
    }
}
