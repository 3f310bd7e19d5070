//! Estimates across replications: the mean and its Student t confidence interval corrected for
//! skewness (for a percentile, see `pooled`), clamped to the range the metric can take.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The mean of one metric over independent replications, with a 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean of the replication values.
    pub mean: f64,
    /// 95% confidence interval `[low, high]` for the mean (Student t with n − 1 degrees of
    /// freedom, corrected for skewness: see [`Estimate::from_values`]); `None` with fewer than
    /// two replications.
    pub ci95: Option<[f64; 2]>,
    /// Number of replications in which the metric was defined, n.
    pub samples: usize,
}

impl Estimate {
    /// Estimates the mean from one value per replication; `None` when there is none.
    ///
    /// # Formula
    /// Student's t interval corrected for skewness by Hall's transformation (Hall 1992, "On
    /// the removal of skewness by transformation", JRSS B 54): with T = √n (x̄ − μ)/s, the
    /// statistic g(T) = T + aT² + a²T³/3 + b, where a = γ̂/(3√n), b = γ̂/(6√n) and
    /// γ̂ = m₃/s³ is the sample skewness, is nearly symmetric; so the interval is
    /// [x̄ − s/√n · g⁻¹(t), x̄ − s/√n · g⁻¹(−t)] with t = t(0.975, n − 1) and
    /// g⁻¹(y) = ((1 + 3a(y − b))^⅓ − 1)/a. Symmetric values (γ̂ = 0) give x̄ ± t·s/√n.
    ///
    /// # Why
    /// Near saturation a replication's mean queue or wait is right-skewed (γ ≈ 1.3 for an
    /// M/M/1 at ρ 0.9 over 10 000 s), and a low mean then comes with a small s: the plain t
    /// interval of 20 such replications holds the true mean about 93% of the time, missing
    /// mostly below. The corrected interval reaches out further on the long side.
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
            let error = (variance / count).sqrt();
            let t = t_quantile_975(count - 1.0);
            if error == 0.0 || !error.is_finite() {
                return [mean - t * error, mean + t * error];
            }
            let third = values.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / count;
            let skewness = third / variance.powf(1.5);
            let inverse = hall_inverse(skewness, count);
            [mean - error * inverse(t), mean - error * inverse(-t)]
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

/// g⁻¹ of Hall's transformation (see [`Estimate::from_values`]) for sample skewness
/// `skewness` of `count` values: g is increasing, so the inverse is defined everywhere.
fn hall_inverse(skewness: f64, count: f64) -> impl Fn(f64) -> f64 {
    let a = skewness / (3.0 * count.sqrt());
    let b = skewness / (6.0 * count.sqrt());
    move |y: f64| {
        if a.abs() < 1e-9 {
            // The limit a → 0: g(T) = T + b.
            y - b
        } else {
            ((1.0 + 3.0 * a * (y - b)).cbrt() - 1.0) / a
        }
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
    fn a_skewed_sample_reaches_further_on_its_long_side() {
        // Values 1, 1, 1, 1, 6: mean 2, s² = 20/4 = 5, s/√n = 1, m₃ = (−4 + 64)/5 = 12,
        // γ̂ = 12/5^1.5, a = γ̂/(3√5) = 12/75 = 0.16, b = 0.08, t(0.975, 4) = 2.776445.
        // g⁻¹(t) = ((1 + 0.48 × 2.696445)^⅓ − 1)/0.16 = 1.993210,
        // g⁻¹(−t) = ((1 − 0.48 × 2.856445)^⅓ − 1)/0.16 = −10.741325 (a negative cube root).
        let estimate = Estimate::from_values(&[1.0, 1.0, 1.0, 1.0, 6.0]).unwrap();
        let [low, high] = estimate.ci95.unwrap();
        assert!((low - (2.0 - 1.993_210)).abs() < 1e-5, "{low}");
        assert!((high - (2.0 + 10.741_325)).abs() < 1e-5, "{high}");
    }

    /// Means of 20 exponential values (skewness 2), 4000 samples: the interval holds the true
    /// mean 1 in about 95% of them (94.4% in an independent simulation of 40 000), where
    /// Student's t alone holds it in about 91.9%. The band is 95% ± 4 binomial standard errors
    /// (√(0.95 × 0.05/4000) = 0.34%).
    #[test]
    fn intervals_of_skewed_means_cover_about_95_percent() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Exp1};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let samples = 4000;
        let (mut corrected, mut plain) = (0, 0);
        for _ in 0..samples {
            let values: Vec<f64> = (0..20).map(|_| Exp1.sample(&mut rng)).collect();
            let estimate = Estimate::from_values(&values).unwrap();
            corrected += u32::from(estimate.covers(1.0));
            let s = (values.iter().map(|x| (x - estimate.mean).powi(2)).sum::<f64>() / 19.0).sqrt();
            plain += u32::from((estimate.mean - 1.0).abs() <= t_quantile_975(19.0) * s / 20_f64.sqrt());
        }
        let error = (0.95 * 0.05 / f64::from(samples)).sqrt();
        let rate = |count: u32| f64::from(count) / f64::from(samples);
        println!("corrected {}, plain t {}", rate(corrected), rate(plain));
        assert!((rate(corrected) - 0.95).abs() <= 4.0 * error, "corrected: {}", rate(corrected));
        assert!(rate(plain) < 0.95 - 4.0 * error, "plain t: {}", rate(plain));
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
