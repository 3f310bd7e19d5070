//! A trace's arrival rate per window, and whether it is constant (a dispersion test).

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The level of the stationarity test: a constant rate is rejected when p < 0.05.
pub const STATIONARITY_LEVEL: f64 = 0.05;

/// One window of a trace: the messages arriving in it and their rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateWindow {
    /// Start, seconds from the trace's start.
    pub start_s: f64,
    /// End, seconds from the trace's start.
    pub end_s: f64,
    /// Messages arriving in [start, end) (the last window also takes its end).
    pub count: usize,
    /// count / (end − start), per second.
    pub rate: f64,
}

/// The rate per window, and a chi-square dispersion test of the counts against a constant rate.
///
/// # Formula
/// With N messages over the span T and windows of lengths Lᵢ, a constant rate expects
/// eᵢ = N·Lᵢ/T in window i. The count of a window of a stationary renewal process has variance
/// about c²·eᵢ, c the gaps' cv (1 for Poisson arrivals): so X² = Σ (nᵢ − eᵢ)²/(c²eᵢ) is about χ²
/// with (windows − 1) degrees of freedom, and p = P(χ² >= X²). A varying rate over-disperses the
/// counts (large X², small p); bursty but stationary gaps do not, since c² absorbs their
/// burstiness. c² is floored at 1/min eᵢ, as a window's edges alone make its count vary by
/// about one message. (The gaps' cv also holds any change of rate, which makes the test
/// conservative.)
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stationarity {
    /// The window length, seconds (the last window takes the remainder of the span, between half
    /// and one and a half windows).
    pub window_s: f64,
    /// Each window, in time order.
    pub windows: Vec<RateWindow>,
    /// c², the squared cv of the gaps the counts' variance is scaled by.
    pub variance_factor: f64,
    /// X².
    pub chi_square: f64,
    /// windows − 1.
    pub degrees_of_freedom: usize,
    /// P(χ² >= X²) under a constant rate.
    pub p_value: f64,
    /// Whether a constant rate is accepted at [`STATIONARITY_LEVEL`].
    pub stationary: bool,
}

impl Stationarity {
    /// The windows of `window_s` seconds over `times` (non-decreasing, from 0, spanning more
    /// than one and a half windows, so that there are at least two), whose gaps have the
    /// coefficient of variation `cv`.
    #[must_use]
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn new(times: &[f64], window_s: f64, cv: f64) -> Self {
        let span = times.last().copied().unwrap_or(0.0);
        let count = ((span / window_s).round() as usize).max(2);
        let mut counts = vec![0_usize; count];
        for time in times {
            counts[((time / window_s) as usize).min(count - 1)] += 1;
        }
        let total = times.len() as f64;
        let windows: Vec<RateWindow> = counts
            .iter()
            .enumerate()
            .map(|(index, &n)| {
                let start_s = index as f64 * window_s;
                let end_s = if index + 1 == count { span } else { start_s + window_s };
                RateWindow { start_s, end_s, count: n, rate: n as f64 / (end_s - start_s) }
            })
            .collect();
        let expected: Vec<f64> = windows.iter().map(|w| total * (w.end_s - w.start_s) / span).collect();
        let fewest = expected.iter().copied().fold(f64::INFINITY, f64::min);
        let variance_factor = (cv * cv).max(1.0 / fewest);
        let chi_square = windows
            .iter()
            .zip(&expected)
            .map(|(window, expected)| (window.count as f64 - expected).powi(2) / (variance_factor * expected))
            .sum();
        let degrees_of_freedom = count - 1;
        let p_value = ChiSquared::new(degrees_of_freedom as f64).map_or(f64::NAN, |chi| chi.sf(chi_square));
        Self {
            window_s,
            windows,
            variance_factor,
            chi_square,
            degrees_of_freedom,
            p_value,
            stationary: p_value >= STATIONARITY_LEVEL,
        }
    }
}

/// A readable window for a span of `span_s` seconds: the round duration (1, 2 or 5 times a power
/// of ten seconds below a minute; 1, 2, 5, 10, 15, 20 or 30 minutes; 1, 2, 3, 4, 6 or 12 hours;
/// whole days) nearest to a tenth of the span, on a log scale.
#[must_use]
pub fn readable_window(span_s: f64) -> f64 {
    let target = span_s / 10.0;
    let exponent = target.log10().floor();
    let decimal = [1.0, 2.0, 5.0, 10.0].map(|m| m * 10f64.powf(exponent));
    let clock = [
        60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0, 7200.0, 10800.0, 14400.0, 21600.0, 43200.0,
    ];
    let days =
        [86_400.0 * (target / 86_400.0).floor().max(1.0), 86_400.0 * (target / 86_400.0).ceil().max(1.0)];
    let candidates = decimal.into_iter().filter(|&c| c < 60.0).chain(clock).chain(days);
    candidates.min_by(|a, b| (a / target).ln().abs().total_cmp(&(b / target).ln().abs())).unwrap_or(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_windows() {
        assert_eq!(readable_window(3600.0), 300.0);
        assert_eq!(readable_window(86_400.0), 7200.0);
        assert_eq!(readable_window(10.0), 1.0);
        assert_eq!(readable_window(0.35), 0.05);
        assert_eq!(readable_window(30.0 * 86_400.0), 3.0 * 86_400.0);
        assert_eq!(readable_window(700.0), 60.0);
    }

    #[test]
    fn counts_per_window() {
        // Times 0..=9 with windows of 2.5: the last window (7.5 to 9) takes 8 and 9.
        let times: Vec<f64> = (0..10).map(f64::from).collect();
        let test = Stationarity::new(&times, 2.5, 0.0);
        let counts: Vec<usize> = test.windows.iter().map(|w| w.count).collect();
        assert_eq!(counts, [3, 2, 3, 2]);
        assert_eq!(test.windows[3].end_s, 9.0);
        assert_eq!(test.degrees_of_freedom, 3);
        // Regular gaps (cv 0): c² is floored at 1/min eᵢ = 1/(10·1.5/9).
        assert!((test.variance_factor - 0.6).abs() < 1e-12);
    }
}
