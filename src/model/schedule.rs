//! Schedules: a value that follows the clock, such as a source's arrival rate or a node's number
//! of servers. Piecewise constant or linear between points, the last value held for ever or the
//! whole curve repeated with a period.

use thiserror::Error;

/// How a schedule's value runs from one point to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// Constant from a point until the next (a step at each point).
    #[default]
    Step,
    /// Linear interpolation between consecutive points (and, when the schedule repeats, from the
    /// last point back to the first value at the end of the period).
    Linear,
}

impl Shape {
    /// The scenario-file spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Linear => "linear",
        }
    }
}

/// Why a schedule was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScheduleError {
    /// No point at all.
    #[error("a schedule needs at least one point")]
    Empty,
    /// The first point is not at time 0.
    #[error("the first point must be at 0s (the start of the run), got {0}s")]
    FirstNotAtZero(f64),
    /// A point's time is not after the previous one.
    #[error("point {index}: times must increase, but {at}s is not after {previous}s")]
    NotIncreasing {
        /// 0-based index of the point.
        index: usize,
        /// Its time, seconds.
        at: f64,
        /// The previous point's time, seconds.
        previous: f64,
    },
    /// A value that must be a finite number ≥ 0 was not.
    #[error("point {index}: the value must be a finite number >= 0, got {value}")]
    BadValue {
        /// 0-based index of the point.
        index: usize,
        /// The value given.
        value: f64,
    },
    /// The repeat period does not extend past the last point.
    #[error("the repeat period {period}s must be longer than the last point's time {last}s")]
    ShortPeriod {
        /// The period, seconds.
        period: f64,
        /// The last point's time, seconds.
        last: f64,
    },
}

/// A non-negative value over simulated time, `f(t)` for t ≥ 0, with its integral
/// `F(t) = ∫₀ᵗ f` and the inverse of that integral (what exact non-homogeneous arrivals need).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Point times in seconds: the first 0, strictly increasing.
    at: Vec<f64>,
    /// The value at each point.
    values: Vec<f64>,
    /// How the value runs between points.
    shape: Shape,
    /// The curve repeats with this period (longer than the last point); `None`: after the last
    /// point its value holds for ever.
    period: Option<f64>,
    /// The integral from 0 to each point, within the first period.
    cumulative: Vec<f64>,
    /// The integral over one whole period (0 when the schedule does not repeat).
    per_period: f64,
}

impl Schedule {
    /// Builds a schedule from `(time, value)` points, checking them.
    ///
    /// # Errors
    /// When there is no point, the first is not at 0, the times do not increase, a value is
    /// negative or not finite, or the period does not extend past the last point.
    pub fn new(points: &[(f64, f64)], shape: Shape, period: Option<f64>) -> Result<Self, ScheduleError> {
        check_points(points)?;
        let last = points[points.len() - 1].0;
        if let Some(period) = period
            && !(period.is_finite() && period > last)
        {
            return Err(ScheduleError::ShortPeriod { period, last });
        }
        let mut schedule = Self {
            at: points.iter().map(|point| point.0).collect(),
            values: points.iter().map(|point| point.1).collect(),
            shape,
            period,
            cumulative: Vec::with_capacity(points.len()),
            per_period: 0.0,
        };
        let mut total = 0.0;
        for segment in 0..points.len() {
            schedule.cumulative.push(total);
            total += schedule.segment_integral(segment, 0.0, schedule.segment_length(segment));
        }
        schedule.per_period = if period.is_some() { total } else { 0.0 };
        Ok(schedule)
    }

    /// The points, `(time in seconds, value)`, in time order.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.at.iter().copied().zip(self.values.iter().copied())
    }

    /// How the value runs between points.
    #[must_use]
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The repeat period in seconds; `None` when the last value holds for ever.
    #[must_use]
    pub fn period(&self) -> Option<f64> {
        self.period
    }

    /// The largest value the schedule takes.
    #[must_use]
    pub fn max(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }

    /// The value at time `t` (seconds, t ≥ 0).
    #[must_use]
    pub fn value_at(&self, t: f64) -> f64 {
        let (_, within) = self.fold(t);
        let segment = self.segment_at(within);
        let offset = within - self.at[segment];
        let (start, slope) = self.line(segment);
        (start + slope * offset).max(0.0)
    }

    /// The integral of the value from 0 to `t` (for a rate: the expected number of arrivals).
    #[must_use]
    pub fn integral(&self, t: f64) -> f64 {
        let (periods, within) = self.fold(t);
        let segment = self.segment_at(within);
        periods * self.per_period
            + self.cumulative[segment]
            + self.segment_integral(segment, 0.0, within - self.at[segment])
    }

    /// The mean value over `[from, to]` (the value at `from` when the interval is empty).
    #[must_use]
    pub fn mean_over(&self, from: f64, to: f64) -> f64 {
        if to > from { (self.integral(to) - self.integral(from)) / (to - from) } else { self.value_at(from) }
    }

    /// The first time `t ≥ from` at which the integral from `from` reaches `amount`, or `None`
    /// when it never does (the value falls to 0 for ever). For a rate and a unit-mean gap, this
    /// is the next arrival in operational time.
    #[must_use]
    pub fn time_when(&self, from: f64, amount: f64) -> Option<f64> {
        let (periods, within) = self.fold(from);
        let period = self.period.unwrap_or(0.0);
        let mut base = periods * period;
        let mut segment = self.segment_at(within);
        let mut offset = within - self.at[segment];
        let mut left = amount;
        loop {
            let length = self.segment_length(segment);
            let available = self.segment_integral(segment, offset, length);
            if available >= left && available > 0.0 {
                let x = self.solve_in_segment(segment, offset, left).min(length);
                return Some(base + self.at[segment] + x);
            }
            if length.is_infinite() {
                return None; // the last value holds for ever and it is 0
            }
            left -= available;
            offset = 0.0;
            if segment + 1 < self.at.len() {
                segment += 1;
                continue;
            }
            // The end of a period: skip whole periods at once.
            if self.per_period <= 0.0 {
                return None;
            }
            base += period;
            segment = 0;
            let whole = (left / self.per_period).floor();
            if whole >= 1.0 {
                base += whole * period;
                left -= whole * self.per_period;
            }
        }
    }

    /// The first point time strictly after `t` (over repeats), when the value may change; `None`
    /// when no point follows.
    #[must_use]
    pub fn next_change(&self, t: f64) -> Option<f64> {
        let (periods, within) = self.fold(t);
        let next = self.at.partition_point(|&at| at <= within);
        match (self.at.get(next), self.period) {
            (Some(&at), period) => Some(periods * period.unwrap_or(0.0) + at),
            (None, Some(period)) => Some((periods + 1.0) * period),
            (None, None) => None,
        }
    }

    /// `t` split into whole periods and the time within the period (the whole of `t` when the
    /// schedule does not repeat).
    fn fold(&self, t: f64) -> (f64, f64) {
        let t = t.max(0.0);
        match self.period {
            Some(period) => {
                let periods = (t / period).floor();
                let within = (t - periods * period).clamp(0.0, period);
                // Rounding can leave `within` at the period itself: that is the next period's 0.
                if within >= period { (periods + 1.0, 0.0) } else { (periods, within) }
            }
            None => (0.0, t),
        }
    }

    /// The segment holding time `within` of a period.
    fn segment_at(&self, within: f64) -> usize {
        self.at.partition_point(|&at| at <= within).saturating_sub(1)
    }

    /// The length of a segment: to the next point, to the end of the period, or infinite.
    fn segment_length(&self, segment: usize) -> f64 {
        match (self.at.get(segment + 1), self.period) {
            (Some(&next), _) => next - self.at[segment],
            (None, Some(period)) => period - self.at[segment],
            (None, None) => f64::INFINITY,
        }
    }

    /// A segment's value at its start and its slope per second.
    fn line(&self, segment: usize) -> (f64, f64) {
        let start = self.values[segment];
        let end = match (self.shape, self.values.get(segment + 1), self.period) {
            (Shape::Step, _, _) | (Shape::Linear, None, None) => start,
            (Shape::Linear, Some(&next), _) => next,
            (Shape::Linear, None, Some(_)) => self.values[0],
        };
        let length = self.segment_length(segment);
        let slope = if length.is_finite() { (end - start) / length } else { 0.0 };
        (start, slope)
    }

    /// The integral over `[from, to]` offsets within a segment.
    fn segment_integral(&self, segment: usize, from: f64, to: f64) -> f64 {
        let (start, slope) = self.line(segment);
        if to <= from || (start == 0.0 && slope == 0.0) {
            return 0.0;
        }
        if slope == 0.0 {
            return start * (to - from); // also right for the infinite last segment
        }
        let antiderivative = |x: f64| start * x + slope * x * x / 2.0;
        antiderivative(to) - antiderivative(from)
    }

    /// The offset `x ≥ from` in a segment at which the integral from `from` reaches `amount`.
    fn solve_in_segment(&self, segment: usize, from: f64, amount: f64) -> f64 {
        let (start, slope) = self.line(segment);
        let rate = start + slope * from;
        // amount = rate·d + slope·d²/2, solved for d in the form that stays exact as slope → 0.
        let root = (rate * rate + 2.0 * slope * amount).max(0.0).sqrt();
        let d = if rate + root > 0.0 { 2.0 * amount / (rate + root) } else { 0.0 };
        from + d
    }
}

/// Checks the points' times and values.
fn check_points(points: &[(f64, f64)]) -> Result<(), ScheduleError> {
    let Some(&(first, _)) = points.first() else {
        return Err(ScheduleError::Empty);
    };
    if first != 0.0 {
        return Err(ScheduleError::FirstNotAtZero(first));
    }
    for (index, &(at, value)) in points.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0) {
            return Err(ScheduleError::BadValue { index, value });
        }
        if index > 0 {
            let previous = points[index - 1].0;
            if !(at.is_finite() && at > previous) {
                return Err(ScheduleError::NotIncreasing { index, at, previous });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn a_step_schedule_holds_each_value_until_the_next_point_then_the_last_for_ever() {
        let schedule = Schedule::new(&[(0.0, 4.0), (10.0, 12.0), (15.0, 4.0)], Shape::Step, None).unwrap();
        assert_eq!(schedule.value_at(9.999), 4.0);
        assert_eq!(schedule.value_at(10.0), 12.0);
        assert_eq!(schedule.value_at(1e6), 4.0);
        // 10 s at 4, 5 s at 12, 5 s at 4.
        assert!(close(schedule.integral(20.0), 40.0 + 60.0 + 20.0));
        assert!(close(schedule.mean_over(0.0, 20.0), 6.0));
    }

    #[test]
    fn a_linear_schedule_interpolates_and_its_integral_is_the_trapezoid() {
        let schedule = Schedule::new(&[(0.0, 0.0), (10.0, 10.0)], Shape::Linear, None).unwrap();
        assert!(close(schedule.value_at(2.5), 2.5));
        assert!(close(schedule.integral(10.0), 50.0));
        // After the last point the last value holds.
        assert!(close(schedule.integral(12.0), 70.0));
        // ∫₀ᵗ x dx = t²/2 = 8 at t = 4.
        assert!(close(schedule.time_when(0.0, 8.0).unwrap(), 4.0));
    }

    #[test]
    fn a_repeating_schedule_wraps_and_a_linear_one_returns_to_its_first_value() {
        let schedule = Schedule::new(&[(0.0, 2.0), (6.0, 8.0)], Shape::Linear, Some(12.0)).unwrap();
        assert!(close(schedule.value_at(9.0), 5.0)); // halfway from 8 back to 2
        assert!(close(schedule.value_at(12.0 * 3.0 + 3.0), 5.0));
        let per_period = 6.0 * 5.0 + 6.0 * 5.0;
        assert!(close(schedule.integral(36.0), 3.0 * per_period));
        assert_eq!(schedule.next_change(13.0), Some(18.0));
        assert_eq!(schedule.next_change(18.0), Some(24.0));
    }

    #[test]
    fn time_when_inverts_the_integral_across_segments_periods_and_zero_stretches() {
        let schedules = [
            Schedule::new(&[(0.0, 3.0), (5.0, 0.0), (9.0, 1.5)], Shape::Step, Some(20.0)).unwrap(),
            Schedule::new(&[(0.0, 1.0), (4.0, 6.0), (7.0, 0.0)], Shape::Linear, Some(10.0)).unwrap(),
            Schedule::new(&[(0.0, 0.5), (3.0, 2.0)], Shape::Linear, None).unwrap(),
        ];
        for schedule in &schedules {
            for &from in &[0.0, 0.7, 4.99, 6.0, 19.5, 123.4] {
                for &amount in &[1e-6, 0.3, 2.0, 17.0, 250.0] {
                    let t = schedule.time_when(from, amount).unwrap();
                    assert!(t >= from);
                    let reached = schedule.integral(t) - schedule.integral(from);
                    assert!(close(reached, amount), "{schedule:?} from {from} amount {amount}: {reached}");
                }
            }
        }
    }

    #[test]
    fn time_when_is_none_once_the_value_stays_at_zero() {
        let schedule = Schedule::new(&[(0.0, 2.0), (5.0, 0.0)], Shape::Step, None).unwrap();
        assert!(close(schedule.time_when(0.0, 4.0).unwrap(), 2.0));
        assert_eq!(schedule.time_when(0.0, 10.5), None);
        assert_eq!(schedule.time_when(6.0, 0.1), None);
        let silent = Schedule::new(&[(0.0, 0.0)], Shape::Step, Some(5.0)).unwrap();
        assert_eq!(silent.time_when(0.0, 1.0), None);
    }

    #[test]
    fn bad_points_are_refused_with_what_is_wrong() {
        assert_eq!(Schedule::new(&[], Shape::Step, None), Err(ScheduleError::Empty));
        assert_eq!(Schedule::new(&[(1.0, 2.0)], Shape::Step, None), Err(ScheduleError::FirstNotAtZero(1.0)));
        assert!(matches!(
            Schedule::new(&[(0.0, 1.0), (3.0, 1.0), (3.0, 2.0)], Shape::Step, None),
            Err(ScheduleError::NotIncreasing { index: 2, .. })
        ));
        assert!(matches!(
            Schedule::new(&[(0.0, -1.0)], Shape::Step, None),
            Err(ScheduleError::BadValue { index: 0, .. })
        ));
        assert!(matches!(
            Schedule::new(&[(0.0, 1.0), (5.0, 2.0)], Shape::Step, Some(5.0)),
            Err(ScheduleError::ShortPeriod { .. })
        ));
    }
}
