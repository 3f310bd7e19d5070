//! Per-replication statistics, streamed in O(1) memory per metric: time integrals of the node
//! states, counters, sums and histograms. Observation covers the window from the end of warm-up to
//! the end of the run; per-message figures count messages that complete inside it.

use super::histogram::DurationHistogram;
use crate::engine::{Observer, RunEnd};
use crate::model::{MetricValues, NodeMetric, SourceMetric};
use crate::model::{Network, NodeId, SourceId};

/// Counts of one node over the observation window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounts {
    /// Messages offered (admitted or dropped).
    pub arrivals: u64,
    /// Messages that completed service.
    pub departures: u64,
    /// Messages dropped at a full channel.
    pub drops: u64,
    /// Messages held when the window opened.
    pub in_system_start: u32,
    /// Messages held when the window closed.
    pub in_system_end: u32,
}

/// One node's results in one replication.
#[derive(Debug, Clone)]
pub struct NodeReplication {
    /// Every node metric.
    pub metrics: MetricValues<NodeMetric>,
    /// The raw counts behind them.
    pub counts: NodeCounts,
}

/// One source's results in one replication.
#[derive(Debug, Clone)]
pub struct SourceReplication {
    /// Every source metric.
    pub metrics: MetricValues<SourceMetric>,
    /// Messages delivered (left the system) in the window.
    pub delivered: u64,
    /// Messages dropped in the window.
    pub dropped: u64,
}

/// Everything one replication measured.
#[derive(Debug, Clone)]
pub struct ReplicationResult {
    /// Replication index, from 0.
    pub index: u32,
    /// Events processed, warm-up included.
    pub events: u64,
    /// Length of the observation window, seconds.
    pub observed_s: f64,
    /// Whether the run stopped early at the cap on messages in the system.
    pub stopped_early: bool,
    /// Per node, in network order.
    pub nodes: Vec<NodeReplication>,
    /// Per source, in network order.
    pub sources: Vec<SourceReplication>,
}

#[derive(Debug, Clone)]
struct NodeStats {
    servers: Option<u32>,
    in_system: u32,
    busy: u32,
    last_change: f64,
    area_in_system: f64,
    area_busy: f64,
    counts: NodeCounts,
    wait_sum: f64,
    sojourn_sum: f64,
    waits: DurationHistogram,
    sojourns: DurationHistogram,
}

#[derive(Debug, Clone, Default)]
struct SourceStats {
    delivered: u64,
    dropped: u64,
    latency_sum: f64,
    latencies: DurationHistogram,
}

/// The statistics observer of one replication.
#[derive(Debug, Clone)]
pub struct Collector {
    window_start: f64,
    nodes: Vec<NodeStats>,
    sources: Vec<SourceStats>,
}

impl Collector {
    /// An empty collector for `network`.
    #[must_use]
    pub fn new(network: &Network) -> Self {
        let nodes = network
            .nodes()
            .iter()
            .map(|node| NodeStats {
                servers: node.servers.count(),
                in_system: 0,
                busy: 0,
                last_change: 0.0,
                area_in_system: 0.0,
                area_busy: 0.0,
                counts: NodeCounts::default(),
                wait_sum: 0.0,
                sojourn_sum: 0.0,
                waits: DurationHistogram::new(),
                sojourns: DurationHistogram::new(),
            })
            .collect();
        Self { window_start: 0.0, nodes, sources: vec![SourceStats::default(); network.sources().len()] }
    }

    /// Closes the window at the run's end and computes every metric.
    #[must_use]
    pub fn finish(mut self, index: u32, end: RunEnd) -> ReplicationResult {
        let window = end.end_s - self.window_start;
        for node in &mut self.nodes {
            node.advance(end.end_s);
            node.counts.in_system_end = node.in_system;
        }
        ReplicationResult {
            index,
            events: end.events,
            observed_s: window,
            stopped_early: end.stopped_early,
            nodes: self.nodes.iter().map(|node| node.result(window)).collect(),
            sources: self.sources.iter().map(|source| source.result(window)).collect(),
        }
    }
}

impl NodeStats {
    /// Integrates the current state from the last change up to `now`.
    #[inline]
    fn advance(&mut self, now: f64) {
        let dt = now - self.last_change;
        self.area_in_system += f64::from(self.in_system) * dt;
        self.area_busy += f64::from(self.busy) * dt;
        self.last_change = now;
    }

    fn reset(&mut self, now: f64) {
        self.advance(now);
        self.area_in_system = 0.0;
        self.area_busy = 0.0;
        self.counts = NodeCounts { in_system_start: self.in_system, ..NodeCounts::default() };
        self.wait_sum = 0.0;
        self.sojourn_sum = 0.0;
        self.waits.clear();
        self.sojourns.clear();
    }

    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn result(&self, window: f64) -> NodeReplication {
        let counts = self.counts;
        let per_second = |x: f64| (window > 0.0).then(|| x / window);
        let per_departure = |x: f64| (counts.departures > 0).then(|| x / counts.departures as f64);
        let mut metrics = MetricValues::default();
        metrics.set(NodeMetric::ArrivalRate, per_second(counts.arrivals as f64));
        metrics.set(NodeMetric::Throughput, per_second(counts.departures as f64));
        // Undefined with infinitely many workers: mean_in_system counts the busy ones.
        let utilization = self.servers.and_then(|c| per_second(self.area_busy / f64::from(c)));
        metrics.set(NodeMetric::Utilization, utilization);
        metrics.set(NodeMetric::MeanInSystem, per_second(self.area_in_system));
        metrics.set(NodeMetric::MeanInQueue, per_second(self.area_in_system - self.area_busy));
        metrics.set(NodeMetric::MeanWait, per_departure(self.wait_sum));
        metrics.set(NodeMetric::MeanSojourn, per_departure(self.sojourn_sum));
        metrics.set(NodeMetric::WaitP50, self.waits.quantile(0.50));
        metrics.set(NodeMetric::WaitP95, self.waits.quantile(0.95));
        metrics.set(NodeMetric::WaitP99, self.waits.quantile(0.99));
        metrics.set(NodeMetric::SojournP50, self.sojourns.quantile(0.50));
        metrics.set(NodeMetric::SojournP95, self.sojourns.quantile(0.95));
        metrics.set(NodeMetric::SojournP99, self.sojourns.quantile(0.99));
        metrics.set(
            NodeMetric::DropProbability,
            (counts.arrivals > 0).then(|| counts.drops as f64 / counts.arrivals as f64),
        );
        let growth = f64::from(self.in_system) - f64::from(counts.in_system_start);
        metrics.set(NodeMetric::QueueGrowthRate, per_second(growth));
        NodeReplication { metrics, counts }
    }
}

impl SourceStats {
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn result(&self, window: f64) -> SourceReplication {
        let delivered = self.delivered as f64;
        let ended = delivered + self.dropped as f64;
        let mut metrics = MetricValues::default();
        metrics.set(SourceMetric::LatencyMean, (self.delivered > 0).then(|| self.latency_sum / delivered));
        metrics.set(SourceMetric::LatencyP50, self.latencies.quantile(0.50));
        metrics.set(SourceMetric::LatencyP95, self.latencies.quantile(0.95));
        metrics.set(SourceMetric::LatencyP99, self.latencies.quantile(0.99));
        metrics.set(SourceMetric::Throughput, (window > 0.0).then(|| delivered / window));
        metrics.set(SourceMetric::DeliveredFraction, (ended > 0.0).then(|| delivered / ended));
        SourceReplication { metrics, delivered: self.delivered, dropped: self.dropped }
    }
}

impl Observer for Collector {
    fn observation_start(&mut self, now: f64) {
        self.window_start = now;
        for node in &mut self.nodes {
            node.reset(now);
        }
        for source in &mut self.sources {
            *source =
                SourceStats { latencies: std::mem::take(&mut source.latencies), ..SourceStats::default() };
            source.latencies.clear();
        }
    }

    #[inline]
    fn node_state(&mut self, node: NodeId, now: f64, in_system: u32, busy: u32) {
        let stats = &mut self.nodes[node.index()];
        stats.advance(now);
        stats.in_system = in_system;
        stats.busy = busy;
    }

    #[inline]
    fn arrival(&mut self, node: NodeId) {
        self.nodes[node.index()].counts.arrivals += 1;
    }

    #[inline]
    fn drop(&mut self, node: NodeId, source: SourceId) {
        self.nodes[node.index()].counts.drops += 1;
        self.sources[source.index()].dropped += 1;
    }

    #[inline]
    fn departure(&mut self, node: NodeId, wait: f64, sojourn: f64) {
        let stats = &mut self.nodes[node.index()];
        stats.counts.departures += 1;
        stats.wait_sum += wait;
        stats.sojourn_sum += sojourn;
        stats.waits.record(wait);
        stats.sojourns.record(sojourn);
    }

    #[inline]
    fn delivery(&mut self, source: SourceId, latency: f64) {
        let stats = &mut self.sources[source.index()];
        stats.delivered += 1;
        stats.latency_sum += latency;
        stats.latencies.record(latency);
    }
}
