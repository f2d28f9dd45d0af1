//! Exchange rates for the one place Refline has to put amounts of different currencies on one
//! scale: the monthly earnings cap, which counts every sale of a merchant in the merchant's own
//! currency. Everything else (stats, campaign revenue, earnings, tiers) stays per currency.
//!
//! A rate table is a server setting: each rate says what one unit of a currency is worth in the
//! table's **base** currency (`eur=1.08` with base `usd`: 1 EUR = 1.08 USD). Converting between
//! two currencies goes through the base, so one table serves merchants of every currency. The
//! arithmetic is exact: rates are integers of [`RATE_PLACES`] decimal places, products are
//! 128-bit, and the one rounding (half-up to the target's minor unit) happens last.

use crate::{decimal::scale_json_number, max_sale_minor, Currency};

/// Decimal places a rate may have (`jpy=0.006712345` is fine, a tenth digit is refused).
pub const RATE_PLACES: u32 = 9;

/// The scaled value of a rate of exactly 1.
const ONE: i128 = 1_000_000_000;

/// Largest rate, in base units per unit: 10^9 (far above any real pair, small enough that
/// `amount × rate × 10^exponent` stays inside `i128` for every accepted sale).
const MAX_RATE_SCALED: i128 = ONE * 1_000_000_000;

/// Why a rate-table entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeRateError {
    /// Not `code=rate`.
    #[error("{0:?} must look like eur=1.08 (currency code, '=', decimal rate)")]
    Format(String),
    /// The code is not a supported currency.
    #[error("{0:?} is not a supported ISO 4217 currency code")]
    UnknownCurrency(String),
    /// Zero, negative, not a decimal number, more than [`RATE_PLACES`] decimals or above 10^9.
    #[error(
        "the rate of {0} must be a positive decimal number of at most 9 decimal places and at most 1000000000"
    )]
    BadRate(&'static str),
    /// The base currency listed with a rate other than 1.
    #[error("{0} is the base currency of the rate table, so its rate is 1")]
    BaseNotOne(&'static str),
}

/// How a sale counts in another currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Minor units of the target currency.
    pub minor: i64,
    /// True when a rate was missing and the amount was counted at par (one major unit of the
    /// sale's currency as one major unit of the target's), which callers should log.
    pub at_par: bool,
}

/// A table of exchange rates against one base currency. The default has base USD and no rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRates {
    base: Currency,
    /// (currency, base units per unit × 10^[`RATE_PLACES`]), at most one entry per currency.
    rates: Vec<(Currency, i128)>,
}

impl Default for ExchangeRates {
    fn default() -> Self {
        ExchangeRates::new(Currency::USD)
    }
}

impl ExchangeRates {
    /// An empty table against `base`.
    pub fn new(base: Currency) -> ExchangeRates {
        ExchangeRates { base, rates: Vec::new() }
    }

    /// The base currency (its rate is 1).
    pub fn base(&self) -> Currency {
        self.base
    }

    /// Adds or replaces one entry written `code=rate` (`eur=1.08`, case-insensitive code, the
    /// rate a decimal number in base units per unit).
    pub fn set(&mut self, entry: &str) -> Result<(), ExchangeRateError> {
        let (code, rate) =
            entry.trim().split_once('=').ok_or_else(|| ExchangeRateError::Format(entry.to_string()))?;
        let currency = Currency::parse(code.trim())
            .map_err(|_| ExchangeRateError::UnknownCurrency(code.trim().to_string()))?;
        let scaled = match scale_json_number(rate.trim(), RATE_PLACES, MAX_RATE_SCALED) {
            Ok(v) if v > 0 => v,
            // Zero, negative, not a number, too precise or too large: all one answer.
            Ok(_) | Err(_) => return Err(ExchangeRateError::BadRate(currency.code())),
        };
        if currency == self.base {
            return if scaled == ONE { Ok(()) } else { Err(ExchangeRateError::BaseNotOne(currency.code())) };
        }
        self.rates.retain(|(c, _)| *c != currency);
        self.rates.push((currency, scaled));
        Ok(())
    }

    /// The rate of `currency` in base units per unit, scaled by 10^[`RATE_PLACES`]; `None` when
    /// the table has none. The base's is 1.
    pub fn scaled_rate(&self, currency: Currency) -> Option<i128> {
        if currency == self.base {
            return Some(ONE);
        }
        self.rates.iter().find(|(c, _)| *c == currency).map(|&(_, r)| r)
    }

    /// The entries as `code=rate` text, base first, for logs and `--help`-style listings.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!("{}=1", self.base.code())];
        for (currency, rate) in &self.rates {
            out.push(format!("{}={}", currency.code(), rate_text(*rate)));
        }
        out
    }

    /// `amount_minor` of `from` counted in `to`: unchanged when they are the same currency;
    /// converted through the base and rounded half-up to `to`'s minor unit when both have a
    /// rate; otherwise at par of major units (flagged in [`Counted::at_par`]). The result is
    /// bounded by the largest sale `to` accepts, so a tally of it cannot overflow sooner than a
    /// tally of real sales.
    pub fn count_in(&self, amount_minor: i64, from: Currency, to: Currency) -> Counted {
        if from == to {
            return Counted { minor: amount_minor, at_par: false };
        }
        let (numerator_rate, denominator_rate, at_par) = match (self.scaled_rate(from), self.scaled_rate(to))
        {
            (Some(f), Some(t)) => (f, t, false),
            _ => (ONE, ONE, true),
        };
        // minor_to = amount × rate_from × 10^exp_to / (rate_to × 10^exp_from)
        let numerator = i128::from(amount_minor)
            .checked_mul(numerator_rate)
            .and_then(|v| v.checked_mul(pow10(to.exponent())));
        let denominator = denominator_rate.saturating_mul(pow10(from.exponent()));
        let bound = max_sale_minor(to.exponent());
        let minor = match numerator {
            Some(n) => clamp(div_half_up(n, denominator), bound),
            None if amount_minor < 0 => -bound,
            None => bound,
        };
        Counted { minor, at_par }
    }
}

/// A cap written in hundredths of a major unit (the flags take 2 decimals) as minor units of a
/// currency with `exponent`; a fraction the currency cannot hold is dropped (a JPY cap of
/// 5000.50 is ¥5000).
pub fn hundredths_to_minor(hundredths: i64, exponent: u8) -> i64 {
    let value = i128::from(hundredths);
    let scaled = match exponent {
        0 => value / 100,
        1 => value / 10,
        e => value.saturating_mul(pow10(e - 2)),
    };
    clamp(scaled, i64::MAX)
}

fn pow10(exponent: u8) -> i128 {
    10i128.saturating_pow(u32::from(exponent))
}

/// `n / d` rounded half away from zero; `d` is positive.
fn div_half_up(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if r.unsigned_abs().saturating_mul(2) >= d.unsigned_abs() {
        q + n.signum()
    } else {
        q
    }
}

fn clamp(v: i128, bound: i64) -> i64 {
    let b = i128::from(bound);
    i64::try_from(v.clamp(-b, b)).unwrap_or(if v < 0 { -bound } else { bound })
}

fn rate_text(scaled: i128) -> String {
    let whole = scaled / ONE;
    let fraction = scaled % ONE;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn table(entries: &[&str]) -> ExchangeRates {
        let mut t = ExchangeRates::default();
        for e in entries {
            t.set(e).unwrap();
        }
        t
    }

    #[test]
    fn entries_parse_exactly_and_refuse_what_they_cannot_hold() {
        let t = table(&["EUR=1.08", " jpy = 0.0067 ", "usd=1", "eur=1.09"]);
        assert_eq!(t.scaled_rate(c("eur")), Some(1_090_000_000), "a later entry replaces");
        assert_eq!(t.scaled_rate(c("jpy")), Some(6_700_000));
        assert_eq!(t.scaled_rate(c("usd")), Some(ONE), "the base is 1");
        assert_eq!(t.scaled_rate(c("gbp")), None);
        assert_eq!(t.describe(), ["usd=1", "jpy=0.0067", "eur=1.09"]);
        let mut t = ExchangeRates::default();
        assert!(matches!(t.set("eur"), Err(ExchangeRateError::Format(_))));
        assert!(matches!(t.set("xyz=1"), Err(ExchangeRateError::UnknownCurrency(_))));
        for bad in ["eur=0", "eur=-1", "eur=abc", "eur=1.0000000001", "eur=1e10", "eur="] {
            assert_eq!(t.set(bad), Err(ExchangeRateError::BadRate("eur")), "{bad}");
        }
        assert_eq!(t.set("usd=2"), Err(ExchangeRateError::BaseNotOne("usd")));
    }

    #[test]
    fn conversions_go_through_the_base_and_round_half_up_once() {
        let t = table(&["eur=1.08", "jpy=0.0067", "kwd=3.25"]);
        // 10.00 EUR → 10.80 USD.
        assert_eq!(t.count_in(1000, c("eur"), c("usd")), Counted { minor: 1080, at_par: false });
        // 10.80 USD → 10.00 EUR, exactly back.
        assert_eq!(t.count_in(1080, c("usd"), c("eur")).minor, 1000);
        // ¥1,000 → 6.70 USD; ¥1 → 0.0067 USD → 0.01 (half-up at the cent).
        assert_eq!(t.count_in(1000, c("jpy"), c("usd")).minor, 670);
        assert_eq!(t.count_in(1, c("jpy"), c("usd")).minor, 1);
        // 1.000 KWD → 3.25 USD; 1.00 USD → 0.308 KWD (0.30769… rounds to 0.308).
        assert_eq!(t.count_in(1000, c("kwd"), c("usd")).minor, 325);
        assert_eq!(t.count_in(100, c("usd"), c("kwd")).minor, 308);
        // Neither is the base: 10.00 EUR → 10.80 USD → ¥1,611.94… → ¥1,612.
        assert_eq!(t.count_in(1000, c("eur"), c("jpy")).minor, 1612);
        // A half exactly rounds up: 0.05 EUR at 1.1 → 0.055 → 0.06.
        let t2 = table(&["eur=1.1"]);
        assert_eq!(t2.count_in(5, c("eur"), c("usd")).minor, 6);
    }

    #[test]
    fn same_currency_needs_no_rate_and_missing_rates_count_at_par() {
        let t = ExchangeRates::default();
        assert_eq!(t.count_in(1234, c("eur"), c("eur")), Counted { minor: 1234, at_par: false });
        // ¥5,000 at par in USD: 5,000.00.
        assert_eq!(t.count_in(5000, c("jpy"), c("usd")), Counted { minor: 500_000, at_par: true });
        // 1.50 USD at par in JPY: ¥2 (1.5 rounds half-up).
        assert_eq!(t.count_in(150, c("usd"), c("jpy")), Counted { minor: 2, at_par: true });
        // 1.234 KWD at par in EUR: 1.23.
        assert_eq!(t.count_in(1234, c("kwd"), c("eur")), Counted { minor: 123, at_par: true });
    }

    #[test]
    fn extreme_amounts_saturate_at_the_largest_sale() {
        let t = table(&["kwd=1000000000"]);
        let max_usd = max_sale_minor(2);
        assert_eq!(t.count_in(i64::MAX, c("kwd"), c("usd")).minor, max_usd);
        assert_eq!(t.count_in(max_sale_minor(3), c("kwd"), c("usd")).minor, max_usd);
        assert_eq!(t.count_in(-i64::MAX, c("kwd"), c("usd")).minor, -max_usd);
    }

    #[test]
    fn caps_are_read_in_the_currency_decimals() {
        assert_eq!(hundredths_to_minor(5_000_050, 2), 5_000_050);
        assert_eq!(hundredths_to_minor(5_000_050, 0), 50_000);
        assert_eq!(hundredths_to_minor(5_000_050, 3), 50_000_500);
        assert_eq!(hundredths_to_minor(i64::MAX, 3), i64::MAX);
    }
}
