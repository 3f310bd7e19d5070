//! Replayed traffic: the arrival times (and optionally the headers) of a recorded trace, and how
//! each replication replays them.

use rand::Rng;

use super::distribution::unit_interval;
use super::ids::{KeyId, MessageClassId};
use super::schedule::{Schedule, Shape};

/// How each replication replays a recorded trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplayMode {
    /// Every replication replays the trace as recorded from its start, so replications differ
    /// only in what the network does with the same arrivals; the source falls silent after the
    /// last message.
    #[default]
    Exact,
    /// The trace repeats end to end (its period is its span plus its mean gap) and each
    /// replication starts at its own uniformly random shift within one period.
    Offset,
    /// Each gap, with the headers of the message after it, is drawn at random with replacement
    /// from the trace's: an endless stationary stream with the trace's gap distribution (its
    /// correlations and any trend are lost).
    Bootstrap,
}

impl ReplayMode {
    /// The scenario-file spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Offset => "offset",
            Self::Bootstrap => "bootstrap",
        }
    }
}

/// The headers recorded for each message of a trace, resolved against the network; `None`
/// where the trace has no such column (the source's own choice applies).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceHeaders {
    /// Routing keys.
    pub keys: Option<Vec<KeyId>>,
    /// Priorities.
    pub priorities: Option<Vec<u8>>,
    /// Sizes, bytes.
    pub sizes: Option<Vec<f64>>,
    /// Message classes.
    pub classes: Option<Vec<MessageClassId>>,
}

/// A recorded trace ready to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Arrival times in seconds from the trace's start, non-decreasing; at least two.
    times: Vec<f64>,
    /// The headers of each message.
    headers: TraceHeaders,
    /// How replications replay it.
    mode: ReplayMode,
    /// For an exact replay, its rate over time: the messages in each window divided by the
    /// window, 0 after the last message.
    rate_schedule: Option<Schedule>,
}

/// The most windows a replay's rate schedule has.
const RATE_WINDOWS: f64 = 240.0;

/// The fewest mean gaps a window of a replay's rate schedule spans, so that its count is not
/// mostly noise.
const GAPS_PER_WINDOW: f64 = 10.0;

/// The shortest of 1, 2, 5, 10, 15, 20 or 30 seconds, minutes or hours (or whole days) that is
/// at least `seconds`, so that windows fall on the clock's round times.
fn readable_width(seconds: f64) -> f64 {
    const STEPS: [f64; 7] = [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0];
    for unit in [1.0, 60.0, 3600.0] {
        if let Some(step) = STEPS.iter().map(|step| step * unit).find(|&width| width >= seconds) {
            return step;
        }
    }
    (seconds / 86_400.0).ceil() * 86_400.0
}

/// Where a replication is in its replay.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReplayCursor {
    /// The next row of the trace to send.
    row: usize,
    /// Added to the row's time: the lap of a repeated trace, or for a bootstrap the time of
    /// the previous message.
    shift: f64,
}

impl Replay {
    /// A replay of `times` (seconds from the trace's start, non-decreasing, at least two; the
    /// trace reader checks this) with the messages' recorded `headers`.
    #[must_use]
    pub fn new(times: Vec<f64>, headers: TraceHeaders, mode: ReplayMode) -> Self {
        debug_assert!(times.len() >= 2 && times.windows(2).all(|pair| pair[0] <= pair[1]));
        let mut replay = Self { times, headers, mode, rate_schedule: None };
        if mode == ReplayMode::Exact {
            replay.rate_schedule = Some(replay.counted_rates());
        }
        replay
    }

    /// For an exact replay, the rate over time the fluid prediction takes: the messages in each
    /// window (a round length giving at most 240 windows over the trace, each at least 10 mean
    /// gaps long) divided by
    /// its length, then 0 once the trace is over. `None` for a repeated or bootstrapped replay,
    /// whose rate is constant on average.
    #[must_use]
    pub fn rate_schedule(&self) -> Option<&Schedule> {
        self.rate_schedule.as_ref()
    }

    /// The counts per window as a step schedule.
    fn counted_rates(&self) -> Schedule {
        let last = self.times[self.times.len() - 1];
        let width = readable_width((last / RATE_WINDOWS).max(GAPS_PER_WINDOW * self.mean_gap()));
        let mut points = Vec::new();
        let mut start = 0.0;
        let mut first = 0;
        while first < self.times.len() {
            let end = start + width;
            let count = self.times[first..].partition_point(|&time| time < end);
            points.push((start, count as f64 / width));
            first += count;
            start = end;
        }
        points.push((start, 0.0));
        Schedule::new(&points, Shape::Step, None).expect("windows from 0, increasing, rates >= 0")
    }

    /// How replications replay it.
    #[must_use]
    pub fn mode(&self) -> ReplayMode {
        self.mode
    }

    /// Messages in the trace.
    #[must_use]
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the trace is empty (never: a trace has at least two messages).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The recorded arrival times, seconds from the trace's start.
    #[must_use]
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The headers recorded for each message.
    #[must_use]
    pub fn headers(&self) -> &TraceHeaders {
        &self.headers
    }

    /// The mean gap between consecutive messages, seconds.
    #[must_use]
    pub fn mean_gap(&self) -> f64 {
        let n = self.times.len();
        (self.times[n - 1] - self.times[0]) / (n - 1) as f64
    }

    /// The long-run rate of the replayed stream, messages per second.
    #[must_use]
    pub fn rate(&self) -> f64 {
        1.0 / self.mean_gap()
    }

    /// The period of a repeated trace: from its first message to one mean gap after its last.
    #[must_use]
    pub fn period(&self) -> f64 {
        let n = self.times.len();
        self.times[n - 1] - self.times[0] + self.mean_gap()
    }

    /// The gaps between consecutive messages, seconds.
    pub fn gaps(&self) -> impl Iterator<Item = f64> + '_ {
        self.times.windows(2).map(|pair| pair[1] - pair[0])
    }

    /// Where a replication starts; an offset replay draws its shift from `rng`.
    pub fn start<R: Rng + ?Sized>(&self, rng: &mut R) -> ReplayCursor {
        match self.mode {
            ReplayMode::Exact | ReplayMode::Bootstrap => ReplayCursor { row: 0, shift: 0.0 },
            ReplayMode::Offset => {
                // Simulated time t is trace time t + shift, one lap starting at `times[0]`.
                let origin = self.times[0] + unit_interval(rng) * self.period();
                match self.times.partition_point(|&time| time < origin) {
                    row if row < self.times.len() => ReplayCursor { row, shift: -origin },
                    _ => ReplayCursor { row: 0, shift: self.period() - origin },
                }
            }
        }
    }

    /// The next message: its arrival time (seconds of simulated time) and its row in the trace,
    /// or `None` when an exact replay has sent every message. A bootstrap draws from `rng`.
    #[inline]
    pub fn next<R: Rng + ?Sized>(&self, cursor: &mut ReplayCursor, rng: &mut R) -> Option<(f64, usize)> {
        let rows = self.times.len();
        match self.mode {
            ReplayMode::Exact => {
                let row = cursor.row;
                cursor.row += 1;
                self.times.get(row).map(|&time| (time, row))
            }
            ReplayMode::Offset => {
                let row = cursor.row;
                let time = self.times[row] + cursor.shift;
                cursor.row += 1;
                if cursor.row == rows {
                    cursor.row = 0;
                    cursor.shift += self.period();
                }
                Some((time, row))
            }
            ReplayMode::Bootstrap => {
                // A row after the first, uniformly: its gap is the one before it.
                let drawn = unit_interval(rng) * (rows - 1) as f64;
                let row = 1 + (drawn as usize).min(rows - 2);
                cursor.shift += self.times[row] - self.times[row - 1];
                Some((cursor.shift, row))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;

    fn replay(mode: ReplayMode) -> Replay {
        Replay::new(vec![0.0, 1.0, 1.5, 4.0], TraceHeaders::default(), mode)
    }

    fn sent(replay: &Replay, count: usize, seed: u64) -> Vec<(f64, usize)> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut cursor = replay.start(&mut rng);
        std::iter::from_fn(|| replay.next(&mut cursor, &mut rng)).take(count).collect()
    }

    #[test]
    fn an_exact_replay_s_rate_schedule_counts_every_message_once() {
        let exact = Replay::new(
            (0..1000).map(|i| f64::from(i) * 0.5).collect(),
            TraceHeaders::default(),
            ReplayMode::Exact,
        );
        let schedule = exact.rate_schedule().unwrap();
        assert!((schedule.integral(1e6) - 1000.0).abs() < 1e-9);
        assert_eq!(schedule.value_at(1e6), 0.0);
        assert!(replay(ReplayMode::Offset).rate_schedule().is_none());
    }

    #[test]
    fn an_exact_replay_sends_every_message_at_its_time_then_stops() {
        let times: Vec<_> = sent(&replay(ReplayMode::Exact), 10, 1);
        assert_eq!(times, vec![(0.0, 0), (1.0, 1), (1.5, 2), (4.0, 3)]);
    }

    #[test]
    fn an_offset_replay_keeps_the_trace_gaps_across_laps() {
        let replay = replay(ReplayMode::Offset);
        assert_eq!(replay.period(), 4.0 + 4.0 / 3.0);
        for seed in 0..20 {
            let times = sent(&replay, 9, seed);
            assert!(times[0].0 >= 0.0 && times[0].0 < replay.period());
            for pair in times.windows(2) {
                let (earlier, later) = (pair[0], pair[1]);
                let gap = if later.1 == 0 {
                    replay.period() - replay.times()[earlier.1]
                } else {
                    replay.times()[later.1] - replay.times()[earlier.1]
                };
                assert!((later.0 - earlier.0 - gap).abs() < 1e-12, "seed {seed}: {times:?}");
            }
        }
    }

    #[test]
    fn a_bootstrap_draws_only_recorded_gaps_and_each_of_them() {
        let replay = replay(ReplayMode::Bootstrap);
        let times = sent(&replay, 3000, 7);
        let mut counts = [0_u32; 4];
        let mut previous = 0.0;
        for (time, row) in times {
            assert!((time - previous - (replay.times()[row] - replay.times()[row - 1])).abs() < 1e-9);
            counts[row] += 1;
            previous = time;
        }
        // Each of the 3 gaps with probability 1/3: 1000 ± 4·sqrt(3000·(1/3)·(2/3)) = 1000 ± 103.
        for &count in &counts[1..] {
            assert!((897..=1103).contains(&count), "{counts:?}");
        }
    }
}
