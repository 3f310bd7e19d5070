//! The future event list: a binary heap ordered by (time, insertion sequence), so events at equal
//! times pop first-in first-out, deterministically.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Event;

/// A pending event. The time is kept as its IEEE bits: for non-negative times their order as
/// integers is the order of the times, so a comparison is two integer compares.
#[derive(Debug, Clone, Copy)]
struct Entry {
    time_bits: u64,
    sequence: u64,
    event: Event,
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
        (other.time_bits, other.sequence).cmp(&(self.time_bits, self.sequence))
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
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        // +0.0 turns a -0.0 into 0.0, whose bits sort first.
        self.heap.push(Entry { time_bits: (time + 0.0).to_bits(), sequence, event });
    }

    /// Removes and returns the earliest event, ties in scheduling order.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(f64, Event)> {
        self.heap.pop().map(|entry| (f64::from_bits(entry.time_bits), entry.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceId;

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
}
