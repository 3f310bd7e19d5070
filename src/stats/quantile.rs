//! Quantiles of a handful of values (one per replication).

/// The `q` quantile (in [0, 1]) of `sorted` (ascending, not empty), interpolated linearly
/// between order statistics: with h = (n − 1)·q, x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎), counting
/// from 0 (Hyndman and Fan's definition 7, the default of R and NumPy). The median of an even
/// number of values is the mean of the middle two.
#[must_use]
pub(super) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // a count of replications
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0 ≤ h < n
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (h - h.floor()) * (sorted[above] - sorted[below])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        // 1, 2, 4, 8: h = 3 × 0.1 = 0.3 → 1 + 0.3 × 1 = 1.3; h = 2.7 → 4 + 0.7 × 4 = 6.8.
        let values = [1.0, 2.0, 4.0, 8.0];
        assert!((quantile_sorted(&values, 0.1) - 1.3).abs() < 1e-12);
        assert!((quantile_sorted(&values, 0.9) - 6.8).abs() < 1e-12);
        assert_eq!(quantile_sorted(&values, 0.5), 3.0);
        assert_eq!(quantile_sorted(&values, 0.0), 1.0);
        assert_eq!(quantile_sorted(&values, 1.0), 8.0);
        assert_eq!(quantile_sorted(&[5.0], 0.9), 5.0);
    }
}
