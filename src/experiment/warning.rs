//! Typed warnings about a scenario or a run: what a user should know before trusting the figures.

use std::fmt;

use crate::analytic::{Analysis, Verdict};
use crate::stats::ReplicationResult;

/// Something the user should know about a scenario or its results; never fatal.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// An unbounded queue is offered at least its service capacity.
    Unstable {
        /// The node.
        node: String,
        /// Offered load per worker, ρ = λ/(cμ).
        utilization: f64,
        /// Arrival rate λ, per second.
        arrival_rate: f64,
        /// Service capacity cμ, per second.
        capacity_rate: f64,
        /// Growth of its queue, messages per second (0 when critically loaded).
        growth_rate: f64,
    },
    /// Replications stopped because full blocking channels waited on each other.
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
                capacity_rate: node.arrival_rate - node.growth_rate,
                growth_rate: node.growth_rate,
            })
            .collect()
    }

    /// Warnings about replications that stopped before their horizon.
    #[must_use]
    pub fn stopped_replications(records: &[ReplicationResult], max_in_system: u32) -> Vec<Self> {
        let of = records.len();
        let deadlocked = records.iter().filter(|r| r.deadlocked).count();
        let stopped = records.iter().filter(|r| r.stopped_early).count();
        let mut warnings = Vec::new();
        if deadlocked > 0 {
            warnings.push(Self::Deadlocked { replications: deadlocked, of });
        }
        if stopped > 0 {
            warnings.push(Self::StoppedEarly { replications: stopped, of, max_in_system });
        }
        warnings
    }
}

impl Warning {
    /// A warning when some replication's automatic warm-up was not resolved.
    #[must_use]
    pub fn unresolved_warmup(records: &[ReplicationResult]) -> Option<Self> {
        let replications = records.iter().filter(|r| r.warmup_unresolved).count();
        (replications > 0).then_some(Self::WarmupUnresolved { replications, of: records.len() })
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unstable { node, utilization, arrival_rate, capacity_rate, growth_rate } => {
                let growth = if *growth_rate > 0.0 {
                    format!("its queue grows by about {growth_rate:.6} messages/s")
                } else {
                    "it is critically loaded: its queue grows like the square root of time".to_owned()
                };
                write!(
                    f,
                    "node '{node}' is unstable: rho = {utilization:.4} >= 1 (λ = {arrival_rate:.6}/s, cμ = {capacity_rate:.6}/s); {growth}"
                )
            }
            Self::Deadlocked { replications, of } => write!(
                f,
                "{replications} of {of} replications deadlocked: full channels with overflow = \"block\" waited on each other, so part of the network could never move again; their figures cover the time until then"
            ),
            Self::WarmupUnresolved { replications, of } => write!(
                f,
                "{replications} of {of} replications are too short for MSER-5 to find the end of the initial transient (the best truncation lay in the second half of the run): their warm-up is a guess; run longer (--duration)"
            ),
            Self::StoppedEarly { replications, of, max_in_system } => write!(
                f,
                "{replications} of {of} replications stopped early with {max_in_system} messages in the system: the network is overloaded (see queue_growth_rate)"
            ),
        }
    }
}
