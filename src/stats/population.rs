//! The population of every node as a time series: its time average over each of a fixed number
//! of equal intervals. A pilot replication records it so that MSER-5 can choose where its
//! warm-up ends (see [`mser5`](super::mser5)); it observes nothing else, so a pilot costs the
//! events alone.

use crate::engine::{MessageEnd, NodeState, Observer};
use crate::model::{ExchangeId, MessageClassId, Network, NodeId, SourceId};

/// One node's series.
#[derive(Debug, Clone, Default)]
struct NodeSeries {
    /// Messages held since `last_change`.
    level: u32,
    last_change: f64,
    /// Time integral of the level since the current interval opened.
    area: f64,
    /// The time average of each closed interval.
    averages: Vec<f64>,
}

/// Records each node's time-averaged number of messages held over `intervals` equal intervals
/// of `[0, horizon]`.
#[derive(Debug, Clone)]
pub struct PopulationSeries {
    width: f64,
    intervals: usize,
    nodes: Vec<NodeSeries>,
}

impl PopulationSeries {
    /// An empty recorder for `network` over `[0, horizon_s]`.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // interval counts are small
    pub fn new(network: &Network, horizon_s: f64, intervals: usize) -> Self {
        Self {
            width: horizon_s / intervals as f64,
            intervals,
            nodes: vec![NodeSeries::default(); network.nodes().len()],
        }
    }

    /// Closes the intervals that end by `end_s` and returns each node's series, in network
    /// order (shorter than asked when the run stopped early).
    #[must_use]
    pub fn finish(mut self, end_s: f64) -> Vec<Vec<f64>> {
        let (width, intervals) = (self.width, self.intervals);
        for node in &mut self.nodes {
            node.advance(end_s, width, intervals);
        }
        self.nodes.into_iter().map(|node| node.averages).collect()
    }
}

impl NodeSeries {
    /// Integrates the level up to `now`, closing every interval that ends on the way.
    #[allow(clippy::cast_precision_loss)] // interval counts are small
    fn advance(&mut self, now: f64, width: f64, intervals: usize) {
        while self.averages.len() < intervals {
            let boundary = (self.averages.len() + 1) as f64 * width;
            if now < boundary {
                break;
            }
            self.area += f64::from(self.level) * (boundary - self.last_change);
            self.averages.push(self.area / width);
            self.area = 0.0;
            self.last_change = boundary;
        }
        if self.averages.len() < intervals {
            self.area += f64::from(self.level) * (now - self.last_change);
            self.last_change = now;
        }
    }
}

impl Observer for PopulationSeries {
    fn observation_start(&mut self, _now: f64) {}

    #[inline]
    fn node_state(&mut self, node: NodeId, now: f64, state: NodeState) {
        let (width, intervals) = (self.width, self.intervals);
        let series = &mut self.nodes[node.index()];
        series.advance(now, width, intervals);
        series.level = state.in_system;
    }

    fn source_blocked(&mut self, _source: SourceId, _now: f64, _held: u32) {}

    fn arrival(&mut self, _node: NodeId) {}

    fn drop(&mut self, _node: NodeId, _end: MessageEnd) {}

    fn expired(&mut self, _node: NodeId, _end: MessageEnd, _dead_lettered: bool) {}

    fn routed(&mut self, _exchange: ExchangeId, _targets: u32, _unroutable: bool) {}

    fn lost(&mut self, _end: MessageEnd) {}

    fn unroutable(&mut self, _exchange: ExchangeId, _end: MessageEnd) {}

    fn departure(&mut self, _node: NodeId, _wait: f64, _sojourn: f64, _rank: usize, _class: MessageClassId) {}

    fn delivery(&mut self, _end: MessageEnd, _last_node: Option<NodeId>, _latency: f64) {}

    fn multicast_end(&mut self, _source: SourceId, _born: f64, _latency: Option<f64>) {}
}
