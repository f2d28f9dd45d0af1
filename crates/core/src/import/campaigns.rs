//! Importing a campaign (Rewardful campaign, Tolt program, FirstPromoter campaign, PartnerStack
//! group) through the ordinary campaign operations, so every rule of their terms applies.

use refline_domain::{CampaignStatus, RecurringMode};

use super::{kind, Change, Earlier, Imported};
use crate::{
    campaigns::{CampaignInput, Change as Field},
    terms::CommissionType,
    Actor, Core, CoreResult,
};

/// A source campaign in Refline's terms.
#[derive(Debug, Clone)]
pub struct ImportedCampaign {
    /// The source's id.
    pub source_id: String,
    /// Name (at least 2 characters).
    pub name: String,
    /// ISO 4217 code; the merchant's currency when the source has none.
    pub currency: Option<String>,
    /// Percentage or fixed.
    pub commission_type: CommissionType,
    /// Decimal text in the type's unit (`20` percent, `15.00` of the currency).
    pub commission_value: String,
    /// The merchant's site, when an absolute http(s) URL.
    pub target_url: Option<String>,
    /// Renewals pay commission.
    pub recurring: bool,
    /// At most this many commissions per customer (payments limit).
    pub recurring_payments: Option<i64>,
    /// For at most this many months (duration limit).
    pub recurring_months: Option<i64>,
    /// Days before a commission is payable.
    pub hold_days: Option<i64>,
    /// Accepting new sales.
    pub active: bool,
}

/// A source campaign the merchant maps onto a campaign that already exists in Refline (sources
/// whose API carries no commission terms, such as a Tolt program): the campaign is used as it
/// is, and the source's affiliates, links and commissions land on it.
#[derive(Debug, Clone)]
pub struct ExistingCampaign {
    /// The source's id.
    pub source_id: String,
    /// The Refline campaign (the merchant's own) it becomes.
    pub campaign_id: String,
}

impl ImportedCampaign {
    fn input(&self, creating: bool) -> CampaignInput {
        let mode =
            if self.recurring_payments.is_some() { RecurringMode::Payments } else { RecurringMode::Duration };
        let set_or_clear = |v: Option<i64>| v.map_or(Field::Clear, Field::Set);
        CampaignInput {
            currency: if creating { self.currency.clone() } else { None },
            name: Field::Set(self.name.clone()),
            status: Some(if self.active { CampaignStatus::Active } else { CampaignStatus::Inactive }),
            commission_type: Field::Set(self.commission_type),
            commission_value: Some(self.commission_value.clone()),
            target_url: match &self.target_url {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Field::Set(url.clone())
                }
                _ if creating => Field::Keep,
                _ => Field::Clear,
            },
            hold_days: match self.hold_days {
                Some(days) => Field::Set(days.clamp(0, 365)),
                None => Field::Keep,
            },
            recurring_enabled: Some(self.recurring),
            recurring_mode: Some(mode),
            recurring_count: set_or_clear(self.recurring_payments.filter(|n| *n > 0)),
            recurring_months: set_or_clear(self.recurring_months.filter(|n| *n > 0)),
            // Changing the type re-sends tiers (none: sources' tiers are not imported).
            tiers: Field::Clear,
            ..CampaignInput::default()
        }
    }
}

impl Core {
    /// Creates the campaign a source campaign becomes, or brings the one imported before up to
    /// date. Audited as the campaign operation it runs.
    pub async fn import_campaign(&self, actor: &Actor, input: ImportedCampaign) -> CoreResult<Imported> {
        let earlier = self.earlier(actor, kind::CAMPAIGN, &input.source_id, &input).await?;
        if let Some(same) = earlier.unchanged() {
            return Ok(same);
        }
        let Earlier { source, print, found: before } = earlier;
        let imported = match &before {
            Some(found) => {
                let view = self.update_campaign(actor, &found.refline_id, input.input(false)).await?;
                let change = if view.changed.is_empty() { Change::Unchanged } else { Change::Updated };
                Imported { id: view.campaign.id, change }
            }
            None => {
                let view = self.create_campaign(actor, input.input(true)).await?;
                Imported { id: view.campaign.id, change: Change::Created }
            }
        };
        self.remember_import(actor, &source, kind::CAMPAIGN, &input.source_id, &imported.id, print).await?;
        Ok(imported)
    }

    /// Remembers that a source campaign is the merchant's existing campaign `campaign_id`
    /// (nothing about the campaign changes). Another campaign named later re-maps it.
    pub async fn import_existing_campaign(
        &self,
        actor: &Actor,
        input: ExistingCampaign,
    ) -> CoreResult<Imported> {
        let earlier = self.earlier(actor, kind::CAMPAIGN, &input.source_id, &input).await?;
        if let Some(same) = earlier.unchanged() {
            return Ok(same);
        }
        let Earlier { source, print, found: before } = earlier;
        // Another merchant's campaign is not found: skipped, like an unknown one.
        let campaign =
            self.store.get_campaign(&actor.merchant_id, &input.campaign_id).await?.ok_or_else(|| {
                super::skip(
                    "campaign_not_found",
                    format!("the brand has no campaign {:?}", input.campaign_id),
                )
            })?;
        let change = if before.is_some() { Change::Updated } else { Change::Created };
        self.remember_import(actor, &source, kind::CAMPAIGN, &input.source_id, &campaign.id, print).await?;
        Ok(Imported { id: campaign.id, change })
    }
}
