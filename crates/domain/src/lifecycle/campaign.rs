//! Campaign statuses: whether a campaign takes traffic and sales.

use std::fmt;

/// Whether a campaign is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignStatus {
    /// Links work and sales are credited.
    Active,
    /// Paused by the merchant: links and sales are refused.
    Inactive,
}

impl CampaignStatus {
    /// Every status.
    pub const ALL: [CampaignStatus; 2] = [CampaignStatus::Active, CampaignStatus::Inactive];

    /// Stable lower-case text form: `"active"` or `"inactive"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Active => "active",
            CampaignStatus::Inactive => "inactive",
        }
    }

    /// Inverse of [`CampaignStatus::as_str`] (exact, lower-case).
    pub fn parse(text: &str) -> Option<CampaignStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for status in CampaignStatus::ALL {
            assert_eq!(CampaignStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(CampaignStatus::parse("Active"), None);
        assert_eq!(CampaignStatus::parse("paused"), None);
    }
}
