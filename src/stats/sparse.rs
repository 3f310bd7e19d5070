//! The non-empty buckets of a [`DurationHistogram`](super::DurationHistogram): the compact form a
//! replication's record keeps and writes, from which percentiles merge exactly.
//!
//! # Format
//! A list of runs of adjacent buckets, each `[first bucket, count, count, ...]`, in bucket order
//! (`[]` when empty). A run may hold a few empty buckets (a count of 0) where that is shorter
//! than starting a new run. A one-second run of M/M/1 writes `[[19566,1]]`.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::histogram::{LAST_BUCKET, quantile_of};

/// Empty buckets inside a run beyond which the writer starts a new run: a "0," each against
/// "],[" and a bucket number.
const LONGEST_GAP: usize = 4;

/// A histogram of durations as its non-empty buckets and their counts. Add it into a
/// [`DurationHistogram`](super::DurationHistogram) to merge or to read percentiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SparseHistogram {
    /// `(bucket, count)` with counts above zero, in increasing bucket order.
    buckets: Vec<(u32, u64)>,
}

impl SparseHistogram {
    /// The heap bytes its buckets take.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(u32, u64)>()
    }

    /// The histogram of these non-empty buckets, given in increasing order.
    pub(super) fn from_buckets(buckets: impl Iterator<Item = (usize, u64)>) -> Self {
        let buckets = buckets
            .map(|(index, count)| (u32::try_from(index).expect("bucket indices fit in 32 bits"), count))
            .collect();
        Self { buckets }
    }

    /// The non-empty buckets and their counts, in bucket order.
    pub(super) fn buckets(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.buckets.iter().map(|&(index, count)| (index as usize, count))
    }

    /// Number of durations recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&(_, count)| count).sum()
    }

    /// Durations recorded in buckets up to `bucket`, inclusive.
    pub(super) fn count_through(&self, bucket: usize) -> u64 {
        self.buckets().take_while(|&(index, _)| index <= bucket).map(|(_, count)| count).sum()
    }

    /// The `quantile` in seconds, exactly as the dense histogram's
    /// ([`DurationHistogram::quantile`](super::DurationHistogram::quantile)), but reading only
    /// the non-empty buckets.
    #[must_use]
    pub fn quantile(&self, quantile: f64) -> Option<f64> {
        quantile_of(self.buckets(), self.count(), quantile)
    }

    /// The runs of the file format: where a bucket follows the previous one within
    /// [`LONGEST_GAP`] empty buckets, it continues its run.
    fn runs(&self) -> Vec<Vec<u64>> {
        let mut runs: Vec<Vec<u64>> = Vec::new();
        let mut next = 0;
        for &(index, count) in &self.buckets {
            let index = u64::from(index);
            match runs.last_mut() {
                Some(run) if index - next <= LONGEST_GAP as u64 => {
                    run.extend(std::iter::repeat_n(0, (index - next) as usize));
                    run.push(count);
                }
                _ => runs.push(vec![index, count]),
            }
            next = index + 1;
        }
        runs
    }

    /// The histogram of runs read from a file, or why they are not one.
    fn from_runs(runs: Vec<Vec<u64>>) -> Result<Self, String> {
        let mut buckets = Vec::new();
        let mut next = 0;
        for run in runs {
            let Some((&first, counts)) = run.split_first().filter(|(_, counts)| !counts.is_empty()) else {
                return Err("a run needs its first bucket and at least one count".to_owned());
            };
            let last = first.saturating_add(counts.len() as u64 - 1);
            if first < next || last > LAST_BUCKET {
                return Err(format!(
                    "the run of buckets {first}..={last} overlaps another or passes {LAST_BUCKET}"
                ));
            }
            let indexed = (first..).zip(counts).filter(|&(_, &count)| count > 0);
            #[allow(clippy::cast_possible_truncation)] // at most LAST_BUCKET
            buckets.extend(indexed.map(|(index, &count)| (index as u32, count)));
            next = last + 1;
        }
        match buckets.iter().try_fold(0_u64, |total, &(_, count)| total.checked_add(count)) {
            Some(_) => Ok(Self { buckets }),
            None => Err("the counts add up beyond 2^64".to_owned()),
        }
    }
}

impl Serialize for SparseHistogram {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let runs = self.runs();
        let mut list = serializer.serialize_seq(Some(runs.len()))?;
        for run in &runs {
            list.serialize_element(run)?;
        }
        list.end()
    }
}

impl<'de> Deserialize<'de> for SparseHistogram {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(RunsVisitor)
    }
}

/// Reads a histogram from its runs.
struct RunsVisitor;

impl<'de> Visitor<'de> for RunsVisitor {
    type Value = SparseHistogram;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a list of runs [first bucket, count, ...]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut runs = Vec::new();
        while let Some(run) = seq.next_element::<Vec<u64>>()? {
            runs.push(run);
        }
        SparseHistogram::from_runs(runs).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::DurationHistogram;

    #[test]
    fn histograms_round_trip_through_json_exactly() {
        let mut histogram = DurationHistogram::new();
        for i in 0..70_000 {
            histogram.record(1.0);
            histogram.record(f64::from(i) * 1e-7);
        }
        histogram.record(2e4);
        let sparse = histogram.sparse();
        let json = serde_json::to_string(&sparse).unwrap();
        let back: SparseHistogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sparse);
        assert_eq!(back.count(), histogram.count());
        let mut dense = DurationHistogram::new();
        dense += &back;
        assert_eq!(dense.quantile(0.999), histogram.quantile(0.999));
        assert_eq!(dense.sparse(), sparse);
        for q in [0.0, 0.3, 0.5, 0.95, 0.99, 0.999_99, 1.0] {
            assert_eq!(sparse.quantile(q), histogram.quantile(q), "{q}");
        }
        assert_eq!(SparseHistogram::default().quantile(0.5), None);
    }

    #[test]
    fn runs_hold_short_gaps_and_break_at_long_ones() {
        let mut histogram = DurationHistogram::new();
        // 1500 ns and 1501 ns adjacent, 1504 ns after 2 empty buckets, 1600 ns far away.
        for nanos in [1500.0, 1500.0, 1501.0, 1504.0, 1600.0] {
            histogram.record(nanos * 1e-9);
        }
        let json = serde_json::to_string(&histogram.sparse()).unwrap();
        assert_eq!(json, "[[1500,2,1,0,0,1],[1600,1]]");
        assert_eq!(serde_json::to_string(&DurationHistogram::new().sparse()).unwrap(), "[]");
        // Runs written otherwise (zeros at the end, one bucket per run) read back the same.
        let other: SparseHistogram = serde_json::from_str("[[1500,2],[1501,1,0],[1504,1],[1600,1]]").unwrap();
        assert_eq!(other, histogram.sparse());
    }

    #[test]
    fn malformed_runs_are_refused() {
        for json in ["[[5,1],[5,1]]", "[[7,1],[3,1]]", "[[2]]", "[[]]", "[[99999999,1]]", "{}", "[[1,-1]]"] {
            assert!(serde_json::from_str::<SparseHistogram>(json).is_err(), "{json}");
        }
    }
}
