//! The API's query strings (`api::list::Params`, every list endpoint): a malformed query is a
//! 400; paging stays in range (limit 1–100, offset a whole number of pages); a date bound that
//! reads formats back to the same second; flags and enums never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_core::sales::conversions::SORTS;
use refline_domain::{format_timestamp, parse_timestamp};
use refline_server::api::list::Params;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let mut params = match Params::from_query(raw) {
        Ok(params) => params,
        Err(err) => {
            assert_eq!((err.status.as_u16(), err.code), (400, "validation_error"));
            return;
        }
    };
    let _ = params.flag("isTest");
    let _ = params.one_of("status", &["pending", "approved", "rejected"]);
    for (name, end_of_day) in [("from", false), ("to", true)] {
        if let Some(ms) = params.time(name, end_of_day) {
            // Formatting keeps whole seconds, and four-digit years (an offset can step past
            // year 0, which then has no ISO form to read back).
            let text = format_timestamp(ms);
            if text.len() == 20 && text.as_bytes()[0].is_ascii_digit() {
                let second = ms.div_euclid(1000) * 1000;
                assert_eq!(parse_timestamp(&text, end_of_day), Some(second), "{name} of {raw:?}");
            }
        }
    }
    let default = SORTS[0].1;
    let page = params.page(SORTS, default);
    assert!((1..=100).contains(&page.limit), "limit {}", page.limit);
    assert!(page.offset >= 0 && page.offset % page.limit == 0, "offset {}", page.offset);
    if let Err(err) = params.finish() {
        assert_eq!((err.status.as_u16(), err.code), (400, "validation_error"));
    }
});
