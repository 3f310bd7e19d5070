//! The values each metric can take: a confidence interval is clamped to them.

use crate::model::{ExchangeMetric, MessageClassMetric, Metric, NodeClassMetric, NodeMetric, SourceMetric};

/// Fractions and probabilities.
const FRACTION: (f64, f64) = (0.0, 1.0);
/// Times, rates and counts.
const NON_NEGATIVE: (f64, f64) = (0.0, f64::INFINITY);
/// Net changes, which may be negative.
const ANY: (f64, f64) = (f64::NEG_INFINITY, f64::INFINITY);

/// A metric whose values lie in a known range.
pub trait Bounded: Metric {
    /// The smallest and largest values the metric can take (infinite where unbounded).
    fn bounds(self) -> (f64, f64);
}

impl Bounded for NodeMetric {
    fn bounds(self) -> (f64, f64) {
        match self {
            Self::Utilization
            | Self::WaitProbability
            | Self::DropProbability
            | Self::ExpiredFraction
            | Self::BlockedFraction => FRACTION,
            // A queue drains as well as grows.
            Self::QueueGrowthRate => ANY,
            Self::ArrivalRate
            | Self::Throughput
            | Self::MeanInSystem
            | Self::MeanInQueue
            | Self::MeanWait
            | Self::MeanSojourn
            | Self::WaitP50
            | Self::WaitP95
            | Self::WaitP99
            | Self::SojournP50
            | Self::SojournP95
            | Self::SojournP99
            | Self::SubscriberLatencyMean
            | Self::SubscriberLatencyP99 => NON_NEGATIVE,
        }
    }
}

impl Bounded for SourceMetric {
    fn bounds(self) -> (f64, f64) {
        match self {
            Self::DeliveredFraction | Self::AllDeliveredFraction => FRACTION,
            // A closed source may hold several messages blocked at once.
            Self::BlockedFraction
            | Self::LatencyMean
            | Self::LatencyP50
            | Self::LatencyP95
            | Self::LatencyP99
            | Self::Throughput
            | Self::AllLatencyMean
            | Self::AllLatencyP99 => NON_NEGATIVE,
        }
    }
}

impl Bounded for NodeClassMetric {
    fn bounds(self) -> (f64, f64) {
        NON_NEGATIVE
    }
}

impl Bounded for MessageClassMetric {
    fn bounds(self) -> (f64, f64) {
        NON_NEGATIVE
    }
}

impl Bounded for ExchangeMetric {
    fn bounds(self) -> (f64, f64) {
        match self {
            Self::UnroutableFraction => FRACTION,
            Self::ArrivalRate | Self::CopiesPerMessage => NON_NEGATIVE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_lie_in_the_unit_interval_and_growth_is_unbounded() {
        assert_eq!(NodeMetric::Utilization.bounds(), (0.0, 1.0));
        assert_eq!(SourceMetric::DeliveredFraction.bounds(), (0.0, 1.0));
        assert_eq!(NodeMetric::MeanSojourn.bounds(), (0.0, f64::INFINITY));
        assert_eq!(NodeMetric::QueueGrowthRate.bounds().0, f64::NEG_INFINITY);
        // Every key naming a fraction or probability is bounded by 1.
        let fractions = NodeMetric::ALL.iter().filter(|m| m.bounds() == FRACTION).map(|m| m.key());
        assert!(fractions.eq([
            "utilization",
            "wait_probability",
            "drop_probability",
            "expired_fraction",
            "blocked_fraction"
        ]));
    }
}
