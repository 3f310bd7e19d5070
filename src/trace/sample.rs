//! A sample of durations in order (a trace's gaps, or a column of service times): mean, cv and
//! lag-1 autocorrelation.

use serde::Serialize;

/// What the lag-1 autocorrelation says about consecutive values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Correlation {
    /// Inside the 95% band: consistent with independent values (a renewal process).
    Independent,
    /// Above the band: long values follow long ones (bursts cluster).
    Positive,
    /// Below the band: long and short values alternate.
    Negative,
}

/// The lag-1 autocorrelation of a sample, with its approximate 95% band under independence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lag1 {
    /// r₁ = Σ (xᵢ − x̄)(xᵢ₊₁ − x̄) / Σ (xᵢ − x̄)².
    pub r: f64,
    /// 1.96/√n: an iid sample's r₁ lies within ±band with probability about 95%.
    pub band: f64,
    /// What r₁ says.
    pub correlation: Correlation,
}

/// Mean, cv and lag-1 autocorrelation of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleSummary {
    /// The number of values.
    pub count: usize,
    /// The mean, seconds.
    pub mean_s: f64,
    /// The coefficient of variation: sample standard deviation (n − 1) / mean.
    pub cv: f64,
    /// The lag-1 autocorrelation, when the values are not all equal.
    pub lag1: Option<Lag1>,
}

impl SampleSummary {
    /// The summary of `values`, in their order (at least two).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn new(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let squares: f64 = values.iter().map(|x| (x - mean).powi(2)).sum();
        let cv = (squares / (n - 1.0)).sqrt() / mean;
        let lag1 = (squares > 0.0).then(|| {
            let products: f64 = values.windows(2).map(|pair| (pair[0] - mean) * (pair[1] - mean)).sum();
            let r = products / squares;
            let band = 1.96 / n.sqrt();
            let correlation = if r > band {
                Correlation::Positive
            } else if r < -band {
                Correlation::Negative
            } else {
                Correlation::Independent
            };
            Lag1 { r, band, correlation }
        });
        Self { count: values.len(), mean_s: mean, cv, lag1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_values_are_negatively_correlated() {
        let values: Vec<f64> = (0..100).map(|i| if i % 2 == 0 { 1.0 } else { 3.0 }).collect();
        let summary = SampleSummary::new(&values);
        assert!((summary.mean_s - 2.0).abs() < 1e-12);
        // r₁ = −99/100 exactly: 99 products of −1 over 100 squares of 1.
        let lag1 = summary.lag1.unwrap();
        assert!((lag1.r + 0.99).abs() < 1e-12 && lag1.correlation == Correlation::Negative);
        assert!((lag1.band - 0.196).abs() < 1e-12);
        assert_eq!(SampleSummary::new(&[1.0, 1.0]).lag1, None);
    }
}
