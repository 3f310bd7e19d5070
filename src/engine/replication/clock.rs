//! What follows the clock: arrivals at a scheduled rate, replayed traces, servers schedules and
//! the samples of the time series.

use super::{Event, Observer, Replication};
use crate::engine::messages::Message;
use crate::model::{Arrivals, Network, NodeId, Pattern, ReplayCursor, Settings, SourceId};

/// The clock-driven state of a replication.
#[derive(Debug)]
pub(super) struct Clock {
    /// Per source: its position in its replayed trace (unused for other sources).
    cursors: Vec<ReplayCursor>,
    /// Per source: the trace row of its pending arrival.
    rows: Vec<usize>,
    /// The length of a time-series interval, seconds (infinite: no time series).
    sample_every: f64,
    /// The number of the next sample, from 1.
    next_sample: u32,
    /// When the next sample falls, seconds (infinite once past the horizon).
    next_sample_at: f64,
    /// The end of the run, where the last (possibly shorter) interval ends.
    horizon: f64,
    /// Scratch for each sample: per node, the arrival time of its oldest waiting message.
    oldest_waiting: Vec<Option<f64>>,
}

impl Clock {
    /// The clock of a replication of `network` run with `settings`.
    pub(super) fn new(network: &Network, settings: &Settings) -> Self {
        let sample_every = settings.sample_every().unwrap_or(f64::INFINITY);
        let horizon = settings.horizon_s();
        Self {
            cursors: vec![ReplayCursor::default(); network.sources().len()],
            rows: vec![0; network.sources().len()],
            sample_every,
            next_sample: 1,
            next_sample_at: sample_every.min(horizon),
            horizon,
            oldest_waiting: vec![None; if sample_every.is_finite() { network.nodes().len() } else { 0 }],
        }
    }

    /// When the next sample falls (infinite when there is none).
    #[inline(always)]
    pub(super) fn next_sample(&self) -> f64 {
        self.next_sample_at
    }

    /// Moves on to the sample after the one just taken.
    fn advance(&mut self) {
        if self.next_sample_at >= self.horizon {
            self.next_sample_at = f64::INFINITY;
            return;
        }
        self.next_sample += 1;
        self.next_sample_at = (f64::from(self.next_sample) * self.sample_every).min(self.horizon);
    }
}

impl<O: Observer> Replication<'_, O> {
    /// Places a replayed trace's cursor where this replication starts.
    pub(super) fn start_replay(&mut self, source_id: SourceId) {
        if let Some(replay) = self.network.sources()[source_id.index()].replay() {
            let rng = &mut self.arrival_streams[source_id.index()];
            self.clock.cursors[source_id.index()] = replay.start(rng);
        }
    }

    /// Schedules the next message of a source whose arrivals follow the clock: at a scheduled
    /// rate (a unit-mean gap of operational time), or the next row of its trace. A source whose
    /// rate stays at 0, or whose exact replay is over, sends nothing more.
    #[inline(never)]
    pub(super) fn next_timed_arrival(&mut self, source_id: SourceId) {
        let index = source_id.index();
        let source = &self.network.sources()[index];
        let rng = &mut self.arrival_streams[index];
        let next = match &source.arrivals {
            Arrivals::Open { interarrival, pattern: Pattern::Scheduled(schedule) } => {
                let operational_gap = interarrival.sample(rng) / interarrival.mean();
                schedule.time_when(self.now, operational_gap)
            }
            Arrivals::Open { pattern: Pattern::Trace(replay), .. } => {
                replay.next(&mut self.clock.cursors[index], rng).map(|(time, row)| {
                    self.clock.rows[index] = row;
                    // A source released from backpressure sends its overdue message now.
                    time.max(self.now)
                })
            }
            _ => None,
        };
        if let Some(time) = next {
            self.calendar.schedule(time, Event::Arrival(source_id));
        }
    }

    /// The message a replaying source sends now: the headers its trace recorded for the row,
    /// the source's own choice for any the trace lacks.
    #[inline(never)]
    pub(super) fn replayed_message(&mut self, source_id: SourceId) -> Message {
        let index = source_id.index();
        let source = &self.network.sources()[index];
        let row = self.clock.rows[index];
        let recorded = source.replay().expect("a replaying source").headers();
        let headers = &mut self.header_streams[index];
        let key = match &recorded.keys {
            Some(keys) => Some(keys[row]),
            None => source.keys.as_ref().map(|keys| keys.choose(headers)),
        };
        let priority = match &recorded.priorities {
            Some(priorities) => priorities[row],
            None => source.priorities.as_ref().map_or(0, |priorities| priorities.choose(headers)),
        };
        let size = match &recorded.sizes {
            Some(sizes) => sizes[row],
            None => source.size.as_ref().map_or(0.0, |size| size.sample(headers)),
        };
        let class = match &recorded.classes {
            Some(classes) => classes[row],
            None => source.message_classes.choose(&mut self.class_streams[index]),
        };
        Message::new(source_id, self.now, key, priority, class, size)
    }

    /// Gives every node with a servers schedule its servers at time 0 and watches for the
    /// first change.
    pub(super) fn start_staffing(&mut self) {
        for (index, node) in self.network.nodes().iter().enumerate() {
            if node.servers_schedule.is_some() {
                self.restaff(NodeId::from_index(index));
            }
        }
    }

    /// A node's servers schedule changes its number of servers now. New servers take waiting
    /// messages at once; a server taken away finishes the message it is serving first.
    pub(super) fn restaff(&mut self, node_id: NodeId) {
        let Some(schedule) = &self.network.node(node_id).servers_schedule else { return };
        // Values are whole numbers (checked by the scenario layer).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let servers = schedule.value_at(self.now).round() as u32;
        let next_change = schedule.next_change(self.now);
        self.stations[node_id.index()].servers = servers;
        self.observer.servers_changed(node_id, self.now, servers);
        let mut started = false;
        loop {
            let station = &mut self.stations[node_id.index()];
            if station.busy >= servers {
                break;
            }
            let Some(next) = station.waiting.pop_front() else { break };
            station.busy += 1;
            self.start_service(node_id, next);
            started = true;
        }
        if started {
            self.watch_head(node_id);
            self.observer.node_state(node_id, self.now, self.stations[node_id.index()].state());
        }
        if let Some(time) = next_change {
            self.calendar.schedule(time, Event::Staffing { node: node_id });
        }
    }

    /// Takes every time-series sample due at or before `time`.
    #[inline(never)]
    pub(super) fn sample_until(&mut self, time: f64) {
        while self.clock.next_sample_at <= time {
            let at = self.clock.next_sample_at;
            for (oldest, station) in self.clock.oldest_waiting.iter_mut().zip(&self.stations) {
                *oldest =
                    station.waiting.heads().map(|head| self.messages.get(head).arrived).reduce(f64::min);
            }
            self.observer.sample(at, &self.clock.oldest_waiting);
            self.clock.advance();
        }
    }
}
