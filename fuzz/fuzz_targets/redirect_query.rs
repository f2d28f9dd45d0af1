//! Hosted links and short links (`GET /redirect?tc=…&aff=…`, `GET /l/<code>?…`): the first line
//! is a campaign's target URL (or a short code), the rest the visitor's raw query. The server's
//! `read_link_query` only names tokens; `passed_on` keeps every other parameter and never a
//! tracking one; and the `Location` built from the landing template is a valid header value
//! whose `tc`, `aff` and `cid` are exactly the link's, whatever the visitor's query held.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_domain::{is_valid_short_code, landing_url, LandingTemplate, TRACKING_PARAMS};
use refline_server::tracking::{
    is_token,
    redirect::{passed_on, read_link_query},
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (target, raw) = text.split_once('\n').unwrap_or((text, ""));
    let _ = is_valid_short_code(target);

    if let Some((tc, aff)) = read_link_query(raw) {
        assert!(is_token(&tc) && is_token(&aff), "{tc:?} {aff:?}");
    }

    let extra = passed_on(raw);
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .filter(|(name, _)| !TRACKING_PARAMS.contains(&name.as_ref()))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        assert_eq!(extra, "");
    } else {
        let pairs = extra.strip_prefix('&').expect("passed-on pairs start with &");
        let again: Vec<(String, String)> = url::form_urlencoded::parse(pairs.as_bytes())
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(again, kept, "passed-on parameters changed");
    }

    let Some(template) = LandingTemplate::new(target, "CODE", "aff_1") else {
        assert_eq!(landing_url(target, "CODE", "aff_1", None), None);
        return;
    };
    assert_eq!(Some(template.with_click("click_1")), landing_url(target, "CODE", "aff_1", Some("click_1")));
    let location = template.with_click_and("click_1", &extra);
    assert!(location.bytes().all(|b| (0x21..0x7f).contains(&b)), "not a header value: {location}");
    let url = url::Url::parse(&location).expect("the landing URL parses");
    for (name, expected) in [("tc", "CODE"), ("aff", "aff_1"), ("cid", "click_1")] {
        let values: Vec<String> =
            url.query_pairs().filter(|(n, _)| n == name).map(|(_, v)| v.into_owned()).collect();
        assert_eq!(values, [expected], "{name} in {location}");
    }
});
