//! What a stored delivery does: record a sale, renewal or trial, or apply a refund or
//! chargeback. Every path ends in an [`InboxResult`] a merchant can read in the delivery log.

use std::sync::Arc;

use refline_domain::{refund_effect, ConversionStatus, Currency, Plan, RefundEffect};
use refline_processors::{parse, Action, Payment, Provider, Trial};
use refline_store::{
    AttributionQuery, CommissionAdjustment, InboxEntry, InboxResult, ProcessorSubscription,
    RefundApplication, RefundApplied, RefundChange, RefundState, Store, StoreError,
};

use super::{
    amounts,
    attribution::{attribute, memory_keys, Credit, Memory},
    gopay::{self, LookupError},
    links,
};
use crate::{
    clock::Clock,
    config::PlanLimits,
    ids::new_ordered_id,
    secrets::SecretBox,
    service::{
        conversion_writer::ConversionWriter,
        record_conversion::{record_sale, Refusal, SaleInput},
    },
    webhooks::target::TargetPolicy,
};

/// Everything processing needs.
#[derive(Clone)]
pub struct InboxContext {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Group-commit writer of conversions (the same as the API's).
    pub writer: ConversionWriter,
    /// Plan caps.
    pub limits: PlanLimits,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Opens connection secrets.
    pub secrets: Arc<SecretBox>,
    /// What GoPay API URLs may be.
    pub targets: TargetPolicy,
    /// HTTP client for GoPay lookups.
    pub gopay: reqwest::Client,
    /// GoPay access tokens per connection.
    pub gopay_tokens: Arc<gopay::TokenCache>,
}

/// A delivery that cannot be acted on yet is retried this long before it is given up.
const WAIT_LIMIT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Builds the results of one delivery processed at `now`.
pub(super) struct Outcome {
    pub(super) now: i64,
}

impl Outcome {
    pub(super) fn finished(
        &self,
        status: &'static str,
        outcome: String,
        conversion_id: Option<String>,
    ) -> InboxResult {
        InboxResult {
            status,
            outcome,
            conversion_id,
            next_attempt_at: self.now,
            processed_at: Some(self.now),
        }
    }
    pub(super) fn processed(&self, outcome: String, conversion_id: Option<String>) -> InboxResult {
        self.finished("processed", outcome, conversion_id)
    }
    pub(super) fn ignored(&self, outcome: String, conversion_id: Option<String>) -> InboxResult {
        self.finished("ignored", outcome, conversion_id)
    }
    pub(super) fn failed(&self, outcome: String) -> InboxResult {
        self.finished("failed", outcome, None)
    }
    /// Try again later (30 s, doubling to an hour), until the delivery is a week old.
    pub(super) fn wait(&self, entry: &InboxEntry, why: String) -> InboxResult {
        if self.now - entry.received_at > WAIT_LIMIT_MS {
            return self.ignored(format!("gave up after a week: {why}"), None);
        }
        let step = entry.attempts.clamp(1, 8) - 1;
        let delay = (30_000i64 << step).min(60 * 60 * 1000);
        InboxResult {
            status: "waiting",
            outcome: why,
            conversion_id: None,
            next_attempt_at: self.now + delay,
            processed_at: None,
        }
    }
}

/// Processes one delivery.
pub async fn process(ctx: &InboxContext, entry: &InboxEntry) -> InboxResult {
    let out = Outcome { now: ctx.clock.now() };
    match try_process(ctx, entry, &out).await {
        Ok(result) => result,
        // The database refused a value of this delivery: running it again cannot help.
        Err(err @ StoreError::Invalid(_)) => out.failed(format!("refused by the database: {err}")),
        // The database failed: nothing was decided, so the delivery runs again.
        Err(err) => out.wait(entry, format!("temporary failure: {err}")),
    }
}

async fn try_process(
    ctx: &InboxContext,
    entry: &InboxEntry,
    out: &Outcome,
) -> Result<InboxResult, StoreError> {
    let Some(provider) = Provider::parse(&entry.provider) else {
        return Ok(out.failed(format!("unknown provider {}", entry.provider)));
    };
    let headers: Vec<(String, String)> = serde_json::from_str(&entry.headers).unwrap_or_default();
    let mut parsed = match parse(provider, &headers, &entry.query, entry.body.as_bytes()) {
        Ok(parsed) => parsed,
        Err(err) => return Ok(out.failed(format!("could not be read: {err}"))),
    };
    if let Action::NeedsLookup { payment_id } = &parsed.action {
        parsed = match gopay::lookup(ctx, entry, payment_id).await {
            Ok(found) => found,
            Err(LookupError::Transient(why)) => {
                return Ok(out.wait(entry, format!("GoPay lookup failed: {why}")))
            }
            Err(LookupError::Permanent(why)) => return Ok(out.ignored(format!("GoPay lookup: {why}"), None)),
        };
    }
    let is_test = parsed.test_mode;
    // A signed delivery is still refused when its amounts are out of range; for good, since a
    // retry reads the same amounts.
    if let Some(problem) = amounts::problem(&parsed.action) {
        return Ok(out.failed(problem));
    }
    match parsed.action {
        Action::Ignored { reason } => Ok(out.ignored(reason, None)),
        Action::NeedsLookup { .. } => Ok(out.failed("the payment lookup asked for another lookup".into())),
        Action::Payment(payment) => record_payment(ctx, entry, out, provider, is_test, payment).await,
        Action::TrialStarted(trial) => record_trial(ctx, entry, out, provider, is_test, trial).await,
        Action::Link(link) => links::apply(ctx.store.as_ref(), entry, out, provider, link).await,
        Action::Refund(refund) => {
            let keys = keys_of(&refund.object_id, &refund.aliases);
            let amount = match (refund.full, refund.total_refunded_minor, refund.amount_minor) {
                (true, _, _) => RefundAmount::Full,
                (false, Some(total), _) => RefundAmount::Total(total),
                (false, None, Some(step)) => RefundAmount::Step(step),
                (false, None, None) => RefundAmount::Unknown,
            };
            // A refund reported as a step (not a running total) counts once however many
            // events report it.
            let once =
                matches!(amount, RefundAmount::Step(_)).then(|| format!("refund:{}", refund.refund_id));
            apply_refund(
                ctx,
                entry,
                out,
                provider,
                &keys,
                amount,
                once,
                format!("refund {}", refund.refund_id),
            )
            .await
        }
        Action::Chargeback(dispute) => {
            let keys = keys_of(&dispute.object_id, &dispute.aliases);
            apply_refund(
                ctx,
                entry,
                out,
                provider,
                &keys,
                RefundAmount::Full,
                None,
                format!("chargeback {}", dispute.dispute_id),
            )
            .await
        }
    }
}

fn keys_of(object_id: &str, aliases: &[String]) -> Vec<String> {
    std::iter::once(object_id.to_string()).chain(aliases.iter().cloned()).collect()
}

async fn merchant_plan(store: &dyn Store, merchant_id: &str) -> Result<Plan, StoreError> {
    let merchant = store.get_merchant(merchant_id).await?;
    Ok(merchant.and_then(|m| Plan::parse(&m.plan)).unwrap_or(Plan::Starter))
}

/// Words for a refusal in the delivery log.
fn refusal_text(refusal: &Refusal) -> String {
    match refusal {
        Refusal::AffiliateNotApproved(why) => format!("affiliate not credited: {why}"),
        Refusal::CampaignInactive => "campaign is inactive".into(),
        Refusal::RecurringDisabled => "campaign pays no recurring commission".into(),
        Refusal::RecurringLimitReached => "past the campaign's recurring limit".into(),
        Refusal::ParentMismatch(why) => (*why).into(),
        Refusal::CapReached => "plan's monthly earnings cap reached".into(),
        Refusal::Duplicate(id) => format!("already recorded as {id}"),
        Refusal::Store(err) => format!("store error: {err}"),
    }
}

struct Sale<'a> {
    merchant_id: &'a str,
    provider: Provider,
    credit: &'a Credit,
    order_id: String,
    amount_minor: i64,
    /// `None` (trials) takes the campaign's.
    currency: Option<&'a str>,
    customer_email: Option<String>,
    trial: bool,
    /// Part of a subscription (`recurring`) or a one-off sale (`one_time`).
    recurring: bool,
    renewal_parent: Option<String>,
    is_test: bool,
}

/// Checks and records a sale (or trial) for `credit`; `Ok(Err(result))` when it earns nothing.
async fn record(
    ctx: &InboxContext,
    out: &Outcome,
    sale: Sale<'_>,
) -> Result<Result<refline_store::Conversion, InboxResult>, StoreError> {
    let store = ctx.store.as_ref();
    let merchant_id = sale.merchant_id;
    let attribution = store
        .find_attribution(&AttributionQuery {
            merchant_id,
            campaign_id: &sale.credit.campaign_id,
            affiliate_id: &sale.credit.affiliate_id,
            click_id: sale.credit.click_id.as_deref(),
            order_id: Some(&sale.order_id),
            is_test: sale.is_test,
        })
        .await?;
    let Some(attribution) = attribution else {
        return Ok(Err(out.ignored("the credited campaign no longer exists".into(), None)));
    };
    if let Some(existing) = attribution.duplicate_id.clone() {
        return Ok(Err(out.ignored(format!("already recorded as {existing}"), Some(existing))));
    }
    let Some(affiliate) = attribution.affiliate() else {
        return Ok(Err(out.ignored("the credited affiliate no longer exists".into(), None)));
    };
    let campaign_currency = crate::terms::currency_of(&attribution.campaign);
    let currency = match sale.currency.map(|c| Currency::parse(&c.to_ascii_lowercase())) {
        None => campaign_currency,
        Some(Ok(c)) => c,
        Some(Err(_)) => {
            return Ok(Err(out.failed(format!("unsupported currency {}", sale.currency.unwrap_or("")))))
        }
    };
    if currency != campaign_currency {
        return Ok(Err(out.ignored(
            format!(
                "sale in {} but the campaign is in {}; Refline does not convert currencies",
                currency.code(),
                campaign_currency.code()
            ),
            None,
        )));
    }
    let parent = match &sale.renewal_parent {
        Some(id) => store.get_conversion(merchant_id, id).await?,
        None => None,
    };
    let tracking_code = attribution.campaign.tracking_code.clone();
    let input = SaleInput {
        campaign: attribution.campaign.clone(),
        affiliate,
        membership_status: attribution.membership_status.clone(),
        click: attribution.click(),
        amount_minor: sale.amount_minor,
        currency,
        order_id: Some(sale.order_id),
        click_id: sale.credit.click_id.clone(),
        customer_email: sale.customer_email,
        customer_name: None,
        conversion_type: if sale.recurring { "recurring" } else { "one_time" },
        parent,
        source: sale.provider.as_str().to_string(),
        is_test: sale.is_test,
        plan: merchant_plan(store, merchant_id).await?,
        now: out.now,
        allow_pending: true,
        trial: sale.trial,
        id: Some(new_ordered_id(&format!("{}_{tracking_code}", sale.provider.as_str()), out.now)),
    };
    match record_sale(store, &ctx.writer, &ctx.limits, input).await {
        Ok(conversion) => Ok(Ok(conversion)),
        Err(Refusal::Store(err)) => Err(err),
        Err(Refusal::Duplicate(id)) => Ok(Err(out.ignored(format!("already recorded as {id}"), Some(id)))),
        Err(refusal) => Ok(Err(out.ignored(refusal_text(&refusal), None))),
    }
}

async fn record_payment(
    ctx: &InboxContext,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    is_test: bool,
    payment: Payment,
) -> Result<InboxResult, StoreError> {
    let store = ctx.store.as_ref();
    let merchant = &entry.merchant_id;
    let keys = keys_of(&payment.object_id, &payment.aliases);
    if let Some(existing) = store.find_processor_payment(merchant, provider.as_str(), &keys).await? {
        // Another event type may name the same money by more ids (payment intent, charge):
        // keep them, so a later refund or dispute naming those finds the sale.
        store.remember_processor_payment(merchant, provider.as_str(), &keys, &existing).await?;
        return Ok(out.ignored(format!("{} was already credited", payment.object_id), Some(existing)));
    }
    let memory = memory_keys(payment.subscription_id.as_deref(), payment.customer_id.as_deref());
    let renewal = payment.billing_reason.continues_subscription();
    let use_memory = renewal || payment.subscription_id.is_some();
    let credit = attribute(
        store,
        merchant,
        provider.as_str(),
        payment.reference.as_ref(),
        payment.coupon.as_ref(),
        Memory { keys: &memory, credits: use_memory, now: out.now },
    )
    .await?;
    let Some(credit) = credit else {
        return Ok(out.ignored("no tracking reference, registered coupon or known subscription".into(), None));
    };
    let first = credit.subscription.as_ref().and_then(|s| s.first_conversion_id.clone());
    let after_trial = credit.subscription.as_ref().is_some_and(|s| s.trial_conversion_id.is_some());
    // Processors report the first charge after a trial as a cycle/recurring payment; with a
    // trial on record and no paid sale yet, it is the subscription's first payment.
    let renewal = renewal && !(first.is_none() && after_trial);
    if renewal && first.is_none() {
        return Ok(out.wait(entry, "renewal arrived before its subscription's first sale".into()));
    }
    let sale = Sale {
        merchant_id: merchant,
        provider,
        credit: &credit,
        order_id: format!("{}:{}", provider.as_str(), payment.object_id),
        amount_minor: payment.amount_minor,
        currency: Some(&payment.currency),
        customer_email: payment.customer_email.clone(),
        trial: false,
        recurring: renewal || payment.subscription_id.is_some(),
        renewal_parent: if renewal { first.clone() } else { None },
        is_test,
    };
    let conversion = match record(ctx, out, sale).await? {
        Ok(conversion) => conversion,
        Err(result) => {
            if let Some(existing) = &result.conversion_id {
                store.remember_processor_payment(merchant, provider.as_str(), &keys, existing).await?;
            }
            return Ok(result);
        }
    };
    store.remember_processor_payment(merchant, provider.as_str(), &keys, &conversion.id).await?;
    remember(
        store,
        merchant,
        provider,
        &memory,
        &credit,
        // Every key the payment names points at the chain's first sale, including keys the
        // first sale did not name (a Lemon Squeezy order names no subscription): a key
        // remembered without it would stop the next renewal from finding its first sale.
        if renewal { first } else { Some(conversion.id.clone()) },
        None,
        out.now,
    )
    .await?;
    let trial = credit.subscription.as_ref().and_then(|s| s.trial_conversion_id.as_deref());
    let trial_note = match trial {
        Some(trial) if !renewal => format!("; trial {trial} converted"),
        _ => String::new(),
    };
    Ok(out.processed(
        format!(
            "conversion {} recorded: payment #{}, {} {} via {}{trial_note}",
            conversion.id,
            conversion.payment_number,
            refline_domain::format_amount(
                conversion.amount_minor,
                Currency::parse(&conversion.currency).map_or(2, |c| c.exponent())
            ),
            conversion.currency.to_uppercase(),
            credit.via
        ),
        Some(conversion.id),
    ))
}

async fn record_trial(
    ctx: &InboxContext,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    is_test: bool,
    trial: Trial,
) -> Result<InboxResult, StoreError> {
    let store = ctx.store.as_ref();
    let merchant = &entry.merchant_id;
    let memory = memory_keys(Some(&trial.subscription_id), trial.customer_id.as_deref());
    let credit = attribute(
        store,
        merchant,
        provider.as_str(),
        trial.reference.as_ref(),
        trial.coupon.as_ref(),
        Memory { keys: &memory, credits: false, now: out.now },
    )
    .await?;
    let Some(credit) = credit else {
        return Ok(out.ignored("trial without tracking reference or registered coupon".into(), None));
    };
    let sale = Sale {
        merchant_id: merchant,
        provider,
        credit: &credit,
        order_id: format!("{}:trial:{}", provider.as_str(), trial.subscription_id),
        amount_minor: 0,
        // A trial moves no money; it is recorded in the campaign's currency.
        currency: None,
        customer_email: trial.customer_email.clone(),
        trial: true,
        recurring: true,
        renewal_parent: None,
        is_test,
    };
    let conversion = match record(ctx, out, sale).await? {
        Ok(conversion) => conversion,
        Err(result) => return Ok(result),
    };
    remember(store, merchant, provider, &memory, &credit, None, Some(conversion.id.clone()), out.now).await?;
    Ok(out.processed(
        format!(
            "trial conversion {} recorded via {}; the first payment earns the commission",
            conversion.id, credit.via
        ),
        Some(conversion.id),
    ))
}

/// Remembers who a subscription (and its customer) belongs to, and its first paid and trial
/// conversions when known.
#[allow(clippy::too_many_arguments)]
async fn remember(
    store: &dyn Store,
    merchant: &str,
    provider: Provider,
    keys: &[String],
    credit: &Credit,
    first_conversion_id: Option<String>,
    trial_conversion_id: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    for key in keys {
        store
            .remember_subscription(&ProcessorSubscription {
                merchant_id: merchant.to_string(),
                provider: provider.as_str().into(),
                subscription_key: key.clone(),
                campaign_id: credit.campaign_id.clone(),
                affiliate_id: credit.affiliate_id.clone(),
                click_id: credit.click_id.clone(),
                first_conversion_id: first_conversion_id.clone(),
                trial_conversion_id: trial_conversion_id.clone(),
                created_at: now,
            })
            .await?;
    }
    Ok(())
}

enum RefundAmount {
    Full,
    Total(i64),
    Step(i64),
    Unknown,
}

#[allow(clippy::too_many_arguments)]
async fn apply_refund(
    ctx: &InboxContext,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    keys: &[String],
    amount: RefundAmount,
    refund_key: Option<String>,
    label: String,
) -> Result<InboxResult, StoreError> {
    let store = ctx.store.as_ref();
    let merchant = &entry.merchant_id;
    let Some(conversion_id) = links::find_payment(store, merchant, provider.as_str(), keys).await? else {
        return Ok(out.wait(entry, format!("{label}: no credited sale for {} yet", keys.join(" / "))));
    };
    let Some(conversion) = store.get_conversion(merchant, &conversion_id).await? else {
        return Ok(out.ignored(format!("{label}: conversion {conversion_id} no longer exists"), None));
    };
    let Some(status) = ConversionStatus::parse(&conversion.status) else {
        return Ok(out.failed(format!("{label}: conversion has unknown status {}", conversion.status)));
    };
    let before = store
        .refund_state(merchant, &conversion.id)
        .await?
        .unwrap_or(RefundState { refunded_minor: 0, original_commission_minor: conversion.commission_minor });
    let after = match amount {
        RefundAmount::Full => conversion.amount_minor,
        RefundAmount::Total(total) => total,
        RefundAmount::Step(step) => before.refunded_minor + step,
        RefundAmount::Unknown => {
            return Ok(out.ignored(
                format!("{label}: partial refund without an amount; commission unchanged"),
                Some(conversion.id),
            ))
        }
    }
    .min(conversion.amount_minor);
    let effect = refund_effect(
        status,
        conversion.amount_minor,
        before.original_commission_minor,
        before.refunded_minor,
        after,
    );
    let (change, outcome) = match effect {
        RefundEffect::Nothing => {
            return Ok(out.ignored(
                format!("{label}: nothing to change (conversion is {status})"),
                Some(conversion.id),
            ))
        }
        RefundEffect::Reverse => (
            RefundChange::Reverse { from: status.as_str().to_string() },
            format!("{label}: conversion {} refunded, commission reversed", conversion.id),
        ),
        RefundEffect::Reduce { commission_minor } => (
            RefundChange::SetCommission(commission_minor),
            format!(
                "{label}: partial refund, commission of {} reduced to {commission_minor} (minor units)",
                conversion.id
            ),
        ),
        RefundEffect::Clawback { owed_minor } => (
            RefundChange::Clawback(CommissionAdjustment {
                // Named by what it settles: one adjustment per refunded total.
                id: format!("adj_{}_{after}", conversion.id),
                merchant_id: merchant.clone(),
                conversion_id: conversion.id.clone(),
                affiliate_id: conversion.affiliate_id.clone(),
                amount_minor: -owed_minor,
                currency: conversion.currency.clone(),
                reason: label.clone(),
                is_test: conversion.is_test,
                created_at: out.now,
            }),
            format!(
                "{label}: commission of {} was already paid; {owed_minor} (minor units) owed back",
                conversion.id
            ),
        ),
    };
    let applied = store
        .apply_refund(&RefundApplication {
            merchant_id: merchant,
            provider: provider.as_str(),
            conversion_id: &conversion.id,
            refund_key,
            before,
            refunded_after: after,
            change,
            now: out.now,
        })
        .await?;
    Ok(match applied {
        RefundApplied::Applied => out.processed(outcome, Some(conversion.id)),
        RefundApplied::AlreadyApplied => {
            out.ignored(format!("{label} was already applied"), Some(conversion.id))
        }
        // Another refund of this conversion was applied meanwhile: read it again shortly.
        RefundApplied::Conflict => {
            out.wait(entry, format!("{label}: conversion changed meanwhile; retrying"))
        }
    })
}
