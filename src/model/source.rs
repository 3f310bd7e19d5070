//! Sources: the producers of messages, open (a renewal process, a scheduled rate or a replayed
//! trace) or closed (request-reply clients).

use std::sync::Arc;

use super::choice::{Choice, KeyChoice};
use super::distribution::Distribution;
use super::ids::{MessageClassId, Target};
use super::replay::Replay;
use super::schedule::Schedule;

/// How a source generates messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// Open: independent of the system's state.
    Open {
        /// Time between consecutive messages, in seconds. With a schedule, its mean is that of
        /// the observed window (what the steady-state analysis uses) and its shape is that of
        /// every gap in operational time; for a trace, a stand-in with the trace's mean and
        /// coefficient of variation.
        interarrival: Distribution,
        /// How the arrival times follow the clock.
        pattern: Pattern,
    },
    /// Closed (request-reply): `population` clients each send a request, wait for it to leave
    /// the system (the reply), think, and send again.
    Closed {
        /// Number of clients, N.
        population: u32,
        /// Think time between a reply and the next request, in seconds (Z).
        think: Distribution,
    },
}

/// How an open source's arrivals follow the clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// A renewal process: independent gaps drawn from the inter-arrival distribution.
    Renewal,
    /// The rate follows a schedule (messages per second). The gaps are those of the renewal
    /// process with the inter-arrival distribution's shape run in operational time
    /// `Λ(t) = ∫₀ᵗ λ`: each gap, drawn with unit mean, is an increment of `Λ`. With
    /// exponential gaps this is exactly a non-homogeneous Poisson process.
    Scheduled(Schedule),
    /// A recorded trace replayed.
    Trace(Arc<Replay>),
}

/// A producer of messages into one target.
#[derive(Debug, Clone)]
pub struct Source {
    /// Unique name from the scenario.
    pub(crate) name: String,
    /// Where each new message is sent.
    pub(crate) target: Target,
    /// How messages are generated.
    pub(crate) arrivals: Arrivals,
    /// The routing keys of its messages, drawn per message; `None`: messages carry no key.
    pub(crate) keys: Option<KeyChoice>,
    /// The priorities of its messages (higher is more urgent, as in RabbitMQ), drawn per
    /// message; `None`: priority 0.
    pub(crate) priorities: Option<Choice<u8>>,
    /// The size of its messages in bytes, drawn per message; `None`: size 0.
    pub(crate) size: Option<Distribution>,
    /// The class of its messages (a name in [`Network::classes`](super::Network::classes)), drawn per message.
    pub(crate) message_classes: Choice<MessageClassId>,
}

impl Source {
    /// Unique name from the scenario.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where each new message is sent.
    #[must_use]
    pub fn target(&self) -> Target {
        self.target
    }

    /// How messages are generated.
    #[must_use]
    pub fn arrivals(&self) -> &Arrivals {
        &self.arrivals
    }

    /// Mean arrival rate in messages per second of an open source; `None` for a closed
    /// population, whose rate depends on the network.
    #[must_use]
    pub fn open_rate(&self) -> Option<f64> {
        match &self.arrivals {
            Arrivals::Open { interarrival, .. } => Some(1.0 / interarrival.mean()),
            Arrivals::Closed { .. } => None,
        }
    }

    /// The gap the source waits before each message: the inter-arrival time, or a client's
    /// think time.
    #[must_use]
    pub fn gap(&self) -> &Distribution {
        match &self.arrivals {
            Arrivals::Open { interarrival, .. } => interarrival,
            Arrivals::Closed { think, .. } => think,
        }
    }

    /// Whether its arrivals are a Poisson process (open, exponential gaps).
    #[must_use]
    pub fn is_poisson(&self) -> bool {
        matches!(&self.arrivals, Arrivals::Open { interarrival, .. } if interarrival.is_exponential())
    }

    /// The rate schedule of an open source whose rate follows the clock.
    #[must_use]
    pub fn schedule(&self) -> Option<&Schedule> {
        match &self.arrivals {
            Arrivals::Open { pattern: Pattern::Scheduled(schedule), .. } => Some(schedule),
            _ => None,
        }
    }

    /// The trace an open source replays.
    #[must_use]
    pub fn replay(&self) -> Option<&Replay> {
        match &self.arrivals {
            Arrivals::Open { pattern: Pattern::Trace(replay), .. } => Some(replay),
            _ => None,
        }
    }
}
