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
//!
//! # Differences
//! Comparing configurations needs an interval for the difference of two pooled quantiles. The
//! interval above is Woodruff's: its width over 2t is the quantile's standard error, se_F/f̂,
//! with f̂ = 2h/(hi − lo) the density the interval implies. [`pseudo_values`] spreads it over the
//! replications: ξ̂ − (cᵣ − F̂nᵣ)/(n̄f̂), whose mean is ξ̂ and whose t interval is the one above.
//! Two configurations' pseudo-values pair by replication (common random numbers) as the values
//! of a mean do, and their paired t interval is the delta method's for the difference. A
//! percentile bootstrap over the replications would cost a merge per resample and undercover
//! with few replications (for a mean with 10 it is about x̄ ± 1.96·√(9/10)·s/√10, where the t
//! interval has 2.26: about 90% coverage); the pseudo-values cost one pass and keep t.

use super::estimate::{Estimate, t_quantile_975};
use super::histogram::DurationHistogram;
use super::record::{NodeHistograms, ReplicationResult, SourceHistograms, WaitHistograms};
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
    Pooled::new(replications, quantile).map(|pooled| pooled.estimate)
}

/// Each replication's pseudo-value of the pooled `quantile` (in index order, `None` for a
/// replication without observations): the replications' linearised contributions to the
/// estimate of [`Summary`](super::Summary), which the difference of two pooled percentiles
/// pairs as it pairs the values of a mean. All `None` when every replication is empty.
///
/// # Formula
/// With the module's F̂, n̄, h and interval [lo, hi] at the point ξ̂, replication r's
/// pseudo-value is ξ̂ − (cᵣ − F̂nᵣ)/n̄ · (hi − lo)/(2h): its residual in the fraction below,
/// scaled by the inverse density the interval implies (Woodruff's). Their mean is ξ̂ and
/// t(0.975, n − 1) times their standard error is half the interval's width, so two
/// configurations' pseudo-values, paired by replication, give a t interval for the difference
/// of their pooled quantiles (the delta method, with the same density as each interval).
/// All are ξ̂ when the interval has no width (h = 0).
pub fn pseudo_values<'a>(
    replications: impl Iterator<Item = [Option<&'a SparseHistogram>; 2]> + Clone,
    quantile: f64,
) -> Vec<Option<f64>> {
    let Some(pooled) = Pooled::new(replications.clone(), quantile) else {
        return replications.map(|_| None).collect();
    };
    let point = pooled.estimate.mean;
    let scale = match pooled.estimate.ci95 {
        Some([low, high]) if pooled.half_width > 0.0 => (high - low) / (2.0 * pooled.half_width),
        _ => 0.0,
    };
    let mean_observed = pooled.observed / pooled.count;
    pooled
        .counts
        .iter()
        .map(|counts| {
            counts.map(|(total, below)| point - (below - pooled.fraction * total) / mean_observed * scale)
        })
        .collect()
}

/// A quantile of every replication's observations merged, with what its interval is built from.
struct Pooled {
    /// The point estimate and its interval, as a summary reports them.
    estimate: Estimate,
    /// Per replication: (observed, at most the point); `None` without observations.
    counts: Vec<Option<(f64, f64)>>,
    /// Replications with observations, n.
    count: f64,
    /// Observations in all, Σnᵣ.
    observed: f64,
    /// The pooled fraction at most the point, F̂.
    fraction: f64,
    /// h, the interval's half-width in probability (0 without an interval).
    half_width: f64,
}

impl Pooled {
    /// The pooled `quantile` of the replications' histograms; `None` when every one is empty.
    fn new<'a>(
        replications: impl Iterator<Item = [Option<&'a SparseHistogram>; 2]> + Clone,
        quantile: f64,
    ) -> Option<Self> {
        let mut merged = DurationHistogram::new();
        for part in replications.clone().flatten().flatten() {
            merged += part;
        }
        let point = merged.quantile_bucket(quantile)?;
        let counts: Vec<Option<(f64, f64)>> = replications
            .map(|parts| {
                let parts = parts.iter().flatten();
                let total: u64 = parts.clone().map(|part| part.count()).sum();
                let below: u64 = parts.map(|part| part.count_through(point)).sum();
                #[allow(clippy::cast_precision_loss)] // counts far below 2^53
                (total > 0).then_some((total as f64, below as f64))
            })
            .collect();
        let defined = || counts.iter().flatten();
        let n = defined().count();
        #[allow(clippy::cast_precision_loss)] // replication counts are small
        let count = n as f64;
        let observed: f64 = defined().map(|&(total, _)| total).sum();
        let fraction = defined().map(|&(_, below)| below).sum::<f64>() / observed;
        let half_width = if n >= 2 {
            let spread = defined().map(|&(total, below)| (below - fraction * total).powi(2)).sum::<f64>();
            let error = (spread / (count * (count - 1.0))).sqrt() / (observed / count);
            t_quantile_975(count - 1.0) * error
        } else {
            0.0
        };
        let ci95 = (n >= 2).then(|| {
            let at = |q: f64| merged.quantile(q.clamp(0.0, 1.0)).expect("observations");
            [at(quantile - half_width), at(quantile + half_width)]
        });
        let estimate = Estimate { mean: super::histogram::bucket_middle(point), ci95, samples: n };
        Some(Self { estimate, counts, count, observed, fraction, half_width })
    }
}

/// The histogram a node's percentile metric reads.
pub fn node_part(histograms: &NodeHistograms, metric: NodeMetric) -> Option<&SparseHistogram> {
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
pub fn source_parts(histograms: &SourceHistograms, metric: SourceMetric) -> [Option<&SparseHistogram>; 2] {
    match metric {
        SourceMetric::LatencyP50 | SourceMetric::LatencyP95 | SourceMetric::LatencyP99 => {
            [Some(&histograms.latencies), Some(&histograms.copy_latencies)]
        }
        SourceMetric::AllLatencyP99 => [Some(&histograms.latencies), Some(&histograms.multicast_latencies)],
        _ => [None, None],
    }
}

/// The histogram a message class's percentile metric reads network-wide: its latencies in
/// `record`, when measured.
pub fn message_class_part(
    record: &ReplicationResult,
    class: usize,
    metric: MessageClassMetric,
) -> Option<&SparseHistogram> {
    metric.quantile().and(record.message_class_latencies.get(class))
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

    #[test]
    fn pseudo_values_average_to_the_point_and_spread_to_its_interval() {
        // Replication r holds 0.01 s, 0.02 s, ..., 0.01·(100 + 20r) s: 700 values, whose median
        // is 0.70 s, with 70 values at most it in every replication. Residuals 70 − 0.5·nᵣ fall
        // as r grows, so the pseudo-values rise. An empty replication has none.
        let mut parts: Vec<SparseHistogram> = (0..5)
            .map(|r| {
                let mut h = DurationHistogram::new();
                (1..=100 + 20 * r).for_each(|k| h.record(0.01 * f64::from(k)));
                h.sparse()
            })
            .collect();
        parts.push(SparseHistogram::default());
        let replications = || parts.iter().map(|part| [Some(part), None]);
        let median = estimate(replications(), 0.5).unwrap();
        let values = pseudo_values(replications(), 0.5);
        assert_eq!(values[5], None);
        let defined: Vec<f64> = values.iter().flatten().copied().collect();
        let spread = Estimate::from_values(&defined).unwrap();
        assert!((spread.mean - median.mean).abs() < 1e-12, "{} against {}", spread.mean, median.mean);
        let [low, high] = median.ci95.unwrap();
        assert!(high > low, "an interval of some width");
        assert!((spread.half_width() - (high - low) / 2.0).abs() < 1e-12, "{spread:?} against {median:?}");
        assert!(defined.windows(2).all(|pair| pair[0] < pair[1]), "{defined:?}");
    }

    #[test]
    fn without_an_interval_every_pseudo_value_is_the_point() {
        let mut one = DurationHistogram::new();
        (0..10).for_each(|_| one.record(1.0));
        let one = one.sparse();
        assert_eq!(pseudo_values([[Some(&one), None]].into_iter(), 0.5), vec![one.quantile(0.5)]);
        assert_eq!(pseudo_values([[None, None], [None, None]].into_iter(), 0.5), vec![None, None]);
    }
}
