//! Experiments over a scenario: independent replications run in parallel (rayon), collected in
//! index order and reduced serially, so that results never depend on the thread count.
//!
//! [`simulate`] and [`study`] are the sequences behind `kendall run` and `kendall analyze`: they
//! return the outcome and the typed [`Warning`]s, and leave every output format to
//! [`report`](crate::report).

mod axis;
mod compare;
mod memory;
pub mod plan;
mod precision;
pub mod shard;
mod slo;
mod sweep;
mod warmup;
mod warning;

pub use axis::{Axis, AxisError};
pub use compare::{
    CompareError, CompareOutcome, Configuration, MetricDifference, Scope, Streams, compare,
    compare_experiments, compared_scenarios, configurations,
};
pub use memory::RecordMemory;
pub use plan::{Candidate, NodePlan, Plan, PlanError, PlanMode, PlanOptions, plan};
pub use precision::{
    FigureScope, Precision, PrecisionReport, WideFigure, run_until_precise, run_until_precise_together,
    too_wide,
};
pub use shard::{Shard, ShardError, Unit, UnitResult};
pub use slo::{Comparison, Slo, SloCheck, SloError, SloScope};
pub use sweep::{MAX_GRID_POINTS, Sweep, SweepError, SweepOutcome, SweepPoint};
pub use warning::Warning;

use std::time::Instant;

use rayon::prelude::*;
use thiserror::Error;

use crate::analytic::fluid::Fluid;
use crate::analytic::{self, Analysis, AnalysisError};
use crate::engine::Replication;
use crate::model::{Metric, Network, Scenario, Settings};
use crate::scenario::show_bytes;
use crate::stats::{Collector, ReplicationResult, SeriesRow, SeriesScope, Summary};

/// Why an experiment could not run.
#[derive(Debug, Error)]
pub enum ExperimentError {
    /// The worker thread pool could not be built.
    #[error("cannot start {threads} worker threads")]
    ThreadPool {
        /// Threads requested.
        threads: usize,
        /// The underlying error.
        source: rayon::ThreadPoolBuildError,
    },
    /// The replications' records would take more memory than the machine has to spare.
    #[error(
        "{replications} replications would keep about {} of records in memory at once ({} each, measured over the first ones), more than half of the {} available (the least of MemAvailable, the cgroup limit, or KENDALL_MEMORY when set): run fewer or shorter replications (--replications, --max-replications, --duration)",
        show_bytes(*needed), show_bytes(*per_replication), show_bytes(2.0 * *limit as f64)
    )]
    RecordsTooLarge {
        /// Replications in the run.
        replications: u64,
        /// Bytes each record takes (counted, with the allocator's overhead).
        per_replication: f64,
        /// Bytes all of them would take.
        needed: f64,
        /// Bytes they may take: half the memory available at the start.
        limit: u64,
    },
}

/// The results of running every replication of a scenario.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The record of each replication, in index order.
    pub replications: Vec<ReplicationResult>,
    /// Estimates across replications, reduced from the records.
    pub summary: Summary,
    /// Events processed over all replications (the summary's total).
    pub events: u64,
    /// Wall-clock time of the run, seconds.
    pub wall_seconds: f64,
}

impl Experiment {
    /// The experiment of `replications`, records of runs of `network` in index order (from this
    /// process, or read back from replications.jsonl), reduced by [`Summary::new`]; it took
    /// `wall_seconds` to run.
    #[must_use]
    pub fn new(network: &Network, replications: Vec<ReplicationResult>, wall_seconds: f64) -> Self {
        let summary = Summary::new(network, &replications);
        let events = summary.events;
        Self { replications, summary, events, wall_seconds }
    }

    /// Replications that stopped early because the system held too many messages.
    #[must_use]
    pub fn stopped_early(&self) -> usize {
        self.summary.stopped_early
    }

    /// Replications that stopped early because full blocking queues deadlocked.
    #[must_use]
    pub fn deadlocked(&self) -> usize {
        self.summary.deadlocked
    }
}

/// Runs one replication of `network` and returns its statistics. With `warmup = "auto"`, a
/// pilot run (on streams independent of the replication's) first chooses its warm-up by MSER-5
/// on the node populations.
#[must_use]
pub fn run_replication(network: &Network, settings: &Settings, index: u32) -> ReplicationResult {
    if settings.auto_warmup {
        let chosen = warmup::choose(network, settings, index);
        let fixed = Settings { warmup_s: chosen.warmup_s, auto_warmup: false, ..settings.clone() };
        let mut result = run_replication(network, &fixed, index);
        result.warmup_unresolved = !chosen.resolved;
        return result;
    }
    let (collector, end) =
        Replication::new(network, settings, index, Collector::new(network, settings)).run();
    collector.finish(index, end)
}

/// Runs every replication of `scenario` on `threads` servers (`None`: one per core), calling
/// `on_done` after each replication (for progress bars).
///
/// # Errors
/// When the thread pool cannot be created.
pub fn run(
    scenario: &Scenario,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Experiment, ExperimentError> {
    let mut experiments = run_all(std::slice::from_ref(scenario), threads, on_done)?;
    Ok(experiments.remove(0))
}

/// How many replications each scenario of an experiment runs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum RunLength {
    /// Its own replication count (the file's, or `--replications`).
    #[default]
    Fixed,
    /// Batches of its replication count until every figure meets the target (`--precision`).
    Precise(Precision),
}

impl RunLength {
    /// The most replications `scenario` may run: its count, or a precision target's most.
    #[must_use]
    pub fn most_replications(&self, scenario: &Scenario) -> u64 {
        match self {
            Self::Fixed => u64::from(scenario.settings().replications()),
            Self::Precise(precision) => u64::from(precision.max_replications.max(1)),
        }
    }
}

/// Runs every scenario for `length` in one pool of work units; `paired` keeps the scenarios of
/// a precise run going together, so that all run the same replications (see
/// [`run_until_precise_together`]). Returns the experiments, and with a precision target how
/// each run ended.
///
/// # Errors
/// When the thread pool cannot be created.
pub fn run_for(
    scenarios: &[Scenario],
    length: &RunLength,
    paired: bool,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<(Vec<Experiment>, Vec<PrecisionReport>), ExperimentError> {
    match length {
        RunLength::Fixed => Ok((run_all(scenarios, threads, on_done)?, Vec::new())),
        RunLength::Precise(precision) if paired => {
            run_until_precise_together(scenarios, precision, threads, on_done)
        }
        RunLength::Precise(precision) => run_until_precise(scenarios, precision, threads, on_done),
    }
}

/// Runs every replication of every scenario (the points of a sweep, the configurations of a
/// comparison) as one pool of work units, so that no core idles between scenarios. Replication
/// `i` of each scenario uses the streams of replication `i` (common random numbers). Results are
/// per scenario, in order; each scenario's wall time is that of the whole batch.
///
/// # Errors
/// When the thread pool cannot be created.
pub fn run_all(
    scenarios: &[Scenario],
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Experiment>, ExperimentError> {
    let started = Instant::now();
    let mut results = run_units(scenarios, &shard::units(scenarios), threads, on_done)?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let mut experiments = Vec::with_capacity(scenarios.len());
    for scenario in scenarios {
        let rest = results.split_off(scenario.settings.replications as usize);
        let replications = std::mem::replace(&mut results, rest);
        experiments.push(Experiment::new(&scenario.network, replications, wall_seconds));
    }
    Ok(experiments)
}

/// Runs `units` of `scenarios` (every unit for a whole run, a shard's for a shard) on `threads`
/// workers (`None`: one per core), calling `on_done` after each; returns their records in the
/// order of `units`.
///
/// # Errors
/// When the thread pool cannot be created, or the records would outgrow the memory
/// ([`RecordMemory`]).
fn run_units(
    scenarios: &[Scenario],
    units: &[Unit],
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<ReplicationResult>, ExperimentError> {
    let memory = RecordMemory::new(units.len());
    thread_pool(threads)?.install(|| {
        units
            .par_iter()
            .filter(|_| memory.open())
            .map(|unit| {
                let scenario = &scenarios[unit.scenario];
                let result = run_replication(&scenario.network, &scenario.settings, unit.replication);
                memory.keep(&result)?;
                on_done();
                Ok(result)
            })
            .collect()
    })
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ExperimentError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = threads {
        builder = builder.num_threads(threads);
    }
    builder.build().map_err(|source| ExperimentError::ThreadPool { threads: threads.unwrap_or(0), source })
}

/// A simulated scenario with its theory and warnings: everything `kendall run` reports.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Theory beside the simulation, when the network can be analysed.
    pub analysis: Option<Analysis>,
    /// The replications and their summary.
    pub experiment: Experiment,
    /// What the user should know: unstable nodes, replications stopped early.
    pub warnings: Vec<Warning>,
    /// How a run under a precision target ended; `None` for a fixed number of replications.
    pub precision: Option<PrecisionReport>,
}

/// Analyses `scenario`, then runs every replication (see [`run`]), and collects the warnings.
///
/// # Errors
/// When the thread pool cannot be created.
pub fn simulate(
    scenario: &Scenario,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<RunOutcome, ExperimentError> {
    let experiment = run(scenario, threads, on_done)?;
    Ok(RunOutcome::new(scenario, experiment, None))
}

impl RunOutcome {
    /// The outcome of `experiment`, a run of `scenario` (ended under `precision` when given):
    /// the theory beside it and the warnings, without simulating. `kendall report` rebuilds a
    /// run's outputs from its records this way.
    #[must_use]
    pub fn new(scenario: &Scenario, mut experiment: Experiment, precision: Option<PrecisionReport>) -> Self {
        let analysis = analytic::analyze(scenario, None).ok();
        let fluid = analysis
            .as_ref()
            .and_then(|analysis| analysis.fluid.as_ref())
            .and_then(|fluid| fluid.as_ref().ok());
        if let (Some(series), Some(fluid)) = (experiment.summary.series.as_mut(), fluid) {
            series.set_theory(|row| fluid_theory(fluid, row));
        }
        let mut warnings = analysis.as_ref().map(Warning::unstable_nodes).unwrap_or_default();
        warnings.extend(Warning::stopped_replications(
            &experiment.replications,
            scenario.settings.max_in_system,
            scenario.settings.warmup_s(),
        ));
        warnings.extend(Warning::unresolved_warmup(&experiment.replications));
        RunOutcome { analysis, experiment, warnings, precision }
    }
}

/// The fluid prediction of a time-series row: the node's state averaged over the interval, for
/// the metrics the fluid has (none for sources or the oldest message's age).
fn fluid_theory(fluid: &Fluid, row: &SeriesRow) -> Option<f64> {
    if row.scope != SeriesScope::Node {
        return None;
    }
    fluid.mean_over(row.entity, row.start_s, row.end_s).get(row.metric.key())
}

/// An analysed scenario with its warnings: everything `kendall analyze` reports.
#[derive(Debug, Clone)]
pub struct StudyOutcome {
    /// The closed-form and network results.
    pub analysis: Analysis,
    /// What the user should know: unstable nodes.
    pub warnings: Vec<Warning>,
}

/// Solves what theory can for `scenario`; `fill_target` as in [`analytic::analyze`].
///
/// # Errors
/// When the traffic equations cannot be solved.
pub fn study(scenario: &Scenario, fill_target: Option<f64>) -> Result<StudyOutcome, AnalysisError> {
    let analysis = analytic::analyze(scenario, fill_target)?;
    let warnings = Warning::unstable_nodes(&analysis);
    Ok(StudyOutcome { analysis, warnings })
}
