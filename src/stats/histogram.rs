//! Streaming histogram of durations with bounded relative error, for percentiles in O(1) memory
//! per metric.
//!
//! A log-linear layout in the manner of HDR histograms: durations are recorded as whole
//! nanoseconds; values below 2048 ns each have their own bucket, and every power-of-two range
//! above is split into 1024 equal buckets, so a bucket spans at most 1/1024 (under 0.1%) of its
//! values. Recording is a few integer operations with no call and no resize check beyond a
//! bounds test: it runs for every message on the engine's hot path.
//!
//! Each bucket's count is kept in two parts: its low 16 bits in a compact array, and the carries
//! out of them in a second array touched once every 65 536 records of a bucket. A message's
//! wait lands in a random bucket among thousands, so the compact array (a quarter the size of
//! one of u64 counts) is what keeps recording in cache.
//!
//! A replication's record keeps a [`SparseHistogram`], only the non-empty buckets: adding it
//! back into a `DurationHistogram` merges replications exactly.

use std::ops::AddAssign;

use super::sparse::SparseHistogram;

/// Durations are recorded as whole nanoseconds.
const NANOS_PER_SECOND: f64 = 1e9;

/// Buckets scanned as one block when looking for the non-empty ones.
const BLOCK: usize = 64;

/// Buckets per power-of-two range (2^10): the relative resolution is 1/1024.
const SUB_BUCKET_BITS: u32 = 10;
const SUB_BUCKETS: u64 = 1 << SUB_BUCKET_BITS;

/// A histogram of durations in seconds.
#[derive(Debug, Clone, Default)]
pub struct DurationHistogram {
    /// Each bucket's count modulo 2^16, grown on demand.
    low: Vec<u16>,
    /// Each bucket's count divided by 2^16, grown when a low count first wraps.
    high: Vec<u64>,
    /// Durations recorded.
    total: u64,
}

/// Shifting an f64's bits right by 42 keeps its biased exponent and the top 10 bits of its
/// mantissa: 2^k·(1 + m/1024 + …) gives (1023 + k)·1024 + m. Bucket k − 9 ranges start at 2^k.
const FLOAT_BUCKET_OFFSET: u64 = (1023 + 9) * SUB_BUCKETS;

/// The bucket of u64::MAX nanoseconds, where longer durations saturate.
pub(super) const LAST_BUCKET: u64 = (63 - 9) * SUB_BUCKETS + (SUB_BUCKETS - 1);

/// The bucket of a duration in nanoseconds: below 2048 ns its whole nanoseconds; above, read
/// off the float's exponent and top mantissa bits, which is the whole nanoseconds shifted right
/// until 11 bits remain, without a float-to-integer conversion.
#[inline]
fn bucket(nanos: f64) -> usize {
    if nanos >= 2.0 * SUB_BUCKETS as f64 {
        ((nanos.to_bits() >> 42) - FLOAT_BUCKET_OFFSET).min(LAST_BUCKET) as usize
    } else {
        // NaN and negative durations count as zero.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // within 0..2048
        let whole = nanos.max(0.0) as u32;
        whole as usize
    }
}

/// The smallest value in nanoseconds of a bucket, and its width.
fn bucket_range(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < 2 * SUB_BUCKETS {
        return (index, 1);
    }
    let shift = index / SUB_BUCKETS - 1;
    let mantissa = index - shift * SUB_BUCKETS;
    (mantissa << shift, 1 << shift)
}

impl DurationHistogram {
    /// An empty histogram.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one duration in seconds (negative or NaN durations are recorded as zero; beyond
    /// 584 years they saturate).
    #[inline]
    pub fn record(&mut self, seconds: f64) {
        let index = bucket(seconds * NANOS_PER_SECOND);
        if index >= self.low.len() {
            self.low.resize(index + 1, 0);
        }
        let low = &mut self.low[index];
        *low = low.wrapping_add(1);
        if *low == 0 {
            self.carry(index, 1);
        }
        self.total += 1;
    }

    /// Adds `carries` units of 2^16 to a bucket's count.
    #[cold]
    fn carry(&mut self, index: usize, carries: u64) {
        if index >= self.high.len() {
            self.high.resize(index + 1, 0);
        }
        self.high[index] += carries;
    }

    /// The non-empty buckets with their counts, in bucket order. Most buckets are empty: blocks
    /// of them are skipped with one test.
    fn buckets(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.low
            .chunks(BLOCK)
            .enumerate()
            .filter(move |&(block, lows)| {
                lows.iter().fold(0, |any, &low| any | low) != 0
                    || self.carries_within(block * BLOCK, lows.len())
            })
            .flat_map(move |(block, lows)| {
                lows.iter().enumerate().map(move |(offset, &low)| {
                    let index = block * BLOCK + offset;
                    let high = self.high.get(index).copied().unwrap_or(0);
                    (index, (high << 16) + u64::from(low))
                })
            })
            .filter(|&(_, count)| count > 0)
    }

    /// Whether a bucket of `start..start + len` has carries.
    fn carries_within(&self, start: usize, len: usize) -> bool {
        self.high.get(start..).is_some_and(|high| high.iter().take(len).any(|&carries| carries > 0))
    }

    /// Adds `count` durations to a bucket.
    fn add(&mut self, index: usize, count: u64) {
        if index >= self.low.len() {
            self.low.resize(index + 1, 0);
        }
        let sum = u64::from(self.low[index]) + (count & 0xFFFF);
        #[allow(clippy::cast_possible_truncation)] // the low 16 bits, by design
        let low = sum as u16;
        self.low[index] = low;
        let carries = (sum >> 16) + (count >> 16);
        if carries > 0 {
            self.carry(index, carries);
        }
        self.total += count;
    }

    /// Its non-empty buckets, the form a replication's record keeps.
    #[must_use]
    pub fn sparse(&self) -> SparseHistogram {
        SparseHistogram::from_buckets(self.buckets())
    }

    /// Number of durations recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Forgets every recorded duration.
    pub fn clear(&mut self) {
        self.low.fill(0);
        self.high.fill(0);
        self.total = 0;
    }

    /// The `quantile` (in [0, 1]) in seconds, or `None` when nothing was recorded: the middle of
    /// the bucket holding the ⌈q·n⌉-th smallest duration (within 0.05% of it).
    #[must_use]
    pub fn quantile(&self, quantile: f64) -> Option<f64> {
        quantile_of(self.buckets(), self.total, quantile)
    }

    /// The bucket the `quantile` lies in (see [`DurationHistogram::quantile`]).
    pub(super) fn quantile_bucket(&self, quantile: f64) -> Option<usize> {
        quantile_bucket(self.buckets(), self.total, quantile)
    }
}

/// The `quantile` of a histogram given as its non-empty `buckets` in order, holding `total`
/// durations (see [`DurationHistogram::quantile`]): shared by the dense and sparse forms, so that
/// both give the same bits.
pub(super) fn quantile_of(
    buckets: impl Iterator<Item = (usize, u64)>,
    total: u64,
    quantile: f64,
) -> Option<f64> {
    quantile_bucket(buckets, total, quantile).map(bucket_middle)
}

/// The bucket holding the ⌈q·n⌉-th smallest of `total` durations, given the non-empty
/// `buckets` in order; `None` when there is none.
pub(super) fn quantile_bucket(
    buckets: impl Iterator<Item = (usize, u64)>,
    total: u64,
    quantile: f64,
) -> Option<usize> {
    if total == 0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let rank = ((quantile.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    let mut index = 0;
    for (bucket, count) in buckets {
        index = bucket;
        seen += count;
        if seen >= rank {
            break;
        }
    }
    Some(index)
}

/// The middle of a bucket, in seconds: the value a quantile in it reads.
pub(super) fn bucket_middle(index: usize) -> f64 {
    let (low, width) = bucket_range(index);
    #[allow(clippy::cast_precision_loss)] // nanosecond counts below 2^53 are exact
    let middle = low as f64 + (width as f64 - 1.0) / 2.0;
    middle / NANOS_PER_SECOND
}

impl AddAssign<&DurationHistogram> for DurationHistogram {
    fn add_assign(&mut self, other: &DurationHistogram) {
        for (index, count) in other.buckets() {
            self.add(index, count);
        }
    }
}

impl AddAssign<&SparseHistogram> for DurationHistogram {
    fn add_assign(&mut self, other: &SparseHistogram) {
        for (index, count) in other.buckets() {
            self.add(index, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_integers_without_gaps() {
        let mut expected_low = 0;
        for index in 0..(40 * SUB_BUCKETS as usize) {
            let (low, width) = bucket_range(index);
            assert_eq!(low, expected_low, "bucket {index}");
            assert_eq!(bucket(low as f64), index);
            assert_eq!(bucket((low + width - 1) as f64), index);
            // Every bucket spans at most 1/1024 of its smallest value (above 2048 ns).
            assert!(low < 2048 || width * SUB_BUCKETS <= low, "bucket {index}: {low} + {width}");
            expected_low = low + width;
        }
    }

    #[test]
    fn out_of_range_durations_saturate() {
        assert_eq!(bucket(-1.0), 0);
        assert_eq!(bucket(f64::NAN), 0);
        assert_eq!(bucket(0.5), 0);
        // Fractions of a nanosecond are dropped, as by integer truncation.
        assert_eq!(bucket(2049.9), bucket(2048.0));
        assert_eq!(bucket(1999.9), 1999);
        let (low, width) = bucket_range(LAST_BUCKET as usize);
        assert_eq!(low + (width - 1), u64::MAX);
        assert_eq!(bucket(f64::INFINITY), LAST_BUCKET as usize);
        assert_eq!(bucket(1e300), LAST_BUCKET as usize);
    }

    #[test]
    fn quantiles_are_within_the_stated_precision() {
        let mut histogram = DurationHistogram::new();
        for i in 1..=1000 {
            histogram.record(f64::from(i) * 1e-3);
        }
        // The 1000 values 1ms..1s: the 500th is 0.5 s, the 990th 0.99 s, each within 0.1%.
        let p50 = histogram.quantile(0.5).unwrap();
        let p99 = histogram.quantile(0.99).unwrap();
        assert!((p50 - 0.5).abs() <= 0.5e-3, "{p50}");
        assert!((p99 - 0.99).abs() <= 0.99e-3, "{p99}");
        assert_eq!(histogram.count(), 1000);
        // Below 2 µs every nanosecond has its own bucket.
        let mut small = DurationHistogram::new();
        small.record(1.5e-6);
        assert_eq!(small.quantile(1.0), Some(1.5e-6));
    }

    #[test]
    fn counts_past_the_compact_width_carry_exactly() {
        // 70 000 records in one bucket wrap its 16-bit count once; merging two such histograms
        // carries again. Every count must survive exactly.
        let mut a = DurationHistogram::new();
        for _ in 0..70_000 {
            a.record(1.0);
        }
        a.record(3.0);
        assert_eq!(a.buckets().map(|(_, count)| count).max(), Some(70_000));
        let mut b = a.clone();
        b += &a;
        assert_eq!(b.buckets().map(|(_, count)| count).max(), Some(140_000));
        assert_eq!(b.count(), 140_002);
        // The 140 000 values of 1 s lie below rank ⌈0.9999·140 002⌉; the two of 3 s above it.
        assert!((b.quantile(0.9999).unwrap() - 1.0).abs() < 1e-3);
        assert!((b.quantile(1.0).unwrap() - 3.0).abs() < 3e-3);
        // Exactly 2^16 records leave a compact count of 0 beside one carry: the bucket is found.
        let mut c = DurationHistogram::new();
        for _ in 0..65_536 {
            c.record(2.0);
        }
        assert_eq!(c.buckets().collect::<Vec<_>>(), [(bucket(2e9), 65_536)]);
        assert!((c.quantile(0.5).unwrap() - 2.0).abs() < 2e-3);
    }

    #[test]
    fn empty_histograms_have_no_quantile_and_merge_by_addition() {
        let mut a = DurationHistogram::new();
        assert_eq!(a.quantile(0.5), None);
        let mut b = DurationHistogram::new();
        b.record(2.0);
        b.record(-1.0);
        a += &b;
        assert_eq!(a.count(), 2);
        assert_eq!(a.quantile(0.0), Some(0.0));
        assert!((a.quantile(1.0).unwrap() - 2.0).abs() < 2e-3);
    }

    #[test]
    fn the_sparse_form_adds_back_exactly() {
        let mut histogram = DurationHistogram::new();
        for i in 0..70_000 {
            histogram.record(1.0);
            histogram.record(f64::from(i) * 1e-7);
        }
        let sparse = histogram.sparse();
        assert_eq!(sparse.count(), histogram.count());
        let mut twice = DurationHistogram::new();
        twice += &sparse;
        twice += &sparse;
        histogram += &histogram.clone();
        assert!(twice.buckets().eq(histogram.buckets()));
        assert_eq!(twice.count(), 280_000);
        assert_eq!(twice.sparse(), histogram.sparse());
        assert_eq!(twice.quantile(0.999), histogram.quantile(0.999));
    }
}
