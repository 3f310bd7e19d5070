//! The discrete-event engine: an event calendar, a message slab and one station per node. It never
//! prints and never touches files; everything it observes goes to an [`Observer`].

mod calendar;
mod observer;
mod replication;
mod streams;

pub use observer::Observer;
pub use replication::{Replication, RunEnd};
pub use streams::{Purpose, SimRng, stream};

use crate::model::{NodeId, SourceId};

/// Index of a message in the engine's slab.
pub(crate) type MessageId = u32;

/// A scheduled event: small and `Copy`, over dense ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A source emits its next message.
    Arrival(SourceId),
    /// A worker at `node` finishes serving `message`.
    Completion {
        /// Where the service took place.
        node: NodeId,
        /// The message served.
        message: MessageId,
    },
}
