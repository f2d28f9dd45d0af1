//! Unique-visitor counting: the same visitor on the same link counts once per hour.

use std::{collections::HashMap, hash::Hash};

/// A repeat within this many ms of the last counted visit is not a new visitor.
pub const UNIQUE_WINDOW_MS: i64 = 60 * 60 * 1000;

/// Remembers when each (visitor, link) key was last counted. Memory is bounded: past
/// `capacity` keys, expired ones are dropped, and if that frees less than a tenth the whole
/// memory is (a flood of distinct visitors then over-counts uniques for an hour instead of
/// exhausting memory or scanning on every click).
#[derive(Debug)]
pub struct UniqueWindow<K> {
    last_counted: HashMap<K, i64>,
    capacity: usize,
}

impl<K: Hash + Eq> UniqueWindow<K> {
    /// An empty window holding at most about `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        UniqueWindow { last_counted: HashMap::new(), capacity: capacity.max(1) }
    }

    /// Whether a visit of `key` at `now_ms` is unique; a unique visit restarts the key's hour.
    pub fn observe(&mut self, key: K, now_ms: i64) -> bool {
        if let Some(last) = self.last_counted.get(&key) {
            if now_ms - *last < UNIQUE_WINDOW_MS {
                return false;
            }
        }
        if self.last_counted.len() >= self.capacity {
            self.last_counted.retain(|_, last| now_ms - *last < UNIQUE_WINDOW_MS);
            // Unless a tenth is free afterwards, start over: otherwise every new visitor near
            // the bound would pay for another full pass.
            if self.last_counted.len() >= self.capacity - self.capacity / 10 {
                self.last_counted.clear();
            }
        }
        self.last_counted.insert(key, now_ms);
        true
    }

    /// Forgets `key`: the visit [`Self::observe`] just counted turned out not to be unique (a
    /// visit another node counted decides), so this node must not extend the key's hour.
    pub fn forget(&mut self, key: &K) {
        self.last_counted.remove(key);
    }

    /// Keys remembered.
    pub fn len(&self) -> usize {
        self.last_counted.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.last_counted.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_within_the_hour_is_not_unique() {
        let mut window = UniqueWindow::new(100);
        assert!(window.observe(("v1", "l1"), 0));
        assert!(!window.observe(("v1", "l1"), 1_000));
        assert!(!window.observe(("v1", "l1"), UNIQUE_WINDOW_MS - 1));
        assert!(window.observe(("v1", "l1"), UNIQUE_WINDOW_MS));
        assert!(!window.observe(("v1", "l1"), UNIQUE_WINDOW_MS + 10));
    }

    #[test]
    fn a_forgotten_visit_counts_again() {
        let mut window = UniqueWindow::new(100);
        assert!(window.observe("v1", 0));
        window.forget(&"v1");
        assert!(window.observe("v1", 10));
        assert!(!window.observe("v1", 20));
    }

    #[test]
    fn other_visitors_and_links_are_separate() {
        let mut window = UniqueWindow::new(100);
        assert!(window.observe(("v1", "l1"), 0));
        assert!(window.observe(("v2", "l1"), 0));
        assert!(window.observe(("v1", "l2"), 0));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut window = UniqueWindow::new(10);
        for i in 0..1_000 {
            assert!(window.observe(i, 5));
            assert!(window.len() <= 10);
        }
        let mut window = UniqueWindow::new(10);
        for i in 0..10 {
            window.observe(i, 0);
        }
        // Expired keys make room without forgetting fresh ones.
        window.observe(100, UNIQUE_WINDOW_MS + 1);
        assert_eq!(window.len(), 1);
    }
}
