//! The heap memory a replication's record holds: what a run keeps per replication until it
//! reduces and writes them (see `experiment::memory`).

use std::mem::size_of;

use super::record::{NodeHistograms, ReplicationResult, SourceHistograms, WaitHistograms};
use super::sparse::SparseHistogram;
use super::timeseries::Series;
use crate::model::{ExchangeMetric, MessageClassMetric, Metric, NodeClassMetric, NodeMetric, SourceMetric};

impl ReplicationResult {
    /// About the heap bytes this record holds: its histograms' buckets, metric values and time
    /// series (struct headers of a few words each are left out).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let nodes: usize = self
            .nodes
            .iter()
            .map(|node| {
                values::<NodeMetric>()
                    + (node.priority_classes.len() + node.message_classes.len()) * values::<NodeClassMetric>()
                    + node_histograms(&node.histograms)
            })
            .sum();
        let sources: usize = self
            .sources
            .iter()
            .map(|source| values::<SourceMetric>() + source_histograms(&source.histograms))
            .sum();
        nodes
            + sources
            + self.exchanges.len() * values::<ExchangeMetric>()
            + self.message_classes.len() * values::<MessageClassMetric>()
            + self.message_class_latencies.iter().map(SparseHistogram::heap_bytes).sum::<usize>()
            + self.series.as_ref().map_or(0, series)
    }
}

/// The bytes of one metric family's values.
fn values<M: Metric>() -> usize {
    M::ALL.len() * size_of::<Option<f64>>()
}

fn wait_histograms(histograms: &WaitHistograms) -> usize {
    histograms.waits.heap_bytes() + histograms.sojourns.heap_bytes()
}

fn node_histograms(histograms: &NodeHistograms) -> usize {
    wait_histograms(&histograms.all)
        + histograms.subscriber_latencies.heap_bytes()
        + histograms
            .priority_classes
            .iter()
            .chain(&histograms.message_classes)
            .map(wait_histograms)
            .sum::<usize>()
}

fn source_histograms(histograms: &SourceHistograms) -> usize {
    [&histograms.latencies, &histograms.copy_latencies, &histograms.multicast_latencies]
        .iter()
        .map(|histogram| histogram.heap_bytes())
        .sum()
}

/// A time series: per interval its end, six figures per node and two optional ones per source.
fn series(series: &Series) -> usize {
    series.times_s.len()
        * (size_of::<f64>()
            + series.nodes.len() * 6 * size_of::<f64>()
            + series.sources.len() * 2 * size_of::<Option<f64>>())
}
