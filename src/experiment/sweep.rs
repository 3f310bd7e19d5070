//! Sweeps: a scenario run at every point of a grid of variations (a load factor, a number of
//! servers, a service mean...), each point with the same replication seeds (common random numbers
//! along the curve), the replications of every point in one parallel pool.
//!
//! A [`Sweep`] is the validated grid: every point's scenario has passed the checks of a scenario
//! file before anything runs, so a bad path or value is refused without simulating. Running it
//! gives a [`SweepOutcome`]: per point the theory, the simulation, the SLO checks and whether the
//! figures describe a steady state at all.

use std::time::Instant;

use thiserror::Error;

use super::{
    Axis, Experiment, ExperimentError, PrecisionReport, RunLength, Slo, SloCheck, SloError, Warning, run_for,
};
use crate::analytic::{self, Analysis};
use crate::model::{NodeMetric, Scenario};
use crate::scenario::{
    LoadedScenario, MAX_MESSAGES, ScenarioError, Variation, VariationError, Workload, show_messages, vary,
};
use crate::stats::{Estimate, ReplicationResult};

/// The most points a sweep's grid may have (the product of its axes' lengths).
pub const MAX_GRID_POINTS: usize = 10_000;

/// Why a sweep was refused; every variant is a fault of the input, found before anything runs.
#[derive(Debug, Error)]
pub enum SweepError {
    /// The sweep has no axis.
    #[error("a sweep needs at least one --vary PATH=VALUES")]
    NoAxis,
    /// Two axes vary the same path.
    #[error("--vary '{path}' is given twice; give all its values in one --vary")]
    RepeatedPath {
        /// The path.
        path: String,
    },
    /// The grid has too many points.
    #[error("the grid has {points} points, more than the {MAX_GRID_POINTS} a sweep may have")]
    TooManyPoints {
        /// The product of the axes' lengths (saturated at `usize::MAX`).
        points: usize,
    },
    /// A point's variations name a path or value the scenario cannot take.
    #[error("sweep point {point} ({label})")]
    Variation {
        /// The point, from 0.
        point: usize,
        /// Its variations, `PATH=VALUE` separated by spaces.
        label: String,
        /// What is wrong, naming the variation.
        source: VariationError,
    },
    /// An SLO names a source or node the scenario does not have.
    #[error(transparent)]
    Slo(#[from] SloError),
    /// The points together would simulate more than [`MAX_MESSAGES`] messages (at the field
    /// that sets the work, naming the point that asks the most).
    #[error(transparent)]
    Workload(ScenarioError),
}

/// A validated sweep, ready to run: the scenario at every point of the grid.
#[derive(Debug, Clone)]
pub struct Sweep {
    axes: Vec<Axis>,
    slos: Vec<Slo>,
    /// Per point, the index of its value on each axis.
    cursors: Vec<Vec<usize>>,
    /// Per point, its scenario.
    scenarios: Vec<Scenario>,
}

impl Sweep {
    /// Every point of the grid `axes` spans over `base` (the last axis varies fastest), each
    /// validated by the checks of a scenario file, with `slos` to judge at each.
    ///
    /// # Errors
    /// No axis, a path varied twice, a grid of more than [`MAX_GRID_POINTS`] points, an SLO that
    /// names an unknown source or node, or the first point whose variations the scenario cannot
    /// take (naming them).
    pub fn new(base: &LoadedScenario, axes: Vec<Axis>, slos: Vec<Slo>) -> Result<Self, SweepError> {
        if axes.is_empty() {
            return Err(SweepError::NoAxis);
        }
        for (i, axis) in axes.iter().enumerate() {
            if axes[..i].iter().any(|earlier| earlier.path == axis.path) {
                return Err(SweepError::RepeatedPath { path: axis.path.clone() });
            }
        }
        let points = axes.iter().try_fold(1_usize, |product, axis| product.checked_mul(axis.values.len()));
        match points {
            Some(points) if points <= MAX_GRID_POINTS => {}
            points => return Err(SweepError::TooManyPoints { points: points.unwrap_or(usize::MAX) }),
        }
        for slo in &slos {
            slo.check_names(base.scenario().network())?;
        }
        let cursors = grid(&axes);
        let scenarios = cursors
            .iter()
            .enumerate()
            .map(|(point, cursor)| at_point(base, &axes, cursor, point))
            .collect::<Result<_, _>>()?;
        Ok(Self { axes, slos, cursors, scenarios })
    }

    /// Number of points of the grid.
    #[must_use]
    pub fn points(&self) -> usize {
        self.scenarios.len()
    }

    /// Replications over every point: the units of work [`Sweep::run`] reports as done.
    #[must_use]
    pub fn replications(&self) -> u64 {
        self.scenarios.iter().map(|scenario| u64::from(scenario.settings().replications())).sum()
    }

    /// Refuses, before anything runs, a sweep whose points, each running for `length`, would
    /// together simulate more than [`MAX_MESSAGES`] messages: the limit bounds the computing
    /// of a whole command, and a thousand points each just within it would be hours too.
    /// Returns the messages expected.
    ///
    /// # Errors
    /// [`SweepError::Workload`] at the field of `base` (the file the sweep was made from) that
    /// sets the work, with the sweep's total and the point that asks the most, named by its
    /// `--vary` values.
    pub fn check_workload(&self, base: &LoadedScenario, length: &RunLength) -> Result<f64, SweepError> {
        let workloads: Vec<Workload> = self
            .scenarios
            .iter()
            .map(|scenario| Workload::new(scenario, length.most_replications(scenario)))
            .collect();
        let total: f64 = workloads.iter().map(Workload::messages).sum();
        if total <= MAX_MESSAGES {
            return Ok(total);
        }
        let most =
            workloads.iter().enumerate().max_by(|(_, a), (_, b)| a.messages().total_cmp(&b.messages()));
        let Some((point, most)) = most else { return Ok(total) };
        let label = variations_at(&self.axes, &self.cursors[point]).join(" ");
        let limit = format!("more than kendall's limit of {MAX_MESSAGES:e} for a whole sweep");
        let message = match workloads.len() {
            1 => format!(
                "this sweep's one point ({label}) would simulate {most}, {limit} (hours of computing)"
            ),
            n => format!(
                "this sweep would simulate {} messages over its {n} points, {limit}, all its points together (hours of computing); sweep point {point} ({label}) asks the most, {most}",
                show_messages(total)
            ),
        };
        Err(SweepError::Workload(base.workload_error(&format!(
            "{message}: narrow the --vary values, shorten the duration, lower the rates or run fewer replications"
        ))))
    }

    /// Runs every replication of every point (each point for `length`) in one pool of `threads`
    /// workers (`None`: one per core), calling `on_done` after each; then judges every point.
    ///
    /// # Errors
    /// When the thread pool cannot be created.
    pub fn run(
        self,
        length: &RunLength,
        threads: Option<usize>,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<SweepOutcome, ExperimentError> {
        let started = Instant::now();
        let (experiments, precision) = run_for(&self.scenarios, length, false, threads, on_done)?;
        Ok(self.finish(experiments, &precision, started.elapsed().as_secs_f64()))
    }

    /// The scenario at every point, in order: the work [`Sweep::run`] runs (or shards of it).
    #[must_use]
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The sweep's outcome from `experiments`, one per point in order (run here, or gathered
    /// from shards), which took `wall_seconds`; `precision` says how runs under a precision
    /// target ended. Judges every point.
    #[must_use]
    pub fn finish(
        self,
        experiments: Vec<Experiment>,
        precision: &[PrecisionReport],
        wall_seconds: f64,
    ) -> SweepOutcome {
        let Self { axes, slos, cursors, scenarios } = self;
        let points: Vec<SweepPoint> = cursors
            .into_iter()
            .zip(scenarios)
            .zip(experiments)
            .map(|((cursor, scenario), experiment)| {
                SweepPoint::new(&axes, &slos, &cursor, scenario, experiment)
            })
            .collect();
        let mut warnings = stopped_warnings(&points);
        warnings.extend(Warning::imprecise(precision));
        let events = points.iter().map(|point| point.experiment.events).sum();
        SweepOutcome { axes, slos, points, warnings, events, wall_seconds }
    }
}

/// Every cursor of the grid of `axes`, the last axis fastest.
fn grid(axes: &[Axis]) -> Vec<Vec<usize>> {
    let mut cursors = Vec::new();
    let mut cursor = vec![0; axes.len()];
    loop {
        cursors.push(cursor.clone());
        if !advance(&mut cursor, axes) {
            return cursors;
        }
    }
}

/// Moves `cursor` to the next grid point, the last axis fastest; false after the last point.
fn advance(cursor: &mut [usize], axes: &[Axis]) -> bool {
    for (position, axis) in cursor.iter_mut().zip(axes).rev() {
        *position += 1;
        if *position < axis.values.len() {
            return true;
        }
        *position = 0;
    }
    false
}

/// The scenario at one point of the grid, validated.
fn at_point(
    base: &LoadedScenario,
    axes: &[Axis],
    cursor: &[usize],
    point: usize,
) -> Result<Scenario, SweepError> {
    let texts = variations_at(axes, cursor);
    let label = texts.join(" ");
    let error = |source| SweepError::Variation { point, label: label.clone(), source };
    let variations: Vec<Variation> =
        texts.iter().map(|text| text.parse()).collect::<Result<_, _>>().map_err(error)?;
    Ok(vary(base, &variations).map_err(error)?.into_scenario())
}

/// A point's variations, `PATH=VALUE` in axis order.
fn variations_at(axes: &[Axis], cursor: &[usize]) -> Vec<String> {
    axes.iter().zip(cursor).map(|(axis, &i)| format!("{}={}", axis.path, axis.values[i])).collect()
}

/// One point of a sweep: its values, theory, simulation and verdicts.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    /// The value of each axis at this point, as given (axis order).
    pub values: Vec<String>,
    /// The same values as numbers in SI units (seconds, per second).
    pub numbers: Vec<f64>,
    /// The scenario at this point.
    pub scenario: Scenario,
    /// Theory at this point, when the network can be analysed.
    pub analysis: Option<Analysis>,
    /// The replications and their summary.
    pub experiment: Experiment,
    /// Every SLO judged on every source or node it applies to, on the worst side of its CI.
    pub slo_checks: Vec<SloCheck>,
    /// Messages and copies lost per second (dropped at full channels, expired without a
    /// dead-letter node, or unroutable), summed over the sources: one value per replication, then the estimate.
    pub drop_rate: Option<Estimate>,
    /// Growth of the messages held in all nodes, per second (0 at a steady state; the sum of
    /// the nodes' `queue_growth_rate`): one value per replication, then the estimate.
    pub growth_rate: Option<Estimate>,
}

impl SweepPoint {
    fn new(
        axes: &[Axis],
        slos: &[Slo],
        cursor: &[usize],
        scenario: Scenario,
        experiment: Experiment,
    ) -> Self {
        let analysis = analytic::analyze(&scenario, None).ok();
        let slo_checks = slos.iter().flat_map(|slo| slo.evaluate(&experiment.summary)).collect();
        let records = &experiment.replications;
        let drop_rate = per_replication(records, |record| {
            #[allow(clippy::cast_precision_loss)] // message counts far below 2^53
            let dropped = record.sources.iter().map(|source| source.dropped as f64).sum::<f64>();
            (record.observed_s > 0.0).then(|| dropped / record.observed_s)
        });
        let growth_rate = per_replication(records, |record| {
            record.nodes.iter().map(|node| node.metrics.get(NodeMetric::QueueGrowthRate)).sum()
        });
        Self {
            values: axes.iter().zip(cursor).map(|(axis, &i)| axis.values[i].clone()).collect(),
            numbers: axes.iter().zip(cursor).map(|(axis, &i)| axis.numbers[i]).collect(),
            scenario,
            analysis,
            experiment,
            slo_checks,
            drop_rate,
            growth_rate,
        }
    }

    /// Whether theory finds every unbounded queue stable (`None` without an analysis, or when
    /// no closed form decides).
    #[must_use]
    pub fn stable(&self) -> Option<bool> {
        self.analysis
            .as_ref()
            .filter(|analysis| analysis.system.undetermined.is_none())
            .map(|analysis| analysis.system.stable)
    }

    /// Whether the simulated figures describe a steady state: theory does not call the system
    /// unstable, and no replication stopped early at the cap on messages in the system. Past
    /// saturation only the growth rates are meaningful; means and percentiles describe a
    /// transient that depends on the run length.
    #[must_use]
    pub fn steady_state(&self) -> bool {
        self.stable() != Some(false) && self.experiment.stopped_early() == 0
    }

    /// Whether every SLO holds at this point (`None` without SLOs): every check met on the worst
    /// side of its CI, at a steady state (an SLO is never met past saturation, however the
    /// transient looks).
    #[must_use]
    pub fn meets_slos(&self) -> Option<bool> {
        (!self.slo_checks.is_empty())
            .then(|| self.steady_state() && self.slo_checks.iter().all(|check| check.met))
    }
}

/// The estimate over replications of a figure each replication gives (or not).
fn per_replication(
    records: &[ReplicationResult],
    value: impl Fn(&ReplicationResult) -> Option<f64>,
) -> Option<Estimate> {
    let values: Vec<f64> = records.iter().filter_map(value).collect();
    Estimate::from_values(&values)
}

/// A whole sweep, run.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// The swept paths and their values; points vary the last axis fastest.
    pub axes: Vec<Axis>,
    /// The SLOs judged at every point.
    pub slos: Vec<Slo>,
    /// Every point of the grid, in order.
    pub points: Vec<SweepPoint>,
    /// What the user should know: replications stopped early or deadlocked, one warning each
    /// over all points.
    pub warnings: Vec<Warning>,
    /// Events processed over all points.
    pub events: u64,
    /// Wall-clock time of the whole sweep, seconds.
    pub wall_seconds: f64,
}

impl SweepOutcome {
    /// The index of the last point, in sweep order, at which every SLO holds: with one axis
    /// swept in increasing order, the highest value that meets them. `None` without SLOs or when
    /// no point meets them.
    #[must_use]
    pub fn last_meeting_slos(&self) -> Option<usize> {
        self.points.iter().rposition(|point| point.meets_slos() == Some(true))
    }
}

/// One warning for the replications stopped early at the cap over all points, one for those
/// deadlocked: a load sweep past saturation is expected to hit the cap, and one line per point
/// would bury everything else.
fn stopped_warnings(points: &[SweepPoint]) -> Vec<Warning> {
    let of = points.iter().map(|point| point.experiment.replications.len()).sum();
    let of_points = points.len();
    let mut warnings = Vec::new();
    let stopped: Vec<&SweepPoint> = points.iter().filter(|p| p.experiment.stopped_early() > 0).collect();
    if !stopped.is_empty() {
        warnings.push(Warning::StoppedEarlyAtPoints {
            replications: stopped.iter().map(|p| p.experiment.stopped_early()).sum(),
            of,
            points: stopped.len(),
            of_points,
            past_saturation: stopped.iter().filter(|p| p.stable() == Some(false)).count(),
        });
    }
    let deadlocked: Vec<&SweepPoint> = points.iter().filter(|p| p.experiment.deadlocked() > 0).collect();
    if !deadlocked.is_empty() {
        warnings.push(Warning::DeadlockedAtPoints {
            replications: deadlocked.iter().map(|p| p.experiment.deadlocked()).sum(),
            of,
            points: deadlocked.len(),
            of_points,
        });
    }
    warnings
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::experiment::Precision;
    use crate::scenario::Overrides;

    const MM1: &str = r#"
        [simulation]
        duration = "200s"
        warmup = "20s"
        replications = 2

        [[source]]
        name = "clients"
        to = "server"
        interarrival = { dist = "exponential", rate = 0.5 }

        [[node]]
        name = "server"
        service = { dist = "exponential", mean = "1s" }
    "#;

    fn base() -> LoadedScenario {
        LoadedScenario::parse(MM1, "mm1", Path::new("mm1.toml"), &Overrides::default()).unwrap()
    }

    fn axes(texts: &[&str]) -> Vec<Axis> {
        texts.iter().map(|text| text.parse().unwrap()).collect()
    }

    #[test]
    fn the_grid_varies_the_last_axis_fastest() {
        let sweep =
            Sweep::new(&base(), axes(&["load=0.5,1", "node.server.servers=1..3"]), Vec::new()).unwrap();
        assert_eq!(sweep.points(), 6);
        assert_eq!(sweep.replications(), 12);
        assert_eq!(sweep.cursors, [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
        let servers: Vec<_> =
            sweep.scenarios.iter().map(|s| s.network().nodes()[0].servers.count()).collect();
        assert_eq!(servers, [Some(1), Some(2), Some(3), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn bad_sweeps_are_refused_before_running() {
        let error = |texts: &[&str]| Sweep::new(&base(), axes(texts), Vec::new()).unwrap_err();
        assert!(matches!(error(&["load=1,2", "load=3"]), SweepError::RepeatedPath { .. }));
        assert!(matches!(
            error(&["load=1..100:100", "node.server.servers=1..101"]),
            SweepError::TooManyPoints { points: 10_100 }
        ));
        let invalid = error(&["node.server.servers=1,0"]);
        assert!(matches!(invalid, SweepError::Variation { point: 1, .. }), "{invalid:?}");
        assert!(invalid.to_string().contains("node.server.servers=0"));
        assert!(matches!(Sweep::new(&base(), Vec::new(), Vec::new()), Err(SweepError::NoAxis)));
        let slo = "source.nobody.latency_mean < 1s".parse().unwrap();
        assert!(matches!(Sweep::new(&base(), axes(&["load=1"]), vec![slo]), Err(SweepError::Slo(_))));
    }

    #[test]
    fn the_whole_sweep_is_checked_against_the_message_limit() {
        // 0.5/s over 220 s is 110 messages a replication; at load L and 2 replications, 220 L.
        let sweep = Sweep::new(&base(), axes(&["load=1,3"]), Vec::new()).unwrap();
        assert!((sweep.check_workload(&base(), &RunLength::Fixed).unwrap() - 880.0).abs() < 1e-9);
        // A precision target runs up to its most replications: 110 × 4 × 1000.
        let precise = RunLength::Precise(Precision { max_replications: 1000, ..Precision::new(0.1) });
        assert!((sweep.check_workload(&base(), &precise).unwrap() - 440_000.0).abs() < 1e-6);
        // 110 L × 10 000 replications: each point within the limit (3.3e9 to 5.5e9), their sum not.
        let huge = axes(&["load=3000..5000:3", "simulation.replications=10000"]);
        let error = Sweep::new(&base(), huge, Vec::new()).unwrap().check_workload(&base(), &RunLength::Fixed);
        let message = error.unwrap_err().to_string();
        assert!(message.starts_with("mm1.toml:3:20: [simulation] field 'duration': "), "{message}");
        assert!(message.contains("about 1.32e10 messages over its 3 points"), "{message}");
        assert!(message.contains("sweep point 2 (load=5000 simulation.replications=10000)"), "{message}");
    }

    #[test]
    fn no_slo_is_met_past_saturation() {
        let slos = vec!["latency_mean < 1000h".parse().unwrap()];
        let sweep = Sweep::new(&base(), axes(&["load=1,4"]), slos).unwrap();
        let outcome = sweep.run(&RunLength::Fixed, Some(1), &|| {}).unwrap();
        let [stable, saturated] = outcome.points.as_slice() else { panic!("two points") };
        assert_eq!((stable.stable(), saturated.stable()), (Some(true), Some(false)));
        assert!(saturated.slo_checks.iter().all(|check| check.met), "the transient looks fine");
        assert_eq!((stable.meets_slos(), saturated.meets_slos()), (Some(true), Some(false)));
        assert_eq!(outcome.last_meeting_slos(), Some(0));
    }
}
