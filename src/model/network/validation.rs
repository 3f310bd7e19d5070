//! The structural checks of a network, and the error naming the first defect found.

use thiserror::Error;

use super::Network;
use crate::model::{ExchangeKind, NodeId, Overflow, Target, Unroutable};

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

impl Network {
    pub(super) fn check_classes(&self) -> Result<(), NetworkError> {
        let count = self.classes.len();
        let unknown = |from: String, class: usize| NetworkError::UnknownClass {
            from,
            class: u16::try_from(class).unwrap_or(u16::MAX),
            count: self.classes.len(),
        };
        for source in &self.sources {
            if let Some((class, _)) =
                source.message_classes.weighted().find(|(class, _)| class.index() >= count)
            {
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

    pub(super) fn check_targets(&self) -> Result<(), NetworkError> {
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
    pub(super) fn check_joins(&self) -> Result<(), NetworkError> {
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
    pub(super) fn check_blocking_feeds(&self) -> Result<(), NetworkError> {
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
    pub(super) fn check_exchange_loops(&self) -> Result<(), NetworkError> {
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

    /// Nodes from which exit is unreachable: every route of positive probability, every binding
    /// and alternate of the exchanges on the way, loops back. A message an exchange drops as
    /// unroutable leaves the system, so it counts as an exit.
    #[must_use]
    pub fn nodes_without_exit(&self) -> Vec<NodeId> {
        // Vertices: nodes, then exchanges. Searched backwards from those with a way out, in
        // time linear in the routes (a long chain takes one pass, not one per link).
        let n = self.nodes.len();
        let vertex = |target: Target| match target {
            Target::Exit => None,
            Target::Node(next) => Some(next.index()),
            Target::Exchange(next) => Some(n + next.index()),
        };
        let mut exits = vec![false; n + self.exchanges.len()];
        let mut predecessors = vec![Vec::new(); exits.len()];
        let mut edge = |from: usize, target: Target, exits: &mut [bool]| match vertex(target) {
            Some(to) => predecessors[to].push(from),
            None => exits[from] = true,
        };
        for (index, node) in self.nodes.iter().enumerate() {
            for route in node.routing.branches().filter(|route| route.probability > 0.0) {
                edge(index, route.target, &mut exits);
            }
        }
        for (index, exchange) in self.exchanges.iter().enumerate() {
            exits[n + index] |= exchange.unroutable == Unroutable::Drop;
            for target in exchange.possible_targets() {
                edge(n + index, target, &mut exits);
            }
        }
        let mut frontier: Vec<usize> = (0..exits.len()).filter(|&v| exits[v]).collect();
        while let Some(v) = frontier.pop() {
            for &from in &predecessors[v] {
                if !exits[from] {
                    exits[from] = true;
                    frontier.push(from);
                }
            }
        }
        let node_exits = &exits[..n];
        (0..self.nodes.len()).filter(|&i| !node_exits[i]).map(NodeId::from_index).collect()
    }
}
