//! Git history as an input: every blob reachable from any ref (and, on request, every
//! object in the database), each read once, with the commit that first holds it.
//!
//! The scanner does not know about git. This crate turns a repository into a stream of
//! [`Blob`]s (bytes plus where they came from) handed to a [`Visitor`] on worker
//! threads, then answers the two questions a responder asks of a finding: who
//! introduced it ([`History::commit`]) and where it left the branches
//! ([`History::removals`]).
//!
//! Objects are read in-process with gix; nothing shells out to `git`. A commit, tree or
//! blob that cannot be read becomes a [`Problem`] and the walk goes on.
#![deny(missing_docs)]

mod delta;
mod discover;
mod graph;
mod memory;
mod pack_blobs;
mod removal;
mod staged;
mod walk;

pub use discover::find_repositories;
pub use removal::RemovalQuery;
pub use walk::{HistoryOptions, HistoryStats};

use gix::ObjectId;
use leakhound_inputs::Problem;
use std::path::{Path, PathBuf};

/// Bytes of decoded delta bases kept by all reading threads together. gix's default
/// (64 entries per thread) thrashes when blobs of many files are read in commit order:
/// 128 MiB per thread took a git.git scan from 53 s to 43 s. Measured again on a quiet
/// machine, 64 MiB in all is as fast as 256 MiB (32.7 vs 32.2 CPU-s) and holds 300 MB
/// less; 16 MiB is 9% slower.
const DELTA_BASE_CACHE_BYTES: usize = 64 << 20;

/// Position of a commit in the walk's topological order (parents before children), so
/// "the first commit that introduced it" is the smallest index.
pub type CommitIndex = u32;

/// Why a repository could not be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not a git repository (nor a folder holding any).
    #[error("{path}: not a git repository: {message}")]
    NotARepository {
        /// What the user named.
        path: String,
        /// Why gix refused it.
        message: String,
    },
    /// A `--branch` or `--since-commit` revision does not resolve to a commit.
    #[error("{path}: `{rev}` does not name a commit: {message}")]
    Revision {
        /// The repository.
        path: String,
        /// The revision as given.
        rev: String,
        /// Why it did not resolve.
        message: String,
    },
    /// The references or the index could not be read at all.
    #[error("{path}: cannot read {what}: {message}")]
    Unreadable {
        /// The repository.
        path: String,
        /// `references`, `the index`…
        what: &'static str,
        /// The underlying error.
        message: String,
    },
}

/// How a blob was reached. Mirrors `leakhound_findings::Reach` without depending on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    /// Through a commit some ref reaches.
    Ref,
    /// Through a commit no ref reaches (found with `--all-objects`).
    UnreachableCommit,
    /// In the object database, in no commit (found with `--all-objects`).
    LooseObject,
    /// In the index (`--staged`).
    Staged,
}

/// One blob and where it came from. `bytes` is only valid during the visit.
#[derive(Debug)]
pub struct Blob<'a> {
    /// Git object id, hex.
    pub id: &'a str,
    /// Path in the commit (or index) that first holds it; for a blob in no tree,
    /// `unreachable/<id>`.
    pub path: &'a str,
    /// The first commit holding it, if any.
    pub commit: Option<CommitIndex>,
    /// How it was reached.
    pub reach: Reach,
    /// The content.
    pub bytes: &'a [u8],
    /// For a staged blob, the content at the same path in `HEAD` (so findings that were
    /// already committed are not reported as new).
    pub previous: Option<&'a [u8]>,
    /// How many blobs of this walk have this `path` (its versions, this one included).
    /// Once a visitor has had that many, the path does not come again: what it keeps
    /// per path can go.
    pub versions: u32,
}

/// Receives blobs and problems. Called from several threads at once.
pub trait Visitor: Sync {
    /// One blob, never the same object id twice in a walk.
    fn blob(&self, blob: &Blob<'_>);
    /// Something could not be read; the walk carries on.
    fn problem(&self, problem: Problem);
    /// Progress: `n` more commits were read.
    fn commits(&self, _n: u64) {}
}

/// A repository opened for reading.
pub struct Repository {
    repo: gix::ThreadSafeRepository,
    display: String,
}

impl Repository {
    /// Open the repository at `path` (a work tree or a bare repository). `display` is
    /// how findings name it.
    pub fn open(path: &Path, display: impl Into<String>) -> Result<Repository, GitError> {
        let display = display.into();
        // Isolated: no global or system config, no environment. The scan must not run
        // a repository's configured commands, and must read what is on disk the same
        // way for every user (a responder often inspects someone else's clone).
        let options = gix::open::Options::isolated();
        let repo = gix::ThreadSafeRepository::open_opts(path, options).map_err(|e| {
            GitError::NotARepository {
                path: display.clone(),
                message: e.to_string(),
            }
        })?;
        Ok(Repository { repo, display })
    }

    /// How findings name this repository.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The git directory.
    pub fn git_dir(&self) -> PathBuf {
        self.repo.git_dir().to_path_buf()
    }

    pub(crate) fn local(&self) -> gix::Repository {
        self.local_with_cache(8 << 20)
    }

    /// A handle with an object store of its own, for the history walk: the pack pages
    /// its tree reads bring in (390 MiB of ansible's pack) are let go when it is
    /// dropped, rather than staying mapped, and counted in the process's memory, while
    /// the blobs are read through another mapping.
    pub(crate) fn local_own_store(&self) -> gix::Repository {
        match gix::ThreadSafeRepository::open_opts(
            self.repo.git_dir(),
            gix::open::Options::isolated(),
        ) {
            Ok(own) => with_caches(own.to_thread_local(), 8 << 20),
            Err(_) => self.local(),
        }
    }

    /// A handle for one thread with `pack_cache` bytes of delta-base cache.
    pub(crate) fn local_with_cache(&self, pack_cache: usize) -> gix::Repository {
        with_caches(self.repo.to_thread_local(), pack_cache)
    }

    pub(crate) fn problem(
        &self,
        what: impl std::fmt::Display,
        message: impl std::fmt::Display,
    ) -> Problem {
        Problem::unreadable(&self.display, format!("{what}: {message}"))
    }
}

/// What a walk found out about the repository, kept to describe findings afterwards.
pub struct History<'r> {
    repo: &'r Repository,
    /// Commit ids in topological order (index = [`CommitIndex`]).
    commits: Vec<ObjectId>,
    /// The commits refs pointed at when the walk started.
    walked_from: Vec<ObjectId>,
    /// Branch tips (local and remote-tracking branches, and `HEAD`), newest first.
    branch_tips: Vec<ObjectId>,
    /// Counts for the summary.
    pub stats: HistoryStats,
    /// A handle for describing findings afterwards, opened on first use.
    local: std::cell::OnceCell<gix::Repository>,
    /// With `low_memory`: keeps the resident set to what is used until the findings
    /// are described.
    _trim: Option<memory::Trimmer>,
}

/// A commit as findings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitMeta {
    /// Full id, hex.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author e-mail.
    pub email: String,
    /// Author date, RFC 3339 with the author's offset.
    pub date: String,
}

impl History<'_> {
    /// The commits the walk started from (hex ids), for a later rescan's
    /// [`HistoryOptions::seen_tips`]: everything they reach has been read.
    pub fn tips(&self) -> Vec<String> {
        self.walked_from.iter().map(|id| id.to_string()).collect()
    }

    /// Who made commit `index`, and when. `None` if it cannot be read (it was read
    /// during the walk, so only a concurrently damaged repository gets here).
    pub fn commit(&self, index: CommitIndex) -> Option<CommitMeta> {
        let id = *self.commits.get(index as usize)?;
        let repo = self.local.get_or_init(|| self.repo.local());
        let commit = repo.find_commit(id).ok()?;
        let author = commit.author().ok()?;
        let date = author
            .time()
            .ok()
            .and_then(|t| t.format(gix::date::time::format::ISO8601_STRICT).ok())
            .unwrap_or_default();
        Some(CommitMeta {
            id: id.to_string(),
            author: author.name.to_string(),
            email: author.email.to_string(),
            date,
        })
    }

    /// Number of commits walked.
    pub fn commit_count(&self) -> usize {
        self.commits.len()
    }
}

/// `repo` with `pack_cache` bytes of delta-base cache and a small object cache.
fn with_caches(mut repo: gix::Repository, pack_cache: usize) -> gix::Repository {
    repo.objects.set_pack_cache(move || {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
            pack_cache,
        ))
    });
    // Trees and commits are looked up again when answering removals; a small object
    // cache keeps those repeat lookups off the pack decoder.
    repo.object_cache_size_if_unset(4 << 20);
    repo
}
