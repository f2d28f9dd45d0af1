//! The click beacon (`POST /api/track/click`, text/plain JSON from any visitor): the server's
//! `tracking::beacon::read_body`, then what the beacon does with the visitor's own strings
//! without a store (click-id check, user-agent classification, control stripping). What it
//! reads is trimmed and non-empty where required, and URLs are cut to `MAX_URL` bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_domain::{classify_user_agent, strip_all_controls};
use refline_server::tracking::{
    beacon::{read_body, MAX_URL},
    is_token,
};

fuzz_target!(|data: &[u8]| {
    // A header of the same bytes: the user agent and referrer the click records.
    let header = String::from_utf8_lossy(data);
    let stripped = strip_all_controls(&header);
    assert!(!stripped.chars().any(char::is_control));
    let _ = classify_user_agent(Some(&stripped));

    let Ok(body) = read_body(data) else { return };
    for name in [&body.merchant_id, &body.tc, &body.aff] {
        assert!(!name.is_empty() && name.trim() == name.as_str(), "{body:?}");
    }
    let _ = is_token(&body.tc) && is_token(&body.aff);
    if let Some(id) = &body.click_id {
        assert!(!id.is_empty() && id.trim() == id.as_str());
        let _ = refline_server::ids::ordered_id_time("click", id);
    }
    for url in [&body.url, &body.referrer].into_iter().flatten() {
        assert!(!url.is_empty() && url.len() <= MAX_URL, "{} bytes kept", url.len());
    }
});
