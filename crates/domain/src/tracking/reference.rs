//! The referral reference a sale carries back through checkout:
//! `tc_<TRACKINGCODE>_aff_<AFFILIATEID>_cid_<CLICKID>` (LinkJolt's format).

/// Stripe truncates `client_reference_id` at 200 characters and LinkJolt integrations at 500;
/// anything longer is not a reference we issued.
pub const MAX_REFERENCE_LEN: usize = 500;

/// A parsed referral reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingReference {
    /// The campaign's tracking code (`tc`).
    pub tracking_code: String,
    /// The affiliate id (`aff`).
    pub affiliate_id: String,
    /// The click id (`cid`), when the visitor's click was recorded.
    pub click_id: Option<String>,
}

impl TrackingReference {
    /// The reference text, which [`Self::parse`] reads back as this reference. Without a click
    /// id, an affiliate id holding `_cid_` is followed by an empty `_cid_`, or the reader would
    /// take its tail for a click id (found by the `tracking_reference` fuzz target).
    pub fn format(&self) -> String {
        match &self.click_id {
            Some(cid) => format!("tc_{}_aff_{}_cid_{cid}", self.tracking_code, self.affiliate_id),
            None if self.affiliate_id.contains("_cid_") => {
                format!("tc_{}_aff_{}_cid_", self.tracking_code, self.affiliate_id)
            }
            None => format!("tc_{}_aff_{}", self.tracking_code, self.affiliate_id),
        }
    }

    /// Reads a reference. Affiliate ids (`aff_…`) and click ids (`click_…`) contain
    /// underscores themselves, so the code ends at the first `_aff_` and the click id starts
    /// after the last `_cid_`. Surrounding whitespace is ignored; anything else malformed is
    /// `None`.
    pub fn parse(text: &str) -> Option<TrackingReference> {
        let text = text.trim();
        if text.len() > MAX_REFERENCE_LEN {
            return None;
        }
        let rest = text.strip_prefix("tc_")?;
        let (code, rest) = rest.split_once("_aff_")?;
        let (affiliate, click) = match rest.rfind("_cid_") {
            // An empty click id (a checkout that lost it) still names campaign and affiliate.
            Some(at) => (&rest[..at], Some(&rest[at + "_cid_".len()..]).filter(|c| !c.is_empty())),
            None => (rest, None),
        };
        let token =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !token(code) || !token(affiliate) || click.is_some_and(|c| !token(c)) {
            return None;
        }
        Some(TrackingReference {
            tracking_code: code.to_string(),
            affiliate_id: affiliate.to_string(),
            click_id: click.map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_documented_format_with_prefixed_ids() {
        let parsed = TrackingReference::parse("tc_SUMMER24_aff_aff_3hG9kQ_cid_click_Zx81").unwrap();
        assert_eq!(parsed.tracking_code, "SUMMER24");
        assert_eq!(parsed.affiliate_id, "aff_3hG9kQ");
        assert_eq!(parsed.click_id.as_deref(), Some("click_Zx81"));
    }

    #[test]
    fn click_id_is_optional() {
        let lost = TrackingReference::parse("tc_A_aff_x_cid_").unwrap();
        assert_eq!((lost.affiliate_id.as_str(), lost.click_id), ("x", None));
        let parsed = TrackingReference::parse("tc_ABC_aff_aff_1").unwrap();
        assert_eq!(parsed.affiliate_id, "aff_1");
        assert_eq!(parsed.click_id, None);
    }

    #[test]
    fn refuses_what_is_not_a_reference() {
        for text in ["", "tc_", "tc__aff_x", "tc_A_aff_", "ref_123", "tc_A B_aff_x", "tc_A_aff_x;drop"] {
            assert_eq!(TrackingReference::parse(text), None, "{text}");
        }
        assert_eq!(TrackingReference::parse(&format!("tc_A_aff_{}", "x".repeat(600))), None);
    }

    #[test]
    fn an_affiliate_id_holding_cid_formats_back_to_itself() {
        // Found by the `tracking_reference` fuzz target: the empty click id was dropped when
        // formatting, so the affiliate id's tail read back as a click id.
        let text = "tc_A_aff_cid_c_A_aff_cid_b_cid_b_cid_";
        let parsed = TrackingReference::parse(text).unwrap();
        assert_eq!(
            (parsed.affiliate_id.as_str(), parsed.click_id.as_deref()),
            ("cid_c_A_aff_cid_b_cid_b", None)
        );
        assert_eq!(parsed.format(), text);
        assert_eq!(TrackingReference::parse(&parsed.format()), Some(parsed));
        let plain =
            TrackingReference { tracking_code: "A".into(), affiliate_id: "x_cid_y".into(), click_id: None };
        assert_eq!(TrackingReference::parse(&plain.format()), Some(plain));
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(
            code in "[A-Z0-9]{1,12}",
            aff in "aff_[A-Za-z0-9]{1,20}",
            cid in proptest::option::of("click_[A-Za-z0-9]{1,20}"),
        ) {
            let reference = TrackingReference { tracking_code: code, affiliate_id: aff, click_id: cid };
            prop_assert_eq!(TrackingReference::parse(&reference.format()), Some(reference));
        }

        #[test]
        fn never_panics(text in ".{0,80}") {
            let _ = TrackingReference::parse(&text);
        }
    }
}
