//! `kendall fit`: a trace's rates and the distribution families fitted to its gaps (or to a
//! column of durations), with the best by AIC.

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use super::families::{Family, Fitted};
use super::rates::Stationarity;
use super::sample::SampleSummary;
use super::{TimeColumn, Trace, TraceError, read_column};

pub use super::rates::readable_window;

/// Why a trace could not be fitted.
#[derive(Debug, Error)]
pub enum FitError {
    /// The trace or column could not be read.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The window asked for leaves fewer than two windows in the trace.
    #[error("a window of {window_s:.3} s leaves fewer than 2 windows in the span of {} ({span_s:.3} s), so no change of rate can show; give a window under {:.3} s", path.display(), span_s / 1.5)]
    Window {
        /// The trace.
        path: PathBuf,
        /// The window asked for, seconds.
        window_s: f64,
        /// The trace's span, seconds.
        span_s: f64,
    },
    /// Fewer than two values are positive: no family of positive durations can be fitted.
    #[error("{}: {positive} of the {count} values are positive, and fitting needs at least 2", path.display())]
    TooFewPositive {
        /// The trace.
        path: PathBuf,
        /// The values.
        count: usize,
        /// The positive values.
        positive: usize,
    },
}

/// A Kolmogorov-Smirnov goodness-of-fit statistic.
///
/// # Formula
/// D = supₓ |Fₙ(x) − F(x)|; p ≈ Q(λ) = 2 Σⱼ (−1)^(j−1) e^(−2j²λ²) with Stephens'
/// λ = (√n + 0.12 + 0.11/√n) D. The p-value is optimistic (too large) because the parameters were fitted to the
/// same sample: read it as a comparison between families, not as a test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Goodness {
    /// D, the largest distance between the empirical and the fitted distribution functions.
    pub ks_d: f64,
    /// Its approximate p-value.
    pub p_value: f64,
}

impl Goodness {
    /// The statistic of `fitted` on `sorted` (ascending).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn new(fitted: &Fitted, sorted: &[f64]) -> Self {
        let n = sorted.len() as f64;
        let ks_d = sorted.iter().enumerate().fold(0.0_f64, |d, (i, &x)| {
            let f = fitted.cdf(x);
            d.max((i as f64 + 1.0) / n - f).max(f - i as f64 / n)
        });
        let lambda = (n.sqrt() + 0.12 + 0.11 / n.sqrt()) * ks_d;
        Self { ks_d, p_value: kolmogorov_survival(lambda) }
    }
}

/// Q(λ) = P(K > λ) of the Kolmogorov distribution.
fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0; // the series converges too slowly here, and Q(0.2) = 1 to 15 digits
    }
    let sum: f64 = (1..=100)
        .map(|j| {
            let j = f64::from(j);
            let sign = if j % 2.0 == 1.0 { 1.0 } else { -1.0 };
            sign * (-2.0 * j * j * lambda * lambda).exp()
        })
        .sum();
    (2.0 * sum).clamp(0.0, 1.0)
}

/// One family fitted by maximum likelihood, and how well it fits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FamilyFit {
    /// The fitted distribution, by its natural parameters.
    pub fitted: Fitted,
    /// Its mean, seconds.
    pub mean_s: f64,
    /// Its coefficient of variation.
    pub cv: f64,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// Akaike's information criterion, 2·parameters − 2·log-likelihood: lower is better.
    pub aic: f64,
    /// The Kolmogorov-Smirnov statistic.
    pub goodness: Goodness,
}

impl FamilyFit {
    /// The fit of `family` to `sorted` (positive values, ascending), if it has one.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn new(family: Family, sorted: &[f64]) -> Option<Self> {
        let fitted = family.fit(sorted)?;
        let log_likelihood = fitted.log_likelihood(sorted);
        Some(Self {
            fitted,
            mean_s: fitted.mean(),
            cv: fitted.cv(),
            log_likelihood,
            aic: 2.0 * family.parameters() as f64 - 2.0 * log_likelihood,
            goodness: Goodness::new(&fitted, sorted),
        })
    }
}

/// What `kendall fit` found in a trace's gaps or in a column of durations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// The file.
    pub path: PathBuf,
    /// The column fitted, or `None` for the trace's gaps between arrivals.
    pub column: Option<String>,
    /// The messages (rows) in the file.
    pub messages: usize,
    /// For a trace's gaps: the seconds from its start to its last arrival.
    pub span_s: Option<f64>,
    /// For a trace's gaps: the overall arrival rate per second, 1 / mean gap.
    pub rate: Option<f64>,
    /// For a trace's gaps: the rate per window and the test of a constant rate.
    pub rates: Option<Stationarity>,
    /// Mean, cv and lag-1 autocorrelation of the values, in file order.
    pub sample: SampleSummary,
    /// When the rate varies: the same of the gaps in scaled time, to which the families were
    /// fitted instead (see [`scaled_gaps`]).
    pub scaled: Option<SampleSummary>,
    /// Values of exactly 0 (ties in a trace's times), left out of the fits: every family is of
    /// positive durations.
    pub zeros: usize,
    /// Each family that has a maximum-likelihood fit, in the order of [`Family::ALL`].
    pub fits: Vec<FamilyFit>,
    /// The family with the lowest AIC.
    pub best: Family,
}

impl FitReport {
    /// The fit of the best family.
    #[must_use]
    pub fn best_fit(&self) -> &FamilyFit {
        self.fits.iter().find(|fit| fit.fitted.family() == self.best).unwrap_or(&self.fits[0])
    }

    /// Whether the rate varies: the stationarity test rejected a constant rate.
    #[must_use]
    pub fn rate_varies(&self) -> bool {
        self.rates.as_ref().is_some_and(|rates| !rates.stationary)
    }
}

/// Reads the trace at `path` and fits its gaps between arrivals; `window_s` is the rate window
/// (default [`readable_window`] of the span). When the stationarity test rejects a constant rate,
/// the families are fitted to the gaps in scaled time (see [`scaled_gaps`]): the schedule of
/// rates per window then carries the variation of the rate, and the distribution the rest.
///
/// # Errors
/// When the trace cannot be read, the window leaves fewer than two windows, or fewer than two
/// gaps are positive.
pub fn fit_arrivals(path: &Path, window_s: Option<f64>) -> Result<FitReport, FitError> {
    let trace = Trace::read(path)?;
    let span_s = trace.times().last().copied().unwrap_or(0.0);
    let gaps = trace.gaps();
    if span_s <= 0.0 {
        return Err(FitError::TooFewPositive { path: path.to_owned(), count: gaps.len(), positive: 0 });
    }
    let window_s = window_s.unwrap_or_else(|| readable_window(span_s));
    if span_s / window_s < 1.5 {
        return Err(FitError::Window { path: path.to_owned(), window_s, span_s });
    }
    let rates = Stationarity::new(trace.times(), window_s, SampleSummary::new(&gaps).cv);
    let scaled = (!rates.stationary).then(|| scaled_gaps(&trace, &rates));
    let mut report = fit_values(path, None, scaled.as_deref().unwrap_or(&gaps))?;
    report.scaled = scaled.as_ref().map(|_| report.sample);
    report.sample = SampleSummary::new(&gaps);
    report.messages = trace.len();
    report.span_s = Some(span_s);
    report.rate = Some(1.0 / report.sample.mean_s);
    report.rates = Some(rates);
    Ok(report)
}

/// The gaps of `trace` in scaled time: with Λ(t) the integral of the rate per window up to t (so
/// Λ(span) = the number of messages N), each arrival moves to τ = Λ(t)·span/N, and the gaps are
/// the differences of τ (from 0 for a gap trace). A trace whose rate follows the windows' rates
/// has gaps of a constant rate in scaled time: a non-homogeneous Poisson trace has exponential
/// scaled gaps, whatever its schedule.
#[must_use]
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn scaled_gaps(trace: &Trace, rates: &Stationarity) -> Vec<f64> {
    let windows = &rates.windows;
    let mut before = Vec::with_capacity(windows.len());
    let mut total = 0.0;
    for window in windows {
        before.push(total);
        total += window.count as f64;
    }
    let span = windows.last().map_or(0.0, |window| window.end_s);
    let scaled = |time: f64| {
        let index = ((time / rates.window_s) as usize).min(windows.len() - 1);
        let window = &windows[index];
        (before[index] + window.rate * (time - window.start_s)) * span / total
    };
    let start = if trace.column() == TimeColumn::Gaps { Some(0.0) } else { None };
    let points: Vec<f64> = start.into_iter().chain(trace.times().iter().map(|&time| scaled(time))).collect();
    points.windows(2).map(|pair| (pair[1] - pair[0]).max(0.0)).collect()
}

/// Reads the numeric column `column` of the file at `path` (service times, say) and fits it.
///
/// # Errors
/// When the column cannot be read, or fewer than two of its values are positive.
pub fn fit_column(path: &Path, column: &str) -> Result<FitReport, FitError> {
    let values = read_column(path, column)?;
    fit_values(path, Some(column.to_owned()), &values)
}

fn fit_values(path: &Path, column: Option<String>, values: &[f64]) -> Result<FitReport, FitError> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|&v| v > 0.0).collect();
    if sorted.len() < 2 {
        return Err(FitError::TooFewPositive {
            path: path.to_owned(),
            count: values.len(),
            positive: sorted.len(),
        });
    }
    sorted.sort_by(f64::total_cmp);
    let fits: Vec<FamilyFit> =
        Family::ALL.iter().filter_map(|&family| FamilyFit::new(family, &sorted)).collect();
    let best = fits
        .iter()
        .min_by(|a, b| a.aic.total_cmp(&b.aic))
        .map_or(Family::Exponential, |fit| fit.fitted.family());
    Ok(FitReport {
        path: path.to_owned(),
        column,
        messages: values.len(),
        span_s: None,
        rate: None,
        rates: None,
        sample: SampleSummary::new(values),
        scaled: None,
        zeros: values.len() - sorted.len(),
        fits,
        best,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_survival_known_values() {
        // Q(1.3581) = 0.05 and Q(1.6276) = 0.01: the classical critical values.
        assert!((kolmogorov_survival(1.358_1) - 0.05).abs() < 1e-4);
        assert!((kolmogorov_survival(1.627_6) - 0.01).abs() < 1e-4);
        assert_eq!(kolmogorov_survival(0.1), 1.0);
    }

    #[test]
    fn a_perfect_grid_has_a_small_distance() {
        // The exponential quantiles at (i − 1/2)/n: D = 1/(2n) exactly.
        let n = 200;
        let sorted: Vec<f64> = (0..n).map(|i| -(1.0 - (f64::from(i) + 0.5) / f64::from(n)).ln()).collect();
        let goodness = Goodness::new(&Fitted::Exponential { rate: 1.0 }, &sorted);
        assert!((goodness.ks_d - 0.5 / f64::from(n)).abs() < 1e-12 && goodness.p_value > 0.99);
    }
}
