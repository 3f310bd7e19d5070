//! Human-friendly durations at the edge: a bare number is seconds; a string takes one of the units
//! `ns us ms s m h` ("250us", "2.5ms", "10m").

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
    let split = trimmed.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    // Sub-second units divide, so that "7ns" is the double nearest to 7e-9.
    let (multiplier, divisor) = match unit.trim() {
        "ns" => (1.0, 1e9),
        "us" | "µs" => (1.0, 1e6),
        "ms" => (1.0, 1e3),
        "" | "s" => (1.0, 1.0),
        "m" | "min" => (60.0, 1.0),
        "h" => (3600.0, 1.0),
        _ => return Err(invalid(text)),
    };
    let value: f64 = number.trim().parse().map_err(|_| invalid(text))?;
    checked_seconds(value * multiplier / divisor).ok_or_else(|| invalid(text))
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
    fn bad_durations_are_rejected_with_the_units() {
        for text in ["", "fast", "10 parsecs", "-1s", "1e999s", "s"] {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains("ns, us, ms, s, m or h"), "{text}: {error}");
        }
    }
}
