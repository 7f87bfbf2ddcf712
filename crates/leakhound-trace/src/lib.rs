//! Leak tracing: is a leaked dump ours, who is in it, and which copy leaked?
//!
//! `index` turns customer tables into keyed fingerprints of each record's identifiers
//! (HMAC-SHA-256 under the user's key; no raw value is kept). `matching` reads a
//! suspect dump, finds its identifier columns with the same classifier as `assess`,
//! and counts the rows that are our records, by which identifiers and from which
//! period. `canary` makes synthetic customers from the key and a recipient's name;
//! `export` mixes them into a recipient's copy, so a leaked copy names its recipient.
#![deny(missing_docs)]

pub mod canary;
pub mod export;
pub mod identifiers;
pub mod index;
pub mod key;
pub mod matching;

pub use canary::{canaries, canary, Canary, CanarySet};
pub use index::{BuildOptions, Header, Index, IndexBuilder};
pub use key::Key;
pub use matching::{MatchReport, Matcher};

/// Why tracing failed.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The key file holds too few bytes.
    #[error("the key is {0} bytes; at least {min} are needed (make one with `leakhound trace key`)", min = key::MIN_KEY_BYTES)]
    ShortKey(usize),
    /// The index was made with another key.
    #[error(
        "this index was made with a different key: nothing in it can be matched with this one"
    )]
    WrongKey,
    /// The index file is not one, or is damaged.
    #[error("not a usable index: {0}")]
    Corrupt(String),
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The operating system gave no random bytes.
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
    /// More records than an index can number.
    #[error("more than 4,294,967,295 records: split the sources into several indexes")]
    TooManyRecords,
    /// Nothing to export.
    #[error("no table found to export")]
    NoTable,
    /// Writing CSV failed.
    #[error("writing CSV: {0}")]
    Csv(String),
}
