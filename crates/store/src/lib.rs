//! The storage contract of Refline.
//!
//! `Store` is the one trait the server talks to. It is split by aggregate (merchants and keys,
//! campaigns, affiliates, conversions, audit, idempotency, reports) so no file grows wide.
//!
//! The two engines (`refline-store-sqlite`, `refline-store-postgres`) implement it from one copy
//! of the SQL, `crates/store/portable/`, which each engine crate compiles into itself as an
//! ordinary module (`#[path = "../../store/portable/mod.rs"] mod portable;`) against its own
//! native sqlx driver. That keeps a single text of every statement without writing the queries
//! generically over sqlx's database trait (whose bounds would swamp every signature), and,
//! unlike macros, it is plain code that rustfmt formats and rust-analyzer navigates. Only what
//! truly differs between engines (connection set-up, migrations, how a write transaction
//! starts, the row-claim clause) is written per engine.
//!
//! This crate holds the traits, the row types and the pure decisions the SQL relies on (batch
//! planning in [`batch`], outbox rows in [`outbox`], …), so those are unit tested once here.
//!
//! Money is integer minor units, timestamps are unix milliseconds (UTC), ids are text.

pub mod account;
pub mod affiliate;
pub mod affiliate_mail;
pub mod audit;
pub mod batch;
pub mod campaign;
pub mod cluster;
pub mod conversion;
pub mod error;
pub mod idempotency;
pub mod import;
pub mod import_page;
pub mod integration;
pub mod isolate;
pub mod mail;
pub mod merchant;
pub mod ops;
pub mod outbox;
pub mod paging;
pub mod payout;
pub mod portal;
pub mod portal_report;
pub mod processor;
pub mod render;
pub mod report;
pub mod rollup;
pub mod session;
pub mod tracking;
pub mod webhook;

pub use account::{Account, AccountStore, BrandAccess, SignUp, TeamMember, TeamMemberView, User};
pub use affiliate::contains_pattern;
pub use affiliate::AffiliateStore;
pub use affiliate::CreateAffiliateOutcome;
pub use affiliate::{
    Affiliate, AffiliateFilter, AffiliateFingerprints, AffiliateSort, Membership, MembershipView,
};
pub use affiliate_mail::{AffiliateMailStore, DigestItem};
pub use audit::AuditStore;
pub use audit::{AuditEntry, AuditFilter};
pub use campaign::CampaignStore;
pub use campaign::{Campaign, CampaignSort, CampaignStats, CampaignWithStats};
pub use cluster::{Broadcast, ClusterStore, RateLease, Subscription};
pub use conversion::{
    order_key, Attribution, ClickCheck, ClickEvidence, Conversion, ConversionFilter, ConversionSort,
};
pub use conversion::{
    AttributionQuery, ConversionStore, PendingConversion, Pricer, RecordError, RecordOutcome, RecordRequest,
    Renewal, ReviewRow,
};
pub use error::{StoreError, StoreResult};
pub use idempotency::{IdempotencyBegin, IdempotencyStore};
pub use import::{
    ImportRun, ImportStore, ImportedAffiliateWrite, ImportedAffiliateWritten, ImportedConversion,
    ImportedConversionWrite, ImportedObject, ImportedPayout,
};
pub use integration::{Coupon, CouponFilter, Integration, IntegrationStore};
pub use isolate::write_isolating;
pub use mail::{MailStore, OutgoingMail};
pub use merchant::MerchantStore;
pub use merchant::{ApiKey, KeyOwner, Merchant};
pub use ops::{Backlogs, OpsStore, PoolStats, Readiness};
pub use paging::{Page, PageRequest};
pub use payout::{
    CommissionPosition, ConversionMoney, LedgerEntry, LedgerSnapshot, NewPayout, Payout, PayoutFilter,
    PayoutItem, PayoutSettings, PayoutStore, PayoutTransition, PositionFilter,
};
pub use portal::{
    EnrollOutcome, EnrolledAffiliate, Enrollment, Invitation, Person, PersonMembership, PortalStore,
};
pub use portal_report::PortalReportStore;
pub use processor::{
    CommissionAdjustment, InboxEntry, InboxFinish, InboxResult, ProcessorKey, ProcessorPayment,
    ProcessorStore, ProcessorSubscription, RefundApplication, RefundApplied, RefundChange, RefundState,
    TrialConversion,
};
pub use report::ReportStore;
pub use report::Totals;
pub use session::{OneTimeToken, Session, SessionStore, SignInKind};
pub use tracking::{
    Click, ClickFilter, ClickTally, ClickTotals, Link, LinkFilter, LinkView, TrackingStore, TrackingTarget,
};
pub use webhook::{
    AttemptOutcome, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookStore,
};

// The attribute the traits are declared with, for implementors that name it through this crate
// (the core, the server, the integration tests).
#[doc(hidden)]
pub use async_trait::async_trait;

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
    + PayoutStore
    + AccountStore
    + SessionStore
    + MailStore
    + PortalStore
    + ImportStore
    + ClusterStore
    + Broadcast
    + OpsStore
    + AffiliateMailStore
    + PortalReportStore
    + Send
    + Sync
    + 'static
{
    /// `"sqlite"` or `"postgres"`, for logs and benchmarks.
    fn engine(&self) -> &'static str;
}
