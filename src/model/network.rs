//! The validated network the engine runs: sources, nodes and the routes between them, addressed
//! by dense integer ids.

use super::distribution::Distribution;
use super::exchange::Exchange;
use super::ids::{DEFAULT_CLASS, ExchangeId, MessageClassId, NodeId, Target};
use super::node::Node;
use super::source::Source;

mod validation;

pub use validation::NetworkError;

/// A validated open network of sources, nodes and exchanges.
#[derive(Debug, Clone)]
pub struct Network {
    sources: Vec<Source>,
    nodes: Vec<Node>,
    exchanges: Vec<Exchange>,
    keys: Vec<String>,
    /// The message class names, indexed by [`MessageClassId`].
    classes: Vec<String>,
    /// The distinct message priorities, highest first: class i has priority `priorities[i]`.
    priorities: Vec<u8>,
    /// The class of each priority value.
    class_of: Vec<u8>,
}

impl Network {
    /// Validates the structure: every target exists, exchanges do not loop among themselves, and
    /// every node can reach exit. `keys` are the routing keys the sources draw from, indexed by
    /// [`KeyId`](super::KeyId); `classes` the message class names, indexed by [`MessageClassId`] (none given: one
    /// class, [`DEFAULT_CLASS`]).
    ///
    /// # Errors
    /// The first structural defect found.
    pub(crate) fn new(
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
            .flat_map(|source| {
                let recorded = source.replay().and_then(|replay| replay.headers().priorities.clone());
                match (recorded, &source.priorities) {
                    (Some(recorded), _) => recorded,
                    (None, Some(choice)) => choice.weighted().map(|(p, _)| p).collect(),
                    (None, None) => vec![0],
                }
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

    /// The sources, indexed by [`SourceId`](super::SourceId).
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

    /// The message class names, indexed by [`MessageClassId`].
    #[must_use]
    pub fn message_classes(&self) -> &[String] {
        &self.classes
    }

    /// The id of every message class, in order.
    pub fn class_ids(&self) -> impl Iterator<Item = MessageClassId> + use<> {
        // At most u16::MAX + 1 classes: the scenario layer interns them into u16 ids.
        (0..self.classes.len()).map(|index| MessageClassId(u16::try_from(index).unwrap_or(u16::MAX)))
    }

    /// The routing keys, indexed by [`KeyId`](super::KeyId).
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

    /// The same network with node i's service time replaced by `services[i]` for every message,
    /// whatever its class or size (no per-class or per-byte part is left). Only service times
    /// change, each a validated [`Distribution`], so the structure checked by [`Network::new`]
    /// still holds. The analysis uses it to stand a node's mixed service by one with the same
    /// moments.
    ///
    /// # Panics
    /// When `services` does not have one distribution per node.
    #[must_use]
    pub(crate) fn with_services(&self, services: Vec<Distribution>) -> Self {
        assert_eq!(services.len(), self.nodes.len(), "one service time per node");
        let mut network = self.clone();
        for (node, service) in network.nodes.iter_mut().zip(services) {
            node.service = service;
            node.class_service = Vec::new();
            node.per_byte = 0.0;
        }
        network
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Arrivals, Choice, Discipline, Overflow, Pattern, Route, Routing, Servers};

    fn node(name: &str, routes: Vec<Route>) -> Node {
        Node {
            name: name.to_owned(),
            servers: Servers::Finite(1),
            servers_schedule: None,
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
            arrivals: Arrivals::Open {
                interarrival: Distribution::exponential(2.0).unwrap(),
                pattern: Pattern::Renewal,
            },
            keys: None,
            priorities: None,
            size: None,
            message_classes: Choice::new(vec![(MessageClassId(0), 1.0)]),
        }
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
