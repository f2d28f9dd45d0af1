//! Property tests of the arithmetic that must never panic or lose a cent.

// Helpers outside #[test] fns are not covered by clippy's allow-unwrap-in-tests;
// a failed unwrap here is a test failure, which is what we want.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use refline_domain::{
    add_months, commission_for, format_amount, format_timestamp, parse_amount, parse_timestamp,
    CommissionRule, Percent, MS_PER_DAY,
};

/// Largest magnitude `parse_amount` accepts for an exponent.
fn amount_limit(exponent: u8) -> i64 {
    10i64.pow(12 + u32::from(exponent))
}

/// Half-up (away from zero) rounding of `sale × rate / 100`, computed by decimal
/// long division on the digit string, independently of the i128 implementation.
fn reference_commission(sale: i64, ten_thousandths: i64) -> i64 {
    let negative = sale < 0;
    let product = u128::from(sale.unsigned_abs()) * u128::from(ten_thousandths.unsigned_abs());
    // Divide the decimal digits by 1_000_000 one digit at a time.
    let divisor: u128 = 1_000_000;
    let mut quotient: u128 = 0;
    let mut remainder: u128 = 0;
    for digit in product.to_string().bytes() {
        remainder = remainder * 10 + u128::from(digit - b'0');
        quotient = quotient * 10 + remainder / divisor;
        remainder %= divisor;
    }
    if remainder * 2 >= divisor {
        quotient += 1;
    }
    let magnitude = i128::try_from(quotient).unwrap();
    i64::try_from(if negative { -magnitude } else { magnitude }).unwrap()
}

fn percent() -> impl Strategy<Value = Percent> {
    (1i64..=1_000_000).prop_map(|v| Percent::from_ten_thousandths(v).unwrap())
}

/// Timestamps between 0000-01-01 and 9999-12-31, the four-digit-year range.
fn four_digit_year_ms() -> impl Strategy<Value = i64> {
    -62_167_219_200_000i64..253_402_300_800_000
}

proptest! {
    #[test]
    fn parse_amount_never_panics(text in any::<String>(), exponent in any::<u8>()) {
        let _ = parse_amount(&text, exponent);
    }

    #[test]
    fn parse_amount_never_panics_on_number_like_text(text in "[-+0-9eE.]{0,40}", exponent in 0u8..=4) {
        let _ = parse_amount(&text, exponent);
    }

    #[test]
    fn amounts_round_trip(exponent in prop::sample::select(vec![0u8, 2, 3]), raw in any::<i64>()) {
        let limit = amount_limit(exponent);
        let minor = raw % (limit + 1);
        prop_assert_eq!(parse_amount(&format_amount(minor, exponent), exponent), Ok(minor));
    }

    #[test]
    fn scientific_amounts_parse_exactly(mantissa in -1_000_000i64..1_000_000, shift in 0u32..=6) {
        let literal = format!("{mantissa}e{shift}");
        prop_assert_eq!(parse_amount(&literal, 2), Ok(mantissa * 10i64.pow(shift) * 100));
    }

    #[test]
    fn percentage_commission_is_bounded_by_the_sale(rate in percent(), sale in any::<i64>()) {
        let commission = commission_for(&CommissionRule::Percentage(rate), sale);
        prop_assert!(commission.unsigned_abs() <= sale.unsigned_abs());
        prop_assert!(sale == 0 || commission == 0 || (commission < 0) == (sale < 0));
    }

    #[test]
    fn percentage_commission_matches_long_division(rate in percent(), sale in any::<i64>()) {
        let commission = commission_for(&CommissionRule::Percentage(rate), sale);
        prop_assert_eq!(commission, reference_commission(sale, rate.ten_thousandths()));
    }

    #[test]
    fn commission_is_monotonic_in_the_sale(rate in percent(), a in any::<i64>(), b in any::<i64>()) {
        let rule = CommissionRule::Percentage(rate);
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(commission_for(&rule, low) <= commission_for(&rule, high));
    }

    #[test]
    fn parse_timestamp_never_panics(text in any::<String>(), end_of_day in any::<bool>()) {
        let _ = parse_timestamp(&text, end_of_day);
    }

    #[test]
    fn parse_timestamp_never_panics_on_timestamp_like_text(
        text in "[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,12})?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?",
        end_of_day in any::<bool>(),
    ) {
        let _ = parse_timestamp(&text, end_of_day);
    }

    #[test]
    fn timestamps_round_trip_to_the_second(ms in four_digit_year_ms()) {
        let formatted = format_timestamp(ms);
        prop_assert_eq!(parse_timestamp(&formatted, false), Some(ms.div_euclid(1000) * 1000));
    }

    #[test]
    fn date_only_bounds_cover_the_whole_day(ms in four_digit_year_ms()) {
        let date = &format_timestamp(ms)[..10];
        let start = parse_timestamp(date, false).unwrap();
        let end = parse_timestamp(date, true).unwrap();
        prop_assert!(start <= ms && ms <= end);
        prop_assert_eq!(end - start, MS_PER_DAY - 1);
    }

    #[test]
    fn add_months_moves_forward_by_at_most_the_months(ms in four_digit_year_ms(), months in 0u32..1200) {
        let later = add_months(ms, months);
        prop_assert!(later >= ms);
        prop_assert!(later - ms <= i64::from(months) * 31 * MS_PER_DAY);
    }
}
