//! What text Refline accepts from the outside world.
//!
//! PostgreSQL cannot store U+0000 in `TEXT` at all, and the other C0 control characters (and
//! DEL) are never meant in a name, id, email, URL or description: they only ever arrive by
//! mistake or as an attack. One rule for both engines: such characters are refused in
//! anything a client asks Refline to keep (400 `validation_error` naming the field), and
//! stripped from what Refline merely records about a visitor (a page URL, a referrer, a user
//! agent) because a visitor cannot be asked to fix it. Tab, line feed and carriage return stay
//! allowed: they are ordinary in free text such as a description.

use std::borrow::Cow;

/// True for a character no stored text may contain: C0 controls other than tab, LF and CR,
/// and DEL.
pub fn is_forbidden_char(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// The first forbidden character of `s`, if any.
pub fn first_forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|&c| is_forbidden_char(c))
}

/// How a forbidden character is named in an error message: `U+0000`.
pub fn describe_char(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// `s` without forbidden characters (borrowed when there are none, the common case).
pub fn strip_forbidden(s: &str) -> Cow<'_, str> {
    if first_forbidden_char(s).is_none() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| !is_forbidden_char(c)).collect())
    }
}

/// `s` without any control character at all (tab, CR and LF too): for values that are one
/// line by nature, such as a URL or a user agent recorded from a visitor.
pub fn strip_all_controls(s: &str) -> Cow<'_, str> {
    if s.chars().any(|c| c.is_control()) {
        Cow::Owned(s.chars().filter(|c| !c.is_control()).collect())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbids_nul_and_controls_but_not_whitespace() {
        for c in ['\0', '\u{1}', '\u{8}', '\u{b}', '\u{c}', '\u{1b}', '\u{1f}', '\u{7f}'] {
            assert!(is_forbidden_char(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', ' ', 'a', 'é', '\u{80}', '\u{2028}', '😀'] {
            assert!(!is_forbidden_char(c), "{c:?}");
        }
    }

    #[test]
    fn strips_and_describes() {
        assert_eq!(strip_forbidden("a\0b\u{7f}c\n"), "abc\n");
        assert!(matches!(strip_forbidden("plain"), Cow::Borrowed(_)));
        assert_eq!(strip_all_controls("a\tb\r\nc\0"), "abc");
        assert_eq!(first_forbidden_char("ok\u{1}x"), Some('\u{1}'));
        assert_eq!(describe_char('\0'), "U+0000");
    }
}
