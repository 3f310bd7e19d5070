//! Machinery shared by the modules that compare the simulator with theory: running an inline
//! scenario, and judging a simulated mean against a theoretical value.
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

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

use kendall::experiment::{self, Experiment};
use kendall::stats::Estimate;
use statrs::distribution::{ContinuousCDF, StudentsT};

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

/// Parses and runs an inline scenario on every core; no replication may stop early.
pub fn simulate(toml: &str) -> Experiment {
    let scenario =
        kendall::scenario::parse(toml, "theory", Path::new("theory.toml")).expect("valid scenario");
    let experiment = experiment::run(&scenario, None, &|| {}).expect("thread pool");
    assert_eq!(experiment.stopped_early(), 0, "a replication stopped early");
    println!("{} events in {:.2}s", experiment.events, experiment.wall_seconds);
    experiment
}

/// The `[simulation]` table, durations in seconds, seed 1.
pub fn simulation(duration_s: f64, warmup_s: f64, replications: u32) -> String {
    format!(
        "[simulation]\nduration = {duration_s:.1}\nwarmup = {warmup_s:.1}\nreplications = {replications}\nseed = 1\n"
    )
}

/// A Poisson source at `lambda` per second into one node; `extra` holds more node fields.
pub fn single_station(simulation: &str, lambda: f64, servers: u32, service: &str, extra: &str) -> String {
    format!(
        r#"{simulation}
[[source]]
name = "arrivals"
to = "station"
interarrival = {{ dist = "exponential", rate = {lambda} }}

[[node]]
name = "station"
servers = {servers}
service = {service}
{extra}
"#
    )
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

    /// Asserts that the 95% half-width of `estimate` is at most `precision` of `theory`, and
    /// that `theory` lies within the Bonferroni interval, widened by `bias` relative for a known
    /// bias of the estimator. A theory value of 0 thus demands a simulated 0 in every replication
    /// (a drop probability of an unbounded channel, a wait with infinitely many workers).
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
