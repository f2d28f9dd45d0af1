//! Importing commissions with their status: pending, approved (due), paid (settled by a
//! completed `imported` payout, so balances start right and no run pays it again), rejected
//! (voided, denied, declined) or refunded. A commission imported before follows the source's
//! status forward (a pending one approved, paid or voided); a paid one never changes.

use std::collections::HashMap;

use refline_domain::{check_sale_minor, max_sale_minor, ConversionStatus, ConversionType, Currency, Mode};
use refline_store::{
    Campaign, Conversion, ImportedConversionWrite, ImportedObject, ImportedPayout, ProcessorSubscription,
};

use super::{fingerprint, kind, skip, Change, Imported};
use crate::{ids::new_id, inbound::attribution::memory_keys, Actor, Core, CoreError, CoreResult};

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

/// What the commissions of one page need to be decided, read once for the page (a few queries
/// with IN lists, not a few per commission): what each commission, affiliate and campaign
/// became, each affiliate's first campaign, and the campaigns themselves.
#[derive(Default)]
struct Lookups {
    /// Commission source id → what an earlier import made of it.
    commissions: HashMap<String, ImportedObject>,
    /// Affiliate source id → Refline id (`None`: not imported).
    affiliates: HashMap<String, Option<String>>,
    /// Campaign source id → Refline id (`None`: not imported).
    campaigns: HashMap<String, Option<String>>,
    /// Affiliate id → its first campaign (for sources that name none).
    firsts: HashMap<String, Option<String>>,
    /// Loaded campaigns.
    loaded: HashMap<String, Campaign>,
}

/// What one commission of a page needs.
enum Planned {
    /// Decided without a new row (unchanged, or an earlier one moved forward).
    Done(Imported),
    /// A new commission to write with the page.
    Write(Box<ImportedConversionWrite>),
}

impl Core {
    /// Writes the commission as the source has it, or moves the one imported before forward.
    /// Announces nothing.
    pub async fn import_commission(&self, actor: &Actor, input: ImportedCommission) -> CoreResult<Imported> {
        let mut answers = self.import_commissions(actor, vec![input]).await?;
        answers.pop().unwrap_or_else(|| Err(skip("commission_not_moved", "nothing was imported")))
    }

    /// Imports a page of commissions: each decided as [`Core::import_commission`] decides it
    /// (the same checks, refusals and idempotency), the new ones written together in one
    /// transaction in which each still fails alone. Answers each one's outcome, in order;
    /// `Err` only for a refusal of the whole page (the actor is no importer, the database
    /// failed). Every commission is one audit entry, kept together at the end.
    pub async fn import_commissions(
        &self,
        actor: &Actor,
        inputs: Vec<ImportedCommission>,
    ) -> CoreResult<Vec<CoreResult<Imported>>> {
        let answers = self.import_commissions_work(actor, inputs).await;
        match &answers {
            Ok(each) => {
                let records = each.iter().map(|r| self.audit_record(actor, "commission.import", r)).collect();
                self.effects.audited_many(records).await;
            }
            Err(err) => {
                let refused: CoreResult<Imported> = Err(err.clone());
                self.effects.audited(self.audit_record(actor, "commission.import", &refused)).await;
            }
        }
        answers
    }

    async fn import_commissions_work(
        &self,
        actor: &Actor,
        inputs: Vec<ImportedCommission>,
    ) -> CoreResult<Vec<CoreResult<Imported>>> {
        let source = super::source_of(actor)?.to_string();
        let mut answers: Vec<Option<CoreResult<Imported>>> = Vec::with_capacity(inputs.len());
        let (mut writes, mut places) = (Vec::new(), Vec::new());
        let mut lookups = Lookups::read(self, actor, &source, &inputs).await?;
        for input in inputs {
            match self.plan_commission(actor, &source, input, &mut lookups).await {
                Ok(Planned::Done(imported)) => answers.push(Some(Ok(imported))),
                Ok(Planned::Write(write)) => {
                    places.push(answers.len());
                    answers.push(None);
                    writes.push(*write);
                }
                Err(err) => answers.push(Some(Err(err))),
            }
        }
        if !writes.is_empty() {
            let written = self.store.import_conversions(&writes).await?;
            for (place, result) in places.into_iter().zip(written) {
                answers[place] =
                    Some(result.map(|id| Imported { id, change: Change::Created }).map_err(CoreError::from));
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(skip("commission_not_moved", "the store answered nothing"))))
            .collect())
    }

    /// Decides one commission: unchanged, moved forward (written at once), refused, or a new
    /// row for the page's write.
    async fn plan_commission(
        &self,
        actor: &Actor,
        source: &str,
        input: ImportedCommission,
        lookups: &mut Lookups,
    ) -> CoreResult<Planned> {
        let print = fingerprint(&input);
        if let Some(found) = lookups.commissions.get(&input.source_id) {
            if found.fingerprint == print {
                return Ok(Planned::Done(Imported {
                    id: found.refline_id.clone(),
                    change: Change::Unchanged,
                }));
            }
            let found = found.clone();
            let imported = self.move_imported(actor, source, &found.refline_id, &input).await?;
            self.remember_import(
                actor,
                source,
                kind::COMMISSION,
                &input.source_id,
                &imported.id,
                print.clone(),
            )
            .await?;
            // The same commission later in the page sees what was just remembered.
            let remembered = ImportedObject { refline_id: imported.id.clone(), fingerprint: print, ..found };
            lookups.commissions.insert(input.source_id.clone(), remembered);
            return Ok(Planned::Done(imported));
        }
        let affiliate = lookups.affiliate(self, actor, source, &input.affiliate_source_id).await?;
        let campaign_id =
            lookups.campaign(self, actor, source, input.campaign_source_id.as_deref(), &affiliate).await?;
        let campaign = lookups.load(self, actor, &campaign_id).await?;
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
            source: source.to_string(),
            mode: Mode::Live,
            fraud_score: None,
            fraud_signals: None,
            created_at: input.created_at,
            updated_at: now,
            approved_at: approved.then_some(input.created_at),
            earned_minor: 0,
            paid_minor: 0,
        };
        // The customer's renewals continue the first imported sale (a memory already holding
        // one is kept).
        let memory = input.customer.as_ref().map(|(provider, customer)| ProcessorSubscription {
            merchant_id: actor.merchant_id.clone(),
            provider: provider.clone(),
            subscription_key: memory_keys(None, Some(customer)).concat(),
            campaign_id: campaign.id.clone(),
            affiliate_id: conversion.affiliate_id.clone(),
            click_id: None,
            first_conversion_id: None,
            trial_conversion_id: None,
            created_at: now,
        });
        let object = ImportedObject {
            merchant_id: actor.merchant_id.clone(),
            source: source.to_string(),
            kind: kind::COMMISSION.to_string(),
            source_id: input.source_id.clone(),
            refline_id: String::new(),
            fingerprint: print,
            created_at: now,
            updated_at: now,
        };
        let paid = self.imported_payout(source, &input);
        Ok(Planned::Write(Box::new(ImportedConversionWrite { conversion, paid, memory, object })))
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

impl Lookups {
    /// Reads what the page's `inputs` need: what each commission became before, and for the
    /// new ones their affiliates, their campaigns (or the affiliates' first ones).
    async fn read(
        core: &Core,
        actor: &Actor,
        source: &str,
        inputs: &[ImportedCommission],
    ) -> CoreResult<Lookups> {
        let store = &core.store;
        let merchant = actor.merchant_id.as_str();
        let mut lookups = Lookups::default();
        let ids = distinct(inputs.iter().map(|i| i.source_id.as_str()));
        for found in store.find_imported_many(merchant, source, kind::COMMISSION, &ids).await? {
            lookups.commissions.insert(found.source_id.clone(), found);
        }
        let new: Vec<&ImportedCommission> =
            inputs.iter().filter(|i| !lookups.commissions.contains_key(&i.source_id)).collect();
        let affiliates = distinct(new.iter().map(|i| i.affiliate_source_id.as_str()));
        let found = store.find_imported_many(merchant, source, kind::AFFILIATE, &affiliates).await?;
        lookups.affiliates = affiliates.into_iter().map(|a| (a, None)).collect();
        for f in found {
            lookups.affiliates.insert(f.source_id, Some(f.refline_id));
        }
        let campaigns = distinct(new.iter().filter_map(|i| i.campaign_source_id.as_deref()));
        let found = store.find_imported_many(merchant, source, kind::CAMPAIGN, &campaigns).await?;
        lookups.campaigns = campaigns.into_iter().map(|c| (c, None)).collect();
        for f in found {
            lookups.campaigns.insert(f.source_id, Some(f.refline_id));
        }
        let unnamed = distinct(
            new.iter()
                .filter(|i| i.campaign_source_id.is_none())
                .filter_map(|i| lookups.affiliates.get(&i.affiliate_source_id).cloned().flatten())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        let firsts = store.first_campaigns_of(merchant, &unnamed).await?;
        lookups.firsts = unnamed.into_iter().map(|a| (a, None)).collect();
        for (affiliate, campaign) in firsts {
            lookups.firsts.insert(affiliate, Some(campaign));
        }
        Ok(lookups)
    }

    /// What the affiliate's source id became (read once per page).
    async fn affiliate(&mut self, core: &Core, actor: &Actor, source: &str, id: &str) -> CoreResult<String> {
        if !self.affiliates.contains_key(id) {
            let found = core.imported(actor, source, kind::AFFILIATE, id).await?.map(|f| f.refline_id);
            self.affiliates.insert(id.to_string(), found);
        }
        self.affiliates.get(id).cloned().flatten().ok_or_else(|| {
            skip("affiliate_not_imported", format!("{} {id} was not imported", kind::AFFILIATE))
        })
    }

    /// The campaign a commission lands on, as [`Core::campaign_for`] decides it.
    async fn campaign(
        &mut self,
        core: &Core,
        actor: &Actor,
        source: &str,
        campaign: Option<&str>,
        affiliate: &str,
    ) -> CoreResult<String> {
        let (cache, key) = match campaign {
            Some(c) => (&mut self.campaigns, c),
            None => (&mut self.firsts, affiliate),
        };
        if let Some(known) = cache.get(key) {
            return known
                .clone()
                .ok_or_else(|| skip("campaign_not_imported", "the campaign was not imported"));
        }
        let found = match core.campaign_for(actor, source, campaign, affiliate).await {
            Ok(id) => Some(id),
            Err(err) if err.code == "campaign_not_imported" => None,
            Err(err) => return Err(err),
        };
        cache.insert(key.to_string(), found.clone());
        found.ok_or_else(|| skip("campaign_not_imported", "the campaign was not imported"))
    }

    /// The campaign itself (read once per page).
    async fn load(&mut self, core: &Core, actor: &Actor, id: &str) -> CoreResult<Campaign> {
        if let Some(campaign) = self.loaded.get(id) {
            return Ok(campaign.clone());
        }
        let campaign = core.load_campaign(actor, id).await?;
        self.loaded.insert(id.to_string(), campaign.clone());
        Ok(campaign)
    }
}

/// The distinct values, in first-seen order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values.filter(|v| seen.insert(*v)).map(str::to_string).collect()
}
