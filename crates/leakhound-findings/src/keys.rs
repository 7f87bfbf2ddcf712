//! Sets and maps keyed by value hashes, for counting distinct values by the million
//! (`assess`'s identifiers and people, `scan`'s table columns). The keys are already
//! uniform 64-bit hashes (xxh3, or a fingerprint's key), so they are used as their own
//! hash: SipHash over them again cost about a tenth of `assess`'s time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are hashes already: a `u64` key is its own hash.
#[derive(Debug, Default, Clone, Copy)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are used; anything else is folded in, never lost.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
        self.0 = xxhash_rust::xxh3::xxh3_64(&self.0.to_le_bytes());
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Set = HashSet<u64, BuildHasherDefault<Prehashed>>;
type Map<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// Shards of the big sets and maps. A hash table that grows holds its old and its new
/// slots at once: one table of millions of contacts peaked at 1.5 times its size (756
/// MiB for 10M rows, of which 200 MiB was the old slots). In shards, one shard grows
/// at a time.
const SHARDS: usize = 64;

/// The shard of a key: bits the tables themselves do not use (they take the low bits
/// for the slot and the top seven as its tag).
fn shard(key: u64) -> usize {
    ((key >> 48) as usize) % SHARDS
}

/// A set of value hashes, in 64 shards.
#[derive(Clone, Debug)]
pub struct IdSet(Vec<Set>);

impl Default for IdSet {
    fn default() -> Self {
        IdSet(vec![Set::default(); SHARDS])
    }
}

impl IdSet {
    /// Add a key; `true` if it was not there.
    pub fn insert(&mut self, key: u64) -> bool {
        self.0[shard(key)].insert(key)
    }
    /// Whether the key is there.
    pub fn contains(&self, key: &u64) -> bool {
        self.0[shard(*key)].contains(key)
    }
    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.iter().map(Set::len).sum()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Set::is_empty)
    }
    /// The keys, in no order.
    pub fn iter(&self) -> impl Iterator<Item = &u64> {
        self.0.iter().flatten()
    }
}

impl Extend<u64> for IdSet {
    fn extend<I: IntoIterator<Item = u64>>(&mut self, keys: I) {
        for k in keys {
            self.insert(k);
        }
    }
}

impl IntoIterator for IdSet {
    type Item = u64;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Set>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().flatten()
    }
}

/// A map from value hashes, in 64 shards.
#[derive(Clone, Debug)]
pub struct IdMap<V>(Vec<Map<V>>);

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap((0..SHARDS).map(|_| Map::default()).collect())
    }
}

impl<V> IdMap<V> {
    /// The entry of a key, to read or fill.
    pub fn entry(&mut self, key: u64) -> std::collections::hash_map::Entry<'_, u64, V> {
        self.0[shard(key)].entry(key)
    }
    /// The value of a key.
    pub fn get(&self, key: &u64) -> Option<&V> {
        self.0[shard(*key)].get(key)
    }
    /// The value of a key, to change.
    pub fn get_mut(&mut self, key: &u64) -> Option<&mut V> {
        self.0[shard(*key)].get_mut(key)
    }
    /// Set a key's value; the old one, if any.
    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        self.0[shard(key)].insert(key, value)
    }
    /// Take a key out; its value, if it was there.
    pub fn remove(&mut self, key: &u64) -> Option<V> {
        self.0[shard(*key)].remove(key)
    }
    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.iter().map(Map::len).sum()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Map::is_empty)
    }
    /// The keys, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &V)> {
        self.0.iter().flatten()
    }
    /// The values, in no order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().flat_map(Map::values)
    }
}

impl<'a, V> IntoIterator for &'a IdMap<V> {
    type Item = (&'a u64, &'a V);
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Map<V>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().flatten()
    }
}

impl<V> IntoIterator for IdMap<V> {
    type Item = (u64, V);
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Map<V>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().flatten()
    }
}

impl<V> FromIterator<(u64, V)> for IdMap<V> {
    fn from_iter<I: IntoIterator<Item = (u64, V)>>(pairs: I) -> Self {
        let mut map = IdMap::default();
        for (k, v) in pairs {
            map.insert(k, v);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_kept_apart_and_found_again() {
        let mut s = IdSet::default();
        for i in 0..10_000u64 {
            s.insert(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()));
        }
        assert_eq!(s.len(), 10_000);
        assert!(s.contains(&xxhash_rust::xxh3::xxh3_64(&7u64.to_le_bytes())));
        assert!(!s.contains(&1));
    }

    #[test]
    fn shards_hold_what_one_table_would() {
        // Keys that differ only in their shard bits, only in their slot bits, and
        // random ones: every one kept once, counted, iterated and moved.
        let keys: Vec<u64> = (0..64u64)
            .map(|i| i << 48)
            .chain(0..1000)
            .chain((0..5000u64).map(|i| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())))
            .collect::<std::collections::BTreeSet<u64>>()
            .into_iter()
            .collect();
        let mut set = IdSet::default();
        let mut map: IdMap<u32> = IdMap::default();
        for (n, &k) in keys.iter().chain(&keys).enumerate() {
            set.insert(k);
            *map.entry(k).or_default() += 1;
            assert!(map.get(&k).is_some_and(|&v| v >= 1), "{n}");
        }
        let want: std::collections::BTreeSet<u64> = keys.iter().copied().collect();
        assert_eq!(set.len(), want.len());
        assert_eq!(map.len(), want.len());
        assert!(map.values().all(|&v| v == 2));
        assert_eq!(
            set.iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>(),
            want
        );
        assert_eq!(
            set.clone()
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>(),
            want
        );
        assert_eq!(map.remove(&7), Some(2));
        assert_eq!(map.get_mut(&7), None);
        assert_eq!((&map).into_iter().count(), want.len() - 1);
        let moved: IdMap<u32> = map.into_iter().collect();
        assert_eq!(moved.len(), want.len() - 1);
        let mut more = IdSet::default();
        more.extend(set);
        assert_eq!(more.len(), want.len());
        assert!(IdSet::default().is_empty() && IdMap::<u8>::default().is_empty());
    }
}
