//! `--staged`: what `git commit` is about to record, for pre-commit hooks.

use crate::removal::lookup;
use crate::{Blob, GitError, HistoryStats, Reach, Repository, Visitor};
use gix::objs::FindExt;

impl Repository {
    /// Hand every index entry whose blob differs from `HEAD`'s to `visitor`, with the
    /// `HEAD` version as `previous`, so only what the commit adds can be reported.
    pub fn walk_staged(&self, visitor: &dyn Visitor) -> Result<HistoryStats, GitError> {
        let repo = self.local();
        let index = repo.index_or_empty().map_err(|e| GitError::Unreadable {
            path: self.display.clone(),
            what: "the index",
            message: e.to_string(),
        })?;
        // An unborn branch (first commit) has no HEAD tree: everything staged is new.
        let head_tree = repo.head_tree_id().ok().map(|id| id.detach());
        let mut stats = HistoryStats::default();
        let (mut buf, mut prev_buf, mut tree_buf) = (Vec::new(), Vec::new(), Vec::new());
        // Conflicted paths have up to three entries; each distinct blob is read once.
        let mut seen = std::collections::HashSet::new();
        for entry in index.entries() {
            if entry.mode.contains(gix::index::entry::Mode::COMMIT) || !seen.insert(entry.id) {
                continue;
            }
            let path = entry.path(&index).to_string();
            let previous_id = head_tree.and_then(|t| lookup(&repo, t, &path, &mut tree_buf));
            if previous_id == Some(entry.id) {
                continue;
            }
            let previous = previous_id
                .and_then(|id| repo.objects.find_blob(&id, &mut prev_buf).ok())
                .map(|b| b.data);
            let hex = entry.id.to_string();
            match repo.objects.find_blob(&entry.id, &mut buf) {
                Ok(blob) => {
                    stats.blobs += 1;
                    stats.blob_bytes += blob.data.len() as u64;
                    visitor.blob(&Blob {
                        id: &hex,
                        path: &path,
                        commit: None,
                        reach: Reach::Staged,
                        bytes: blob.data,
                        previous,
                        versions: 1,
                    });
                }
                Err(e) => {
                    visitor.problem(self.problem(format_args!("staged blob {hex} ({path})"), e))
                }
            }
        }
        Ok(stats)
    }
}
