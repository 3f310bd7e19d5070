//! Estimates across replications: the mean and its Student t confidence interval (for a
//! percentile, see `pooled`), clamped to the range the metric can take.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The mean of one metric over independent replications, with a 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean of the replication values.
    pub mean: f64,
    /// 95% confidence interval `[low, high]` for the mean (Student t with n − 1 degrees of
    /// freedom); `None` with fewer than two replications.
    pub ci95: Option<[f64; 2]>,
    /// Number of replications in which the metric was defined, n.
    pub samples: usize,
}

impl Estimate {
    /// Estimates the mean from one value per replication; `None` when there is none.
    ///
    /// # Formula
    /// x̄ ± t(0.975, n − 1)·s/√n, where s is the sample standard deviation.
    #[must_use]
    pub fn from_values(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        #[allow(clippy::cast_precision_loss)] // replication counts are small
        let count = n as f64;
        let mean = values.iter().sum::<f64>() / count;
        let ci95 = (n >= 2).then(|| {
            let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (count - 1.0);
            let half_width = t_quantile_975(count - 1.0) * (variance / count).sqrt();
            [mean - half_width, mean + half_width]
        });
        Some(Self { mean, ci95, samples: n })
    }

    /// The estimate with its interval clamped to `[low, high]`, the values the metric can take
    /// (a utilisation in [0, 1], a time ≥ 0): the true value lies in that range, so the clamped
    /// interval covers it whenever the interval did. With two replications the t quantile is
    /// 12.7, and an unclamped interval of a utilisation can read [−1.1, 1.8].
    #[must_use]
    pub fn clamped(self, low: f64, high: f64) -> Self {
        let ci95 = self.ci95.map(|[from, to]| [from.clamp(low, high), to.clamp(low, high)]);
        Self { ci95, ..self }
    }

    /// Half the width of the confidence interval (0 without one).
    #[must_use]
    pub fn half_width(&self) -> f64 {
        self.ci95.map_or(0.0, |[low, high]| (high - low) / 2.0)
    }

    /// Whether `value` lies inside the confidence interval.
    #[must_use]
    pub fn covers(&self, value: f64) -> bool {
        self.ci95.is_some_and(|[low, high]| low <= value && value <= high)
    }
}

impl Estimate {
    /// Whether the confidence interval misses `exact`, a value theory gives exactly: false
    /// without an interval. A slack of a few ulps keeps an interval of zero width (a metric that
    /// never varies, such as a saturated utilisation of 1) from missing its own value by rounding.
    #[must_use]
    pub fn misses(&self, exact: f64) -> bool {
        let slack = 1e-9 * exact.abs() + 1e-12;
        self.ci95.is_some_and(|[low, high]| exact < low - slack || exact > high + slack)
    }
}

/// The 97.5% quantile of Student's t with `freedom` degrees of freedom.
pub(super) fn t_quantile_975(freedom: f64) -> f64 {
    StudentsT::new(0.0, 1.0, freedom).expect("degrees of freedom are positive").inverse_cdf(0.975)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_uses_the_t_quantile() {
        // Values 1..=5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445 (standard t table),
        // half width = 2.776445 * sqrt(2.5 / 5) = 1.963243.
        let estimate = Estimate::from_values(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(estimate.mean, 3.0);
        assert!((estimate.half_width() - 1.963_243).abs() < 1e-5, "{}", estimate.half_width());
        assert!(estimate.covers(4.9) && !estimate.covers(5.0));
        assert!(!estimate.misses(4.9) && estimate.misses(5.0) && estimate.misses(1.0));
    }

    #[test]
    fn an_interval_of_zero_width_does_not_miss_its_own_value() {
        let constant = Estimate::from_values(&[1.0, 1.0, 1.0]).unwrap();
        assert!(!constant.misses(1.0 + 1e-12) && constant.misses(1.0 + 1e-6));
        assert!(!Estimate::from_values(&[2.0]).unwrap().misses(7.0), "no interval, no miss");
    }

    #[test]
    fn a_clamped_interval_stays_in_the_metric_range() {
        // Two replications, 0.2 and 0.5: 0.35 ± 12.706 × 0.15 = [−1.556, 2.256].
        let estimate = Estimate::from_values(&[0.2, 0.5]).unwrap();
        assert!(estimate.ci95.unwrap()[0] < 0.0 && estimate.ci95.unwrap()[1] > 1.0);
        let clamped = estimate.clamped(0.0, 1.0);
        assert_eq!((clamped.mean, clamped.ci95, clamped.samples), (0.35, Some([0.0, 1.0]), 2));
        let inside = Estimate::from_values(&[0.4, 0.5, 0.6]).unwrap();
        assert_eq!(inside.clamped(0.0, 1.0), inside);
        assert_eq!(Estimate::from_values(&[2.0]).unwrap().clamped(0.0, 1.0).ci95, None);
    }

    #[test]
    fn one_value_has_no_interval_and_none_has_no_estimate() {
        assert_eq!(Estimate::from_values(&[2.0]).unwrap().ci95, None);
        assert_eq!(Estimate::from_values(&[]), None);
    }
}
