//! Fork/join (scatter-gather): a fork exchange splits a message into parts, and the node that
//! joins that fork gathers them back into the original message, which goes on when its last
//! part arrives (or is lost when some part was dropped).

use super::Replication;
use crate::engine::Observer;
use crate::engine::messages::{JobEnd, MessageId};
use crate::model::{ExchangeId, Target};

impl<O: Observer> Replication<'_, O> {
    /// A fork splits a message into parts, one per target.
    #[inline(never)]
    pub(super) fn fork(&mut self, fork: ExchangeId, targets: &[Target], message: MessageId) {
        let parts = u32::try_from(targets.len()).unwrap_or(u32::MAX);
        let template = self.messages.fork(message, parts, fork);
        for &target in targets {
            let part = self.messages.insert(template);
            self.deliver(target, part);
        }
    }

    /// A part reached the node that joins its fork: it waits for its siblings. The last one
    /// releases the original message, returned to go on in the part's place; until then, or
    /// when the original is lost, there is nothing to go on.
    #[inline(never)]
    pub(super) fn gather(&mut self, part: MessageId) -> Option<MessageId> {
        match self.messages.join(part) {
            JobEnd::Joined(original) => Some(self.messages.insert(original)),
            outcome => {
                self.job_ended(outcome);
                None
            }
        }
    }

    /// A fork job whose last part ended without being gathered: the original message is lost
    /// (some parts were gathered) or its parts simply ended on their own (none was).
    #[inline(never)]
    pub(super) fn job_ended(&mut self, outcome: JobEnd) {
        match outcome {
            JobEnd::Pending => {}
            JobEnd::Lost(original) | JobEnd::Scattered(original, true) => {
                self.observer.lost(original.end());
                self.close(&original, false);
            }
            JobEnd::Scattered(original, false) | JobEnd::Joined(original) => self.close(&original, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{replication, scenario};
    use crate::model::{ExchangeId, NodeId, Target};

    /// A fork `split` into 2 parts for `map` (`servers` servers serving 1 s, holding at most
    /// `capacity`, dropping the rest), whose parts the node `reduce` (1 s) joins.
    fn scatter_gather(servers: u32, capacity: u32) -> crate::model::Scenario {
        scenario(&format!(
            r#"
            [[source]]
            name = "s"
            to = "split"
            interarrival = {{ dist = "exponential", rate = 0.001 }}
            [[exchange]]
            name = "split"
            type = "fork"
            parts = 2
            bindings = [{{ to = "map" }}]
            [[node]]
            name = "map"
            servers = {servers}
            capacity = {capacity}
            service = {{ dist = "deterministic", value = "1s" }}
            routes = [{{ to = "reduce" }}]
            [[node]]
            name = "reduce"
            join = "split"
            service = {{ dist = "deterministic", value = "1s" }}
            "#
        ))
    }

    /// Both parts are mapped in parallel (0..1), the second to reach `reduce` releases the
    /// original, which is reduced (1..2) and delivered once, 2 s after its creation.
    #[test]
    fn the_last_part_releases_the_original() {
        let scenario = scatter_gather(2, 2);
        let mut replication = replication(&scenario);
        replication.inject(0.0, Target::Exchange(ExchangeId(0)), 0);
        replication.run_until(100.0);
        let record = replication.record();
        let (map, reduce) = (NodeId(0), NodeId(1));
        assert_eq!(record.departures, vec![(map, 0.0, 1.0), (map, 0.0, 1.0), (reduce, 0.0, 1.0)]);
        assert_eq!(record.deliveries, vec![2.0]);
        assert_eq!(record.lost, 0);
    }

    /// With room for one part at `map`, the other is dropped: the part that reaches `reduce`
    /// cannot complete the job, so the original is lost and nothing is delivered.
    #[test]
    fn a_dropped_part_loses_the_original() {
        let scenario = scatter_gather(1, 1);
        let mut replication = replication(&scenario);
        replication.inject(0.0, Target::Exchange(ExchangeId(0)), 0);
        replication.run_until(100.0);
        let record = replication.record();
        assert_eq!(record.drops, vec![NodeId(0)]);
        assert!(record.deliveries.is_empty());
        assert_eq!(record.lost, 1);
        assert_eq!(replication.messages.live(), 0);
    }
}
