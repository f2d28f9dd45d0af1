//! Exact money: decimal strings and integer fields to `i64` minor units, currency codes.
//!
//! No floats anywhere: processors send either integers in minor units (Stripe, Paddle Billing as
//! strings, Lemon Squeezy, Gumroad, GoPay, Creem, Polar) or decimal strings in major units
//! (Paddle Classic), which must be scaled exactly by the currency's ISO 4217 exponent.

use crate::error::ParseError;

/// Currencies whose ISO 4217 exponent is not 2 (the same table as `refline-domain`).
const EXPONENTS: &[(&str, u8)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
];

/// The ISO 4217 minor-unit exponent of an upper-case currency code (2 unless listed).
pub fn exponent(currency: &str) -> u8 {
    EXPONENTS.iter().find(|(c, _)| *c == currency).map_or(2, |(_, e)| *e)
}

/// A currency code normalized to upper case; `None` unless exactly three ASCII letters.
pub fn normalize_currency(code: &str) -> Option<String> {
    let code = code.trim();
    (code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic())).then(|| code.to_ascii_uppercase())
}

/// Exact decimal text in major units → minor units: `"12.99"` with exponent 2 → `1299`.
/// Extra decimals are accepted only when they are zeros (`"1.500"` → `150`); anything that
/// would need rounding, exponents, or overflows is refused.
pub fn decimal_to_minor(text: &str, exponent: u8) -> Result<i64, String> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(format!("`{text}` is not a decimal number"));
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a decimal number"));
    }
    let exp = usize::from(exponent);
    let (kept, dropped) = frac.split_at(frac.len().min(exp));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(format!("`{text}` has more than {exponent} decimals"));
    }
    let mut minor: i64 = 0;
    let padded = kept.bytes().chain(std::iter::repeat_n(b'0', exp - kept.len()));
    for b in whole.bytes().chain(padded) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| format!("`{text}` is too large"))?;
    }
    Ok(if negative { -minor } else { minor })
}

/// Parse a decimal amount field or explain which field was wrong.
pub(crate) fn decimal_field(field: &str, text: &str, currency: &str) -> Result<i64, ParseError> {
    decimal_to_minor(text, exponent(currency))
        .map_err(|detail| ParseError::Amount { field: field.to_string(), detail })
}

/// An integer amount in minor units given as text (Paddle Billing totals, form fields).
pub(crate) fn int_text(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_scale_exactly() {
        assert_eq!(decimal_to_minor("12.99", 2), Ok(1299));
        assert_eq!(decimal_to_minor("12.9", 2), Ok(1290));
        assert_eq!(decimal_to_minor("12", 2), Ok(1200));
        assert_eq!(decimal_to_minor("1.500", 2), Ok(150));
        assert_eq!(decimal_to_minor(".5", 2), Ok(50));
        assert_eq!(decimal_to_minor("1000", 0), Ok(1000));
        assert_eq!(decimal_to_minor("1.234", 3), Ok(1234));
        assert_eq!(decimal_to_minor("-0.42", 2), Ok(-42));
        assert!(decimal_to_minor("1.005", 2).is_err());
        assert!(decimal_to_minor("1e3", 2).is_err());
        assert!(decimal_to_minor("", 2).is_err());
        assert!(decimal_to_minor(".", 2).is_err());
        assert!(decimal_to_minor("99999999999999999999", 2).is_err());
        assert!(decimal_to_minor("1.2.3", 2).is_err());
    }

    #[test]
    fn currencies() {
        assert_eq!(normalize_currency("usd").as_deref(), Some("USD"));
        assert_eq!(normalize_currency("US"), None);
        assert_eq!(normalize_currency("u$d"), None);
        assert_eq!(exponent("JPY"), 0);
        assert_eq!(exponent("KWD"), 3);
        assert_eq!(exponent("EUR"), 2);
    }

    #[test]
    fn integer_text() {
        assert_eq!(int_text("65215"), Some(65215));
        assert_eq!(int_text("-5"), Some(-5));
        assert_eq!(int_text("6.5"), None);
        assert_eq!(int_text(""), None);
        assert_eq!(int_text("99999999999999999999"), None);
    }
}
