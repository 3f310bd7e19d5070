//! `kendall sweep`: load sweeps of an M/M/1 and an M/M/3 against their exact curves, growth past
//! saturation, the grid's order, sweep.csv's shape, SLO verdicts, the one stopped-early warning,
//! and bad `--vary` and `--slo` input.
//!
//! # Tolerances
//! The comparisons with theory share one Bonferroni family ([`SWEEP`]): 4 points × 2 means for
//! the M/M/1, 3 points × 2 means for the M/M/3 and one growth rate past saturation for each, 16
//! checks. A growth rate's interval is also checked against the random walk it estimates (see
//! [`assert_random_walk`]).

use std::fs;
use std::path::Path;
use std::process::Output;

use kendall::report::{EstimateEntry, PointEntry, SweepFile};
use kendall::stats::{Estimate, Metric, NodeMetric, SourceMetric};

use kendall::report::SummaryFile;
use serde_json::Value;

use crate::support::{
    Family, ScenarioBuilder, assert_json_sane, kendall, run, t_quantile, temp, write_scenario,
};

/// The comparisons with theory of this module, one family: 16 checks (see the module doc), each
/// 95% half-width at most 4% of the theory value (the widest is the M/M/1's mean wait at
/// ρ = 0.9, about 3%).
const SWEEP: Family = Family { checks: 16, error: 0.05, precision: 0.04 };

/// Runs `kendall sweep SCENARIO --out OUT --quiet` with the extra arguments, whatever its exit
/// status.
fn sweep(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    kendall()
        .arg("sweep")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("kendall runs")
}

/// Like [`sweep`], asserting exit status 0; returns sweep.json and the output.
fn sweep_ok(scenario: &Path, out: &Path, extra: &[&str]) -> (SweepFile, Output) {
    let output = sweep(scenario, out, extra);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let text = fs::read_to_string(out.join("sweep.json")).expect("sweep.json is written");
    (serde_json::from_str(&text).expect("sweep.json parses as SweepFile"), output)
}

/// One server station "station" of `servers` exponential workers of mean 1 s, fed by a Poisson
/// source "arrivals" at `lambda` per second.
fn station(duration_s: f64, warmup_s: f64, replications: u32, lambda: f64, servers: u32) -> String {
    ScenarioBuilder::simulated(duration_s, warmup_s, replications)
        .source("arrivals", "station", lambda, "")
        .node("station", servers, 1.0, "")
        .toml()
}

fn estimate(entry: &EstimateEntry) -> Option<Estimate> {
    entry.mean.map(|mean| Estimate { mean, ci95: entry.ci95, samples: entry.n })
}

fn node_metric<'a>(point: &'a PointEntry, key: &str) -> &'a EstimateEntry {
    point.nodes[0].metrics.get(key).unwrap_or_else(|| panic!("no node metric {key}"))
}

/// Theory's value of a node metric at a point, as sweep.json gives it.
fn node_theory(point: &PointEntry, key: &str) -> Option<f64> {
    point.nodes[0].analytic.get(key).and_then(|figure| figure.value)
}

/// Checks a stable point against the exact mean sojourn and wait (and that theory in the file
/// agrees with ours up to rounding).
fn assert_exact_means(what: &str, point: &PointEntry, sojourn: f64, wait: f64) {
    assert!(point.steady_state && point.system.stable == Some(true), "{what}: {:?}", point.system);
    for (key, exact) in [("mean_sojourn", sojourn), ("mean_wait", wait)] {
        let theory = node_theory(point, key).expect("an exact figure");
        assert!((theory - exact).abs() <= 1e-9 * exact, "{what} {key}: analyze {theory}, by hand {exact}");
        SWEEP.assert_mean(&format!("{what} {key}"), estimate(node_metric(point, key)), exact);
    }
    let latency = &point.sources[0].metrics["latency_mean"];
    assert_eq!(latency.mean, node_metric(point, "mean_sojourn").mean, "{what}: one node, latency = sojourn");
}

/// Past saturation, the number in an M/M/c system is a random walk once its queue is long: +1 at
/// rate λ, −1 at rate cμ (every worker busy). Over a window of T seconds its increment has mean
/// (λ − cμ)T and variance (λ + cμ)T, so a replication's growth rate has mean λ − cμ and standard
/// deviation σ = √((λ + cμ)/T). The point's growth must match λ − cμ in the family's interval, and
/// its 95% half-width must be that of R replications of standard deviation σ, t(0.975, R − 1)σ/√R,
/// up to the sampling error of s: s²/σ² is χ²(R − 1)/(R − 1), which for R = 20 lies in
/// [0.25, 4] (s/σ in [0.5, 2]) except with probability below 0.001.
fn assert_random_walk(what: &str, point: &PointEntry, lambda: f64, capacity: f64, window_s: f64) {
    assert!(!point.steady_state && point.system.stable == Some(false), "{what}: {:?}", point.system);
    let growth = estimate(node_metric(point, "queue_growth_rate")).expect("a growth rate");
    SWEEP.assert_mean(&format!("{what} queue_growth_rate"), Some(growth), lambda - capacity);
    let replications = f64::from(u32::try_from(growth.samples).expect("few replications"));
    let sigma = ((lambda + capacity) / window_s).sqrt();
    let expected = t_quantile(0.975, replications - 1.0) * sigma / replications.sqrt();
    let ratio = growth.half_width() / expected;
    println!("{what}: growth half-width {} = {ratio:.3} × the random walk's", growth.half_width());
    assert!((0.5..=2.0).contains(&ratio), "{what}: half-width {ratio} × the random walk's");
    let total = estimate(&point.growth_rate).expect("a system growth rate");
    assert_eq!(total.mean, growth.mean, "{what}: one node, the system grows as it does");
}

/// M/M/1, μ = 1/s, swept over λ = 0.3, 0.5, 0.7, 0.9 and 1.2/s (load on a 1/s source). Exact
/// (M/M/1): W = 1/(μ − λ) = 1.428571, 2, 3.333333, 10 s; Wq = λ/(μ(μ − λ)) = 0.428571, 1,
/// 2.333333, 9 s. At λ = 1.2 the queue grows by λ − μ = 0.2/s (σ = √(2.2/T) per replication).
/// Every point uses the same seeds: 20 replications of 100000 s after 10000 s.
#[test]
fn an_mm1_load_sweep_follows_the_exact_curve_and_grows_past_saturation() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &station(100_000.0, 10_000.0, 20, 1.0, 1));
    let out = dir.path().join("out");
    let (file, _) = sweep_ok(&path, &out, &["--vary", "load=0.3,0.5,0.7,0.9,1.2"]);
    assert_eq!(file.paths, ["load"]);
    assert_eq!(file.points.len(), 5);
    for (point, lambda) in file.points.iter().zip([0.3, 0.5, 0.7, 0.9]) {
        assert_eq!(point.values["load"], lambda);
        let what = format!("M/M/1 λ = {lambda}");
        assert_exact_means(&what, point, 1.0 / (1.0 - lambda), lambda / (1.0 - lambda));
    }
    assert_random_walk("M/M/1 λ = 1.2", &file.points[4], 1.2, 1.0, 100_000.0);
    assert_eq!(file.points[4].system.bottleneck_utilization, Some(1.2));
}

/// M/M/3, μ = 1/s per worker, base λ = 2.4/s, load 0.5..1.5 in 5 steps: λ = 1.2, 1.8, 2.4, 3.0,
/// 3.6/s, ρ = λ/3 = 0.4, 0.6, 0.8, 1.0, 1.2. Exact (Erlang C, a = λ/μ):
/// C(3, a) = (a³/3!)(3/(3 − a)) / (Σ_{k<3} aᵏ/k! + (a³/3!)(3/(3 − a))) = 0.141176, 0.354745,
/// 0.647191; Wq = C/(3μ − λ) = 0.078431, 0.295620, 1.078652 s; W = Wq + 1/μ = 1.078431,
/// 1.295620, 2.078652 s. At ρ = 1 theory calls the queue unstable (it grows like √t): no steady
/// state. At λ = 3.6 it grows by λ − 3μ = 0.6/s (σ = √(6.6/T)). 20 replications of 50000 s
/// after 5000 s.
#[test]
fn an_mmc_load_sweep_follows_erlang_c_and_grows_past_saturation() {
    let dir = temp();
    let path = write_scenario(&dir, "mmc.toml", &station(50_000.0, 5_000.0, 20, 2.4, 3));
    let out = dir.path().join("out");
    let (file, _) = sweep_ok(&path, &out, &["--vary", "load=0.5..1.5:5"]);
    let loads: Vec<f64> = file.points.iter().map(|point| point.values["load"]).collect();
    assert_eq!(loads, [0.5, 0.75, 1.0, 1.25, 1.5]);
    let exact = [(1.2, 1.078_431_372_549, 0.078_431_372_549), (1.8, 1.295_620_437_956, 0.295_620_437_956)];
    let exact = exact.into_iter().chain([(2.4, 2.078_651_685_393, 1.078_651_685_393)]);
    for (point, (lambda, sojourn, wait)) in file.points.iter().zip(exact) {
        assert_exact_means(&format!("M/M/3 λ = {lambda}"), point, sojourn, wait);
    }
    let critical = &file.points[3];
    assert_eq!((critical.system.stable, critical.steady_state), (Some(false), false), "ρ = 1");
    assert_random_walk("M/M/3 λ = 3.6", &file.points[4], 3.6, 3.0, 50_000.0);
}

/// Two axes make a grid of |A| × |B| points, the last axis varying fastest; sweep.csv has one
/// column per axis and one row per point and metric: every node metric, every source metric and
/// the point's two system rates (drop_rate, growth_rate).
#[test]
fn two_axes_make_a_grid_in_order_with_one_csv_row_per_point_and_metric() {
    let dir = temp();
    let path = write_scenario(&dir, "grid.toml", &station(1_000.0, 100.0, 2, 0.5, 1));
    let out = dir.path().join("out");
    let (file, output) =
        sweep_ok(&path, &out, &["--vary", "load=0.5,0.8", "--vary", "node.station.servers=1..3"]);
    assert_eq!(file.paths, ["load", "node.station.servers"]);
    let grid: Vec<(f64, f64, Option<u32>)> = file
        .points
        .iter()
        .map(|p| (p.values["load"], p.values["node.station.servers"], p.nodes[0].servers))
        .collect();
    let expected = [(0.5, 1.0, 1), (0.5, 2.0, 2), (0.5, 3.0, 3), (0.8, 1.0, 1), (0.8, 2.0, 2), (0.8, 3.0, 3)];
    assert_eq!(grid, expected.map(|(load, servers, count)| (load, servers, Some(count))));
    assert!(file.points.iter().enumerate().all(|(i, point)| point.point == i));

    let mut reader = csv::Reader::from_path(out.join("sweep.csv")).expect("sweep.csv is written");
    let header = [
        "point",
        "load",
        "node.station.servers",
        "scope",
        "name",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "theory",
        "theory_exact",
    ];
    assert_eq!(reader.headers().expect("a header"), &header[..]);
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("CSV rows");
    let per_point = NodeMetric::ALL.len() + SourceMetric::ALL.len() + 2;
    assert_eq!(records.len(), 6 * per_point);
    for (row, record) in records.iter().enumerate() {
        let (load, servers, _) = expected[row / per_point];
        assert_eq!(&record[0], (row / per_point).to_string(), "row {row}");
        assert_eq!((&record[1], &record[2]), (load.to_string().as_str(), servers.to_string().as_str()));
    }
    let sojourn = records
        .iter()
        .find(|r| &r[0] == "0" && &r[3] == "node" && &r[5] == "mean_sojourn")
        .expect("a mean_sojourn row");
    // M/M/1 at λ = 0.25 (load 0.5 on 0.5/s): W = 1/(1 − 0.25) = 4/3 s, exact.
    let theory: f64 = sojourn[9].parse().expect("a theory value");
    assert!((theory - 4.0 / 3.0).abs() < 1e-12 && &sojourn[10] == "true", "{sojourn:?}");

    let table = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> =
        table.lines().filter(|line| line.starts_with(|c: char| c.is_ascii_digit())).collect();
    assert_eq!(lines.len(), 6, "one line per point:\n{table}");
    assert!(lines[5].starts_with("5  ") && lines[5].contains("0.8") && lines[5].contains("stable"));
}

/// SLOs at M/M/1 points λ = 0.5, 0.7, 0.9, 1.2 (μ = 1): the exact mean latency is
/// 1/(μ − λ) = 2, 3.33, 10 s, and unbounded at 1.2. "latency_mean < 4s" holds on the worst side
/// of the CI at 0.5 and 0.7 (3.33 s, 17% below the bound, with a half-width of a few percent),
/// not at 0.9. "latency_mean < 1h" holds wherever a steady state exists; at 1.2 the transient's
/// simulated mean (about (1 − μ/λ) × the mean departure time, 2000 s) is under an hour, but no
/// SLO is met past saturation. The last point meeting both is load 0.7.
#[test]
fn slos_mark_each_point_and_the_last_point_meeting_them() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &station(20_000.0, 2_000.0, 10, 1.0, 1));
    let out = dir.path().join("out");
    let args = ["--vary", "load=0.5,0.7,0.9,1.2", "--slo", "latency_mean < 4s", "--slo", "latency_mean < 1h"];
    let (file, output) = sweep_ok(&path, &out, &args);
    assert_eq!(file.slos, ["latency_mean < 4s", "latency_mean < 1h"]);
    let met: Vec<Option<bool>> = file.points.iter().map(|point| point.slo_met).collect();
    assert_eq!(met, [Some(true), Some(true), Some(false), Some(false)]);
    assert_eq!(file.last_meeting_slos, Some(1));
    let json: Value =
        serde_json::from_str(&fs::read_to_string(out.join("sweep.json")).expect("sweep.json")).expect("JSON");
    assert_json_sane("sweep", &json, "");
    let saturated = &file.points[3];
    let hour = saturated.slos.iter().find(|check| check.expr == "latency_mean < 1h").expect("a check");
    assert!(hour.met && hour.value.is_some_and(|v| v > 100.0), "the transient meets it: {hour:?}");

    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.lines().any(|line| line.contains("SLO")), "{table}");
    let rows: Vec<&str> =
        table.lines().filter(|line| line.starts_with(|c: char| c.is_ascii_digit())).collect();
    assert!(rows[1].ends_with("met") && rows[2].ends_with("missed: latency_mean < 4s"), "{table}");
    assert!(rows[3].contains("unstable") && rows[3].ends_with("missed: no steady state"), "{table}");
    let last = table.lines().last().expect("a final line");
    assert!(last.contains("last point meeting every SLO: load=0.7 (point 1)"), "{table}");
}

/// A point reports what `kendall run` reports on the same variation, entry for entry: the same
/// seeds at every point (common random numbers), and summary.json's node and source entries.
#[test]
fn a_point_is_the_run_of_its_variation() {
    let dir = temp();
    let path = write_scenario(&dir, "one.toml", &station(1_000.0, 100.0, 3, 0.5, 1));
    let (file, _) = sweep_ok(&path, &dir.path().join("sweep"), &["--vary", "node.station.servers=1,2"]);
    let two = write_scenario(&dir, "two.toml", &station(1_000.0, 100.0, 3, 0.5, 2));
    let out = dir.path().join("run");
    let output = run(&two, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: SummaryFile =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).expect("summary.json"))
            .expect("JSON");
    assert_eq!(file.points[1].nodes, summary.nodes);
    assert_eq!(file.points[1].sources, summary.sources);
    assert_ne!(file.points[0].nodes, summary.nodes, "one server is not two");
}

/// Replications stopped early at the cap, at several points, make one warning that says at how
/// many points: at λ = 2 and 3 (μ = 1) an M/M/1 holding at most 50 messages reaches the cap in
/// about 50/(λ − μ) ≤ 50 s of a 1100 s run, every replication; at λ = 0.5 the chance of 50 in the
/// system, about ρ^50 = 1e-15 per busy period, is nil.
#[test]
fn replications_stopped_early_make_one_warning_over_all_points() {
    let dir = temp();
    let toml = ScenarioBuilder::settings(
        "duration = \"1000s\"\nwarmup = \"100s\"\nreplications = 4\nmax_in_system = 50",
    )
    .source("arrivals", "station", 1.0, "")
    .node("station", 1, 1.0, "")
    .toml();
    let path = write_scenario(&dir, "capped.toml", &toml);
    let out = dir.path().join("out");
    let (file, output) = sweep_ok(&path, &out, &["--vary", "load=0.5,2,3"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|line| line.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("8 of 12 replications stopped early"), "{stderr}");
    assert!(warnings[0].contains("at 2 of 3 sweep points, 2 of them past saturation"), "{stderr}");
    let stopped: Vec<(usize, bool)> = file.points.iter().map(|p| (p.stopped_early, p.steady_state)).collect();
    assert_eq!(stopped, [(0, true), (4, false), (4, false)]);
    // sweep.json and report.html carry the same warning, worded as on the terminal.
    let printed = warnings[0].trim_start_matches("warning: ");
    assert_eq!(file.warnings, [printed]);
    let page = fs::read_to_string(out.join("report.html")).expect("report.html is written");
    let section = page.split("<h2>Warnings</h2>").nth(1).expect("a warnings section");
    assert!(section.contains("8 of 12 replications stopped early"), "{section}");
}

/// A bad `--vary` or `--slo`: exit status 2, the offending token named, nothing on stdout and no
/// output directory.
#[test]
fn bad_axes_and_slos_are_rejected_before_running() {
    let dir = temp();
    let path = write_scenario(&dir, "mm1.toml", &station(100.0, 10.0, 2, 0.5, 1));
    let cases: [(&[&str], &[&str]); 8] = [
        (&["--vary", "node.nope.servers=1..3"], &["node.nope.servers", "station"]),
        (&["--vary", "load=1..x"], &["'x' is not a number"]),
        (&["--vary", "load"], &["expected PATH=VALUES"]),
        (&["--vary", "node.station.servers=2,0"], &["sweep point 1", "node.station.servers=0"]),
        (&["--vary", "load=0.5", "--vary", "load=0.7"], &["'load' is given twice"]),
        (&["--vary", "load=0.5", "--slo", "latency_p999 < 1s"], &["latency_p999"]),
        (&["--vary", "load=0.5", "--slo", "source.nobody.latency_mean < 1s"], &["'nobody'", "arrivals"]),
        (&["--slo", "latency_mean < 1s"], &["--vary"]),
    ];
    for (args, fragments) in cases {
        let out = dir.path().join("out");
        let output = sweep(&path, &out, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        for fragment in fragments {
            assert!(stderr.contains(fragment), "{args:?}: stderr lacks {fragment:?}: {stderr}");
        }
        assert!(output.stdout.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&output.stdout));
        assert!(!out.exists(), "{args:?}: an output directory was created for a bad input");
    }
}

/// Two senders held by one blocking queue: no closed form decides whether they keep up
/// (crosscheck::senders_held_by_a_shared_blocking_queue_have_no_verdict), so each point's
/// verdict is null in sweep.json and "open" in the table, never "stable".
#[test]
fn a_point_no_closed_form_decides_is_open() {
    let dir = temp();
    let toml = ScenarioBuilder::simulated(500.0, 100.0, 2)
        .source("s1", "a", 0.6, "")
        .source("s2", "b", 0.6, "")
        .node("a", 1, 1.0, "routes = [{ to = \"q\" }]")
        .node("b", 1, 1.0, "routes = [{ to = \"q\" }]")
        .node("q", 1, 0.7, "capacity = 1\noverflow = \"block\"")
        .toml();
    let path = write_scenario(&dir, "held.toml", &toml);
    let (file, output) = sweep_ok(&path, &dir.path().join("out"), &["--vary", "load=0.5,1"]);
    assert!(file.points.iter().all(|point| point.system.stable.is_none()), "{:?}", file.points[0].system);
    let table = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<&str> =
        table.lines().filter(|line| line.starts_with("0 ") || line.starts_with("1 ")).collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows.iter().all(|row| row.contains(" open ") && !row.contains("stable")), "{table}");
    assert!(table.contains("open where no closed form decides"), "{table}");
}
