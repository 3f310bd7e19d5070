//! The memory the replications' records take while a run goes on, and the guard that stops a
//! run before they outgrow the machine.
//!
//! Every replication's record (its histograms above all) is kept until the run ends: the pooled
//! percentiles, replications.jsonl and the shard files are made from all of them. Many
//! replications of a large network can need more memory than the machine has; rather than be
//! killed hours later, the run stops once its first replications show what the rest would need.
//! `kendall merge` counts the records of the shards it reads the same way.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::ExperimentError;
use crate::scenario::available_memory;
use crate::stats::ReplicationResult;

/// Replications measured before the need of the rest is projected from them.
const PILOT: u64 = 8;

/// The memory the process takes per byte of records counted, as a ratio: the allocator's
/// rounding, and what writing the outputs holds. Measured on scenarios/mm1.toml (peak resident
/// size, optimised build): 2 000 replications of 1000 s grew it by 97 kB each for 66 kB counted
/// (1.47), 1000 replications of 10 000 s by 394 kB each for 525 kB counted (0.75).
const OVERHEAD: (u64, u64) = (3, 2);

/// Keeps count of the records of a run of `total` replications and refuses to go on when they
/// would take more than half the memory available at its start (the other half is left for the
/// messages in flight, see `scenario::memory_ceiling`, and for the reduction).
pub struct RecordMemory {
    total: u64,
    limit: Option<u64>,
    counted: AtomicU64,
    done: AtomicU64,
    refused: AtomicBool,
}

impl RecordMemory {
    /// The guard of a run of `total` replications, on this machine's memory.
    #[must_use]
    pub fn new(total: usize) -> Self {
        Self::with_limit(total, available_memory().map(|available| available / 2))
    }

    /// The guard of a run of `total` replications whose records may take `limit` bytes.
    fn with_limit(total: usize, limit: Option<u64>) -> Self {
        Self {
            total: u64::try_from(total).unwrap_or(u64::MAX),
            limit,
            counted: AtomicU64::new(0),
            done: AtomicU64::new(0),
            refused: AtomicBool::new(false),
        }
    }

    /// Whether the run may start another replication (false once it was refused).
    #[must_use]
    pub fn open(&self) -> bool {
        !self.refused.load(Ordering::Relaxed)
    }

    /// Counts `record`; after the first `PILOT` replications, refuses the run when all of
    /// them would need more than the limit.
    ///
    /// # Errors
    /// [`ExperimentError::RecordsTooLarge`] with the projection.
    pub fn keep(&self, record: &ReplicationResult) -> Result<(), ExperimentError> {
        let bytes =
            u64::try_from(record.heap_bytes()).unwrap_or(u64::MAX).saturating_mul(OVERHEAD.0) / OVERHEAD.1;
        let counted = self.counted.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(limit) = self.limit.filter(|_| done >= PILOT.min(self.total)) else { return Ok(()) };
        #[allow(clippy::cast_precision_loss)] // bytes, projected roughly
        let per_replication = counted as f64 / done as f64;
        #[allow(clippy::cast_precision_loss)]
        let needed = per_replication * self.total as f64;
        #[allow(clippy::cast_precision_loss)]
        if needed <= limit as f64 {
            return Ok(());
        }
        self.refused.store(true, Ordering::Relaxed);
        Err(ExperimentError::RecordsTooLarge { replications: self.total, per_replication, needed, limit })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::experiment::run_replication;
    use crate::scenario::{Overrides, load_with};

    /// One replication of 1000 s of the shipped M/M/1.
    fn record() -> ReplicationResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mm1.toml");
        let overrides = Overrides { duration_s: Some(1000.0), warmup_s: Some(100.0), ..Overrides::default() };
        let scenario = load_with(&path, &overrides).expect("a valid shipped scenario");
        run_replication(&scenario.network, &scenario.settings, 0)
    }

    #[test]
    fn a_run_whose_records_fit_goes_on() {
        let record = record();
        let each = u64::try_from(record.heap_bytes()).unwrap() * OVERHEAD.0 / OVERHEAD.1;
        assert!(each > 1000, "the histograms take room: {each}");
        let guard = RecordMemory::with_limit(100, Some(100 * each));
        for _ in 0..100 {
            assert!(guard.keep(&record).is_ok());
        }
        assert!(guard.open());
    }

    #[test]
    fn a_run_whose_records_outgrow_the_limit_stops_after_the_pilot() {
        let record = record();
        let each = u64::try_from(record.heap_bytes()).unwrap() * OVERHEAD.0 / OVERHEAD.1;
        let guard = RecordMemory::with_limit(100, Some(99 * each));
        for _ in 1..PILOT {
            assert!(guard.keep(&record).is_ok(), "no projection before the pilot");
        }
        let Err(ExperimentError::RecordsTooLarge { replications, per_replication, needed, limit }) =
            guard.keep(&record)
        else {
            panic!("not refused")
        };
        #[allow(clippy::cast_precision_loss)]
        let expected = (each as f64, 100.0 * each as f64);
        assert_eq!((replications, limit, per_replication, needed), (100, 99 * each, expected.0, expected.1));
        assert!(!guard.open());
    }
}
