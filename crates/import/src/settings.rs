//! What the door tells a source beyond its key: where its API is, how hard to try, how many
//! objects a page asks for, what to do with campaigns whose API carries no commission terms
//! (Tolt programs, FirstPromoter campaigns, PartnerStack groups), and the currency of
//! commissions the source gives without one.

use refline_core::{import::ExistingCampaign, import::ImportedCampaign, terms::CommissionType};

use crate::{client::RetryPolicy, ImportError, Record};

/// The most objects a page asks for (every source documents 100 as its maximum).
pub const MAX_PAGE_SIZE: u32 = 100;

/// What a source campaign becomes when the source's API has no commission terms for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignPlan {
    /// Every source campaign maps onto this existing Refline campaign (`--campaign <id>`): its
    /// terms, currency and URL are the merchant's, set up before the import.
    Existing(String),
    /// Every source campaign becomes its own Refline campaign with these terms
    /// (`--commission 20%` or `--commission 15.00`).
    Create {
        /// Percentage or fixed.
        commission_type: CommissionType,
        /// Decimal text in the type's unit.
        value: String,
        /// Renewals pay commission too (no limit); `false` with `--one-time`.
        recurring: bool,
        /// Where links land when the source gives a campaign no URL (`--target-url`).
        target_url: Option<String>,
    },
}

impl CampaignPlan {
    /// Reads `--commission`: `20%` (percentage) or `15.00` (fixed, in the campaign's currency).
    pub fn commission(
        text: &str,
        recurring: bool,
        target_url: Option<String>,
    ) -> Result<CampaignPlan, ImportError> {
        let text = text.trim();
        let (commission_type, value) = match text.strip_suffix('%') {
            Some(percent) => (CommissionType::Percentage, percent.trim()),
            None => (CommissionType::Fixed, text),
        };
        let number = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit() || c == '.');
        if !number {
            return Err(ImportError::Usage(format!(
                "--commission {text:?} must be a percentage such as 20% or an amount such as 15.00"
            )));
        }
        Ok(CampaignPlan::Create { commission_type, value: value.to_string(), recurring, target_url })
    }

    /// The record of source campaign `source_id` (named `name`, landing on `url`).
    pub fn record(&self, source_id: String, name: String, url: Option<String>, currency: &str) -> Record {
        match self {
            CampaignPlan::Existing(id) => {
                Record::ExistingCampaign(ExistingCampaign { source_id, campaign_id: id.clone() })
            }
            CampaignPlan::Create { commission_type, value, recurring, target_url } => {
                Record::Campaign(ImportedCampaign {
                    source_id,
                    name,
                    currency: Some(currency.to_lowercase()),
                    commission_type: *commission_type,
                    commission_value: value.clone(),
                    target_url: url.or_else(|| target_url.clone()),
                    recurring: *recurring,
                    recurring_payments: None,
                    recurring_months: None,
                    hold_days: None,
                    active: true,
                })
            }
        }
    }
}

/// Everything a source (other than Rewardful, which predates it) is built from.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// The API key (PartnerStack: `public:secret` for HTTP Basic, or a bearer token).
    pub key: String,
    /// The API's base URL; the source's public API when `None`.
    pub base: Option<String>,
    /// Retries and timeouts.
    pub policy: RetryPolicy,
    /// Objects per page (1 to [`MAX_PAGE_SIZE`]).
    pub page_size: u32,
    /// What source campaigns become.
    pub campaigns: CampaignPlan,
    /// ISO 4217 code of commissions the source gives without a currency: the `--campaign`'s
    /// currency, or else the brand's.
    pub currency: String,
}

impl SourceSettings {
    /// The page size as the query parameter's text.
    pub fn limit(&self) -> String {
        self.page_size.clamp(1, MAX_PAGE_SIZE).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commission_reads_percent_or_amount() {
        assert_eq!(
            CampaignPlan::commission("20%", true, None).ok(),
            Some(CampaignPlan::Create {
                commission_type: CommissionType::Percentage,
                value: "20".into(),
                recurring: true,
                target_url: None,
            })
        );
        assert_eq!(
            CampaignPlan::commission(" 15.00 ", false, None).ok(),
            Some(CampaignPlan::Create {
                commission_type: CommissionType::Fixed,
                value: "15.00".into(),
                recurring: false,
                target_url: None,
            })
        );
        assert!(CampaignPlan::commission("lots", true, None).is_err());
        assert!(CampaignPlan::commission("%", true, None).is_err());
    }
}
