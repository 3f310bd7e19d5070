//! The values a sweep gives one scenario path: `PATH=FROM..TO:STEPS` (STEPS evenly spaced points,
//! both ends included), `PATH=FROM..TO` (every integer), or `PATH=a,b,c`. Values take units as in
//! scenario files ("10ms..50ms:5"); ranges are resolved to plain numbers in SI units.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::scenario::parse_duration;

/// The most points one axis may have.
pub const MAX_POINTS: usize = 10_000;

/// Why an axis expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid --vary '{expr}': {reason}")]
pub struct AxisError {
    /// The expression.
    pub expr: String,
    /// What is wrong, naming the offending token.
    pub reason: String,
}

/// One swept path and its values, in sweep order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The scenario path, e.g. `node.storage.servers` or `load`.
    pub path: String,
    /// Each value as given to the variation (a list's items verbatim, a range's points as numbers).
    pub values: Vec<String>,
    /// Each value as a number in SI units (seconds, per second), for tables and charts.
    pub numbers: Vec<f64>,
}

impl FromStr for Axis {
    type Err = AxisError;

    fn from_str(text: &str) -> Result<Self, AxisError> {
        let error = |reason: String| AxisError { expr: text.to_owned(), reason };
        let (path, spec) = text.split_once('=').ok_or_else(|| error("expected PATH=VALUES".to_owned()))?;
        let (path, spec) = (path.trim(), spec.trim());
        if path.is_empty() {
            return Err(error("the path before '=' is empty".to_owned()));
        }
        let values = match spec.split_once("..") {
            Some((from, to)) => range(from.trim(), to.trim()),
            None => list(spec),
        }
        .map_err(error)?;
        if values.len() > MAX_POINTS {
            return Err(error(format!(
                "{} values, more than the {MAX_POINTS} one axis may have",
                values.len()
            )));
        }
        let (values, numbers) = values.into_iter().unzip();
        Ok(Self { path: path.to_owned(), values, numbers })
    }
}

/// A number with an optional unit, in SI units.
fn number(token: &str) -> Result<f64, String> {
    if token.is_empty() {
        return Err("a value is empty".to_owned());
    }
    let token = token.strip_suffix("/s").unwrap_or(token);
    match token.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => {
            parse_duration(token).map_err(|_| format!("'{token}' is not a number or a duration such as 50ms"))
        }
    }
}

fn list(spec: &str) -> Result<Vec<(String, f64)>, String> {
    spec.split(',').map(str::trim).map(|token| Ok((token.to_owned(), number(token)?))).collect()
}

fn range(from: &str, to: &str) -> Result<Vec<(String, f64)>, String> {
    let (to, steps) = match to.split_once(':') {
        Some((to, steps)) => (to.trim(), Some(steps.trim())),
        None => (to, None),
    };
    let (low, high) = (number(from)?, number(to)?);
    if high < low {
        return Err(format!("the range ends at {to}, below its start {from}"));
    }
    let points: Vec<f64> = match steps {
        Some(steps) => {
            let count: usize = steps
                .parse()
                .ok()
                .filter(|&n| n >= 2)
                .ok_or_else(|| format!("'{steps}' is not a number of points (2 or more)"))?;
            if count > MAX_POINTS {
                return Err(format!("{count} points, more than the {MAX_POINTS} one axis may have"));
            }
            #[allow(clippy::cast_precision_loss)] // at most MAX_POINTS
            let fraction = |i: usize| i as f64 / (count - 1) as f64;
            (0..count).map(|i| round12(low + (high - low) * fraction(i))).collect()
        }
        None => integers(from, to, low, high)?,
    };
    Ok(points.into_iter().map(|value| (format_number(value), value)).collect())
}

fn integers(from: &str, to: &str, low: f64, high: f64) -> Result<Vec<f64>, String> {
    if low.fract() != 0.0 || high.fract() != 0.0 {
        return Err(format!("{from}..{to} without ':STEPS' needs integer ends (every integer between them)"));
    }
    if high - low >= MAX_POINTS as f64 {
        return Err(format!("{from}..{to} has more than the {MAX_POINTS} values one axis may have"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked above
    let count = (high - low) as usize + 1;
    #[allow(clippy::cast_precision_loss)]
    Ok((0..count).map(|i| low + i as f64).collect())
}

/// `value` rounded to 12 significant digits, so that evenly spaced points read as typed (0.02,
/// not 0.019999999999999997).
fn round12(value: f64) -> f64 {
    format!("{value:.11e}").parse().unwrap_or(value)
}

/// A value as the shortest decimal that reads back exactly.
fn format_number(value: f64) -> String {
    format!("{value}")
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.values.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(text: &str) -> Axis {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_lists_and_units() {
        assert_eq!(axis("load=0.5..1:3").numbers, [0.5, 0.75, 1.0]);
        assert_eq!(axis("node.a.servers=2..5").values, ["2", "3", "4", "5"]);
        let means = axis("node.a.service.mean=10ms..30ms:3");
        assert_eq!(means.numbers, [0.01, 0.02, 0.03]);
        assert_eq!(means.path, "node.a.service.mean");
        let list = axis("node.a.service.mean=5ms, 1s,2");
        assert_eq!(list.values, ["5ms", "1s", "2"]);
        assert_eq!(list.numbers, [0.005, 1.0, 2.0]);
        // 0.1..0.9:5 has step 0.2; the last point is the end itself, not an accumulated sum.
        assert_eq!(*axis("load=0.1..0.9:5").numbers.last().unwrap(), 0.9);
    }

    #[test]
    fn bad_axes_name_the_token() {
        let message = |text: &str| text.parse::<Axis>().unwrap_err().to_string();
        assert!(message("load").contains("expected PATH=VALUES"));
        assert!(message("load=1..x").contains("'x' is not a number"));
        assert!(message("load=1..2:1").contains("'1' is not a number of points"));
        assert!(message("load=1.5..3").contains("needs integer ends"));
        assert!(message("load=3..1").contains("below its start"));
        assert!(message("load=1,,2").contains("a value is empty"));
        assert!(message("load=0..100000").contains("more than"));
    }
}
