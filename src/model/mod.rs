//! The validated model: what the engine and the analytic solvers run. Every value here has been
//! checked; units are seconds and messages per second.

mod distribution;
mod exchange;
pub mod matching;
mod metric;
mod network;

pub(crate) use distribution::unit_interval;
pub use distribution::{Distribution, DistributionError};
pub use exchange::{Binding, Exchange, ExchangeId, ExchangeKind, KeyId, Unroutable};
pub use metric::{
    ClassMetric, ExchangeMetric, MessageClassMetric, Metric, MetricValues, NodeMetric, SourceMetric,
};
pub use network::{
    Arrivals, Choice, ClassId, DEFAULT_CLASS, Discipline, KeyChoice, Network, NetworkError, Node, NodeId,
    Overflow, Route, Routing, Servers, Source, SourceId, Target,
};

/// How each replication is run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Observed simulated time per replication, after warm-up, in seconds.
    pub duration_s: f64,
    /// Simulated time discarded at the start of each replication, in seconds.
    pub warmup_s: f64,
    /// Number of independent replications.
    pub replications: u32,
    /// Master seed; replication r uses streams derived from (seed, r).
    pub seed: u64,
    /// Messages in the system at which a replication is stopped as overloaded.
    pub max_in_system: u32,
}

impl Settings {
    /// Default cap on messages in the system before a replication is stopped as overloaded.
    pub const DEFAULT_MAX_IN_SYSTEM: u32 = 1_000_000;

    /// Simulated time at which observation ends, in seconds.
    #[must_use]
    pub fn horizon_s(&self) -> f64 {
        self.warmup_s + self.duration_s
    }
}

/// A named network with its run settings: what a scenario file describes.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name (from the file, or its stem).
    pub name: String,
    /// How to run it.
    pub settings: Settings,
    /// What to run.
    pub network: Network,
}
