//! Making a source by name, for every door that offers a choice of sources (the CLI, the
//! dashboard's Migrate page): a new source module adds its arm to [`api_source`] and its name to
//! [`crate::SOURCES`], and appears everywhere without changes to the doors.

use crate::{
    client::RetryPolicy,
    firstpromoter::FirstPromoter,
    partnerstack::PartnerStack,
    rewardful::Rewardful,
    settings::{CampaignPlan, SourceSettings, MAX_PAGE_SIZE},
    tolt::Tolt,
    ImportError, Source,
};

/// What an API source needs to be read.
#[derive(Debug, Clone, Default)]
pub struct ApiAccess {
    /// The source's API key (kept in memory only, for the run).
    pub api_key: String,
    /// The source's account id (FirstPromoter's `ACCOUNT-ID`).
    pub account_id: Option<String>,
    /// The API's base URL (its public API when `None`).
    pub base_url: Option<String>,
    /// Timeouts and retries.
    pub policy: RetryPolicy,
    /// Tolt's program (Tolt lists one program at a time).
    pub program_id: Option<String>,
    /// Objects per page (0: the most a source allows); Rewardful always asks 100.
    pub page_size: u32,
    /// What the source's campaigns become, for sources whose API has no commission terms
    /// (Tolt, FirstPromoter, PartnerStack): required by them, refused by Rewardful.
    pub campaigns: Option<CampaignPlan>,
    /// ISO 4217 code of commissions the source gives without a currency (the `--campaign`'s,
    /// or else the brand's).
    pub currency: String,
}

/// The API source called `name` (one of [`crate::SOURCES`]).
pub fn api_source(name: &str, access: &ApiAccess) -> Result<Box<dyn Source>, ImportError> {
    if access.api_key.trim().is_empty() {
        return Err(ImportError::Usage(format!("{name} needs its API key")));
    }
    match name {
        "rewardful" => {
            if access.account_id.is_some() {
                return Err(ImportError::Usage(
                    "--account-id is FirstPromoter's ACCOUNT-ID; Rewardful has none".into(),
                ));
            }
            Ok(Box::new(Rewardful::new(&access.api_key, access.base_url.as_deref(), access.policy.clone())?))
        }
        "tolt" | "firstpromoter" | "partnerstack" => {
            let Some(campaigns) = access.campaigns.clone() else {
                return Err(ImportError::Usage(format!(
                    "{name}'s API has no commission terms: name an existing campaign or give the terms"
                )));
            };
            let settings = SourceSettings {
                key: access.api_key.clone(),
                base: access.base_url.clone(),
                policy: access.policy.clone(),
                page_size: if access.page_size == 0 { MAX_PAGE_SIZE } else { access.page_size },
                campaigns,
                currency: if access.currency.is_empty() { "USD".into() } else { access.currency.clone() },
            };
            Ok(match name {
                "tolt" => Box::new(Tolt::new(settings, access.program_id.as_deref().unwrap_or_default())?),
                "firstpromoter" => {
                    Box::new(FirstPromoter::new(settings, access.account_id.as_deref().unwrap_or_default())?)
                }
                _ => Box::new(PartnerStack::new(settings)?),
            })
        }
        other => Err(ImportError::Usage(format!("unknown source {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_source_is_made_and_others_are_refused() {
        let access = ApiAccess {
            api_key: "k".into(),
            account_id: None,
            program_id: None,
            campaigns: Some(CampaignPlan::Existing("camp_1".into())),
            ..ApiAccess::default()
        };
        for name in crate::SOURCES {
            let access = match *name {
                "tolt" => ApiAccess { program_id: Some("prg_1".into()), ..access.clone() },
                "firstpromoter" => ApiAccess { account_id: Some("acc_1".into()), ..access.clone() },
                "rewardful" => ApiAccess { campaigns: None, ..access.clone() },
                _ => access.clone(),
            };
            assert!(api_source(name, &access).is_ok(), "{name}");
        }
        assert!(matches!(api_source("nope", &access), Err(ImportError::Usage(_))));
        let keyless = ApiAccess::default();
        assert!(matches!(api_source("rewardful", &keyless), Err(ImportError::Usage(_))));
    }
}
