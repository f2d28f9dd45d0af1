//! The processors this crate understands and their stable names.

/// A payment processor whose webhooks this crate verifies and parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Stripe,
    /// Paddle Billing (the current Paddle API).
    Paddle,
    /// Paddle Classic (legacy form-encoded alerts).
    PaddleClassic,
    LemonSqueezy,
    Gumroad,
    GoPay,
    Creem,
    Polar,
}

impl Provider {
    /// Every provider, in a fixed order (for tests and listings).
    pub const ALL: [Provider; 8] = [
        Provider::Stripe,
        Provider::Paddle,
        Provider::PaddleClassic,
        Provider::LemonSqueezy,
        Provider::Gumroad,
        Provider::GoPay,
        Provider::Creem,
        Provider::Polar,
    ];

    /// The provider a stable name denotes (as used in URLs and stored rows); `None` if unknown.
    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The stable lower-case name, e.g. `"paddle_classic"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Paddle => "paddle",
            Provider::PaddleClassic => "paddle_classic",
            Provider::LemonSqueezy => "lemonsqueezy",
            Provider::Gumroad => "gumroad",
            Provider::GoPay => "gopay",
            Provider::Creem => "creem",
            Provider::Polar => "polar",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
        assert_eq!(Provider::parse("Stripe"), None);
        assert_eq!(Provider::parse("chargebee"), None);
    }
}
