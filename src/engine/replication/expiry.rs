//! Time-to-live (RabbitMQ's `x-message-ttl`): a message that waited longer than its node's TTL
//! expires when it reaches the head of the queue, and is dropped or dead-lettered.

use super::{Fate, Replication};
use crate::engine::{Event, Observer};
use crate::model::NodeId;

impl<O: Observer> Replication<'_, O> {
    /// With a TTL, schedules a check at the deadline of the message now at the head of the queue.
    #[inline(always)]
    pub(super) fn watch_head(&mut self, node_id: NodeId) {
        if let Some(ttl) = self.network.node(node_id).ttl {
            self.watch_deadline(node_id, ttl);
        }
    }

    /// Schedules a check at the deadline of the message now at the head of the queue.
    #[inline(never)]
    fn watch_deadline(&mut self, node_id: NodeId, ttl: f64) {
        if let Some(head) = self.stations[node_id.index()].waiting.front() {
            let deadline = self.messages.get(head).arrived + ttl;
            self.calendar.schedule(deadline.max(self.now), Event::Expiry { node: node_id });
        }
    }

    /// Expires every message at the head of the queue whose TTL has passed (RabbitMQ removes
    /// expired messages from the head only), then watches the new head.
    #[inline(never)]
    pub(super) fn expire_due(&mut self, node_id: NodeId) {
        let node = self.network.node(node_id);
        let Some(ttl) = node.ttl else { return };
        let mut expired_any = false;
        loop {
            let station = &mut self.stations[node_id.index()];
            let Some(head) = station.waiting.front() else { break };
            if self.messages.get(head).arrived + ttl > self.now {
                break;
            }
            station.waiting.pop_front();
            station.in_system -= 1;
            self.observer.node_state(node_id, self.now, station.state());
            expired_any = true;
            match node.dead_letter {
                Some(target) => {
                    let message = self.messages.get(head);
                    let end = message.end();
                    self.observer.expired(node_id, end, true);
                    self.deliver(target, head);
                }
                None => self.finish(head, Fate::Expired(node_id)),
            }
        }
        if expired_any {
            self.watch_head(node_id);
            self.unblock(node_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{replication, scenario};
    use crate::model::{NodeId, Target};

    /// One server serving for 10 s with a TTL of 3 s, expired messages going to `dead_letter`
    /// (a node `dlq` serving for 1 s) or dropped.
    fn ttl_node(dead_letter: bool) -> crate::model::Scenario {
        let dead_letter = if dead_letter { r#"dead_letter = "dlq""# } else { "" };
        scenario(&format!(
            r#"
            [[source]]
            name = "s"
            to = "q"
            interarrival = {{ dist = "exponential", rate = 0.001 }}
            [[node]]
            name = "q"
            ttl = "3s"
            {dead_letter}
            service = {{ dist = "deterministic", value = "10s" }}
            [[node]]
            name = "dlq"
            service = {{ dist = "deterministic", value = "1s" }}
            "#
        ))
    }

    /// Messages arrive at t = 0, 1 and 2: the first is served until t = 10; the others wait and
    /// expire at their deadlines, 4 and 5, long before a server is free.
    #[test]
    fn waiting_messages_expire_at_their_deadline() {
        let scenario = ttl_node(false);
        let mut replication = replication(&scenario);
        let q = NodeId(0);
        for now in [0.0, 1.0, 2.0] {
            replication.inject(now, Target::Node(q), 0);
        }
        replication.run_until(100.0);
        let record = replication.record();
        assert_eq!(record.expired, vec![(q, false), (q, false)]);
        assert_eq!(record.departures, vec![(q, 0.0, 10.0)]);
        let expiries: Vec<f64> = record
            .states
            .iter()
            .filter(|(_, _, state)| state.in_system == 1)
            .map(|(_, now, _)| *now)
            .collect();
        assert_eq!(expiries, vec![0.0, 5.0], "in system drops to 1 when the second expires");
    }

    /// Dead-lettered messages leave `q` at their deadline and are served at `dlq`: delivered at
    /// 4 + 1 and 5 + 1, their latencies from creation 4 s each.
    #[test]
    fn expired_messages_go_to_the_dead_letter_target() {
        let scenario = ttl_node(true);
        let mut replication = replication(&scenario);
        for now in [0.0, 1.0, 2.0] {
            replication.inject(now, Target::Node(NodeId(0)), 0);
        }
        replication.run_until(100.0);
        let record = replication.record();
        assert_eq!(record.expired, vec![(NodeId(0), true), (NodeId(0), true)]);
        assert_eq!(record.deliveries, vec![4.0, 4.0, 10.0]);
    }
}
