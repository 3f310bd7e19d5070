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

#[cfg(test)]
mod tests {
    use statrs::distribution::{ChiSquared, ContinuousCDF};

    use super::super::testing::{Record, replication, scenario};
    use crate::model::{NodeId, Scenario, Target};

    /// A source with `arrivals` (its schedule lines) into an infinite-server node, so that every
    /// arrival shows as a rise of the node's messages held.
    fn into_delay(arrivals: &str, duration: &str) -> Scenario {
        scenario(&format!(
            r#"
            [simulation]
            duration = "{duration}"
            warmup = "0s"
            [[source]]
            name = "s"
            to = "delay"
            {arrivals}
            [[node]]
            name = "delay"
            servers = "infinite"
            service = {{ dist = "deterministic", value = "1ms" }}
            "#
        ))
    }

    /// The arrival times of replication `index`.
    fn arrival_times(scenario: &Scenario, index: u32) -> Vec<f64> {
        let record =
            super::super::Replication::new(&scenario.network, &scenario.settings, index, Record::default())
                .run()
                .0;
        let mut held = 0;
        let mut times = Vec::new();
        for &(_, time, state) in &record.states {
            if state.in_system > held {
                times.push(time);
            }
            held = state.in_system;
        }
        times
    }

    /// Pearson's statistic of the counts in consecutive windows of `width` seconds against the
    /// schedule's integral over each: for a non-homogeneous Poisson process the counts are
    /// independent Poisson, so it follows chi-square with one degree of freedom per window.
    fn dispersion(scenario: &Scenario, width: f64, replications: u32) -> (f64, f64) {
        let schedule = scenario.network.sources()[0].schedule().expect("a scheduled source");
        let horizon = scenario.settings.horizon_s();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let windows = (horizon / width).round() as usize;
        let mut statistic = 0.0;
        for index in 0..replications {
            let mut counts = vec![0_u32; windows];
            for time in arrival_times(scenario, index) {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let window = ((time / width) as usize).min(windows - 1);
                counts[window] += 1;
            }
            for (window, &count) in counts.iter().enumerate() {
                let start = window as f64 * width;
                let expected = schedule.integral(start + width) - schedule.integral(start);
                statistic += (f64::from(count) - expected).powi(2) / expected;
            }
        }
        let degrees = (windows as u32 * replications).into();
        (statistic, ChiSquared::new(degrees).unwrap().inverse_cdf(0.999))
    }

    #[test]
    fn arrivals_at_a_step_schedule_are_poisson_counts_of_the_integrated_rate() {
        let scenario = into_delay(
            r#"schedule = [{ at = "0s", rate = 2 }, { at = "100s", rate = 12 }, { at = "200s", rate = 0.5 }, { at = "250s", rate = 6 }]"#,
            "300s",
        );
        let (statistic, critical) = dispersion(&scenario, 10.0, 5);
        assert!(statistic < critical, "chi-square {statistic} over its 0.999 quantile {critical}");
    }

    #[test]
    fn arrivals_at_a_linear_repeating_schedule_are_poisson_counts_of_the_integrated_rate() {
        let scenario = into_delay(
            r#"schedule = [{ at = "0s", rate = 1 }, { at = "60s", rate = 15 }]
            shape = "linear"
            repeat = "100s""#,
            "400s",
        );
        let (statistic, critical) = dispersion(&scenario, 10.0, 5);
        assert!(statistic < critical, "chi-square {statistic} over its 0.999 quantile {critical}");
    }

    #[test]
    fn deterministic_gaps_run_in_operational_time_one_unit_of_integrated_rate_apart() {
        let scenario = into_delay(
            r#"schedule = [{ at = "0s", rate = 3 }, { at = "10s", rate = 0 }, { at = "20s", rate = 0.5 }]
            shape = "linear"
            interarrival = { dist = "deterministic", value = "1s" }"#,
            "60s",
        );
        let schedule = scenario.network.sources()[0].schedule().unwrap();
        let times = arrival_times(&scenario, 0);
        assert!(times.len() > 10);
        for (count, time) in times.iter().enumerate() {
            let integral = schedule.integral(*time);
            assert!(
                (integral - (count + 1) as f64).abs() < 1e-6,
                "arrival {count} at {time}: Λ = {integral}"
            );
        }
    }

    /// One server, then none from 10 s to 20 s, then two; 4 s services; time series every 5 s.
    fn outage() -> Scenario {
        scenario(
            r#"
            [simulation]
            duration = "28s"
            warmup = "0s"
            sample_every = "5s"
            [[source]]
            name = "s"
            to = "n"
            interarrival = { dist = "exponential", rate = 1e-9 }
            [[node]]
            name = "n"
            servers_schedule = [{ at = "0s", servers = 1 }, { at = "10s", servers = 0 }, { at = "20s", servers = 2 }]
            service = { dist = "deterministic", value = "4s" }
            "#,
        )
    }

    /// A replication of [`outage`] with its servers schedule started and messages sent at 9 s,
    /// 9.5 s and 11 s.
    fn through_the_outage(scenario: &Scenario) -> super::super::Replication<'_, Record> {
        let mut replication = replication(scenario);
        replication.start_staffing();
        for at in [9.0, 9.5, 11.0] {
            replication.run_until(at);
            replication.inject(at, Target::Node(NodeId(0)), 0);
        }
        replication
    }

    #[test]
    fn a_server_taken_away_finishes_its_message_and_new_servers_take_the_waiting_ones() {
        let scenario = outage();
        let mut replication = through_the_outage(&scenario);
        replication.run_until(100.0);
        let record = replication.record();
        // Served 9-13 although the server goes at 10; the others wait for the two servers at 20.
        assert_eq!(
            record.departures,
            vec![(NodeId(0), 0.0, 4.0), (NodeId(0), 10.5, 14.5), (NodeId(0), 9.0, 13.0)]
        );
        assert_eq!(record.staffing, vec![(NodeId(0), 0.0, 1), (NodeId(0), 10.0, 0), (NodeId(0), 20.0, 2)]);
    }

    #[test]
    fn samples_fall_every_interval_to_the_horizon_with_the_oldest_waiting_message() {
        let scenario = outage();
        let record = through_the_outage(&scenario).run_to_end();
        let times: Vec<f64> = record.samples.iter().map(|sample| sample.0).collect();
        assert_eq!(times, [5.0, 10.0, 15.0, 20.0, 25.0, 28.0]);
        let oldest: Vec<Option<f64>> = record.samples.iter().map(|sample| sample.1[0]).collect();
        // At 10 the message of 9.5 waits; at 20 the sample comes before the servers do.
        assert_eq!(oldest, [None, Some(9.5), Some(9.5), Some(9.5), None, None]);
    }
}
