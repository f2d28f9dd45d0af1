//! Importing commissions with their status: pending, approved (due), paid (settled by a
//! completed `imported` payout, so balances start right and no run pays it again), rejected
//! (voided, denied, declined) or refunded. A commission imported before follows the source's
//! status forward (a pending one approved, paid or voided); a paid one never changes.

use refline_domain::{check_sale_minor, max_sale_minor, ConversionStatus, ConversionType, Currency, Mode};
use refline_store::{Conversion, ImportedConversion, ImportedPayout, ProcessorSubscription};

use super::{kind, skip, Change, Earlier, Imported};
use crate::{ids::new_id, inbound::attribution::memory_keys, Actor, Core, CoreResult};

/// A source commission in Refline's terms.
#[derive(Debug, Clone)]
pub struct ImportedCommission {
    /// The source's id.
    pub source_id: String,
    /// The affiliate's source id.
    pub affiliate_source_id: String,
    /// The campaign's source id; the affiliate's first campaign when `None`.
    pub campaign_source_id: Option<String>,
    /// The sale's amount, minor units of `currency`.
    pub sale_amount_minor: i64,
    /// The commission, minor units of `currency`.
    pub commission_minor: i64,
    /// ISO 4217 code (the campaign's: currencies are never mixed).
    pub currency: String,
    /// Mapped status.
    pub status: ConversionStatus,
    /// When the sale happened (unix ms).
    pub created_at: i64,
    /// When the source paid it (unix ms), for paid commissions.
    pub paid_at: Option<i64>,
    /// The customer's email.
    pub customer_email: Option<String>,
    /// The processor and customer id, when known: the customer's memory gets this commission as
    /// the first sale renewals continue.
    pub customer: Option<(String, String)>,
}

impl Core {
    /// Writes the commission as the source has it, or moves the one imported before forward.
    /// Announces nothing.
    pub async fn import_commission(&self, actor: &Actor, input: ImportedCommission) -> CoreResult<Imported> {
        self.audited(actor, "commission.import", None, self.import_commission_work(actor, input)).await
    }

    async fn import_commission_work(&self, actor: &Actor, input: ImportedCommission) -> CoreResult<Imported> {
        let earlier = self.earlier(actor, kind::COMMISSION, &input.source_id, &input).await?;
        if let Some(same) = earlier.unchanged() {
            return Ok(same);
        }
        let Earlier { source, print, found: before } = earlier;
        if let Some(found) = &before {
            let imported = self.move_imported(actor, &source, &found.refline_id, &input).await?;
            self.remember_import(actor, &source, kind::COMMISSION, &input.source_id, &imported.id, print)
                .await?;
            return Ok(imported);
        }
        let affiliate = self
            .imported_id(
                actor,
                &source,
                kind::AFFILIATE,
                &input.affiliate_source_id,
                "affiliate_not_imported",
            )
            .await?;
        let campaign_id =
            self.campaign_for(actor, &source, input.campaign_source_id.as_deref(), &affiliate).await?;
        let campaign = self.load_campaign(actor, &campaign_id).await?;
        let currency = Currency::parse(&input.currency).map_err(|_| {
            skip("invalid_currency", format!("currency {:?} is not supported", input.currency))
        })?;
        if currency.code() != campaign.currency {
            return Err(skip(
                "currency_mismatch",
                format!(
                    "the commission is in {}, its campaign in {}: currencies are never mixed",
                    currency.code(),
                    campaign.currency
                ),
            ));
        }
        if check_sale_minor(input.sale_amount_minor, currency.exponent()).is_err() {
            return Err(skip(
                "invalid_amount",
                format!("sale amount {} is out of range", input.sale_amount_minor),
            ));
        }
        if !(0..=max_sale_minor(currency.exponent())).contains(&input.commission_minor) {
            return Err(skip(
                "invalid_amount",
                format!("commission {} is out of range", input.commission_minor),
            ));
        }
        let now = self.now();
        let approved = matches!(input.status, ConversionStatus::Approved | ConversionStatus::Paid);
        let conversion = Conversion {
            id: new_id("conv"),
            merchant_id: actor.merchant_id.clone(),
            campaign_id: campaign.id.clone(),
            affiliate_id: affiliate,
            amount_minor: input.sale_amount_minor,
            commission_minor: input.commission_minor,
            currency: currency.code().to_string(),
            status: input.status,
            // The source's id keeps the commission unique even if this run stops before it is
            // remembered: the next run finds it by its order id.
            order_id: Some(format!("{source}:{}", input.source_id)),
            click_id: None,
            customer_email: input.customer_email.as_deref().map(refline_domain::canonical_email),
            customer_name: None,
            conversion_type: ConversionType::OneTime,
            parent_conversion_id: None,
            payment_number: 1,
            source: source.clone(),
            mode: Mode::Live,
            fraud_score: None,
            fraud_signals: None,
            created_at: input.created_at,
            updated_at: now,
            approved_at: approved.then_some(input.created_at),
            earned_minor: 0,
            paid_minor: 0,
        };
        let payout = self.imported_payout(&source, &input);
        let id = match self.store.import_conversion(&conversion, payout.as_ref()).await? {
            ImportedConversion::Created(row) => row.id,
            ImportedConversion::Existing(id) => id,
        };
        if let Some((provider, customer)) = &input.customer {
            // The customer's renewals continue the first imported sale (a memory already
            // holding one is kept).
            let memory = ProcessorSubscription {
                merchant_id: actor.merchant_id.clone(),
                provider: provider.clone(),
                subscription_key: memory_keys(None, Some(customer)).concat(),
                campaign_id: campaign.id.clone(),
                affiliate_id: conversion.affiliate_id.clone(),
                click_id: None,
                first_conversion_id: Some(id.clone()),
                trial_conversion_id: None,
                created_at: now,
            };
            self.store.remember_subscription(&memory).await?;
        }
        self.remember_import(actor, &source, kind::COMMISSION, &input.source_id, &id, print).await?;
        Ok(Imported { id, change: Change::Created })
    }

    /// The payout that settles a paid commission.
    fn imported_payout(&self, source: &str, input: &ImportedCommission) -> Option<ImportedPayout> {
        (input.status == ConversionStatus::Paid).then(|| ImportedPayout {
            id: new_id("po"),
            paid_at: input.paid_at.unwrap_or(input.created_at),
            reference: format!("imported from {source} (commission {})", input.source_id),
        })
    }

    /// Moves a commission imported before to the source's status now.
    async fn move_imported(
        &self,
        actor: &Actor,
        source: &str,
        id: &str,
        input: &ImportedCommission,
    ) -> CoreResult<Imported> {
        let current = self.load_conversion(actor, id).await?;
        if current.status == input.status {
            return Ok(Imported { id: id.to_string(), change: Change::Unchanged });
        }
        if current.status == ConversionStatus::Paid {
            return Err(skip(
                "paid_commission_changed",
                format!("commission {id} is paid in Refline; the source now says {}", input.status),
            ));
        }
        let payout = self.imported_payout(source, input);
        let moved = self
            .store
            .update_imported_conversion(
                &actor.merchant_id,
                id,
                current.status,
                input.status,
                payout.as_ref(),
                self.now(),
            )
            .await?;
        if !moved {
            return Err(skip(
                "commission_not_moved",
                format!(
                    "commission {id} could not become {}: it changed meanwhile, or an open payout holds it \
                     (settle or cancel that payout, then import again)",
                    input.status
                ),
            ));
        }
        Ok(Imported { id: id.to_string(), change: Change::Updated })
    }
}
