//! A small histogram of durations for the time series: one per source and interval, so it must
//! stay small where a [`DurationHistogram`](super::DurationHistogram) (a 1/1024 resolution,
//! tens of kilobytes for second-long latencies) would not.
//!
//! Buckets are 16 per power of two (each at most 6.25% of its lower end wide, so its middle is
//! within 3.2% of any duration in it), read off the float's exponent and top
//! four mantissa bits. Only the span between the smallest and the largest bucket recorded is
//! kept, so the memory is that span (a few hundred bytes for latencies spread over three
//! decades), whatever the number of durations. Recording is an index computation and an
//! increment; the span grows only when a duration falls below the smallest or above the largest
//! seen so far.

/// Shifting an f64's bits right by this keeps its sign, exponent and top four mantissa bits.
const SHIFT: u32 = 48;

/// The smallest duration with a bucket of its own, seconds (2^-30, about a nanosecond); below
/// it (zero included), durations share the first bucket.
const SMALLEST: f64 = 1.0 / (1u64 << 30) as f64;

/// The bucket of the longest durations (2^34 s, over 500 years, and beyond).
const LAST: u32 = 64 * 16;

/// The bucket of a duration in seconds.
#[inline]
fn bucket(seconds: f64) -> u32 {
    if seconds < SMALLEST || seconds.is_nan() {
        return 0;
    }
    let bucket = (seconds.to_bits() >> SHIFT) - (SMALLEST.to_bits() >> SHIFT);
    u32::try_from(bucket).map_or(LAST, |bucket| bucket.min(LAST))
}

/// The middle of a bucket, seconds.
fn middle(bucket: u32) -> f64 {
    let base = SMALLEST.to_bits() >> SHIFT;
    let low = f64::from_bits((base + u64::from(bucket)) << SHIFT);
    let high = f64::from_bits((base + u64::from(bucket) + 1) << SHIFT);
    if bucket == 0 { high / 2.0 } else { (low + high) / 2.0 }
}

/// Durations with their count, sum and a coarse histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct CoarseDurations {
    count: u64,
    sum: f64,
    /// The bucket of `counts[0]`.
    first: u32,
    /// Counts of buckets `first..first + counts.len()`.
    counts: Vec<u32>,
}

impl CoarseDurations {
    /// Records one duration in seconds.
    #[inline]
    pub(super) fn record(&mut self, seconds: f64) {
        let index = bucket(seconds);
        self.count += 1;
        self.sum += seconds;
        if self.counts.is_empty() {
            self.first = index;
            self.counts.push(1);
            return;
        }
        if index < self.first {
            self.grow_below(index);
        }
        let offset = (index - self.first) as usize;
        if offset >= self.counts.len() {
            self.counts.resize(offset + 1, 0);
        }
        self.counts[offset] = self.counts[offset].saturating_add(1);
    }

    /// Extends the span down to `index`.
    #[cold]
    fn grow_below(&mut self, index: u32) {
        let extra = (self.first - index) as usize;
        self.counts.splice(0..0, std::iter::repeat_n(0, extra));
        self.first = index;
    }

    /// The mean duration, seconds; `None` when none was recorded.
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    pub(super) fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// The `quantile` (in [0, 1]) in seconds, `None` when nothing was recorded: the middle of
    /// the bucket holding the ⌈q·n⌉-th smallest duration (within 3.2% of it), the rank rule of
    /// [`DurationHistogram::quantile`](super::DurationHistogram::quantile).
    pub(super) fn quantile(&self, quantile: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let rank = ((quantile.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        let mut offset = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            offset = i;
            seen += u64::from(count);
            if seen >= rank {
                break;
            }
        }
        let offset = u32::try_from(offset).expect("spans stay within LAST buckets");
        Some(middle(self.first + offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_middle_of_a_bucket_is_within_three_percent_of_its_durations() {
        for seconds in [1e-6, 3.7e-3, 0.1, 1.0, 2.5, 1234.5] {
            let middle = middle(bucket(seconds));
            assert!((middle - seconds).abs() / seconds <= 1.0 / 32.0, "{seconds} -> {middle}");
        }
        assert_eq!(bucket(0.0), 0);
        assert_eq!(bucket(-1.0), 0);
        assert_eq!(bucket(f64::NAN), 0);
        assert_eq!(bucket(1e300), LAST);
        // 1 s = 2^0 sits 30 powers of two above the first bucket: 30 × 16 buckets.
        assert_eq!(bucket(1.0), 30 * 16);
    }

    #[test]
    fn quantiles_follow_the_rank_rule_and_the_span_grows_both_ways() {
        let mut durations = CoarseDurations::default();
        assert_eq!(durations.quantile(0.99), None);
        assert_eq!(durations.mean(), None);
        // 1 s, then 0.01 s (below), then 100 s (above): 98 at 1 s, one each side.
        durations.record(1.0);
        durations.record(0.01);
        for _ in 0..97 {
            durations.record(1.0);
        }
        durations.record(100.0);
        assert_eq!(durations.count, 100);
        assert!((durations.mean().unwrap() - (98.0 + 0.01 + 100.0) / 100.0).abs() < 1e-12);
        // ⌈0.99·100⌉ = 99th smallest is 1 s; the 100th is 100 s; the 1st is 0.01 s.
        assert_eq!(durations.quantile(0.99), Some(middle(bucket(1.0))));
        assert_eq!(durations.quantile(1.0), Some(middle(bucket(100.0))));
        assert_eq!(durations.quantile(0.0), Some(middle(bucket(0.01))));
        assert_eq!(durations.counts.iter().map(|&c| u64::from(c)).sum::<u64>(), 100);
        // The span covers 0.01 s to 100 s: about 13.3 powers of two, 16 buckets each.
        assert!(durations.counts.len() < 14 * 16, "{}", durations.counts.len());
    }
}
