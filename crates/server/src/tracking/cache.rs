//! What tracking links resolve to, kept in memory so a redirect never waits on the database.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use refline_domain::LandingTemplate;
use refline_store::{Store, StoreResult, TrackingTarget};

/// A link key: `tc` + `aff`, or a short-link code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, String),
    Short(String),
}

/// A resolved link with its landing URL prepared.
#[derive(Debug)]
pub struct ResolvedLink {
    /// What the link leads to.
    pub target: TrackingTarget,
    /// The campaign's landing page with this link's tracking added, when it has a valid one.
    pub landing: Option<LandingTemplate>,
}

impl ResolvedLink {
    fn new(target: TrackingTarget) -> Arc<ResolvedLink> {
        let landing = target
            .target_url
            .as_deref()
            .and_then(|url| LandingTemplate::new(url, &target.tracking_code, &target.affiliate_id));
        Arc::new(ResolvedLink { target, landing })
    }
}

type Entry = (Option<Arc<ResolvedLink>>, Instant);

/// Resolved links (and unknown ones, so a flood of bad codes does not reach the store either).
/// Cleared whole on any change to campaigns, memberships or links made through this node; other
/// nodes' changes show after at most `ttl`.
#[derive(Debug)]
pub struct LinkCache {
    entries: RwLock<HashMap<Key, Entry>>,
    ttl: Duration,
    capacity: usize,
}

impl LinkCache {
    /// An empty cache.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        LinkCache { entries: RwLock::new(HashMap::new()), ttl, capacity }
    }

    /// What `tc` + `aff` lead to.
    pub async fn pair(
        &self,
        store: &dyn Store,
        tc: &str,
        aff: &str,
    ) -> StoreResult<Option<Arc<ResolvedLink>>> {
        let key = Key::Pair(tc.to_string(), aff.to_string());
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        let found = store.resolve_tracking_link(tc, aff).await?.map(ResolvedLink::new);
        self.insert(key, found.clone());
        Ok(found)
    }

    /// What a short-link code leads to.
    pub async fn short(&self, store: &dyn Store, code: &str) -> StoreResult<Option<Arc<ResolvedLink>>> {
        let key = Key::Short(code.to_string());
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        let found = store.resolve_short_link(code).await?.map(ResolvedLink::new);
        self.insert(key, found.clone());
        Ok(found)
    }

    /// Forgets everything (after a change that may alter any resolution).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    fn lookup(&self, key: &Key) -> Option<Option<Arc<ResolvedLink>>> {
        let entries = self.entries.read().ok()?;
        let (target, at) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| target.clone())
    }

    fn insert(&self, key: Key, target: Option<Arc<ResolvedLink>>) {
        let Ok(mut entries) = self.entries.write() else { return };
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (target, Instant::now()));
    }
}
