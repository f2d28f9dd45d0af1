//! Telling people from crawlers, link-preview fetchers and headless clients by user agent.

/// How a click is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickKind {
    /// A person's browser (as far as the user agent tells).
    Human,
    /// A crawler, link-preview fetcher, script or headless browser.
    Bot,
}

impl ClickKind {
    /// Stored and API form.
    pub fn as_str(self) -> &'static str {
        match self {
            ClickKind::Human => "human",
            ClickKind::Bot => "bot",
        }
    }

    /// Reads the stored form.
    pub fn parse(value: &str) -> Option<ClickKind> {
        match value {
            "human" => Some(ClickKind::Human),
            "bot" => Some(ClickKind::Bot),
            _ => None,
        }
    }
}

/// Lower-case fragments of user agents that are not a person clicking. Link previews matter
/// most: pasting an affiliate link into Slack or WhatsApp fetches it before anyone clicks.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "embedly",
    "quora link preview",
    "skypeuripreview",
    "vkshare",
    "pinterest",
    "bitlypreview",
    "outbrain",
    "nuzzel",
    "headlesschrome",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "lighthouse",
    "pagespeed",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "okhttp",
    "java/",
    "apache-httpclient",
    "libwww-perl",
    "node-fetch",
    "axios/",
    "undici",
    "reqwest",
    "postmanruntime",
    "insomnia",
    "preview",
    "monitor",
    "scanner",
];

/// Classifies a request by its `User-Agent`. A missing or empty user agent is a script: every
/// browser sends one.
pub fn classify_user_agent(user_agent: Option<&str>) -> ClickKind {
    let Some(agent) = user_agent.map(str::trim).filter(|a| !a.is_empty()) else {
        return ClickKind::Bot;
    };
    let lower = agent.to_ascii_lowercase();
    if BOT_MARKERS.iter().any(|marker| lower.contains(marker)) {
        ClickKind::Bot
    } else {
        ClickKind::Human
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

    #[test]
    fn browsers_are_people() {
        assert_eq!(classify_user_agent(Some(CHROME)), ClickKind::Human);
        assert_eq!(classify_user_agent(Some(IPHONE)), ClickKind::Human);
        assert_eq!(
            classify_user_agent(Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            )),
            ClickKind::Human
        );
    }

    #[test]
    fn crawlers_and_link_previews_are_bots() {
        for agent in [
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Twitterbot/1.0",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "TelegramBot (like TwitterBot)",
            "WhatsApp/2.23.20.0",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36",
            "curl/8.5.0",
            "python-requests/2.32.3",
            "Go-http-client/1.1",
        ] {
            assert_eq!(classify_user_agent(Some(agent)), ClickKind::Bot, "{agent}");
        }
    }

    #[test]
    fn no_user_agent_is_a_bot() {
        assert_eq!(classify_user_agent(None), ClickKind::Bot);
        assert_eq!(classify_user_agent(Some("  ")), ClickKind::Bot);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [ClickKind::Human, ClickKind::Bot] {
            assert_eq!(ClickKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ClickKind::parse("robot"), None);
    }
}
