//! The built-in ISO 4217 currency table and the [`Currency`] type.

use std::fmt;

/// Lower-case alpha-3 code and minor-unit exponent of every supported currency.
///
/// Exponents follow ISO 4217 so that minor units match what payment providers
/// report (e.g. JPY has none, BHD has three).
const CURRENCIES: &[(&str, u8)] = &[
    ("usd", 2),
    ("eur", 2),
    ("gbp", 2),
    ("cad", 2),
    ("aud", 2),
    ("nzd", 2),
    ("chf", 2),
    ("sek", 2),
    ("nok", 2),
    ("dkk", 2),
    ("pln", 2),
    ("czk", 2),
    ("huf", 2),
    ("ron", 2),
    ("bgn", 2),
    ("rsd", 2),
    ("uah", 2),
    ("gel", 2),
    ("isk", 0),
    ("jpy", 0),
    ("krw", 0),
    ("cny", 2),
    ("hkd", 2),
    ("twd", 2),
    ("sgd", 2),
    ("inr", 2),
    ("pkr", 2),
    ("bdt", 2),
    ("lkr", 2),
    ("idr", 2),
    ("myr", 2),
    ("thb", 2),
    ("php", 2),
    ("vnd", 0),
    ("kzt", 2),
    ("brl", 2),
    ("mxn", 2),
    ("ars", 2),
    ("clp", 0),
    ("cop", 2),
    ("pen", 2),
    ("uyu", 2),
    ("pyg", 0),
    ("crc", 2),
    ("dop", 2),
    ("zar", 2),
    ("ngn", 2),
    ("kes", 2),
    ("ghs", 2),
    ("egp", 2),
    ("mad", 2),
    ("ugx", 0),
    ("xof", 0),
    ("xaf", 0),
    ("try", 2),
    ("ils", 2),
    ("aed", 2),
    ("sar", 2),
    ("qar", 2),
    ("bhd", 3),
    ("kwd", 3),
    ("omr", 3),
    ("jod", 3),
    ("tnd", 3),
    ("lyd", 3),
    ("iqd", 3),
];

/// A supported ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// Why a currency code was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// The code is not in the built-in table.
    #[error("is not a supported ISO 4217 currency code")]
    Unknown,
}

impl Currency {
    /// US dollars, the default currency of a new merchant.
    pub const USD: Currency = Currency { code: "usd", exponent: 2 };

    /// Looks up an ISO 4217 alpha-3 code, ignoring ASCII case ("USD", "usd").
    pub fn parse(code: &str) -> Result<Currency, CurrencyError> {
        CURRENCIES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(code))
            .map(|&(code, exponent)| Currency { code, exponent })
            .ok_or(CurrencyError::Unknown)
    }

    /// The lower-case alpha-3 code, e.g. `"usd"`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Number of minor-unit digits: 2 for most, 0 for e.g. JPY, 3 for e.g. BHD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Every currency in the built-in table.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().map(|&(code, exponent)| Currency { code, exponent })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// The minor-unit exponent of currency `code`; 2 (as for USD) for a code not in the table, so
/// reading an amount stored under an unexpected code shows it rather than failing.
pub fn exponent_of(code: &str) -> u8 {
    Currency::parse(code).map_or(2, |c| c.exponent())
}

/// Minor units of currency `code` as decimal text with that currency's decimals:
/// `format_amount_in(1050, "usd")` → `"10.50"`, `format_amount_in(1050, "jpy")` → `"1050"`.
pub fn format_amount_in(minor: i64, code: &str) -> String {
    crate::format_amount(minor, exponent_of(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(usd.code(), "usd");
        assert_eq!(usd.exponent(), 2);
        assert_eq!(Currency::parse("uSd").unwrap(), usd);
        assert_eq!(usd.to_string(), "usd");
    }

    #[test]
    fn amounts_are_shown_in_their_currencys_decimals() {
        assert_eq!(format_amount_in(1050, "usd"), "10.50");
        assert_eq!(format_amount_in(1050, "JPY"), "1050");
        assert_eq!(format_amount_in(1050, "kwd"), "1.050");
        assert_eq!(format_amount_in(1050, "zzz"), "10.50", "an unknown code reads as two decimals");
        assert_eq!(exponent_of("zzz"), 2);
    }

    #[test]
    fn rejects_unknown_codes() {
        for code in ["", "us", "usdd", "xyz", " usd", "€", "ÜSD"] {
            assert_eq!(Currency::parse(code), Err(CurrencyError::Unknown), "{code:?}");
        }
    }

    #[test]
    fn required_codes_are_present_with_iso_exponents() {
        let required = "usd eur gbp cad aud nzd chf sek nok dkk pln czk huf ron bgn jpy krw cny hkd sgd \
                        inr idr myr thb php vnd brl mxn ars clp cop pen zar try ils aed sar bhd kwd omr \
                        jod tnd iqd ugx isk";
        for code in required.split_whitespace() {
            let currency = Currency::parse(code).unwrap();
            let expected = match code {
                "jpy" | "krw" | "vnd" | "clp" | "isk" | "ugx" => 0,
                "bhd" | "kwd" | "omr" | "jod" | "tnd" | "iqd" => 3,
                _ => 2,
            };
            assert_eq!(currency.exponent(), expected, "{code}");
        }
    }

    #[test]
    fn table_has_no_duplicates_and_is_lower_case() {
        let codes: Vec<_> = Currency::all().map(|c| c.code()).collect();
        for (i, code) in codes.iter().enumerate() {
            assert_eq!(code.len(), 3);
            assert!(code.bytes().all(|b| b.is_ascii_lowercase()));
            assert!(!codes[..i].contains(code), "duplicate {code}");
        }
    }
}
