//! Inbound payment-processor webhooks, after the receiver stored them: the inbox worker and what
//! each delivery does (sales, renewals, trials, links between a processor's ids, refunds and
//! chargebacks). Sales go through the core's one sale path, so the cap, tiers, fraud checks,
//! outbox events and `orderId` uniqueness are exactly those of `POST /api/v1/conversions`.
//!
//! (Outbound webhooks — Refline's events sent to merchants — are a different thing, in the
//! server's `webhooks` module.)

pub mod amounts;
pub mod attribution;
mod batch;
pub mod inbox_writer;
pub mod links;
pub mod memo;
pub mod outcome;
mod payments;
mod prefetch;
pub mod process;
pub mod receive;
mod refunds;
mod sale;
mod transfers;
mod trial_payment;
mod trials;
pub mod worker;

use std::sync::Arc;

use refline_processors::Parsed;
use refline_store::{InboxEntry, Store};

use crate::{clock::Clock, sales::writer::ConversionWriter, PlanLimits};

/// Why a payment lookup did not produce an event.
#[derive(Debug)]
pub enum LookupError {
    /// Worth retrying (network, the processor unavailable).
    Transient(String),
    /// Retrying will not help (credentials, a foreign payment).
    Permanent(String),
}

/// Fetches the truth about a payment from its processor, for processors whose notifications
/// carry only an id (GoPay). The server implements it with its SSRF-safe HTTP client; the core
/// only says what it needs.
#[async_trait::async_trait]
pub trait PaymentLookup: Send + Sync {
    /// The payment `payment_id` of the delivery's connection, read as an event.
    async fn lookup(&self, entry: &InboxEntry, payment_id: &str) -> Result<Parsed, LookupError>;
}

/// Everything processing needs.
#[derive(Clone)]
pub struct InboxContext {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Group-commit writer of conversions (the same as the API's).
    pub writer: ConversionWriter,
    /// Plan caps.
    pub limits: PlanLimits,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Payment lookups for processors that send only an id.
    pub lookup: Arc<dyn PaymentLookup>,
    /// How long a claimed delivery stays with this node before another may take it over.
    pub lease_ms: i64,
    /// The writer receivers store deliveries through (the core's), which says whether
    /// deliveries are arriving.
    pub inbox: inbox_writer::InboxWriter,
    /// How many deliveries the worker claims at once, for this engine.
    pub claim: worker::ClaimSizes,
}
