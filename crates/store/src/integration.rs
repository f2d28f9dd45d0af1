//! Payment-processor connections (integrations) and coupon codes registered to affiliates.
//!
//! Secrets arrive here already sealed by the server; the store never sees plaintext.

use crate::{Page, PageRequest, StoreResult};

/// A merchant's connection to one payment processor: the secrets its webhooks are verified
/// with and the provider's non-secret settings.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Integration {
    /// `int_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// `stripe`, `paddle`, `paddle_classic`, `lemonsqueezy`, `gumroad`, `gopay`, `creem` or
    /// `polar`.
    pub provider: String,
    /// `active` or `disabled`; only active ones verify webhooks.
    pub status: String,
    /// The merchant's name for it.
    pub label: Option<String>,
    /// The current webhook secret (or Paddle Classic public key), sealed.
    pub secret_sealed: String,
    /// Last 4 characters of the current secret, safe to show.
    pub secret_hint: String,
    /// The secret before the last rotation, sealed; still accepted until dropped.
    pub previous_secret_sealed: Option<String>,
    /// JSON object of provider-specific non-secret fields (GoPay: `goid`, `apiBaseUrl`).
    pub settings: String,
    /// Sealed JSON of provider API credentials (GoPay: `clientId`, `clientSecret`).
    pub credentials_sealed: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A discount code attributed to an affiliate on a campaign.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Coupon {
    /// `cpn_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Campaign credited.
    pub campaign_id: String,
    /// Affiliate credited.
    pub affiliate_id: String,
    /// The code as registered.
    pub code: String,
    /// The code upper-cased ([`Coupon::key_of`]): codes match case-insensitively.
    pub code_key: String,
    /// Processor the code lives in; `None` matches any.
    pub provider: Option<String>,
    /// The processor's coupon id (Stripe `coupon.id`, Paddle discount id…).
    pub provider_coupon_id: Option<String>,
    /// The processor's promotion-code id (Stripe `promo_…`).
    pub provider_promotion_code_id: Option<String>,
    /// Label: percent off (1–100).
    pub percent_off: Option<i64>,
    /// Label: amount off, minor units of `currency`.
    pub amount_off_minor: Option<i64>,
    /// Label: currency of `amount_off_minor`.
    pub currency: Option<String>,
    /// Label: `once`, `forever` or `repeating`.
    pub duration: Option<String>,
    /// Label: months, with `repeating`.
    pub duration_in_months: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
}

impl Coupon {
    /// The case-insensitive form a code is stored and looked up by.
    pub fn key_of(code: &str) -> String {
        code.trim().to_uppercase()
    }
}

/// Filters of a coupon list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct CouponFilter {
    /// The code, matched case-insensitively.
    pub code: Option<String>,
    /// Processor.
    pub provider: Option<String>,
    /// Campaign.
    pub campaign_id: Option<String>,
    /// Affiliate.
    pub affiliate_id: Option<String>,
}

/// Storage of processor connections and coupons.
#[async_trait::async_trait]
pub trait IntegrationStore {
    /// Adds a connection.
    async fn insert_integration(&self, integration: &Integration) -> StoreResult<()>;
    /// A merchant's connection.
    async fn get_integration(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Integration>>;
    /// A merchant's connections, newest first by default.
    async fn list_integrations(
        &self,
        merchant_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Integration>>;
    /// Saves status, label, secrets, settings and credentials; false when it does not exist.
    async fn update_integration(&self, integration: &Integration) -> StoreResult<bool>;
    /// Deletes a connection; false when it does not exist.
    async fn delete_integration(&self, merchant_id: &str, id: &str) -> StoreResult<bool>;
    /// A merchant's active connections to `provider`, oldest first: the ones a webhook of that
    /// provider is verified against.
    async fn active_integrations(&self, merchant_id: &str, provider: &str) -> StoreResult<Vec<Integration>>;

    /// Registers a coupon; `StoreError::Conflict` (on `code_key`) when the merchant already has
    /// the code.
    async fn insert_coupon(&self, coupon: &Coupon) -> StoreResult<()>;
    /// A merchant's coupon by id.
    async fn get_coupon(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Coupon>>;
    /// A merchant's coupon by [`Coupon::key_of`] its code.
    async fn get_coupon_by_code(&self, merchant_id: &str, code_key: &str) -> StoreResult<Option<Coupon>>;
    /// A merchant's coupons, newest first by default.
    async fn list_coupons(
        &self,
        merchant_id: &str,
        filter: &CouponFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Coupon>>;
    /// Deletes a coupon; false when it does not exist.
    async fn delete_coupon(&self, merchant_id: &str, id: &str) -> StoreResult<bool>;
    /// The coupon a sale's discount names, in LinkJolt's order: the processor's coupon id first,
    /// then the promotion-code id, then the code text (case-insensitive). With `provider`, only
    /// coupons of that provider or of none match.
    async fn find_coupon(
        &self,
        merchant_id: &str,
        provider: Option<&str>,
        coupon_id: Option<&str>,
        promotion_code_id: Option<&str>,
        code: Option<&str>,
    ) -> StoreResult<Option<Coupon>>;
}
