//! Backpressure (`overflow = "block"`): senders that find a blocking queue full hold their
//! message, a server after its service or a source before injecting it, until the queue has
//! room; and the search for a deadlock, a set of full queues that wait on each other.

use super::{Replication, Station};
use crate::engine::Observer;
use crate::engine::messages::MessageId;
use crate::model::{Network, NodeId, Overflow, SourceId};

/// A message waiting to enter a full blocking queue, and who holds it meanwhile.
#[derive(Debug, Clone, Copy)]
pub(super) struct Blocked {
    holder: Holder,
    message: MessageId,
}

/// Who holds a blocked message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// A server of this node, which finished the message and stays unavailable.
    Node(NodeId),
    /// A source, which stops producing until the message is taken.
    Source(SourceId),
}

impl<O: Observer> Replication<'_, O> {
    /// Whether `node` blocks its senders and has no room.
    #[inline]
    pub(super) fn is_full_blocking(&self, node: NodeId) -> bool {
        let node_model = self.network.node(node);
        node_model.overflow == Overflow::Block
            && node_model.capacity.is_some_and(|capacity| self.stations[node.index()].in_system >= capacity)
    }

    /// Whether some sender still waits for room somewhere.
    pub(super) fn senders_waiting(&self) -> bool {
        self.stations.iter().any(|station| !station.senders.is_empty())
    }

    /// Backpressure at a source: it holds `message`, bound for the full `node`, and produces
    /// nothing more until the message is taken.
    #[inline(never)]
    pub(super) fn hold_at_source(&mut self, source_id: SourceId, node: NodeId, message: MessageId) {
        let station = &mut self.stations[node.index()];
        station.senders.push_back(Blocked { holder: Holder::Source(source_id), message });
        self.held[source_id.index()] += 1;
        self.observer.source_blocked(source_id, self.now, self.held[source_id.index()]);
    }

    /// Blocking after service: a server of `node_id` keeps the `message` it finished until the
    /// full `next` has room. When that blocks the node's last server, the deadlock search runs.
    #[inline(never)]
    pub(super) fn hold_at_worker(&mut self, node_id: NodeId, next: NodeId, message: MessageId) {
        let station = &mut self.stations[node_id.index()];
        station.blocked += 1;
        let state = station.state();
        self.stations[next.index()].senders.push_back(Blocked { holder: Holder::Node(node_id), message });
        self.observer.node_state(node_id, self.now, state);
        if self.network.node(node_id).servers.count() == Some(state.blocked) {
            self.frozen = self.search.frozen_from(node_id, self.network, &self.stations);
        }
    }

    /// A message left `node_id`: senders blocked on its queue, if any, may move in.
    #[inline(always)]
    pub(super) fn unblock(&mut self, node_id: NodeId) {
        if !self.stations[node_id.index()].senders.is_empty() {
            self.release_senders(node_id);
        }
    }

    /// A blocking queue has room again: its earliest-blocked senders move their messages in,
    /// and each upstream server so released takes its next message (which may in turn release
    /// the senders blocked on its own node).
    #[inline(never)]
    fn release_senders(&mut self, node_id: NodeId) {
        let Some(capacity) = self.network.node(node_id).capacity else { return };
        loop {
            let station = &mut self.stations[node_id.index()];
            if station.in_system >= capacity {
                return;
            }
            let Some(blocked) = station.senders.pop_front() else { return };
            match blocked.holder {
                Holder::Node(upstream) => {
                    self.stations[upstream.index()].blocked -= 1;
                    self.leave(upstream, blocked.message);
                    self.arrive(node_id, blocked.message);
                    self.unblock(upstream);
                }
                Holder::Source(source) => {
                    self.held[source.index()] -= 1;
                    self.observer.source_blocked(source, self.now, self.held[source.index()]);
                    self.arrive(node_id, blocked.message);
                    self.next_arrival(source);
                }
            }
        }
    }
}

/// The search for a deadlock around a node whose last server just blocked.
#[derive(Debug)]
pub(super) struct DeadlockSearch {
    /// Marks of the nodes the search has reached, one per node.
    reached: Vec<bool>,
    /// The nodes reached but not yet looked at.
    pending: Vec<NodeId>,
}

impl DeadlockSearch {
    /// Scratch space for a network of `nodes` nodes.
    pub(super) fn new(nodes: usize) -> Self {
        Self { reached: vec![false; nodes], pending: Vec::new() }
    }

    /// Whether the node `start`, every server of which is blocked, is part of a deadlock: every
    /// node its blocked servers wait on, and every node theirs wait on, and so on, has all its
    /// servers blocked too and no expiry pending that could free a slot. Nothing in that set
    /// can then move again, whatever happens elsewhere.
    #[inline(never)]
    fn frozen_from(&mut self, start: NodeId, network: &Network, stations: &[Station]) -> bool {
        self.reached.fill(false);
        self.reached[start.index()] = true;
        self.pending.clear();
        self.pending.push(start);
        while let Some(node_id) = self.pending.pop() {
            let node = network.node(node_id);
            let station = &stations[node_id.index()];
            let all_blocked = node.servers.count() == Some(station.blocked);
            let may_expire = node.ttl.is_some() && station.waiting.front().is_some();
            if !all_blocked || may_expire {
                return false;
            }
            // The nodes where this node's servers wait for room.
            for (index, waited_on) in stations.iter().enumerate() {
                let holds = waited_on.senders.iter().any(|blocked| blocked.holder == Holder::Node(node_id));
                if holds && !self.reached[index] {
                    self.reached[index] = true;
                    self.pending.push(NodeId::from_index(index));
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{replication, scenario};
    use super::{Blocked, DeadlockSearch, Holder};
    use crate::engine::messages::MessageId;
    use crate::model::{NodeId, Target};

    /// Two single-server nodes with blocking queues of capacity 1: `a` sends to `b`, and `b`
    /// to `a` (with probability 0.9 when `cycle`, else never), else to the exit. Service takes
    /// `a_s` and `b_s` seconds.
    fn pair(cycle: bool, a_s: f64, b_s: f64) -> crate::model::Scenario {
        let b_routes =
            if cycle { r#"{ to = "a", p = 0.9 }, { to = "exit", p = 0.1 }"# } else { r#"{ to = "exit" }"# };
        scenario(&format!(
            r#"
            [[source]]
            name = "s"
            to = "a"
            interarrival = {{ dist = "exponential", rate = 0.001 }}
            [[node]]
            name = "a"
            capacity = 1
            overflow = "block"
            service = {{ dist = "deterministic", value = "{a_s}s" }}
            routes = [{{ to = "b" }}]
            [[node]]
            name = "b"
            capacity = 1
            overflow = "block"
            service = {{ dist = "deterministic", value = "{b_s}s" }}
            routes = [{b_routes}]
            "#
        ))
    }

    /// At t = 1 `a` finishes its message and blocks on the full `b`; at t = 5 `b` finishes, so
    /// `a`'s message moves in (its sojourn at `a`, blocked time included, is 5 s) and is served
    /// by t = 10.
    #[test]
    fn a_blocked_worker_hands_over_when_room_appears() {
        let scenario = pair(false, 1.0, 5.0);
        let mut replication = replication(&scenario);
        let (a, b) = (NodeId(0), NodeId(1));
        replication.inject(0.0, Target::Node(b), 0);
        replication.inject(0.0, Target::Node(a), 0);
        assert!(!replication.run_until(100.0));
        assert_eq!(replication.record().departures, vec![(b, 0.0, 5.0), (a, 0.0, 5.0), (b, 0.0, 5.0)]);
        let blocked_at_a: Vec<_> = replication
            .record()
            .states
            .iter()
            .filter(|(node, ..)| *node == a)
            .map(|(_, now, state)| (*now, state.blocked))
            .collect();
        assert_eq!(blocked_at_a, vec![(0.0, 0), (1.0, 1), (5.0, 0)]);
    }

    /// Two full blocking queues that route to each other: the search finds a deadlock only
    /// when the servers of both hold a message for the other.
    #[test]
    fn a_cycle_of_full_channels_is_a_deadlock() {
        let scenario = pair(true, 1.0, 1.0);
        let mut replication = replication(&scenario);
        let (a, b) = (NodeId(0), NodeId(1));
        let mut search = DeadlockSearch::new(2);
        // a's server holds a message for b; b's server is still serving.
        replication.stations[a.index()].blocked = 1;
        let held_by = |node| Blocked { holder: Holder::Node(node), message: MessageId(0) };
        replication.stations[b.index()].senders.push_back(held_by(a));
        assert!(!search.frozen_from(a, &scenario.network, &replication.stations));
        // b's server now holds a message for a: neither can move again.
        replication.stations[b.index()].blocked = 1;
        replication.stations[a.index()].senders.push_back(held_by(b));
        assert!(search.frozen_from(a, &scenario.network, &replication.stations));
        assert!(search.frozen_from(b, &scenario.network, &replication.stations));
    }
}
