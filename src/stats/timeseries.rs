//! The time series of one replication (`sample_every`): per interval of simulated time, per node
//! its time-averaged occupancy, its rates and the age of its oldest waiting message, and per
//! source the latency of the messages created in the interval.
//!
//! Intervals run from time 0, warm-up included (the transient is the point), and end at
//! `min(k·every, horizon)`: the last may be shorter. The warm-up's reset of the steady-state
//! statistics does not touch them. A replication that stops early (overload cap, deadlock)
//! records only the intervals it finished.
//!
//! Recording costs nothing per event beyond the collector's own bookkeeping, and one index and
//! increment per delivery (a small histogram per source and interval, which allocates only when
//! its latencies first spread beyond the range seen so far): a node's interval figures are
//! differences of the collector's running integrals and counts between two samples, so only
//! [`sample`](SeriesRecorder::sample) loops over the nodes. Memory is proportional to intervals ×
//! (nodes + sources), never to messages.

use serde::{Deserialize, Serialize};

use super::coarse::CoarseDurations;
use crate::model::{Metric, Network, Settings};

/// The quantile reported as `latency_p99`.
const P99: f64 = 0.99;

/// One node's series, one value per recorded interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSeries {
    /// Time-averaged messages held (waiting, in service, or blocked).
    pub in_system: Vec<f64>,
    /// Time-averaged messages held but not on a server: `in_system − busy`.
    pub in_queue: Vec<f64>,
    /// Time-averaged busy servers (serving, or holding a finished message blocked downstream).
    pub busy: Vec<f64>,
    /// Messages that completed service, per second.
    pub throughput: Vec<f64>,
    /// Messages dropped at the full queue, per second (expired messages are not counted).
    pub drop_rate: Vec<f64>,
    /// At the interval's end, how long the oldest waiting message has waited, seconds (0 when
    /// none waits).
    pub oldest_age: Vec<f64>,
}

/// One source's series, one value per recorded interval: the latencies of every delivery
/// (multicast copies each) of the messages it created in the interval, whenever delivered;
/// `None` where none was delivered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSeries {
    /// Mean end-to-end latency, seconds.
    pub latency_mean: Vec<Option<f64>>,
    /// 99th percentile of the end-to-end latency, seconds (within 3.2%: a coarse histogram).
    pub latency_p99: Vec<Option<f64>>,
}

/// The time series of one replication.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// The length of an interval, seconds.
    pub every_s: f64,
    /// The end of each recorded interval, seconds.
    pub times_s: Vec<f64>,
    /// Per node, in network order.
    pub nodes: Vec<NodeSeries>,
    /// Per source, in network order.
    pub sources: Vec<SourceSeries>,
}

/// Where a series metric is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesScope {
    /// A node.
    Node,
    /// A source: its messages end to end.
    Source,
}

impl SeriesScope {
    /// Its name in timeseries.csv.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Source => "source",
        }
    }
}

/// A metric of the time series (the `metric` column of timeseries.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesMetric {
    /// [`NodeSeries::in_system`].
    InSystem,
    /// [`NodeSeries::in_queue`].
    InQueue,
    /// [`NodeSeries::busy`].
    Busy,
    /// [`NodeSeries::throughput`].
    Throughput,
    /// [`NodeSeries::drop_rate`].
    DropRate,
    /// [`NodeSeries::oldest_age`].
    OldestAge,
    /// [`SourceSeries::latency_mean`].
    LatencyMean,
    /// [`SourceSeries::latency_p99`].
    LatencyP99,
}

impl SeriesMetric {
    /// The node metrics, in report order.
    pub const NODE: [Self; 6] =
        [Self::InSystem, Self::InQueue, Self::Busy, Self::Throughput, Self::DropRate, Self::OldestAge];

    /// The source metrics, in report order.
    pub const SOURCE: [Self; 2] = [Self::LatencyMean, Self::LatencyP99];

    /// Where it is measured.
    #[must_use]
    pub fn scope(self) -> SeriesScope {
        if Self::SOURCE.contains(&self) { SeriesScope::Source } else { SeriesScope::Node }
    }

    /// Its value in interval `k` of entity `entity` (a node or a source, as its scope) of
    /// `series`; `None` when not recorded.
    #[must_use]
    pub fn value(self, series: &Series, entity: usize, k: usize) -> Option<f64> {
        let node = || series.nodes.get(entity);
        let source = || series.sources.get(entity);
        match self {
            Self::InSystem => node().and_then(|n| n.in_system.get(k).copied()),
            Self::InQueue => node().and_then(|n| n.in_queue.get(k).copied()),
            Self::Busy => node().and_then(|n| n.busy.get(k).copied()),
            Self::Throughput => node().and_then(|n| n.throughput.get(k).copied()),
            Self::DropRate => node().and_then(|n| n.drop_rate.get(k).copied()),
            Self::OldestAge => node().and_then(|n| n.oldest_age.get(k).copied()),
            Self::LatencyMean => source().and_then(|s| s.latency_mean.get(k).copied().flatten()),
            Self::LatencyP99 => source().and_then(|s| s.latency_p99.get(k).copied().flatten()),
        }
    }
}

impl Metric for SeriesMetric {
    const ALL: &'static [Self] = &[
        Self::InSystem,
        Self::InQueue,
        Self::Busy,
        Self::Throughput,
        Self::DropRate,
        Self::OldestAge,
        Self::LatencyMean,
        Self::LatencyP99,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::InSystem => "in_system",
            Self::InQueue => "in_queue",
            Self::Busy => "busy",
            Self::Throughput => "throughput",
            Self::DropRate => "drop_rate",
            Self::OldestAge => "oldest_age",
            Self::LatencyMean => "latency_mean",
            Self::LatencyP99 => "latency_p99",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Self::InSystem | Self::InQueue | Self::Busy => "",
            Self::Throughput | Self::DropRate => "/s",
            Self::OldestAge | Self::LatencyMean | Self::LatencyP99 => "s",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A node's running totals, as the collector keeps them: time integrals since the last reset
/// (message-seconds) and counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct NodeTotals {
    /// ∫ messages held dt.
    pub(super) area_in_system: f64,
    /// ∫ busy servers dt.
    pub(super) area_busy: f64,
    /// Messages that completed service.
    pub(super) departures: u64,
    /// Messages dropped at the full queue.
    pub(super) drops: u64,
}

/// The totals of a node at the last sample, shifted by every reset since, so that the totals
/// now minus these are what happened in the interval.
#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    area_in_system: f64,
    area_busy: f64,
    departures: u64,
    drops: u64,
}

/// Records a replication's time series; part of the [`Collector`](super::Collector).
#[derive(Debug, Clone)]
pub(super) struct SeriesRecorder {
    every: f64,
    /// `1 / every`: a product on the hot path instead of a division.
    per_interval: f64,
    /// The intervals of the whole horizon.
    intervals: usize,
    last_sample: f64,
    times: Vec<f64>,
    marks: Vec<Marks>,
    nodes: Vec<NodeSeries>,
    /// Per source, per interval of creation.
    latencies: Vec<Vec<CoarseDurations>>,
}

impl SeriesRecorder {
    /// A recorder for `network` when `settings` ask for a time series.
    #[must_use]
    pub(super) fn new(network: &Network, settings: &Settings) -> Option<Self> {
        let every = settings.sample_every().filter(|every| *every > 0.0)?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a count of intervals
        let intervals = ((settings.horizon_s() / every).ceil() as usize).max(1);
        let node = NodeSeries {
            in_system: Vec::with_capacity(intervals),
            in_queue: Vec::with_capacity(intervals),
            busy: Vec::with_capacity(intervals),
            throughput: Vec::with_capacity(intervals),
            drop_rate: Vec::with_capacity(intervals),
            oldest_age: Vec::with_capacity(intervals),
        };
        Some(Self {
            every,
            per_interval: every.recip(),
            intervals,
            last_sample: 0.0,
            times: Vec::with_capacity(intervals),
            marks: vec![Marks::default(); network.nodes().len()],
            nodes: vec![node; network.nodes().len()],
            latencies: vec![vec![CoarseDurations::default(); intervals]; network.sources().len()],
        })
    }

    /// A message of `source` created at `born` was delivered `latency` seconds later.
    #[inline]
    pub(super) fn delivery(&mut self, source: usize, born: f64, latency: f64) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // born ≥ 0
        let k = ((born * self.per_interval) as usize).min(self.intervals - 1);
        self.latencies[source][k].record(latency);
    }

    /// The collector is about to reset `node`'s totals, which are `before`: the marks follow,
    /// so the interval's figures are unaffected.
    pub(super) fn rebase(&mut self, node: usize, before: NodeTotals) {
        let marks = &mut self.marks[node];
        marks.area_in_system -= before.area_in_system;
        marks.area_busy -= before.area_busy;
        marks.departures = marks.departures.wrapping_sub(before.departures);
        marks.drops = marks.drops.wrapping_sub(before.drops);
    }

    /// Closes the interval ending at `now`, given each node's totals and the arrival time of
    /// its oldest waiting message. An interval of no length (a rounding artefact at the
    /// horizon) is skipped.
    pub(super) fn sample(
        &mut self,
        now: f64,
        totals: impl Iterator<Item = NodeTotals>,
        oldest_waiting: &[Option<f64>],
    ) {
        let length = now - self.last_sample;
        if length <= 0.0 || self.times.len() == self.intervals {
            return;
        }
        debug_assert_eq!(oldest_waiting.len(), self.nodes.len(), "one oldest arrival per node");
        for (((series, marks), totals), oldest) in
            self.nodes.iter_mut().zip(&mut self.marks).zip(totals).zip(oldest_waiting)
        {
            let in_system = (totals.area_in_system - marks.area_in_system) / length;
            let busy = (totals.area_busy - marks.area_busy) / length;
            let per_second = |count: u64| count_f64(count) / length;
            series.in_system.push(in_system);
            series.busy.push(busy);
            series.in_queue.push(in_system - busy);
            series.throughput.push(per_second(totals.departures.wrapping_sub(marks.departures)));
            series.drop_rate.push(per_second(totals.drops.wrapping_sub(marks.drops)));
            series.oldest_age.push(oldest.map_or(0.0, |arrived| now - arrived));
            *marks = Marks {
                area_in_system: totals.area_in_system,
                area_busy: totals.area_busy,
                departures: totals.departures,
                drops: totals.drops,
            };
        }
        self.times.push(now);
        self.last_sample = now;
    }

    /// The series of the intervals recorded.
    #[must_use]
    pub(super) fn finish(self) -> Series {
        let recorded = self.times.len();
        let sources = self
            .latencies
            .iter()
            .map(|intervals| {
                let recorded = &intervals[..recorded];
                SourceSeries {
                    latency_mean: recorded.iter().map(CoarseDurations::mean).collect(),
                    latency_p99: recorded.iter().map(|durations| durations.quantile(P99)).collect(),
                }
            })
            .collect();
        Series { every_s: self.every, times_s: self.times, nodes: self.nodes, sources }
    }
}

#[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
fn count_f64(count: u64) -> f64 {
    count as f64
}

#[cfg(test)]
mod tests;
