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

use std::sync::Arc;

use refline_core::memory::Memory;
use refline_store::{KeyOwner, Store, StoreResult};

pub use refline_core::memory::TTL;

/// Key hash → its owner, as read at a time (`refline_core::memory`).
#[derive(Default)]
pub struct KeyCache {
    memory: Memory<String, KeyOwner>,
}

impl KeyCache {
    /// The owner of the key whose SHA-256 is `hash`: from memory when read less than [`TTL`]
    /// ago, else from `store`.
    pub async fn owner(&self, store: &dyn Store, hash: &str) -> StoreResult<Option<Arc<KeyOwner>>> {
        self.memory.get_or_read(hash, || store.find_key_owner(hash)).await
    }

    /// Forgets every key: a key, its brand or its business changed.
    pub fn clear(&self) {
        self.memory.clear();
    }
}
