//! One replication: the event loop over sources and stations.

use std::collections::VecDeque;

use super::calendar::Calendar;
use super::messages::{JobEnd, Message, MessageId, Messages, ParentEnd};
use super::observer::NodeState;
use super::queue::WaitingLine;
use super::streams::{Purpose, SimRng, streams};
use super::{Event, Observer};
use crate::model::{
    Arrivals, Discipline, ExchangeId, ExchangeKind, Network, NodeId, Overflow, Settings, SourceId, Target,
    Unroutable, unit_interval,
};

/// A node's run-time state.
#[derive(Debug)]
struct Station {
    busy: u32,
    blocked: u32,
    in_system: u32,
    /// Senders waiting for room in this (full, blocking) channel, earliest first.
    senders: VecDeque<Blocked>,
    waiting: WaitingLine,
    /// Messages in service, kept only where preemption needs to find one to interrupt.
    in_service: Vec<MessageId>,
}

/// A message waiting to enter a full blocking channel, and who holds it meanwhile.
#[derive(Debug, Clone, Copy)]
struct Blocked {
    holder: Holder,
    message: MessageId,
}

/// Who holds a blocked message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// A worker of this node, which finished the message and stays unavailable.
    Node(NodeId),
    /// A source, which stops producing until the message is taken.
    Source(SourceId),
}

impl Station {
    fn state(&self) -> NodeState {
        NodeState { in_system: self.in_system, busy: self.busy, blocked: self.blocked }
    }
}

/// The search for a deadlock around a node whose last worker just blocked.
#[derive(Debug)]
struct DeadlockSearch {
    /// Marks of the nodes the search has reached, one per node.
    reached: Vec<bool>,
    /// The nodes reached but not yet looked at.
    pending: Vec<NodeId>,
}

impl DeadlockSearch {
    /// Whether the node `start`, every worker of which is blocked, is part of a deadlock: every
    /// node its blocked workers wait on, and every node theirs wait on, and so on, has all its
    /// workers blocked too and no expiry pending that could free a slot. Nothing in that set
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
            // The nodes where this node's workers wait for room.
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

/// How a replication ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunEnd {
    /// Events processed (arrivals and service completions), warm-up included.
    pub events: u64,
    /// Simulated time at which observation ended, seconds.
    pub end_s: f64,
    /// Whether the replication stopped before its horizon because messages in the system
    /// reached the cap (an overloaded network).
    pub stopped_early: bool,
    /// Whether the replication stopped before its horizon because nothing could move: every
    /// worker and source was blocked by full channels (a cycle of full buffers).
    pub deadlocked: bool,
}

/// A configured replication, ready to run (configure and run are separate steps).
pub struct Replication<'a, O: Observer> {
    network: &'a Network,
    settings: &'a Settings,
    observer: O,
    calendar: Calendar,
    messages: Messages,
    stations: Vec<Station>,
    arrival_streams: Vec<SimRng>,
    header_streams: Vec<SimRng>,
    class_streams: Vec<SimRng>,
    service_streams: Vec<SimRng>,
    routing_streams: Vec<SimRng>,
    delay_streams: Vec<SimRng>,
    balancing_streams: Vec<SimRng>,
    /// Messages each source holds, blocked by a full channel.
    held: Vec<u32>,
    /// The id of the next service started.
    next_service: u32,
    /// The next turn of each round-robin exchange.
    round_robin: Vec<usize>,
    /// Scratch space of the deadlock search, kept to allocate once.
    search: DeadlockSearch,
    /// Whether a set of full blocking channels froze: nothing in it can ever move again.
    frozen: bool,
    now: f64,
    /// Events processed so far.
    events: u64,
}

/// Why [`Replication::advance`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The next event falls at or after the time asked for.
    Reached,
    /// No event is left.
    RanDry,
    /// The messages in the system reached the cap (an overloaded network).
    Capped,
    /// Part of the network deadlocked: full blocking channels wait on each other.
    Frozen,
}

impl<'a, O: Observer> Replication<'a, O> {
    /// Prepares replication `index` of `network`, reporting to `observer`.
    pub fn new(network: &'a Network, settings: &'a Settings, index: u32, observer: O) -> Self {
        let (seed, sources, nodes) = (settings.seed, network.sources().len(), network.nodes().len());
        let stations = network
            .nodes()
            .iter()
            .map(|node| Station {
                busy: 0,
                blocked: 0,
                in_system: 0,
                senders: VecDeque::new(),
                waiting: WaitingLine::new(
                    if node.discipline == Discipline::Fifo { 1 } else { network.priorities().len() },
                    node.capacity.map_or(64, |k| k.min(4096) as usize),
                ),
                in_service: Vec::new(),
            })
            .collect();
        Self {
            network,
            settings,
            observer,
            calendar: Calendar::default(),
            messages: Messages::default(),
            stations,
            arrival_streams: streams(seed, index, Purpose::Arrivals, sources),
            header_streams: streams(seed, index, Purpose::Headers, sources),
            class_streams: streams(seed, index, Purpose::Classes, sources),
            service_streams: streams(seed, index, Purpose::Service, nodes),
            routing_streams: streams(seed, index, Purpose::Routing, nodes),
            delay_streams: streams(seed, index, Purpose::Delay, nodes),
            balancing_streams: streams(seed, index, Purpose::Balancing, network.exchanges().len()),
            round_robin: vec![0; network.exchanges().len()],
            search: DeadlockSearch { reached: vec![false; nodes], pending: Vec::new() },
            frozen: false,
            held: vec![0; sources],
            next_service: 0,
            now: 0.0,
            events: 0,
        }
    }

    /// Runs to the horizon (warm-up plus duration) or until the cap on messages in the system is
    /// reached, and hands back the observer.
    pub fn run(mut self) -> (O, RunEnd) {
        for (index, source) in self.network.sources().iter().enumerate() {
            // A closed population starts with every client thinking.
            let clients = match source.arrivals {
                Arrivals::Open { .. } => 1,
                Arrivals::Closed { population, .. } => population,
            };
            for _ in 0..clients {
                let first = source.gap().sample(&mut self.arrival_streams[index]);
                self.calendar.schedule(first, Event::Arrival(source_id(index)));
            }
        }
        let (warmup, horizon) = (self.settings.warmup_s, self.settings.horizon_s());
        let mut stop = self.advance(warmup);
        self.observer.observation_start(if stop == Stop::Reached { warmup } else { warmup.min(self.now) });
        if stop == Stop::Reached {
            // Events at the horizon itself still happen.
            stop = self.advance(horizon.next_up());
        }
        // Nothing left to happen before the horizon while senders wait: a deadlock.
        let deadlocked = stop == Stop::Frozen
            || (stop == Stop::RanDry && self.stations.iter().any(|station| !station.senders.is_empty()));
        let stopped_early = stop == Stop::Capped;
        let end_s = if stopped_early || deadlocked { self.now } else { horizon };
        (self.observer, RunEnd { events: self.events, end_s, stopped_early, deadlocked })
    }

    /// Processes the events before `until`, unless the calendar runs dry or the messages in
    /// the system reach the cap first.
    fn advance(&mut self, until: f64) -> Stop {
        let max_in_system = self.settings.max_in_system as usize;
        while let Some((time, event)) = self.calendar.pop_before(until) {
            self.now = time;
            self.events += 1;
            match event {
                Event::Arrival(source) => self.emit(source),
                Event::Completion { message, service } => self.complete(message, service),
                Event::Transit { message, target } => self.deliver(target, message),
                Event::Expiry { node } => self.expire_due(node),
            }
            if self.messages.live() >= max_in_system {
                return Stop::Capped;
            }
            if self.frozen {
                return Stop::Frozen;
            }
        }
        if self.calendar.is_empty() { Stop::RanDry } else { Stop::Reached }
    }

    /// A source creates a message, sends it on and schedules its next one.
    fn emit(&mut self, source_id: SourceId) {
        let source = &self.network.sources()[source_id.index()];
        let now = self.now;
        let headers = &mut self.header_streams[source_id.index()];
        let key = source.keys.as_ref().map(|keys| keys.choose(headers));
        let priority = source.priorities.as_ref().map_or(0, |priorities| priorities.choose(headers));
        let size = source.size.as_ref().map_or(0.0, |size| size.sample(headers));
        let class = source.classes.choose(&mut self.class_streams[source_id.index()]);
        let message = self.messages.insert(Message::new(source_id, now, key, priority, class, size));
        if let Target::Node(node) = source.target
            && self.is_full_blocking(node)
        {
            // Backpressure: the source holds the message and produces nothing more until it
            // is taken.
            let station = &mut self.stations[node.index()];
            station.senders.push_back(Blocked { holder: Holder::Source(source_id), message });
            self.held[source_id.index()] += 1;
            self.observer.source_blocked(source_id, now, self.held[source_id.index()]);
            return;
        }
        self.deliver(source.target, message);
        self.next_arrival(source_id);
    }

    /// Schedules an open source's next message.
    #[inline(always)]
    fn next_arrival(&mut self, source_id: SourceId) {
        if let Arrivals::Open { interarrival } = &self.network.sources()[source_id.index()].arrivals {
            let gap = interarrival.sample(&mut self.arrival_streams[source_id.index()]);
            self.calendar.schedule(self.now + gap, Event::Arrival(source_id));
        }
    }

    /// Whether `node` blocks its senders and has no room.
    #[inline]
    fn is_full_blocking(&self, node: NodeId) -> bool {
        let node_model = self.network.node(node);
        node_model.overflow == Overflow::Block
            && node_model.capacity.is_some_and(|capacity| self.stations[node.index()].in_system >= capacity)
    }

    /// A message left `node_id`: senders blocked on its channel, if any, may move in.
    #[inline(always)]
    fn unblock(&mut self, node_id: NodeId) {
        if !self.stations[node_id.index()].senders.is_empty() {
            self.release_senders(node_id);
        }
    }

    /// A blocking channel has room again: its earliest-blocked senders move their messages in,
    /// and each upstream worker so released takes its next message (which may in turn release
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

    /// A client of a closed population got its reply (or lost its request): it thinks, then
    /// sends again.
    #[inline(always)]
    fn client_done(&mut self, source_id: SourceId) {
        if let Arrivals::Closed { think, .. } = &self.network.sources()[source_id.index()].arrivals {
            let gap = think.sample(&mut self.arrival_streams[source_id.index()]);
            self.calendar.schedule(self.now + gap, Event::Arrival(source_id));
        }
    }

    /// Hands a message to its next target.
    #[inline(always)]
    fn deliver(&mut self, target: Target, message: MessageId) {
        match target {
            Target::Node(node) => self.arrive(node, message),
            Target::Exchange(exchange) => self.route(exchange, message),
            Target::Exit => self.finish(message, Fate::Delivered),
        }
    }

    /// An exchange sends the message to every matching target, copying it when there are
    /// several; an unroutable message is dropped or sent to the alternate target.
    #[inline(never)]
    fn route(&mut self, exchange_id: ExchangeId, message: MessageId) {
        let exchange = self.network.exchange(exchange_id);
        let key = self.messages.get(message).key();
        let targets = exchange.targets(key);
        // A keyless message at a key-hash exchange goes to a random partition (the long-run
        // effect of Kafka's partitioner for records without a key).
        let keyless_partitioning = exchange.kind == ExchangeKind::KeyHash && key.is_none();
        if exchange.kind == ExchangeKind::Fork {
            self.observer.routed(exchange_id, u32::try_from(targets.len()).unwrap_or(u32::MAX), false);
            self.fork(exchange_id, targets, message);
            return;
        }
        if (exchange.kind.is_balancer() || keyless_partitioning) && !targets.is_empty() {
            self.observer.routed(exchange_id, 1, false);
            let target = self.balance(exchange_id, targets);
            self.deliver(target, message);
            return;
        }
        let sent = match (targets.len(), exchange.unroutable) {
            (0, Unroutable::Drop) => 0,
            (0, Unroutable::To(_)) => 1,
            (n, _) => u32::try_from(n).unwrap_or(u32::MAX),
        };
        self.observer.routed(exchange_id, sent, targets.is_empty());
        match (targets, exchange.unroutable) {
            ([], Unroutable::Drop) => self.finish(message, Fate::Unroutable(exchange_id)),
            ([], Unroutable::To(alternate)) => self.deliver(alternate, message),
            ([only], _) => self.deliver(*only, message),
            ([first, rest @ ..], _) => {
                for &target in rest {
                    let copy = self.messages.copy(message);
                    self.deliver(target, copy);
                }
                self.deliver(*first, message);
            }
        }
    }

    /// The one target a work-distributing exchange picks among `targets` (never empty).
    #[inline(never)]
    fn balance(&mut self, exchange_id: ExchangeId, targets: &[Target]) -> Target {
        let index = exchange_id.index();
        let rng = &mut self.balancing_streams[index];
        let held = |target: Target| match target {
            Target::Node(node) => f64::from(self.stations[node.index()].in_system),
            Target::Exchange(_) | Target::Exit => 0.0,
        };
        match self.network.exchange(exchange_id).kind {
            ExchangeKind::RoundRobin => {
                let turn = &mut self.round_robin[index];
                let target = targets[*turn % targets.len()];
                *turn = (*turn + 1) % targets.len();
                target
            }
            ExchangeKind::PowerOfTwo if targets.len() > 1 => {
                let first = uniform_index(rng, targets.len());
                let second = (first + 1 + uniform_index(rng, targets.len() - 1)) % targets.len();
                let (a, b) = (targets[first], targets[second]);
                if held(b) < held(a) { b } else { a }
            }
            ExchangeKind::ShortestQueue => fewest(targets, held, rng),
            ExchangeKind::LeastLoaded => {
                let per_worker = |target: Target| match target {
                    Target::Node(node) => {
                        self.network.node(node).servers.count().map_or(0.0, |c| held(target) / f64::from(c))
                    }
                    Target::Exchange(_) | Target::Exit => 0.0,
                };
                fewest(targets, per_worker, rng)
            }
            _ => targets[uniform_index(rng, targets.len())],
        }
    }

    /// A message (or copy) leaves the system: delivered or dropped. When it is the last copy of
    /// a multicast message, the whole message's fate is reported too.
    #[inline(always)]
    fn finish(&mut self, id: MessageId, fate: Fate) {
        let message = self.messages.remove(id);
        let end = message.end();
        match fate {
            Fate::Delivered => self.observer.delivery(end, message.last_node(), self.now - message.born),
            Fate::Dropped(node) => self.observer.drop(node, end),
            Fate::Unroutable(exchange) => self.observer.unroutable(exchange, end),
            Fate::Expired(node) => self.observer.expired(node, end, false),
        }
        if message.job().is_some() {
            let outcome = self.messages.end_part(&message, fate == Fate::Delivered);
            self.job_ended(outcome);
        } else {
            self.close(&message, fate == Fate::Delivered);
        }
    }

    /// After a message ended: the multicast accounting of its parent, and the client of a
    /// closed population sends again.
    #[inline(always)]
    fn close(&mut self, message: &Message, delivered: bool) {
        if !message.is_copy() {
            self.client_done(message.source);
            return;
        }
        match self.messages.end_copy(message, delivered) {
            ParentEnd::Pending => {}
            ParentEnd::AllDelivered => {
                self.observer.multicast_end(message.source, Some(self.now - message.born));
                self.client_done(message.source);
            }
            ParentEnd::Partial => {
                self.observer.multicast_end(message.source, None);
                self.client_done(message.source);
            }
        }
    }

    /// A fork job whose last part ended without being gathered: the original message is lost
    /// (some parts were gathered) or its parts simply ended on their own (none was).
    #[inline(never)]
    fn job_ended(&mut self, outcome: JobEnd) {
        match outcome {
            JobEnd::Pending => {}
            JobEnd::Lost(original) | JobEnd::Scattered(original, true) => {
                self.observer.lost(original.end());
                self.close(&original, false);
            }
            JobEnd::Scattered(original, false) | JobEnd::Joined(original) => self.close(&original, true),
        }
    }

    /// A fork splits a message into parts, one per target.
    #[inline(never)]
    fn fork(&mut self, fork: ExchangeId, targets: &[Target], message: MessageId) {
        let parts = u32::try_from(targets.len()).unwrap_or(u32::MAX);
        let template = self.messages.fork(message, parts, fork);
        for &target in targets {
            let part = self.messages.insert(template);
            self.deliver(target, part);
        }
    }

    /// A message reaches a node's channel: it is dropped, served at once, or queued.
    fn arrive(&mut self, node_id: NodeId, mut message: MessageId) {
        let node = self.network.node(node_id);
        if node.join.is_some_and(|fork| self.messages.is_part_of(message, fork)) {
            // A part waits for its siblings; the last one releases the original message.
            match self.messages.join(message) {
                JobEnd::Joined(original) => message = self.messages.insert(original),
                outcome => return self.job_ended(outcome),
            }
        }
        let station = &mut self.stations[node_id.index()];
        self.observer.arrival(node_id);
        if node.capacity.is_some_and(|capacity| station.in_system >= capacity) {
            let oldest_waiting = match node.overflow {
                Overflow::DropHead => station.waiting.pop_victim(),
                // A blocking channel is never offered a message while full: senders wait in
                // `complete` and `emit`, and validation rejects every other way in.
                Overflow::DropTail | Overflow::Block => None,
            };
            // Drop-head discards the oldest waiting message and admits the arrival; with nobody
            // waiting (capacity = servers) there is nothing to discard, so the arrival is dropped.
            let Some(victim) = oldest_waiting else {
                self.finish(message, Fate::Dropped(node_id));
                return;
            };
            station.in_system -= 1;
            self.finish(victim, Fate::Dropped(node_id));
            self.watch_head(node_id);
        }
        let station = &mut self.stations[node_id.index()];
        station.in_system += 1;
        self.messages.get_mut(message).enter(node_id, self.now);
        let class = self.network.class_of(self.messages.get(message).priority);
        let free_worker = station.busy < node.servers.limit();
        if free_worker {
            station.busy += 1;
            self.start_service(node_id, message);
        } else if node.discipline == Discipline::Preemptive && self.preempt(node_id, class) {
            self.start_service(node_id, message);
        } else {
            let waiting = &mut self.stations[node_id.index()].waiting;
            waiting.push_back(message, class);
            // With priorities a newcomer can overtake the head: watch whoever is now first.
            if waiting.front() == Some(message) {
                self.watch_head(node_id);
            }
        }
        self.observer.node_state(node_id, self.now, self.stations[node_id.index()].state());
    }

    /// Interrupts the lowest-priority message in service if its class is below `class` (the
    /// most recently started among equals), and puts it back at the front of its class with
    /// the service it still owes. Returns whether a worker was freed.
    #[inline(never)]
    fn preempt(&mut self, node_id: NodeId, class: usize) -> bool {
        let station = &self.stations[node_id.index()];
        let victim = station
            .in_service
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
        message.remaining = message.due - now;
        message.service_id = u32::MAX; // its pending completion is now stale
        let station = &mut self.stations[node_id.index()];
        station.in_service.swap_remove(slot);
        station.waiting.push_front(id, victim_class);
        if station.waiting.front() == Some(id) {
            self.watch_head(node_id);
        }
        true
    }

    /// With a TTL, schedules a check at the deadline of the message now at the head of the queue.
    #[inline(always)]
    fn watch_head(&mut self, node_id: NodeId) {
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
    fn expire_due(&mut self, node_id: NodeId) {
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

    /// A worker takes `message`: record its wait and schedule its completion (a preempted
    /// message resumes with the service it still owes).
    #[inline(always)]
    fn start_service(&mut self, node_id: NodeId, message: MessageId) {
        let now = self.now;
        let node = self.network.node(node_id);
        let entry = self.messages.get_mut(message);
        let duration = if entry.remaining.is_nan() {
            entry.wait = now - entry.arrived;
            let service = node.service_for(entry.class);
            entry.service =
                service.sample(&mut self.service_streams[node_id.index()]) + node.per_byte * entry.size;
            entry.service
        } else {
            std::mem::replace(&mut entry.remaining, f64::NAN)
        };
        entry.due = now + duration;
        // A fresh id for every service, unique in the replication: a stale completion (of a
        // preempted service) can never match a message that later reuses the slab slot.
        let service = self.next_service;
        // u32::MAX marks "not in service"; the ids cycle below it.
        self.next_service = self.next_service.wrapping_add(1) % u32::MAX;
        entry.service_id = service;
        if node.discipline == Discipline::Preemptive {
            self.stations[node_id.index()].in_service.push(message);
        }
        self.calendar.schedule(now + duration, Event::Completion { message, service });
    }

    /// A worker finishes `message`: it takes the next waiting one, and the message is routed on.
    fn complete(&mut self, message: MessageId, service: u32) {
        let now = self.now;
        let served = self.messages.get(message);
        if served.service_id != service {
            return; // the completion of a service that a preemption interrupted
        }
        let node_id = served.node();
        let node = self.network.node(node_id);
        if node.discipline == Discipline::Preemptive {
            let in_service = &mut self.stations[node_id.index()].in_service;
            if let Some(slot) = in_service.iter().position(|&id| id == message) {
                in_service.swap_remove(slot);
            }
        }
        let route = node.routing.choose(&mut self.routing_streams[node_id.index()]);
        if route.delay.is_none()
            && let Target::Node(next) = route.target
            && self.is_full_blocking(next)
        {
            // Blocking after service: the worker keeps the message until there is room.
            let station = &mut self.stations[node_id.index()];
            station.blocked += 1;
            let state = station.state();
            self.stations[next.index()].senders.push_back(Blocked { holder: Holder::Node(node_id), message });
            self.observer.node_state(node_id, now, state);
            if node.servers.count() == Some(state.blocked) {
                self.frozen = self.search.frozen_from(node_id, self.network, &self.stations);
            }
            return;
        }
        self.leave(node_id, message);
        match &route.delay {
            None => self.deliver(route.target, message),
            Some(delay) => {
                let delay = delay.sample(&mut self.delay_streams[node_id.index()]);
                self.calendar.schedule(now + delay, Event::Transit { message, target: route.target });
            }
        }
        self.unblock(node_id);
    }

    /// A served message leaves its node: the departure is recorded and the worker takes the next
    /// waiting message.
    fn leave(&mut self, node_id: NodeId, message: MessageId) {
        let now = self.now;
        let finished = *self.messages.get(message);
        let node = self.network.node(node_id);
        let class = self.network.class_of(finished.priority);
        let sojourn = now - finished.arrived;
        // Interrupted messages wait more than once: their wait is the sojourn minus service.
        let wait = if node.discipline == Discipline::Preemptive {
            (sojourn - finished.service).max(0.0)
        } else {
            finished.wait
        };
        self.observer.departure(node_id, wait, sojourn, class, finished.class);
        let station = &mut self.stations[node_id.index()];
        station.in_system -= 1;
        match station.waiting.pop_front() {
            Some(next) => {
                self.start_service(node_id, next);
                self.watch_head(node_id);
            }
            None => station.busy -= 1,
        }
        self.observer.node_state(node_id, now, self.stations[node_id.index()].state());
    }
}

/// A uniform index in 0..n.
fn uniform_index(rng: &mut SimRng, n: usize) -> usize {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = (unit_interval(rng) * n as f64) as usize;
    index.min(n - 1)
}

/// The target with the smallest `load`, ties broken uniformly at random (reservoir sampling).
fn fewest(targets: &[Target], load: impl Fn(Target) -> f64, rng: &mut SimRng) -> Target {
    let mut best = targets[0];
    let mut best_load = load(best);
    let mut ties = 1;
    for &target in &targets[1..] {
        let candidate = load(target);
        if candidate < best_load {
            (best, best_load, ties) = (target, candidate, 1);
        } else if candidate == best_load {
            ties += 1;
            if uniform_index(rng, ties) == 0 {
                best = target;
            }
        }
    }
    best
}

/// How a message or copy leaves the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Routed to exit.
    Delivered,
    /// Dropped at a node's full channel.
    Dropped(NodeId),
    /// Matched no binding of an exchange that drops unroutable messages.
    Unroutable(ExchangeId),
    /// Outlived a node's TTL, with no dead-letter target.
    Expired(NodeId),
}

fn source_id(index: usize) -> SourceId {
    SourceId(u32::try_from(index).expect("source count fits in u32"))
}
