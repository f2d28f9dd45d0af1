//! Percentages with up to four decimal places, held as exact integers.

use std::fmt;

use crate::decimal::{scale_json_number, ScaleError};

/// Ten-thousandths of a percent per percent.
const SCALE: i64 = 10_000;
/// 100 % in ten-thousandths.
const MAX: i64 = 100 * SCALE;

/// A percentage in (0, 100] with at most four decimals, stored as an integer
/// count of 1/10000 of a percent so commission maths stays exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(i64);

/// Why a percentage was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// The text is not a decimal number.
    #[error("must be a number")]
    Invalid,
    /// More than four decimal places.
    #[error("must have at most 4 decimal places")]
    TooManyDecimals,
    /// Zero, negative or above 100.
    #[error("must be greater than 0 and at most 100")]
    OutOfRange,
}

impl Percent {
    /// Parses decimal text such as `"20"`, `"12.5"`, `"0.25"` or JSON forms such
    /// as `"2e1"`. Surrounding whitespace is ignored because rates also arrive
    /// from form fields.
    pub fn parse(text: &str) -> Result<Percent, RateError> {
        let value = scale_json_number(text.trim(), 4, i128::from(MAX)).map_err(|e| match e {
            ScaleError::Invalid => RateError::Invalid,
            ScaleError::TooPrecise => RateError::TooManyDecimals,
            ScaleError::OutOfRange => RateError::OutOfRange,
        })?;
        i64::try_from(value).ok().and_then(Percent::from_ten_thousandths).ok_or(RateError::OutOfRange)
    }

    /// Builds a percentage from 1/10000-percent units (`200_000` is 20 %);
    /// `None` unless the value is in (0, 100 %].
    pub fn from_ten_thousandths(v: i64) -> Option<Percent> {
        (v > 0 && v <= MAX).then_some(Percent(v))
    }

    /// The stored count of 1/10000 of a percent.
    pub fn ten_thousandths(&self) -> i64 {
        self.0
    }

    /// Shortest decimal form without trailing zeros: `"20"`, `"12.5"`, `"0.25"`.
    pub fn to_decimal_string(&self) -> String {
        let whole = self.0 / SCALE;
        let fraction = self.0 % SCALE;
        if fraction == 0 {
            return whole.to_string();
        }
        let digits = format!("{fraction:04}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_and_json_forms() {
        assert_eq!(Percent::parse("20").unwrap().ten_thousandths(), 200_000);
        assert_eq!(Percent::parse("12.5").unwrap().ten_thousandths(), 125_000);
        assert_eq!(Percent::parse("0.25").unwrap().ten_thousandths(), 2_500);
        assert_eq!(Percent::parse("2e1").unwrap().ten_thousandths(), 200_000);
        assert_eq!(Percent::parse("0.0001").unwrap().ten_thousandths(), 1);
        assert_eq!(Percent::parse("100").unwrap().ten_thousandths(), 1_000_000);
        assert_eq!(Percent::parse("100.0000").unwrap().ten_thousandths(), 1_000_000);
        assert_eq!(Percent::parse(" 20 ").unwrap().ten_thousandths(), 200_000);
    }

    #[test]
    fn rejects_out_of_bounds_and_precision() {
        assert_eq!(Percent::parse("0"), Err(RateError::OutOfRange));
        assert_eq!(Percent::parse("-5"), Err(RateError::OutOfRange));
        assert_eq!(Percent::parse("100.0001"), Err(RateError::OutOfRange));
        assert_eq!(Percent::parse("1e3"), Err(RateError::OutOfRange));
        assert_eq!(Percent::parse("0.00001"), Err(RateError::TooManyDecimals));
        assert_eq!(Percent::parse("12,5"), Err(RateError::Invalid));
        assert_eq!(Percent::parse(""), Err(RateError::Invalid));
        assert_eq!(Percent::parse("20%"), Err(RateError::Invalid));
    }

    #[test]
    fn from_ten_thousandths_applies_the_same_bounds() {
        assert!(Percent::from_ten_thousandths(0).is_none());
        assert!(Percent::from_ten_thousandths(-1).is_none());
        assert!(Percent::from_ten_thousandths(1_000_001).is_none());
        assert_eq!(Percent::from_ten_thousandths(1).map(|p| p.ten_thousandths()), Some(1));
        assert!(Percent::from_ten_thousandths(1_000_000).is_some());
    }

    #[test]
    fn decimal_string_is_minimal_and_round_trips() {
        for (text, expected) in [
            ("20", "20"),
            ("12.5", "12.5"),
            ("0.25", "0.25"),
            ("0.0001", "0.0001"),
            ("12.50", "12.5"),
            ("100", "100"),
        ] {
            let p = Percent::parse(text).unwrap();
            assert_eq!(p.to_decimal_string(), expected);
            assert_eq!(Percent::parse(&p.to_decimal_string()), Ok(p));
        }
    }

    #[test]
    fn orders_by_value() {
        assert!(Percent::parse("12.5").unwrap() < Percent::parse("20").unwrap());
    }
}
