//! How conversions and memberships are shown, in one place: for a conversion the `GET` body, the
//! `POST` answer and the `data` of conversion events; for a membership the list row of
//! `GET /affiliates` and the `data` of `affiliate.*` events. Each is written here, side by side,
//! from the same row and the same formatting, so they cannot drift apart; each keeps the shape
//! LinkJolt documents for it (events name the ids `conversionId` / `affiliateId`; the seed's 201
//! has money as JSON numbers).

use refline_domain::{format_amount_in, format_timestamp};
use serde_json::{json, Map, Number, Value};

use crate::{Conversion, MembershipView};

/// Decimal text as a JSON number with exactly those digits (`arbitrary_precision`).
fn exact_number(text: &str) -> Value {
    text.parse::<Number>().map(Value::Number).unwrap_or(Value::Null)
}

/// An amount of `c`'s currency as decimal text.
pub fn money(c: &Conversion, minor: i64) -> String {
    format_amount_in(minor, &c.currency)
}

fn fraud(c: &Conversion) -> Option<Value> {
    let score = c.fraud_score?;
    let signals: Vec<&str> =
        c.fraud_signals.as_deref().unwrap_or("").split(',').filter(|s| !s.is_empty()).collect();
    let level = refline_domain::RiskLevel::from_score(u8::try_from(score).unwrap_or(100));
    Some(json!({ "score": score, "level": level.as_str(), "signals": signals, "flaggedForReview": true }))
}

/// The 201 body of `POST /conversions`: exactly the seed's fields (money as JSON numbers with
/// the currency's decimals), plus `source`, and `isTest`/`fraud` only when they apply.
pub fn conversion_created(c: &Conversion) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(c.id));
    out.insert("campaignId".into(), json!(c.campaign_id));
    out.insert("affiliateId".into(), json!(c.affiliate_id));
    out.insert("amount".into(), exact_number(&money(c, c.amount_minor)));
    out.insert("commission".into(), exact_number(&money(c, c.commission_minor)));
    out.insert("currency".into(), json!(c.currency));
    out.insert("status".into(), json!(c.status.as_str()));
    out.insert("orderId".into(), json!(c.order_id));
    out.insert("conversionType".into(), json!(c.conversion_type.as_str()));
    out.insert("createdAt".into(), json!(format_timestamp(c.created_at)));
    out.insert("source".into(), json!(c.source));
    if let Some(parent) = &c.parent_conversion_id {
        out.insert("parentConversionId".into(), json!(parent));
        out.insert("paymentNumber".into(), json!(c.payment_number));
    }
    if c.mode.is_test() {
        out.insert("isTest".into(), json!(true));
    }
    if let Some(fraud) = fraud(c) {
        out.insert("fraud".into(), fraud);
    }
    Value::Object(out)
}

/// The form of a conversion in reads: money as decimal strings, as in LinkJolt's reference.
pub fn conversion_read(c: &Conversion) -> Value {
    json!({
        "id": c.id,
        "campaignId": c.campaign_id,
        "affiliateId": c.affiliate_id,
        "amount": money(c, c.amount_minor),
        "commission": money(c, c.commission_minor),
        "currency": c.currency,
        "status": c.status.as_str(),
        "orderId": c.order_id,
        "clickId": c.click_id,
        "customerEmail": c.customer_email,
        "customerName": c.customer_name,
        "conversionType": c.conversion_type.as_str(),
        "parentConversionId": c.parent_conversion_id,
        "paymentNumber": c.payment_number,
        "source": c.source,
        "isTest": c.mode.is_test(),
        "fraud": fraud(c),
        "createdAt": format_timestamp(c.created_at),
        "updatedAt": format_timestamp(c.updated_at),
    })
}

/// The `data` of conversion events (LinkJolt's documented shape plus order, type and times).
/// `status` and `updatedAt` let receivers order events of one conversion.
pub fn conversion_event(c: &Conversion) -> Value {
    json!({
        "conversionId": c.id,
        "campaignId": c.campaign_id,
        "affiliateId": c.affiliate_id,
        "amount": money(c, c.amount_minor),
        "commission": money(c, c.commission_minor),
        "currency": c.currency,
        "status": c.status.as_str(),
        "orderId": c.order_id,
        "conversionType": c.conversion_type.as_str(),
        "source": c.source,
        "createdAt": format_timestamp(c.created_at),
        "updatedAt": format_timestamp(c.updated_at),
    })
}

/// The `data` of `affiliate.*` events (a membership changed); `updatedAt` (and `updatedAtMs`)
/// order events of one membership.
pub fn membership_event(
    affiliate_id: &str,
    campaign_id: &str,
    email: &str,
    name: Option<&str>,
    status: &str,
    at: i64,
) -> Value {
    json!({
        "affiliateId": affiliate_id,
        "campaignId": campaign_id,
        "email": email,
        "name": name,
        "status": status,
        "updatedAt": format_timestamp(at),
        "updatedAtMs": at,
    })
}

/// A row of `GET /affiliates` (one membership), with the hosted link and click figures the door
/// computes (they depend on the public URL and the click totals' own rendering).
pub fn membership_row(m: &MembershipView, tracking_link: String, click_stats: Value) -> Value {
    json!({
        "id": m.affiliate_id,
        "name": m.name,
        "email": m.email,
        "status": m.status.as_str(),
        "campaignId": m.campaign_id,
        "campaignName": m.campaign_name,
        "trackingLink": tracking_link,
        "createdVia": m.created_via,
        "joinedAt": format_timestamp(m.joined_at),
        "earnings": format_amount_in(m.earnings_minor, &m.currency),
        "currency": m.currency,
        "clicks": m.clicks.clicks,
        "clickStats": click_stats,
    })
}
