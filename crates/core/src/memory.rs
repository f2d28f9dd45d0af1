//! A node's short memory of things read from the database: each answer is kept for a fixed
//! time (a second), and the whole memory is cleared when what it holds may have changed.
//!
//! The hot paths read a few rows that almost never change on every request (an API key's
//! owner, a processor connection's secrets, a sale's campaign and membership). Each memory built
//! on this one keeps the same rules:
//! - a change made through this node clears the memory at once (the operation that changes it
//!   calls [`Memory::clear`] or an `Effects` hook that does);
//! - other nodes on the same PostgreSQL clear theirs when the change is announced (a cluster
//!   topic);
//! - a change nobody announces (a command-line process on the same database) is seen within
//!   the time an answer is kept.
//!
//! Only answers that were found are kept by the callers: something missing is read again each
//! time, so an object created elsewhere works at once.
//!
//! Written here rather than taken from a caching crate because the one rule that matters — a
//! read that started before a clear must not store what it read — needs the clear's generation
//! checked under the lock the insert takes, and the rest is a map with timestamps.

use std::{
    borrow::Borrow,
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

/// How long an answer is kept by default.
pub const TTL: Duration = Duration::from_secs(1);
/// Past this many entries a memory drops what has expired (or everything).
pub const CAPACITY: usize = 50_000;

/// Key → (value, when it was read).
pub struct Memory<K, V> {
    entries: RwLock<HashMap<K, (Arc<V>, Instant)>>,
    /// Moves on every clear: a read that started before a clear must not store what it read.
    generation: AtomicU64,
    ttl: Duration,
    capacity: usize,
}

impl<K, V> Default for Memory<K, V> {
    fn default() -> Self {
        Memory::new(TTL, CAPACITY)
    }
}

impl<K, V> Memory<K, V> {
    /// A memory keeping each answer for `ttl`, with at most about `capacity` entries.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Memory { entries: RwLock::default(), generation: AtomicU64::new(0), ttl, capacity: capacity.max(1) }
    }

    /// The generation to hand back to [`Memory::put`] with what a read started now finds.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything: what it held may have changed.
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

impl<K: Eq + Hash, V> Memory<K, V> {
    /// What was read for `key` less than the memory's time ago.
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(value, _)| value.clone())
    }

    /// What was read for `key` less than the memory's time ago, else what `read` finds now,
    /// remembered when it found something (`None` is read again next time). The generation is
    /// taken before the read, so a clear while it runs leaves nothing stale behind.
    pub async fn get_or_read<Q, E, Fut>(
        &self,
        key: &Q,
        read: impl FnOnce() -> Fut,
    ) -> Result<Option<Arc<V>>, E>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(found) = self.get(key) {
            return Ok(Some(found));
        }
        let generation = self.generation();
        Ok(read().await?.map(|found| self.put(generation, key.to_owned(), found)))
    }

    /// Remembers `value`, read since `generation`: not if the memory was cleared meanwhile (the
    /// read may predate the change that cleared it). Answers the value either way.
    pub fn put(&self, generation: u64, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock `clear` takes too.
        if self.generation.load(Ordering::Acquire) != generation {
            return value;
        }
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity - self.capacity / 10 {
                entries.clear();
            }
        }
        entries.insert(key, (value.clone(), Instant::now()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_for_its_time_and_a_clear_forgets_it() {
        let memory: Memory<String, u32> = Memory::new(Duration::from_millis(200), 10);
        let generation = memory.generation();
        memory.put(generation, "a".into(), 1);
        assert_eq!(memory.get("a").as_deref(), Some(&1));
        memory.clear();
        assert_eq!(memory.get("a"), None, "cleared");
        let generation = memory.generation();
        memory.put(generation, "a".into(), 2);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(memory.get("a"), None, "expired");
    }

    #[test]
    fn a_read_from_before_a_clear_is_not_kept() {
        let memory: Memory<String, u32> = Memory::default();
        let before = memory.generation();
        memory.clear();
        assert_eq!(*memory.put(before, "a".into(), 1), 1, "the reader still gets its answer");
        assert_eq!(memory.get("a"), None, "but it is not remembered");
    }

    #[tokio::test]
    async fn get_or_read_reads_once_keeps_what_it_found_and_not_what_a_clear_overtook() {
        let memory: Memory<String, u32> = Memory::default();
        let reads = std::cell::Cell::new(0);
        let read = |value: Option<u32>| {
            reads.set(reads.get() + 1);
            async move { Ok::<_, ()>(value) }
        };
        assert_eq!(memory.get_or_read("a", || read(Some(1))).await, Ok(Some(Arc::new(1))));
        assert_eq!(memory.get_or_read("a", || read(Some(2))).await, Ok(Some(Arc::new(1))), "remembered");
        assert_eq!(reads.get(), 1);
        assert_eq!(memory.get_or_read("b", || read(None)).await, Ok(None));
        assert_eq!(memory.get_or_read("b", || read(Some(3))).await, Ok(Some(Arc::new(3))), "nothing kept");
        let answer = memory
            .get_or_read("c", || {
                memory.clear();
                read(Some(4))
            })
            .await;
        assert_eq!(answer, Ok(Some(Arc::new(4))), "the reader still gets its answer");
        assert_eq!(memory.get("c"), None, "but a read a clear overtook is not kept");
    }

    #[test]
    fn a_full_memory_makes_room() {
        let memory: Memory<u32, u32> = Memory::new(Duration::from_secs(60), 10);
        for n in 0..25 {
            memory.put(memory.generation(), n, n);
        }
        let kept = (0..25).filter(|n| memory.get(n).is_some()).count();
        assert!(kept <= 10, "{kept} entries kept");
        assert_eq!(memory.get(&24).as_deref(), Some(&24), "the newest is kept");
    }
}
