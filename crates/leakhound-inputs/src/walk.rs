//! Enumerating the files under the paths a user gave.

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkParallel, WalkState};
use std::path::{Path, PathBuf};

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Honour .gitignore / .ignore files. Off by default: a forgotten, ignored `.env`
    /// is exactly what leaks.
    pub respect_gitignore: bool,
    /// Globs of paths to leave out (`--exclude`).
    pub exclude: Vec<String>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Files never scanned, wherever the walk meets them: leakhound's own datastore
    /// (and its journal) when it sits inside the scanned tree. Canonical paths.
    pub skip_files: Vec<PathBuf>,
}

/// Why a walk could not start.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// An `--exclude` glob is malformed.
    #[error("invalid --exclude glob `{glob}`: {message}")]
    BadGlob {
        /// The glob.
        glob: String,
        /// The parser's complaint.
        message: String,
    },
}

/// What the walker hands each worker.
pub enum Entry {
    /// A regular file to scan.
    File(PathBuf),
    /// A folder holding an OCI image layout (`oci-layout`, `index.json`, `blobs/`):
    /// read as one image, layer by layer, not as loose blobs.
    Image(PathBuf),
    /// Something that could not be listed or opened (permissions, broken link).
    Error(String, String),
}

/// Build a parallel walker over `roots`. `.git` directories are never entered: history
/// is scanned as history, not as packed object files.
pub fn walker(roots: &[PathBuf], opts: &WalkOptions) -> Result<WalkParallel, WalkError> {
    let first = roots
        .first()
        .map(PathBuf::as_path)
        .unwrap_or(Path::new("."));
    let mut b = WalkBuilder::new(first);
    for r in roots.iter().skip(1) {
        b.add(r);
    }
    let respect = opts.respect_gitignore;
    b.hidden(false)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .ignore(respect)
        .parents(respect)
        .require_git(false)
        .follow_links(false)
        .threads(opts.threads)
        .filter_entry({
            let skip = opts.skip_files.clone();
            move |e| e.file_name() != ".git" && !is_skipped(&skip, e.path())
        });
    if !opts.exclude.is_empty() {
        let mut ob = OverrideBuilder::new(first);
        for g in &opts.exclude {
            ob.add(&format!("!{g}")).map_err(|e| WalkError::BadGlob {
                glob: g.clone(),
                message: e.to_string(),
            })?;
        }
        let ov = ob.build().map_err(|e| WalkError::BadGlob {
            glob: opts.exclude.join(","),
            message: e.to_string(),
        })?;
        b.overrides(ov);
    }
    Ok(b.build_parallel())
}

/// Cheap name test first; only a file named like a skipped one is canonicalised.
fn is_skipped(skip: &[PathBuf], path: &Path) -> bool {
    let name = path.file_name();
    skip.iter()
        .any(|s| s.file_name() == name && std::fs::canonicalize(path).is_ok_and(|c| &c == s))
}

/// Walk `roots` in parallel, calling `visit` from worker threads for every file and
/// every listing error. `make_visitor` is called once per worker thread.
pub fn walk<F, V>(roots: &[PathBuf], opts: &WalkOptions, make_visitor: F) -> Result<(), WalkError>
where
    F: Fn() -> V + Sync,
    V: FnMut(Entry) + Send,
{
    // Named files alone (a pre-commit hook's staged files, `scan .env`): no walker.
    // The parallel walker's idle workers wait for each other in 1 ms sleeps before
    // they stop, several milliseconds of a start-up budget of twenty.
    let plain_files = opts.exclude.is_empty()
        && !roots.is_empty()
        && roots.iter().all(|r| {
            r.file_name().is_some_and(|n| n != ".git")
                && std::fs::symlink_metadata(r).is_ok_and(|m| m.is_file())
                && !is_skipped(&opts.skip_files, r)
        });
    if plain_files {
        let mut visit = make_visitor();
        for r in roots {
            visit(Entry::File(r.clone()));
        }
        return Ok(());
    }
    let walker = walker(roots, opts)?;
    walker.run(|| {
        let mut visit = make_visitor();
        Box::new(move |result| {
            match result {
                Ok(entry) => {
                    let kind = entry.file_type();
                    if kind.is_some_and(|t| t.is_file()) {
                        visit(Entry::File(entry.into_path()));
                    } else if kind.is_some_and(|t| t.is_dir())
                        && entry.path().join("oci-layout").is_file()
                    {
                        visit(Entry::Image(entry.into_path()));
                        return WalkState::Skip;
                    }
                }
                Err(err) => {
                    let (path, message) = path_and_cause(&err);
                    visit(Entry::Error(path, message));
                }
            }
            WalkState::Continue
        })
    });
    Ok(())
}

/// The path a walk error is about and its cause without the path (the warning names
/// the path once, not as `/x: /x: No such file…`).
fn path_and_cause(err: &ignore::Error) -> (String, String) {
    match err {
        ignore::Error::WithPath { path, err } => {
            (path.display().to_string(), path_and_cause(err).1)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            path_and_cause(err)
        }
        other => (String::from("?"), other.to_string()),
    }
}
