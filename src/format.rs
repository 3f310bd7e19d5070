//! Numbers as kendall prints them, in tables, messages and reasons alike.

/// A number with four significant digits: plain for everyday magnitudes (10⁻³ to 10⁶), else in
/// engineering notation (an exponent that is a multiple of 3: `12.35e9`, `6.223e-61`).
#[must_use]
pub fn number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return if value == 0.0 { "0".to_owned() } else { value.to_string() };
    }
    // Round to four significant digits first, so that 999.96 becomes 1000, not 999.10; the
    // mantissa and exponent are read off the rounded text, which cannot overflow or underflow.
    let scientific = format!("{value:.3e}");
    let (digits, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let (digits, exponent): (f64, i32) = (digits.parse().unwrap_or(value), exponent.parse().unwrap_or(0));
    // The range is judged on the rounded value: 0.00099999 reads 0.001000, not 1.000e-3.
    if (-3..6).contains(&exponent) {
        let rounded = digits * 10f64.powi(exponent);
        let decimals = usize::try_from((3 - exponent).max(0)).unwrap_or(0);
        format!("{rounded:.decimals$}")
    } else {
        let engineering = exponent.div_euclid(3) * 3;
        let shift = exponent - engineering;
        let mantissa = digits * 10f64.powi(shift);
        let decimals = usize::try_from(3 - shift).unwrap_or(0);
        format!("{mantissa:.decimals$}e{engineering}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(number(0.899_123), "0.8991");
        assert_eq!(number(8.941_23), "8.941");
        assert_eq!(number(1234.5678), "1235");
        assert_eq!(number(0.0), "0");
        // Engineering notation outside 10⁻³..10⁶: exponents in steps of three.
        assert_eq!(number(2.5e-7), "250.0e-9");
        assert_eq!(number(6.223e247), "62.23e246");
        assert_eq!(number(1e-308), "10.00e-309");
        assert_eq!(number(-12_345_678.0), "-12.35e6");
        assert_eq!(number(999.96), "1000");
        assert_eq!(number(-0.000_999_999_9), "-0.001000");
        assert_eq!(number(999_999.7), "1.000e6");
    }
}
