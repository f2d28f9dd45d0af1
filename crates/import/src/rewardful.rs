//! Rewardful (`https://api.getrewardful.com/v1`): HTTP Basic with the API secret as the user
//! and no password, `page`/`limit` paging (100 a page; `pagination.next_page` is null on the
//! last), `{data: [...]}` answers, and a documented limit of 45 requests per 30 seconds.
//!
//! Mapping (spec §C.3): campaign → campaign (`reward_type` percent/amount,
//! `commission_percent` / `commission_amount_cents`, `max_commission_period_months`,
//! `max_commissions`, `days_until_commissions_are_due` → hold days); affiliate (`state`) →
//! affiliate on its campaign (active → approved, pending → pending, anything else → rejected)
//! and each of its `links[].token` → a short link; affiliate coupon → coupon; referral with a
//! Stripe customer → the customer remembered for renewals; commission (`state`: pending →
//! pending, due → approved, paid → paid, voided → rejected, or refunded when its sale was
//! refunded in full).

use std::time::Duration;

use refline_core::{
    import::{
        kind, ImportedAffiliate, ImportedCampaign, ImportedCommission, ImportedCoupon, ImportedCustomer,
        ImportedLink,
    },
    terms::CommissionType,
};
use refline_domain::{format_amount, ConversionStatus, Currency, MembershipStatus};
use serde_json::Value;

use crate::{
    client::{Auth, RateLimit, RetryPolicy, SourceClient},
    values::{int, list, obj, text, time},
    Batch, ImportError, Record, Source, Step,
};

/// Rewardful's API.
pub const DEFAULT_BASE_URL: &str = "https://api.getrewardful.com/v1";

/// Rewardful's documented rate limit.
pub const RATE: RateLimit = RateLimit { requests: 45, per: Duration::from_secs(30) };

/// Objects per page (the most Rewardful answers).
const LIMIT: &str = "100";

/// The Rewardful source.
pub struct Rewardful {
    client: SourceClient,
}

impl Rewardful {
    /// A Rewardful source with the API secret `key`, at `base` (the public API by default).
    pub fn new(key: &str, base: Option<&str>, policy: RetryPolicy) -> Result<Rewardful, ImportError> {
        let auth = Auth::Basic { user: key.to_string(), password: None };
        let client = SourceClient::new(
            "rewardful",
            base.unwrap_or(DEFAULT_BASE_URL),
            auth,
            Vec::new(),
            policy,
            Some(RATE),
        )?;
        Ok(Rewardful { client })
    }
}

#[async_trait::async_trait]
impl Source for Rewardful {
    fn name(&self) -> &'static str {
        "rewardful"
    }

    fn steps(&self) -> Vec<Step> {
        vec![Step::Campaigns, Step::Affiliates, Step::Coupons, Step::Customers, Step::Commissions]
    }

    async fn fetch(&self, step: Step, cursor: Option<&str>) -> Result<Batch, ImportError> {
        let page = cursor.unwrap_or("1").to_string();
        let mut query = vec![("page", page), ("limit", LIMIT.to_string())];
        let path = match step {
            Step::Campaigns => "/campaigns",
            Step::Affiliates => {
                query.push(("expand[]", "campaign".into()));
                query.push(("expand[]", "links".into()));
                "/affiliates"
            }
            Step::Coupons => "/affiliate_coupons",
            Step::Customers => {
                query.push(("expand[]", "affiliate".into()));
                query.push(("conversion_state[]", "lead".into()));
                query.push(("conversion_state[]", "conversion".into()));
                "/referrals"
            }
            Step::Commissions => {
                query.push(("expand[]", "sale".into()));
                query.push(("expand[]", "campaign".into()));
                "/commissions"
            }
            Step::Links => return Ok(Batch::default()),
        };
        let answer = self.client.get_json(path, &query).await?;
        let items = list(&answer, "data");
        let mut records = Vec::with_capacity(items.len());
        for item in items {
            match step {
                Step::Campaigns => records.push(campaign(item)),
                Step::Affiliates => records.extend(affiliate(item)),
                Step::Coupons => records.push(coupon(item)),
                Step::Customers => records.push(customer(item)),
                Step::Commissions => records.push(commission(item)),
                Step::Links => {}
            }
        }
        let pagination = obj(&answer, "pagination");
        // The last page says `next_page: null`; an empty page ends it too (as Dub stops).
        let next = if items.is_empty() { None } else { int(pagination, "next_page").map(|n| n.to_string()) };
        let total = int(pagination, "total_count").and_then(|n| u64::try_from(n).ok());
        Ok(Batch { records, next, total })
    }
}

fn skipped(kind: &'static str, item: &Value, code: &'static str, message: impl Into<String>) -> Record {
    Record::Skipped { kind, source_id: text(item, "id").unwrap_or_default(), code, message: message.into() }
}

/// A Rewardful campaign.
pub fn campaign(item: &Value) -> Record {
    let Some(source_id) = text(item, "id") else {
        return skipped(kind::CAMPAIGN, item, "missing_id", "the campaign has no id");
    };
    let currency = text(item, "currency").map(|c| c.to_lowercase());
    let exponent = currency.as_deref().and_then(|c| Currency::parse(c).ok()).map_or(2, |c| c.exponent());
    let (commission_type, commission_value) = match text(item, "reward_type").as_deref() {
        Some("amount") => match int(item, "commission_amount_cents") {
            Some(cents) => (CommissionType::Fixed, format_amount(cents, exponent)),
            None => {
                return skipped(
                    kind::CAMPAIGN,
                    item,
                    "invalid_commission",
                    "reward_type amount without commission_amount_cents",
                )
            }
        },
        Some("percent") | None => match text(item, "commission_percent") {
            Some(percent) => (CommissionType::Percentage, percent),
            None => {
                return skipped(
                    kind::CAMPAIGN,
                    item,
                    "invalid_commission",
                    "reward_type percent without commission_percent",
                )
            }
        },
        Some(other) => {
            return skipped(
                kind::CAMPAIGN,
                item,
                "unknown_reward_type",
                format!("reward_type {other:?} is not known"),
            )
        }
    };
    let name = text(item, "name").unwrap_or_default();
    let name = if name.chars().count() >= 2 { name } else { format!("Rewardful campaign {source_id}") };
    Record::Campaign(ImportedCampaign {
        source_id,
        name,
        currency,
        commission_type,
        commission_value,
        target_url: text(item, "url"),
        // Rewardful pays on every payment of a referred customer unless limited.
        recurring: true,
        recurring_payments: int(item, "max_commissions"),
        recurring_months: int(item, "max_commission_period_months"),
        hold_days: int(item, "days_until_commissions_are_due"),
        active: true,
    })
}

/// A Rewardful affiliate and its links.
pub fn affiliate(item: &Value) -> Vec<Record> {
    let Some(source_id) = text(item, "id") else {
        return vec![skipped(kind::AFFILIATE, item, "missing_id", "the affiliate has no id")];
    };
    let Some(email) = text(item, "email") else {
        return vec![skipped(kind::AFFILIATE, item, "invalid_email", "the affiliate has no email")];
    };
    let campaign = text(obj(item, "campaign"), "id").or_else(|| text(item, "campaign_id"));
    let Some(campaign) = campaign else {
        return vec![skipped(
            kind::AFFILIATE,
            item,
            "campaign_not_imported",
            "the affiliate names no campaign",
        )];
    };
    let status = match text(item, "state").as_deref() {
        Some("active") => MembershipStatus::Approved,
        Some("pending") => MembershipStatus::Pending,
        _ => MembershipStatus::Rejected,
    };
    let name = [text(item, "first_name"), text(item, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut records = vec![Record::Affiliate(ImportedAffiliate {
        source_id: source_id.clone(),
        email,
        name: (!name.is_empty()).then_some(name),
        campaigns: vec![(campaign.clone(), status)],
        created_at: time(item, "created_at"),
    })];
    for link in list(item, "links") {
        let Some(token) = text(link, "token") else { continue };
        records.push(Record::Link(ImportedLink {
            source_id: text(link, "id").unwrap_or_else(|| token.clone()),
            affiliate_source_id: source_id.clone(),
            campaign_source_id: Some(campaign.clone()),
            token,
        }));
    }
    records
}

/// A Rewardful affiliate coupon.
pub fn coupon(item: &Value) -> Record {
    let Some(source_id) = text(item, "id") else {
        return skipped(kind::COUPON, item, "missing_id", "the coupon has no id");
    };
    if item.get("archived").and_then(Value::as_bool) == Some(true) {
        return skipped(kind::COUPON, item, "coupon_archived", "archived at the source");
    }
    let Some(code) = text(item, "code").or_else(|| text(item, "token")) else {
        return skipped(kind::COUPON, item, "missing_code", "the coupon has no code");
    };
    let affiliate = text(item, "affiliate_id").or_else(|| text(obj(item, "affiliate"), "id"));
    let Some(affiliate) = affiliate else {
        return skipped(kind::COUPON, item, "affiliate_not_imported", "the coupon names no affiliate");
    };
    let external = text(item, "external_id");
    Record::Coupon(ImportedCoupon {
        source_id,
        code,
        affiliate_source_id: affiliate,
        campaign_source_id: None,
        // Stripe promotion codes are `promo_…`; anything else is taken as the coupon's id.
        provider_promotion_code_id: external.clone().filter(|e| e.starts_with("promo_")),
        provider_coupon_id: external.filter(|e| !e.starts_with("promo_")),
    })
}

/// A Rewardful referral (lead or conversion): its Stripe customer is remembered for renewals.
pub fn customer(item: &Value) -> Record {
    let Some(source_id) = text(item, "id") else {
        return skipped(kind::CUSTOMER, item, "missing_id", "the referral has no id");
    };
    let details = obj(item, "customer");
    let affiliate = text(obj(item, "affiliate"), "id").or_else(|| text(item, "affiliate_id"));
    let Some(affiliate) = affiliate else {
        return skipped(kind::CUSTOMER, item, "affiliate_not_imported", "the referral names no affiliate");
    };
    Record::Customer(ImportedCustomer {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: None,
        provider: text(details, "platform").unwrap_or_else(|| "stripe".into()),
        processor_customer_id: text(item, "stripe_customer_id").or_else(|| text(details, "id")),
        email: text(details, "email"),
    })
}

/// A Rewardful commission with its sale.
pub fn commission(item: &Value) -> Record {
    let Some(source_id) = text(item, "id") else {
        return skipped(kind::COMMISSION, item, "missing_id", "the commission has no id");
    };
    let sale = obj(item, "sale");
    let sale_amount =
        int(sale, "sale_amount_cents").or_else(|| int(sale, "charge_amount_cents")).unwrap_or(0);
    let refunded = int(sale, "refund_amount_cents").unwrap_or(0);
    let status = match text(item, "state").as_deref() {
        Some("pending") => ConversionStatus::Pending,
        Some("due") => ConversionStatus::Approved,
        Some("paid") => ConversionStatus::Paid,
        Some("voided") if sale_amount > 0 && refunded >= sale_amount => ConversionStatus::Refunded,
        Some("voided") => ConversionStatus::Rejected,
        other => {
            return skipped(kind::COMMISSION, item, "unknown_status", format!("state {other:?} is not known"))
        }
    };
    let affiliate = text(obj(item, "affiliate"), "id")
        .or_else(|| text(obj(sale, "affiliate"), "id"))
        .or_else(|| text(item, "affiliate_id"));
    let Some(affiliate) = affiliate else {
        return skipped(
            kind::COMMISSION,
            item,
            "affiliate_not_imported",
            "the commission names no affiliate",
        );
    };
    let Some(amount) = int(item, "amount") else {
        return skipped(kind::COMMISSION, item, "invalid_amount", "the commission has no amount");
    };
    let Some(currency) = text(item, "currency").or_else(|| text(sale, "currency")) else {
        return skipped(kind::COMMISSION, item, "invalid_currency", "the commission has no currency");
    };
    let Some(created_at) = time(sale, "charged_at").or_else(|| time(item, "created_at")) else {
        return skipped(kind::COMMISSION, item, "missing_date", "the commission has no date");
    };
    let referral = obj(sale, "referral");
    let customer_id = text(referral, "stripe_customer_id").or_else(|| text(obj(referral, "customer"), "id"));
    Record::Commission(ImportedCommission {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: text(obj(item, "campaign"), "id"),
        sale_amount_minor: sale_amount,
        commission_minor: amount,
        currency: currency.to_lowercase(),
        status,
        created_at,
        paid_at: time(item, "paid_at"),
        customer_email: text(obj(referral, "customer"), "email"),
        customer: customer_id.map(|id| ("stripe".to_string(), id)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn campaigns_map_their_terms() {
        let Record::Campaign(c) = campaign(&json!({
            "id": "c1", "name": "Main", "reward_type": "percent", "commission_percent": "20.0",
            "max_commission_period_months": 12, "days_until_commissions_are_due": 30, "url": "https://x.test"
        })) else {
            panic!("a campaign")
        };
        assert_eq!((c.commission_type, c.commission_value.as_str()), (CommissionType::Percentage, "20.0"));
        assert_eq!((c.recurring_months, c.recurring_payments, c.hold_days), (Some(12), None, Some(30)));
        let Record::Campaign(f) = campaign(
            &json!({"id": "c2", "name": "F", "reward_type": "amount", "commission_amount_cents": 1500}),
        ) else {
            panic!("a campaign")
        };
        assert_eq!((f.commission_type, f.commission_value.as_str()), (CommissionType::Fixed, "15.00"));
        assert_eq!(f.name, "Rewardful campaign c2");
        assert!(matches!(
            campaign(&json!({"id": "c3", "reward_type": "bitcoin"})),
            Record::Skipped { code: "unknown_reward_type", .. }
        ));
    }

    #[test]
    fn affiliates_bring_their_links_and_state() {
        let records = affiliate(&json!({
            "id": "a1", "email": "Jo@X.test", "first_name": "Jo", "last_name": "Doe", "state": "disabled",
            "campaign": {"id": "c1"}, "links": [{"id": "l1", "token": "jo"}, {"id": "l2", "token": null}]
        }));
        assert_eq!(records.len(), 2);
        let Record::Affiliate(a) = &records[0] else { panic!("an affiliate") };
        assert_eq!(a.campaigns, vec![("c1".to_string(), MembershipStatus::Rejected)]);
        assert_eq!(a.name.as_deref(), Some("Jo Doe"));
        let Record::Link(l) = &records[1] else { panic!("a link") };
        assert_eq!((l.token.as_str(), l.source_id.as_str()), ("jo", "l1"));
    }

    #[test]
    fn commission_states_map_per_the_spec() {
        let base = |state: &str, refund: i64| {
            json!({"id": "k", "state": state, "amount": 300, "currency": "USD", "created_at": "2024-01-01T00:00:00Z",
                   "sale": {"sale_amount_cents": 1000, "refund_amount_cents": refund, "affiliate": {"id": "a1"},
                            "referral": {"stripe_customer_id": "cus_1"}}})
        };
        let status = |v: Value| match commission(&v) {
            Record::Commission(c) => Some(c.status),
            _ => None,
        };
        assert_eq!(status(base("pending", 0)), Some(ConversionStatus::Pending));
        assert_eq!(status(base("due", 0)), Some(ConversionStatus::Approved));
        assert_eq!(status(base("paid", 0)), Some(ConversionStatus::Paid));
        assert_eq!(status(base("voided", 0)), Some(ConversionStatus::Rejected));
        assert_eq!(status(base("voided", 1000)), Some(ConversionStatus::Refunded));
        assert_eq!(status(base("haunted", 0)), None);
        let Record::Commission(c) = commission(&base("paid", 0)) else { panic!("a commission") };
        assert_eq!((c.currency.as_str(), c.sale_amount_minor, c.commission_minor), ("usd", 1000, 300));
        assert_eq!(c.customer, Some(("stripe".to_string(), "cus_1".to_string())));
    }
}
