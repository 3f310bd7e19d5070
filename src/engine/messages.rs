//! Messages in flight and the multicast parents of their copies, both in slabs with free lists:
//! no allocation per message in steady state.

use super::observer::MessageEnd;
use crate::model::{ExchangeId, KeyId, MessageClassId, NodeId, SourceId};

/// Index of a message in the [`Messages`] slab. Events and queues refer to messages by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageId(pub(super) u32);

impl MessageId {
    /// Its position in the slab.
    #[inline]
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identifies one service of one message, unique in a replication (until 2³² − 1 services have
/// started), so that the completion event of an interrupted service is recognised as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServiceId(u32);

impl ServiceId {
    /// The first service of a replication.
    pub const FIRST: Self = Self(0);

    /// The mark of a message not in service (waiting, blocked, or preempted, which makes the
    /// pending completion of its interrupted service stale). No service has this id: the ids
    /// cycle below it. A plain `u32` rather than an `Option` over a non-zero integer keeps the
    /// completion event's decoding free of a check, which the instruction count of the M/M/1
    /// benchmark showed to cost about 3% per event.
    pub const NOT_IN_SERVICE: Self = Self(u32::MAX);

    /// The service started after this one; the ids cycle back to [`ServiceId::FIRST`] before
    /// reaching [`ServiceId::NOT_IN_SERVICE`].
    #[inline]
    pub fn next(self) -> Self {
        Self(self.0.wrapping_add(1) % u32::MAX)
    }

    /// The id as a word of an encoded event.
    #[inline]
    pub fn word(self) -> u32 {
        self.0
    }

    /// The id encoded as `word` by [`ServiceId::word`].
    #[inline]
    pub fn from_word(word: u32) -> Self {
        Self(word)
    }
}

/// A `u32` index that may be absent, in 4 bytes: the compact link fields of [`Message`] (routing
/// key, multicast parent, last node, fork job), where an `Option<u32>` would take 8. No index
/// reaches `u32::MAX`: the slabs and the model's ids are far smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link(u32);

impl Link {
    /// No index.
    const NONE: Self = Self(u32::MAX);

    /// The link to `index`.
    fn to(index: u32) -> Self {
        debug_assert_ne!(index, u32::MAX, "u32::MAX stands for no index");
        Self(index)
    }

    /// The index, if there is one.
    #[inline]
    fn get(self) -> Option<u32> {
        (self != Self::NONE).then_some(self.0)
    }
}

/// A message in flight. Events and queues refer to it by id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Message {
    /// Creation time at its source, seconds.
    pub born: f64,
    /// Arrival time at the node currently holding it, seconds.
    pub arrived: f64,
    /// Time it waited in the current node's queue before its service started, seconds.
    pub wait: f64,
    /// Its total service requirement at the current node, seconds (set when service starts).
    pub service: f64,
    /// When its current service will complete, seconds.
    pub due: f64,
    /// Service still owed after a preemption, seconds; `None` when its service at the current
    /// node has not been interrupted (it has not started, or runs, or ran uninterrupted).
    pub remaining: Option<f64>,
    /// Its current service, or [`ServiceId::NOT_IN_SERVICE`].
    pub service_id: ServiceId,
    /// Its priority (higher is more urgent).
    pub priority: u8,
    /// Its class.
    pub class: MessageClassId,
    /// Its size in bytes.
    pub size: f64,
    /// The source that created it.
    pub source: SourceId,
    /// Its routing key.
    key: Link,
    /// The multicast parent of this copy; none for a message never copied.
    parent: Link,
    /// The node that last held it.
    last_node: Link,
    /// The fork job this message is a part of.
    job: Link,
}

impl Message {
    /// A new message from `source` at time `now`, with its headers.
    pub fn new(
        source: SourceId,
        now: f64,
        key: Option<KeyId>,
        priority: u8,
        class: MessageClassId,
        size: f64,
    ) -> Self {
        Self {
            born: now,
            arrived: now,
            wait: 0.0,
            service: 0.0,
            due: 0.0,
            remaining: None,
            service_id: ServiceId::NOT_IN_SERVICE,
            priority,
            class,
            size,
            source,
            key: key.map_or(Link::NONE, |k| Link::to(k.0)),
            parent: Link::NONE,
            last_node: Link::NONE,
            job: Link::NONE,
        }
    }

    /// The fork job it is a part of.
    pub fn job(&self) -> Option<u32> {
        self.job.get()
    }

    /// Its routing key.
    pub fn key(&self) -> Option<KeyId> {
        self.key.get().map(KeyId)
    }

    /// Whether it is one of several copies of a multicast message, or a part of a fork.
    pub fn is_copy(&self) -> bool {
        self.parent != Link::NONE || self.job != Link::NONE
    }

    /// Who it belonged to, for the observer when it ends.
    pub fn end(&self) -> MessageEnd {
        MessageEnd { source: self.source, copy: self.is_copy(), class: self.class, born: self.born }
    }

    /// The node that last held it.
    pub fn last_node(&self) -> Option<NodeId> {
        self.last_node.get().map(NodeId)
    }

    /// The node that holds it, while it is held by one.
    pub fn node(&self) -> NodeId {
        debug_assert_ne!(self.last_node, Link::NONE, "the message is held by a node");
        NodeId(self.last_node.0)
    }

    /// Records that `node` now holds it, since `now`.
    pub fn enter(&mut self, node: NodeId, now: f64) {
        self.last_node = Link::to(node.0);
        self.arrived = now;
        self.remaining = None;
        self.service_id = ServiceId::NOT_IN_SERVICE;
    }
}

/// A multicast message whose copies are still in flight.
#[derive(Debug, Clone, Copy)]
struct Parent {
    /// Copies not yet delivered or dropped.
    outstanding: u32,
    /// Whether some copy was dropped.
    any_dropped: bool,
}

/// How a copy's multicast parent ended, when its last copy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParentEnd {
    /// Copies remain in flight.
    Pending,
    /// Every copy was delivered.
    AllDelivered,
    /// Some copy was dropped.
    Partial,
}

/// A message split by a fork, waiting for its parts.
#[derive(Debug, Clone, Copy)]
struct Job {
    /// The message as it was when forked.
    original: Message,
    /// Parts in total.
    parts: u32,
    /// Parts still in flight.
    outstanding: u32,
    /// Parts gathered at a join.
    joined: u32,
    /// Whether some part was dropped.
    failed: bool,
    /// The fork that made the parts.
    fork: u32,
}

/// What became of a fork job when one of its parts ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JobEnd {
    /// Parts remain in flight.
    Pending,
    /// Every part was gathered: the original message continues.
    Joined(Message),
    /// Some parts were gathered but others were lost or left elsewhere: the original is lost.
    Lost(Message),
    /// No part was gathered: the parts were delivered or dropped on their own (`true` when
    /// some part was dropped).
    Scattered(Message, bool),
}

/// The message, parent and job slabs.
#[derive(Debug, Default)]
pub(crate) struct Messages {
    messages: Vec<Message>,
    free: Vec<MessageId>,
    parents: Vec<Parent>,
    free_parents: Vec<u32>,
    jobs: Vec<Job>,
    free_jobs: Vec<u32>,
}

impl Messages {
    /// Stores a message and returns its id.
    pub fn insert(&mut self, message: Message) -> MessageId {
        if let Some(id) = self.free.pop() {
            self.messages[id.index()] = message;
            id
        } else {
            let id = MessageId(u32::try_from(self.messages.len()).expect("message ids fit in u32"));
            self.messages.push(message);
            id
        }
    }

    /// Removes a message and returns it.
    pub fn remove(&mut self, id: MessageId) -> Message {
        self.free.push(id);
        self.messages[id.index()]
    }

    /// The message with this id.
    pub fn get(&self, id: MessageId) -> &Message {
        &self.messages[id.index()]
    }

    /// The message with this id, to update.
    pub fn get_mut(&mut self, id: MessageId) -> &mut Message {
        &mut self.messages[id.index()]
    }

    /// Messages in flight.
    pub fn live(&self) -> usize {
        self.messages.len() - self.free.len()
    }

    /// A new copy of message `id`, sharing its multicast parent (created on the first copy).
    pub fn copy(&mut self, id: MessageId) -> MessageId {
        let mut copy = *self.get(id);
        let parent = match copy.parent.get() {
            Some(parent) => parent,
            None => {
                let parent = self.new_parent();
                copy.parent = Link::to(parent);
                self.get_mut(id).parent = copy.parent;
                parent
            }
        };
        self.parents[parent as usize].outstanding += 1;
        self.insert(copy)
    }

    fn new_parent(&mut self) -> u32 {
        let parent = Parent { outstanding: 1, any_dropped: false };
        if let Some(index) = self.free_parents.pop() {
            self.parents[index as usize] = parent;
            index
        } else {
            self.parents.push(parent);
            u32::try_from(self.parents.len() - 1).expect("parent ids fit in u32")
        }
    }

    /// Splits message `id` into `parts` parts (the message itself is set aside until they are
    /// joined) and returns the parts' template.
    pub fn fork(&mut self, id: MessageId, parts: u32, fork: ExchangeId) -> Message {
        let original = self.remove(id);
        let job = Job { original, parts, outstanding: parts, joined: 0, failed: false, fork: fork.0 };
        let index = if let Some(index) = self.free_jobs.pop() {
            self.jobs[index as usize] = job;
            index
        } else {
            self.jobs.push(job);
            u32::try_from(self.jobs.len() - 1).expect("job ids fit in u32")
        };
        Message { job: Link::to(index), parent: Link::NONE, ..original }
    }

    /// Whether message `id` is a part made by `fork`.
    pub fn is_part_of(&self, id: MessageId, fork: ExchangeId) -> bool {
        self.get(id).job().is_some_and(|job| self.jobs[job as usize].fork == fork.0)
    }

    /// A part reached its join: it is absorbed, and the job may be complete.
    pub fn join(&mut self, part: MessageId) -> JobEnd {
        let part = self.remove(part);
        let index = part.job.get().expect("a part belongs to a job");
        self.jobs[index as usize].joined += 1;
        self.end_part(&part, true)
    }

    /// Accounts for the end of a part (joined, delivered or dropped).
    pub fn end_part(&mut self, part: &Message, delivered: bool) -> JobEnd {
        let index = part.job.get().expect("a part belongs to a job");
        let job = &mut self.jobs[index as usize];
        job.outstanding -= 1;
        job.failed |= !delivered;
        if job.outstanding > 0 {
            return JobEnd::Pending;
        }
        let job = *job;
        self.free_jobs.push(index);
        match job.joined {
            0 => JobEnd::Scattered(job.original, job.failed),
            joined if joined == job.parts && !job.failed => JobEnd::Joined(job.original),
            _ => JobEnd::Lost(job.original),
        }
    }

    /// Accounts for the end of a copy (delivered or not); says how its parent ended.
    pub fn end_copy(&mut self, message: &Message, delivered: bool) -> ParentEnd {
        let index = message.parent.get().expect("a copy has a parent");
        let parent = &mut self.parents[index as usize];
        parent.outstanding -= 1;
        parent.any_dropped |= !delivered;
        if parent.outstanding > 0 {
            return ParentEnd::Pending;
        }
        self.free_parents.push(index);
        if parent.any_dropped { ParentEnd::Partial } else { ParentEnd::AllDelivered }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ids_cycle_below_the_not_in_service_mark() {
        let last = ServiceId::from_word(u32::MAX - 1);
        assert_eq!(last.next(), ServiceId::FIRST);
        assert_ne!(last, ServiceId::NOT_IN_SERVICE);
        assert_eq!(ServiceId::FIRST.next().word(), 1);
        assert_eq!(ServiceId::from_word(7).word(), 7);
    }

    #[test]
    fn a_parent_ends_with_its_last_copy() {
        let mut messages = Messages::default();
        let original = messages.insert(Message::new(SourceId(0), 0.0, None, 0, MessageClassId(0), 0.0));
        let copy = messages.copy(original);
        let third = messages.copy(original);
        assert!(messages.get(copy).is_copy() && messages.get(original).is_copy());
        let ends: Vec<ParentEnd> = [(original, true), (copy, false), (third, true)]
            .into_iter()
            .map(|(id, delivered)| {
                let message = messages.remove(id);
                messages.end_copy(&message, delivered)
            })
            .collect();
        assert_eq!(ends, vec![ParentEnd::Pending, ParentEnd::Pending, ParentEnd::Partial]);
        assert_eq!(messages.live(), 0);
    }
}
