//! The storage contract of Refline.
//!
//! `Store` is the one trait the server talks to. It is split by aggregate (merchants and keys,
//! campaigns, affiliates, conversions, audit, idempotency, reports) so no file grows wide.
//! The two engines (`refline-store-sqlite`, `refline-store-postgres`) implement it by expanding
//! the shared SQL in [`sql`] against their own native sqlx driver; only what truly differs
//! between engines (connection set-up, migrations, write transactions) is written per engine.
//!
//! Money is integer minor units, timestamps are unix milliseconds (UTC), ids are text.

pub mod affiliate;
pub mod audit;
pub mod batch;
pub mod campaign;
pub mod conversion;
pub mod error;
pub mod idempotency;
pub mod integration;
pub mod isolate;
pub mod merchant;
pub mod outbox;
pub mod paging;
pub mod processor;
pub mod records;
pub mod report;
#[doc(hidden)]
pub mod sql;
pub mod tracking;
pub mod webhook;

pub use affiliate::AffiliateStore;
pub use affiliate::CreateAffiliateOutcome;
pub use audit::AuditStore;
pub use campaign::CampaignStore;
pub use conversion::{
    AttributionQuery, ConversionStore, PendingConversion, Pricer, RecordError, RecordOutcome, RecordRequest,
};
pub use error::{StoreError, StoreResult};
pub use idempotency::{IdempotencyBegin, IdempotencyStore};
pub use integration::{Coupon, CouponFilter, Integration, IntegrationStore};
pub use isolate::write_isolating;
pub use merchant::MerchantStore;
pub use paging::{Page, PageRequest};
pub use processor::{
    CommissionAdjustment, InboxEntry, InboxResult, ProcessorStore, ProcessorSubscription, RefundApplication,
    RefundApplied, RefundChange, RefundState,
};
pub use records::*;
pub use report::ReportStore;
pub use tracking::{
    Click, ClickFilter, ClickTally, ClickTotals, Link, LinkFilter, LinkView, TrackingStore, TrackingTarget,
};
pub use webhook::{
    AttemptOutcome, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookStore,
};

// Re-exported so the engine crates' macro expansions can name them through this crate.
#[doc(hidden)]
pub use async_trait::async_trait;
#[doc(hidden)]
pub use refline_domain as __domain;
#[doc(hidden)]
pub use sqlx;

/// Everything the server needs from a database. Implemented by each engine crate.
pub trait Store:
    MerchantStore
    + CampaignStore
    + AffiliateStore
    + ConversionStore
    + AuditStore
    + IdempotencyStore
    + ReportStore
    + WebhookStore
    + TrackingStore
    + ProcessorStore
    + IntegrationStore
    + Send
    + Sync
    + 'static
{
    /// `"sqlite"` or `"postgres"`, for logs and benchmarks.
    fn engine(&self) -> &'static str;
}
