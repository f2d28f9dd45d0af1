//! Where a tracked visitor lands: the campaign's target URL with the tracking parameters added.

use url::Url;

/// Query parameters the tracking script reads on the landing page.
pub const TRACKING_PARAMS: [&str; 3] = ["tc", "aff", "cid"];

/// `target` with `tc`, `aff` and `cid` set, keeping the rest of its query (order included) and
/// its fragment. Earlier values of the three tracking parameters are replaced, so a target that
/// already carries `tc=` cannot misattribute. `None` when `target` is not an http(s) URL.
pub fn landing_url(
    target: &str,
    tracking_code: &str,
    affiliate_id: &str,
    click_id: Option<&str>,
) -> Option<String> {
    let mut url = Url::parse(target).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !TRACKING_PARAMS.contains(&name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (name, value) in &kept {
            query.append_pair(name, value);
        }
        query.append_pair("tc", tracking_code);
        query.append_pair("aff", affiliate_id);
        if let Some(cid) = click_id {
            query.append_pair("cid", cid);
        }
    }
    Some(url.into())
}

/// Whether `target` may be a campaign's target URL (an absolute http(s) URL with a host).
pub fn is_valid_target_url(target: &str) -> bool {
    landing_url(target, "x", "x", None).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_tracking_to_a_bare_url() {
        assert_eq!(
            landing_url("https://shop.example/", "SUMMER24", "aff_1", Some("click_9")).unwrap(),
            "https://shop.example/?tc=SUMMER24&aff=aff_1&cid=click_9"
        );
    }

    #[test]
    fn keeps_the_targets_query_and_fragment() {
        assert_eq!(
            landing_url(
                "https://shop.example/p?utm_source=x&plan=pro#pricing",
                "C",
                "aff_1",
                Some("click_9")
            )
            .unwrap(),
            "https://shop.example/p?utm_source=x&plan=pro&tc=C&aff=aff_1&cid=click_9#pricing"
        );
    }

    #[test]
    fn replaces_stale_tracking_parameters() {
        assert_eq!(
            landing_url("https://shop.example/?tc=OLD&x=1&aff=someone", "NEW", "aff_2", None).unwrap(),
            "https://shop.example/?x=1&tc=NEW&aff=aff_2"
        );
    }

    #[test]
    fn escapes_values() {
        assert_eq!(
            landing_url("https://shop.example/?q=a%20b", "C", "a&b", None).unwrap(),
            "https://shop.example/?q=a+b&tc=C&aff=a%26b"
        );
    }

    #[test]
    fn refuses_what_a_browser_should_not_be_sent_to() {
        for target in ["javascript:alert(1)", "ftp://x.example/", "/relative", "", "data:text/html,hi"] {
            assert_eq!(landing_url(target, "C", "A", None), None, "{target}");
            assert!(!is_valid_target_url(target));
        }
    }
}
