//! Short-link codes (`/l/<CODE>`).

/// Whether `code` may name a short link: 3 to 32 letters, digits, `-` or `_`, so it is safe in
/// a URL path without escaping.
pub fn is_valid_short_code(code: &str) -> bool {
    (3..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_url_safe_tokens() {
        assert!(is_valid_short_code("abc"));
        assert!(is_valid_short_code("Summer-Sale_24"));
        assert!(!is_valid_short_code("ab"));
        assert!(!is_valid_short_code(&"a".repeat(33)));
        assert!(!is_valid_short_code("a/b"));
        assert!(!is_valid_short_code("ünï"));
        assert!(!is_valid_short_code("a b c"));
    }
}
