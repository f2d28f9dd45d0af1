//! Exact conversion of JSON number literals into scaled integers, shared by the
//! money and rate parsers so neither ever goes through a float.

/// Why a literal could not be turned into a scaled integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScaleError {
    /// The text is not a JSON number literal.
    Invalid,
    /// The value has non-zero digits below the requested precision.
    TooPrecise,
    /// The scaled magnitude exceeds the caller's bound (or i128).
    OutOfRange,
}

/// Exponents are saturated here: anything this large is out of range or zero
/// anyway, and saturating keeps the arithmetic below overflow-free.
const EXPONENT_CAP: i64 = 1_000_000_000;

/// i128 holds every 38-digit number, so longer results are rejected before
/// multiplying.
const MAX_I128_DIGITS: i64 = 38;

/// Parses `text` as a JSON number and returns `value × 10^places` exactly,
/// rejecting results whose magnitude exceeds `max_abs`.
pub(crate) fn scale_json_number(text: &str, places: u32, max_abs: i128) -> Result<i128, ScaleError> {
    let parts = split_json_number(text.as_bytes()).ok_or(ScaleError::Invalid)?;
    let digits = || parts.int_digits.iter().chain(parts.frac_digits.iter());

    let Some(first) = digits().position(|&d| d != b'0') else {
        // All-zero mantissas are exactly zero whatever the exponent says.
        return Ok(0);
    };
    let total = parts.int_digits.len() + parts.frac_digits.len();
    let trailing_zeros = digits().rev().take_while(|&&d| d == b'0').count();
    let significant = total - first - trailing_zeros;

    // value = significant digits × 10^scale, after scaling to `places`.
    let scale = parts
        .exponent
        .saturating_sub(to_i64(parts.frac_digits.len()))
        .saturating_add(to_i64(trailing_zeros))
        .saturating_add(i64::from(places));
    if scale < 0 {
        return Err(ScaleError::TooPrecise);
    }
    if to_i64(significant).saturating_add(scale) > MAX_I128_DIGITS {
        return Err(ScaleError::OutOfRange);
    }

    let mut value: i128 = 0;
    for &d in digits().skip(first).take(significant) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(d - b'0')))
            .ok_or(ScaleError::OutOfRange)?;
    }
    let factor =
        u32::try_from(scale).ok().and_then(|s| 10i128.checked_pow(s)).ok_or(ScaleError::OutOfRange)?;
    let magnitude = value.checked_mul(factor).ok_or(ScaleError::OutOfRange)?;
    if magnitude > max_abs {
        return Err(ScaleError::OutOfRange);
    }
    Ok(if parts.negative { -magnitude } else { magnitude })
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

struct Parts<'a> {
    negative: bool,
    int_digits: &'a [u8],
    frac_digits: &'a [u8],
    exponent: i64,
}

/// Splits per the JSON grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn split_json_number(bytes: &[u8]) -> Option<Parts<'_>> {
    let mut i = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        i += 1;
    }

    let int_digits = take_digits(bytes, &mut i);
    if int_digits.is_empty() || (int_digits.len() > 1 && int_digits.first() == Some(&b'0')) {
        return None;
    }

    let mut frac_digits: &[u8] = &[];
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = take_digits(bytes, &mut i);
        if frac_digits.is_empty() {
            return None;
        }
    }

    let mut exponent = 0i64;
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exp_digits = take_digits(bytes, &mut i);
        if exp_digits.is_empty() {
            return None;
        }
        for &d in exp_digits {
            exponent = (exponent * 10 + i64::from(d - b'0')).min(EXPONENT_CAP);
        }
        if exp_negative {
            exponent = -exponent;
        }
    }

    (i == bytes.len()).then_some(Parts { negative, int_digits, frac_digits, exponent })
}

fn take_digits<'a>(bytes: &'a [u8], i: &mut usize) -> &'a [u8] {
    let start = *i;
    while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
        *i += 1;
    }
    bytes.get(start..*i).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_plain_fraction_and_exponent_forms() {
        assert_eq!(scale_json_number("99", 2, i128::MAX), Ok(9900));
        assert_eq!(scale_json_number("99.5", 2, i128::MAX), Ok(9950));
        assert_eq!(scale_json_number("1e2", 2, i128::MAX), Ok(10000));
        assert_eq!(scale_json_number("1.5E+1", 0, i128::MAX), Ok(15));
        assert_eq!(scale_json_number("100e-2", 0, i128::MAX), Ok(1));
        assert_eq!(scale_json_number("-0.000", 2, i128::MAX), Ok(0));
        assert_eq!(scale_json_number("0e999999999999", 2, i128::MAX), Ok(0));
    }

    #[test]
    fn rejects_non_json_forms() {
        for text in ["", "-", "+1", "01", "1.", ".5", "1e", "1e+", "1.5.5", " 1", "1 ", "0x10", "NaN", "--1"]
        {
            assert_eq!(scale_json_number(text, 2, i128::MAX), Err(ScaleError::Invalid), "{text:?}");
        }
    }

    #[test]
    fn precision_and_range_errors() {
        assert_eq!(scale_json_number("0.001", 2, i128::MAX), Err(ScaleError::TooPrecise));
        assert_eq!(scale_json_number("1e-999999999999", 2, i128::MAX), Err(ScaleError::TooPrecise));
        assert_eq!(scale_json_number("1e39", 0, i128::MAX), Err(ScaleError::OutOfRange));
        assert_eq!(scale_json_number("101", 0, 100), Err(ScaleError::OutOfRange));
        assert_eq!(scale_json_number("-100", 0, 100), Ok(-100));
    }
}
