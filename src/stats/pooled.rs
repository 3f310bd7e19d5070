//! Percentiles pooled over replications: the quantile of every replication's observations
//! merged, the point estimate of a percentile (see [`Estimate::sectioned`](super::Estimate::sectioned)).
//! Each percentile metric names the quantile it reads and the histograms of a record it reads
//! it from, the same ones the replication's own value was read from.

use super::histogram::DurationHistogram;
use super::record::{NodeHistograms, SourceHistograms, WaitHistograms};
use super::sparse::SparseHistogram;
use crate::model::{ExchangeMetric, MessageClassMetric, Metric, NodeClassMetric, NodeMetric, SourceMetric};

/// A metric family some of whose metrics are percentiles, estimated by pooling the
/// replications' observations.
pub trait Percentile: Metric {
    /// The quantile a percentile metric reads, in (0, 1); `None` for other metrics.
    fn quantile(self) -> Option<f64>;
}

impl Percentile for NodeMetric {
    fn quantile(self) -> Option<f64> {
        match self {
            Self::WaitP50 | Self::SojournP50 => Some(0.50),
            Self::WaitP95 | Self::SojournP95 => Some(0.95),
            Self::WaitP99 | Self::SojournP99 | Self::SubscriberLatencyP99 => Some(0.99),
            _ => None,
        }
    }
}

impl Percentile for SourceMetric {
    fn quantile(self) -> Option<f64> {
        match self {
            Self::LatencyP50 => Some(0.50),
            Self::LatencyP95 => Some(0.95),
            Self::LatencyP99 | Self::AllLatencyP99 => Some(0.99),
            _ => None,
        }
    }
}

impl Percentile for NodeClassMetric {
    fn quantile(self) -> Option<f64> {
        matches!(self, Self::WaitP99 | Self::SojournP99).then_some(0.99)
    }
}

impl Percentile for MessageClassMetric {
    fn quantile(self) -> Option<f64> {
        match self {
            Self::LatencyP50 => Some(0.50),
            Self::LatencyP95 => Some(0.95),
            Self::LatencyP99 => Some(0.99),
            _ => None,
        }
    }
}

impl Percentile for ExchangeMetric {
    fn quantile(self) -> Option<f64> {
        None
    }
}

/// The `quantile` of the histograms `parts` merged; `None` when they are all empty.
pub(super) fn quantile<'a>(parts: impl Iterator<Item = &'a SparseHistogram>, quantile: f64) -> Option<f64> {
    let mut merged = DurationHistogram::new();
    for part in parts {
        merged += part;
    }
    merged.quantile(quantile)
}

/// The histogram a node's percentile metric reads.
pub(super) fn node_part(histograms: &NodeHistograms, metric: NodeMetric) -> Option<&SparseHistogram> {
    match metric {
        NodeMetric::WaitP50 | NodeMetric::WaitP95 | NodeMetric::WaitP99 => Some(&histograms.all.waits),
        NodeMetric::SojournP50 | NodeMetric::SojournP95 | NodeMetric::SojournP99 => {
            Some(&histograms.all.sojourns)
        }
        NodeMetric::SubscriberLatencyP99 => Some(&histograms.subscriber_latencies),
        _ => None,
    }
}

/// The histograms a source's percentile metric reads: every delivery (messages and copies), or
/// every message delivered whole.
pub(super) fn source_parts(
    histograms: &SourceHistograms,
    metric: SourceMetric,
) -> [Option<&SparseHistogram>; 2] {
    match metric {
        SourceMetric::LatencyP50 | SourceMetric::LatencyP95 | SourceMetric::LatencyP99 => {
            [Some(&histograms.latencies), Some(&histograms.copy_latencies)]
        }
        SourceMetric::AllLatencyP99 => [Some(&histograms.latencies), Some(&histograms.multicast_latencies)],
        _ => [None, None],
    }
}

/// The histogram a class's percentile metric reads at a node.
pub(super) fn class_part(histograms: &WaitHistograms, metric: NodeClassMetric) -> Option<&SparseHistogram> {
    match metric {
        NodeClassMetric::WaitP99 => Some(&histograms.waits),
        NodeClassMetric::SojournP99 => Some(&histograms.sojourns),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_percentile_metric_has_a_quantile_and_a_histogram() {
        let histograms = NodeHistograms::default();
        for &metric in NodeMetric::ALL {
            assert_eq!(metric.quantile().is_some(), node_part(&histograms, metric).is_some(), "{metric:?}");
        }
        let sources = SourceHistograms::default();
        for &metric in SourceMetric::ALL {
            assert_eq!(
                metric.quantile().is_some(),
                source_parts(&sources, metric)[0].is_some(),
                "{metric:?}"
            );
        }
        let classes = WaitHistograms::default();
        for &metric in NodeClassMetric::ALL {
            assert_eq!(metric.quantile().is_some(), class_part(&classes, metric).is_some(), "{metric:?}");
        }
        let keyed = MessageClassMetric::ALL.iter().filter(|m| m.key().contains("_p"));
        assert!(keyed.clone().all(|m| m.quantile().is_some()));
        assert_eq!(MessageClassMetric::ALL.iter().filter(|m| m.quantile().is_some()).count(), keyed.count());
    }

    #[test]
    fn the_pooled_quantile_reads_every_part_merged() {
        // Part one holds 1 s ten times, part two 3 s thirty times: the median of the 40 is 3 s,
        // though part one's own median is 1 s.
        let mut one = DurationHistogram::new();
        let mut two = DurationHistogram::new();
        (0..10).for_each(|_| one.record(1.0));
        (0..30).for_each(|_| two.record(3.0));
        let parts = [one.sparse(), two.sparse()];
        assert!((quantile(parts.iter(), 0.5).unwrap() - 3.0).abs() < 3e-3);
        assert!((quantile(parts.iter(), 0.2).unwrap() - 1.0).abs() < 1e-3);
        assert_eq!(quantile(std::iter::empty(), 0.5), None);
    }
}
