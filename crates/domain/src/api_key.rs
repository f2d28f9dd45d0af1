//! Shape of merchant API keys: live vs test prefixes and the random suffix.

/// Prefix of live-mode API keys.
pub const LIVE_PREFIX: &str = "lj_pk_";
/// Prefix of test-mode API keys.
pub const TEST_PREFIX: &str = "lj_pk_test_";

/// Accepted length range of the alphanumeric part after the prefix.
const SUFFIX_LEN: std::ops::RangeInclusive<usize> = 20..=64;

/// Whether a key acts on live or test data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Live mode.
    Live,
    /// Test mode.
    Test,
}

impl KeyKind {
    /// Stable text form: `"live"` or `"test"`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Live => "live",
            KeyKind::Test => "test",
        }
    }

    /// Inverse of [`Self::as_str`].
    pub fn parse(text: &str) -> Option<KeyKind> {
        match text {
            "live" => Some(KeyKind::Live),
            "test" => Some(KeyKind::Test),
            _ => None,
        }
    }

    /// The data a key of this kind acts on.
    pub fn mode(self) -> crate::Mode {
        match self {
            KeyKind::Live => crate::Mode::Live,
            KeyKind::Test => crate::Mode::Test,
        }
    }

    /// The token prefix of keys of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Live => LIVE_PREFIX,
            KeyKind::Test => TEST_PREFIX,
        }
    }
}

/// Classifies a bearer token by its prefix, or `None` if it is not shaped like
/// a Refline key: the prefix must be followed by 20–64 ASCII letters or digits.
///
/// The test prefix is checked first because the live prefix is a prefix of it.
pub fn classify_key(token: &str) -> Option<KeyKind> {
    [KeyKind::Test, KeyKind::Live].into_iter().find(|kind| {
        token.strip_prefix(kind.prefix()).is_some_and(|suffix| {
            SUFFIX_LEN.contains(&suffix.len()) && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_prefix() {
        let suffix = "a".repeat(20);
        assert_eq!(classify_key(&format!("lj_pk_{suffix}")), Some(KeyKind::Live));
        assert_eq!(classify_key(&format!("lj_pk_test_{suffix}")), Some(KeyKind::Test));
        assert_eq!(classify_key(&format!("lj_pk_test{suffix}")), Some(KeyKind::Live));
        assert_eq!(classify_key(&format!("lj_pk_Ab9{}", "x".repeat(61))), Some(KeyKind::Live));
    }

    #[test]
    fn rejects_bad_suffixes_and_prefixes() {
        assert_eq!(classify_key(&format!("lj_pk_{}", "a".repeat(19))), None);
        assert_eq!(classify_key(&format!("lj_pk_{}", "a".repeat(65))), None);
        assert_eq!(classify_key(&format!("lj_pk_test_{}", "a".repeat(19))), None);
        assert_eq!(classify_key(&format!("lj_pk_{}-", "a".repeat(20))), None);
        assert_eq!(classify_key(&format!("lj_pk_{}é", "a".repeat(20))), None);
        assert_eq!(classify_key(&format!("LJ_PK_{}", "a".repeat(20))), None);
        assert_eq!(classify_key(&format!("sk_{}", "a".repeat(20))), None);
        assert_eq!(classify_key(""), None);
    }

    #[test]
    fn kind_text() {
        assert_eq!(KeyKind::Live.as_str(), "live");
        assert_eq!(KeyKind::Test.as_str(), "test");
        assert_eq!(KeyKind::Test.prefix(), TEST_PREFIX);
        assert_eq!(KeyKind::Live.prefix(), LIVE_PREFIX);
    }
}
