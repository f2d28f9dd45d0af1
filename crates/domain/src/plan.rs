//! Subscription plans of a Refline merchant account and the limits they imply.

/// A merchant's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    /// Entry plan, no API access.
    Starter,
    /// Read-only API access.
    Pro,
    /// Full API access.
    Ultimate,
    /// Full API access, no monthly cap.
    Scale,
}

/// What the merchant API lets a plan do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiAccess {
    /// No API keys work.
    None,
    /// Only reads are allowed.
    ReadOnly,
    /// Reads and writes are allowed.
    ReadWrite,
}

impl Plan {
    /// Every plan, cheapest first.
    pub const ALL: [Plan; 4] = [Plan::Starter, Plan::Pro, Plan::Ultimate, Plan::Scale];

    /// Stable lower-case text form, e.g. `"pro"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Starter => "starter",
            Plan::Pro => "pro",
            Plan::Ultimate => "ultimate",
            Plan::Scale => "scale",
        }
    }

    /// Inverse of [`Plan::as_str`], ignoring ASCII case; `"professional"` is
    /// accepted as [`Plan::Pro`] because older configurations used that name.
    pub fn parse(text: &str) -> Option<Plan> {
        if text.eq_ignore_ascii_case("professional") {
            return Some(Plan::Pro);
        }
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(text))
    }

    /// API access granted by the plan.
    pub fn api_access(self) -> ApiAccess {
        match self {
            Plan::Starter => ApiAccess::None,
            Plan::Pro => ApiAccess::ReadOnly,
            Plan::Ultimate | Plan::Scale => ApiAccess::ReadWrite,
        }
    }

    /// API requests per minute unless overridden per account.
    pub fn default_rate_limit_per_minute(self) -> u32 {
        match self {
            Plan::Starter | Plan::Pro => 60,
            Plan::Ultimate => 300,
            Plan::Scale => 600,
        }
    }

    /// Monthly tracked-revenue cap in minor units unless overridden; `None` is
    /// uncapped.
    pub fn default_monthly_cap_minor(self) -> Option<i64> {
        // Written as major units × 100 so the amounts read as 5,000.00 etc.
        match self {
            Plan::Starter => Some(5_000 * 100),
            Plan::Pro => Some(25_000 * 100),
            Plan::Ultimate => Some(50_000 * 100),
            Plan::Scale => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_aliases() {
        for plan in Plan::ALL {
            assert_eq!(Plan::parse(plan.as_str()), Some(plan));
        }
        assert_eq!(Plan::parse("professional"), Some(Plan::Pro));
        assert_eq!(Plan::parse("PRO"), Some(Plan::Pro));
        assert_eq!(Plan::parse("enterprise"), None);
        assert_eq!(Plan::parse(""), None);
    }

    #[test]
    fn limits_per_plan() {
        assert_eq!(Plan::Starter.api_access(), ApiAccess::None);
        assert_eq!(Plan::Pro.api_access(), ApiAccess::ReadOnly);
        assert_eq!(Plan::Ultimate.api_access(), ApiAccess::ReadWrite);
        assert_eq!(Plan::Scale.api_access(), ApiAccess::ReadWrite);
        let limits: Vec<_> = Plan::ALL.iter().map(|p| p.default_rate_limit_per_minute()).collect();
        assert_eq!(limits, [60, 60, 300, 600]);
        let caps: Vec<_> = Plan::ALL.iter().map(|p| p.default_monthly_cap_minor()).collect();
        assert_eq!(caps, [Some(500_000), Some(2_500_000), Some(5_000_000), None]);
    }
}
