//! Machinery shared by the test modules: the `kendall` binary and temporary files, one builder
//! for inline scenarios, running and analysing them, looking figures up, judging a simulated
//! mean against a theoretical value, and checking that an analysis holds no NaN.
//!
//! # Tolerances
//! A simulated mean is compared with theory through the Student t interval over its
//! replications. A module that makes `checks` such comparisons would see some of them miss by
//! chance alone at 95% each, so each comparison uses a Bonferroni interval instead: the module's
//! family-wise error rate is `error`, each check gets error/checks, and the library's 95%
//! half-width is stretched by t(1 − error/(2 checks), n − 1) / t(0.975, n − 1). Bonferroni holds
//! under any dependence between the checks, which matters because every test uses seed 1 (common
//! random numbers: the errors are correlated). So that a loose interval cannot hide a wrong
//! simulator, every check also asserts that the 95% half-width is at most `precision` of the
//! theory value.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use statrs::distribution::{ContinuousCDF, StudentsT};
use tempfile::TempDir;

use kendall::analytic::{Analysis, Figure, NodeAnalysis, analyze};
use kendall::experiment::{self, Experiment};
use kendall::model::{Metric, MetricValues, Scenario};
use kendall::report::AnalysisFile;
use kendall::stats::{EntitySummary, Estimate, NodeMetric, SourceMetric};

/// The `kendall` binary, ready to take arguments.
pub fn kendall() -> Command {
    Command::cargo_bin("kendall").expect("the kendall binary is built")
}

/// A temporary directory, removed when dropped.
pub fn temp() -> TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Writes `contents` as `dir/name` and returns the path.
pub fn write_scenario(dir: &TempDir, name: &str, contents: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, contents).expect("the scenario file is written");
    path
}

/// Runs `kendall run SCENARIO --out OUT --quiet` with the extra arguments and returns the output,
/// whatever its exit status.
pub fn run(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    kendall()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("kendall runs")
}

/// Runs a bad scenario file: asserts exit status 2 from `run` and from `check`, that stderr
/// contains every expected fragment, that nothing is printed on stdout, and that no output
/// directory is created.
pub fn assert_rejected(name: &str, contents: &str, expected: &[&str]) {
    let dir = temp();
    let path = write_scenario(&dir, name, contents);
    let out = dir.path().join("out");
    let output = run(&path, &out, &["--duration", "100s", "--replications", "2"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    for fragment in expected {
        assert!(stderr.contains(fragment), "stderr lacks {fragment:?}: {stderr}");
    }
    assert!(output.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&output.stdout));
    assert!(!out.exists(), "an output directory was created for a bad input");
    let output = kendall().arg("check").arg(&path).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(2), "check: {}", String::from_utf8_lossy(&output.stderr));
}

/// An inline scenario written table by table: the one way the tests write scenario TOML.
///
/// Each method appends one table, followed by a blank line; `extra` holds more fields of that
/// table, one per line. Numbers are written with `{:?}`, which round-trips exactly and keeps a
/// decimal point (`1.0`, not `1`).
#[derive(Debug, Clone, Default)]
pub struct ScenarioBuilder {
    toml: String,
}

impl ScenarioBuilder {
    /// A scenario without a `[simulation]` table: for `analyze`, `check` and bad input, or where
    /// the command line gives the settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A scenario that starts with its `[simulation]` table: durations in seconds, seed 1.
    pub fn simulated(duration_s: f64, warmup_s: f64, replications: u32) -> Self {
        Self::settings(&format!(
            "duration = {duration_s:?}\nwarmup = {warmup_s:?}\nreplications = {replications}\nseed = 1"
        ))
    }

    /// A scenario that starts with a `[simulation]` table of the given fields.
    pub fn settings(fields: &str) -> Self {
        let mut builder = Self::new();
        builder.table("[simulation]", fields);
        builder
    }

    /// Adds a Poisson source `name` sending `rate` messages per second to `to`.
    pub fn source(&mut self, name: &str, to: &str, rate: f64, extra: &str) -> &mut Self {
        self.table(
            "[[source]]",
            &format!(
                "name = \"{name}\"\nto = \"{to}\"\ninterarrival = {{ dist = \"exponential\", rate = {rate:?} }}\n{extra}"
            ),
        )
    }

    /// Adds a node `name` of `servers` servers whose service is exponential of mean `mean_s`
    /// seconds.
    pub fn node(&mut self, name: &str, servers: u32, mean_s: f64, extra: &str) -> &mut Self {
        self.node_with(
            name,
            &format!(
                "servers = {servers}\nservice = {{ dist = \"exponential\", mean = {mean_s:?} }}\n{extra}"
            ),
        )
    }

    /// Adds a node `name` with the given fields: another service law, infinitely many servers.
    pub fn node_with(&mut self, name: &str, fields: &str) -> &mut Self {
        self.table("[[node]]", &format!("name = \"{name}\"\n{fields}"))
    }

    /// Adds an exchange `name` of type `kind` whose bindings are the given TOML inline tables.
    pub fn exchange(&mut self, name: &str, kind: &str, bindings: &[&str], extra: &str) -> &mut Self {
        self.table(
            "[[exchange]]",
            &format!("name = \"{name}\"\ntype = \"{kind}\"\nbindings = [{}]\n{extra}", bindings.join(", ")),
        )
    }

    /// Appends TOML text as it is: a table no other method writes (a closed source), or a
    /// network written out in full.
    pub fn text(&mut self, toml: &str) -> &mut Self {
        self.toml.push_str(toml);
        self
    }

    /// The scenario's TOML text.
    pub fn toml(&self) -> String {
        self.toml.clone()
    }

    /// Appends the table `header` with `fields`, then a blank line.
    fn table(&mut self, header: &str, fields: &str) -> &mut Self {
        self.toml.push_str(header);
        self.toml.push('\n');
        self.toml.push_str(fields.trim_end());
        self.toml.push_str("\n\n");
        self
    }
}

/// A Poisson source "arrivals" at `lambda` per second into one node "station" with `fields`, 20
/// replications.
pub fn single_station(duration_s: f64, warmup_s: f64, lambda: f64, fields: &str) -> String {
    ScenarioBuilder::simulated(duration_s, warmup_s, 20)
        .source("arrivals", "station", lambda, "")
        .node_with("station", fields)
        .toml()
}

/// A Poisson source "s" at `rate` per second into one node "n" with `fields`, without a
/// `[simulation]` table.
pub fn one_node(rate: f64, fields: &str) -> String {
    ScenarioBuilder::new().source("s", "n", rate, "").node_with("n", fields).toml()
}

/// Parses an inline scenario.
pub fn scenario(toml: &str) -> Scenario {
    kendall::scenario::parse(toml, "inline", Path::new("inline.toml")).expect("valid scenario")
}

/// What `analyze` says of an inline scenario.
pub fn analysis(toml: &str) -> Analysis {
    analyze(&scenario(toml), None).expect("solvable traffic equations")
}

/// Parses and runs an inline scenario on every core; no replication may stop early.
pub fn simulate(toml: &str) -> Experiment {
    let experiment = experiment::run(&scenario(toml), None, &|| {}).expect("thread pool");
    assert_eq!(experiment.stopped_early(), 0, "a replication stopped early");
    println!("{} events in {:.2}s", experiment.events, experiment.wall_seconds);
    experiment
}

/// The summary of the node, source, exchange or class called `name`.
pub fn named<'a, M: Metric>(entities: &'a [EntitySummary<M>], name: &str) -> &'a EntitySummary<M> {
    entities.iter().find(|entity| entity.name == name).unwrap_or_else(|| panic!("no entity {name}"))
}

/// Position of the node called `name` in the network (and in every replication's `nodes`).
pub fn node_index(experiment: &Experiment, name: &str) -> usize {
    experiment.summary.nodes.iter().position(|node| node.name == name).unwrap_or_else(|| panic!("no {name}"))
}

/// One replication's value of a metric, which must be defined.
pub fn value<M: Metric + Debug>(values: &MetricValues<M>, metric: M) -> f64 {
    values.get(metric).unwrap_or_else(|| panic!("no {metric:?}"))
}

/// The `p` quantile of Student's t with `freedom` degrees of freedom.
pub fn t_quantile(p: f64, freedom: f64) -> f64 {
    StudentsT::new(0.0, 1.0, freedom).expect("positive degrees of freedom").inverse_cdf(p)
}

/// The comparisons of one module with theory, which share a family-wise error rate.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// Comparisons through confidence intervals in the module, the Bonferroni denominator.
    pub checks: u32,
    /// Probability that some check of the module fails by chance alone when the simulator is right.
    pub error: f64,
    /// Largest 95% half-width accepted, relative to the theory value.
    pub precision: f64,
}

impl Family {
    /// Factor that turns a 95% half-width with `freedom` degrees of freedom into this family's
    /// Bonferroni half-width.
    pub fn stretch(&self, freedom: f64) -> f64 {
        let per_check = self.error / f64::from(self.checks);
        t_quantile(1.0 - per_check / 2.0, freedom) / t_quantile(0.975, freedom)
    }

    /// [`Family::assert_agrees`] for a mean, which has no known bias.
    pub fn assert_mean(&self, what: &str, estimate: Option<Estimate>, theory: f64) {
        self.assert_agrees(what, estimate, theory, 0.0);
    }

    /// Asserts that the 95% half-width of `estimate` is at most `precision` of `theory`, and
    /// that `theory` lies within the Bonferroni interval, widened by `bias` relative for a known
    /// bias of the estimator. A theory value of 0 thus demands a simulated 0 in every replication
    /// (a drop probability of an unbounded queue, a wait with infinitely many servers).
    pub fn assert_agrees(&self, what: &str, estimate: Option<Estimate>, theory: f64, bias: f64) {
        let estimate = estimate.unwrap_or_else(|| panic!("{what}: no estimate"));
        let freedom = f64::from(u32::try_from(estimate.samples).expect("few replications")) - 1.0;
        let half_width = estimate.half_width();
        let allowed = self.stretch(freedom) * half_width + bias * theory.abs();
        let relative = if theory == 0.0 {
            String::new()
        } else {
            format!(" (±{:.2}%)", 100.0 * half_width / theory.abs())
        };
        println!(
            "{what}: theory {theory:.6}, simulated {:.6}, 95% CI [{:.6}, {:.6}]{relative}{}, allowed ±{allowed:.6}",
            estimate.mean,
            estimate.mean - half_width,
            estimate.mean + half_width,
            if estimate.covers(theory) { "" } else { ", theory outside the 95% CI" },
        );
        assert!(
            half_width <= self.precision * theory.abs(),
            "{what}: the 95% half-width {half_width} is more than {} of {theory}: runs too short",
            self.precision
        );
        assert!(
            (estimate.mean - theory).abs() <= allowed,
            "{what}: theory {theory} is outside {} ± {allowed} (95% CI {:?})",
            estimate.mean,
            estimate.ci95
        );
    }
}

/// The comparisons with theory of the feature tests, one family: 5 in backpressure.rs, 11 + 6 in
/// priorities.rs, 4 for MVA in closed_networks.rs, 3 in fork_join.rs, 1 in ttl.rs, 1 in
/// route_delays.rs, 9 in balancing.rs (3 for the random balancer, 3 for round-robin, 3 interval
/// ends for shortest-queue: random's lower end, shortest-queue's two ends) and 2 in
/// message_size.rs; 42 in all, the Bonferroni denominator. Each 95% half-width must be at most 2%
/// of the theory value.
pub const FEATURES: Family = Family { checks: 42, error: 0.05, precision: 0.02 };

/// Relative agreement demanded between `analyze` and a test's own closed form where both
/// evaluate the same few arithmetic operations: only rounding separates them.
pub const EXACT: f64 = 1e-9;

/// Asserts that a figure of `analyze` equals ours up to rounding ([`EXACT`] relative).
pub fn assert_analyzed(what: &str, library: Option<f64>, ours: f64) {
    let library = library.unwrap_or_else(|| panic!("{what}: analyze gives no value"));
    assert!(
        (library - ours).abs() <= EXACT * ours.abs().max(f64::MIN_POSITIVE),
        "{what}: analyze {library}, by hand {ours}"
    );
}

/// Asserts `actual` = `expected` up to rounding (1e-12 relative, or 1e-300 absolute near 0).
pub fn assert_close(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1e-288),
        "{what}: {actual}, expected {expected}"
    );
}

/// The analysis of the node called `name`.
pub fn node<'a>(analysis: &'a Analysis, name: &str) -> &'a NodeAnalysis {
    analysis.nodes.iter().find(|node| node.name == name).unwrap_or_else(|| panic!("no node {name}"))
}

/// A node's figure of `metric`, which must exist.
pub fn figure(node: &NodeAnalysis, metric: NodeMetric) -> &Figure {
    node.metric(metric).unwrap_or_else(|| panic!("node {}: no {metric:?} figure", node.name))
}

/// The value of a node's figure, which must exist.
pub fn figure_value(node: &NodeAnalysis, metric: NodeMetric) -> f64 {
    figure(node, metric).value.unwrap_or_else(|| panic!("node {}: {metric:?} has no value", node.name))
}

/// `analyze`'s value of a metric of the node called `name`.
pub fn node_figure(analysis: &Analysis, name: &str, metric: NodeMetric) -> Option<f64> {
    node(analysis, name).metric(metric).and_then(|figure| figure.value)
}

/// `analyze`'s value of a metric of the first source.
pub fn source_figure(analysis: &Analysis, metric: SourceMetric) -> Option<f64> {
    analysis.sources[0].metric(metric).and_then(|figure| figure.value)
}

/// The value of a metric of the first source, which must exist.
pub fn source_value(analysis: &Analysis, metric: SourceMetric) -> f64 {
    source_figure(analysis, metric).unwrap_or_else(|| panic!("source: {metric:?} has no value"))
}

/// A node analysis's numbers beside its figures, with their JSON names.
pub fn node_numbers(node: &NodeAnalysis) -> [(&'static str, f64); 6] {
    [
        ("arrival_rate", node.arrival_rate),
        ("demand_rate", node.demand_rate),
        ("utilization", node.utilization),
        ("throughput", node.throughput),
        ("growth_rate", node.growth_rate),
        ("fill_target", node.fill_target),
    ]
}

/// Asserts that every number of an analysis is finite and every figure without a value gives
/// its reason; probabilities must lie in [0, 1].
fn assert_sane(case: &str, analysis: &Analysis) {
    let finite = |what: &str, x: f64| assert!(x.is_finite(), "{case}: {what} = {x}");
    let figure_ok = |what: &str, key: &str, figure: &Figure| {
        match figure.value {
            Some(x) => finite(&format!("{what} {key}"), x),
            None => assert!(
                figure.reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{case}: {what} {key} has neither a value nor a reason: {figure:?}"
            ),
        }
        if matches!(key, "drop_probability" | "delivered_fraction")
            && let Some(p) = figure.value
        {
            assert!((0.0..=1.0).contains(&p), "{case}: {what} {key} = {p} is not a probability");
        }
    };
    let system = &analysis.system;
    finite("offered_rate", system.offered_rate);
    match system.headroom {
        Some(headroom) => {
            finite("headroom", headroom);
            finite(
                "max_throughput",
                system.max_throughput.expect("a maximum throughput beside the headroom"),
            );
        }
        None => {
            assert!(system.headroom_reason.is_some(), "{case}: no headroom and no reason");
            assert_eq!(system.max_throughput, None);
        }
    }
    for node in &analysis.nodes {
        let what = format!("node {}", node.name);
        for (field, x) in node_numbers(node) {
            finite(&format!("{what} {field}"), x);
        }
        assert!(node.growth_rate >= 0.0, "{case}: {what} growth {}", node.growth_rate);
        if node.stable {
            assert_eq!(node.growth_rate, 0.0, "{case}: {what}");
        }
        if let Some(time) = node.time_to_fill {
            finite(&format!("{what} time_to_fill"), time);
        }
        assert_eq!(node.metrics.len(), NodeMetric::ALL.len());
        for (metric, figure) in &node.metrics {
            figure_ok(&what, metric.key(), figure);
        }
    }
    for source in &analysis.sources {
        let what = format!("source {}", source.name);
        assert_eq!(source.metrics.len(), SourceMetric::ALL.len());
        for (metric, figure) in &source.metrics {
            figure_ok(&what, metric.key(), figure);
        }
    }
}

/// Walks a JSON document: every number is finite, and every figure (an object with a `method`)
/// has a `value`, an `exact` flag and, where the value is null, a `reason`. serde_json writes NaN
/// and infinity as null, so the second rule is what catches them.
pub fn assert_json_sane(case: &str, value: &Value, path: &str) {
    match value {
        Value::Number(number) => {
            assert!(number.as_f64().is_some_and(f64::is_finite), "{case}: {path} = {number}");
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_json_sane(case, item, &format!("{path}[{i}]"));
            }
        }
        Value::Object(map) => {
            if map.contains_key("method") {
                assert!(map.get("exact").is_some_and(Value::is_boolean), "{case}: {path}: {value}");
                match map.get("value") {
                    Some(Value::Number(_)) => {}
                    Some(Value::Null) => assert!(
                        map.get("reason").and_then(Value::as_str).is_some_and(|r| !r.is_empty()),
                        "{case}: {path} is null without a reason: {value}"
                    ),
                    other => panic!("{case}: {path}: value {other:?}"),
                }
            }
            if map.get("headroom").is_some_and(Value::is_null) {
                assert!(
                    map.get("headroom_reason").and_then(Value::as_str).is_some_and(|r| !r.is_empty()),
                    "{case}: {path}: a null headroom without headroom_reason: {value}"
                );
            }
            for (key, item) in map {
                assert_json_sane(case, item, &format!("{path}.{key}"));
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// Runs `kendall analyze FILE --format json --quiet --out DIR` with the extra arguments.
pub fn analyze_cli(path: &Path, out: &Path, extra: &[&str]) -> Output {
    kendall()
        .arg("analyze")
        .arg(path)
        .args(["--format", "json", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("kendall runs")
}

/// Analyses an edge case through the library and through `kendall analyze --format json`: both
/// must succeed, hold only finite numbers and reasons for the missing ones, and agree with each
/// other, and the JSON printed must be analysis.json. Returns the analysis and the warnings.
pub fn analyze_checked(name: &str, toml: &str) -> (Analysis, String) {
    let analysis = analysis(toml);
    let network = scenario(toml).network().clone();
    assert_sane(name, &analysis);
    let dir = temp();
    let path = write_scenario(&dir, &format!("{name}.toml"), toml);
    let out = dir.path().join("out");
    let output = analyze_cli(&path, &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).expect("analyze prints JSON");
    assert_json_sane(name, &json, "");
    let file: AnalysisFile = serde_json::from_value(json).expect("the JSON is an AnalysisFile");
    assert_eq!(
        file,
        AnalysisFile::new(name, &analysis, &network),
        "{name}: the command line and the library differ"
    );
    let written = fs::read(out.join("analysis.json")).expect("analysis.json is written");
    assert_eq!(written, output.stdout, "{name}: analysis.json differs from the printed JSON");
    (analysis, stderr)
}
