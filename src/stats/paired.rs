//! The difference between two configurations' means with a 95% confidence interval: paired over
//! replications that share their random numbers, or Welch's two-sample interval for
//! replications that do not.

use serde::{Deserialize, Serialize};

use super::estimate::t_quantile_975;

/// How the interval of a [`Difference`] was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interval {
    /// Student t over the per-replication differences (common random numbers: replication i of
    /// both configurations saw the same random numbers); of pseudo-values for percentiles.
    PairedT,
    /// Welch's two-sample t with Welch–Satterthwaite degrees of freedom (independent streams).
    Welch,
}

/// A configuration's mean minus the baseline's, with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    /// The estimated difference, configuration minus baseline.
    pub mean: f64,
    /// Its 95% confidence interval `[low, high]`; `None` with too few replications.
    pub ci95: Option<[f64; 2]>,
    /// Replications behind it: pairs for a paired interval, the smaller sample for Welch's.
    pub samples: usize,
    /// How the interval was formed.
    pub interval: Interval,
}

impl Difference {
    /// The paired difference over `pairs` of (baseline, configuration) values of the same
    /// replication; `None` without a pair.
    ///
    /// # Formula
    /// With dᵢ = yᵢ − xᵢ over the n pairs: d̄ ± t(0.975, n − 1)·s_d/√n, where s_d is the sample
    /// standard deviation of the dᵢ. No interval with fewer than two pairs.
    #[must_use]
    pub fn paired(pairs: &[(f64, f64)]) -> Option<Self> {
        let differences: Vec<f64> = pairs.iter().map(|(baseline, value)| value - baseline).collect();
        let (mean, variance) = moments(&differences)?;
        let n = differences.len();
        let ci95 = (n >= 2).then(|| {
            let half_width = t_quantile_975(count(n) - 1.0) * (variance / count(n)).sqrt();
            [mean - half_width, mean + half_width]
        });
        Some(Self { mean, ci95, samples: n, interval: Interval::PairedT })
    }

    /// The difference of the means of two independent samples, `values` minus `baseline`;
    /// `None` when either is empty.
    ///
    /// # Formula
    /// ȳ − x̄ ± t(0.975, ν)·√(s_x²/n_x + s_y²/n_y), with Welch–Satterthwaite's
    /// ν = (s_x²/n_x + s_y²/n_y)² / ((s_x²/n_x)²/(n_x − 1) + (s_y²/n_y)²/(n_y − 1)).
    /// No interval unless both samples have two values; an interval of zero width when neither
    /// varies.
    #[must_use]
    pub fn welch(baseline: &[f64], values: &[f64]) -> Option<Self> {
        let (x_mean, x_variance) = moments(baseline)?;
        let (y_mean, y_variance) = moments(values)?;
        let (nx, ny) = (baseline.len(), values.len());
        let mean = y_mean - x_mean;
        let ci95 = (nx >= 2 && ny >= 2).then(|| {
            let (vx, vy) = (x_variance / count(nx), y_variance / count(ny));
            let standard_error = (vx + vy).sqrt();
            if standard_error == 0.0 {
                return [mean, mean];
            }
            let half_width = t_quantile_975(welch_freedom(vx, nx, vy, ny)) * standard_error;
            [mean - half_width, mean + half_width]
        });
        Some(Self { mean, ci95, samples: nx.min(ny), interval: Interval::Welch })
    }

    /// The same interval moved to centre on `mean`: for a difference known exactly, whose pairs
    /// carry its spread and its mean only to rounding (pooled percentiles' pseudo-values).
    #[must_use]
    pub fn centred_on(self, mean: f64) -> Self {
        let shift = mean - self.mean;
        Self { mean, ci95: self.ci95.map(|[low, high]| [low + shift, high + shift]), ..self }
    }

    /// Whether the interval excludes 0: the difference is real at the 5% level. False without
    /// an interval.
    #[must_use]
    pub fn significant(&self) -> bool {
        self.ci95.is_some_and(|[low, high]| low > 0.0 || high < 0.0)
    }

    /// Half the width of the interval (0 without one).
    #[must_use]
    pub fn half_width(&self) -> f64 {
        self.ci95.map_or(0.0, |[low, high]| (high - low) / 2.0)
    }
}

/// Welch–Satterthwaite degrees of freedom from the squared standard errors `vx`, `vy` of two
/// means of `nx`, `ny` values.
fn welch_freedom(vx: f64, nx: usize, vy: f64, ny: usize) -> f64 {
    (vx + vy).powi(2) / (vx.powi(2) / (count(nx) - 1.0) + vy.powi(2) / (count(ny) - 1.0))
}

/// Mean and sample variance (0 for a single value); `None` for no value.
fn moments(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = count(values.len());
    let mean = values.iter().sum::<f64>() / n;
    let squares = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
    Some((mean, if values.len() > 1 { squares / (n - 1.0) } else { 0.0 }))
}

#[allow(clippy::cast_precision_loss)] // replication counts are small
fn count(n: usize) -> f64 {
    n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_near(what: &str, actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-5, "{what}: {actual}, expected {expected}");
    }

    #[test]
    fn the_paired_interval_is_the_t_interval_of_the_differences() {
        // d = (2,4,3,6,7) − (1,2,3,4,5) = (1,2,0,2,2): mean 1.4, squared deviations
        // 0.16 + 0.36 + 1.96 + 0.36 + 0.36 = 3.2, s_d² = 3.2/4 = 0.8, s_d/√5 = 0.4;
        // t(0.975, 4) = 2.776445 (standard t table), half width 1.110578.
        let pairs = [(1.0, 2.0), (2.0, 4.0), (3.0, 3.0), (4.0, 6.0), (5.0, 7.0)];
        let difference = Difference::paired(&pairs).unwrap();
        assert_near("mean", difference.mean, 1.4);
        assert_near("half width", difference.half_width(), 1.110_578);
        assert_eq!((difference.samples, difference.interval), (5, Interval::PairedT));
        assert!(difference.significant(), "[0.289, 2.511] excludes 0");
    }

    #[test]
    fn a_paired_interval_covering_zero_is_not_significant() {
        // d = (1, −1, 2, −2): mean 0, s_d² = 10/3, half width t(0.975, 3)·√(10/12)
        // = 3.182446 · 0.912871 = 2.905163.
        let pairs = [(0.0, 1.0), (1.0, 0.0), (0.0, 2.0), (2.0, 0.0)];
        let difference = Difference::paired(&pairs).unwrap();
        assert_near("mean", difference.mean, 0.0);
        assert_near("half width", difference.half_width(), 2.905_163);
        assert!(!difference.significant());
    }

    #[test]
    fn identical_replications_differ_by_exactly_zero_and_not_significantly() {
        let pairs = [(3.0, 3.0), (5.0, 5.0), (4.0, 4.0)];
        let difference = Difference::paired(&pairs).unwrap();
        assert_eq!(difference.ci95, Some([0.0, 0.0]));
        assert!(!difference.significant());
    }

    #[test]
    fn a_constant_nonzero_difference_is_significant_with_a_zero_width_interval() {
        let difference = Difference::paired(&[(1.0, 1.5), (2.0, 2.5)]).unwrap();
        assert_eq!(difference.ci95, Some([0.5, 0.5]));
        assert!(difference.significant());
    }

    #[test]
    fn welch_with_equal_variances_and_sizes_has_2n_minus_2_degrees_of_freedom() {
        // x = 1..=5 (mean 3, s² 2.5), y = 4..=8 (mean 6, s² 2.5): standard error
        // √(2.5/5 + 2.5/5) = 1, ν = (1)² / (2 · 0.25/4) = 8, t(0.975, 8) = 2.306004.
        let difference = Difference::welch(&[1.0, 2.0, 3.0, 4.0, 5.0], &[4.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
        assert_near("mean", difference.mean, 3.0);
        assert_near("half width", difference.half_width(), 2.306_004);
        assert_eq!((difference.samples, difference.interval), (5, Interval::Welch));
        assert!(difference.significant());
    }

    #[test]
    fn welch_satterthwaite_freedom_by_hand() {
        // x = 1..=5: s²/n = 2.5/5 = 1/2; y = (2, 4, 6): s² = 4, s²/n = 4/3.
        // ν = (1/2 + 4/3)² / ((1/2)²/4 + (4/3)²/2) = (121/36) / (137/144) = 484/137.
        assert_near("freedom", welch_freedom(0.5, 5, 4.0 / 3.0, 3), 484.0 / 137.0);
        let difference = Difference::welch(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 6.0]).unwrap();
        let standard_error = (0.5_f64 + 4.0 / 3.0).sqrt();
        assert_near("mean", difference.mean, 1.0);
        assert_near("half width", difference.half_width(), t_quantile_975(484.0 / 137.0) * standard_error);
        assert!(!difference.significant(), "1 ± 4.4 covers 0");
    }

    #[test]
    fn a_centred_difference_keeps_its_width() {
        let paired = Difference::paired(&[(1.0, 2.0), (2.0, 4.0), (3.0, 3.0)]).unwrap();
        let centred = paired.centred_on(0.5);
        let [low, high] = centred.ci95.unwrap();
        assert_near("mean", centred.mean, 0.5);
        assert_near("centre", (low + high) / 2.0, 0.5);
        assert_near("half width", centred.half_width(), paired.half_width());
        assert_eq!((centred.samples, centred.interval), (paired.samples, paired.interval));
    }

    #[test]
    fn too_few_values_give_no_interval_and_none_no_difference() {
        assert_eq!(Difference::paired(&[]), None);
        assert_eq!(Difference::paired(&[(1.0, 2.0)]).unwrap().ci95, None);
        assert_eq!(Difference::welch(&[1.0], &[]), None);
        let single = Difference::welch(&[1.0], &[2.0, 3.0]).unwrap();
        assert_eq!((single.mean, single.ci95), (1.5, None));
        assert!(!single.significant());
    }
}
