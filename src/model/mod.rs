//! The validated model: what the engine and the analytic solvers run. Every value here has been
//! checked; units are seconds and messages per second.

mod choice;
mod distribution;
mod exchange;
mod ids;
pub mod matching;
mod metric;
mod network;
mod node;
mod replay;
mod schedule;
mod source;

pub use choice::{Choice, KeyChoice};
pub(crate) use distribution::unit_interval;
pub use distribution::{Distribution, DistributionError};
pub use exchange::{Binding, Exchange, ExchangeKind, Unroutable};
pub use ids::{DEFAULT_CLASS, ExchangeId, KeyId, MessageClassId, NodeId, SourceId, Target};
pub use metric::{
    ExchangeMetric, MessageClassMetric, Metric, MetricValues, NodeClassMetric, NodeMetric, SourceMetric,
};
pub use network::{Network, NetworkError};
pub use node::{Discipline, Node, Overflow, Route, Routing, Servers};
pub use replay::{Replay, ReplayCursor, ReplayMode, TraceHeaders};
pub use schedule::{Schedule, ScheduleError, Shape};
pub use source::{Arrivals, Pattern, Source};

/// How each replication is run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Observed simulated time per replication, after warm-up, in seconds.
    pub(crate) duration_s: f64,
    /// Simulated time discarded at the start of each replication, in seconds (0 when
    /// `auto_warmup`).
    pub(crate) warmup_s: f64,
    /// Whether each replication chooses its own warm-up by MSER-5 (`warmup = "auto"`).
    pub(crate) auto_warmup: bool,
    /// Number of independent replications.
    pub(crate) replications: u32,
    /// Master seed; replication r uses streams derived from (seed, r).
    pub(crate) seed: u64,
    /// Messages in the system at which a replication is stopped as overloaded.
    pub(crate) max_in_system: u32,
    /// The length of each interval of the time series, seconds; `None`: no time series.
    pub(crate) sample_every: Option<f64>,
}

impl Settings {
    /// Default cap on messages in the system before a replication is stopped as overloaded.
    pub const DEFAULT_MAX_IN_SYSTEM: u32 = 1_000_000;

    /// Observed simulated time per replication, after warm-up, in seconds.
    #[must_use]
    pub fn duration_s(&self) -> f64 {
        self.duration_s
    }

    /// Simulated time discarded at the start of each replication, in seconds.
    #[must_use]
    pub fn warmup_s(&self) -> f64 {
        self.warmup_s
    }

    /// Whether each replication chooses its own warm-up by MSER-5 (`warmup = "auto"`).
    #[must_use]
    pub fn auto_warmup(&self) -> bool {
        self.auto_warmup
    }

    /// Number of independent replications.
    #[must_use]
    pub fn replications(&self) -> u32 {
        self.replications
    }

    /// Master seed; replication r uses streams derived from (seed, r).
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Messages in the system at which a replication is stopped as overloaded.
    #[must_use]
    pub fn max_in_system(&self) -> u32 {
        self.max_in_system
    }

    /// The length of each interval of the time series, seconds; `None`: no time series.
    #[must_use]
    pub fn sample_every(&self) -> Option<f64> {
        self.sample_every
    }

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
    pub(crate) name: String,
    /// How to run it.
    pub(crate) settings: Settings,
    /// What to run.
    pub(crate) network: Network,
}

impl Scenario {
    /// The scenario's name (from the file, or its stem), which names its output directory.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How to run it.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// What to run.
    #[must_use]
    pub fn network(&self) -> &Network {
        &self.network
    }
}
