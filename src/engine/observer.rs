//! What the engine reports as it runs. Statistics implement this; so can traces. Calls are
//! monomorphised (no dynamic dispatch on the hot path).

use crate::model::{ExchangeId, MessageClassId, NodeId, SourceId};

/// The occupancy of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeState {
    /// Messages held: waiting, in service, or finished but blocked.
    pub in_system: u32,
    /// Servers occupied: serving, or holding a finished message they cannot forward.
    pub busy: u32,
    /// Servers holding a finished message blocked by a full downstream queue.
    pub blocked: u32,
}

/// Who a message that ended belonged to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageEnd {
    /// The source that created it.
    pub source: SourceId,
    /// Whether it was one of several copies of a multicast message.
    pub copy: bool,
    /// Its message class.
    pub class: MessageClassId,
    /// When its source created it, seconds of simulated time.
    pub born: f64,
}

/// Receives every observable change of a replication, in simulated-time order.
pub trait Observer {
    /// Observation starts at `now` (the end of warm-up): forget what was seen before, keep the
    /// state. Not called when the messages in the system reach the cap during the warm-up: that
    /// replication is observed from time 0 to the cap.
    fn observation_start(&mut self, now: f64);

    /// A node's state after a change at `now`.
    fn node_state(&mut self, node: NodeId, now: f64, state: NodeState);

    /// A source's messages waiting to be injected into a full blocking queue changed to
    /// `held` at `now`.
    fn source_blocked(&mut self, source: SourceId, now: f64, held: u32);

    /// A message was offered to `node` (before admission or drop).
    fn arrival(&mut self, node: NodeId);

    /// A message was dropped at `node`'s full queue.
    fn drop(&mut self, node: NodeId, end: MessageEnd);

    /// A message outlived `node`'s TTL at the head of its queue; it was dropped, or sent to the
    /// dead-letter target when `dead_lettered`.
    fn expired(&mut self, node: NodeId, end: MessageEnd, dead_lettered: bool);

    /// An exchange sent a message on to `targets` targets (its copies; 1 for an alternate
    /// target, 0 when dropped); `unroutable` when it matched no binding.
    fn routed(&mut self, exchange: ExchangeId, targets: u32, unroutable: bool);

    /// A forked message was lost: some of its parts were dropped, so the join cannot release it.
    fn lost(&mut self, end: MessageEnd);

    /// A message matched no binding of `exchange` and was dropped.
    fn unroutable(&mut self, exchange: ExchangeId, end: MessageEnd);

    /// A message of priority class `rank` (0 the highest) and message class `class` finished
    /// service at `node` after waiting `wait` and staying `sojourn` seconds.
    fn departure(&mut self, node: NodeId, wait: f64, sojourn: f64, rank: usize, class: MessageClassId);

    /// A message left the system `latency` seconds after its creation, last served at
    /// `last_node`.
    fn delivery(&mut self, end: MessageEnd, last_node: Option<NodeId>, latency: f64);

    /// The last copy of a multicast message from `source`, created at `born`, ended:
    /// `Some(latency)` (time to the last delivery) when every copy was delivered, `None` when
    /// some copy was dropped.
    fn multicast_end(&mut self, source: SourceId, born: f64, latency: Option<f64>);

    /// `node`'s number of servers changed to `servers` at `now` (a servers schedule). Servers
    /// taken away finish the message they serve first, so `busy` may exceed `servers` for a
    /// while.
    fn servers_changed(&mut self, _node: NodeId, _now: f64, _servers: u32) {}

    /// The end of a time-series interval at `now` (every `sample_every` seconds from 0, warm-up
    /// included): `oldest_waiting[n]` is when the oldest message waiting at node `n` arrived
    /// there, `None` when none waits. Called only when the settings ask for a time series.
    fn sample(&mut self, _now: f64, _oldest_waiting: &[Option<f64>]) {}
}
