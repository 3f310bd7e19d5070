//! Percentiles estimated over replications pooled. Each percentile metric names the quantile
//! it reads and the histograms of a record it reads it from, the same ones the replication's
//! own value was read from.
//!
//! # The estimator
//! The point estimate ξ̂ is the `q` quantile of every replication's observations merged. Its
//! interval inverts one for the distribution function at ξ̂: each replication r observed nᵣ
//! values, cᵣ of them at most ξ̂; F̂ = Σcᵣ/Σnᵣ is a ratio estimator whose standard error across
//! the n replications is se = √(Σ(cᵣ − F̂nᵣ)²/(n(n − 1)))/n̄, with n̄ = Σnᵣ/n. The interval is
//! [Q(q − h), Q(q + h)] with h = t(0.975, n − 1)·se, Q the pooled quantile function: the values
//! whose pooled fraction below lies within h of q.
//!
//! # Why not one quantile per replication
//! A sample quantile is biased by O(1/m) in the m observations it reads, and the observations
//! of a queue are correlated, so a short replication's quantile is biased by far more than its
//! count suggests: the 99th percentile of the wait of an M/M/1 at ρ 0.75 read from replications
//! of 500 s averages 23% below the truth. Averaging replications keeps that bias while the
//! interval shrinks as 1/√n. The pooled quantile reads n times as many observations; and the
//! fraction below a point, unlike a quantile, is a mean, whose replication values are unbiased
//! however short the replication, so the interval holds as well for short replications as for
//! long ones (the intervals of sectioning, from the spread of the replications' quantiles about
//! ξ̂, held the 99th percentile in only 6 of 10 such runs).

use super::estimate::{Estimate, t_quantile_975};
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

/// The estimate of the `quantile` from each replication's histograms (up to two parts each,
/// counted together); `None` when every one is empty. See the module's documentation.
pub(super) fn estimate<'a>(
    replications: impl Iterator<Item = [Option<&'a SparseHistogram>; 2]> + Clone,
    quantile: f64,
) -> Option<Estimate> {
    let mut merged = DurationHistogram::new();
    for part in replications.clone().flatten().flatten() {
        merged += part;
    }
    let point = merged.quantile_bucket(quantile)?;
    // Per replication with observations: (observed, at most the point).
    let counts: Vec<(f64, f64)> = replications
        .map(|parts| {
            let parts = parts.iter().flatten();
            let total: u64 = parts.clone().map(|part| part.count()).sum();
            let below: u64 = parts.map(|part| part.count_through(point)).sum();
            #[allow(clippy::cast_precision_loss)] // counts far below 2^53
            (total as f64, below as f64)
        })
        .filter(|&(total, _)| total > 0.0)
        .collect();
    let n = counts.len();
    #[allow(clippy::cast_precision_loss)] // replication counts are small
    let count = n as f64;
    let observed: f64 = counts.iter().map(|&(total, _)| total).sum();
    let fraction = counts.iter().map(|&(_, below)| below).sum::<f64>() / observed;
    let ci95 = (n >= 2).then(|| {
        let spread = counts.iter().map(|&(total, below)| (below - fraction * total).powi(2)).sum::<f64>();
        let error = (spread / (count * (count - 1.0))).sqrt() / (observed / count);
        let h = t_quantile_975(count - 1.0) * error;
        let at = |q: f64| merged.quantile(q.clamp(0.0, 1.0)).expect("observations");
        [at(quantile - h), at(quantile + h)]
    });
    Some(Estimate { mean: super::histogram::bucket_middle(point), ci95, samples: n })
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
    fn the_estimate_reads_every_replication_merged() {
        // Replication one holds 1 s ten times, two 3 s thirty times: the median of the 40 is
        // 3 s, though replication one's own median is 1 s.
        let mut one = DurationHistogram::new();
        let mut two = DurationHistogram::new();
        (0..10).for_each(|_| one.record(1.0));
        (0..30).for_each(|_| two.record(3.0));
        let (one, two) = (one.sparse(), two.sparse());
        let replications = [[Some(&one), None], [Some(&two), None]];
        let median = estimate(replications.iter().copied(), 0.5).unwrap();
        assert!((median.mean - 3.0).abs() < 3e-3 && median.samples == 2);
        assert!((estimate(replications.iter().copied(), 0.2).unwrap().mean - 1.0).abs() < 1e-3);
        assert_eq!(estimate(std::iter::empty(), 0.5), None);
        assert_eq!(estimate([[Some(&one), None]].into_iter(), 0.5).unwrap().ci95, None, "one replication");
    }

    #[test]
    fn the_interval_inverts_the_fraction_below_the_point() {
        // Four replications of 100 values: 1 s, 2 s, ..., their median the pooled median.
        // Replications r = 0..4 hold 40 + 5r values of 1 s and the rest of 3 s: the pooled
        // fraction at 1 s is (40 + 45 + 50 + 55)/400 = 0.475, so the median is 3 s. At the point
        // (3 s) every replication counts all its values, so the spread is 0 and the interval is
        // the point itself.
        let parts: Vec<SparseHistogram> = (0..4)
            .map(|r| {
                let mut h = DurationHistogram::new();
                (0..40 + 5 * r).for_each(|_| h.record(1.0));
                (0..60 - 5 * r).for_each(|_| h.record(3.0));
                h.sparse()
            })
            .collect();
        let median = estimate(parts.iter().map(|part| [Some(part), None]), 0.5).unwrap();
        assert!((median.mean - 3.0).abs() < 3e-3);
        assert_eq!(median.ci95, Some([median.mean, median.mean]));
        // At the 0.3 quantile (1 s) the counts below are 40, 45, 50, 55 of 100, F̂ = 0.475:
        // Σ(c − F̂n)² = 7.5² + 2.5² + 2.5² + 7.5² = 125, se = √(125/12)/100 = 0.032275,
        // h = t(0.975, 3) × se = 3.182446 × 0.032275 = 0.102713: [Q(0.197), Q(0.403)] = [1, 1].
        let low = estimate(parts.iter().map(|part| [Some(part), None]), 0.3).unwrap();
        assert!((low.mean - 1.0).abs() < 1e-3);
        let [from, to] = low.ci95.unwrap();
        assert!((from - 1.0).abs() < 1e-3 && (to - 1.0).abs() < 1e-3, "{from} {to}");
        // At the 0.45 quantile (1 s), q + h = 0.5527 > 0.475 reaches 3 s.
        let wide = estimate(parts.iter().map(|part| [Some(part), None]), 0.45).unwrap();
        assert!((wide.ci95.unwrap()[1] - 3.0).abs() < 3e-3, "{wide:?}");
    }
}
