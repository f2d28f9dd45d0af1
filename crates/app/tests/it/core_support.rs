//! Shared by the tests of core operations without HTTP: a core over a fresh store with a
//! manual clock and counting effects, actors, and a world of one merchant with a campaign and
//! an approved affiliate.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex,
};

use refline_core::{
    audit::AuditRecord, clock::ManualClock, Actor, Core, CoreError, Door, Effects, Mode, Rights,
};
use refline_store::{Membership, Store};

use crate::{
    store_contract::{campaign, unique, world},
    support::{fresh_store, Engine},
};

/// Effects counted, so tests see what an operation set off.
#[derive(Default)]
pub struct CountingEffects {
    pub outbox: AtomicUsize,
    pub links: AtomicUsize,
    pub inbox: AtomicUsize,
    pub audited: Mutex<Vec<AuditRecord>>,
}

impl CountingEffects {
    pub fn outbox(&self) -> usize {
        self.outbox.load(Ordering::SeqCst)
    }
    pub fn links(&self) -> usize {
        self.links.load(Ordering::SeqCst)
    }
    pub fn inbox(&self) -> usize {
        self.inbox.load(Ordering::SeqCst)
    }
    /// The audit records so far, oldest first.
    pub fn audited(&self) -> Vec<AuditRecord> {
        self.audited.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Effects for CountingEffects {
    fn outbox_written(&self) {
        self.outbox.fetch_add(1, Ordering::SeqCst);
    }
    fn links_changed(&self) {
        self.links.fetch_add(1, Ordering::SeqCst);
    }
    fn inbox_written(&self) {
        self.inbox.fetch_add(1, Ordering::SeqCst);
    }
    async fn audited(&self, record: AuditRecord) {
        self.audited.lock().unwrap().push(record);
    }
}

/// A core over a fresh store, its clock ten days ahead of the wall clock (so a timestamp
/// taken from the wall clock instead is caught), the merchant's world, and a stranger.
pub struct CoreWorld {
    pub core: Core,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub effects: Arc<CountingEffects>,
    pub merchant: String,
    pub campaign: String,
    pub affiliate: String,
    pub stranger: String,
    _dir: Option<tempfile::TempDir>,
}

/// How far ahead of the wall clock the injected clock starts.
pub const AHEAD_MS: i64 = 10 * 86_400_000;

impl CoreWorld {
    pub async fn new(engine: &Engine) -> CoreWorld {
        let (store, dir) = fresh_store(engine).await;
        let clock = Arc::new(ManualClock::new());
        clock.advance(AHEAD_MS);
        let effects = Arc::new(CountingEffects::default());
        let core =
            Core::without_sales(store.clone(), clock.clone(), effects.clone(), "https://refline.test/");
        let (merchant, campaign, affiliate) = world(&store).await;
        let (stranger, _, _) = world(&store).await;
        CoreWorld { core, store, clock, effects, merchant, campaign, affiliate, stranger, _dir: dir }
    }

    /// The merchant, live, with write rights, through the dashboard.
    pub fn owner(&self) -> Actor {
        actor(&self.merchant, Mode::Live, Rights::ReadWrite)
    }

    /// The merchant with a read-only key.
    pub fn reader(&self) -> Actor {
        Actor {
            door: Door::ApiKey { key_id: "key_ro".into() },
            ..actor(&self.merchant, Mode::Live, Rights::ReadOnly)
        }
    }

    /// The merchant with a test key.
    pub fn tester(&self) -> Actor {
        actor(&self.merchant, Mode::Test, Rights::ReadWrite)
    }

    /// Another merchant with full rights.
    pub fn intruder(&self) -> Actor {
        actor(&self.stranger, Mode::Live, Rights::ReadWrite)
    }

    /// A second campaign of the merchant with the same affiliate approved on it.
    pub async fn second_campaign(&self) -> String {
        let id = unique("camp");
        self.store.insert_campaign(&campaign(&id, &self.merchant, &unique("TC")[3..11])).await.unwrap();
        let membership = Membership {
            campaign_id: id.clone(),
            affiliate_id: self.affiliate.clone(),
            merchant_id: self.merchant.clone(),
            status: refline_domain::MembershipStatus::Approved,
            joined_at: 1,
            updated_at: 1,
        };
        self.store.insert_membership(&membership).await.unwrap();
        id
    }

    /// True when `at` came from the injected clock (not the wall clock).
    pub fn stamped_by_clock(&self, at: i64) -> bool {
        let wall = refline_core::clock::now_ms();
        at >= wall + AHEAD_MS - 60_000 && at <= refline_core::clock::Clock::now(self.clock.as_ref())
    }
}

pub fn actor(merchant: &str, mode: Mode, rights: Rights) -> Actor {
    Actor { merchant_id: merchant.into(), mode, rights, currency: "eur".into(), door: Door::Cli }
}

/// The top-level field of every problem of a validation error, in order.
pub fn fields(err: &CoreError) -> Vec<String> {
    let details = err.details.as_deref().and_then(|d| d.as_array().cloned()).unwrap_or_default();
    details.iter().map(|d| d["path"][0].as_str().unwrap_or("").to_string()).collect()
}
