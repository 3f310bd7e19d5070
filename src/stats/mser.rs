//! MSER-5 (White 1997; White, Cobb and Spratt 2000): where the initial transient of an output
//! series ends.
//!
//! The raw series is averaged in batches of 5; for every candidate truncation `d` (in batches)
//! the marginal standard error statistic is MSER(d) = Σ_{j>d} (Z_j − Z̄_d)² / (k − d)², the
//! squared half-width of a confidence interval around the mean of what remains. Truncating more
//! removes bias but shrinks the sample; the minimum balances the two. A minimum in the second
//! half of the series means the run is too short for the transient to be told from the steady
//! state: the truncation is then the best one in the first half, flagged as unresolved.

/// Raw observations per batch mean.
pub const MSER_BATCH: usize = 5;

/// Candidates at the very end are left out: with a handful of points left the statistic is
/// erratic and tends to zero (Franklin and White 2008).
const TAIL: usize = 5;

/// The truncation MSER-5 chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncation {
    /// Raw observations to discard from the start (a multiple of the batch size).
    pub observations: usize,
    /// Whether the minimum was in the first half of the series; when false the run is too
    /// short and `observations` is only the best truncation in the first half.
    pub resolved: bool,
}

/// MSER-5 on `series`, raw observations in time order (an incomplete last batch is ignored).
/// A series of fewer than two batches is not truncated, and is unresolved.
#[must_use]
pub fn mser5(series: &[f64]) -> Truncation {
    let means: Vec<f64> =
        series.chunks_exact(MSER_BATCH).map(|batch| batch.iter().sum::<f64>() / MSER_BATCH as f64).collect();
    let (batches, resolved) = mser(&means);
    Truncation { observations: batches * MSER_BATCH, resolved }
}

/// MSER on batch means: the truncation in batches, and whether it was resolved (see the module
/// documentation).
fn mser(means: &[f64]) -> (usize, bool) {
    let k = means.len();
    if k < 2 {
        return (0, false);
    }
    let last = k.saturating_sub(TAIL).max(1).min(k - 1);
    let statistic: Vec<f64> = (0..last).map(|d| standard_error_squared(&means[d..])).collect();
    let smallest = |range: &[f64]| {
        let minimum = range.iter().copied().fold(f64::INFINITY, f64::min);
        // Ties (a constant series) and rounding go to the least truncation.
        let slack = 1e-9 * minimum + f64::EPSILON * statistic[0];
        range.iter().position(|&value| value <= minimum + slack).unwrap_or(0)
    };
    let best = smallest(&statistic);
    let half = k / 2;
    if best <= half { (best, true) } else { (smallest(&statistic[..=half.min(last - 1)]), false) }
}

/// Σ (Z_j − Z̄)² / n² over the remaining batch means.
#[allow(clippy::cast_precision_loss)] // series lengths are small
fn standard_error_squared(rest: &[f64]) -> f64 {
    let n = rest.len() as f64;
    let mean = rest.iter().sum::<f64>() / n;
    rest.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / (n * n)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::model::unit_interval;

    /// Uniform noise in [−1, 1) around `level(i)`.
    fn series(length: usize, level: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        (0..length).map(|i| level(i) + 2.0 * unit_interval(&mut rng) - 1.0).collect()
    }

    #[test]
    fn a_step_transient_is_cut_near_the_step() {
        // 200 observations at 10 above the steady level, then 800 at it: the truncation lands on
        // the step (observation 200) within one batch.
        let data = series(1000, |i| if i < 200 { 10.0 } else { 0.0 });
        let truncation = mser5(&data);
        assert!(truncation.resolved);
        assert!((195..=205).contains(&truncation.observations), "{truncation:?}");
    }

    #[test]
    fn a_stationary_series_is_cut_near_the_start() {
        let truncation = mser5(&series(1000, |_| 3.0));
        assert!(truncation.resolved);
        // Noise alone moves the minimum a little; far less than a tenth of the run.
        assert!(truncation.observations <= 100, "{truncation:?}");
        let constant = mser5(&[2.0; 100]);
        assert_eq!(constant, Truncation { observations: 0, resolved: true });
    }

    #[test]
    fn a_transient_longer_than_half_the_run_is_unresolved() {
        // A linear climb over 80% of the run: no steady state in the first half.
        let data = series(1000, |i| if i < 800 { i as f64 / 10.0 } else { 80.0 });
        let truncation = mser5(&data);
        assert!(!truncation.resolved, "{truncation:?}");
        assert!(truncation.observations <= 500);
        assert_eq!(mser5(&[1.0, 2.0, 3.0]), Truncation { observations: 0, resolved: false });
    }
}
