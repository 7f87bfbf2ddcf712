//! The user's secret key and the keyed hashes made with it.
//!
//! Every fingerprint is HMAC-SHA-256 under this key. A plain hash would not do: there
//! are only about 10^11 valid resident IDs and 10^9 mobile numbers, so anyone holding
//! an index of plain SHA-256 digests could hash every possible value in hours and read
//! the index back as a customer list. Without the key the index is random numbers.

use crate::TraceError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// Shorter keys are refused: the key is all that protects the index.
pub const MIN_KEY_BYTES: usize = 16;

/// A loaded key, with the HMAC state prepared once (cloning it is cheaper than keying
/// a new one for every value).
#[derive(Clone)]
pub struct Key {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key from raw bytes (surrounding whitespace is not part of it, so an editor's
    /// final newline does not change the key).
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, TraceError> {
        let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
        let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace());
        let trimmed = match (start, end) {
            (Some(s), Some(e)) => &bytes[s..=e],
            _ => &[][..],
        };
        if trimmed.len() < MIN_KEY_BYTES {
            return Err(TraceError::ShortKey(trimmed.len()));
        }
        let mac = Hmac::<Sha256>::new_from_slice(trimmed)
            .map_err(|_| TraceError::ShortKey(trimmed.len()))?;
        Ok(Key { mac })
    }

    /// The key in the file at `path`.
    pub fn load(path: &Path) -> Result<Key, TraceError> {
        let bytes =
            std::fs::read(path).map_err(|e| TraceError::Io(path.display().to_string(), e))?;
        Key::from_bytes(&bytes)
    }

    /// A new random key as 64 hex characters (32 bytes from the operating system).
    pub fn generate() -> Result<String, TraceError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| TraceError::Random(e.to_string()))?;
        Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The full 32-byte HMAC of `parts` (joined with a separator no part contains).
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.mac.clone();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                m.update(&[0xff]);
            }
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The 64-bit fingerprint of `value` as an identifier with domain tag `tag`, so
    /// the same text under two kinds gives two fingerprints. 64 bits keep the index
    /// small; with 10^9 entries a lookup meets a false match about once in 2x10^10.
    pub fn fingerprint(&self, tag: u8, value: &str) -> u64 {
        let mut m = self.mac.clone();
        m.update(&[tag]);
        m.update(value.as_bytes());
        let out = m.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_le_bytes(first)
    }

    /// A short value that tells whether an index was made with this key, without
    /// saying anything about the key.
    pub fn check_value(&self) -> String {
        self.mac(&[b"leakhound trace key check v1"])[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Deterministic random numbers drawn from the key and a label: the same key and label
/// give the same sequence on every machine, and no one without the key can predict it.
pub struct Draw<'k> {
    key: &'k Key,
    label: Vec<u8>,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl<'k> Draw<'k> {
    /// A sequence for `label`.
    pub fn new(key: &'k Key, label: &[&[u8]]) -> Draw<'k> {
        Draw {
            key,
            label: label.join(&0xfe),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        if self.used + 8 > 32 {
            self.block = self.key.mac(&[&self.label, &self.counter.to_le_bytes()]);
            self.counter += 1;
            self.used = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.block[self.used..self.used + 8]);
        self.used += 8;
        u64::from_le_bytes(b)
    }

    /// A number in `0..n` (`n` > 0); the bias is below 2^-40 for any n used here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// One item of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_short_ones_refused() {
        let a = Key::from_bytes(b"0123456789abcdef0123\n").unwrap_or_else(|e| panic!("{e}"));
        let b = Key::from_bytes(b"  0123456789abcdef0123").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.fingerprint(1, "x"), b.fingerprint(1, "x"));
        assert!(matches!(
            Key::from_bytes(b"short\n"),
            Err(TraceError::ShortKey(5))
        ));
        assert!(Key::from_bytes(b"\n\n").is_err());
    }

    #[test]
    fn fingerprints_depend_on_key_tag_and_value() {
        let k = Key::from_bytes(b"0123456789abcdef0123").unwrap_or_else(|e| panic!("{e}"));
        let other = Key::from_bytes(b"0123456789abcdef0124").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            k.fingerprint(1, "13800138000"),
            k.fingerprint(1, "13800138000")
        );
        assert_ne!(
            k.fingerprint(1, "13800138000"),
            k.fingerprint(2, "13800138000")
        );
        assert_ne!(
            k.fingerprint(1, "13800138000"),
            other.fingerprint(1, "13800138000")
        );
        assert_ne!(k.check_value(), other.check_value());
    }

    #[test]
    fn draws_repeat_for_a_label_and_differ_between_labels() {
        let k = Key::from_bytes(b"0123456789abcdef0123").unwrap_or_else(|e| panic!("{e}"));
        let a: Vec<u64> = {
            let mut d = Draw::new(&k, &[b"a"]);
            (0..10).map(|_| d.next_u64()).collect()
        };
        let again: Vec<u64> = {
            let mut d = Draw::new(&k, &[b"a"]);
            (0..10).map(|_| d.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut d = Draw::new(&k, &[b"b"]);
            (0..10).map(|_| d.next_u64()).collect()
        };
        assert_eq!(a, again);
        assert_ne!(a, b);
        let generated = Key::generate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(generated.len(), 64);
    }
}
