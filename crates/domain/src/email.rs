//! Pragmatic syntactic validation of email addresses.

/// Longest accepted address (the SMTP path limit).
const MAX_LEN: usize = 254;
/// Longest accepted local part.
const MAX_LOCAL_LEN: usize = 64;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;

/// Whether `s` looks like a deliverable address: 3–254 characters, exactly one
/// `@`, a non-empty local part of at most 64 characters without whitespace, and
/// a domain of dot-separated `[A-Za-z0-9-]` labels (none empty, none starting or
/// ending with `-`) whose last label is at least two letters.
///
/// Deliberately not RFC 5322: quoted local parts and IP-literal domains are
/// legal but only ever show up in abuse, so they are rejected.
pub fn is_valid_email(s: &str) -> bool {
    if !(3..=MAX_LEN).contains(&s.chars().count()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if domain.contains('@') {
        return false;
    }
    let local_ok = !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_LEN
        && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    local_ok && is_valid_domain(domain)
}

fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let tld_ok =
        labels.last().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    labels_ok && tld_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for s in [
            "a@b.co",
            "jane.doe+promo@example.com",
            "x@sub.domain-name.example.org",
            "UPPER@EXAMPLE.COM",
            "o'brien@example.ie",
        ] {
            assert!(is_valid_email(s), "{s}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(250));
        for s in [
            "",
            "a@",
            "@b.co",
            "ab",
            "no-at.example.com",
            "a@@b.co",
            "a@b@c.co",
            "a b@example.com",
            "a@example",
            "a@example.c",
            "a@example.c0m",
            "a@-example.com",
            "a@example-.com",
            "a@example..com",
            "a@.example.com",
            "a@example.com.",
            "a@exa_mple.com",
            "a@exämple.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert!(!is_valid_email(s), "{s}");
        }
    }

    #[test]
    fn boundary_lengths() {
        assert!(is_valid_email(&format!("{}@example.com", "a".repeat(64))));
        let domain = format!("{}.{}.{}.com", "b".repeat(63), "c".repeat(63), "d".repeat(63));
        let local = "a".repeat(MAX_LEN - 1 - domain.len());
        assert!(is_valid_email(&format!("{local}@{domain}")));
        assert!(!is_valid_email(&format!("a{local}@{domain}")));
    }
}
