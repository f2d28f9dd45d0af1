//! Schemas of payouts, balances and the merchant's payout settings.

use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// A commission (or a clawback netted against it) in a payout.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutLine {
    pub conversion_id: String,
    pub amount: String,
}

/// A payout: one affiliate, one currency.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub id: String,
    pub affiliate_id: String,
    pub amount: String,
    pub currency: String,
    /// `pending`, `processing`, `completed`, `failed` or `cancelled`.
    #[schema(pattern = "^(pending|processing|completed|failed|cancelled)$")]
    pub status: String,
    pub method: Option<String>,
    pub destination: Option<Value>,
    pub conversion_ids: Vec<String>,
    pub conversions: Vec<PayoutLine>,
    pub clawbacks: Vec<PayoutLine>,
    pub reference: Option<String>,
    pub export_id: Option<String>,
    pub transfer_id: Option<String>,
    pub failure_reason: Option<String>,
    pub is_test: bool,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

/// `GET /payouts` filters (with `from`/`to`).
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct PayoutQuery {
    #[param(pattern = "^(pending|processing|completed|failed|cancelled)$")]
    pub status: Option<String>,
    pub affiliate_id: Option<String>,
    pub conversion_id: Option<String>,
    pub currency: Option<String>,
    #[param(pattern = "^(paypal|stripe_connect|wise|manual)$")]
    pub method: Option<String>,
    pub export_id: Option<String>,
}

/// `POST /payouts`: one payout per affiliate and currency from everything payable now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunInput {
    #[schema(max_items = 10000)]
    pub affiliate_ids: Option<Vec<String>>,
    #[schema(max_length = 3)]
    pub currency: Option<String>,
    #[schema(pattern = "^(paypal|stripe_connect|wise|manual)$")]
    pub method: Option<String>,
}

/// `POST /payouts/send`: the `stripe_connect` payouts to send (all pending ones when absent).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendInput {
    #[schema(max_items = 10000)]
    pub payout_ids: Option<Vec<String>>,
}

/// `POST /payouts/complete`: every payout of an exported file was paid.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteExport {
    #[schema(max_length = 100)]
    pub export_id: String,
    #[schema(max_length = 500)]
    pub reference: Option<String>,
}

/// `POST /payouts/{id}/complete`: the payout was paid.
#[derive(Serialize, ToSchema)]
pub struct CompleteInput {
    #[schema(max_length = 500)]
    pub reference: Option<String>,
}

/// `POST /payouts/{id}/fail`: the payout was not paid (or its payment came back).
#[derive(Serialize, ToSchema)]
pub struct FailInput {
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// `POST /payouts/{id}/cancel`: no fields (an empty body or `{}`).
#[derive(Serialize, ToSchema)]
pub struct CancelInput {}

/// `GET /payouts/export`: the file for a manual rail.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ExportQuery {
    /// Required.
    #[param(pattern = "^(paypal|wise|csv)$")]
    pub format: Option<String>,
    pub currency: Option<String>,
    /// Download an earlier export again.
    pub export_id: Option<String>,
}

/// `GET /balances` filters.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct BalanceQuery {
    pub affiliate_id: Option<String>,
    pub currency: Option<String>,
}

/// What the ledger says one affiliate has in one currency, by state.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub affiliate_id: String,
    pub currency: String,
    pub pending: String,
    pub on_hold: String,
    pub payable: String,
    pub in_payout: String,
    pub paid: String,
    pub owed_back: String,
}

/// The merchant's payout settings (the Stripe key is write-only).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub payout_hold_days: i64,
    /// Decimal string, in each payout's currency.
    pub minimum_payout: String,
    pub automatic_payouts: bool,
    pub default_payout_method: Option<String>,
    pub stripe_secret_key_set: bool,
}

/// `PATCH /settings`: `null` clears the default method or the Stripe key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsInput {
    #[schema(minimum = 0, maximum = 365)]
    pub payout_hold_days: Option<i64>,
    pub minimum_payout: Option<super::program::Decimal>,
    pub automatic_payouts: Option<bool>,
    #[schema(pattern = "^(paypal|stripe_connect|wise|manual)$")]
    pub default_payout_method: Option<String>,
    #[schema(max_length = 255)]
    pub stripe_secret_key: Option<String>,
}
