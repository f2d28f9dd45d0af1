//! Recording a processor's sale, renewal or trial through the one sale path of the core
//! (`sales::record::record_sale`, the same checks and writer as `POST /api/v1/conversions`), and
//! remembering the subscription and customer it belongs to.

use refline_domain::{ConversionType, Currency, Mode};
use refline_processors::Provider;
use refline_store::{AttributionQuery, InboxResult, ProcessorSubscription, StoreError};

use super::{attribution::Credit, memo::Memo, outcome::Outcome, process::refusal_text, InboxContext};
use crate::{
    ids::new_ordered_id,
    sales::record::{record_sale, Refusal, SaleInput},
};

pub(super) struct Sale<'a> {
    pub(super) merchant_id: &'a str,
    pub(super) provider: Provider,
    pub(super) credit: &'a Credit,
    pub(super) order_id: String,
    pub(super) amount_minor: i64,
    /// `None` (trials) takes the campaign's.
    pub(super) currency: Option<&'a str>,
    pub(super) customer_email: Option<String>,
    pub(super) trial: bool,
    /// Part of a subscription (`recurring`) or a one-off sale (`one_time`).
    pub(super) recurring: bool,
    pub(super) renewal_parent: Option<String>,
    pub(super) mode: Mode,
}

/// Checks and records a sale (or trial) for `credit`; `Ok(Err(result))` when it earns nothing.
pub(super) async fn record(
    memo: &Memo,
    ctx: &InboxContext,
    out: &Outcome,
    sale: Sale<'_>,
) -> Result<Result<refline_store::Conversion, InboxResult>, StoreError> {
    let store = memo.store();
    let merchant_id = sale.merchant_id;
    let attribution = memo
        .find_attribution(&AttributionQuery {
            merchant_id,
            campaign_id: &sale.credit.campaign_id,
            affiliate_id: &sale.credit.affiliate_id,
            click_id: sale.credit.click_id.as_deref(),
            order_id: Some(&sale.order_id),
            mode: sale.mode,
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
    let (plan, merchant_currency) = memo.merchant_plan(merchant_id).await?;
    let input = SaleInput {
        campaign: attribution.campaign.clone(),
        affiliate,
        membership_status: attribution.membership_status,
        click: attribution.click(),
        click_unread: false,
        amount_minor: sale.amount_minor,
        currency,
        order_id: Some(sale.order_id),
        click_id: sale.credit.click_id.clone(),
        customer_email: sale.customer_email,
        customer_name: None,
        conversion_type: ConversionType::of(sale.recurring),
        parent,
        source: sale.provider.as_str().to_string(),
        mode: sale.mode,
        plan,
        merchant_currency,
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

/// Remembers who a subscription (and its customer) belongs to, and its first paid and trial
/// conversions when known.
#[allow(clippy::too_many_arguments)]
pub(super) async fn remember(
    memo: &Memo,
    merchant: &str,
    provider: Provider,
    keys: &[String],
    credit: &Credit,
    first_conversion_id: Option<String>,
    trial_conversion_id: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    for key in keys {
        memo.remember_subscription(&ProcessorSubscription {
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
