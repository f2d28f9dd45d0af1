//! Live or test: every conversion, click and key belongs to one of two separate worlds.

use std::fmt;

/// Live or test data. Stored as the `is_test` BOOLEAN column (`true` is [`Mode::Test`]).
/// The default is live, as the column's is `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Mode {
    /// Real traffic.
    #[default]
    Live,
    /// A test integration (`lj_pk_test_…` keys, a processor's test mode): its own
    /// conversions, no webhooks, no cap.
    Test,
}

impl Mode {
    /// Both modes.
    pub const ALL: [Mode; 2] = [Mode::Live, Mode::Test];

    /// `Test` when `is_test`, else `Live` (the stored column's reading).
    pub fn from_is_test(is_test: bool) -> Mode {
        if is_test {
            Mode::Test
        } else {
            Mode::Live
        }
    }

    /// True in test mode (the stored column's value).
    pub fn is_test(self) -> bool {
        match self {
            Mode::Live => false,
            Mode::Test => true,
        }
    }

    /// True in live mode: what webhooks, caps and fraud checks see.
    pub fn is_live(self) -> bool {
        !self.is_test()
    }

    /// Stable text form: `"live"` or `"test"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_round_trips() {
        for mode in Mode::ALL {
            assert_eq!(Mode::from_is_test(mode.is_test()), mode);
            assert_eq!(mode.is_live(), !mode.is_test());
        }
        assert!(Mode::Test.is_test());
        assert_eq!(Mode::Live.to_string(), "live");
    }
}
