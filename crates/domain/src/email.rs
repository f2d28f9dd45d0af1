//! Pragmatic syntactic validation of email addresses, and the one canonical form in which
//! Refline stores, compares and makes them unique.

use unicode_normalization::UnicodeNormalization;

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
/// Deliberately not RFC 5322: quoted local parts (any `"` or `\\`) and IP-literal
/// domains are legal but only ever show up in abuse, so they are rejected.
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
        && !local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\'));
    local_ok && is_valid_domain(domain)
}

/// The canonical form of an address, used everywhere an email is stored, compared or made
/// unique, so one person is one address however their keyboard encoded it:
///
/// 1. surrounding whitespace is trimmed;
/// 2. the text is put in Unicode NFC, so `é` typed as one code point and as `e` + a combining
///    accent are the same address (NFC is canonical equivalence: it never changes what a
///    reader sees);
/// 3. letters are lower-cased, except that a non-ASCII letter whose lower case would contain
///    ASCII (`İ` → `i̇`) is kept as it is: lower-casing never turns a non-ASCII address into a
///    different-looking ASCII one.
///
/// Validity ([`is_valid_email`]) is checked on the canonical form; quoted local parts are
/// refused there.
pub fn canonical_email(s: &str) -> String {
    let composed: String = s.trim().nfc().collect();
    let mut out = String::with_capacity(composed.len());
    for c in composed.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c.to_lowercase().any(|l| l.is_ascii()) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
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
    fn refuses_quoted_local_parts() {
        for s in ["\"jane\"@example.com", "\"a b\"@example.com", "a\\b@example.com", "\"a@b\"@example.com"] {
            assert!(!is_valid_email(s), "{s}");
        }
    }

    #[test]
    fn canonical_form_is_nfc_and_lower_case() {
        // é as one code point and as e + combining acute accent.
        assert_eq!(canonical_email("Ren\u{e9}@Example.com"), canonical_email(" RENE\u{301}@example.COM "));
        assert_eq!(canonical_email("Ren\u{e9}@Example.com"), "ren\u{e9}@example.com");
        assert_eq!(canonical_email("J\u{d6}RG@x.de"), "j\u{f6}rg@x.de");
        // Never folded to a different ASCII address.
        assert_eq!(canonical_email("\u{130}lker@x.tr"), "\u{130}lker@x.tr");
        assert!(is_valid_email(&canonical_email(" Jane.Doe@Example.COM ")));
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
