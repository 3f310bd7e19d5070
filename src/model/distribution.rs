//! Probability distributions of durations (inter-arrival and service times), validated once and
//! sampled on the hot path without allocation or string matching.

use std::fmt;

use rand::Rng;
use rand_distr::{Distribution as _, Exp, Gamma, LogNormal, Weibull};
use statrs::function::gamma::ln_gamma;
use thiserror::Error;

/// A validated distribution of a non-negative duration in seconds.
///
/// Built from the parameterisation a capacity planner measures (mean and coefficient of variation)
/// or from a rate; it knows its own mean and squared coefficient of variation (SCV), which the
/// analytic solvers need.
#[derive(Debug, Clone)]
pub struct Distribution {
    shape: Shape,
    sampler: Sampler,
}

impl PartialEq for Distribution {
    /// Two distributions are equal when they have the same family and parameters.
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape
    }
}

/// The family and the user-facing parameters, kept for display and moments.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Exponential { mean: f64 },
    Deterministic { value: f64 },
    Uniform { min: f64, max: f64 },
    Erlang { k: u32, mean: f64 },
    Gamma { mean: f64, cv: f64 },
    Lognormal { mean: f64, cv: f64 },
    Hyperexponential { mean: f64, cv: f64 },
    Weibull { mean: f64, cv: f64 },
}

/// Pre-built samplers: one enum match per draw, no allocation.
#[derive(Debug, Clone)]
enum Sampler {
    Exponential(Exp<f64>),
    Constant(f64),
    Uniform { min: f64, width: f64 },
    Gamma(Gamma<f64>),
    Lognormal(LogNormal<f64>),
    Hyperexponential { p1: f64, phase1: Exp<f64>, phase2: Exp<f64> },
    Weibull(Weibull<f64>),
}

/// Why a distribution's parameters were rejected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DistributionError {
    /// A mean, rate or bound that must be a positive finite number was not.
    #[error("{name} must be a positive finite number, got {value}")]
    NotPositive {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A coefficient of variation outside the family's range.
    #[error("cv must be {expected}, got {value}")]
    CvOutOfRange {
        /// The range the family accepts, in words.
        expected: &'static str,
        /// The value given.
        value: f64,
    },
    /// A uniform distribution whose bounds are not ordered.
    #[error("uniform needs 0 <= min < max, got min {min} and max {max}")]
    BadBounds {
        /// Lower bound in seconds.
        min: f64,
        /// Upper bound in seconds.
        max: f64,
    },
    /// An Erlang distribution with zero phases.
    #[error("erlang needs k >= 1 phases, got {0}")]
    NoPhases(u32),
}

fn positive(name: &'static str, value: f64) -> Result<f64, DistributionError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(DistributionError::NotPositive { name, value })
    }
}

fn cv_in(value: f64, low: f64, high: f64, expected: &'static str) -> Result<f64, DistributionError> {
    if value.is_finite() && value >= low && value <= high {
        Ok(value)
    } else {
        Err(DistributionError::CvOutOfRange { expected, value })
    }
}

/// Largest coefficient of variation accepted by the mean/cv families: beyond it the samplers lose
/// precision and no capacity planner measures such a thing.
const MAX_CV: f64 = 100.0;

impl Distribution {
    /// Exponential with the given mean in seconds (rate = 1/mean).
    ///
    /// # Errors
    /// When the mean is not positive and finite.
    pub fn exponential(mean: f64) -> Result<Self, DistributionError> {
        let mean = positive("mean", mean)?;
        let exp = Exp::new(1.0 / mean)
            .map_err(|_| DistributionError::NotPositive { name: "rate", value: 1.0 / mean })?;
        Ok(Self { shape: Shape::Exponential { mean }, sampler: Sampler::Exponential(exp) })
    }

    /// Exponential with the given rate per second.
    ///
    /// # Errors
    /// When the rate is not positive and finite.
    pub fn exponential_rate(rate: f64) -> Result<Self, DistributionError> {
        Self::exponential(1.0 / positive("rate", rate)?)
    }

    /// Always the same duration in seconds (cv = 0).
    ///
    /// # Errors
    /// When the value is not positive and finite.
    pub fn deterministic(value: f64) -> Result<Self, DistributionError> {
        let value = positive("value", value)?;
        Ok(Self { shape: Shape::Deterministic { value }, sampler: Sampler::Constant(value) })
    }

    /// Uniform on `[min, max)` seconds.
    ///
    /// # Errors
    /// Unless `0 <= min < max` and both are finite.
    pub fn uniform(min: f64, max: f64) -> Result<Self, DistributionError> {
        if !(min.is_finite() && max.is_finite() && min >= 0.0 && min < max) {
            return Err(DistributionError::BadBounds { min, max });
        }
        Ok(Self { shape: Shape::Uniform { min, max }, sampler: Sampler::Uniform { min, width: max - min } })
    }

    /// Erlang-k: the sum of k exponential phases, each of mean `mean / k` (cv² = 1/k).
    ///
    /// # Errors
    /// When k is zero or the mean is not positive and finite.
    pub fn erlang(k: u32, mean: f64) -> Result<Self, DistributionError> {
        if k == 0 {
            return Err(DistributionError::NoPhases(k));
        }
        let mean = positive("mean", mean)?;
        let gamma = gamma_sampler(f64::from(k), mean / f64::from(k))?;
        Ok(Self { shape: Shape::Erlang { k, mean }, sampler: Sampler::Gamma(gamma) })
    }

    /// Gamma by mean and coefficient of variation.
    ///
    /// # Formula
    /// shape = 1/cv², scale = mean·cv².
    ///
    /// # Errors
    /// When the mean is not positive or cv is outside (0, 100].
    pub fn gamma(mean: f64, cv: f64) -> Result<Self, DistributionError> {
        let mean = positive("mean", mean)?;
        let cv = cv_in(cv, f64::MIN_POSITIVE, MAX_CV, "in (0, 100]")?;
        let gamma = gamma_sampler(1.0 / (cv * cv), mean * cv * cv)?;
        Ok(Self { shape: Shape::Gamma { mean, cv }, sampler: Sampler::Gamma(gamma) })
    }

    /// Lognormal by mean and coefficient of variation.
    ///
    /// # Formula
    /// σ² = ln(1 + cv²), μ = ln(mean) − σ²/2.
    ///
    /// # Errors
    /// When the mean is not positive or cv is outside (0, 100].
    pub fn lognormal(mean: f64, cv: f64) -> Result<Self, DistributionError> {
        let mean = positive("mean", mean)?;
        let cv = cv_in(cv, f64::MIN_POSITIVE, MAX_CV, "in (0, 100]")?;
        let sigma2 = (cv * cv).ln_1p();
        let lognormal = LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt())
            .map_err(|_| DistributionError::NotPositive { name: "mean", value: mean })?;
        Ok(Self { shape: Shape::Lognormal { mean, cv }, sampler: Sampler::Lognormal(lognormal) })
    }

    /// Two-phase hyperexponential with balanced means, for cv ≥ 1.
    ///
    /// # Formula
    /// p1 = (1 + sqrt((cv² − 1)/(cv² + 1)))/2, p2 = 1 − p1, phase rates 2·p1/mean and 2·p2/mean.
    ///
    /// # Errors
    /// When the mean is not positive or cv is outside [1, 100].
    pub fn hyperexponential(mean: f64, cv: f64) -> Result<Self, DistributionError> {
        let mean = positive("mean", mean)?;
        let cv = cv_in(cv, 1.0, MAX_CV, "in [1, 100] for a hyperexponential")?;
        let cv2 = cv * cv;
        let p1 = (1.0 + ((cv2 - 1.0) / (cv2 + 1.0)).sqrt()) / 2.0;
        let p2 = 1.0 - p1;
        let phase = |p: f64| {
            // p2 is 0 exactly when cv = 1: that phase is never chosen, any rate will do.
            Exp::new(if p > 0.0 { 2.0 * p / mean } else { 1.0 / mean })
                .map_err(|_| DistributionError::NotPositive { name: "mean", value: mean })
        };
        let sampler = Sampler::Hyperexponential { p1, phase1: phase(p1)?, phase2: phase(p2)? };
        Ok(Self { shape: Shape::Hyperexponential { mean, cv }, sampler })
    }

    /// Weibull by mean and coefficient of variation.
    ///
    /// # Formula
    /// shape k solves cv² = Γ(1 + 2/k)/Γ(1 + 1/k)² − 1; scale = mean/Γ(1 + 1/k).
    ///
    /// # Errors
    /// When the mean is not positive or cv is outside [0.01, 100].
    pub fn weibull(mean: f64, cv: f64) -> Result<Self, DistributionError> {
        let mean = positive("mean", mean)?;
        let cv = cv_in(cv, 0.01, MAX_CV, "in [0.01, 100] for a weibull")?;
        let k = weibull_shape(cv);
        let scale = mean / ln_gamma(1.0 + 1.0 / k).exp();
        let weibull = Weibull::new(scale, k)
            .map_err(|_| DistributionError::NotPositive { name: "mean", value: mean })?;
        Ok(Self { shape: Shape::Weibull { mean, cv }, sampler: Sampler::Weibull(weibull) })
    }

    /// The same family and coefficient of variation with another mean in seconds: a uniform's
    /// bounds are scaled, an Erlang keeps its phases, a deterministic value becomes the mean.
    ///
    /// # Errors
    /// When the mean is not positive and finite, or the scaled bounds of a uniform are not.
    pub fn with_mean(&self, mean: f64) -> Result<Self, DistributionError> {
        let mean = positive("mean", mean)?;
        match self.shape {
            Shape::Exponential { .. } => Self::exponential(mean),
            Shape::Deterministic { .. } => Self::deterministic(mean),
            Shape::Uniform { min, max } => {
                let factor = mean / self.mean();
                Self::uniform(min * factor, max * factor)
            }
            Shape::Erlang { k, .. } => Self::erlang(k, mean),
            Shape::Gamma { cv, .. } => Self::gamma(mean, cv),
            Shape::Lognormal { cv, .. } => Self::lognormal(mean, cv),
            Shape::Hyperexponential { cv, .. } => Self::hyperexponential(mean, cv),
            Shape::Weibull { cv, .. } => Self::weibull(mean, cv),
        }
    }

    /// Mean in seconds.
    #[must_use]
    pub fn mean(&self) -> f64 {
        match self.shape {
            Shape::Deterministic { value } => value,
            Shape::Uniform { min, max } => (min + max) / 2.0,
            Shape::Exponential { mean }
            | Shape::Erlang { mean, .. }
            | Shape::Gamma { mean, .. }
            | Shape::Lognormal { mean, .. }
            | Shape::Hyperexponential { mean, .. }
            | Shape::Weibull { mean, .. } => mean,
        }
    }

    /// Squared coefficient of variation, variance / mean².
    #[must_use]
    pub fn scv(&self) -> f64 {
        match self.shape {
            Shape::Exponential { .. } => 1.0,
            Shape::Deterministic { .. } => 0.0,
            Shape::Uniform { min, max } => {
                let width = max - min;
                width * width / 12.0 / (self.mean() * self.mean())
            }
            Shape::Erlang { k, .. } => 1.0 / f64::from(k),
            Shape::Gamma { cv, .. }
            | Shape::Lognormal { cv, .. }
            | Shape::Hyperexponential { cv, .. }
            | Shape::Weibull { cv, .. } => cv * cv,
        }
    }

    /// Whether this is the exponential distribution (the "M" of Kendall notation).
    #[must_use]
    pub fn is_exponential(&self) -> bool {
        matches!(self.shape, Shape::Exponential { .. })
    }

    /// The letter of Kendall notation: M, D, Ek or G.
    #[must_use]
    pub fn kendall_letter(&self) -> String {
        match self.shape {
            Shape::Exponential { .. } => "M".to_owned(),
            Shape::Deterministic { .. } => "D".to_owned(),
            Shape::Erlang { k, .. } => format!("E{k}"),
            _ => "G".to_owned(),
        }
    }

    /// Draws one duration in seconds.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.sampler {
            Sampler::Exponential(exp) => exp.sample(rng),
            Sampler::Constant(value) => *value,
            Sampler::Uniform { min, width } => min + width * unit_interval(rng),
            Sampler::Gamma(gamma) => gamma.sample(rng),
            Sampler::Lognormal(lognormal) => lognormal.sample(rng),
            Sampler::Hyperexponential { p1, phase1, phase2 } => {
                if unit_interval(rng) < *p1 {
                    phase1.sample(rng)
                } else {
                    phase2.sample(rng)
                }
            }
            Sampler::Weibull(weibull) => weibull.sample(rng),
        }
    }
}

/// A uniform draw in [0, 1) from the top 53 bits of one 64-bit output.
#[inline]
pub(crate) fn unit_interval<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    #[allow(clippy::cast_precision_loss)] // 53 bits fit exactly in an f64 mantissa.
    let bits = (rng.next_u64() >> 11) as f64;
    bits * (1.0 / (1u64 << 53) as f64)
}

fn gamma_sampler(shape: f64, scale: f64) -> Result<Gamma<f64>, DistributionError> {
    Gamma::new(shape, scale)
        .map_err(|_| DistributionError::NotPositive { name: "mean", value: shape * scale })
}

/// Solves cv² = Γ(1 + 2/k)/Γ(1 + 1/k)² − 1 for the Weibull shape k by bisection on ln k
/// (the right side decreases in k).
fn weibull_shape(cv: f64) -> f64 {
    let scv = |k: f64| (ln_gamma(1.0 + 2.0 / k) - 2.0 * ln_gamma(1.0 + 1.0 / k)).exp() - 1.0;
    let target = cv * cv;
    let (mut low, mut high) = (0.02f64.ln(), 500.0f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if scv(mid.exp()) > target {
            low = mid;
        } else {
            high = mid;
        }
    }
    (0.5 * (low + high)).exp()
}

/// A value rounded to 9 significant digits, for display ("1.11111111" rather than
/// "1.1111111111111112").
struct Short(f64);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded: f64 = format!("{:.8e}", self.0).parse().unwrap_or(self.0);
        // Plain for everyday magnitudes; `1e308`, not 309 digits, beyond.
        if rounded == 0.0 || (1e-6..1e15).contains(&rounded.abs()) {
            write!(f, "{rounded}")
        } else {
            write!(f, "{rounded:e}")
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mean, cv) = (Short(self.mean()), Short(self.scv().sqrt()));
        match self.shape {
            Shape::Exponential { .. } => {
                write!(f, "exponential(mean {mean}s, rate {}/s)", Short(1.0 / self.mean()))
            }
            Shape::Deterministic { .. } => write!(f, "deterministic({mean}s)"),
            Shape::Uniform { min, max } => write!(f, "uniform({}s, {}s)", Short(min), Short(max)),
            Shape::Erlang { k, .. } => write!(f, "erlang(k {k}, mean {mean}s)"),
            Shape::Gamma { .. } => write!(f, "gamma(mean {mean}s, cv {cv})"),
            Shape::Lognormal { .. } => write!(f, "lognormal(mean {mean}s, cv {cv})"),
            Shape::Hyperexponential { .. } => write!(f, "hyperexponential(mean {mean}s, cv {cv})"),
            Shape::Weibull { .. } => write!(f, "weibull(mean {mean}s, cv {cv})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn extreme_means_print_in_scientific_notation() {
        let huge = Distribution::exponential(1e308).unwrap();
        assert_eq!(huge.to_string(), "exponential(mean 1e308s, rate 1e-308/s)");
        let everyday = Distribution::exponential(0.25).unwrap();
        assert_eq!(everyday.to_string(), "exponential(mean 0.25s, rate 4/s)");
    }

    /// Sample mean and SCV of `n` draws.
    fn sample_moments(dist: &Distribution, n: u32) -> (f64, f64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for _ in 0..n {
            let x = dist.sample(&mut rng);
            sum += x;
            sum_sq += x * x;
        }
        let n = f64::from(n);
        let mean = sum / n;
        let variance = sum_sq / n - mean * mean;
        (mean, variance / (mean * mean))
    }

    /// The sample mean must lie within 5 standard errors of the stated mean (standard error =
    /// mean·cv/sqrt(n)); the sample SCV within a relative 5% for these light-tailed cases (with
    /// n = 10^6 the standard error of the sample variance is well under 1% for them).
    fn assert_moments(dist: &Distribution) {
        let n = 1_000_000;
        let (mean, scv) = sample_moments(dist, n);
        let standard_error = dist.mean() * dist.scv().sqrt() / f64::from(n).sqrt();
        assert!((mean - dist.mean()).abs() <= 5.0 * standard_error + 1e-12, "{dist}: sample mean {mean}");
        let tolerance = 0.05 * dist.scv().max(1e-9);
        assert!((scv - dist.scv()).abs() <= tolerance, "{dist}: sample scv {scv} vs {}", dist.scv());
    }

    #[test]
    fn with_mean_keeps_the_family_and_the_cv() {
        let cases = [
            Distribution::exponential(2.0).unwrap(),
            Distribution::deterministic(0.5).unwrap(),
            Distribution::uniform(1.0, 3.0).unwrap(),
            Distribution::erlang(4, 0.5).unwrap(),
            Distribution::gamma(1.5, 0.7).unwrap(),
            Distribution::lognormal(1.0, 0.8).unwrap(),
            Distribution::hyperexponential(1.0, 1.5).unwrap(),
            Distribution::weibull(2.0, 0.5).unwrap(),
        ];
        for dist in &cases {
            let scaled = dist.with_mean(0.25).unwrap();
            assert!((scaled.mean() - 0.25).abs() < 1e-12, "{dist} -> {scaled}");
            assert!((scaled.scv() - dist.scv()).abs() < 1e-9, "{dist} -> {scaled}");
            assert_eq!(scaled.kendall_letter(), dist.kendall_letter());
            assert_eq!(format!("{}", dist.with_mean(dist.mean()).unwrap()), format!("{dist}"));
        }
        assert!(cases[0].with_mean(0.0).is_err() && cases[0].with_mean(f64::INFINITY).is_err());
    }

    #[test]
    fn samplers_match_their_stated_moments() {
        let cases = [
            Distribution::exponential(2.0).unwrap(),
            Distribution::uniform(1.0, 3.0).unwrap(),
            Distribution::erlang(4, 0.5).unwrap(),
            Distribution::gamma(1.5, 0.7).unwrap(),
            Distribution::lognormal(1.0, 0.8).unwrap(),
            Distribution::hyperexponential(1.0, 1.5).unwrap(),
            Distribution::weibull(2.0, 0.5).unwrap(),
            Distribution::weibull(2.0, 1.3).unwrap(),
        ];
        for dist in &cases {
            assert_moments(dist);
        }
    }

    #[test]
    fn stated_moments_follow_the_formulas() {
        // Uniform(1, 3): variance (3-1)²/12 = 1/3, mean 2, SCV = 1/12.
        assert!((Distribution::uniform(1.0, 3.0).unwrap().scv() - 1.0 / 12.0).abs() < 1e-15);
        assert_eq!(Distribution::erlang(4, 1.0).unwrap().scv(), 0.25);
        assert_eq!(Distribution::deterministic(3.0).unwrap().scv(), 0.0);
        assert_eq!(Distribution::exponential_rate(4.0).unwrap().mean(), 0.25);
    }

    #[test]
    fn weibull_shape_one_is_exponential() {
        // Γ(3)/Γ(2)² − 1 = 2 − 1 = 1, so cv = 1 gives k = 1.
        assert!((weibull_shape(1.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert!(Distribution::exponential(0.0).is_err());
        assert!(Distribution::exponential_rate(-1.0).is_err());
        assert!(Distribution::exponential(f64::NAN).is_err());
        assert!(Distribution::uniform(2.0, 1.0).is_err());
        assert!(Distribution::erlang(0, 1.0).is_err());
        assert!(Distribution::hyperexponential(1.0, 0.5).is_err());
        assert!(Distribution::gamma(1.0, 0.0).is_err());
    }
}
