//! The future event list: a binary heap ordered by (time, insertion sequence), so events at equal
//! times pop first-in first-out, deterministically.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Event;
use super::messages::{MessageId, ServiceId};
use crate::model::{ExchangeId, NodeId, SourceId, Target};

/// A pending event in 24 bytes, for heap moves of the fewest bytes. The time is kept as its
/// IEEE bits: for non-negative times their order as integers is the order of the times. `order`
/// is the insertion sequence shifted left two bits above the event's kind, so (time, order)
/// orders as (time, sequence) does, and a comparison is two integer compares.
#[derive(Debug, Clone, Copy)]
struct Entry {
    time_bits: u64,
    order: u64,
    words: [u32; 2],
}

const ARRIVAL: u64 = 0;
const COMPLETION: u64 = 1;
/// A node's timer: an expiry check or a staffing change, told apart by the second word.
const NODE_TIMER: u64 = 2;
const TRANSIT: u64 = 3;

/// Marks an exchange in an encoded target; node ids stay below it.
const EXCHANGE_BIT: u32 = 1 << 31;

/// The exit, as an encoded target.
const EXIT: u32 = u32::MAX;

/// The second word of a node timer that is an expiry check.
const EXPIRY_TIMER: u32 = 0;

/// The second word of a node timer that is a staffing change.
const STAFFING_TIMER: u32 = 1;

impl Event {
    /// The event's kind and two words.
    #[inline]
    fn encode(self) -> (u64, [u32; 2]) {
        match self {
            Event::Arrival(source) => (ARRIVAL, [source.0, 0]),
            Event::Completion { message, service } => (COMPLETION, [message.0, service.word()]),
            Event::Expiry { node } => (NODE_TIMER, [node.0, EXPIRY_TIMER]),
            Event::Staffing { node } => (NODE_TIMER, [node.0, STAFFING_TIMER]),
            Event::Transit { message, target } => {
                let target = match target {
                    Target::Node(node) => node.0,
                    Target::Exchange(exchange) => EXCHANGE_BIT | exchange.0,
                    Target::Exit => EXIT,
                };
                (TRANSIT, [message.0, target])
            }
        }
    }

    /// The event [`Event::encode`] gave `kind` and `words`.
    #[inline]
    fn decode(kind: u64, [first, second]: [u32; 2]) -> Self {
        match kind {
            ARRIVAL => Event::Arrival(SourceId(first)),
            COMPLETION => {
                Event::Completion { message: MessageId(first), service: ServiceId::from_word(second) }
            }
            NODE_TIMER if second == STAFFING_TIMER => Event::Staffing { node: NodeId(first) },
            NODE_TIMER => Event::Expiry { node: NodeId(first) },
            _ => {
                let target = match second {
                    EXIT => Target::Exit,
                    code if code & EXCHANGE_BIT != 0 => Target::Exchange(ExchangeId(code & !EXCHANGE_BIT)),
                    node => Target::Node(NodeId(node)),
                };
                Event::Transit { message: MessageId(first), target }
            }
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed, so that the max-heap pops the earliest (time, sequence) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_bits, other.order).cmp(&(self.time_bits, self.order))
    }
}

/// Pending events keyed by simulated time in seconds.
#[derive(Debug, Default)]
pub(crate) struct Calendar {
    heap: BinaryHeap<Entry>,
    next_sequence: u64,
}

impl Calendar {
    /// Schedules `event` at `time` (seconds, non-negative).
    #[inline]
    pub(crate) fn schedule(&mut self, time: f64, event: Event) {
        debug_assert!(time >= 0.0, "event time {time} before the start");
        let (kind, words) = event.encode();
        let order = self.next_sequence << 2 | kind;
        self.next_sequence += 1;
        // +0.0 turns a -0.0 into 0.0, whose bits sort first.
        self.heap.push(Entry { time_bits: (time + 0.0).to_bits(), order, words });
    }

    /// Removes and returns the earliest event if it falls before `until` (seconds).
    #[inline]
    pub(crate) fn pop_before(&mut self, until: f64) -> Option<(f64, Event)> {
        if self.heap.peek()?.time_bits >= (until + 0.0).to_bits() {
            return None;
        }
        self.pop()
    }

    /// Whether no event is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Removes and returns the earliest event, ties in scheduling order.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(f64, Event)> {
        let entry = self.heap.pop()?;
        Some((f64::from_bits(entry.time_bits), Event::decode(entry.order & 3, entry.words)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut calendar = Calendar::default();
        calendar.schedule(2.0, Event::Arrival(SourceId(0)));
        calendar.schedule(1.0, Event::Arrival(SourceId(1)));
        calendar.schedule(1.0, Event::Arrival(SourceId(2)));
        calendar.schedule(1.0, Event::Arrival(SourceId(3)));
        let order: Vec<_> = std::iter::from_fn(|| calendar.pop()).collect();
        assert_eq!(
            order,
            vec![
                (1.0, Event::Arrival(SourceId(1))),
                (1.0, Event::Arrival(SourceId(2))),
                (1.0, Event::Arrival(SourceId(3))),
                (2.0, Event::Arrival(SourceId(0))),
            ]
        );
    }

    #[test]
    fn every_event_survives_its_encoding() {
        let events = [
            Event::Arrival(SourceId(7)),
            Event::Completion { message: MessageId(3), service: ServiceId::from_word(u32::MAX - 1) },
            Event::Expiry { node: NodeId(5) },
            Event::Transit { message: MessageId(9), target: Target::Node(NodeId(EXCHANGE_BIT - 1)) },
            Event::Transit { message: MessageId(9), target: Target::Exchange(ExchangeId(0)) },
            Event::Transit { message: MessageId(9), target: Target::Exit },
        ];
        let mut calendar = Calendar::default();
        for event in events {
            calendar.schedule(1.0, event);
        }
        let popped: Vec<_> = std::iter::from_fn(|| calendar.pop()).map(|(_, event)| event).collect();
        assert_eq!(popped, events);
        assert_eq!(std::mem::size_of::<Entry>(), 24);
    }
}
