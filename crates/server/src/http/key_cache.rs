//! The node's memory of API keys: who owns a key hash, kept for a second.
//!
//! Every `/api/v1` and `/mcp` request names a key; reading its owner (key, merchant, plan,
//! brand) from the database each time put a read in front of every request. A key's owner
//! changes rarely (revocation, archiving the brand, the business's name or currency), so a
//! node keeps what it read for [`TTL`]:
//! - a change through this node's core (API, dashboard, MCP) clears the cache at once
//!   (`Effects::keys_changed`), so revoking a key there takes effect on the next request;
//! - other nodes on the same PostgreSQL clear theirs when the change is announced
//!   (`cluster::Topic::Keys`, a `NOTIFY`);
//! - a change nobody announces (the `refline key revoke` command, another process on a SQLite
//!   file) is seen within [`TTL`].
//!
//! Only keys found are kept: an unknown key is read again each time (its requests are
//! rate-limited per client IP), so a key created by the command line works at once.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use refline_store::{KeyOwner, Store, StoreResult};

/// How long an owner read from the database answers for its key.
pub const TTL: Duration = Duration::from_secs(1);
/// Past this many keys the cache drops what has expired (or everything).
const CAPACITY: usize = 50_000;

/// Key hash → its owner, as read at a time.
#[derive(Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<String, (Arc<KeyOwner>, Instant)>>,
    /// Moves on every clear: a read that started before a clear must not store what it read.
    generation: AtomicU64,
}

impl KeyCache {
    /// The owner of the key whose SHA-256 is `hash`: from memory when read less than [`TTL`]
    /// ago, else from `store`.
    pub async fn owner(&self, store: &dyn Store, hash: &str) -> StoreResult<Option<Arc<KeyOwner>>> {
        let fresh = self.read().get(hash).filter(|(_, at)| at.elapsed() < TTL).map(|(o, _)| o.clone());
        if let Some(owner) = fresh {
            return Ok(Some(owner));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(owner) = store.find_key_owner(hash).await? else { return Ok(None) };
        let owner = Arc::new(owner);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock `clear` takes too: a clear between the read above and here
        // means the owner may already be stale.
        if self.generation.load(Ordering::Acquire) == generation {
            if entries.len() >= CAPACITY {
                entries.retain(|_, (_, at)| at.elapsed() < TTL);
                if entries.len() >= CAPACITY - CAPACITY / 10 {
                    entries.clear();
                }
            }
            entries.insert(hash.to_string(), (owner.clone(), Instant::now()));
        }
        Ok(Some(owner))
    }

    /// Forgets every key: a key, its brand or its business changed.
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, (Arc<KeyOwner>, Instant)>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }
}
