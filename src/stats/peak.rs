//! The peak of a node's queue over time and the time it takes to drain, read off a curve of
//! interval means of the messages it holds (`in_system` of the time series).
//!
//! # Definitions
//! - The **peak** is the highest interval mean, at the end of its interval (the first such
//!   interval on a tie).
//! - The **pre-peak level** is the median of the interval means before the peak's interval: the
//!   level the queue held before the load rose, robust to the rise itself as long as the calm
//!   lasted longer than the rise. With no interval before the peak it is 0 (every run starts
//!   empty).
//! - The **drain time** runs from the end of the peak's interval to the end of the first later
//!   interval whose mean is back within 10% of the pre-peak level (at most 1.1 times it);
//!   `None` when none is: not drained by the end of the run. Both ends are interval ends, so it
//!   is resolved to one interval.

use super::quantile::quantile_sorted;

/// How far above the pre-peak level a queue still counts as not drained: 10%.
pub const DRAINED_WITHIN: f64 = 0.10;

/// A rise of a node's queue and its return to the pre-peak level (see the module's
/// definitions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Excursion {
    /// The highest interval mean of messages held.
    pub peak: f64,
    /// The end of the peak's interval, seconds.
    pub peak_time_s: f64,
    /// The median interval mean before the peak, messages.
    pub pre_peak: f64,
    /// Seconds from the peak until the curve is back within 10% of the pre-peak level; `None`
    /// when it never is before the end of the run.
    pub drain_s: Option<f64>,
}

impl Excursion {
    /// The excursion of `curve`, whose interval `k` ends at `times_s[k]`; `None` for an empty
    /// curve.
    #[must_use]
    pub fn of(curve: &[f64], times_s: &[f64]) -> Option<Self> {
        let (at, peak) = curve
            .iter()
            .copied()
            .enumerate()
            .reduce(|best, next| if next.1 > best.1 { next } else { best })?;
        let mut before = curve[..at].to_vec();
        before.sort_by(f64::total_cmp);
        let pre_peak = if before.is_empty() { 0.0 } else { quantile_sorted(&before, 0.5) };
        let peak_time_s = times_s[at];
        let threshold = pre_peak * (1.0 + DRAINED_WITHIN);
        let drained = curve.iter().zip(times_s).skip(at + 1).find(|&(&level, _)| level <= threshold);
        Some(Self { peak, peak_time_s, pre_peak, drain_s: drained.map(|(_, &time)| time - peak_time_s) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_peaks_and_drains_to_within_ten_percent_of_the_calm() {
        // Calm at 4, 5, 4, a rise through 12 to 20 at t = 50, then 9, 4.3.
        let curve = [4.0, 5.0, 4.0, 12.0, 20.0, 9.0, 4.3, 4.0];
        let times: Vec<f64> = (1..=8).map(|k| 10.0 * f64::from(k)).collect();
        let excursion = Excursion::of(&curve, &times).unwrap();
        assert_eq!(excursion.peak, 20.0);
        assert_eq!(excursion.peak_time_s, 50.0);
        assert_eq!(excursion.pre_peak, 4.5); // median of 4, 5, 4, 12
        // 4.3 ≤ 1.1 × 4.5 = 4.95 at t = 70: 20 s after the peak.
        assert_eq!(excursion.drain_s, Some(20.0));
    }

    #[test]
    fn a_queue_still_high_at_the_end_is_not_drained() {
        let excursion = Excursion::of(&[1.0, 1.0, 3.0, 6.0, 5.0], &[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((excursion.peak, excursion.peak_time_s, excursion.pre_peak), (6.0, 4.0, 1.0));
        assert_eq!(excursion.drain_s, None);
        // A peak in the first interval: the level before is the empty start, 0.
        let first = Excursion::of(&[3.0, 1.0, 0.0], &[1.0, 2.0, 2.5]).unwrap();
        assert_eq!((first.pre_peak, first.drain_s), (0.0, Some(1.5)));
        assert_eq!(Excursion::of(&[], &[]), None);
        // Ties: the first highest interval is the peak.
        assert_eq!(Excursion::of(&[2.0, 7.0, 7.0, 2.0], &[1.0, 2.0, 3.0, 4.0]).unwrap().peak_time_s, 2.0);
    }
}
