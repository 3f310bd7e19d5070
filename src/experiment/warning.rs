//! Typed warnings about a scenario or a run: what a user should know before trusting the figures.
//! [`report`](crate::report) words them.

use super::PrecisionReport;
use crate::analytic::{Analysis, Verdict};
use crate::stats::ReplicationResult;

/// Something the user should know about a scenario or its results; never fatal.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// An unbounded queue is offered at least its service capacity.
    Unstable {
        /// The node.
        node: String,
        /// Offered load per server, ρ = λ/(cμ).
        utilization: f64,
        /// Arrival rate λ, per second.
        arrival_rate: f64,
        /// Service capacity cμ, per second.
        capacity_rate: f64,
        /// Growth of its queue, messages per second (0 when critically loaded).
        growth_rate: f64,
    },
    /// Replications stopped because full blocking queues waited on each other.
    Deadlocked {
        /// Replications that deadlocked.
        replications: usize,
        /// Replications run.
        of: usize,
    },
    /// Replications stopped at the cap on messages in the system.
    StoppedEarly {
        /// Replications that stopped.
        replications: usize,
        /// Replications run.
        of: usize,
        /// The cap, messages.
        max_in_system: u32,
        /// Of those, the replications that stopped during the warm-up: measured from time 0.
        in_warmup: usize,
    },
    /// Replications of a sweep stopped at the cap on messages in the system, over all points.
    StoppedEarlyAtPoints {
        /// Replications that stopped, over all points.
        replications: usize,
        /// Replications run, over all points.
        of: usize,
        /// Points with a replication that stopped.
        points: usize,
        /// Points of the sweep.
        of_points: usize,
        /// How many of those points theory calls unstable (where the cap is expected).
        past_saturation: usize,
    },
    /// Replications of a sweep that deadlocked, over all points.
    DeadlockedAtPoints {
        /// Replications that deadlocked, over all points.
        replications: usize,
        /// Replications run, over all points.
        of: usize,
        /// Points with a replication that deadlocked.
        points: usize,
        /// Points of the sweep.
        of_points: usize,
    },
    /// Runs under a precision target (sweep points, configurations, plan candidates) that
    /// reached the maximum replications with some figure still too wide.
    Imprecise {
        /// Runs that stopped at the maximum.
        runs: usize,
        /// Runs in all.
        of: usize,
        /// The maximum replications.
        max_replications: u32,
    },
    /// Replications too short for MSER-5 to find where their initial transient ends.
    WarmupUnresolved {
        /// Replications whose MSER-5 minimum lay in the second half of the run.
        replications: usize,
        /// Replications run.
        of: usize,
    },
}

impl Warning {
    /// One warning per unbounded queue whose offered load is at or above its capacity.
    #[must_use]
    pub fn unstable_nodes(analysis: &Analysis) -> Vec<Self> {
        analysis
            .nodes
            .iter()
            .filter(|node| node.verdict == Verdict::Unstable)
            .map(|node| Self::Unstable {
                node: node.name.clone(),
                utilization: node.utilization,
                arrival_rate: node.arrival_rate,
                // cμ = λ/ρ: λ − growth would cancel at extreme rates (1e308 − 1e308 = 0).
                capacity_rate: node.arrival_rate / node.utilization,
                growth_rate: node.growth_rate,
            })
            .collect()
    }

    /// Warnings about replications that stopped before their horizon (`warmup_s`: the warm-up
    /// asked for, to tell a replication that stopped inside it).
    #[must_use]
    pub fn stopped_replications(
        records: &[ReplicationResult],
        max_in_system: u32,
        warmup_s: f64,
    ) -> Vec<Self> {
        let of = records.len();
        let deadlocked = records.iter().filter(|r| r.deadlocked).count();
        let stopped = records.iter().filter(|r| r.stopped_early).count();
        // A replication capped inside a warm-up measures from time 0 instead (warm-up 0).
        let in_warmup =
            records.iter().filter(|r| r.stopped_early && warmup_s > 0.0 && r.warmup_s == 0.0).count();
        let mut warnings = Vec::new();
        if deadlocked > 0 {
            warnings.push(Self::Deadlocked { replications: deadlocked, of });
        }
        if stopped > 0 {
            warnings.push(Self::StoppedEarly { replications: stopped, of, max_in_system, in_warmup });
        }
        warnings
    }

    /// A warning when some replication's automatic warm-up was not resolved.
    #[must_use]
    pub fn unresolved_warmup(records: &[ReplicationResult]) -> Option<Self> {
        let replications = records.iter().filter(|r| r.warmup_unresolved).count();
        (replications > 0).then_some(Self::WarmupUnresolved { replications, of: records.len() })
    }

    /// A warning when some of several runs under a precision target stopped at the maximum.
    #[must_use]
    pub fn imprecise(reports: &[PrecisionReport]) -> Option<Self> {
        let runs = reports.iter().filter(|report| !report.met()).count();
        let max_replications = reports.first().map_or(0, |report| report.target.max_replications);
        (runs > 0).then_some(Self::Imprecise { runs, of: reports.len(), max_replications })
    }
}
