//! Human-friendly durations at the edge: a bare number is seconds; a string takes one of the units
//! `ns us ms s m h` ("250us", "2.5ms", "10m"), or several from the largest down ("2h30m").

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Parses a duration string into seconds.
///
/// # Errors
/// A message naming the text and the accepted units, when the number or unit is not understood or
/// the value is negative or not finite.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    // A bare number of seconds, as a file may give it: "1e9" and "2.5E-3" too.
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return checked_seconds(seconds).ok_or_else(|| invalid(text));
    }
    // One or more parts, each a number and a unit, units from the largest down: "2h30m".
    if trimmed.is_empty() {
        return Err(invalid(text));
    }
    let mut rest = trimmed;
    let mut total = 0.0;
    let mut smallest_so_far = f64::INFINITY;
    while !rest.is_empty() {
        let split = rest.find(|c: char| c.is_alphabetic()).ok_or_else(|| invalid(text))?;
        let (number, after) = rest.split_at(split);
        let end = after.find(|c: char| !c.is_alphabetic()).unwrap_or(after.len());
        let (unit, after) = after.split_at(end);
        let scale =
            unit_seconds(unit).filter(|&scale| scale < smallest_so_far).ok_or_else(|| invalid(text))?;
        smallest_so_far = scale;
        let value = number.trim().parse().ok().and_then(checked_seconds).ok_or_else(|| invalid(text))?;
        // Sub-second units divide, so that "7ns" is the double nearest to 7e-9.
        total += if scale < 1.0 { value / (1.0 / scale).round() } else { value * scale };
        rest = after.trim_start();
    }
    checked_seconds(total).ok_or_else(|| invalid(text))
}

/// Seconds in one of a duration's units.
fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    })
}

/// A duration in seconds as a file would write it: "2h30m", "250ms", "12.5s".
pub(super) fn show_duration(seconds: f64) -> String {
    if seconds >= 60.0 && seconds.fract() == 0.0 && seconds < 1e15 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole, positive, < 2^53
        let whole = seconds as u64;
        let parts = [(whole / 3600, "h"), (whole % 3600 / 60, "m"), (whole % 60, "s")];
        return parts
            .iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, unit)| format!("{count}{unit}"))
            .collect();
    }
    if seconds > 0.0 && seconds < 1.0 {
        for (per_second, unit) in [(1e3, "ms"), (1e6, "us"), (1e9, "ns")] {
            let count = seconds * per_second;
            if (count - count.round()).abs() <= 1e-9 * count {
                return format!("{}{unit}", count.round());
            }
        }
    }
    format!("{seconds}s")
}

fn invalid(text: &str) -> String {
    format!(
        "invalid duration '{text}', which should be a number of seconds or a number with a unit ns, us, ms, s, m or h, such as \"2.5ms\""
    )
}

fn checked_seconds(value: f64) -> Option<f64> {
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// A duration in seconds, read from a number or a string with a unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub f64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecondsVisitor)
    }
}

struct SecondsVisitor;

impl Visitor<'_> for SecondsVisitor {
    type Value = Seconds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration: a number of seconds or a string such as \"2.5ms\"")
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Seconds, E> {
        checked_seconds(value)
            .map(Seconds)
            .ok_or_else(|| E::custom(format!("a duration must be a non-negative number, got {value}")))
    }

    #[allow(clippy::cast_precision_loss)] // durations this large are rejected elsewhere
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Seconds, E> {
        self.visit_f64(value as f64)
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Seconds, E> {
        self.visit_f64(value as f64)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Seconds, E> {
        parse_duration(text).map(Seconds).map_err(E::custom)
    }
}

impl From<Seconds> for f64 {
    fn from(seconds: Seconds) -> Self {
        seconds.0
    }
}

/// A size in bytes: a plain non-negative number (a string with a unit is refused, so that a
/// duration cannot pass for a size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bytes(pub f64);

impl From<Bytes> for f64 {
    fn from(bytes: Bytes) -> Self {
        bytes.0
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BytesVisitor)
    }
}

struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a size: a plain number of bytes such as 1500")
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Bytes, E> {
        (value.is_finite() && value >= 0.0)
            .then_some(Bytes(value))
            .ok_or_else(|| E::custom(format!("a size must be a non-negative number of bytes, got {value}")))
    }

    #[allow(clippy::cast_precision_loss)] // sizes this large are refused by the distribution
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Bytes, E> {
        self.visit_f64(value as f64)
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Bytes, E> {
        self.visit_f64(value as f64)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Bytes, E> {
        Err(E::custom(format!("a size is a plain number of bytes such as 1500, got the text \"{text}\"")))
    }
}

/// A `warmup` field: a duration, or `"auto"` for a warm-up each replication chooses (MSER-5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    /// Chosen per replication by MSER-5.
    Auto,
    /// This many seconds.
    Fixed(Seconds),
}

impl<'de> Deserialize<'de> for Warmup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WarmupVisitor)
    }
}

struct WarmupVisitor;

impl Visitor<'_> for WarmupVisitor {
    type Value = Warmup;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"200s\", or \"auto\"")
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Warmup, E> {
        SecondsVisitor.visit_f64(value).map(Warmup::Fixed)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Warmup, E> {
        SecondsVisitor.visit_i64(value).map(Warmup::Fixed)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Warmup, E> {
        SecondsVisitor.visit_u64(value).map(Warmup::Fixed)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Warmup, E> {
        if text.trim() == "auto" {
            return Ok(Warmup::Auto);
        }
        parse_duration(text)
            .map(|s| Warmup::Fixed(Seconds(s)))
            .map_err(|error| E::custom(format!("{error}, or \"auto\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_scale_to_seconds() {
        assert_eq!(parse_duration("250us").unwrap(), 250e-6);
        assert_eq!(parse_duration("2.5ms").unwrap(), 2.5e-3);
        assert_eq!(parse_duration("10m").unwrap(), 600.0);
        assert_eq!(parse_duration("1.1s").unwrap(), 1.1);
        assert_eq!(parse_duration("3").unwrap(), 3.0);
        assert_eq!(parse_duration("2h").unwrap(), 7200.0);
        assert_eq!(parse_duration("7ns").unwrap(), 7e-9);
        // Bare numbers in exponent form are seconds, as in a scenario file.
        assert_eq!(parse_duration("1e9").unwrap(), 1e9);
        assert_eq!(parse_duration("2.5E-3").unwrap(), 2.5e-3);
        assert!(parse_duration("-5").is_err() && parse_duration("inf").is_err());
    }

    #[test]
    fn compound_durations_add_their_parts_from_the_largest_unit_down() {
        assert_eq!(parse_duration("2h30m").unwrap(), 9000.0);
        assert_eq!(parse_duration("1h 0m 5.5s").unwrap(), 3605.5);
        assert_eq!(parse_duration("1m30s").unwrap(), 90.0);
        assert_eq!(parse_duration("1s250ms").unwrap(), 1.25);
        for text in ["30m2h", "1h1h", "2h30", "h30m", "2h-30m", "5 s5"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn durations_are_shown_as_a_file_writes_them() {
        for (seconds, shown) in [
            (9000.0, "2h30m"),
            (7200.0, "2h"),
            (3605.0, "1h5s"),
            (0.25, "250ms"),
            (0.0, "0s"),
            (12.5, "12.5s"),
            (30.0, "30s"),
        ] {
            assert_eq!(show_duration(seconds), shown);
            assert_eq!(parse_duration(shown).unwrap(), seconds);
        }
    }

    #[test]
    fn bad_durations_are_rejected_with_the_units() {
        for text in ["", "fast", "10 parsecs", "-1s", "1e999s", "s"] {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains("ns, us, ms, s, m or h"), "{text}: {error}");
        }
    }
}
