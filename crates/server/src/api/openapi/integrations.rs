//! Schemas of payment-processor connections and their deliveries, coupons, and outbound
//! webhook endpoints with their deliveries.

use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// A connection to a payment processor: never a secret, only its hint.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub id: String,
    pub provider: String,
    pub status: String,
    pub label: Option<String>,
    pub secret_hint: String,
    pub has_previous_secret: bool,
    pub has_credentials: bool,
    /// Provider settings (GoPay's `goid`, `apiBaseUrl`).
    pub settings: Value,
    /// Where the processor sends its webhooks.
    pub webhook_url: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /integrations` (`provider` and `webhookSecret` required; GoPay also takes `goid`,
/// `clientId`, `clientSecret`, `apiBaseUrl`) and `PATCH /integrations/{id}` (`webhookSecret`
/// rotates, `dropPreviousSecret`, `status`, `label`, provider settings).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationInput {
    #[schema(pattern = "^(stripe|paddle|paddle_classic|lemonsqueezy|gumroad|gopay|creem|polar)$")]
    pub provider: Option<String>,
    pub webhook_secret: Option<String>,
    #[schema(max_length = 200)]
    pub label: Option<String>,
    #[schema(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
    pub drop_previous_secret: Option<bool>,
    pub goid: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub api_base_url: Option<String>,
}

/// What a processor sent through a connection and what it became.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessorDelivery {
    pub id: String,
    pub provider: String,
    pub event_id: String,
    pub event_type: Option<String>,
    pub verified_by: Option<String>,
    pub status: String,
    pub outcome: Option<String>,
    pub conversion_id: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub received_at: String,
    pub processed_at: Option<String>,
    /// The delivery's body as received.
    pub body: String,
}

/// `sort=receivedAt[:asc|desc]`.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceivedAtSort {
    #[param(pattern = r"^receivedAt(:(asc|desc))?$")]
    pub sort: Option<String>,
}

/// A discount code registered to an affiliate on a campaign.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    pub id: String,
    pub code: String,
    pub campaign_id: String,
    pub affiliate_id: String,
    pub provider: Option<String>,
    pub provider_coupon_id: Option<String>,
    pub provider_promotion_code_id: Option<String>,
    pub percent_off: Option<i64>,
    /// A JSON number with the currency's decimals.
    pub amount_off: Option<f64>,
    pub currency: Option<String>,
    pub duration: Option<String>,
    pub duration_in_months: Option<i64>,
    pub created_at: String,
}

/// `POST /coupons`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewCoupon {
    #[schema(max_length = 100)]
    pub code: String,
    #[schema(max_length = 255)]
    pub campaign_id: String,
    #[schema(max_length = 255)]
    pub affiliate_id: String,
    #[schema(pattern = "^(stripe|paddle|paddle_classic|lemonsqueezy|gumroad|gopay|creem|polar)$")]
    pub provider: Option<String>,
    #[schema(max_length = 255)]
    pub provider_coupon_id: Option<String>,
    #[schema(max_length = 255)]
    pub provider_promotion_code_id: Option<String>,
    pub create_in_provider: Option<bool>,
    #[schema(minimum = 1, maximum = 100)]
    pub percent_off: Option<i64>,
    pub amount_off: Option<f64>,
    #[schema(max_length = 3)]
    pub currency: Option<String>,
    #[schema(pattern = "^(once|forever|repeating)$")]
    pub duration: Option<String>,
    #[schema(minimum = 1, maximum = 1200)]
    pub duration_in_months: Option<i64>,
}

/// `GET /coupons` filters.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CouponQuery {
    pub code: Option<String>,
    pub provider: Option<String>,
    pub campaign_id: Option<String>,
    pub affiliate_id: Option<String>,
}

/// An outbound webhook endpoint; `secret` and `standardWebhooksSecret` only right after
/// creation or rotation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// `active` or `disabled`.
    #[schema(pattern = "^(active|disabled)$")]
    pub status: String,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i64,
    pub created_at: String,
    pub updated_at: String,
    pub secret: Option<String>,
    pub standard_webhooks_secret: Option<String>,
}

/// `POST /webhooks` (`url` and `events` required) and `PATCH /webhooks/{id}` (`url`, `events`,
/// `status: "active"` to re-activate, `rotateSecret: true`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInput {
    /// A public `https://` URL.
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    #[schema(pattern = "^active$")]
    pub status: Option<String>,
    pub rotate_secret: Option<bool>,
}

/// What the receiver answered to a test event.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTest {
    pub success: bool,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub payload: Value,
}

/// One attempt of an outbound delivery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub at: String,
}

/// An outbound delivery of one event to one endpoint.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub id: String,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    pub payload: Value,
    pub attempt_log: Vec<DeliveryAttempt>,
}
