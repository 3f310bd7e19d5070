//! The validated network the engine runs: sources, nodes and the routes between them, addressed
//! by dense integer ids.

use rand::Rng;
use thiserror::Error;

use super::exchange::{Exchange, ExchangeId, ExchangeKind, KeyId, Unroutable};
use super::{Distribution, unit_interval};

/// Index of a node in [`Network::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// Index of a source in [`Network::sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// The class of the messages of a source that names none.
pub const DEFAULT_CLASS: &str = "default";

/// Index of a message class in [`Network::classes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ClassId(pub u16);

impl ClassId {
    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl NodeId {
    /// The id of the node at vector index `index`.
    ///
    /// # Panics
    /// Beyond u32::MAX nodes, which no scenario can declare.
    #[must_use]
    pub fn from_index(index: usize) -> Self {
        Self(u32::try_from(index).expect("node count fits in u32"))
    }

    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl SourceId {
    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a message goes next: a node's inbound channel, or out of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Into the named node's queue.
    Node(NodeId),
    /// Through an exchange, which routes by key in zero time.
    Exchange(ExchangeId),
    /// Out of the system: the message is delivered.
    Exit,
}

/// How a source generates messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// Open: a renewal process, independent of the system's state.
    Open {
        /// Time between consecutive messages, in seconds.
        interarrival: Distribution,
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

/// A producer of messages into one target.
#[derive(Debug, Clone)]
pub struct Source {
    /// Unique name from the scenario.
    pub name: String,
    /// Where each new message is sent.
    pub target: Target,
    /// How messages are generated.
    pub arrivals: Arrivals,
    /// The routing keys of its messages, drawn per message; `None`: messages carry no key.
    pub keys: Option<KeyChoice>,
    /// The priorities of its messages (higher is more urgent, as in RabbitMQ), drawn per
    /// message; `None`: priority 0.
    pub priorities: Option<Choice<u8>>,
    /// The size of its messages in bytes, drawn per message; `None`: size 0.
    pub size: Option<Distribution>,
    /// The class of its messages (a name in [`Network::classes`]), drawn per message.
    pub classes: Choice<ClassId>,
}

/// A discrete distribution over routing keys.
pub type KeyChoice = Choice<KeyId>;

/// A discrete distribution over a few values (routing keys, priorities, classes).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice<T> {
    keys: Vec<T>,
    probabilities: Vec<f64>,
    cumulative: Vec<f64>,
}

impl<T: Copy> Choice<T> {
    /// Values with their probabilities, which must be positive and sum to 1 (checked by the
    /// scenario layer).
    #[must_use]
    pub fn new(weighted: Vec<(T, f64)>) -> Self {
        let (keys, probabilities): (Vec<T>, Vec<f64>) = weighted.into_iter().unzip();
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = probabilities
            .iter()
            .map(|p| {
                total += p;
                total
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Self { keys, probabilities, cumulative }
    }

    /// Draws one value.
    #[inline]
    pub fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> T {
        if self.keys.len() == 1 {
            return self.keys[0];
        }
        self.keys[branch_at(&self.cumulative, unit_interval(rng))]
    }

    /// Each value with its probability.
    pub fn weighted(&self) -> impl Iterator<Item = (T, f64)> + '_ {
        self.keys.iter().copied().zip(self.probabilities.iter().copied())
    }
}

impl Source {
    /// Mean arrival rate in messages per second of an open source; `None` for a closed
    /// population, whose rate depends on the network.
    #[must_use]
    pub fn open_rate(&self) -> Option<f64> {
        match &self.arrivals {
            Arrivals::Open { interarrival } => Some(1.0 / interarrival.mean()),
            Arrivals::Closed { .. } => None,
        }
    }

    /// The gap the source waits before each message: the inter-arrival time, or a client's
    /// think time.
    #[must_use]
    pub fn gap(&self) -> &Distribution {
        match &self.arrivals {
            Arrivals::Open { interarrival } => interarrival,
            Arrivals::Closed { think, .. } => think,
        }
    }

    /// Whether its arrivals are a Poisson process (open, exponential gaps).
    #[must_use]
    pub fn is_poisson(&self) -> bool {
        matches!(&self.arrivals, Arrivals::Open { interarrival } if interarrival.is_exponential())
    }
}

/// What a full channel does with an arriving message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The arriving message is dropped and counted (ZeroMQ PUB at its HWM, RabbitMQ
    /// `reject-publish`).
    DropTail,
    /// The oldest waiting message is dropped and counted, and the arrival admitted (RabbitMQ's
    /// default `drop-head`).
    DropHead,
    /// Backpressure (ZeroMQ PUSH at its high-water mark): the sender waits until there is room.
    /// A worker upstream keeps its finished message and stays unavailable (blocking after
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
    pub target: Target,
    /// Probability of this branch, in (0, 1].
    pub probability: f64,
    /// Network delay on the way, in seconds (a channel between two processes); `None`: instant.
    pub delay: Option<Distribution>,
}

impl Route {
    /// An instant route.
    #[must_use]
    pub fn new(target: Target, probability: f64) -> Self {
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
    pub fn from_routes(routes: Vec<Route>) -> Self {
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

/// How many identical workers serve a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Servers {
    /// c ≥ 1 workers.
    Finite(u32),
    /// As many workers as messages: nobody waits (a pure delay, such as think time or a
    /// network hop).
    Infinite,
}

impl Servers {
    /// The number of workers, `None` when infinite.
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

/// A process: an inbound channel (queue) served by identical workers.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique name from the scenario.
    pub name: String,
    /// Number of identical workers.
    pub servers: Servers,
    /// Service time per message, in seconds.
    pub service: Distribution,
    /// Maximum messages held (waiting plus in service), K ≥ c; `None` is unbounded.
    pub capacity: Option<u32>,
    /// What a full channel does.
    pub overflow: Overflow,
    /// Queue discipline.
    pub discipline: Discipline,
    /// Where served messages go.
    pub routing: Routing,
    /// Per-queue message time-to-live in seconds (RabbitMQ `x-message-ttl`): a message that
    /// has waited longer expires when it reaches the head of the queue; `None`: no expiry.
    pub ttl: Option<f64>,
    /// Where expired messages go (RabbitMQ's dead-letter exchange); `None`: they are dropped.
    pub dead_letter: Option<Target>,
    /// The fork whose parts this node gathers: parts wait at the node until all siblings have
    /// arrived, then one message (the original) enters its queue.
    pub join: Option<ExchangeId>,
    /// Extra service time per byte of the message, seconds (0: size does not matter).
    pub per_byte: f64,
    /// The service time of the messages of some classes, indexed by [`ClassId`], where it
    /// differs from `service`; empty when every class takes `service`.
    pub class_service: Vec<Option<Distribution>>,
}

impl Node {
    /// The service time of a message of class `class`, before any per-byte part.
    #[inline]
    #[must_use]
    pub fn service_for(&self, class: ClassId) -> &Distribution {
        match self.class_service.get(class.index()) {
            Some(Some(service)) => service,
            _ => &self.service,
        }
    }

    /// Service rate of one worker, per second.
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

    /// Maximum completion rate with every worker busy, c·μ per second (infinite with infinitely
    /// many workers).
    #[must_use]
    pub fn capacity_rate(&self) -> f64 {
        self.servers.count().map_or(f64::INFINITY, |c| f64::from(c) * self.service_rate())
    }
}

/// A structural defect that makes a network impossible to simulate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NetworkError {
    /// A route, binding or source names an id that does not exist.
    #[error("{from} routes to {what} id {to}, but there are only {count}")]
    DanglingTarget {
        /// The name of the source, node or exchange holding the route.
        from: String,
        /// "node" or "exchange".
        what: &'static str,
        /// The missing id.
        to: u32,
        /// How many exist.
        count: usize,
    },
    /// A node from which no path leads out of the system: its messages would circulate forever.
    #[error("node '{0}' cannot reach exit: every path from it loops back into the network")]
    NoExit(String),
    /// Exchanges that route to each other in a loop: a message would be copied forever in zero
    /// time.
    #[error(
        "exchange '{0}' field 'bindings': it routes back to itself through other exchanges without passing a node"
    )]
    ExchangeLoop(String),
    /// A blocking node fed in a way that cannot wait for room.
    #[error(
        "node '{node}' blocks its senders (overflow = \"block\"), so it can be fed only by sources and by node routes without delay, but {via} reaches it"
    )]
    IndirectBlocking {
        /// The blocking node.
        node: String,
        /// What reaches it otherwise, in words.
        via: String,
    },
    /// A node that joins parts of an exchange that is not a fork.
    #[error("node '{node}' field 'join': exchange '{exchange}' is not a fork, so it makes no parts to join")]
    JoinWithoutFork {
        /// The joining node.
        node: String,
        /// The exchange it names.
        exchange: String,
    },
    /// A source or node refers to a message class that the network does not name.
    #[error("{from} refers to message class id {class}, but there are only {count}")]
    UnknownClass {
        /// The source or node, in words.
        from: String,
        /// The missing class id.
        class: u16,
        /// How many classes there are.
        count: usize,
    },
    /// A network without sources generates no traffic.
    #[error("the network has no source")]
    NoSource,
}

/// A validated open network of sources, nodes and exchanges.
#[derive(Debug, Clone)]
pub struct Network {
    sources: Vec<Source>,
    nodes: Vec<Node>,
    exchanges: Vec<Exchange>,
    keys: Vec<String>,
    /// The message class names, indexed by [`ClassId`].
    classes: Vec<String>,
    /// The distinct message priorities, highest first: class i has priority `priorities[i]`.
    priorities: Vec<u8>,
    /// The class of each priority value.
    class_of: Vec<u8>,
}

impl Network {
    /// Validates the structure: every target exists, exchanges do not loop among themselves, and
    /// every node can reach exit. `keys` are the routing keys the sources draw from, indexed by
    /// [`KeyId`]; `classes` the message class names, indexed by [`ClassId`] (none given: one
    /// class, [`DEFAULT_CLASS`]).
    ///
    /// # Errors
    /// The first structural defect found.
    pub fn new(
        sources: Vec<Source>,
        nodes: Vec<Node>,
        exchanges: Vec<Exchange>,
        keys: Vec<String>,
        classes: Vec<String>,
    ) -> Result<Self, NetworkError> {
        if sources.is_empty() {
            return Err(NetworkError::NoSource);
        }
        let mut priorities: Vec<u8> = sources
            .iter()
            .flat_map(|source| match &source.priorities {
                Some(choice) => choice.weighted().map(|(p, _)| p).collect(),
                None => vec![0],
            })
            .collect();
        priorities.sort_unstable_by(|a, b| b.cmp(a));
        priorities.dedup();
        let mut class_of = vec![0u8; 256];
        for (class, &priority) in priorities.iter().enumerate() {
            class_of[usize::from(priority)] = u8::try_from(class).unwrap_or(u8::MAX);
        }
        let classes = if classes.is_empty() { vec![DEFAULT_CLASS.to_owned()] } else { classes };
        let network = Self { sources, nodes, exchanges, keys, classes, priorities, class_of };
        network.check_classes()?;
        network.check_targets()?;
        network.check_exchange_loops()?;
        network.check_blocking_feeds()?;
        network.check_joins()?;
        if let Some(stuck) = network.nodes_without_exit().first() {
            return Err(NetworkError::NoExit(network.nodes[stuck.index()].name.clone()));
        }
        Ok(network)
    }

    /// The sources, indexed by [`SourceId`].
    #[must_use]
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The nodes, indexed by [`NodeId`].
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The exchanges, indexed by [`ExchangeId`].
    #[must_use]
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// The distinct priorities messages can have, highest first; class i has `priorities()[i]`.
    #[must_use]
    pub fn priorities(&self) -> &[u8] {
        &self.priorities
    }

    /// The priority class (0 the highest) of a message of priority `priority`.
    #[inline]
    #[must_use]
    pub fn class_of(&self, priority: u8) -> usize {
        usize::from(self.class_of[usize::from(priority)])
    }

    /// The message class names, indexed by [`ClassId`].
    #[must_use]
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The id of every message class, in order.
    pub fn class_ids(&self) -> impl Iterator<Item = ClassId> + use<> {
        // At most u16::MAX + 1 classes: the scenario layer interns them into u16 ids.
        (0..self.classes.len()).map(|index| ClassId(u16::try_from(index).unwrap_or(u16::MAX)))
    }

    /// The routing keys, indexed by [`KeyId`].
    #[must_use]
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The node with the given id.
    #[must_use]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The exchange with the given id.
    #[must_use]
    pub fn exchange(&self, id: ExchangeId) -> &Exchange {
        &self.exchanges[id.index()]
    }

    /// The same network with other nodes (same sources, exchanges and keys); the analysis uses
    /// it to stand a node's size-dependent service by one with the same moments.
    #[must_use]
    pub fn with_nodes(&self, nodes: Vec<Node>) -> Self {
        Self { nodes, ..self.clone() }
    }

    /// The name of a target ("exit" for the exit).
    #[must_use]
    pub fn target_name(&self, target: Target) -> &str {
        match target {
            Target::Node(id) => &self.node(id).name,
            Target::Exchange(id) => &self.exchange(id).name,
            Target::Exit => "exit",
        }
    }

    fn check_classes(&self) -> Result<(), NetworkError> {
        let count = self.classes.len();
        let unknown = |from: String, class: usize| NetworkError::UnknownClass {
            from,
            class: u16::try_from(class).unwrap_or(u16::MAX),
            count: self.classes.len(),
        };
        for source in &self.sources {
            if let Some((class, _)) = source.classes.weighted().find(|(class, _)| class.index() >= count) {
                return Err(unknown(format!("source '{}'", source.name), class.index()));
            }
        }
        for node in &self.nodes {
            if node.class_service.len() > count {
                return Err(unknown(format!("node '{}'", node.name), node.class_service.len() - 1));
            }
        }
        Ok(())
    }

    fn check_targets(&self) -> Result<(), NetworkError> {
        let (nodes, exchanges) = (self.nodes.len(), self.exchanges.len());
        let dangling = |from: &str, target: Target| match target {
            Target::Node(id) if id.index() >= nodes => Err(NetworkError::DanglingTarget {
                from: from.to_owned(),
                what: "node",
                to: id.0,
                count: nodes,
            }),
            Target::Exchange(id) if id.index() >= exchanges => Err(NetworkError::DanglingTarget {
                from: from.to_owned(),
                what: "exchange",
                to: id.0,
                count: exchanges,
            }),
            _ => Ok(()),
        };
        for source in &self.sources {
            dangling(&source.name, source.target)?;
        }
        for node in &self.nodes {
            node.routing.branches().try_for_each(|route| dangling(&node.name, route.target))?;
            node.dead_letter.map_or(Ok(()), |target| dangling(&node.name, target))?;
        }
        for exchange in &self.exchanges {
            exchange.possible_targets().try_for_each(|target| dangling(&exchange.name, target))?;
        }
        Ok(())
    }

    /// Every join names a fork exchange.
    fn check_joins(&self) -> Result<(), NetworkError> {
        for node in &self.nodes {
            if let Some(fork) = node.join
                && self.exchange(fork).kind != ExchangeKind::Fork
            {
                let exchange = self.exchange(fork).name.clone();
                return Err(NetworkError::JoinWithoutFork { node: node.name.clone(), exchange });
            }
        }
        Ok(())
    }

    /// Rejects ways into a blocking node that have nobody to hold a message while it is full:
    /// exchanges, delayed routes and dead-lettering.
    fn check_blocking_feeds(&self) -> Result<(), NetworkError> {
        let blocking = |target: Target| match target {
            Target::Node(id) => {
                (self.node(id).overflow == Overflow::Block).then(|| self.node(id).name.clone())
            }
            _ => None,
        };
        let error = |node: String, via: String| Err(NetworkError::IndirectBlocking { node, via });
        for exchange in &self.exchanges {
            if let Some(node) = exchange.possible_targets().find_map(blocking) {
                return error(node, format!("exchange '{}'", exchange.name));
            }
        }
        for node in &self.nodes {
            if let Some(target) = node.dead_letter.and_then(blocking) {
                return error(target, format!("the dead-letter route of node '{}'", node.name));
            }
            if let Some(target) =
                node.routing.branches().filter(|r| r.delay.is_some()).find_map(|r| blocking(r.target))
            {
                return error(target, format!("a delayed route of node '{}'", node.name));
            }
        }
        Ok(())
    }

    /// Rejects a cycle among exchanges (depth-first search over exchange-to-exchange edges).
    fn check_exchange_loops(&self) -> Result<(), NetworkError> {
        // 0 unvisited, 1 on the current path, 2 done.
        fn visit(network: &Network, at: usize, state: &mut [u8]) -> Result<(), usize> {
            state[at] = 1;
            for target in network.exchanges[at].possible_targets() {
                if let Target::Exchange(next) = target {
                    match state[next.index()] {
                        1 => return Err(next.index()),
                        0 => visit(network, next.index(), state)?,
                        _ => {}
                    }
                }
            }
            state[at] = 2;
            Ok(())
        }
        let mut state = vec![0u8; self.exchanges.len()];
        for start in 0..self.exchanges.len() {
            if state[start] == 0 {
                visit(self, start, &mut state)
                    .map_err(|looped| NetworkError::ExchangeLoop(self.exchanges[looped].name.clone()))?;
            }
        }
        Ok(())
    }

    /// The one node every message or copy that leaves the system delivered was last served at,
    /// if there is one: the only node with a route (or dead-letter target) that leads out
    /// without entering another node, and no source that sends out directly.
    #[must_use]
    pub fn sole_exit_node(&self) -> Option<NodeId> {
        if self.sources.iter().any(|source| self.leaves_directly(source.target)) {
            return None;
        }
        let mut exits = self.nodes.iter().enumerate().filter(|(_, node)| {
            node.routing.branches().any(|route| self.leaves_directly(route.target))
                || node.dead_letter.is_some_and(|target| self.leaves_directly(target))
        });
        let (first, _) = exits.next()?;
        exits.next().is_none().then(|| NodeId::from_index(first))
    }

    /// Whether a message sent to `target` can leave the system without entering a node
    /// (exchanges never loop among themselves, so this ends).
    fn leaves_directly(&self, target: Target) -> bool {
        match target {
            Target::Exit => true,
            Target::Node(_) => false,
            Target::Exchange(id) => {
                self.exchange(id).possible_targets().any(|next| self.leaves_directly(next))
            }
        }
    }

    /// Nodes from which exit is unreachable: every route of positive probability, every binding
    /// and alternate of the exchanges on the way, loops back. A message an exchange drops as
    /// unroutable leaves the system, so it counts as an exit.
    #[must_use]
    pub fn nodes_without_exit(&self) -> Vec<NodeId> {
        let mut node_exits = vec![false; self.nodes.len()];
        let mut exchange_exits = vec![false; self.exchanges.len()];
        let mut changed = true;
        while changed {
            changed = false;
            let exits = |target: Target, node_exits: &[bool], exchange_exits: &[bool]| match target {
                Target::Exit => true,
                Target::Node(next) => node_exits[next.index()],
                Target::Exchange(next) => exchange_exits[next.index()],
            };
            for (index, exchange) in self.exchanges.iter().enumerate() {
                if !exchange_exits[index]
                    && (exchange.unroutable == Unroutable::Drop
                        || exchange.possible_targets().any(|t| exits(t, &node_exits, &exchange_exits)))
                {
                    exchange_exits[index] = true;
                    changed = true;
                }
            }
            for (index, node) in self.nodes.iter().enumerate() {
                if !node_exits[index]
                    && node.routing.branches().any(|route| {
                        route.probability > 0.0 && exits(route.target, &node_exits, &exchange_exits)
                    })
                {
                    node_exits[index] = true;
                    changed = true;
                }
            }
        }
        (0..self.nodes.len()).filter(|&i| !node_exits[i]).map(NodeId::from_index).collect()
    }
}

/// The branch whose cumulative interval holds the uniform draw `u` in [0, 1).
fn branch_at(cumulative: &[f64], u: f64) -> usize {
    cumulative.iter().position(|&c| u < c).unwrap_or(cumulative.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, routes: Vec<Route>) -> Node {
        Node {
            name: name.to_owned(),
            servers: Servers::Finite(1),
            service: Distribution::exponential(1.0).unwrap(),
            capacity: None,
            overflow: Overflow::DropTail,
            discipline: Discipline::Fifo,
            routing: Routing::from_routes(routes),
            ttl: None,
            dead_letter: None,
            join: None,
            per_byte: 0.0,
            class_service: Vec::new(),
        }
    }

    fn source() -> Source {
        Source {
            name: "s".to_owned(),
            target: Target::Node(NodeId(0)),
            arrivals: Arrivals::Open { interarrival: Distribution::exponential(2.0).unwrap() },
            keys: None,
            priorities: None,
            size: None,
            classes: Choice::new(vec![(ClassId(0), 1.0)]),
        }
    }

    #[test]
    fn probabilistic_routing_splits_the_unit_interval() {
        let cumulative = [0.3, 1.0];
        assert_eq!(branch_at(&cumulative, 0.0), 0);
        assert_eq!(branch_at(&cumulative, 0.299), 0);
        assert_eq!(branch_at(&cumulative, 0.3), 1);
        assert_eq!(branch_at(&cumulative, 0.999_999), 1);
    }

    #[test]
    fn a_loop_without_exit_is_rejected() {
        let to = |id| vec![Route::new(Target::Node(NodeId(id)), 1.0)];
        let error =
            Network::new(vec![source()], vec![node("a", to(1)), node("b", to(0))], vec![], vec![], vec![])
                .unwrap_err();
        assert_eq!(error, NetworkError::NoExit("a".to_owned()));
    }

    #[test]
    fn feedback_with_an_exit_is_accepted() {
        let routes = vec![Route::new(Target::Node(NodeId(0)), 0.5), Route::new(Target::Exit, 0.5)];
        assert!(Network::new(vec![source()], vec![node("a", routes)], vec![], vec![], vec![]).is_ok());
    }
}
