//! Conversion between JSON number literals and integer minor units.

use crate::decimal::{scale_json_number, ScaleError};

/// Largest accepted magnitude, in major units: far above any real sale, small
/// enough that minor units of every common currency fit in an `i64`.
const MAX_MAJOR_UNITS_DIGITS: u32 = 12;

/// Why an amount literal was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The text is not a JSON number literal.
    #[error("must be a number")]
    Invalid,
    /// The amount has more decimal places than the currency's minor unit.
    #[error("must have at most {max} decimal places")]
    TooManyDecimals {
        /// The currency's exponent.
        max: u8,
    },
    /// The magnitude is above 10^12 major units or does not fit in an `i64`.
    #[error("is out of range")]
    OutOfRange,
}

/// Converts the exact text of a JSON number into minor units of a currency with
/// the given `exponent`, e.g. `"99.00"` with exponent 2 → `9900`.
///
/// Exponent notation is accepted (`"1e2"` → 100 major units) and trailing zeros
/// beyond the exponent are fine (`"1.500"` → 150), but any non-zero digit below
/// the minor unit is an error rather than silently rounded. The sign is kept;
/// callers decide whether negative amounts are acceptable.
pub fn parse_amount(literal: &str, exponent: u8) -> Result<i64, AmountError> {
    let limit = 10i128
        .checked_pow(MAX_MAJOR_UNITS_DIGITS + u32::from(exponent))
        .map_or(i128::from(i64::MAX), |l| l.min(i128::from(i64::MAX)));
    let minor = scale_json_number(literal, u32::from(exponent), limit).map_err(|e| match e {
        ScaleError::Invalid => AmountError::Invalid,
        ScaleError::TooPrecise => AmountError::TooManyDecimals { max: exponent },
        ScaleError::OutOfRange => AmountError::OutOfRange,
    })?;
    i64::try_from(minor).map_err(|_| AmountError::OutOfRange)
}

/// The largest sale, in minor units, that any door accepts for a currency with
/// `exponent`: 10^12 major units (as [`parse_amount`] allows), capped at `i64`.
///
/// Sums of many such amounts stay far below `i64::MAX` for any realistic
/// number of rows (2^63 / 10^14 ≈ 92,000 maximal sales in cents), and the
/// stores add up in 128-bit or checked arithmetic besides.
pub fn max_sale_minor(exponent: u8) -> i64 {
    10i64.checked_pow(MAX_MAJOR_UNITS_DIGITS + u32::from(exponent)).unwrap_or(i64::MAX)
}

/// Why a sale amount already in minor units is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaleAmountError {
    /// Zero or negative: a sale is money received.
    #[error("must be positive")]
    NotPositive,
    /// Above [`max_sale_minor`].
    #[error("is out of range")]
    OutOfRange,
}

/// The one range rule for a sale's amount in minor units, shared by the API
/// (after [`parse_amount`]) and by every other door (payment processors,
/// importers) that receives amounts already in minor units.
pub fn check_sale_minor(minor: i64, exponent: u8) -> Result<(), SaleAmountError> {
    if minor <= 0 {
        Err(SaleAmountError::NotPositive)
    } else if minor > max_sale_minor(exponent) {
        Err(SaleAmountError::OutOfRange)
    } else {
        Ok(())
    }
}

/// Renders minor units as a plain decimal with exactly `exponent` decimals:
/// `9900` → `"99.00"`, `-150` → `"-1.50"`, `5` → `"0.05"`, exponent 0 → `"100"`.
///
/// The output is always a valid JSON number literal accepted by [`parse_amount`].
pub fn format_amount(minor: i64, exponent: u8) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let digits = minor.unsigned_abs().to_string();
    let places = usize::from(exponent);
    if places == 0 {
        return format!("{sign}{digits}");
    }
    let padded = if digits.len() <= places {
        format!("{}{digits}", "0".repeat(places + 1 - digits.len()))
    } else {
        digits
    };
    let (whole, fraction) = padded.split_at(padded.len() - places);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_brief_examples() {
        assert_eq!(parse_amount("99", 2), Ok(9900));
        assert_eq!(parse_amount("99.0", 2), Ok(9900));
        assert_eq!(parse_amount("99.00", 2), Ok(9900));
        assert_eq!(parse_amount("-5", 2), Ok(-500));
        assert_eq!(parse_amount("1e2", 2), Ok(10000));
        assert_eq!(parse_amount("1.5E+1", 2), Ok(1500));
        assert_eq!(parse_amount("0.001", 3), Ok(1));
        assert_eq!(parse_amount("1.500", 2), Ok(150));
        assert_eq!(parse_amount("100", 0), Ok(100));
        assert_eq!(parse_amount("-0", 2), Ok(0));
    }

    #[test]
    fn too_many_decimals_reports_the_exponent() {
        assert_eq!(parse_amount("1.001", 2), Err(AmountError::TooManyDecimals { max: 2 }));
        assert_eq!(parse_amount("0.001", 2), Err(AmountError::TooManyDecimals { max: 2 }));
        assert_eq!(parse_amount("1.5", 0), Err(AmountError::TooManyDecimals { max: 0 }));
        assert_eq!(parse_amount("15e-1", 0), Err(AmountError::TooManyDecimals { max: 0 }));
        assert_eq!(AmountError::TooManyDecimals { max: 2 }.to_string(), "must have at most 2 decimal places");
    }

    #[test]
    fn rejects_invalid_literals() {
        for text in ["", "abc", "1,00", "+1", "01", ".5", "1.", "1e", "Infinity", "\"1\"", " 1"] {
            assert_eq!(parse_amount(text, 2), Err(AmountError::Invalid), "{text:?}");
        }
    }

    #[test]
    fn range_is_ten_to_the_twelve_major_units() {
        assert_eq!(parse_amount("1e12", 2), Ok(100_000_000_000_000));
        assert_eq!(parse_amount("-1e12", 2), Ok(-100_000_000_000_000));
        assert_eq!(parse_amount("1000000000000.01", 2), Err(AmountError::OutOfRange));
        assert_eq!(parse_amount("1e13", 0), Err(AmountError::OutOfRange));
        assert_eq!(parse_amount("1e400", 2), Err(AmountError::OutOfRange));
        assert_eq!(parse_amount("1e12", 255), Err(AmountError::OutOfRange));
    }

    #[test]
    fn sale_range_matches_parse_amount() {
        assert_eq!(check_sale_minor(1, 2), Ok(()));
        assert_eq!(check_sale_minor(0, 2), Err(SaleAmountError::NotPositive));
        assert_eq!(check_sale_minor(-5, 2), Err(SaleAmountError::NotPositive));
        assert_eq!(parse_amount("1e12", 2).map(|m| check_sale_minor(m, 2)), Ok(Ok(())));
        assert_eq!(check_sale_minor(max_sale_minor(2) + 1, 2), Err(SaleAmountError::OutOfRange));
        assert_eq!(check_sale_minor(i64::MAX, 0), Err(SaleAmountError::OutOfRange));
        assert_eq!(max_sale_minor(255), i64::MAX);
    }

    #[test]
    fn formats_with_fixed_decimals() {
        assert_eq!(format_amount(9900, 2), "99.00");
        assert_eq!(format_amount(-150, 2), "-1.50");
        assert_eq!(format_amount(5, 2), "0.05");
        assert_eq!(format_amount(0, 2), "0.00");
        assert_eq!(format_amount(100, 0), "100");
        assert_eq!(format_amount(-1, 3), "-0.001");
        assert_eq!(format_amount(i64::MIN, 2), "-92233720368547758.08");
    }
}
