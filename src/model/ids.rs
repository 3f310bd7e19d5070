//! Dense integer ids of the network's entities, and the targets a message can be sent to.

/// Index of a node in [`Network::nodes`](super::Network::nodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// Index of a source in [`Network::sources`](super::Network::sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// The class of the messages of a source that names none.
pub const DEFAULT_CLASS: &str = "default";

/// Index of a message class in [`Network::message_classes`](super::Network::message_classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MessageClassId(pub u16);

impl MessageClassId {
    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl NodeId {
    /// The id of the node at vector index `index`.
    ///
    /// # Panics
    /// Beyond u32::MAX nodes, which no scenario can declare.
    #[must_use]
    pub fn from_index(index: usize) -> Self {
        Self(u32::try_from(index).expect("node count fits in u32"))
    }

    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl SourceId {
    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of an exchange in [`Network::exchanges`](super::Network::exchanges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExchangeId(pub u32);

impl ExchangeId {
    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of a routing key in [`Network::keys`](super::Network::keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u32);

impl KeyId {
    /// The id as a vector index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a message goes next: a node's inbound channel, or out of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Into the named node's queue.
    Node(NodeId),
    /// Through an exchange, which routes by key in zero time.
    Exchange(ExchangeId),
    /// Out of the system: the message is delivered.
    Exit,
}
