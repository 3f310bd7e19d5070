//! `sample_every`: the time series of a run, per interval from time 0, in timeseries.csv, with
//! the peak and drain of each queue in summary.json and the table.

use std::fs;

use kendall::report::{SummaryFile, TIMESERIES_COLUMNS};
use kendall::stats::{NodeMetric, SeriesMetric, TimeSeries, read_records};

use crate::support::{ScenarioBuilder, run, scenario, simulate, temp, write_scenario};

/// M/M/1 at rho 0.5 (lambda 0.5/s, mean service 1 s), 5 s of warm-up and 90 s observed:
/// intervals of 10 s end at 10, 20, ..., 90 and 95 s (the last one short).
fn mm1(sample_every: &str) -> String {
    ScenarioBuilder::settings(&format!(
        "duration = 90.0\nwarmup = 5.0\nreplications = 4\nseed = 1\n{sample_every}"
    ))
    .source("clients", "server", 0.5, "")
    .node("server", 1, 1.0, "")
    .toml()
}

#[test]
fn a_run_with_sample_every_writes_timeseries_csv_and_the_peaks() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &mm1("sample_every = \"10s\""));
    let out = dir.path().join("out");
    let output = run(&path, &out, &["--no-charts"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let mut reader = csv::Reader::from_path(out.join("timeseries.csv")).expect("timeseries.csv is written");
    assert_eq!(reader.headers().unwrap(), TIMESERIES_COLUMNS.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
    // 10 intervals, each with 6 node metrics and 2 source metrics.
    assert_eq!(rows.len(), 10 * (6 + 2));
    let times: Vec<&str> = rows.iter().take(10).map(|row| &row[0]).collect();
    assert_eq!(times, ["10", "20", "30", "40", "50", "60", "70", "80", "90", "95"]);
    assert!(rows.iter().all(|row| row[9].is_empty()), "no theory given");
    let summary: SummaryFile =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let peaks = summary.peaks.expect("the peaks of a run with a time series");
    assert_eq!(peaks.len(), 1);
    assert_eq!((peaks[0].node.as_str(), peaks[0].peak.n), ("server", 4));
    assert!(String::from_utf8_lossy(&output.stdout).contains("queue over time"));
}

#[test]
fn a_run_without_sample_every_writes_what_it_always_did() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &mm1(""));
    let out = dir.path().join("out");
    let output = run(&path, &out, &["--no-charts"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!out.join("timeseries.csv").exists());
    let summary = fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(!summary.contains("\"peaks\""));
    assert!(!fs::read_to_string(out.join("replications.jsonl")).unwrap().contains("\"series\""));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("queue over time"));
}

#[test]
fn the_intervals_add_up_to_the_whole_run() {
    // Without warm-up, the intervals (10 s each, 100 s) tile the observation window: the
    // length-weighted interval means are the window's time averages, and the interval rates
    // times their lengths its counts.
    let toml = ScenarioBuilder::settings(
        "duration = 100.0\nwarmup = 0.0\nreplications = 3\nseed = 1\nsample_every = \"10s\"",
    )
    .source("clients", "server", 0.5, "")
    .node("server", 1, 1.0, "")
    .toml();
    let experiment = simulate(&toml);
    for record in &experiment.replications {
        let series = record.series.as_ref().expect("a series");
        assert_eq!(series.times_s.len(), 10);
        let node = &series.nodes[0];
        let weighted = |values: &[f64]| values.iter().map(|v| v * 10.0).sum::<f64>() / 100.0;
        let mean_in_system = record.nodes[0].metrics.get(NodeMetric::MeanInSystem).unwrap();
        assert!((weighted(&node.in_system) - mean_in_system).abs() < 1e-9, "{mean_in_system}");
        let departures = node.throughput.iter().map(|rate| rate * 10.0).sum::<f64>();
        assert!((departures - record.nodes[0].counts.departures as f64).abs() < 1e-6);
        assert!(node.oldest_age.iter().all(|age| (0.0..=100.0).contains(age)));
    }
    // The reduction read back from replications.jsonl is the one made in process.
    let mut bytes = Vec::new();
    kendall::stats::write_records(&mut bytes, &experiment.replications).unwrap();
    let records = read_records(bytes.as_slice()).unwrap();
    let network = scenario(&toml);
    let reduced = TimeSeries::new(network.network(), &records);
    assert_eq!(reduced.as_ref(), experiment.summary.series.as_ref());
    let rows =
        reduced.map_or(0, |series| series.rows.iter().filter(|r| r.metric == SeriesMetric::Busy).count());
    assert_eq!(rows, 10);
}
