//! Stripe Connect transfers: `POST /v1/transfers` with the merchant's secret key and the payout
//! id as `Idempotency-Key`, through a client that never reaches private addresses (unless the
//! operator allowed private processor APIs) and never follows redirects.

use std::sync::Arc;

use refline_core::payouts::stripe::{TransferOutcome, TransferRail, TransferRequest};
use serde_json::Value;

use crate::outbound::target::TargetPolicy;

/// Transfers through Stripe's API at `base`.
pub struct StripeTransfers {
    /// `https://api.stripe.com` (or a stand-in).
    pub base: String,
    /// HTTP client (SSRF-guarded, no redirects).
    pub client: reqwest::Client,
    /// What the base URL may be.
    pub targets: TargetPolicy,
}

impl StripeTransfers {
    /// A rail for `base` under `targets`.
    pub fn new(base: &str, targets: TargetPolicy) -> Arc<StripeTransfers> {
        let client = crate::inbound::gopay::client(&targets);
        Arc::new(StripeTransfers { base: base.trim_end_matches('/').to_string(), client, targets })
    }
}

#[async_trait::async_trait]
impl TransferRail for StripeTransfers {
    async fn transfer(&self, secret_key: &str, request: &TransferRequest) -> TransferOutcome {
        let url = format!("{}/v1/transfers", self.base);
        if let Err(err) = crate::outbound::target::check_form(&url, &self.targets) {
            return TransferOutcome::Refused {
                reason: format!("the Stripe API address is not allowed: {err}"),
            };
        }
        let form = [
            ("amount", request.amount_minor.to_string()),
            ("currency", request.currency.clone()),
            ("destination", request.destination.clone()),
            ("transfer_group", request.transfer_group.clone()),
            ("description", request.description.clone()),
            ("metadata[payout_id]", request.idempotency_key.clone()),
        ];
        let sent = self
            .client
            .post(&url)
            .bearer_auth(secret_key)
            .header("Idempotency-Key", &request.idempotency_key)
            .form(&form)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return TransferOutcome::Unavailable { reason: format!("Stripe not reached: {err}") },
        };
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body["error"]["message"].as_str().unwrap_or("no message").to_string();
        if status.is_success() {
            match body["id"].as_str() {
                Some(id) => TransferOutcome::Sent { transfer_id: id.to_string() },
                None => {
                    TransferOutcome::Unavailable { reason: "Stripe answered without a transfer id".into() }
                }
            }
        } else if status.is_server_error() || status.as_u16() == 409 || status.as_u16() == 429 {
            // 409: the same key is still being processed; 429: rate limited; 5xx: unknown
            // outcome. The same Idempotency-Key later gets the first answer.
            TransferOutcome::Unavailable { reason: format!("Stripe answered {status}: {message}") }
        } else {
            TransferOutcome::Refused { reason: format!("{message} ({status})") }
        }
    }
}
