//! Schedules as the file gives them: a list of points `{ at = DURATION, VALUE = NUMBER }`, a
//! shape and a repeat period, checked point by point into a model [`Schedule`].

use toml::Spanned;

use super::problems::Problems;
use super::raw::{RawRatePoint, RawStaffPoint};
use super::units::{Seconds, show_duration};
use crate::model::{Schedule, ScheduleError, Shape};

/// A point of a schedule in the file: its time and its value, each where the file gives it.
pub(super) trait RawPoint {
    /// The point's time.
    fn at(&self) -> &Spanned<Seconds>;
    /// The point's value.
    fn value(&self) -> &Spanned<f64>;
}

impl RawPoint for RawRatePoint {
    fn at(&self) -> &Spanned<Seconds> {
        &self.at
    }

    fn value(&self) -> &Spanned<f64> {
        &self.rate
    }
}

impl RawPoint for RawStaffPoint {
    fn at(&self) -> &Spanned<Seconds> {
        &self.at
    }

    fn value(&self) -> &Spanned<f64> {
        &self.servers
    }
}

/// A schedule field of an entity, for messages and for the check of each point's value.
pub(super) struct ScheduleField<'a> {
    /// The entity: "source 'orders'".
    pub context: &'a str,
    /// The field holding the points: "schedule".
    pub name: &'static str,
    /// Why a point's value is refused (the value's field named), or `None` when it is good.
    pub check: fn(f64) -> Option<String>,
}

/// The schedule of a list of points, a shape and an optional repeat period; records every bad
/// value, and the first problem with the points' times or the period, at the place it is about.
pub(super) fn schedule<P: RawPoint>(
    field: &ScheduleField<'_>,
    list: &Spanned<Vec<Spanned<P>>>,
    shape: Shape,
    repeat: Option<&Spanned<Seconds>>,
    problems: &mut Problems,
) -> Option<Schedule> {
    let before = problems.len();
    let what = format!("{} field '{}'", field.context, field.name);
    let points: Vec<(f64, f64)> = list
        .get_ref()
        .iter()
        .enumerate()
        .map(|(index, point)| {
            let (at, value) = (point.get_ref().at().get_ref().0, point.get_ref().value());
            match (field.check)(*value.get_ref()) {
                None => (at, *value.get_ref()),
                Some(reason) => {
                    problems.at(value.span(), format!("{what} point {}: {reason}", index + 1));
                    (at, 0.0)
                }
            }
        })
        .collect();
    match Schedule::new(&points, shape, repeat.map(|period| period.get_ref().0)) {
        Ok(schedule) => (problems.len() == before).then_some(schedule),
        Err(error) => {
            let (span, message) = match error {
                ScheduleError::Empty => {
                    (list.span(), format!("{what} is empty: give at least one point, the first at \"0s\""))
                }
                ScheduleError::FirstNotAtZero(at) => (
                    list.get_ref()[0].get_ref().at().span(),
                    format!(
                        "{what} point 1: 'at' must be 0s (the start of the run), got {}",
                        show_duration(at)
                    ),
                ),
                ScheduleError::NotIncreasing { index, at, previous } => (
                    list.get_ref()[index].get_ref().at().span(),
                    format!(
                        "{what} point {}: 'at' {} must be after the previous point's {}",
                        index + 1,
                        show_duration(at),
                        show_duration(previous)
                    ),
                ),
                ScheduleError::BadValue { index, value } => (
                    list.get_ref()[index].get_ref().value().span(),
                    format!(
                        "{what} point {}: the value must be a finite number >= 0, got {value}",
                        index + 1
                    ),
                ),
                ScheduleError::ShortPeriod { period, last } => (
                    repeat.map_or(list.span(), Spanned::span),
                    format!(
                        "{} field 'repeat' {} must be longer than the last point's 'at' {} (the {} starts again from its first point after it)",
                        field.context,
                        show_duration(period),
                        show_duration(last),
                        field.name
                    ),
                ),
            };
            problems.at(span, message);
            None
        }
    }
}

/// A schedule's shape: `"step"` (the default) or `"linear"`.
pub(super) fn shape(
    field: Option<&Spanned<String>>,
    context: &str,
    problems: &mut Problems,
) -> Option<Shape> {
    let Some(field) = field else { return Some(Shape::Step) };
    match field.get_ref().as_str() {
        "step" => Some(Shape::Step),
        "linear" => Some(Shape::Linear),
        other => {
            problems.at(
                field.span(),
                format!("{context} field 'shape': unknown shape '{other}', expected \"step\" or \"linear\""),
            );
            None
        }
    }
}

/// A field that only makes sense beside a schedule, given without one: records the problem.
pub(super) fn without_schedule<T>(
    field: Option<&Spanned<T>>,
    context: &str,
    name: &str,
    schedule: &str,
    problems: &mut Problems,
) {
    if let Some(field) = field {
        problems.at(
            field.span(),
            format!("{context} field '{name}' applies to a '{schedule}', and there is none: add one or remove '{name}'"),
        );
    }
}
