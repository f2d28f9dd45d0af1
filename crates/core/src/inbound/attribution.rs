//! Who a processor sale belongs to (LinkJolt's order, spec §6.2): the tracking reference
//! carried through checkout, then a coupon registered to an affiliate (processor coupon id,
//! then promotion-code id, then the code text), then the subscription or customer a previous
//! attributed payment was remembered under (renewals).

use refline_processors::{CouponRef, Reference};
use refline_store::{ProcessorSubscription, StoreResult};

use super::memo::Memo;

/// The campaign and affiliate a sale is credited to, and how that was decided.
#[derive(Debug, Clone)]
pub struct Credit {
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// The customer's click, when the reference named one.
    pub click_id: Option<String>,
    /// `tracking reference`, `coupon <code>` or `subscription`.
    pub via: String,
    /// What is remembered about the subscription, if anything.
    pub subscription: Option<ProcessorSubscription>,
}

/// Where a payment's attribution is remembered: its subscription and its customer (some
/// processors name only one of them on the first sale and the other on renewals).
pub fn memory_keys(subscription_id: Option<&str>, customer_id: Option<&str>) -> Vec<String> {
    let subscription = subscription_id.map(|s| format!("sub:{s}"));
    let customer = customer_id.map(|c| format!("cus:{c}"));
    subscription.into_iter().chain(customer).collect()
}

/// What is remembered under `keys`, in their order (the subscription before the customer). A
/// row that knows neither a first sale nor a trial (remembered from a renewal under a key the
/// first sale did not name) is passed over for one that does; failing both, a pending link from
/// the subscription to its first sale (Lemon Squeezy orders do not name their subscription) is
/// followed.
async fn remembered(
    memo: &Memo,
    merchant_id: &str,
    provider: &str,
    keys: &[String],
    now: i64,
) -> StoreResult<Option<ProcessorSubscription>> {
    let mut found: Option<ProcessorSubscription> = None;
    for key in keys {
        if let Some(row) = memo.find_subscription(merchant_id, provider, key).await? {
            if row.first_conversion_id.is_some() || row.trial_conversion_id.is_some() {
                return Ok(Some(row));
            }
            found = found.or(Some(row));
        }
    }
    if let Some(subscription) = keys.iter().find(|k| k.starts_with("sub:")) {
        if let Some(linked) =
            super::links::linked_subscription(memo, merchant_id, provider, subscription, keys, now).await?
        {
            return Ok(Some(linked));
        }
    }
    Ok(found)
}

/// Where a sale's subscription may be remembered, and whether that memory may credit it.
pub struct Memory<'a> {
    /// From [`memory_keys`].
    pub keys: &'a [String],
    /// The remembered subscription credits the sale (subscription payments only).
    pub credits: bool,
    /// Now, for anything remembered on the way (a followed link).
    pub now: i64,
}

/// Finds the credit for a sale of `merchant_id`; `None` when nothing attributes it.
pub async fn attribute(
    memo: &Memo,
    merchant_id: &str,
    provider: &str,
    reference: Option<&Reference>,
    coupon: Option<&CouponRef>,
    memory: Memory<'_>,
) -> StoreResult<Option<Credit>> {
    let use_memory = memory.credits;
    let remembered = remembered(memo, merchant_id, provider, memory.keys, memory.now).await?;
    if let Some(reference) = reference {
        let found = memo.resolve_tracking_link(&reference.tracking_code, &reference.affiliate_id).await?;
        // Another merchant's reference is not a reference to this merchant's campaign.
        if let Some(target) = found.filter(|t| t.merchant_id == merchant_id) {
            return Ok(Some(Credit {
                campaign_id: target.campaign_id,
                affiliate_id: target.affiliate_id,
                click_id: reference.click_id.clone(),
                via: "tracking reference".into(),
                subscription: remembered,
            }));
        }
    }
    if let Some(coupon) = coupon {
        let found = memo
            .store()
            .find_coupon(
                merchant_id,
                Some(provider),
                coupon.coupon_id.as_deref(),
                coupon.promotion_code_id.as_deref(),
                coupon.code.as_deref(),
            )
            .await?;
        if let Some(found) = found {
            return Ok(Some(Credit {
                campaign_id: found.campaign_id,
                affiliate_id: found.affiliate_id,
                click_id: None,
                via: format!("coupon {}", found.code),
                subscription: remembered,
            }));
        }
    }
    // Memory credits subscription payments only: a customer's unrelated one-off purchase
    // months later is not the affiliate's referral.
    Ok(remembered.filter(|_| use_memory).map(|s| Credit {
        campaign_id: s.campaign_id.clone(),
        affiliate_id: s.affiliate_id.clone(),
        click_id: s.click_id.clone(),
        via: "subscription".into(),
        subscription: Some(s),
    }))
}
