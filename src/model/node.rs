//! Nodes: a queue served by identical servers, with its capacity, overflow policy, discipline,
//! expiry and routing.

use rand::Rng;

use super::choice::branch_at;
use super::distribution::{Distribution, unit_interval};
use super::ids::{ExchangeId, MessageClassId, Target};
use super::schedule::Schedule;

/// What a full queue does with an arriving message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The arriving message is dropped and counted (ZeroMQ PUB at its HWM, RabbitMQ
    /// `reject-publish`).
    DropTail,
    /// The oldest waiting message is dropped and counted, and the arrival admitted (RabbitMQ's
    /// default `drop-head`).
    DropHead,
    /// Backpressure (ZeroMQ PUSH at its high-water mark): the sender waits until there is room.
    /// A server upstream keeps its finished message and stays unavailable (blocking after
    /// service); a source holds its message and stops producing.
    Block,
}

impl Overflow {
    /// The scenario-file spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::DropTail => "drop-tail",
            Self::DropHead => "drop-head",
            Self::Block => "block",
        }
    }
}

/// The order in which a node's waiting messages are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Discipline {
    /// First in, first out.
    #[default]
    Fifo,
    /// Highest priority first, FIFO within a priority; a message in service is never
    /// interrupted (non-preemptive).
    Priority,
    /// Highest priority first; an arrival of higher priority than a message in service
    /// interrupts it, which later resumes where it stopped (preemptive-resume).
    Preemptive,
}

impl Discipline {
    /// The scenario-file spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Fifo => "fifo",
            Self::Priority => "priority",
            Self::Preemptive => "preemptive",
        }
    }
}

/// One weighted branch of a node's routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Where the message goes.
    pub(crate) target: Target,
    /// Probability of this branch, in (0, 1].
    pub(crate) probability: f64,
    /// Network delay on the way, in seconds (a queue between two processes); `None`: instant.
    pub(crate) delay: Option<Distribution>,
}

impl Route {
    /// Where the message goes.
    #[must_use]
    pub fn target(&self) -> Target {
        self.target
    }

    /// Probability of this branch, in (0, 1].
    #[must_use]
    pub fn probability(&self) -> f64 {
        self.probability
    }

    /// An instant route.
    #[must_use]
    pub(crate) fn new(target: Target, probability: f64) -> Self {
        Self { target, probability, delay: None }
    }
}

/// How a node chooses where a served message goes: one branch drawn by probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// The branches in file order; never empty (the default is one instant route to exit).
    routes: Vec<Route>,
    /// Running sums of the probabilities, the last forced to exactly 1.
    cumulative: Vec<f64>,
}

impl Routing {
    /// Builds the routing for a list of branches whose probabilities sum to 1 (checked by the
    /// scenario layer); no branch at all means exit.
    #[must_use]
    pub(crate) fn from_routes(routes: Vec<Route>) -> Self {
        let mut routes = if routes.is_empty() { vec![Route::new(Target::Exit, 1.0)] } else { routes };
        // Probabilities are validated to sum to 1 within 1e-9; normalise them so that the
        // engine and the analysis use exactly the same branch probabilities.
        let sum: f64 = routes.iter().map(|route| route.probability).sum();
        for route in &mut routes {
            route.probability /= sum;
        }
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = routes
            .iter()
            .map(|route| {
                total += route.probability;
                total
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Self { routes, cumulative }
    }

    /// Each branch with its probability.
    pub fn branches(&self) -> impl Iterator<Item = &Route> + '_ {
        self.routes.iter()
    }

    /// The next branch; draws from `rng` only when there is a choice to make.
    #[inline]
    pub fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> &Route {
        match self.routes.as_slice() {
            [only] => only,
            routes => &routes[branch_at(&self.cumulative, unit_interval(rng))],
        }
    }
}

/// How many identical servers serve a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Servers {
    /// c ≥ 1 servers.
    Finite(u32),
    /// As many servers as messages: nobody waits (a pure delay, such as think time or a
    /// network hop).
    Infinite,
}

impl Servers {
    /// The number of servers, `None` when infinite.
    #[must_use]
    pub fn count(self) -> Option<u32> {
        match self {
            Self::Finite(count) => Some(count),
            Self::Infinite => None,
        }
    }

    /// The most messages that can be in service at once (`u32::MAX` when infinite).
    #[must_use]
    pub fn limit(self) -> u32 {
        self.count().unwrap_or(u32::MAX)
    }
}

impl std::fmt::Display for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Finite(count) => write!(f, "{count}"),
            Self::Infinite => f.write_str("∞"),
        }
    }
}

/// A process: an inbound channel (queue) served by identical servers.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique name from the scenario.
    pub(crate) name: String,
    /// Number of identical servers; with a schedule, the most it ever has.
    pub(crate) servers: Servers,
    /// The number of servers over time (whole numbers, steps), when it follows the clock: a
    /// server taken away finishes the message it is serving first.
    pub(crate) servers_schedule: Option<Schedule>,
    /// Service time per message, in seconds.
    pub(crate) service: Distribution,
    /// Maximum messages held (waiting plus in service), K ≥ c; `None` is unbounded.
    pub(crate) capacity: Option<u32>,
    /// What a full queue does.
    pub(crate) overflow: Overflow,
    /// Queue discipline.
    pub(crate) discipline: Discipline,
    /// Where served messages go.
    pub(crate) routing: Routing,
    /// Per-queue message time-to-live in seconds (RabbitMQ `x-message-ttl`): a message that
    /// has waited longer expires when it reaches the head of the queue; `None`: no expiry.
    pub(crate) ttl: Option<f64>,
    /// Where expired messages go (RabbitMQ's dead-letter exchange); `None`: they are dropped.
    pub(crate) dead_letter: Option<Target>,
    /// The fork whose parts this node gathers: parts wait at the node until all siblings have
    /// arrived, then one message (the original) enters its queue.
    pub(crate) join: Option<ExchangeId>,
    /// Extra service time per byte of the message, seconds (0: size does not matter).
    pub(crate) per_byte: f64,
    /// The service time of the messages of some classes, indexed by [`MessageClassId`], where it
    /// differs from `service`; empty when every class takes `service`.
    pub(crate) class_service: Vec<Option<Distribution>>,
}

impl Node {
    /// Unique name from the scenario.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of identical servers; with a schedule, the most it ever has.
    #[must_use]
    pub fn servers(&self) -> Servers {
        self.servers
    }

    /// The number of servers over time, when it follows the clock.
    #[must_use]
    pub fn servers_schedule(&self) -> Option<&Schedule> {
        self.servers_schedule.as_ref()
    }

    /// Service time per message, in seconds (for the classes without one of their own).
    #[must_use]
    pub fn service(&self) -> &Distribution {
        &self.service
    }

    /// Maximum messages held (waiting plus in service); `None` is unbounded.
    #[must_use]
    pub fn capacity(&self) -> Option<u32> {
        self.capacity
    }

    /// Per-queue message time-to-live in seconds; `None`: no expiry.
    #[must_use]
    pub fn ttl(&self) -> Option<f64> {
        self.ttl
    }

    /// The service time of a message of class `class`, before any per-byte part.
    #[inline]
    #[must_use]
    pub fn service_for(&self, class: MessageClassId) -> &Distribution {
        match self.class_service.get(class.index()) {
            Some(Some(service)) => service,
            _ => &self.service,
        }
    }

    /// Service rate of one server, per second.
    #[must_use]
    pub fn service_rate(&self) -> f64 {
        1.0 / self.service.mean()
    }

    /// Whether overload makes its queue grow without bound: no capacity and no TTL (either one
    /// bounds the queue, by drops or by expiry).
    #[must_use]
    pub fn has_unbounded_queue(&self) -> bool {
        self.capacity.is_none() && self.ttl.is_none()
    }

    /// Maximum completion rate with every server busy, c·μ per second (infinite with infinitely
    /// many servers).
    #[must_use]
    pub fn capacity_rate(&self) -> f64 {
        self.servers.count().map_or(f64::INFINITY, |c| f64::from(c) * self.service_rate())
    }
}
