//! Email canonicalization so trivially disguised copies of an address compare equal.

/// Canonical form of an address for identity comparison (not for sending):
/// [`crate::canonical_email`] (trimmed, NFC, lower-cased), with any `+tag` dropped from the local part; for
/// Gmail, dots in the local part are dropped and `googlemail.com` becomes
/// `gmail.com`, because Gmail delivers all of those variants to one inbox.
///
/// Text without an `@` is only trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    let lowered = crate::email::canonical_email(email);
    let Some((local, domain)) = lowered.rsplit_once('@') else {
        return lowered;
    };
    let local = local.split_once('+').map_or(local, |(base, _tag)| base);
    let domain = if domain == "googlemail.com" { "gmail.com" } else { domain };
    if domain == "gmail.com" {
        format!("{}@{domain}", local.replace('.', ""))
    } else {
        format!("{local}@{domain}")
    }
}

/// The part after the last `@` of a (trimmed) address, or `None` when there is
/// no `@` or nothing follows it. Case is preserved.
pub fn email_domain(email: &str) -> Option<&str> {
    email.trim().rsplit_once('@').map(|(_, domain)| domain).filter(|domain| !domain.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_lowercases_and_drops_tags() {
        assert_eq!(normalize_email("  Jane.Doe+Promo@Example.COM "), "jane.doe@example.com");
        assert_eq!(normalize_email("a+b+c@x.io"), "a@x.io");
        assert_eq!(normalize_email("+only@x.io"), "@x.io");
    }

    #[test]
    fn gmail_dots_and_googlemail() {
        assert_eq!(normalize_email("J.a.n.e+x@GoogleMail.com"), "jane@gmail.com");
        assert_eq!(normalize_email("jane.doe@gmail.com"), "janedoe@gmail.com");
        assert_eq!(normalize_email("jane.doe@notgmail.com"), "jane.doe@notgmail.com");
    }

    #[test]
    fn without_at_sign() {
        assert_eq!(normalize_email(" Foo+Bar "), "foo+bar");
        assert_eq!(normalize_email(""), "");
    }

    #[test]
    fn domain_after_last_at() {
        assert_eq!(email_domain("a@Example.com"), Some("Example.com"));
        assert_eq!(email_domain("\"a@b\"@c.org"), Some("c.org"));
        assert_eq!(email_domain("no-at"), None);
        assert_eq!(email_domain("a@"), None);
    }
}
