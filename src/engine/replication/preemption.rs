//! Preemptive-resume priority: a message of a higher priority class interrupts the
//! lowest-priority message in service, which goes back to the front of its class and later
//! resumes with the service it still owes.

use super::Replication;
use crate::engine::Observer;
use crate::engine::messages::{MessageId, ServiceId};
use crate::model::NodeId;

impl<O: Observer> Replication<'_, O> {
    /// Interrupts the lowest-priority message in service if its class is below `class` (the
    /// most recently started among equals), and puts it back at the front of its class with
    /// the service it still owes. Returns whether a server was freed.
    #[inline(never)]
    pub(super) fn preempt(&mut self, node_id: NodeId, class: usize) -> bool {
        let station = &self.stations[node_id.index()];
        let victim = station
            .serving
            .iter()
            .enumerate()
            .map(|(slot, &id)| {
                let message = self.messages.get(id);
                (slot, id, self.network.class_of(message.priority), message.due - message.service)
            })
            .filter(|&(_, _, victim_class, _)| victim_class > class)
            .max_by(|a, b| a.2.cmp(&b.2).then(a.3.total_cmp(&b.3)));
        let Some((slot, id, victim_class, _)) = victim else { return false };
        let now = self.now;
        let message = self.messages.get_mut(id);
        message.remaining = Some(message.due - now);
        message.service_id = ServiceId::NOT_IN_SERVICE; // its pending completion is now stale
        let station = &mut self.stations[node_id.index()];
        station.serving.swap_remove(slot);
        station.waiting.push_front(id, victim_class);
        if station.waiting.front() == Some(id) {
            self.watch_head(node_id);
        }
        true
    }

    /// A message in service at a preemptive node finished: it can no longer be interrupted.
    #[inline(never)]
    pub(super) fn stop_serving(&mut self, node_id: NodeId, message: MessageId) {
        let serving = &mut self.stations[node_id.index()].serving;
        if let Some(slot) = serving.iter().position(|&id| id == message) {
            serving.swap_remove(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{replication, scenario};
    use crate::model::{NodeId, Target};

    /// One preemptive server serving every message for 4 s; priorities 1 (urgent) and 0.
    fn preemptive() -> crate::model::Scenario {
        scenario(
            r#"
            [[source]]
            name = "s"
            to = "n"
            interarrival = { dist = "exponential", rate = 0.001 }
            priority = { "1" = 0.5, "0" = 0.5 }
            [[node]]
            name = "n"
            discipline = "preemptive"
            service = { dist = "deterministic", value = "4s" }
            "#,
        )
    }

    /// A priority-0 message starts at t = 0 and is interrupted at t = 1 by a priority-1 one,
    /// served 1..5; the first resumes with the 3 s it still owes and leaves at 8. Its sojourn is
    /// 8 s, its wait (sojourn − service) 4 s; the stale completion at t = 4 is ignored.
    #[test]
    fn an_urgent_message_interrupts_and_the_victim_resumes() {
        let scenario = preemptive();
        let mut replication = replication(&scenario);
        let n = NodeId(0);
        replication.inject(0.0, Target::Node(n), 0);
        replication.inject(1.0, Target::Node(n), 1);
        replication.run_until(100.0);
        assert_eq!(replication.record().departures, vec![(n, 0.0, 4.0), (n, 4.0, 8.0)]);
        assert_eq!(replication.record().deliveries, vec![4.0, 8.0]);
    }

    /// An equal priority never interrupts: the second message waits its turn.
    #[test]
    fn an_equal_priority_waits() {
        let scenario = preemptive();
        let mut replication = replication(&scenario);
        let n = NodeId(0);
        replication.inject(0.0, Target::Node(n), 1);
        replication.inject(1.0, Target::Node(n), 1);
        replication.run_until(100.0);
        assert_eq!(replication.record().departures, vec![(n, 0.0, 4.0), (n, 3.0, 7.0)]);
    }
}
