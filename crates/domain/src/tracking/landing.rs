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

/// A landing URL prepared once per link, so each click only appends its id: the URL up to and
/// including `aff=…`, and the fragment that must follow the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandingTemplate {
    head: String,
    fragment: String,
}

impl LandingTemplate {
    /// Prepares `target` for links of `tracking_code` and `affiliate_id`; `None` when `target`
    /// is not an http(s) URL.
    pub fn new(target: &str, tracking_code: &str, affiliate_id: &str) -> Option<LandingTemplate> {
        let full = landing_url(target, tracking_code, affiliate_id, None)?;
        let (head, fragment) = match full.find('#') {
            Some(at) => (full[..at].to_string(), full[at..].to_string()),
            None => (full, String::new()),
        };
        Some(LandingTemplate { head, fragment })
    }

    /// The landing URL without a click id (HEAD requests, untracked visits).
    pub fn without_click(&self) -> String {
        format!("{}{}", self.head, self.fragment)
    }

    /// The landing URL carrying `click_id`, which must be URL-safe (our ids are).
    pub fn with_click(&self, click_id: &str) -> String {
        self.with_click_and(click_id, "")
    }

    /// As [`Self::with_click`], then `extra`: already-encoded `&name=value` pairs the visitor's
    /// link carried (UTM tags and the like), passed on to the landing page.
    pub fn with_click_and(&self, click_id: &str, extra: &str) -> String {
        let mut url =
            String::with_capacity(self.head.len() + click_id.len() + extra.len() + self.fragment.len() + 5);
        url.push_str(&self.head);
        url.push_str("&cid=");
        url.push_str(click_id);
        url.push_str(extra);
        url.push_str(&self.fragment);
        url
    }
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
    fn templates_match_the_full_computation() {
        for target in [
            "https://shop.example/",
            "https://shop.example/p?utm_source=x&plan=pro#pricing",
            "https://shop.example/?tc=OLD&x=1&aff=someone",
            "http://shop.example:8080/a/b?q=a%20b#",
        ] {
            let template = LandingTemplate::new(target, "CODE", "aff_1").unwrap();
            assert_eq!(
                template.with_click("click_9"),
                landing_url(target, "CODE", "aff_1", Some("click_9")).unwrap()
            );
            assert_eq!(template.without_click(), landing_url(target, "CODE", "aff_1", None).unwrap());
        }
        assert_eq!(LandingTemplate::new("javascript:alert(1)", "C", "A"), None);
        let template = LandingTemplate::new("https://shop.example/p#top", "C", "A").unwrap();
        assert_eq!(
            template.with_click_and("click_1", "&utm_source=x"),
            "https://shop.example/p?tc=C&aff=A&cid=click_1&utm_source=x#top"
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
