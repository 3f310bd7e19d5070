//! A node's waiting line: one FIFO queue, or one per priority class served highest first.

use std::collections::VecDeque;

use super::messages::MessageId;

/// Messages waiting for a server.
#[derive(Debug)]
pub(crate) enum WaitingLine {
    /// First in, first out.
    Fifo(VecDeque<MessageId>),
    /// One FIFO queue per priority class, class 0 the highest.
    Classes(Vec<VecDeque<MessageId>>),
}

impl WaitingLine {
    /// A FIFO line, or a line with `classes` priority classes when there are several.
    pub fn new(classes: usize, capacity_hint: usize) -> Self {
        if classes > 1 {
            Self::Classes((0..classes).map(|_| VecDeque::new()).collect())
        } else {
            Self::Fifo(VecDeque::with_capacity(capacity_hint))
        }
    }

    /// Appends a message of priority `class` at the back of its class.
    #[inline]
    pub fn push_back(&mut self, id: MessageId, class: usize) {
        match self {
            Self::Fifo(queue) => queue.push_back(id),
            Self::Classes(queues) => queues[class].push_back(id),
        }
    }

    /// Puts a message back at the front of its class (a preempted message resumes first).
    pub fn push_front(&mut self, id: MessageId, class: usize) {
        match self {
            Self::Fifo(queue) => queue.push_front(id),
            Self::Classes(queues) => queues[class].push_front(id),
        }
    }

    /// The next message to serve: the oldest of the highest class.
    #[inline]
    pub fn front(&self) -> Option<MessageId> {
        match self {
            Self::Fifo(queue) => queue.front().copied(),
            Self::Classes(queues) => queues.iter().find_map(|queue| queue.front().copied()),
        }
    }

    /// Removes and returns the next message to serve.
    #[inline]
    pub fn pop_front(&mut self) -> Option<MessageId> {
        match self {
            Self::Fifo(queue) => queue.pop_front(),
            Self::Classes(queues) => queues.iter_mut().find_map(VecDeque::pop_front),
        }
    }

    /// The first message of each class (the oldest waiting message is one of them).
    pub fn heads(&self) -> impl Iterator<Item = MessageId> + '_ {
        let (fifo, classes) = match self {
            Self::Fifo(queue) => (queue.front().copied(), &[][..]),
            Self::Classes(queues) => (None, queues.as_slice()),
        };
        fifo.into_iter().chain(classes.iter().filter_map(|queue| queue.front().copied()))
    }

    /// Removes the message drop-head discards: the oldest of the lowest class present.
    pub fn pop_victim(&mut self) -> Option<MessageId> {
        match self {
            Self::Fifo(queue) => queue.pop_front(),
            Self::Classes(queues) => queues.iter_mut().rev().find_map(VecDeque::pop_front),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_served_highest_first_and_fifo_within() {
        let mut line = WaitingLine::new(3, 0);
        line.push_back(MessageId(1), 2);
        line.push_back(MessageId(2), 0);
        line.push_back(MessageId(3), 2);
        line.push_back(MessageId(4), 0);
        line.push_front(MessageId(5), 1);
        assert_eq!(line.pop_victim(), Some(MessageId(1)));
        let order: Vec<_> = std::iter::from_fn(|| line.pop_front()).map(|id| id.0).collect();
        assert_eq!(order, vec![2, 4, 5, 3]);
        assert_eq!(line.front(), None);
    }
}
