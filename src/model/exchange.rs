//! Exchanges: zero-time routers that send each message, by its routing key, to zero, one or
//! several targets, with the matching rules of real brokers. Matching is done once per
//! (exchange, key) when the model is built, so routing costs one slice lookup per message.

use super::ids::{KeyId, Target};
use super::matching::{kafka_partition, prefix_matches, topic_matches};

/// The matching rule of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// RabbitMQ direct: a binding matches when its key equals the routing key exactly.
    Direct,
    /// RabbitMQ fanout (ZeroMQ PUB without filters): a copy to every bound target.
    Fanout,
    /// RabbitMQ topic: AMQP patterns, `*` one word and `#` zero or more words.
    Topic,
    /// ZeroMQ PUB/SUB: a subscription matches when it is a prefix of the topic (the key).
    Prefix,
    /// Kafka's default partitioner: murmur2(key) modulo the number of partitions; the bindings
    /// are the partitions in order.
    KeyHash,
    /// Work distribution: each message to the next target in turn (ZeroMQ PUSH, RabbitMQ's
    /// dispatch to competing consumers).
    RoundRobin,
    /// Work distribution: each message to a target drawn uniformly at random.
    Random,
    /// Work distribution: to the node holding the fewest messages (ties at random).
    ShortestQueue,
    /// Work distribution: two distinct nodes drawn at random, to the one holding fewer messages.
    PowerOfTwo,
    /// Work distribution: to the node with the fewest messages per server (ties at random).
    LeastLoaded,
    /// Scatter (MapReduce's map, fork/join): the message is split into parts, `parts` to each
    /// binding, which a node with `join` set to this exchange gathers back into one message.
    Fork,
}

impl ExchangeKind {
    /// The scenario-file spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Fanout => "fanout",
            Self::Topic => "topic",
            Self::Prefix => "prefix",
            Self::KeyHash => "key-hash",
            Self::RoundRobin => "round-robin",
            Self::Random => "random",
            Self::ShortestQueue => "shortest-queue",
            Self::PowerOfTwo => "power-of-two",
            Self::LeastLoaded => "least-loaded",
            Self::Fork => "fork",
        }
    }

    /// Whether it sends each message to exactly one of its targets (work distribution) rather
    /// than to every matching one.
    #[must_use]
    pub fn is_balancer(self) -> bool {
        matches!(
            self,
            Self::RoundRobin | Self::Random | Self::ShortestQueue | Self::PowerOfTwo | Self::LeastLoaded
        )
    }

    /// Whether its choice depends on the state of the targets (their queue lengths).
    #[must_use]
    pub fn is_state_dependent(self) -> bool {
        matches!(self, Self::ShortestQueue | Self::PowerOfTwo | Self::LeastLoaded)
    }
}

/// One binding: a pattern (its meaning depends on the exchange kind) and the target it feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Binding key, topic pattern or subscription prefix; empty for fanout and key-hash.
    pub pattern: String,
    /// Where matching messages go.
    pub target: Target,
}

/// What happens to a message that matches no binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unroutable {
    /// Dropped and counted (RabbitMQ's default for unroutable messages).
    Drop,
    /// Sent to an alternate target (RabbitMQ's alternate exchange).
    To(Target),
}

/// A validated exchange with its routing table precomputed for every key.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Unique name from the scenario.
    pub(crate) name: String,
    /// The matching rule.
    pub(crate) kind: ExchangeKind,
    /// The bindings, in file order.
    pub(crate) bindings: Vec<Binding>,
    /// What happens to unroutable messages.
    pub(crate) unroutable: Unroutable,
    /// For a fork: the parts each binding receives (at least 1).
    pub(crate) parts: u32,
    /// Targets per key id, each target at most once (a broker delivers one copy per queue even
    /// when several bindings match).
    by_key: Vec<Vec<Target>>,
    /// Targets of a message without a key.
    keyless: Vec<Target>,
}

impl Exchange {
    /// Unique name from the scenario.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching rule.
    #[must_use]
    pub fn kind(&self) -> ExchangeKind {
        self.kind
    }

    /// Builds an exchange and its routing table over the network's `keys`.
    #[must_use]
    pub(crate) fn new(
        name: String,
        kind: ExchangeKind,
        bindings: Vec<Binding>,
        unroutable: Unroutable,
        keys: &[String],
    ) -> Self {
        let by_key = keys.iter().map(|key| matching_targets(kind, &bindings, Some(key))).collect();
        let keyless = matching_targets(kind, &bindings, None);
        Self { name, kind, bindings, unroutable, parts: 1, by_key, keyless }
    }

    /// A fork sending `parts` parts to each binding.
    #[must_use]
    pub(crate) fn fork(name: String, bindings: Vec<Binding>, parts: u32, keys: &[String]) -> Self {
        let parts = parts.max(1);
        let targets: Vec<Target> =
            bindings.iter().flat_map(|b| std::iter::repeat_n(b.target, parts as usize)).collect();
        let by_key = vec![targets.clone(); keys.len()];
        Self {
            name,
            kind: ExchangeKind::Fork,
            bindings,
            unroutable: Unroutable::Drop,
            parts,
            by_key,
            keyless: targets,
        }
    }

    /// For a fork, the number of parts a message is split into.
    #[must_use]
    pub fn total_parts(&self) -> u32 {
        u32::try_from(self.keyless.len()).unwrap_or(u32::MAX)
    }

    /// The targets a message with routing key `key` goes to (empty when unroutable).
    #[inline]
    #[must_use]
    pub fn targets(&self, key: Option<KeyId>) -> &[Target] {
        match key {
            Some(key) => &self.by_key[key.index()],
            None => &self.keyless,
        }
    }

    /// Every target a message can reach from here, including the alternate target.
    pub fn possible_targets(&self) -> impl Iterator<Item = Target> + '_ {
        let alternate = match self.unroutable {
            Unroutable::To(target) => Some(target),
            Unroutable::Drop => None,
        };
        self.bindings.iter().map(|binding| binding.target).chain(alternate)
    }
}

/// The distinct targets of the bindings that match `key`, in binding order.
fn matching_targets(kind: ExchangeKind, bindings: &[Binding], key: Option<&String>) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    let mut add = |target: Target| {
        if !targets.contains(&target) {
            targets.push(target);
        }
    };
    match (kind, key) {
        (ExchangeKind::Fanout, _) => bindings.iter().for_each(|b| add(b.target)),
        (balancer, _) if balancer.is_balancer() => bindings.iter().for_each(|b| add(b.target)),
        // Without a key a record may go to any partition.
        (ExchangeKind::KeyHash, None) => bindings.iter().for_each(|b| add(b.target)),
        (ExchangeKind::KeyHash, Some(key)) if !bindings.is_empty() => {
            let partitions = u32::try_from(bindings.len()).unwrap_or(u32::MAX);
            add(bindings[kafka_partition(key.as_bytes(), partitions) as usize].target);
        }
        // AMQP's routing key defaults to the empty string.
        (ExchangeKind::Direct, key) => {
            let key = key.map_or("", String::as_str);
            bindings.iter().filter(|b| b.pattern == key).for_each(|b| add(b.target));
        }
        (ExchangeKind::Topic, key) => {
            let key = key.map_or("", String::as_str);
            bindings.iter().filter(|b| topic_matches(&b.pattern, key)).for_each(|b| add(b.target));
        }
        (ExchangeKind::Prefix, key) => {
            let topic = key.map_or("", String::as_str);
            bindings.iter().filter(|b| prefix_matches(&b.pattern, topic)).for_each(|b| add(b.target));
        }
        _ => {}
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeId;

    fn node(i: u32) -> Target {
        Target::Node(NodeId(i))
    }

    fn binding(pattern: &str, target: Target) -> Binding {
        Binding { pattern: pattern.to_owned(), target }
    }

    #[test]
    fn topic_routing_delivers_one_copy_per_target() {
        // RabbitMQ tutorial 5: Q1 binds *.orange.*, Q2 binds *.*.rabbit and lazy.#;
        // "lazy.orange.rabbit" matches both of Q2's bindings but Q2 gets one copy.
        let keys = ["quick.orange.rabbit", "lazy.orange.rabbit", "quick.brown.fox"].map(str::to_owned);
        let bindings =
            vec![binding("*.orange.*", node(1)), binding("*.*.rabbit", node(2)), binding("lazy.#", node(2))];
        let exchange = Exchange::new("x".into(), ExchangeKind::Topic, bindings, Unroutable::Drop, &keys);
        assert_eq!(exchange.targets(Some(KeyId(0))), &[node(1), node(2)]);
        assert_eq!(exchange.targets(Some(KeyId(1))), &[node(1), node(2)]);
        assert_eq!(exchange.targets(Some(KeyId(2))), &[] as &[Target]);
        // A message without a key has the empty routing key, which "*.orange.*" and friends miss.
        assert_eq!(exchange.targets(None), &[] as &[Target]);
    }

    #[test]
    fn fanout_ignores_the_key_and_direct_needs_an_exact_match() {
        let keys = ["a".to_owned()];
        let bindings = vec![binding("a", node(0)), binding("b", node(1))];
        let fanout =
            Exchange::new("f".into(), ExchangeKind::Fanout, bindings.clone(), Unroutable::Drop, &keys);
        assert_eq!(fanout.targets(None), &[node(0), node(1)]);
        let direct = Exchange::new("d".into(), ExchangeKind::Direct, bindings, Unroutable::Drop, &keys);
        assert_eq!(direct.targets(Some(KeyId(0))), &[node(0)]);
    }
}
