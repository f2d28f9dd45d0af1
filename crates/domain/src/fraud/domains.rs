//! The list of free / consumer email providers, whose shared domains say
//! nothing about two people being the same.

/// Consumer mail domains matched exactly.
const FREE_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "web.de",
    "mail.com",
    "email.com",
    "zoho.com",
    "fastmail.com",
    "fastmail.fm",
    "hey.com",
    "tutanota.com",
    "tutanota.de",
    "tuta.io",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "ymail.com",
    "rocketmail.com",
    "mail.ru",
    "inbox.ru",
    "bk.ru",
    "list.ru",
    "rambler.ru",
    "ya.ru",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "libero.it",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "t-online.de",
    "freenet.de",
    "btinternet.com",
    "comcast.net",
    "att.net",
    "verizon.net",
    "rediffmail.com",
    "duck.com",
];

/// Providers that run the same consumer service under many country domains
/// (`yahoo.co.uk`, `hotmail.fr`, `gmx.net`…), matched by their first label.
const FREE_FAMILIES: &[&str] = &["yahoo", "hotmail", "outlook", "live", "gmx", "yandex", "aim"];

/// Whether `domain` belongs to a free / consumer email provider (ASCII case and a
/// trailing dot are ignored).
pub fn is_free_email_domain(domain: &str) -> bool {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if FREE_DOMAINS.contains(&domain.as_str()) {
        return true;
    }
    domain.split_once('.').is_some_and(|(first, rest)| FREE_FAMILIES.contains(&first) && !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_free_providers() {
        for d in [
            "gmail.com",
            "GoogleMail.com",
            "yahoo.com",
            "yahoo.co.uk",
            "outlook.com",
            "hotmail.com",
            "hotmail.fr",
            "live.com",
            "msn.com",
            "icloud.com",
            "me.com",
            "mac.com",
            "aol.com",
            "proton.me",
            "protonmail.com",
            "gmx.de",
            "gmx.net",
            "web.de",
            "mail.com",
            "yandex.ru",
            "zoho.com",
            "fastmail.com",
            "hey.com",
            "tutanota.com",
            "qq.com",
            "163.com",
            "gmail.com.",
        ] {
            assert!(is_free_email_domain(d), "{d}");
        }
    }

    #[test]
    fn company_domains_are_not_free() {
        for d in [
            "example.com",
            "acme.io",
            "yahoo",
            "mygmail.com",
            "gmail.co",
            "notyahoo.com",
            "mail.example.com",
            "",
        ] {
            assert!(!is_free_email_domain(d), "{d}");
        }
    }
}
