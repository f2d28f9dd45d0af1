//! Turning changes into events and events into outbox rows: one delivery per event and
//! subscribed endpoint, with the exact JSON body it will carry. Pure; the engines read
//! endpoints ([`merchants_of`] says whose) and insert the rows in the transaction of the change
//! that caused the events.

use rand::{distributions::Alphanumeric, Rng};
use refline_domain::{conversion_status_event, format_timestamp};
use serde_json::json;

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

/// The merchants of `events`, each once and sorted: fan-out reads each one's endpoints once.
pub fn merchants_of(events: &[OutboxEvent]) -> Vec<&str> {
    let mut merchants: Vec<&str> = events.iter().map(|e| e.merchant_id.as_str()).collect();
    merchants.sort_unstable();
    merchants.dedup();
    merchants
}

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

/// `conversion.created` for a newly recorded conversion; none for test data, which webhooks
/// never see.
pub fn conversion_created(c: &Conversion) -> Option<OutboxEvent> {
    c.mode.is_live().then(|| OutboxEvent {
        merchant_id: c.merchant_id.clone(),
        event: "conversion.created",
        data: crate::render::conversion_event(c),
        at: c.created_at,
    })
}

/// The status event (`conversion.approved`, …, `conversion.updated`) announcing that conversion
/// `c`, as it is now, changed at `at`; none for test data.
pub fn conversion_changed(c: &Conversion, at: i64) -> Option<OutboxEvent> {
    c.mode.is_live().then(|| OutboxEvent {
        merchant_id: c.merchant_id.clone(),
        event: conversion_status_event(c.status),
        data: crate::render::conversion_event(c),
        at,
    })
}

/// `conversion.updated` for a change that is not the merchant's decision (a completed payout
/// returned, so the paid commission is `approved` again); none for test data.
pub fn conversion_updated(c: &Conversion, at: i64) -> Option<OutboxEvent> {
    c.mode.is_live().then(|| OutboxEvent {
        merchant_id: c.merchant_id.clone(),
        event: "conversion.updated",
        data: crate::render::conversion_event(c),
        at,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    use refline_domain::{ConversionStatus, ConversionType, Mode};

    fn conversion(status: ConversionStatus, mode: Mode) -> Conversion {
        Conversion {
            id: "conv_1".into(),
            merchant_id: "mer_1".into(),
            campaign_id: "cmp_1".into(),
            affiliate_id: "aff_1".into(),
            amount_minor: 9_900,
            commission_minor: 990,
            currency: "usd".into(),
            status,
            order_id: None,
            click_id: None,
            customer_email: None,
            customer_name: None,
            conversion_type: ConversionType::OneTime,
            parent_conversion_id: None,
            payment_number: 1,
            source: "api".into(),
            mode,
            fraud_score: None,
            fraud_signals: None,
            created_at: 1_000,
            updated_at: 2_000,
            approved_at: None,
            earned_minor: 0,
            paid_minor: 0,
        }
    }

    fn event(merchant_id: &str, name: &'static str) -> OutboxEvent {
        OutboxEvent { merchant_id: merchant_id.into(), event: name, data: json!({}), at: 5 }
    }

    #[test]
    fn each_merchant_is_read_once() {
        let events = [event("mer_b", "a.x"), event("mer_a", "a.y"), event("mer_b", "a.z")];
        assert_eq!(merchants_of(&events), ["mer_a", "mer_b"]);
        assert!(merchants_of(&[]).is_empty());
    }

    #[test]
    fn deliveries_go_to_subscribed_endpoints_of_the_merchant_only() {
        let events = [event("mer_a", "conversion.created"), event("mer_b", "conversion.created")];
        let endpoints: Vec<EndpointRow> = vec![
            ("wh_1".into(), ",conversion.created,".into(), "active".into()),
            ("wh_2".into(), ",affiliate.joined,".into(), "active".into()),
            ("wh_3".into(), ",conversion.created,affiliate.joined,".into(), "disabled".into()),
        ];
        let rows = deliveries_for(&events, "mer_a", &endpoints);
        let targets: Vec<(&str, &str)> = rows.iter().map(|d| (d.endpoint_id.as_str(), d.status)).collect();
        // A disabled endpoint's deliveries are held, not dropped: re-activation sends them.
        assert_eq!(targets, [("wh_1", "pending"), ("wh_3", "held")]);
        assert!(rows.iter().all(|d| d.merchant_id == "mer_a" && d.at == 5));
    }

    #[test]
    fn live_conversions_announce_their_creation_and_test_ones_do_not() {
        let created = conversion_created(&conversion(ConversionStatus::Pending, Mode::Live));
        let created = created.as_ref().map(|e| (e.merchant_id.as_str(), e.event, e.at));
        assert_eq!(created, Some(("mer_1", "conversion.created", 1_000)));
        assert!(conversion_created(&conversion(ConversionStatus::Pending, Mode::Test)).is_none());
    }

    #[test]
    fn a_changed_conversion_announces_its_status() {
        let approved = conversion_changed(&conversion(ConversionStatus::Approved, Mode::Live), 7_000);
        let approved = approved.as_ref().map(|e| (e.event, e.at, e.data["status"].as_str()));
        assert_eq!(approved, Some(("conversion.approved", 7_000, Some("approved"))));
        let refunded = conversion_changed(&conversion(ConversionStatus::Refunded, Mode::Live), 7_000);
        assert_eq!(refunded.map(|e| e.event), Some("conversion.updated"));
        assert!(conversion_changed(&conversion(ConversionStatus::Approved, Mode::Test), 7_000).is_none());
    }
}
