//! What the unit tests of the replication's paths share: a scenario from TOML text, a
//! replication of it that nothing has started, and an observer that records what it is told.

use std::path::Path;

use super::super::messages::Message;
use super::Replication;
use crate::engine::{MessageEnd, NodeState, Observer};
use crate::model::{ExchangeId, MessageClassId, NodeId, Scenario, SourceId, Target};

/// The scenario written in `text` (a `[simulation]` table is optional).
pub fn scenario(text: &str) -> Scenario {
    crate::scenario::parse(text, "unit", Path::new("unit.toml")).expect("the unit test's scenario is valid")
}

/// Replication 0 of `scenario`, recording what it sees; no event is scheduled yet, so a test
/// places its messages itself.
pub fn replication(scenario: &Scenario) -> Replication<'_, Record> {
    Replication::new(&scenario.network, &scenario.settings, 0, Record::default())
}

/// A departure from a node: (node, wait, sojourn) in seconds.
pub type Departure = (NodeId, f64, f64);

/// Everything the engine reported, in order.
#[derive(Debug, Default)]
pub struct Record {
    /// Service completions that let the message go on.
    pub departures: Vec<Departure>,
    /// Expiries: (node, dead-lettered).
    pub expired: Vec<(NodeId, bool)>,
    /// Deliveries: the latency of each message that left the system, seconds.
    pub deliveries: Vec<f64>,
    /// Messages dropped at full queues.
    pub drops: Vec<NodeId>,
    /// Forked messages lost.
    pub lost: u32,
    /// Node states after each change: (node, time, state).
    pub states: Vec<(NodeId, f64, NodeState)>,
    /// Time-series samples: (time, per node the arrival time of its oldest waiting message).
    pub samples: Vec<(f64, Vec<Option<f64>>)>,
    /// Servers changes: (node, time, servers).
    pub staffing: Vec<(NodeId, f64, u32)>,
}

impl Observer for Record {
    fn observation_start(&mut self, _now: f64) {}
    fn node_state(&mut self, node: NodeId, now: f64, state: NodeState) {
        self.states.push((node, now, state));
    }
    fn source_blocked(&mut self, _source: SourceId, _now: f64, _held: u32) {}
    fn arrival(&mut self, _node: NodeId) {}
    fn drop(&mut self, node: NodeId, _end: MessageEnd) {
        self.drops.push(node);
    }
    fn expired(&mut self, node: NodeId, _end: MessageEnd, dead_lettered: bool) {
        self.expired.push((node, dead_lettered));
    }
    fn routed(&mut self, _exchange: ExchangeId, _targets: u32, _unroutable: bool) {}
    fn lost(&mut self, _end: MessageEnd) {
        self.lost += 1;
    }
    fn unroutable(&mut self, _exchange: ExchangeId, _end: MessageEnd) {}
    fn departure(&mut self, node: NodeId, wait: f64, sojourn: f64, _rank: usize, _class: MessageClassId) {
        self.departures.push((node, wait, sojourn));
    }
    fn delivery(&mut self, _end: MessageEnd, _last_node: Option<NodeId>, latency: f64) {
        self.deliveries.push(latency);
    }
    fn multicast_end(&mut self, _source: SourceId, _born: f64, _latency: Option<f64>) {}
    fn servers_changed(&mut self, node: NodeId, now: f64, servers: u32) {
        self.staffing.push((node, now, servers));
    }
    fn sample(&mut self, now: f64, oldest_waiting: &[Option<f64>]) {
        self.samples.push((now, oldest_waiting.to_vec()));
    }
}

impl Replication<'_, Record> {
    /// At time `now`, the first source sends a new message of `priority` to `target`.
    pub fn inject(&mut self, now: f64, target: Target, priority: u8) {
        self.now = now;
        let message =
            self.messages.insert(Message::new(SourceId(0), now, None, priority, MessageClassId(0), 0.0));
        self.deliver(target, message);
    }

    /// Processes every event before `until`; says whether the network froze.
    pub fn run_until(&mut self, until: f64) -> bool {
        self.advance(until) == super::Stop::Frozen
    }

    /// Runs the replication to its end and hands back what the observer recorded.
    pub fn run_to_end(self) -> Record {
        self.run().0
    }

    /// What the observer recorded so far.
    pub fn record(&self) -> &Record {
        &self.observer
    }
}
