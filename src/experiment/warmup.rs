//! `warmup = "auto"`: each replication chooses its own warm-up with MSER-5 on its node
//! populations.
//!
//! # Design: an independent pilot per replication
//! The statistics of a replication cannot be truncated after the fact (a histogram cannot forget
//! the waits recorded before some time, and keeping a snapshot of every statistic at every
//! candidate truncation point would cost far more than the run). So replication `i` runs twice:
//! 1. a pilot over `[0, duration]` that records only each node's time-averaged population over
//!    1000 equal intervals ([`PopulationSeries`], no statistics, so it costs the events alone);
//!    MSER-5 on each node's series gives a truncation, and the replication's warm-up is the
//!    largest of them (the slowest node's transient);
//! 2. the replication proper, with that warm-up, observing `duration` after it.
//!
//! The pilot runs on streams of its own (the master seed mixed with [`PILOT_SEED`]), not on the
//! replication's: a truncation chosen on the very path it then truncates is correlated with that
//! path (MSER cuts an early excursion, high or low, and the window then slides over later
//! values), which on an M/M/1 at rho = 0.95 started empty made the bias worse, not better. A
//! truncation chosen on an independent path of the same system is as good a guess of where the
//! transient ends, and leaves the estimate unbiased given it.
//!
//! An auto warm-up so costs one extra run of `duration` (plus the warm-up itself) per
//! replication, and nothing at all when the warm-up is fixed: the choice is made here, once per
//! replication, never in the event loop.

use crate::engine::Replication;
use crate::model::{Network, Settings};
use crate::stats::{PopulationSeries, mser5};

/// Mixed into the master seed for the pilots' streams (the golden-ratio constant).
const PILOT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// Intervals of the pilot's population series: 200 MSER-5 batch means.
const INTERVALS: usize = 1000;

/// The warm-up MSER-5 chose for one replication.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ChosenWarmup {
    /// Seconds to discard.
    pub warmup_s: f64,
    /// Whether every node's truncation was resolved (see [`Truncation`](crate::stats::Truncation)).
    pub resolved: bool,
}

/// Runs the pilot of replication `index` and chooses its warm-up.
pub(super) fn choose(network: &Network, settings: &Settings, index: u32) -> ChosenWarmup {
    let pilot =
        Settings { warmup_s: 0.0, auto_warmup: false, seed: settings.seed ^ PILOT_SEED, ..settings.clone() };
    let recorder = PopulationSeries::new(network, pilot.duration_s, INTERVALS);
    let (recorder, end) = Replication::new(network, &pilot, index, recorder).run();
    #[allow(clippy::cast_precision_loss)] // interval counts are small
    let width = pilot.duration_s / INTERVALS as f64;
    let mut chosen = ChosenWarmup { warmup_s: 0.0, resolved: true };
    for series in recorder.finish(end.end_s) {
        let truncation = mser5(&series);
        #[allow(clippy::cast_precision_loss)]
        let seconds = truncation.observations as f64 * width;
        chosen.warmup_s = chosen.warmup_s.max(seconds);
        chosen.resolved &= truncation.resolved;
    }
    chosen
}
