//! The tracking reference `tc_<CODE>_aff_<AFFILIATE>[_cid_<CLICK>]` that sales carry back
//! through checkout (`refline_domain::TrackingReference::parse`, which the processors' and the
//! API's readers share): what it reads is made of tokens, is at most `MAX_REFERENCE_LEN`,
//! formats back to a text that reads the same, and surrounding whitespace changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_domain::{TrackingReference, MAX_REFERENCE_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = TrackingReference::parse(text);
    assert_eq!(refline_processors::parse_reference(text), parsed, "the processors read it differently");
    assert_eq!(TrackingReference::parse(text.trim()), parsed, "surrounding whitespace changed the reading");
    let Some(reference) = parsed else { return };
    let token =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    assert!(token(&reference.tracking_code) && token(&reference.affiliate_id), "{reference:?}");
    assert!(reference.click_id.as_deref().is_none_or(token), "{reference:?}");
    let formatted = reference.format();
    assert!(formatted.len() <= MAX_REFERENCE_LEN);
    assert_eq!(TrackingReference::parse(&formatted), Some(reference), "format then parse changed it");
});
