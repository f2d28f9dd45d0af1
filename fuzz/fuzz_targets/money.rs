//! Money text from untrusted input: the processors' decimal amounts
//! (`refline_processors::decimal_to_minor`, Paddle Classic's `"12.99"`) and the API's JSON number
//! amounts (`refline_domain::parse_amount`). The first byte picks the currency exponent (0–3),
//! the rest is the text. What either parser accepts formats back to text it reads as the same
//! minor units; where both accept a text they agree; the API's stays within the sale range;
//! and both crates give a three-letter code the same exponent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_domain::{format_amount, max_sale_minor, parse_amount, Currency};
use refline_processors::{currency_exponent, decimal_to_minor, fixtures::minor_to_decimal};

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let exponent = head % 4;

    let from_processor = decimal_to_minor(text, exponent);
    if let Ok(minor) = from_processor {
        assert_eq!(decimal_to_minor(&minor_to_decimal(minor, exponent), exponent), Ok(minor), "`{text}`");
    }
    let from_api = parse_amount(text, exponent);
    if let Ok(minor) = from_api {
        assert_eq!(parse_amount(&format_amount(minor, exponent), exponent), Ok(minor), "`{text}`");
        assert!(minor.unsigned_abs() <= max_sale_minor(exponent).unsigned_abs(), "`{text}` out of range");
    }
    if let (Ok(a), Ok(b)) = (from_processor, from_api) {
        assert_eq!(a, b, "`{text}` read as {a} by the processors and {b} by the API");
    }

    if text.len() == 3 && text.is_ascii() {
        let code = text.to_ascii_uppercase();
        if let Ok(currency) = Currency::parse(&code) {
            assert_eq!(currency_exponent(&code), currency.exponent(), "exponent tables differ for {code}");
        }
    }
});
