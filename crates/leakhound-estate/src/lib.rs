//! Estate runs: what a company's whole estate is (an inventory of git repositories,
//! folders, archives and databases), how one run of it is split into shards that run
//! as separate processes (Kubernetes Indexed Job pods, CI matrix jobs, local
//! processes), and the cache that keeps the repositories between runs.
//!
//! Scanning and recording happen elsewhere (`leakhound-scan`, `leakhound-assess`,
//! `leakhound-store`); this crate decides what each shard does.
#![deny(missing_docs)]

pub mod git_cache;
pub mod inventory;
pub mod plan;

pub use git_cache::GitCache;
pub use inventory::{GitAuth, Inventory, Secret, Source, Target};
pub use plan::{assign, Shard};

/// Why an estate run cannot go on as asked. Messages never carry a password.
#[derive(Debug, thiserror::Error)]
pub enum EstateError {
    /// The inventory is not valid.
    #[error("inventory: {0}")]
    Inventory(String),
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The shard given does not make sense.
    #[error("{0}")]
    Shard(String),
    /// A credential named by the inventory is not there.
    #[error("{0} is not set or cannot be read (the inventory names it for a credential)")]
    MissingSecret(String),
    /// git could not clone or fetch.
    #[error("git {url}: {message}")]
    Git {
        /// The repository, without credentials.
        url: String,
        /// What git said, without credentials.
        message: String,
    },
}
