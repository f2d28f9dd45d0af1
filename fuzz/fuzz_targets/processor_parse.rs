//! Every payment processor's payload parser (`refline_processors::parse`, and GoPay's payment
//! status through `parse_gopay_payment`) over arbitrary deliveries: no panic, and every event
//! it answers holds the invariants of `refline_fuzz::check_parsed` (ids present, aliases
//! distinct, ISO currencies, references that round-trip).
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_processors::{parse, parse_gopay_payment, Provider};

fuzz_target!(|data: &[u8]| {
    let d = refline_fuzz::delivery(data);
    match parse(d.provider, &d.headers, &d.query, d.body) {
        Ok(parsed) => refline_fuzz::check_parsed(&parsed),
        Err(err) => assert!(!err.code().is_empty()),
    }
    if d.provider == Provider::GoPay {
        // The payment JSON fetched from GoPay's API after a notification.
        if let Ok(parsed) = parse_gopay_payment(d.body) {
            refline_fuzz::check_parsed(&parsed);
        }
    }
});
