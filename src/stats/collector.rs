//! Per-replication statistics, streamed in O(1) memory per metric: time integrals of the node
//! states, counters, sums and histograms. Observation covers the window from the end of warm-up to
//! the end of the run (from time 0 when an overloaded run reaches the cap on messages during its
//! warm-up); per-message figures count messages that complete inside it. With
//! `sample_every`, a [`SeriesRecorder`] beside them records the time series, warm-up included.

use std::borrow::Cow;

use super::histogram::DurationHistogram;
use super::record::{
    ExchangeReplication, NodeCounts, NodeHistograms, NodeReplication, ReplicationResult, SourceHistograms,
    SourceReplication, WaitHistograms,
};
use super::timeseries::{NodeTotals, SeriesRecorder};
use crate::engine::{MessageEnd, NodeState, Observer, RunEnd};
use crate::model::{
    Discipline, ExchangeId, ExchangeMetric, MessageClassId, MessageClassMetric, MetricValues, Network,
    NodeClassMetric, NodeId, NodeMetric, Settings, SourceId, SourceMetric,
};

/// Durations with their count and sum (for the mean) and histogram (for percentiles).
#[derive(Debug, Clone, Default)]
struct Durations {
    count: u64,
    sum: f64,
    histogram: DurationHistogram,
}

impl Durations {
    #[inline]
    fn record(&mut self, seconds: f64) {
        self.count += 1;
        self.sum += seconds;
        self.histogram.record(seconds);
    }

    fn clear(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.histogram.clear();
    }

    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    fn quantile(&self, quantile: f64) -> Option<f64> {
        self.histogram.quantile(quantile)
    }

    /// Both sets of durations together; borrowed when one of them is empty, which spares a copy
    /// of the histogram (most sources have no multicast copies).
    fn merged<'a>(&'a self, other: &'a Durations) -> Cow<'a, Durations> {
        if other.count == 0 {
            return Cow::Borrowed(self);
        }
        if self.count == 0 {
            return Cow::Borrowed(other);
        }
        let mut both = self.clone();
        both.absorb(other);
        Cow::Owned(both)
    }

    /// Adds `other`'s durations to these.
    fn absorb(&mut self, other: &Durations) {
        self.count += other.count;
        self.sum += other.sum;
        self.histogram += &other.histogram;
    }
}

/// The servers of a node whose number follows a schedule, integrated over time.
#[derive(Debug, Clone, Copy)]
struct Staffing {
    servers: u32,
    last_change: f64,
    /// Server-seconds available since the window opened.
    area: f64,
}

impl Staffing {
    fn advance(&mut self, now: f64) {
        self.area += f64::from(self.servers) * (now - self.last_change);
        self.last_change = now;
    }
}

#[derive(Debug, Clone)]
struct NodeStats {
    servers: Option<u32>,
    /// With a servers schedule: the servers available over time, which divide utilisation.
    staffing: Option<Staffing>,
    state: NodeState,
    last_change: f64,
    area_in_system: f64,
    area_busy: f64,
    area_blocked: f64,
    counts: NodeCounts,
    waits: Durations,
    sojourns: Durations,
    /// End-to-end latencies of the messages and copies that left the system after this node.
    subscriber_latencies: Durations,
    /// Waits and sojourns per priority class, for nodes with a priority discipline.
    classes: Vec<ClassStats>,
    /// Waits and sojourns per message class, when the network has several.
    message_classes: Vec<ClassStats>,
    /// Messages completing service that waited for a server.
    waited: u64,
}

#[derive(Debug, Clone, Default)]
struct ClassStats {
    waits: Durations,
    sojourns: Durations,
}

impl ClassStats {
    #[inline]
    fn record(&mut self, wait: f64, sojourn: f64) {
        self.waits.record(wait);
        self.sojourns.record(sojourn);
    }

    fn clear(&mut self) {
        self.waits.clear();
        self.sojourns.clear();
    }

    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn result(&self, window: f64) -> MetricValues<NodeClassMetric> {
        let mut values = MetricValues::default();
        values.set(NodeClassMetric::Throughput, (window > 0.0).then(|| self.sojourns.count as f64 / window));
        values.set(NodeClassMetric::MeanWait, self.waits.mean());
        values.set(NodeClassMetric::MeanSojourn, self.sojourns.mean());
        values.set(NodeClassMetric::WaitP99, self.waits.quantile(0.99));
        values.set(NodeClassMetric::SojournP99, self.sojourns.quantile(0.99));
        values
    }

    fn histograms(&self) -> WaitHistograms {
        WaitHistograms { waits: self.waits.histogram.sparse(), sojourns: self.sojourns.histogram.sparse() }
    }
}

/// The delivered messages of one message class, network-wide.
#[derive(Debug, Clone, Default)]
struct MessageClassStats {
    latencies: Durations,
}

impl MessageClassStats {
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn result(&self, window: f64) -> MetricValues<MessageClassMetric> {
        let latencies = &self.latencies;
        let mut values = MetricValues::default();
        values.set(MessageClassMetric::Throughput, (window > 0.0).then(|| latencies.count as f64 / window));
        values.set(MessageClassMetric::LatencyMean, latencies.mean());
        values.set(MessageClassMetric::LatencyP50, latencies.quantile(0.50));
        values.set(MessageClassMetric::LatencyP95, latencies.quantile(0.95));
        values.set(MessageClassMetric::LatencyP99, latencies.quantile(0.99));
        values
    }
}

#[derive(Debug, Clone, Default)]
struct SourceStats {
    /// Messages held blocked, with the time integral since the window opened.
    held: u32,
    last_change: f64,
    area_held: f64,
    delivered: u64,
    dropped: u64,
    /// Latencies of messages never copied.
    latencies: Durations,
    /// Latencies of multicast copies.
    copy_latencies: Durations,
    /// Messages never copied that were dropped.
    single_dropped: u64,
    /// Multicast messages whose copies were all delivered, with the time to the last one.
    multicast_latencies: Durations,
    /// Multicast messages with a dropped copy.
    multicast_partial: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct ExchangeStats {
    routed: u64,
    unroutable: u64,
    copies: u64,
}

/// The statistics observer of one replication.
#[derive(Debug, Clone)]
pub struct Collector {
    window_start: f64,
    nodes: Vec<NodeStats>,
    sources: Vec<SourceStats>,
    exchanges: Vec<ExchangeStats>,
    /// Per message class, when the network has several; else empty.
    classes: Vec<MessageClassStats>,
    /// The node every delivery was last served at, when there is one: its subscriber latencies
    /// are then every source's, merged at the end instead of recorded twice.
    sole_exit: Option<NodeId>,
    /// The time series, when the settings ask for one.
    series: Option<SeriesRecorder>,
}

impl Collector {
    /// An empty collector for `network`, run with `settings` (which say whether to record a
    /// time series).
    #[must_use]
    pub fn new(network: &Network, settings: &Settings) -> Self {
        let message_classes =
            if network.message_classes().len() > 1 { network.message_classes().len() } else { 0 };
        let nodes = network
            .nodes()
            .iter()
            .map(|node| NodeStats {
                servers: node.servers.count(),
                staffing: node.servers_schedule.as_ref().map(|_| Staffing {
                    servers: node.servers.limit(),
                    last_change: 0.0,
                    area: 0.0,
                }),
                state: NodeState::default(),
                last_change: 0.0,
                area_in_system: 0.0,
                area_busy: 0.0,
                area_blocked: 0.0,
                counts: NodeCounts::default(),
                waits: Durations::default(),
                sojourns: Durations::default(),
                subscriber_latencies: Durations::default(),
                waited: 0,
                classes: if node.discipline == Discipline::Fifo {
                    Vec::new()
                } else {
                    vec![ClassStats::default(); network.priorities().len()]
                },
                message_classes: vec![ClassStats::default(); message_classes],
            })
            .collect();
        Self {
            window_start: 0.0,
            nodes,
            sources: vec![SourceStats::default(); network.sources().len()],
            exchanges: vec![ExchangeStats::default(); network.exchanges().len()],
            classes: vec![MessageClassStats::default(); message_classes],
            sole_exit: network.sole_exit_node(),
            series: SeriesRecorder::new(network, settings),
        }
    }

    /// Closes the window at the run's end and computes every metric.
    #[must_use]
    pub fn finish(mut self, index: u32, end: RunEnd) -> ReplicationResult {
        let window = end.end_s - self.window_start;
        for node in &mut self.nodes {
            node.advance(end.end_s);
            if let Some(staffing) = &mut node.staffing {
                staffing.advance(end.end_s);
            }
            node.counts.in_system_end = node.state.in_system;
        }
        for source in &mut self.sources {
            source.advance(end.end_s);
        }
        if let Some(exit) = self.sole_exit {
            let mut parts = self
                .sources
                .iter()
                .flat_map(|source| [&source.latencies, &source.copy_latencies])
                .filter(|part| part.count > 0);
            let every_delivery = parts.next().map_or_else(Durations::default, |first| {
                parts.fold(first.clone(), |mut all, part| {
                    all.absorb(part);
                    all
                })
            });
            self.nodes[exit.index()].subscriber_latencies = every_delivery;
        }
        ReplicationResult {
            index,
            events: end.events,
            observed_s: window,
            warmup_s: self.window_start,
            warmup_unresolved: false,
            stopped_early: end.stopped_early,
            deadlocked: end.deadlocked,
            nodes: self.nodes.iter().map(|node| node.result(window)).collect(),
            sources: self.sources.iter().map(|source| source.result(window)).collect(),
            exchanges: self.exchanges.iter().map(|exchange| exchange.result(window)).collect(),
            message_classes: self.classes.iter().map(|class| class.result(window)).collect(),
            message_class_latencies: self
                .classes
                .iter()
                .map(|class| class.latencies.histogram.sparse())
                .collect(),
            series: self.series.map(SeriesRecorder::finish),
        }
    }
}

impl NodeStats {
    /// Integrates the current state from the last change up to `now`.
    #[inline]
    fn advance(&mut self, now: f64) {
        let dt = now - self.last_change;
        self.area_in_system += f64::from(self.state.in_system) * dt;
        self.area_busy += f64::from(self.state.busy) * dt;
        self.area_blocked += f64::from(self.state.blocked) * dt;
        self.last_change = now;
    }

    /// The running totals up to `now`, without closing the integrals there (closing them would
    /// round the steady-state figures differently from a run without a time series).
    fn totals(&self, now: f64) -> NodeTotals {
        let dt = now - self.last_change;
        NodeTotals {
            area_in_system: self.area_in_system + f64::from(self.state.in_system) * dt,
            area_busy: self.area_busy + f64::from(self.state.busy) * dt,
            departures: self.counts.departures,
            drops: self.counts.drops,
        }
    }

    fn reset(&mut self, now: f64) {
        self.advance(now);
        if let Some(staffing) = &mut self.staffing {
            staffing.advance(now);
            staffing.area = 0.0;
        }
        self.area_in_system = 0.0;
        self.area_busy = 0.0;
        self.area_blocked = 0.0;
        self.counts = NodeCounts { in_system_start: self.state.in_system, ..NodeCounts::default() };
        self.waits.clear();
        self.sojourns.clear();
        self.subscriber_latencies.clear();
        self.waited = 0;
        for class in self.classes.iter_mut().chain(&mut self.message_classes) {
            class.clear();
        }
    }

    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn result(&self, window: f64) -> NodeReplication {
        let counts = self.counts;
        let per_second = |x: f64| (window > 0.0).then(|| x / window);
        let mut metrics = MetricValues::default();
        metrics.set(NodeMetric::ArrivalRate, per_second(counts.arrivals as f64));
        metrics.set(NodeMetric::Throughput, per_second(counts.departures as f64));
        // Undefined with infinitely many servers: mean_in_system counts the busy ones.
        // Utilisation counts the servers serving; blocked ones are reported apart.
        // With a servers schedule, per server-second available instead.
        let per_worker = |area: f64| match self.staffing {
            Some(staffing) => (staffing.area > 0.0).then(|| area / staffing.area),
            None => self.servers.and_then(|c| per_second(area / f64::from(c))),
        };
        metrics.set(NodeMetric::Utilization, per_worker(self.area_busy - self.area_blocked));
        metrics.set(NodeMetric::BlockedFraction, per_worker(self.area_blocked));
        metrics.set(NodeMetric::MeanInSystem, per_second(self.area_in_system));
        metrics.set(NodeMetric::MeanInQueue, per_second(self.area_in_system - self.area_busy));
        metrics.set(NodeMetric::MeanWait, self.waits.mean());
        metrics.set(NodeMetric::MeanSojourn, self.sojourns.mean());
        metrics.set(
            NodeMetric::WaitProbability,
            (counts.departures > 0).then(|| self.waited as f64 / counts.departures as f64),
        );
        // Percentiles read off the sparse forms the record keeps: one pass over each histogram.
        let waits = self.waits.histogram.sparse();
        let sojourns = self.sojourns.histogram.sparse();
        let subscriber_latencies = self.subscriber_latencies.histogram.sparse();
        metrics.set(NodeMetric::WaitP50, waits.quantile(0.50));
        metrics.set(NodeMetric::WaitP95, waits.quantile(0.95));
        metrics.set(NodeMetric::WaitP99, waits.quantile(0.99));
        metrics.set(NodeMetric::SojournP50, sojourns.quantile(0.50));
        metrics.set(NodeMetric::SojournP95, sojourns.quantile(0.95));
        metrics.set(NodeMetric::SojournP99, sojourns.quantile(0.99));
        metrics.set(
            NodeMetric::DropProbability,
            (counts.arrivals > 0).then(|| counts.drops as f64 / counts.arrivals as f64),
        );
        metrics.set(
            NodeMetric::ExpiredFraction,
            (counts.arrivals > 0).then(|| counts.expired as f64 / counts.arrivals as f64),
        );
        let growth = f64::from(self.state.in_system) - f64::from(counts.in_system_start);
        metrics.set(NodeMetric::QueueGrowthRate, per_second(growth));
        metrics.set(NodeMetric::SubscriberLatencyMean, self.subscriber_latencies.mean());
        metrics.set(NodeMetric::SubscriberLatencyP99, subscriber_latencies.quantile(0.99));
        let classes = self.classes.iter().map(|class| class.result(window)).collect();
        let message_classes = self.message_classes.iter().map(|class| class.result(window)).collect();
        let histograms = NodeHistograms {
            all: WaitHistograms { waits, sojourns },
            subscriber_latencies,
            priority_classes: self.classes.iter().map(ClassStats::histograms).collect(),
            message_classes: self.message_classes.iter().map(ClassStats::histograms).collect(),
        };
        NodeReplication { metrics, priority_classes: classes, message_classes, counts, histograms }
    }
}

impl SourceStats {
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn result(&self, window: f64) -> SourceReplication {
        let fraction = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        let every_copy = self.latencies.merged(&self.copy_latencies);
        let whole_messages = self.latencies.merged(&self.multicast_latencies);
        let messages_ended = whole_messages.count + self.single_dropped + self.multicast_partial;
        let mut metrics = MetricValues::default();
        metrics.set(SourceMetric::LatencyMean, every_copy.mean());
        let every_copy_sparse = every_copy.histogram.sparse();
        metrics.set(SourceMetric::LatencyP50, every_copy_sparse.quantile(0.50));
        metrics.set(SourceMetric::LatencyP95, every_copy_sparse.quantile(0.95));
        metrics.set(SourceMetric::LatencyP99, every_copy_sparse.quantile(0.99));
        metrics.set(SourceMetric::Throughput, (window > 0.0).then(|| self.delivered as f64 / window));
        metrics.set(SourceMetric::DeliveredFraction, fraction(self.delivered, self.delivered + self.dropped));
        metrics.set(SourceMetric::AllDeliveredFraction, fraction(whole_messages.count, messages_ended));
        metrics.set(SourceMetric::AllLatencyMean, whole_messages.mean());
        metrics.set(SourceMetric::AllLatencyP99, whole_messages.quantile(0.99));
        metrics.set(SourceMetric::BlockedFraction, (window > 0.0).then(|| self.area_held / window));
        let histograms = SourceHistograms {
            latencies: self.latencies.histogram.sparse(),
            copy_latencies: self.copy_latencies.histogram.sparse(),
            multicast_latencies: self.multicast_latencies.histogram.sparse(),
        };
        SourceReplication { metrics, delivered: self.delivered, dropped: self.dropped, histograms }
    }

    fn advance(&mut self, now: f64) {
        self.area_held += f64::from(self.held) * (now - self.last_change);
        self.last_change = now;
    }

    fn dropped(&mut self, end: MessageEnd) {
        self.dropped += 1;
        if !end.copy {
            self.single_dropped += 1;
        }
    }
}

impl ExchangeStats {
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    fn result(&self, window: f64) -> ExchangeReplication {
        let routed = self.routed as f64;
        let mut metrics = MetricValues::default();
        metrics.set(ExchangeMetric::ArrivalRate, (window > 0.0).then(|| routed / window));
        metrics.set(
            ExchangeMetric::UnroutableFraction,
            (self.routed > 0).then(|| self.unroutable as f64 / routed),
        );
        metrics.set(ExchangeMetric::CopiesPerMessage, (self.routed > 0).then(|| self.copies as f64 / routed));
        ExchangeReplication { metrics, routed: self.routed, unroutable: self.unroutable }
    }
}

impl Observer for Collector {
    fn observation_start(&mut self, now: f64) {
        self.window_start = now;
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if let Some(series) = &mut self.series {
                series.rebase(i, node.totals(now));
            }
            node.reset(now);
        }
        for source in &mut self.sources {
            for durations in
                [&mut source.latencies, &mut source.copy_latencies, &mut source.multicast_latencies]
            {
                durations.clear();
            }
            source.advance(now);
            source.area_held = 0.0;
            source.delivered = 0;
            source.dropped = 0;
            source.single_dropped = 0;
            source.multicast_partial = 0;
        }
        self.exchanges.fill(ExchangeStats::default());
        for class in &mut self.classes {
            class.latencies.clear();
        }
    }

    #[inline]
    fn node_state(&mut self, node: NodeId, now: f64, state: NodeState) {
        let stats = &mut self.nodes[node.index()];
        stats.advance(now);
        stats.state = state;
    }

    fn source_blocked(&mut self, source: SourceId, now: f64, held: u32) {
        let stats = &mut self.sources[source.index()];
        stats.advance(now);
        stats.held = held;
    }

    #[inline]
    fn arrival(&mut self, node: NodeId) {
        self.nodes[node.index()].counts.arrivals += 1;
    }

    #[inline]
    fn drop(&mut self, node: NodeId, end: MessageEnd) {
        self.nodes[node.index()].counts.drops += 1;
        self.sources[end.source.index()].dropped(end);
    }

    fn expired(&mut self, node: NodeId, end: MessageEnd, dead_lettered: bool) {
        self.nodes[node.index()].counts.expired += 1;
        if !dead_lettered {
            self.sources[end.source.index()].dropped(end);
        }
    }

    #[inline]
    fn routed(&mut self, exchange: ExchangeId, targets: u32, unroutable: bool) {
        let stats = &mut self.exchanges[exchange.index()];
        stats.routed += 1;
        stats.copies += u64::from(targets);
        stats.unroutable += u64::from(unroutable);
    }

    fn lost(&mut self, end: MessageEnd) {
        // Its parts were counted as they ended; here the message as a whole.
        if !end.copy {
            self.sources[end.source.index()].single_dropped += 1;
        }
    }

    #[inline]
    fn unroutable(&mut self, _exchange: ExchangeId, end: MessageEnd) {
        self.sources[end.source.index()].dropped(end);
    }

    #[inline]
    fn departure(&mut self, node: NodeId, wait: f64, sojourn: f64, rank: usize, class: MessageClassId) {
        let stats = &mut self.nodes[node.index()];
        stats.counts.departures += 1;
        stats.waits.record(wait);
        stats.sojourns.record(sojourn);
        stats.waited += u64::from(wait > 0.0);
        if let Some(priority_class) = stats.classes.get_mut(rank) {
            priority_class.record(wait, sojourn);
        }
        if let Some(message_class) = stats.message_classes.get_mut(class.index()) {
            message_class.record(wait, sojourn);
        }
    }

    #[inline]
    fn delivery(&mut self, end: MessageEnd, last_node: Option<NodeId>, latency: f64) {
        if let Some(series) = &mut self.series {
            series.delivery(end.source.index(), end.born, latency);
        }
        let stats = &mut self.sources[end.source.index()];
        stats.delivered += 1;
        if end.copy {
            stats.copy_latencies.record(latency);
        } else {
            stats.latencies.record(latency);
        }
        if let Some(node) = last_node
            && last_node != self.sole_exit
        {
            self.nodes[node.index()].subscriber_latencies.record(latency);
        }
        if let Some(class) = self.classes.get_mut(end.class.index()) {
            class.latencies.record(latency);
        }
    }

    fn multicast_end(&mut self, source: SourceId, _born: f64, latency: Option<f64>) {
        let stats = &mut self.sources[source.index()];
        match latency {
            Some(latency) => stats.multicast_latencies.record(latency),
            None => stats.multicast_partial += 1,
        }
    }

    fn servers_changed(&mut self, node: NodeId, now: f64, servers: u32) {
        if let Some(staffing) = &mut self.nodes[node.index()].staffing {
            staffing.advance(now);
            staffing.servers = servers;
        }
    }

    fn sample(&mut self, now: f64, oldest_waiting: &[Option<f64>]) {
        if let Some(series) = &mut self.series {
            series.sample(now, self.nodes.iter().map(|node| node.totals(now)), oldest_waiting);
        }
    }
}
