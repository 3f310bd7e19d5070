//! Streaming histogram of durations with bounded relative error, for percentiles in O(1) memory
//! per metric.

use std::ops::AddAssign;

use hdrhistogram::Histogram;

/// Durations are recorded as whole nanoseconds.
const NANOS_PER_SECOND: f64 = 1e9;

/// Three significant digits: every recorded value is kept within 0.1% relative error.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of durations in seconds (an HDR histogram of nanoseconds that resizes itself).
#[derive(Debug, Clone)]
pub struct DurationHistogram {
    inner: Histogram<u64>,
}

impl Default for DurationHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl DurationHistogram {
    /// An empty histogram.
    #[must_use]
    pub fn new() -> Self {
        let inner = Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid precision");
        Self { inner }
    }

    /// Records one duration in seconds (negative or NaN durations are recorded as zero).
    #[inline]
    pub fn record(&mut self, seconds: f64) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // saturating by design
        let nanos = (seconds * NANOS_PER_SECOND) as u64;
        if self.inner.record(nanos).is_err() {
            // Only beyond the largest resizable range (centuries): keep the count, clamp the value.
            self.inner.saturating_record(nanos);
        }
    }

    /// Number of durations recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.inner.len()
    }

    /// Forgets every recorded duration.
    pub fn clear(&mut self) {
        self.inner.reset();
    }

    /// The `quantile` (in [0, 1]) in seconds, or `None` when nothing was recorded.
    #[must_use]
    pub fn quantile(&self, quantile: f64) -> Option<f64> {
        if self.inner.is_empty() {
            return None;
        }
        #[allow(clippy::cast_precision_loss)] // nanosecond counts below 2^53 are exact
        let nanos = self.inner.value_at_quantile(quantile) as f64;
        Some(nanos / NANOS_PER_SECOND)
    }
}

impl AddAssign<&DurationHistogram> for DurationHistogram {
    fn add_assign(&mut self, other: &DurationHistogram) {
        self.inner.add(&other.inner).expect("auto-resizing histograms always add");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_the_stated_precision() {
        let mut histogram = DurationHistogram::new();
        for i in 1..=1000 {
            histogram.record(f64::from(i) * 1e-3);
        }
        // The 1000 values 1ms..1s: p50 is 0.5s, p99 0.99s, each within 0.1%.
        let p50 = histogram.quantile(0.5).unwrap();
        let p99 = histogram.quantile(0.99).unwrap();
        assert!((p50 - 0.5).abs() <= 0.5e-3, "{p50}");
        assert!((p99 - 0.99).abs() <= 0.99e-3, "{p99}");
        assert_eq!(histogram.count(), 1000);
    }

    #[test]
    fn empty_histograms_have_no_quantile_and_merge_by_addition() {
        let mut a = DurationHistogram::new();
        assert_eq!(a.quantile(0.5), None);
        let mut b = DurationHistogram::new();
        b.record(2.0);
        a += &b;
        assert_eq!(a.count(), 1);
        assert!((a.quantile(1.0).unwrap() - 2.0).abs() < 2e-3);
    }
}
