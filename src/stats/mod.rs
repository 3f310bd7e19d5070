//! Statistics: streaming per-replication accumulators (the engine's [`Observer`](crate::engine::Observer)),
//! histograms for percentiles, and estimates with confidence intervals across replications.

mod collector;
mod estimate;
mod histogram;
mod metric;
mod summary;

pub use collector::{Collector, NodeCounts, NodeReplication, ReplicationResult, SourceReplication};
pub use estimate::Estimate;
pub use histogram::DurationHistogram;
pub use metric::{Metric, MetricValues, NodeMetric, SourceMetric};
pub use summary::{EntitySummary, Summary};
