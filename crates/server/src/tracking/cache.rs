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

/// A bounded map of keys to values with the time they were stored.
#[derive(Debug)]
struct Shelf<V> {
    entries: HashMap<Key, (V, Instant)>,
    capacity: usize,
}

impl<V: Clone> Shelf<V> {
    fn new(capacity: usize) -> Self {
        Shelf { entries: HashMap::new(), capacity: capacity.max(1) }
    }

    fn get(&self, key: &Key, ttl: Duration) -> Option<V> {
        let (value, at) = self.entries.get(key)?;
        (at.elapsed() < ttl).then(|| value.clone())
    }

    fn put(&mut self, key: Key, value: V, ttl: Duration) {
        if self.entries.len() >= self.capacity {
            self.entries.retain(|_, (_, at)| at.elapsed() < ttl);
            // Unless a tenth is free, start over rather than scan again on the next insert.
            if self.entries.len() >= self.capacity - self.capacity / 10 {
                self.entries.clear();
            }
        }
        self.entries.insert(key, (value, Instant::now()));
    }
}

#[derive(Debug)]
struct Shelves {
    known: Shelf<Arc<ResolvedLink>>,
    unknown: Shelf<()>,
}

/// Resolved links, and separately unknown ones (so a flood of made-up codes neither reaches
/// the store each time nor pushes real links out). Cleared whole on any change to campaigns,
/// memberships or links made through this node; other nodes' changes show after at most `ttl`.
#[derive(Debug)]
pub struct LinkCache {
    shelves: RwLock<Shelves>,
    ttl: Duration,
}

impl LinkCache {
    /// An empty cache holding about `capacity` real links (and a tenth as many unknown ones).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        let shelves = Shelves { known: Shelf::new(capacity), unknown: Shelf::new(capacity / 10) };
        LinkCache { shelves: RwLock::new(shelves), ttl }
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
        if let Ok(mut shelves) = self.shelves.write() {
            shelves.known.entries.clear();
            shelves.unknown.entries.clear();
        }
    }

    fn lookup(&self, key: &Key) -> Option<Option<Arc<ResolvedLink>>> {
        let shelves = self.shelves.read().ok()?;
        if let Some(link) = shelves.known.get(key, self.ttl) {
            return Some(Some(link));
        }
        shelves.unknown.get(key, self.ttl).map(|()| None)
    }

    fn insert(&self, key: Key, target: Option<Arc<ResolvedLink>>) {
        let Ok(mut shelves) = self.shelves.write() else { return };
        match target {
            Some(link) => shelves.known.put(key, link, self.ttl),
            None => shelves.unknown.put(key, (), self.ttl),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> Key {
        Key::Short(format!("code{n}"))
    }

    #[test]
    fn unknown_codes_never_push_real_links_out() {
        let cache = LinkCache::new(Duration::from_secs(60), 100);
        let link = Arc::new(ResolvedLink {
            target: TrackingTarget {
                merchant_id: "mer_1".into(),
                campaign_id: "cmp_1".into(),
                tracking_code: "CODE".into(),
                affiliate_id: "aff_1".into(),
                target_url: None,
                cookie_window_days: 30,
                campaign_status: refline_domain::CampaignStatus::Active,
                membership_status: refline_domain::MembershipStatus::Approved,
                link_id: None,
            },
            landing: None,
        });
        cache.insert(key(0), Some(link));
        for n in 1..10_000 {
            cache.insert(key(n), None);
        }
        assert!(matches!(cache.lookup(&key(0)), Some(Some(_))), "the real link is still cached");
        assert!(matches!(cache.lookup(&key(9_999)), Some(None)), "recent unknown codes are remembered");
        cache.clear();
        assert!(cache.lookup(&key(0)).is_none());
    }
}
