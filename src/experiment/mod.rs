//! Experiments over a scenario: independent replications run in parallel (rayon), collected in
//! index order and reduced serially, so that results never depend on the thread count.
//!
//! [`simulate`] and [`study`] are the sequences behind `kendall run` and `kendall analyze`: they
//! return the outcome and the typed [`Warning`]s, and leave every output format to
//! [`report`](crate::report).

mod slo;
mod warning;

pub use slo::{Comparison, Slo, SloCheck, SloError, SloScope};
pub use warning::Warning;

use std::time::Instant;

use rayon::prelude::*;
use thiserror::Error;

use crate::analytic::{self, Analysis, AnalysisError};
use crate::engine::Replication;
use crate::model::{Network, Scenario, Settings};
use crate::stats::{Collector, ReplicationResult, Summary};

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
}

/// The results of running every replication of a scenario.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Per replication, in index order.
    pub replications: Vec<ReplicationResult>,
    /// Estimates across replications.
    pub summary: Summary,
    /// Events processed over all replications.
    pub events: u64,
    /// Wall-clock time of the run, seconds.
    pub wall_seconds: f64,
}

impl Experiment {
    /// Replications that stopped early because the system held too many messages.
    #[must_use]
    pub fn stopped_early(&self) -> usize {
        self.replications.iter().filter(|r| r.stopped_early).count()
    }

    /// Replications that stopped early because full blocking channels deadlocked.
    #[must_use]
    pub fn deadlocked(&self) -> usize {
        self.replications.iter().filter(|r| r.deadlocked).count()
    }
}

/// Runs one replication of `network` and returns its statistics.
#[must_use]
pub fn run_replication(network: &Network, settings: &Settings, index: u32) -> ReplicationResult {
    let (collector, end) = Replication::new(network, settings, index, Collector::new(network)).run();
    collector.finish(index, end)
}

/// Runs every replication of `scenario` on `threads` workers (`None`: one per core), calling
/// `on_done` after each replication (for progress bars).
///
/// # Errors
/// When the thread pool cannot be created.
pub fn run(
    scenario: &Scenario,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Experiment, ExperimentError> {
    let started = Instant::now();
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = threads {
        builder = builder.num_threads(threads);
    }
    let pool = builder
        .build()
        .map_err(|source| ExperimentError::ThreadPool { threads: threads.unwrap_or(0), source })?;
    let (network, settings) = (&scenario.network, &scenario.settings);
    let replications: Vec<ReplicationResult> = pool.install(|| {
        (0..settings.replications)
            .into_par_iter()
            .map(|index| {
                let result = run_replication(network, settings, index);
                on_done();
                result
            })
            .collect()
    });
    let summary = Summary::new(network, &replications);
    let events = replications.iter().map(|r| r.events).sum();
    Ok(Experiment { replications, summary, events, wall_seconds: started.elapsed().as_secs_f64() })
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
    let analysis = analytic::analyze(&scenario.network, None).ok();
    let mut warnings = analysis.as_ref().map(Warning::unstable_nodes).unwrap_or_default();
    let experiment = run(scenario, threads, on_done)?;
    warnings.extend(Warning::stopped_replications(&experiment.replications, scenario.settings.max_in_system));
    Ok(RunOutcome { analysis, experiment, warnings })
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
    let analysis = analytic::analyze(&scenario.network, fill_target)?;
    let warnings = Warning::unstable_nodes(&analysis);
    Ok(StudyOutcome { analysis, warnings })
}
