//! The tracking reference `tc_<TRACKINGCODE>_aff_<AFFILIATEID>_cid_<CLICKID>` and where
//! processors carry it.
//!
//! Our affiliate ids contain an underscore themselves (`aff_3hG9kQ2mZx81LpWv4Ty0`), so a real
//! reference looks like `tc_K7PX2MQA_aff_aff_3hG9kQ2mZx81LpWv4Ty0_cid_click_123`; the format
//! and its parser are `refline_domain::TrackingReference`. Ids are returned verbatim: resolving
//! them is the server's job.

use crate::event::Reference;

/// Metadata keys that may hold a reference, most specific first.
pub const REFERENCE_KEYS: &[&str] = &[
    "linkjolt_ref",
    "linkjolt_referral",
    "refline_ref",
    "refline_referral",
    "client_reference_id",
    "referral",
    "ref",
    "reference",
    "tracking_reference",
];

/// Parse `tc_<CODE>_aff_<AFFILIATE>` with an optional `_cid_<CLICK>` (surrounding whitespace is
/// ignored); one format, shared with the tracking script's side in `refline-domain`.
pub fn parse_reference(s: &str) -> Option<Reference> {
    Reference::parse(s)
}

/// A reference inside free text: the text itself, a JSON object (Paddle Classic's
/// `passthrough` is often JSON), or a query string.
pub(crate) fn from_text(s: &str) -> Option<Reference> {
    if let Some(r) = parse_reference(s) {
        return Some(r);
    }
    let t = s.trim();
    if t.starts_with('{') && t.len() <= 4096 {
        let v: serde_json::Value = serde_json::from_str(t).ok()?;
        return from_map(&crate::json::string_map(Some(&v)));
    }
    if t.contains('=') && t.len() <= 4096 {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(t).ok()?;
        return from_map(&pairs);
    }
    None
}

/// A reference in a string map (metadata, custom data, URL parameters): a known key, then the
/// link parameters `tc` + `aff` (+ `cid`), then any value that parses.
pub(crate) fn from_map(entries: &[(String, String)]) -> Option<Reference> {
    let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim());
    for key in REFERENCE_KEYS {
        if let Some(r) = get(key).and_then(parse_reference) {
            return Some(r);
        }
    }
    if let (Some(tc), Some(aff)) = (get("tc"), get("aff")) {
        let click = get("cid").or_else(|| get("click_id")).or_else(|| get("clickId"));
        // Validated by the one parser: the parameters must spell a reference that reads back
        // as themselves (a `cid` holding `_cid_` would read as another affiliate id).
        let spelled = Reference {
            tracking_code: tc.to_string(),
            affiliate_id: aff.to_string(),
            click_id: click.filter(|c| !c.is_empty()).map(str::to_string),
        };
        if parse_reference(&spelled.format()).as_ref() == Some(&spelled) {
            return Some(spelled);
        }
    }
    entries.iter().find_map(|(_, v)| parse_reference(v))
}

/// The first reference found among several carriers, in order of preference.
pub(crate) fn first_of(candidates: impl IntoIterator<Item = Option<Reference>>) -> Option<Reference> {
    candidates.into_iter().flatten().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(code: &str, aff: &str, cid: Option<&str>) -> Reference {
        Reference {
            tracking_code: code.to_string(),
            affiliate_id: aff.to_string(),
            click_id: cid.map(str::to_string),
        }
    }

    #[test]
    fn parses_the_documented_format_with_our_id_shapes() {
        assert_eq!(
            parse_reference("tc_K7PX2MQA_aff_aff_3hG9kQ2mZx81LpWv4Ty0_cid_click_123"),
            Some(r("K7PX2MQA", "aff_3hG9kQ2mZx81LpWv4Ty0", Some("click_123")))
        );
        assert_eq!(parse_reference("tc_SUMMER_aff_7PtIfIqd"), Some(r("SUMMER", "7PtIfIqd", None)));
        assert_eq!(parse_reference("tc_A_aff_b_cid_"), Some(r("A", "b", None)));
        assert_eq!(parse_reference("tc_A_aff_cid_x"), Some(r("A", "cid_x", None)));
    }

    #[test]
    fn refuses_other_shapes() {
        for s in [
            "",
            "jane",
            "aff_7PtIfIqd",
            "tc__aff_x",
            "tc_A_aff_",
            "tc_A B_aff_x",
            "tc_A_aff_x y",
            "TC_A_aff_b",
        ] {
            assert_eq!(parse_reference(s), None, "{s}");
        }
        assert_eq!(parse_reference(&format!("tc_A_aff_{}", "x".repeat(600))), None);
    }

    #[test]
    fn finds_references_in_maps_and_text() {
        let m = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert_eq!(from_map(&m(&[("ref", "jane")])), None);
        assert_eq!(from_map(&m(&[("ref", "tc_A_aff_b")])), Some(r("A", "b", None)));
        assert_eq!(
            from_map(&m(&[("tc", "A"), ("aff", "aff_x"), ("cid", "c1")])),
            Some(r("A", "aff_x", Some("c1")))
        );
        assert_eq!(from_map(&m(&[("other", "tc_A_aff_b")])), Some(r("A", "b", None)));
        // Parameters are taken as they are or not at all, never re-split into other ids.
        assert_eq!(from_map(&m(&[("tc", "A"), ("aff", "x_cid_y")])), Some(r("A", "x_cid_y", None)));
        assert_eq!(from_map(&m(&[("tc", "A"), ("aff", "x"), ("cid", "c_cid_d")])), None);
        assert_eq!(from_text(r#"{"linkjolt_ref":"tc_A_aff_b"}"#), Some(r("A", "b", None)));
        assert_eq!(from_text("tc=A&aff=b"), Some(r("A", "b", None)));
        assert_eq!(from_text(r#"{"aff":"jane"}"#), None);
    }
}
