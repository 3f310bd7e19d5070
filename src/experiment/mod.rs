//! Experiments over a scenario: independent replications run in parallel (rayon), collected in
//! index order and reduced serially, so that results never depend on the thread count.

use std::time::Instant;

use rayon::prelude::*;
use thiserror::Error;

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
    /// Replications that stopped early because the system held too many messages.
    #[must_use]
    pub fn stopped_early(&self) -> usize {
        self.summary.stopped_early
    }

    /// Replications that stopped early because full blocking channels deadlocked.
    #[must_use]
    pub fn deadlocked(&self) -> usize {
        self.summary.deadlocked
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
    let events = summary.events;
    Ok(Experiment { replications, summary, events, wall_seconds: started.elapsed().as_secs_f64() })
}
