//! RFC 3339 timestamps (`2025-11-28T09:00:00.250Z`, `2025-11-28T10:00:00+01:00`), read exactly.

/// An instant: whole seconds since 1970-01-01T00:00:00Z and the fraction of a second, kept apart
/// so that differences between instants of a trace lose no precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Instant {
    seconds: i64,
    fraction: f64,
}

impl Instant {
    /// Seconds from `earlier` to this instant.
    pub(super) fn since(self, earlier: Self) -> f64 {
        // Whole seconds of a trace are far below 2^53: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let whole = (self.seconds - earlier.seconds) as f64;
        whole + (self.fraction - earlier.fraction)
    }
}

/// `text` as an RFC 3339 date and time with an offset (`Z` or `±HH:MM`), or `None`. The date and
/// time may be separated by `T`, `t` or a space; the fraction of a second is optional; a leap
/// second (`:60`) is read as the next second's start.
pub(super) fn parse_rfc3339(text: &str) -> Option<Instant> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (field(text, 0, 4)?, field(text, 5, 2)?, field(text, 8, 2)?);
    let (hour, minute, second) = (field(text, 11, 2)?, field(text, 14, 2)?, field(text, 17, 2)?);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, byte)| bytes[at] != byte) {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let rest = &text[19..];
    let digits = rest.strip_prefix('.').map_or(0, |f| f.bytes().take_while(u8::is_ascii_digit).count());
    if rest.starts_with('.') && digits == 0 {
        return None;
    }
    let fraction = if digits > 0 { rest[..=digits].parse::<f64>().ok()? } else { 0.0 };
    let offset = offset_seconds(&rest[if digits > 0 { digits + 1 } else { 0 }..])?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(Instant { seconds, fraction })
}

/// The decimal number of `len` ASCII digits at `start`.
fn field(text: &str, start: usize, len: usize) -> Option<i64> {
    let digits = text.get(start..start + len)?;
    digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok())?
}

/// Seconds east of UTC of an offset `Z`, `z` or `±HH:MM`.
fn offset_seconds(text: &str) -> Option<i64> {
    if text == "Z" || text == "z" {
        return Some(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if text.len() != 6 || text.as_bytes()[3] != b':' {
        return None;
    }
    let (hours, minutes) = (field(text, 1, 2)?, field(text, 4, 2)?);
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
///
/// # Formula
/// Howard Hinnant's `days_from_civil`: years counted from March, in 400-year eras of 146097 days.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> f64 {
        let epoch = Instant { seconds: 0, fraction: 0.0 };
        parse_rfc3339(text).unwrap_or_else(|| panic!("{text} parses")).since(epoch)
    }

    #[test]
    fn known_instants() {
        // 2025-11-28 is day 20420 after 1970-01-01 (date(2025,11,28) - date(1970,1,1) in Python).
        assert_eq!(seconds("2025-11-28T09:00:00Z"), 20_420.0 * 86_400.0 + 9.0 * 3600.0);
        assert_eq!(seconds("1970-01-01T00:00:00Z"), 0.0);
        assert_eq!(seconds("1969-12-31T23:59:59Z"), -1.0);
        assert_eq!(seconds("2000-02-29T00:00:00Z"), 11_016.0 * 86_400.0);
        // An offset is subtracted: 10:00 at +01:00 is 09:00 UTC.
        assert_eq!(seconds("2025-11-28T10:00:00+01:00"), seconds("2025-11-28T09:00:00Z"));
        assert_eq!(seconds("2025-11-28t04:30:00.5-04:30"), seconds("2025-11-28T09:00:00Z") + 0.5);
        assert_eq!(seconds("2025-11-28 09:00:00.250z"), seconds("2025-11-28T09:00:00Z") + 0.25);
    }

    #[test]
    fn malformed_instants_are_refused() {
        for text in [
            "2025-11-28T09:00:00",
            "2025-11-28",
            "12:03",
            "2025-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2025-11-28T24:00:00Z",
            "2025-11-28T09:00:00.Z",
            "2025-11-28T09:00:00+1:00",
            "2025-11-28T09:00:00+01:00x",
            "2025/11/28T09:00:00Z",
            "+025-11-28T09:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }
}
