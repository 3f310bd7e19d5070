//! The per-replication record: everything one replication measured, complete and serialisable.
//! It is the one input of every reduction ([`Summary::new`](super::Summary::new)), so records
//! written to `replications.jsonl` and read back, or gathered from several processes, reduce to
//! exactly what the process that ran them reduced.
//!
//! # Format
//! One JSON object per line ([JSON Lines](https://jsonlines.org)), one line per replication.
//! Metric values are objects from metric key to value (`null` where undefined), every key
//! present; histograms are runs of bucket counts (see [`SparseHistogram`]). Floats are written in their shortest form that reads back to the
//! same bits.

use std::fmt;
use std::io::{self, BufRead, Write};
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::sparse::SparseHistogram;
use super::timeseries::Series;
use crate::model::{
    ExchangeMetric, MessageClassMetric, Metric, MetricValues, NodeClassMetric, NodeMetric, SourceMetric,
};

/// Counts of one node over the observation window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeCounts {
    /// Messages offered (admitted or dropped).
    pub arrivals: u64,
    /// Messages that completed service.
    pub departures: u64,
    /// Messages dropped at a full queue.
    pub drops: u64,
    /// Messages that expired (TTL) at the head of the queue.
    pub expired: u64,
    /// Messages held when the window opened.
    pub in_system_start: u32,
    /// Messages held when the window closed.
    pub in_system_end: u32,
}

/// The waits and sojourns of the messages that completed service at a node (or those of one
/// class there), seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitHistograms {
    /// Time from arrival to the start of service.
    pub waits: SparseHistogram,
    /// Time from arrival to the end of service.
    pub sojourns: SparseHistogram,
}

/// The histograms behind one node's percentiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeHistograms {
    /// Every message that completed service.
    pub all: WaitHistograms,
    /// End-to-end latencies of the messages and copies that left the system after this node.
    pub subscriber_latencies: SparseHistogram,
    /// Per priority class, as [`NodeReplication::priority_classes`].
    pub priority_classes: Vec<WaitHistograms>,
    /// Per message class, as [`NodeReplication::message_classes`].
    pub message_classes: Vec<WaitHistograms>,
}

/// One node's results in one replication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeReplication {
    /// Every node metric.
    pub metrics: MetricValues<NodeMetric>,
    /// Per priority class (0 the highest), for nodes with a priority discipline; else empty.
    pub priority_classes: Vec<MetricValues<NodeClassMetric>>,
    /// Per message class, when the network has several; else empty.
    pub message_classes: Vec<MetricValues<NodeClassMetric>>,
    /// The raw counts behind them.
    pub counts: NodeCounts,
    /// The durations behind the percentiles.
    pub histograms: NodeHistograms,
}

/// The end-to-end latencies of one source's messages, seconds, in three disjoint parts: the
/// latency metrics cover `latencies` and `copy_latencies` (every delivery), the `all_latency`
/// metrics `latencies` and `multicast_latencies` (every message delivered whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceHistograms {
    /// Messages never copied, delivered.
    pub latencies: SparseHistogram,
    /// Multicast copies, each delivered.
    pub copy_latencies: SparseHistogram,
    /// Multicast messages whose copies were all delivered: the time to the last one.
    pub multicast_latencies: SparseHistogram,
}

/// One source's results in one replication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceReplication {
    /// Every source metric.
    pub metrics: MetricValues<SourceMetric>,
    /// Messages and copies delivered (left the system) in the window.
    pub delivered: u64,
    /// Messages and copies dropped (at full queues or as unroutable) in the window.
    pub dropped: u64,
    /// The latencies behind the percentiles.
    pub histograms: SourceHistograms,
}

/// One exchange's results in one replication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeReplication {
    /// Every exchange metric.
    pub metrics: MetricValues<ExchangeMetric>,
    /// Messages routed in the window.
    pub routed: u64,
    /// Messages that matched no binding.
    pub unroutable: u64,
}

/// Everything one replication measured: one line of `replications.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationResult {
    /// Replication index, from 0.
    pub index: u32,
    /// Events processed, warm-up included.
    pub events: u64,
    /// Length of the observation window, seconds.
    pub observed_s: f64,
    /// Warm-up discarded before the window, seconds (chosen by MSER-5 with `warmup = "auto"`).
    #[serde(default)]
    pub warmup_s: f64,
    /// With `warmup = "auto"`: the run was too short for MSER-5 to find the end of the initial
    /// transient (its minimum lay in the second half), so `warmup_s` is only the best guess.
    #[serde(default)]
    pub warmup_unresolved: bool,
    /// Whether the run stopped early at the cap on messages in the system.
    pub stopped_early: bool,
    /// Whether the run stopped early because every sender was blocked (deadlock).
    pub deadlocked: bool,
    /// Per node, in network order.
    pub nodes: Vec<NodeReplication>,
    /// Per source, in network order.
    pub sources: Vec<SourceReplication>,
    /// Per exchange, in network order.
    pub exchanges: Vec<ExchangeReplication>,
    /// Per message class network-wide, when the network has several; else empty.
    pub message_classes: Vec<MetricValues<MessageClassMetric>>,
    /// The end-to-end latencies of each message class's deliveries, seconds, as `classes`.
    pub message_class_latencies: Vec<SparseHistogram>,
    /// The time series, with `sample_every` (absent otherwise, so that records without one are
    /// written as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
}

/// Why replication records could not be read.
#[derive(Debug, Error)]
pub enum RecordError {
    /// The records could not be read.
    #[error("cannot read the replication records at line {line}")]
    Io {
        /// The line being read, from 1.
        line: usize,
        /// The I/O error.
        source: io::Error,
    },
    /// A line is not a replication record.
    #[error("line {line} is not a replication record")]
    Corrupt {
        /// The line, from 1.
        line: usize,
        /// What the JSON parser found wrong.
        source: serde_json::Error,
    },
}

/// Writes `records` as JSON Lines, one line per record.
///
/// # Errors
/// When `writer` fails.
pub fn write_records(mut writer: impl Write, records: &[ReplicationResult]) -> io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut writer, record)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()
}

/// Reads records written by [`write_records`], one per line, in file order.
///
/// # Errors
/// When `reader` fails, or a line is not a complete record (the error names the line).
pub fn read_records(reader: impl BufRead) -> Result<Vec<ReplicationResult>, RecordError> {
    reader
        .lines()
        .enumerate()
        .map(|(i, text)| {
            let line = i + 1;
            let text = text.map_err(|source| RecordError::Io { line, source })?;
            serde_json::from_str(&text).map_err(|source| RecordError::Corrupt { line, source })
        })
        .collect()
}

impl<M: Metric> Serialize for MetricValues<M> {
    /// An object from each metric's key to its value, in report order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(M::ALL.len()))?;
        for (metric, value) in self.iter() {
            map.serialize_entry(metric.key(), &value)?;
        }
        map.end()
    }
}

impl<'de, M: Metric> Deserialize<'de> for MetricValues<M> {
    /// Reads an object naming every metric of the family exactly once.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ValuesVisitor(PhantomData))
    }
}

/// Reads the metric values of one family.
struct ValuesVisitor<M>(PhantomData<M>);

impl<'de, M: Metric> Visitor<'de> for ValuesVisitor<M> {
    type Value = MetricValues<M>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object from metric key to value or null")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = MetricValues::default();
        let mut seen = vec![false; M::ALL.len()];
        while let Some(key) = map.next_key::<String>()? {
            let metric =
                M::from_key(&key).ok_or_else(|| de::Error::custom(format!("unknown metric '{key}'")))?;
            if std::mem::replace(&mut seen[metric.index()], true) {
                return Err(de::Error::custom(format!("metric '{key}' appears twice")));
            }
            values.set(metric, map.next_value()?);
        }
        match M::ALL.iter().find(|metric| !seen[metric.index()]) {
            Some(missing) => Err(de::Error::custom(format!("metric '{}' is missing", missing.key()))),
            None => Ok(values),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::experiment::run_replication;
    use crate::scenario::{Overrides, load_with};
    use crate::stats::{DurationHistogram, NodeSeries, SourceSeries};

    /// One short replication of a shipped scenario.
    fn record(file: &str, index: u32) -> ReplicationResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
        let overrides = Overrides { duration_s: Some(60.0), warmup_s: Some(5.0), ..Overrides::default() };
        let scenario = load_with(&path, &overrides).expect("a valid shipped scenario");
        run_replication(&scenario.network, &scenario.settings, index)
    }

    #[test]
    fn records_round_trip_through_json_lines_exactly() {
        // Priority classes and an exchange (iot-pipeline); message classes (order-service).
        let records =
            [record("iot-pipeline.toml", 0), record("iot-pipeline.toml", 1), record("order-service.toml", 2)];
        assert!(records[0].nodes.iter().any(|node| !node.histograms.priority_classes.is_empty()));
        assert!(!records[0].exchanges.is_empty() && !records[2].message_class_latencies.is_empty());
        let mut bytes = Vec::new();
        write_records(&mut bytes, &records).unwrap();
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), records.len());
        let back = read_records(bytes.as_slice()).unwrap();
        assert_eq!(back, records);
        // Bit for bit, not merely equal: the reduction must see the very same floats.
        let bits = |r: &ReplicationResult| -> Vec<Option<u64>> {
            r.nodes.iter().flat_map(|node| node.metrics.iter().map(|(_, v)| v.map(f64::to_bits))).collect()
        };
        assert_eq!(back.iter().map(bits).collect::<Vec<_>>(), records.iter().map(bits).collect::<Vec<_>>());
    }

    #[test]
    fn the_histograms_are_those_behind_the_percentiles() {
        let record = record("iot-pipeline.toml", 0);
        let dense = |sparse: &SparseHistogram| {
            let mut histogram = DurationHistogram::new();
            histogram += sparse;
            histogram
        };
        for node in &record.nodes {
            let sojourns = dense(&node.histograms.all.sojourns);
            assert_eq!(sojourns.count(), node.counts.departures);
            assert_eq!(sojourns.quantile(0.99), node.metrics.get(NodeMetric::SojournP99));
            assert_eq!(
                dense(&node.histograms.all.waits).quantile(0.5),
                node.metrics.get(NodeMetric::WaitP50)
            );
            for (histograms, values) in node.histograms.priority_classes.iter().zip(&node.priority_classes) {
                assert_eq!(dense(&histograms.waits).quantile(0.99), values.get(NodeClassMetric::WaitP99));
            }
        }
        for source in &record.sources {
            let mut every_copy = dense(&source.histograms.latencies);
            every_copy += &source.histograms.copy_latencies;
            assert_eq!(every_copy.count(), source.delivered);
            assert_eq!(every_copy.quantile(0.95), source.metrics.get(SourceMetric::LatencyP95));
        }
    }

    #[test]
    fn a_series_round_trips_and_its_absence_writes_nothing() {
        let plain = record("mm1.toml", 0);
        let mut bytes = Vec::new();
        write_records(&mut bytes, std::slice::from_ref(&plain)).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("series"), "no key without a series");
        let mut sampled = plain;
        let node = NodeSeries {
            in_system: vec![1.5, 0.1 + 0.2],
            in_queue: vec![0.5, 0.0],
            busy: vec![1.0, 0.3],
            throughput: vec![0.9, 1.1],
            drop_rate: vec![0.0, 0.0],
            oldest_age: vec![2.25, 0.0],
        };
        let source =
            SourceSeries { latency_mean: vec![Some(1.0 / 3.0), None], latency_p99: vec![Some(4.0), None] };
        sampled.series = Some(Series {
            every_s: 10.0,
            times_s: vec![10.0, 15.0],
            nodes: vec![node],
            sources: vec![source],
        });
        let mut bytes = Vec::new();
        write_records(&mut bytes, std::slice::from_ref(&sampled)).unwrap();
        assert_eq!(read_records(bytes.as_slice()).unwrap(), [sampled]);
    }

    #[test]
    fn a_corrupt_line_is_named() {
        let mut bytes = Vec::new();
        write_records(&mut bytes, &[record("mm1.toml", 0)]).unwrap();
        let good = bytes.clone();
        bytes.extend_from_slice(&good[..good.len() / 2]);
        bytes.push(b'\n');
        let error = read_records(bytes.as_slice()).unwrap_err();
        assert!(matches!(error, RecordError::Corrupt { line: 2, .. }), "{error:?}");
        assert_eq!(error.to_string(), "line 2 is not a replication record");
        // A metric left out, or one unknown, is refused too.
        let text = String::from_utf8(good).unwrap();
        for broken in [
            text.replacen("\"throughput\":", "\"thruput\":", 1),
            text.replacen("\"arrival_rate\":", "\"throughput\":", 1),
        ] {
            assert!(
                matches!(read_records(broken.as_bytes()), Err(RecordError::Corrupt { line: 1, .. })),
                "{broken}"
            );
        }
    }
}
