//! Statistics: streaming per-replication accumulators (the engine's [`Observer`](crate::engine::Observer)),
//! histograms for percentiles, the per-replication record they produce, and estimates with
//! confidence intervals across replications.

mod coarse;
mod collector;
mod estimate;
mod footprint;
mod histogram;
mod mser;
mod paired;
mod peak;
mod pooled;
mod population;
mod quantile;
mod range;
mod record;
mod series_summary;
mod sparse;
mod summary;
mod theory_check;
mod timeseries;

pub use crate::model::{
    ExchangeMetric, MessageClassMetric, Metric, MetricValues, NodeClassMetric, NodeMetric, SourceMetric,
};
pub use collector::Collector;
pub use estimate::Estimate;
pub use histogram::DurationHistogram;
pub use mser::{MSER_BATCH, Truncation, mser5};
pub use paired::{Difference, Interval};
pub use peak::{DRAINED_WITHIN, Excursion};
pub use pooled::{Percentile, message_class_part, node_part, pseudo_values, source_parts};
pub use population::PopulationSeries;
pub use range::Bounded;
pub use record::{
    ExchangeReplication, NodeCounts, NodeHistograms, NodeReplication, RecordError, ReplicationResult,
    SourceHistograms, SourceReplication, WaitHistograms, read_records, write_records,
};
pub use series_summary::{NodePeak, SeriesRow, TimeSeries};
pub use sparse::SparseHistogram;
pub use summary::{EntitySummary, LATENCY_PERCENTILES, Summary};
pub use theory_check::ci_misses;
pub use timeseries::{NodeSeries, Series, SeriesMetric, SeriesScope, SourceSeries};
