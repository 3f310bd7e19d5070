//! One replication: the event loop over sources and stations, and the path every message takes
//! (emitted, delivered, served, routed on, finished). The rare paths live in child modules:
//! work distribution ([`balance`]), backpressure and deadlock ([`blocking`]), time-to-live
//! ([`expiry`]), preemption ([`preemption`]) and fork/join ([`fork`]).

mod balance;
mod blocking;
mod clock;
mod expiry;
mod fork;
mod preemption;
#[cfg(test)]
mod testing;

use std::collections::VecDeque;

use self::blocking::{Blocked, DeadlockSearch};
use self::clock::Clock;
use super::calendar::Calendar;
use super::messages::{Message, MessageId, Messages, ParentEnd, ServiceId};
use super::observer::NodeState;
use super::queue::WaitingLine;
use super::streams::{Purpose, SimRng, streams};
use super::{Event, Observer};
use crate::model::{
    Arrivals, Discipline, ExchangeId, ExchangeKind, Network, NodeId, Overflow, Pattern, Settings, SourceId,
    Target, Unroutable,
};

/// A node's run-time state.
#[derive(Debug)]
struct Station {
    /// Servers the node has now (its servers schedule may change them).
    servers: u32,
    busy: u32,
    blocked: u32,
    in_system: u32,
    /// Senders waiting for room in this (full, blocking) queue, earliest first.
    senders: VecDeque<Blocked>,
    waiting: WaitingLine,
    /// Messages in service, kept only where preemption needs to find one to interrupt.
    serving: Vec<MessageId>,
}

impl Station {
    fn state(&self) -> NodeState {
        NodeState { in_system: self.in_system, busy: self.busy, blocked: self.blocked }
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
    /// server and source was blocked by full queues (a cycle of full buffers).
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
    /// Messages each source holds, blocked by a full queue.
    held: Vec<u32>,
    /// The id of the next service started.
    next_service: ServiceId,
    /// The next turn of each round-robin exchange.
    round_robin: Vec<usize>,
    /// Scratch space of the deadlock search, kept to allocate once.
    search: DeadlockSearch,
    /// Whether a set of full blocking queues froze: nothing in it can ever move again.
    frozen: bool,
    /// Replayed traces' positions and the time-series samples.
    clock: Clock,
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
    /// Part of the network deadlocked: full blocking queues wait on each other.
    Frozen,
}

impl<'a, O: Observer> Replication<'a, O> {
    /// Prepares replication `index` of `network`, reporting to `observer`. Every random stream
    /// is keyed by its entity's name (see [`stream`](super::stream)).
    pub fn new(network: &'a Network, settings: &'a Settings, index: u32, observer: O) -> Self {
        let seed = settings.seed;
        let sources = || network.sources().iter().map(|source| source.name.as_str());
        let nodes = || network.nodes().iter().map(|node| node.name.as_str());
        let exchanges = network.exchanges().iter().map(|exchange| exchange.name.as_str());
        let stations = network
            .nodes()
            .iter()
            .map(|node| Station {
                servers: node.servers.limit(),
                busy: 0,
                blocked: 0,
                in_system: 0,
                senders: VecDeque::new(),
                waiting: WaitingLine::new(
                    if node.discipline == Discipline::Fifo { 1 } else { network.priorities().len() },
                    node.capacity.map_or(64, |k| k.min(4096) as usize),
                ),
                serving: Vec::new(),
            })
            .collect();
        Self {
            network,
            settings,
            observer,
            calendar: Calendar::default(),
            messages: Messages::default(),
            stations,
            arrival_streams: streams(seed, index, Purpose::Arrivals, sources()),
            header_streams: streams(seed, index, Purpose::Headers, sources()),
            class_streams: streams(seed, index, Purpose::Classes, sources()),
            service_streams: streams(seed, index, Purpose::Service, nodes()),
            routing_streams: streams(seed, index, Purpose::Routing, nodes()),
            delay_streams: streams(seed, index, Purpose::Delay, nodes()),
            balancing_streams: streams(seed, index, Purpose::Balancing, exchanges),
            round_robin: vec![0; network.exchanges().len()],
            search: DeadlockSearch::new(network.nodes().len()),
            frozen: false,
            clock: Clock::new(network, settings),
            held: vec![0; network.sources().len()],
            next_service: ServiceId::FIRST,
            now: 0.0,
            events: 0,
        }
    }

    /// Runs to the horizon (warm-up plus duration) or until the cap on messages in the system is
    /// reached, and hands back the observer.
    pub fn run(mut self) -> (O, RunEnd) {
        for (index, source) in self.network.sources().iter().enumerate() {
            match source.arrivals {
                Arrivals::Open { .. } => {
                    self.start_replay(source_id(index));
                    self.next_arrival(source_id(index));
                }
                // A closed population starts with every client thinking.
                Arrivals::Closed { population, .. } => {
                    for _ in 0..population {
                        self.client_done(source_id(index));
                    }
                }
            }
        }
        self.start_staffing();
        let (warmup, horizon) = (self.settings.warmup_s, self.settings.horizon_s());
        let mut stop = self.advance(warmup);
        match stop {
            Stop::Reached => self.observer.observation_start(warmup),
            // Overloaded before the warm-up ended: there is no steady state to wait for, and
            // the run so far is all there is to measure (the growth rate above all), so the
            // window stays open from time 0 rather than closing empty.
            Stop::Capped => {}
            Stop::RanDry | Stop::Frozen => self.observer.observation_start(warmup.min(self.now)),
        }
        if stop == Stop::Reached {
            // Events at the horizon itself still happen.
            stop = self.advance(horizon.next_up());
        }
        // Nothing left to happen before the horizon while senders wait: a deadlock.
        let deadlocked = stop == Stop::Frozen || (stop == Stop::RanDry && self.senders_waiting());
        let stopped_early = stop == Stop::Capped;
        let end_s = if stopped_early || deadlocked { self.now } else { horizon };
        if !(stopped_early || deadlocked) {
            self.sample_until(horizon);
        }
        (self.observer, RunEnd { events: self.events, end_s, stopped_early, deadlocked })
    }

    /// Processes the events before `until`, unless the calendar runs dry or the messages in
    /// the system reach the cap first.
    fn advance(&mut self, until: f64) -> Stop {
        let max_in_system = self.settings.max_in_system as usize;
        while let Some((time, event)) = self.calendar.pop_before(until) {
            if time >= self.clock.next_sample() {
                self.sample_until(time);
            }
            self.now = time;
            self.events += 1;
            match event {
                Event::Arrival(source) => self.emit(source),
                Event::Completion { message, service } => self.complete(message, service),
                Event::Transit { message, target } => self.deliver(target, message),
                Event::Expiry { node } => self.expire_due(node),
                Event::Staffing { node } => self.restaff(node),
            }
            if self.messages.live() >= max_in_system {
                return Stop::Capped;
            }
            if self.frozen {
                return Stop::Frozen;
            }
        }
        if self.calendar.is_empty() {
            return Stop::RanDry;
        }
        // Samples due by `until` come before the events at `until`, as they would in one call.
        if until >= self.clock.next_sample() {
            self.sample_until(until);
        }
        Stop::Reached
    }

    /// A source creates a message, sends it on and schedules its next one.
    fn emit(&mut self, source_id: SourceId) {
        let source = &self.network.sources()[source_id.index()];
        let now = self.now;
        let message = match source.replay() {
            None => {
                let headers = &mut self.header_streams[source_id.index()];
                let key = source.keys.as_ref().map(|keys| keys.choose(headers));
                let priority = source.priorities.as_ref().map_or(0, |priorities| priorities.choose(headers));
                let size = source.size.as_ref().map_or(0.0, |size| size.sample(headers));
                let class = source.message_classes.choose(&mut self.class_streams[source_id.index()]);
                Message::new(source_id, now, key, priority, class, size)
            }
            Some(_) => self.replayed_message(source_id),
        };
        let message = self.messages.insert(message);
        if let Target::Node(node) = source.target
            && self.is_full_blocking(node)
        {
            self.hold_at_source(source_id, node, message);
            return;
        }
        self.deliver(source.target, message);
        self.next_arrival(source_id);
    }

    /// Schedules an open source's next message.
    #[inline(always)]
    fn next_arrival(&mut self, source_id: SourceId) {
        if let Arrivals::Open { interarrival, pattern } = &self.network.sources()[source_id.index()].arrivals
        {
            if let Pattern::Renewal = pattern {
                let gap = interarrival.sample(&mut self.arrival_streams[source_id.index()]);
                self.calendar.schedule(self.now + gap, Event::Arrival(source_id));
            } else {
                self.next_timed_arrival(source_id);
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
                self.observer.multicast_end(message.source, message.born, Some(self.now - message.born));
                self.client_done(message.source);
            }
            ParentEnd::Partial => {
                self.observer.multicast_end(message.source, message.born, None);
                self.client_done(message.source);
            }
        }
    }

    /// A message reaches a node's queue: it is dropped, served at once, or queued.
    fn arrive(&mut self, node_id: NodeId, message: MessageId) {
        let node = self.network.node(node_id);
        let message = match node.join {
            Some(fork) if self.messages.is_part_of(message, fork) => match self.gather(message) {
                Some(original) => original,
                None => return,
            },
            _ => message,
        };
        self.observer.arrival(node_id);
        if node.capacity.is_some_and(|capacity| self.stations[node_id.index()].in_system >= capacity)
            && !self.overflow(node_id, message)
        {
            return;
        }
        let station = &mut self.stations[node_id.index()];
        station.in_system += 1;
        self.messages.get_mut(message).enter(node_id, self.now);
        let class = self.network.class_of(self.messages.get(message).priority);
        let free_worker = station.busy < station.servers;
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

    /// A message reaches a full queue: drop-head discards the oldest waiting message (of the
    /// lowest priority class present) to admit it, otherwise it is dropped. Returns whether it
    /// is admitted.
    #[inline(never)]
    fn overflow(&mut self, node_id: NodeId, message: MessageId) -> bool {
        let station = &mut self.stations[node_id.index()];
        let oldest_waiting = match self.network.node(node_id).overflow {
            Overflow::DropHead => station.waiting.pop_victim(),
            // A blocking queue is never offered a message while full: senders wait in
            // `complete` and `emit`, and validation rejects every other way in.
            Overflow::DropTail | Overflow::Block => None,
        };
        // With nobody waiting (capacity = servers) there is nothing to discard, so the arrival
        // is dropped.
        let Some(victim) = oldest_waiting else {
            self.finish(message, Fate::Dropped(node_id));
            return false;
        };
        station.in_system -= 1;
        self.finish(victim, Fate::Dropped(node_id));
        self.watch_head(node_id);
        true
    }

    /// A server takes `message`: record its wait and schedule its completion (a preempted
    /// message resumes with the service it still owes).
    #[inline(always)]
    fn start_service(&mut self, node_id: NodeId, message: MessageId) {
        let now = self.now;
        let node = self.network.node(node_id);
        let entry = self.messages.get_mut(message);
        let duration = if let Some(remaining) = entry.remaining.take() {
            remaining
        } else {
            entry.wait = now - entry.arrived;
            let service = node.service_for(entry.class);
            entry.service =
                service.sample(&mut self.service_streams[node_id.index()]) + node.per_byte * entry.size;
            entry.service
        };
        entry.due = now + duration;
        // A fresh id for every service: a stale completion (of a preempted service) can never
        // match a message that later reuses the slab slot.
        let service = self.next_service;
        self.next_service = service.next();
        entry.service_id = service;
        if node.discipline == Discipline::Preemptive {
            self.stations[node_id.index()].serving.push(message);
        }
        self.calendar.schedule(now + duration, Event::Completion { message, service });
    }

    /// A server finishes `message`: it takes the next waiting one, and the message is routed on.
    fn complete(&mut self, message: MessageId, service: ServiceId) {
        let now = self.now;
        let served = self.messages.get(message);
        if served.service_id != service {
            return; // the completion of a service that a preemption interrupted
        }
        let node_id = served.node();
        let node = self.network.node(node_id);
        if node.discipline == Discipline::Preemptive {
            self.stop_serving(node_id, message);
        }
        let route = node.routing.choose(&mut self.routing_streams[node_id.index()]);
        if route.delay.is_none()
            && let Target::Node(next) = route.target
            && self.is_full_blocking(next)
        {
            self.hold_at_worker(node_id, next, message);
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

    /// A served message leaves its node: the departure is recorded and the server takes the next
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
        // A server the schedule took away stops once it has finished its message.
        let next = if station.busy > station.servers { None } else { station.waiting.pop_front() };
        match next {
            Some(next) => {
                self.start_service(node_id, next);
                self.watch_head(node_id);
            }
            None => station.busy -= 1,
        }
        self.observer.node_state(node_id, now, self.stations[node_id.index()].state());
    }
}

/// How a message or copy leaves the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Routed to exit.
    Delivered,
    /// Dropped at a node's full queue.
    Dropped(NodeId),
    /// Matched no binding of an exchange that drops unroutable messages.
    Unroutable(ExchangeId),
    /// Outlived a node's TTL, with no dead-letter target.
    Expired(NodeId),
}

fn source_id(index: usize) -> SourceId {
    SourceId(u32::try_from(index).expect("source count fits in u32"))
}
