//! The distribution families `kendall fit` tries, and their maximum-likelihood fits.

use std::f64::consts::PI;

use serde::Serialize;
use statrs::function::erf::erfc;
use statrs::function::gamma::{digamma, gamma_lr, ln_gamma};

/// A family of distributions of positive durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Exponential (one parameter: the rate).
    Exponential,
    /// Gamma (shape and scale).
    Gamma,
    /// Lognormal (μ and σ of the logarithm).
    Lognormal,
    /// Weibull (shape and scale).
    Weibull,
    /// Two-phase hyperexponential with balanced means (the phase probability and the mean),
    /// the form kendall's `hyperexponential` takes.
    Hyperexponential,
}

impl Family {
    /// Every family, in the order they are reported.
    pub const ALL: [Self; 5] =
        [Self::Exponential, Self::Gamma, Self::Lognormal, Self::Weibull, Self::Hyperexponential];

    /// The name a scenario file gives the family (`dist = "gamma"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Exponential => "exponential",
            Self::Gamma => "gamma",
            Self::Lognormal => "lognormal",
            Self::Weibull => "weibull",
            Self::Hyperexponential => "hyperexponential",
        }
    }

    /// The number of free parameters (for the AIC).
    #[must_use]
    pub fn parameters(self) -> usize {
        if self == Self::Exponential { 1 } else { 2 }
    }

    /// The maximum-likelihood fit of this family to `sample` (positive, finite values, at least
    /// two of them distinct), or `None` when it has no maximum (a sample of equal values).
    #[must_use]
    pub fn fit(self, sample: &[f64]) -> Option<Fitted> {
        let fitted = match self {
            Self::Exponential => Fitted::Exponential { rate: 1.0 / mean(sample) },
            Self::Gamma => fit_gamma(sample)?,
            Self::Lognormal => fit_lognormal(sample)?,
            Self::Weibull => fit_weibull(sample)?,
            Self::Hyperexponential => fit_hyperexponential(sample),
        };
        fitted.is_finite().then_some(fitted)
    }
}

/// A fitted distribution, by its natural parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum Fitted {
    /// Density λe^(−λx).
    Exponential {
        /// λ, per second.
        rate: f64,
    },
    /// Density x^(k−1) e^(−x/θ) / (Γ(k) θ^k).
    Gamma {
        /// k.
        shape: f64,
        /// θ, seconds.
        scale: f64,
    },
    /// ln x is normal with mean μ and standard deviation σ.
    Lognormal {
        /// μ, of ln(seconds).
        mu: f64,
        /// σ.
        sigma: f64,
    },
    /// Survival e^(−(x/λ)^k).
    Weibull {
        /// k.
        shape: f64,
        /// λ, seconds.
        scale: f64,
    },
    /// With probability p an exponential of rate 2p/mean, else one of rate 2(1−p)/mean: each
    /// phase contributes half the mean.
    Hyperexponential {
        /// p, the probability of the faster phase, in [1/2, 1).
        p: f64,
        /// The mean, seconds.
        mean: f64,
    },
}

impl Fitted {
    /// The family.
    #[must_use]
    pub fn family(&self) -> Family {
        match self {
            Self::Exponential { .. } => Family::Exponential,
            Self::Gamma { .. } => Family::Gamma,
            Self::Lognormal { .. } => Family::Lognormal,
            Self::Weibull { .. } => Family::Weibull,
            Self::Hyperexponential { .. } => Family::Hyperexponential,
        }
    }

    /// The mean in seconds.
    #[must_use]
    pub fn mean(&self) -> f64 {
        match *self {
            Self::Exponential { rate } => 1.0 / rate,
            Self::Gamma { shape, scale } => shape * scale,
            Self::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Self::Weibull { shape, scale } => scale * ln_gamma(1.0 + 1.0 / shape).exp(),
            Self::Hyperexponential { mean, .. } => mean,
        }
    }

    /// The coefficient of variation (standard deviation / mean).
    ///
    /// # Formula
    /// gamma 1/√k; lognormal √(e^(σ²) − 1); Weibull √(Γ(1 + 2/k)/Γ(1 + 1/k)² − 1);
    /// hyperexponential with r = 2p − 1: cv² = (1 + r²)/(1 − r²).
    #[must_use]
    pub fn cv(&self) -> f64 {
        match *self {
            Self::Exponential { .. } => 1.0,
            Self::Gamma { shape, .. } => 1.0 / shape.sqrt(),
            Self::Lognormal { sigma, .. } => (sigma * sigma).exp_m1().sqrt(),
            Self::Weibull { shape, .. } => {
                (ln_gamma(1.0 + 2.0 / shape) - 2.0 * ln_gamma(1.0 + 1.0 / shape)).exp_m1().sqrt()
            }
            Self::Hyperexponential { p, .. } => {
                let r2 = (2.0 * p - 1.0).powi(2);
                ((1.0 + r2) / (1.0 - r2)).sqrt()
            }
        }
    }

    /// The natural parameters by name, for reports.
    #[must_use]
    pub fn parameters(&self) -> Vec<(&'static str, f64)> {
        match *self {
            Self::Exponential { rate } => vec![("rate", rate)],
            Self::Gamma { shape, scale } | Self::Weibull { shape, scale } => {
                vec![("shape", shape), ("scale", scale)]
            }
            Self::Lognormal { mu, sigma } => vec![("mu", mu), ("sigma", sigma)],
            Self::Hyperexponential { p, mean } => vec![("p", p), ("mean", mean)],
        }
    }

    /// The logarithm of the density at `x` > 0.
    #[must_use]
    pub fn ln_pdf(&self, x: f64) -> f64 {
        match *self {
            Self::Exponential { rate } => rate.ln() - rate * x,
            Self::Gamma { shape, scale } => {
                -ln_gamma(shape) - shape * scale.ln() + (shape - 1.0) * x.ln() - x / scale
            }
            Self::Lognormal { mu, sigma } => {
                let z = (x.ln() - mu) / sigma;
                -x.ln() - sigma.ln() - 0.5 * (2.0 * PI).ln() - z * z / 2.0
            }
            Self::Weibull { shape, scale } => {
                let ratio = x / scale;
                shape.ln() - scale.ln() + (shape - 1.0) * ratio.ln() - ratio.powf(shape)
            }
            Self::Hyperexponential { p, mean } => {
                let (fast, slow) = phase_rates(p, mean);
                let a = p.ln() + fast.ln() - fast * x;
                let b = (1.0 - p).ln() + slow.ln() - slow * x;
                log_sum_exp(a, b)
            }
        }
    }

    /// The cumulative distribution function at `x` >= 0.
    #[must_use]
    pub fn cdf(&self, x: f64) -> f64 {
        match *self {
            Self::Exponential { rate } => -(-rate * x).exp_m1(),
            Self::Gamma { shape, scale } => gamma_lr(shape, x / scale),
            Self::Lognormal { mu, sigma } => 0.5 * erfc(-(x.ln() - mu) / (sigma * std::f64::consts::SQRT_2)),
            Self::Weibull { shape, scale } => -(-(x / scale).powf(shape)).exp_m1(),
            Self::Hyperexponential { p, mean } => {
                let (fast, slow) = phase_rates(p, mean);
                1.0 - p * (-fast * x).exp() - (1.0 - p) * (-slow * x).exp()
            }
        }
    }

    /// The log-likelihood of `sample`.
    #[must_use]
    pub fn log_likelihood(&self, sample: &[f64]) -> f64 {
        sample.iter().map(|&x| self.ln_pdf(x)).sum()
    }

    fn is_finite(&self) -> bool {
        self.parameters().iter().all(|(_, value)| value.is_finite())
            && self.mean().is_finite()
            && self.cv().is_finite()
    }
}

/// The phase rates (fast, slow) of a balanced-means hyperexponential.
fn phase_rates(p: f64, mean: f64) -> (f64, f64) {
    (2.0 * p / mean, 2.0 * (1.0 - p) / mean)
}

fn log_sum_exp(a: f64, b: f64) -> f64 {
    let top = a.max(b);
    if top == f64::NEG_INFINITY { top } else { top + ((a - top).exp() + (b - top).exp()).ln() }
}

#[allow(clippy::cast_precision_loss)]
fn mean(sample: &[f64]) -> f64 {
    sample.iter().sum::<f64>() / sample.len() as f64
}

/// ln x minus its mean, and that mean.
fn centred_logs(sample: &[f64]) -> (Vec<f64>, f64) {
    let logs: Vec<f64> = sample.iter().map(|x| x.ln()).collect();
    let centre = mean(&logs);
    (logs.iter().map(|y| y - centre).collect(), centre)
}

/// Lognormal: μ̂ = mean of ln x, σ̂² = mean of (ln x − μ̂)² (the closed-form MLE).
fn fit_lognormal(sample: &[f64]) -> Option<Fitted> {
    let (centred, mu) = centred_logs(sample);
    let sigma = mean(&centred.iter().map(|y| y * y).collect::<Vec<_>>()).sqrt();
    (sigma > 0.0).then_some(Fitted::Lognormal { mu, sigma })
}

/// Gamma: the shape k solves ln k − ψ(k) = s with s = ln(mean x) − mean(ln x) > 0, by Newton's
/// method from Minka's approximation k₀ = (3 − s + √((s − 3)² + 24s)) / (12s); then θ = mean/k.
fn fit_gamma(sample: &[f64]) -> Option<Fitted> {
    let average = mean(sample);
    let s = average.ln() - centred_logs(sample).1;
    if s.is_nan() || s <= 0.0 {
        return None;
    }
    let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..100 {
        let step = (k.ln() - digamma(k) - s) / (1.0 / k - trigamma(k));
        // ln k − ψ(k) is convex and decreasing: Newton from Minka's start stays positive, but
        // halve the step if it would not.
        let next = if k - step > 0.0 { k - step } else { k / 2.0 };
        let done = (next - k).abs() <= 1e-12 * k;
        k = next;
        if done {
            break;
        }
    }
    Some(Fitted::Gamma { shape: k, scale: average / k })
}

/// ψ'(x) for x > 0: the recurrence ψ'(x) = ψ'(x + 1) + 1/x² up to x >= 10, then the asymptotic
/// series 1/x + 1/(2x²) + 1/(6x³) − 1/(30x⁵) + 1/(42x⁷) − 1/(30x⁹) + 5/(66x¹¹) (Abramowitz &
/// Stegun 6.4.12; the next term is below 3e-14 at x = 10).
fn trigamma(mut x: f64) -> f64 {
    let mut sum = 0.0;
    while x < 10.0 {
        sum += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    sum + inv
        + inv2 / 2.0
        + inv
            * inv2
            * (1.0 / 6.0
                - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 * (1.0 / 30.0 - inv2 * 5.0 / 66.0))))
}

/// Weibull: with y = ln x − mean(ln x), the shape k solves g(k) = Σ yᵢe^(k yᵢ) / Σ e^(k yᵢ) − 1/k = 0
/// (g increases, with g′(k) = the e^(ky)-weighted variance of y + 1/k²), by Newton's method kept
/// inside a bisection bracket; then λ = e^(mean ln x) (mean of e^(k y))^(1/k).
fn fit_weibull(sample: &[f64]) -> Option<Fitted> {
    let (centred, centre) = centred_logs(sample);
    let spread = centred.iter().fold(0.0_f64, |top, y| top.max(y.abs()));
    if spread.is_nan() || spread == 0.0 {
        return None;
    }
    let (mut low, mut high) = (1e-3, 1.0);
    while weighted(&centred, high).0 <= 0.0 && high < 1e6 {
        (low, high) = (high, high * 2.0);
    }
    let mut k = (low + high) / 2.0;
    for _ in 0..200 {
        let (g, slope) = weighted(&centred, k);
        if g > 0.0 {
            high = k;
        } else {
            low = k;
        }
        let newton = k - g / slope;
        let next = if newton > low && newton < high { newton } else { (low + high) / 2.0 };
        let done = (next - k).abs() <= 1e-12 * k;
        k = next;
        if done {
            break;
        }
    }
    let top = centred.iter().fold(f64::NEG_INFINITY, |top, y| top.max(k * y));
    let moment = mean(&centred.iter().map(|y| (k * y - top).exp()).collect::<Vec<_>>());
    let scale = (centre + top / k + moment.ln() / k).exp();
    Some(Fitted::Weibull { shape: k, scale })
}

/// g(k) and g′(k) of the Weibull shape equation, with the weights e^(k y) scaled by their largest.
fn weighted(centred: &[f64], k: f64) -> (f64, f64) {
    let top = centred.iter().fold(f64::NEG_INFINITY, |top, y| top.max(k * y));
    let (mut total, mut first, mut second) = (0.0, 0.0, 0.0);
    for y in centred {
        let w = (k * y - top).exp();
        total += w;
        first += w * y;
        second += w * y * y;
    }
    let (average, square) = (first / total, second / total);
    (average - 1.0 / k, square - average * average + 1.0 / (k * k))
}

/// Balanced-means hyperexponential, by a generalised EM algorithm. E step: each value's
/// probability w of the fast phase. M step: with W = Σw, S₁ = Σwx, S₂ = Σ(1 − w)x and the mean
/// m(p) = 2(pS₁ + (1 − p)S₂)/n that maximises the expected log-likelihood for a given p, p
/// maximises Q(p) = 2W ln p + 2(n − W) ln(1 − p) − n ln(pS₁ + (1 − p)S₂) on [1/2, 1), by golden
/// section; a step is taken only when it raises Q, so the likelihood never falls. Starts from the
/// sample's cv (p = 1/2, the exponential, when cv <= 1).
fn fit_hyperexponential(sample: &[f64]) -> Fitted {
    #[allow(clippy::cast_precision_loss)]
    let n = sample.len() as f64;
    let average = mean(sample);
    let cv2 = sample.iter().map(|x| (x - average).powi(2)).sum::<f64>() / (n - 1.0) / (average * average);
    let start = if cv2 > 1.0 { 0.5 * (1.0 + ((cv2 - 1.0) / (cv2 + 1.0)).sqrt()) } else { 0.5 };
    let mut fitted = Fitted::Hyperexponential { p: start.min(MAX_P), mean: average };
    let mut likelihood = fitted.log_likelihood(sample);
    for _ in 0..5000 {
        let Fitted::Hyperexponential { p, mean } = fitted else { unreachable!("a hyperexponential") };
        let (fast, slow) = phase_rates(p, mean);
        let (mut w_sum, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &x in sample {
            let a = p.ln() + fast.ln() - fast * x;
            let b = (1.0 - p).ln() + slow.ln() - slow * x;
            let w = (a - log_sum_exp(a, b)).exp();
            w_sum += w;
            s1 += w * x;
            s2 += (1.0 - w) * x;
        }
        let q = |p: f64| {
            2.0 * w_sum * p.ln() + 2.0 * (n - w_sum) * (1.0 - p).ln() - n * (p * s1 + (1.0 - p) * s2).ln()
        };
        let best = golden_maximum(&q, 0.5, MAX_P);
        let p = if q(best) > q(p) { best } else { p };
        let next = Fitted::Hyperexponential { p, mean: 2.0 * (p * s1 + (1.0 - p) * s2) / n };
        let next_likelihood = next.log_likelihood(sample);
        let gain = next_likelihood - likelihood;
        if gain.is_nan() || gain <= 0.0 {
            break;
        }
        fitted = next;
        likelihood = next_likelihood;
        if gain <= 1e-10 * likelihood.abs().max(1.0) {
            break;
        }
    }
    fitted
}

/// The largest phase probability tried: cv = 1/√(1 − p) ≈ 1000.
const MAX_P: f64 = 1.0 - 1e-6;

/// The maximum of `f` on [low, high] by golden-section search, to a relative 1e-10.
fn golden_maximum(f: &impl Fn(f64) -> f64, mut low: f64, mut high: f64) -> f64 {
    let ratio = (5.0_f64.sqrt() - 1.0) / 2.0;
    let mut left = high - ratio * (high - low);
    let mut right = low + ratio * (high - low);
    let (mut f_left, mut f_right) = (f(left), f(right));
    while high - low > 1e-10 * high {
        if f_left < f_right {
            low = left;
            (left, f_left) = (right, f_right);
            right = low + ratio * (high - low);
            f_right = f(right);
        } else {
            high = right;
            (right, f_right) = (left, f_left);
            left = high - ratio * (high - low);
            f_left = f(left);
        }
    }
    (low + high) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_matches_known_values() {
        // ψ'(1) = π²/6, ψ'(1/2) = π²/2, ψ'(10) = 0.10516633568168575 (mpmath.psi(1, 10)).
        assert!((trigamma(1.0) - PI * PI / 6.0).abs() < 1e-12);
        assert!((trigamma(0.5) - PI * PI / 2.0).abs() < 1e-11);
        assert!((trigamma(10.0) - 0.105_166_335_681_685_75).abs() < 1e-13);
    }

    #[test]
    fn moments_of_the_fitted_forms() {
        // Exponential: a hyperexponential with p = 1/2 and a Weibull of shape 1 are exponentials.
        let hyper = Fitted::Hyperexponential { p: 0.5, mean: 2.0 };
        assert!(
            (hyper.cv() - 1.0).abs() < 1e-15 && (hyper.cdf(2.0) - (1.0 - (-1.0_f64).exp())).abs() < 1e-15
        );
        let weibull = Fitted::Weibull { shape: 1.0, scale: 2.0 };
        assert!((weibull.mean() - 2.0).abs() < 1e-12 && (weibull.cv() - 1.0).abs() < 1e-12);
        // Lognormal with σ² = ln 2 has cv 1; gamma of shape 4 has cv 1/2.
        let lognormal = Fitted::Lognormal { mu: 0.0, sigma: 2.0_f64.ln().sqrt() };
        assert!((lognormal.cv() - 1.0).abs() < 1e-12 && (lognormal.cdf(1.0) - 0.5).abs() < 1e-15);
        assert!((Fitted::Gamma { shape: 4.0, scale: 0.5 }.cv() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn equal_values_have_no_two_parameter_fit() {
        let sample = [2.0; 5];
        assert_eq!(Family::Exponential.fit(&sample), Some(Fitted::Exponential { rate: 0.5 }));
        for family in [Family::Gamma, Family::Lognormal, Family::Weibull] {
            assert_eq!(family.fit(&sample), None, "{family:?}");
        }
    }
}
