//! A bounded set of recently seen keys, for dropping duplicates with flat memory.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;

/// Remembers at least the latest `at_least` keys, and at most twice that many.
///
/// Keys go into a newer generation; once it holds `at_least`, the older generation is
/// cleared and the two swap places. No key is ever removed on its own: a hash set that
/// drops its oldest key on every insert collects tombstones and doubles its table long
/// after its length stopped growing, whereas these two tables reach their final size
/// after `2 * at_least` inserts and keep it. Nothing is allocated before the first insert.
#[derive(Debug, Clone)]
pub struct RecentKeys<K> {
    newer: HashSet<K>,
    older: HashSet<K>,
    at_least: usize,
}

impl<K: Hash + Eq> RecentKeys<K> {
    /// A set remembering at least the latest `at_least` keys (none when 0).
    pub fn new(at_least: usize) -> Self {
        RecentKeys {
            newer: HashSet::new(),
            older: HashSet::new(),
            at_least,
        }
    }

    /// Whether `key` is among the keys remembered.
    pub fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.newer.contains(key) || self.older.contains(key)
    }

    /// Remember `key`; false when it was remembered already.
    pub fn insert(&mut self, key: K) -> bool {
        if self.contains(&key) {
            return false;
        }
        if self.at_least == 0 {
            return true;
        }
        if self.newer.len() >= self.at_least {
            std::mem::swap(&mut self.newer, &mut self.older);
            self.newer.clear();
        }
        self.newer.insert(key);
        true
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.newer.len() + self.older.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_repeats_of_the_latest_keys() {
        let mut recent = RecentKeys::new(100);
        for key in 0..1_000u64 {
            assert!(recent.insert(key));
            assert!(!recent.insert(key));
        }
        // The latest 100 are always remembered; nothing older than 200 inserts ago is.
        assert!((900..1_000).all(|k| recent.contains(&k)));
        assert!((0..800).all(|k| !recent.contains(&k)));
        assert!(recent.len() >= 100 && recent.len() <= 200);
    }

    #[test]
    fn memory_stops_growing_once_both_generations_filled() {
        let mut recent = RecentKeys::new(4096);
        for key in 0..2 * 4096u64 {
            recent.insert(key);
        }
        let capacity = (recent.newer.capacity(), recent.older.capacity());
        for key in 2 * 4096..200 * 4096u64 {
            recent.insert(key);
        }
        let after = (recent.newer.capacity(), recent.older.capacity());
        // The generations swap, so compare the pair in either order.
        assert!(after == capacity || after == (capacity.1, capacity.0));
    }

    #[test]
    fn zero_remembers_nothing() {
        let mut recent = RecentKeys::new(0);
        assert!(recent.insert("a".to_string()));
        assert!(recent.insert("a".to_string()));
        assert!(recent.is_empty());
        assert!(!recent.contains("a"));
    }
}
