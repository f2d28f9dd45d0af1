//! Turning events into outbox rows: one delivery per event and subscribed endpoint, with the
//! exact JSON body it will carry. Pure; the engines read endpoints and insert the rows in the
//! transaction of the change that caused the events.

use rand::{distributions::Alphanumeric, Rng};
use refline_domain::{format_amount, format_timestamp, Currency};
use serde_json::{json, Value};

use crate::{Conversion, OutboxEvent};

/// A delivery row to insert.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// `wh_del_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// Event name.
    pub event: &'static str,
    /// Body to POST.
    pub payload: String,
    /// `pending`, or `held` for a disabled endpoint (delivered if it is re-activated in time).
    pub status: &'static str,
    /// Due time.
    pub at: i64,
}

/// An endpoint as fan-out needs it: id, comma-wrapped events, status.
pub type EndpointRow = (String, String, String);

/// The deliveries of `events` to the endpoints of their merchant.
pub fn deliveries_for(
    events: &[OutboxEvent],
    merchant_id: &str,
    endpoints: &[EndpointRow],
) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    for event in events.iter().filter(|e| e.merchant_id == merchant_id) {
        let wrapped = format!(",{},", event.event);
        for (endpoint_id, _, status) in endpoints.iter().filter(|(_, s, _)| s.contains(&wrapped)) {
            let id = format!(
                "wh_del_{}",
                rand::thread_rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect::<String>()
            );
            let payload = json!({
                "id": id,
                "event": event.event,
                "timestamp": format_timestamp(event.at),
                "data": event.data,
            });
            out.push(NewDelivery {
                id,
                merchant_id: merchant_id.to_string(),
                endpoint_id: endpoint_id.clone(),
                event: event.event,
                payload: payload.to_string(),
                status: if status == "active" { "pending" } else { "held" },
                at: event.at,
            });
        }
    }
    out
}

/// The `data` of conversion events (LinkJolt's documented shape plus order, type and times).
/// `status` and `updatedAt` let receivers order events of one conversion.
pub fn conversion_data(c: &Conversion) -> Value {
    let exponent = Currency::parse(&c.currency).unwrap_or(Currency::USD).exponent();
    json!({
        "conversionId": c.id,
        "campaignId": c.campaign_id,
        "affiliateId": c.affiliate_id,
        "amount": format_amount(c.amount_minor, exponent),
        "commission": format_amount(c.commission_minor, exponent),
        "currency": c.currency,
        "status": c.status,
        "orderId": c.order_id,
        "conversionType": c.conversion_type,
        "source": c.source,
        "createdAt": format_timestamp(c.created_at),
        "updatedAt": format_timestamp(c.updated_at),
    })
}

/// The `data` of affiliate events; `updatedAt` (and `updatedAtMs`) order events of one membership.
pub fn affiliate_data(
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
