//! A payout as every door shows it — the API's `GET /payouts/:id` body and the `data` of
//! `payout.*` events are this one rendering, so they cannot drift apart.

use refline_domain::{format_amount_in, format_timestamp};
use refline_store::{Payout, PayoutItem};
use serde_json::{json, Value};

/// A payout with what it pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutView {
    /// The payout.
    pub payout: Payout,
    /// Its commissions (positive) and netted clawbacks (negative).
    pub items: Vec<PayoutItem>,
}

impl PayoutView {
    /// The JSON form.
    pub fn to_json(&self) -> Value {
        let p = &self.payout;
        let amount = |minor: i64| format_amount_in(minor, &p.currency);
        let commissions: Vec<&PayoutItem> = self.items.iter().filter(|i| i.amount_minor > 0).collect();
        let clawbacks: Vec<&PayoutItem> = self.items.iter().filter(|i| i.amount_minor < 0).collect();
        let destination = p.destination.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok());
        json!({
            "id": p.id,
            "affiliateId": p.affiliate_id,
            "amount": amount(p.amount_minor),
            "currency": p.currency,
            "status": p.status.as_str(),
            "method": p.method,
            "destination": destination,
            "conversionIds": commissions.iter().map(|i| &i.conversion_id).collect::<Vec<_>>(),
            "conversions": commissions.iter().map(|i| json!({
                "conversionId": i.conversion_id,
                "amount": amount(i.amount_minor),
            })).collect::<Vec<_>>(),
            "clawbacks": clawbacks.iter().map(|i| json!({
                "conversionId": i.conversion_id,
                "amount": amount(-i.amount_minor),
            })).collect::<Vec<_>>(),
            "reference": p.reference,
            "exportId": p.export_id,
            "transferId": p.transfer_id,
            "failureReason": p.failure_reason,
            "isTest": !p.mode.is_live(),
            "createdAt": format_timestamp(p.created_at),
            "updatedAt": format_timestamp(p.updated_at),
            "completedAt": p.completed_at.map(format_timestamp),
        })
    }
}
