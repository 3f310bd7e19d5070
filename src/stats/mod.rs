//! Statistics: streaming per-replication accumulators (the engine's [`Observer`](crate::engine::Observer)),
//! histograms for percentiles, and estimates with confidence intervals across replications.

mod collector;
mod estimate;
mod histogram;
mod summary;

pub use crate::model::{
    ClassMetric, ExchangeMetric, MessageClassMetric, Metric, MetricValues, NodeMetric, SourceMetric,
};
pub use collector::{
    Collector, ExchangeReplication, NodeCounts, NodeReplication, ReplicationResult, SourceReplication,
};
pub use estimate::Estimate;
pub use histogram::DurationHistogram;
pub use summary::{EntitySummary, Summary};
