//! The discrete-event engine: an event calendar, a message slab and one station per node. It never
//! prints and never touches files; everything it observes goes to an [`Observer`].

mod calendar;
mod messages;
mod observer;
mod queue;
mod replication;
mod streams;

pub use observer::{MessageEnd, NodeState, Observer};
pub use replication::{Replication, RunEnd};
pub use streams::{Purpose, SimRng, stream};

use crate::model::{NodeId, SourceId, Target};
use messages::{MessageId, ServiceId};

/// A scheduled event: small and `Copy`, over dense ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A source emits its next message.
    Arrival(SourceId),
    /// A server finishes serving `message` (at the node that holds it).
    Completion {
        /// The message served.
        message: MessageId,
        /// Which service of the message this is (a preempted service's completion is stale).
        service: ServiceId,
    },
    /// The head of `node`'s queue may have outlived the node's TTL.
    Expiry {
        /// The node whose queue head to check.
        node: NodeId,
    },
    /// `node`'s servers schedule changes its number of servers.
    Staffing {
        /// The node whose servers change.
        node: NodeId,
    },
    /// A message delayed on a route reaches its target.
    Transit {
        /// The message in transit.
        message: MessageId,
        /// Where it arrives.
        target: Target,
    },
}
