//! The core of operations: every business action Refline performs, written once.
//!
//! Each operation takes an [`Actor`] (which merchant, live or test, which rights, which door) and
//! a typed input, applies the rules of `refline-domain`, reads and writes through the storage
//! contract (`refline-store`), sets off its [`Effects`], and answers a value or a [`CoreError`]
//! with a stable code. Nothing here knows HTTP: the REST API, the dashboard, the MCP server, the
//! CLI, the importers and the workers are doors that parse, call an operation and render.
//!
//! Time comes from the injected [`Clock`], so every test can move it.

pub mod accounts;
pub mod actor;
pub mod affiliates;
pub mod audit;
pub mod campaigns;
pub mod clock;
pub mod connection_deliveries;
pub mod connection_input;
pub mod connections;
pub mod coupons;
pub mod effects;
pub mod error;
pub mod field_order;
pub mod fingerprint;
pub mod ids;
pub mod import;
pub mod inbound;
pub mod links;
pub mod memory;
pub mod outbound;
pub mod overview;
pub mod payouts;
pub mod plan_limits;
pub mod portal;
pub mod reports;
pub mod sales;
pub mod secrets;
pub mod sign_in;
pub mod team;
pub mod terms;

use std::sync::Arc;

pub use actor::{Actor, Door, Mode, Rights};
pub use clock::Clock;
pub use effects::{Effects, NoEffects};
pub use error::{CoreError, CoreResult, ErrorKind, Issue};
pub use plan_limits::PlanLimits;
use refline_store::Store;
use sales::writer::ConversionWriter;

/// Everything an operation needs: the store, the clock, the effects, the sale writer, the plan
/// limits and the public URL. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// What operations set off.
    pub effects: Arc<dyn Effects>,
    /// The group-commit writer every sale is recorded through.
    pub sales: ConversionWriter,
    /// Plan caps and rates.
    pub limits: PlanLimits,
    /// Base URL people reach this server at (no trailing slash), for links in answers.
    pub public_url: String,
    /// The key signing one-click unsubscribe links ([`Core::with_unsubscribe_key`]); without
    /// one, non-essential mails go out without an unsubscribe link (the command line's core).
    pub unsubscribe_key: Option<Arc<[u8; 32]>>,
    /// The group-commit writer received processor deliveries are stored through.
    pub inbox: inbound::inbox_writer::InboxWriter,
    /// The node's memory of sales' attributions (`sales::attribution_cache`), for a server
    /// whose effects clear it on every change ([`Core::with_attribution_cache`]); `None` reads
    /// each time.
    pub attributions: Option<Arc<sales::attribution_cache::AttributionCache>>,
    /// The node's memory of merchants' active processor connections
    /// (`inbound::receive::ConnectionMemory`), for a server whose effects clear it whenever a
    /// connection changes (`Effects::keys_changed`); `None` reads each time.
    pub connections: Option<Arc<inbound::receive::ConnectionMemory>>,
}

impl Core {
    /// A core over `store` that records sales through `sales` (started with
    /// [`ConversionWriter::start`]) under `limits`; `public_url` loses any trailing `/`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        effects: Arc<dyn Effects>,
        sales: ConversionWriter,
        limits: PlanLimits,
        public_url: &str,
    ) -> Self {
        let public_url = public_url.trim_end_matches('/').to_string();
        let inbox = inbound::inbox_writer::InboxWriter::new(store.clone());
        Core {
            store,
            clock,
            effects,
            sales,
            limits,
            public_url,
            unsubscribe_key: None,
            inbox,
            attributions: None,
            connections: None,
        }
    }

    /// This core remembers attributions in `cache`, which its effects must clear whenever
    /// campaigns or memberships change (`Effects::links_changed`).
    pub fn with_attribution_cache(self, cache: Arc<sales::attribution_cache::AttributionCache>) -> Self {
        Core { attributions: Some(cache), ..self }
    }

    /// This core remembers processor connections in `memory`, which its effects must clear
    /// whenever a connection changes (`Effects::keys_changed`).
    pub fn with_connection_memory(self, memory: Arc<inbound::receive::ConnectionMemory>) -> Self {
        Core { connections: Some(memory), ..self }
    }

    /// A core that records no sales (its writer is closed, so a sale through it answers
    /// `service_unavailable`), with the default plan limits: for the command line's operations
    /// and for tests of operations other than sales.
    pub fn without_sales(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        effects: Arc<dyn Effects>,
        public_url: &str,
    ) -> Self {
        Core::new(store, clock, effects, ConversionWriter::closed(), PlanLimits::default(), public_url)
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
