//! What the engine reports as it runs. Statistics implement this; so can traces. Calls are
//! monomorphised (no dynamic dispatch on the hot path).

use crate::model::{NodeId, SourceId};

/// Receives every observable change of a replication, in simulated-time order.
pub trait Observer {
    /// Observation starts at `now` (the end of warm-up): forget what was seen before, keep the
    /// state.
    fn observation_start(&mut self, now: f64);

    /// A node's state after a change at `now`: messages held (waiting plus in service) and busy
    /// workers.
    fn node_state(&mut self, node: NodeId, now: f64, in_system: u32, busy: u32);

    /// A message was offered to `node` (before admission or drop).
    fn arrival(&mut self, node: NodeId);

    /// A message created by `source` was dropped at `node`'s full channel.
    fn drop(&mut self, node: NodeId, source: SourceId);

    /// A message finished service at `node` after waiting `wait` and staying `sojourn` seconds.
    fn departure(&mut self, node: NodeId, wait: f64, sojourn: f64);

    /// A message created by `source` left the system `latency` seconds after its creation.
    fn delivery(&mut self, source: SourceId, latency: f64);
}
