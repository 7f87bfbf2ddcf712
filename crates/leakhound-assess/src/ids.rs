//! Sets and maps keyed by identifier hashes. The keys are already uniform 64-bit
//! hashes (xxh3 of a kind and a normalised value), so they are used as their own
//! hash: SipHash over them again cost about a tenth of `assess`'s time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are hashes already: a `u64` key is its own hash.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Prehashed(u64);

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

/// A set of identifier hashes.
pub(crate) type IdSet = HashSet<u64, BuildHasherDefault<Prehashed>>;
/// A map from identifier hashes.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

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
}
