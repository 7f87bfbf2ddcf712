//! The history walk: commits in order, each tree and blob visited once, which names
//! every blob to read with its path and first commit; then the blobs are read (each
//! pack decoded whole in its own order where that pays, the rest one by one) and
//! handed to the visitor on worker threads.

use crate::graph::{self, Node};
use crate::{Blob, CommitIndex, GitError, History, Reach, Repository, Visitor};
use gix::hashtable::HashSet;
use gix::objs::FindExt;
use gix::ObjectId;
use leakhound_inputs::Problem;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// What to walk.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Only these refs or revisions (and their history); all refs when empty.
    pub branches: Vec<String>,
    /// Only what is new since this revision: its ancestors are not walked and the blobs
    /// of its tree count as already seen.
    pub since: Option<String>,
    /// Commit ids (hex) an earlier scan walked from (see [`History::tips`]): treated
    /// like `since`, so a rescan reads only commits added after them. Ids no longer in
    /// the repository (a force-push, a gc) are ignored.
    pub seen_tips: Vec<String>,
    /// Also objects no ref reaches: commits of deleted branches, and trees and blobs
    /// in no commit.
    pub all_objects: bool,
    /// Threads reading blobs (0: one per core).
    pub threads: usize,
    /// Blobs larger than this are skipped and reported (0: no limit).
    pub max_blob_size: u64,
    /// Hand memory back eagerly (see `memory.rs`): a smaller resident set, for some
    /// time.
    pub low_memory: bool,
}

/// Counts for the summary and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryStats {
    /// Commits walked.
    pub commits: u64,
    /// Of those, commits that no ref reaches.
    pub unreachable_commits: u64,
    /// Distinct trees read.
    pub trees: u64,
    /// Distinct blobs handed to the visitor.
    pub blobs: u64,
    /// Their total size.
    pub blob_bytes: u64,
}

struct Job {
    id: ObjectId,
    /// Shared by every version of a file.
    path: Arc<str>,
    commit: Option<CommitIndex>,
    reach: Reach,
    /// Blobs of the walk at `path` (see [`Blob::versions`]).
    versions: u32,
}

/// A pack is decoded whole, in delta-tree order, when at least this share of its
/// objects are blobs to read (1/8); fewer (`--since-commit`, one branch of many) are
/// looked up one by one.
const WHOLE_PACK_SHARE: usize = 8;

impl Repository {
    /// Walk the history and hand every distinct blob to `visitor`. Unreadable objects
    /// are reported to the visitor and skipped; only a repository whose refs cannot be
    /// listed, or a revision that does not resolve, is an error.
    pub fn walk_history(
        &self,
        options: &HistoryOptions,
        visitor: &dyn Visitor,
    ) -> Result<History<'_>, GitError> {
        crate::memory::return_freed_promptly();
        let trim = options.low_memory.then(crate::memory::Trimmer::start);
        let repo = self.local_own_store();
        let tips = graph::tips(self, &repo, &options.branches, visitor)?;
        let mut seen = Seen::default();
        let mut hidden = std::collections::HashSet::new();
        let mut bases = Vec::new();
        if let Some(rev) = &options.since {
            bases.push(graph::resolve(self, &repo, rev)?);
        }
        let mut buf = Vec::new();
        for tip in &options.seen_tips {
            if let Ok(id) = ObjectId::from_hex(tip.as_bytes()) {
                if repo.objects.find_commit(&id, &mut buf).is_ok() {
                    bases.push(id);
                }
            }
        }
        // The usual nightly rescan: every tip is one the last scan started from. Nothing
        // is new, and marking the old trees seen (every tag's tree) would be the
        // whole cost: ansible's 19 s for nothing.
        let nothing_new = options.since.is_none()
            && !options.all_objects
            && !bases.is_empty()
            && tips.trees.is_empty()
            && tips.blobs.is_empty()
            && {
                // ansible's mirror has 60,000 refs (pull requests): a set, not a scan.
                let known: std::collections::HashSet<&ObjectId> = bases.iter().collect();
                tips.commits.iter().all(|c| known.contains(c))
            };
        if nothing_new {
            hidden = tips.commits.iter().copied().collect();
        } else if !bases.is_empty() {
            hidden = graph::ancestors(&repo, &bases);
            // What the bases' trees hold is not new: mark it seen without emitting.
            for base in &bases {
                if let Ok(commit) = repo.objects.find_commit(base, &mut buf) {
                    seen.mark_tree(&repo, commit.tree());
                }
            }
        }
        let none = std::collections::HashSet::new();
        let nodes = graph::commits_in_order(self, &repo, &tips.commits, &hidden, &none, visitor);
        let threads = if options.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            options.threads
        };
        let blobs = AtomicU64::new(0);
        let blob_bytes = AtomicU64::new(0);
        let mut commits: Vec<ObjectId> = nodes.iter().map(|n| n.id).collect();
        let mut stats = HistoryStats {
            commits: nodes.len() as u64,
            ..HistoryStats::default()
        };
        let mut walker = Walker {
            r: self,
            repo: &repo,
            seen,
            jobs: Vec::new(),
            paths: HashMap::new(),
            visitor,
            trees: 0,
            drops: crate::memory::PageDrops::every(crate::memory::TREES_PER_PAGE_DROP),
        };
        walker.commits(&nodes, 0, Reach::Ref);
        for (id, name) in &tips.trees {
            walker.tree(*id, format!("{name}/"), None, Reach::Ref);
        }
        for (id, name) in &tips.blobs {
            walker.blob(*id, name.clone(), None, Reach::Ref);
        }
        if options.all_objects {
            let known: std::collections::HashSet<ObjectId> = commits
                .iter()
                .copied()
                .chain(hidden.iter().copied())
                .collect();
            let extra = walker.unreachable(&known, &mut commits);
            stats.unreachable_commits = extra;
            stats.commits += extra;
        }
        stats.trees = walker.trees;
        // The seen sets and the commit graph are done with: on ansible they are 100 MiB
        // that the reading need not carry.
        let Walker { mut jobs, .. } = walker;
        jobs.shrink_to_fit();
        drop(nodes);
        drop(repo);
        // Before the reading grows the heap again: the seen sets are ~60 MiB on ansible.
        crate::memory::give_back();
        let repo = self.local();
        count_versions(&mut jobs);
        let reader = Reader {
            r: self,
            visitor,
            max: options.max_blob_size,
            blobs: &blobs,
            blob_bytes: &blob_bytes,
        };
        let done: Vec<AtomicBool> = jobs.iter().map(|_| AtomicBool::new(false)).collect();
        reader.read_packs(&repo, &jobs, &done, threads);
        // The line tables and the packs' pages are done with: hand them back before
        // the next phase maps other pages.
        crate::memory::trim();
        // What no pack traversal handed over (loose objects, alternates, small shares
        // of a pack, damaged entries) is looked up one by one.
        std::thread::scope(|scope| {
            let (tx, rx) = crossbeam_channel::bounded::<&Job>(4096);
            for _ in 0..threads {
                let rx = rx.clone();
                let reader = &reader;
                let cache = (crate::DELTA_BASE_CACHE_BYTES / threads).max(32 << 20);
                scope.spawn(move || reader.read_blobs(rx, cache));
            }
            drop(rx);
            for (job, done) in jobs.iter().zip(&done) {
                if !done.load(Ordering::Relaxed) {
                    // Fails only when every worker is gone; nothing more can be read.
                    let _ = tx.send(job);
                }
            }
        });
        stats.blobs = blobs.into_inner();
        stats.blob_bytes = blob_bytes.into_inner();
        Ok(History {
            repo: self,
            commits,
            walked_from: tips.commits,
            branch_tips: tips.branches,
            stats,
            local: std::cell::OnceCell::new(),
            _trim: trim,
        })
    }
}

/// Count each path's blobs (paths are shared, so by pointer).
fn count_versions(jobs: &mut [Job]) {
    let mut counts: HashMap<usize, u32> = HashMap::new();
    for job in jobs.iter() {
        let n = counts
            .entry(Arc::as_ptr(&job.path) as *const u8 as usize)
            .or_default();
        *n = n.saturating_add(1);
    }
    for job in jobs.iter_mut() {
        job.versions = counts
            .get(&(Arc::as_ptr(&job.path) as *const u8 as usize))
            .copied()
            .unwrap_or(1);
    }
}

/// Job indexes by blob id, for the pack reader, which asks about every object of a pack
/// in its index's order (ascending ids): found by merging, with 4 bytes per job, not a
/// hash map of every job (17 MB on ansible) nor a binary search per object.
struct JobsById<'a> {
    jobs: &'a [Job],
    /// Job indexes, in id order.
    order: Vec<u32>,
    /// Where the last search ended in `order`.
    cursor: std::cell::Cell<usize>,
}

impl<'a> JobsById<'a> {
    fn new(jobs: &'a [Job]) -> JobsById<'a> {
        let n = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
        let mut order: Vec<u32> = (0..n).collect();
        order.sort_unstable_by_key(|&i| jobs.get(i as usize).map(|j| j.id));
        JobsById {
            jobs,
            order,
            cursor: std::cell::Cell::new(0),
        }
    }

    fn id_at(&self, p: usize) -> Option<&gix::oid> {
        self.order
            .get(p)
            .and_then(|&i| self.jobs.get(i as usize))
            .map(|j| j.id.as_ref())
    }

    /// The job whose blob is `id`. Ids asked in ascending order cost amortised O(1);
    /// any other order is answered correctly, by a binary search.
    fn find(&self, id: &gix::oid) -> Option<usize> {
        let mut p = self.cursor.get();
        if p > 0 && self.id_at(p - 1).is_some_and(|before| before >= id) {
            p = self.order.partition_point(|&i| {
                self.jobs
                    .get(i as usize)
                    .is_some_and(|j| j.id.as_ref() < id)
            });
        }
        while self.id_at(p).is_some_and(|at| at < id) {
            p += 1;
        }
        self.cursor.set(p);
        match self.id_at(p) {
            Some(at) if at == id => self.order.get(p).map(|&i| i as usize),
            _ => None,
        }
    }
}

/// Hands blobs to the visitor: whole packs in delta-tree order, then one by one.
struct Reader<'a> {
    r: &'a Repository,
    visitor: &'a dyn Visitor,
    /// Blobs larger than this are skipped and reported (0: no limit).
    max: u64,
    blobs: &'a AtomicU64,
    blob_bytes: &'a AtomicU64,
}

impl Reader<'_> {
    fn visit(&self, job: &Job, bytes: &[u8]) {
        let hex = job.id.to_string();
        if self.max > 0 && bytes.len() as u64 > self.max {
            self.too_big(job, &hex, bytes.len() as u64);
            return;
        }
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.blob_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.visitor.blob(&Blob {
            id: &hex,
            path: &job.path,
            commit: job.commit,
            reach: job.reach,
            bytes,
            previous: None,
            versions: job.versions,
        });
    }

    fn too_big(&self, job: &Job, hex: &str, size: u64) {
        self.visitor.problem(Problem::skipped(
            &format!("{}:{}", self.r.display, job.path),
            format!(
                "blob {hex} is {size} bytes, over --max-file-size ({}); skipped",
                self.max
            ),
        ));
    }

    /// Decode each pack that holds enough of the wanted blobs whole, every version
    /// once with its delta base in memory ([`crate::pack_blobs`]), and hand the
    /// wanted blobs over as they come. Looking blobs up one by one in commit order
    /// inflated the same delta bases again and again: on git.git this decodes all
    /// 849,014 objects in under 5 CPU-seconds, a third of what the lookups took for
    /// the blobs of one branch. Blobs come newest first; `seen_lines` does not mind.
    fn read_packs(
        &self,
        repo: &gix::Repository,
        jobs: &[Job],
        done: &[AtomicBool],
        threads: usize,
    ) {
        use gix::odb::pack;
        let by_id = JobsById::new(jobs);
        let Ok(dir) = std::fs::read_dir(repo.objects.store_ref().path().join("pack")) else {
            return;
        };
        let mut indexes: Vec<std::path::PathBuf> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        indexes.sort();
        for idx in indexes {
            // An unreadable pack is not an error here: its blobs are looked up one by
            // one afterwards, and what fails then is reported per blob.
            let Ok(bundle) = pack::Bundle::at(&idx, repo.object_hash()) else {
                continue;
            };
            let here = jobs
                .iter()
                .zip(done)
                .filter(|(j, d)| !d.load(Ordering::Relaxed) && bundle.index.lookup(j.id).is_some())
                .count();
            if here == 0 || here * WHOLE_PACK_SHARE < bundle.index.num_objects() as usize {
                continue;
            }
            // A blob over the size limit is not inflated; twice the limit lets a
            // large base still yield its smaller versions.
            let limit = (self.max > 0).then(|| self.max.saturating_mul(2));
            crate::pack_blobs::decode(&bundle, &|id| by_id.find(id), limit, threads, &|i, data| {
                if let (Some(job), Some(done)) = (jobs.get(i), done.get(i)) {
                    if !done.swap(true, Ordering::Relaxed) {
                        self.visit(job, data);
                    }
                }
            });
        }
    }

    fn read_blobs(&self, rx: crossbeam_channel::Receiver<&Job>, cache_bytes: usize) {
        let repo = self.r.local_with_cache(cache_bytes);
        let mut buf = Vec::new();
        for job in rx {
            if self.max > 0 {
                if let Ok(header) = repo.find_header(job.id) {
                    if header.size() > self.max {
                        self.too_big(job, &job.id.to_string(), header.size());
                        continue;
                    }
                }
            }
            match repo.objects.find_blob(&job.id, &mut buf) {
                Ok(blob) => self.visit(job, blob.data),
                Err(e) => self.visitor.problem(
                    self.r
                        .problem(format_args!("blob {} ({})", job.id, job.path), e),
                ),
            }
        }
    }
}

/// Object ids already visited. A tree seen once is not entered again, so a commit
/// costs only the trees it changed.
#[derive(Default)]
struct Seen {
    trees: HashSet<ObjectId>,
    blobs: HashSet<ObjectId>,
}

impl Seen {
    /// Mark a whole tree as seen without emitting anything (`--since-commit`).
    fn mark_tree(&mut self, repo: &gix::Repository, root: ObjectId) {
        let mut stack = vec![root];
        let mut buf = Vec::new();
        let mut drops = crate::memory::PageDrops::every(crate::memory::TREES_PER_PAGE_DROP);
        while let Some(id) = stack.pop() {
            if !self.trees.insert(id) {
                continue;
            }
            drops.lookup();
            let Ok(tree) = repo.objects.find_tree_iter(&id, &mut buf) else {
                continue;
            };
            for entry in tree.flatten() {
                match entry.mode.kind() {
                    gix::object::tree::EntryKind::Tree => stack.push(entry.oid.to_owned()),
                    gix::object::tree::EntryKind::Commit => {}
                    _ => {
                        self.blobs.insert(entry.oid.to_owned());
                    }
                }
            }
        }
    }
}

struct Walker<'a> {
    r: &'a Repository,
    repo: &'a gix::Repository,
    seen: Seen,
    /// Every blob to read, in commit order (all of them are known before reading, so
    /// packs can be decoded in their own order).
    jobs: Vec<Job>,
    /// One copy of each path.
    paths: HashMap<String, Arc<str>>,
    visitor: &'a dyn Visitor,
    trees: u64,
    drops: crate::memory::PageDrops,
}

impl Walker<'_> {
    fn commits(&mut self, nodes: &[Node], first: usize, reach: Reach) {
        for (i, node) in nodes.iter().enumerate() {
            let index = CommitIndex::try_from(first + i).unwrap_or(CommitIndex::MAX);
            self.tree(node.tree, String::new(), Some(index), reach);
        }
    }

    /// Visit the trees under `root` not seen before and queue their unseen blobs.
    fn tree(&mut self, root: ObjectId, prefix: String, commit: Option<CommitIndex>, reach: Reach) {
        if !self.seen.trees.insert(root) {
            return;
        }
        let mut stack = vec![(root, prefix)];
        let mut buf = Vec::new();
        while let Some((id, prefix)) = stack.pop() {
            self.trees += 1;
            // The walk's lookups leave the pack and its index mapped page by page
            // (430 MiB of ansible's 466 MB pack by the end of the walk).
            self.drops.lookup();
            let tree = match self.repo.objects.find_tree_iter(&id, &mut buf) {
                Ok(tree) => tree,
                Err(e) => {
                    self.visitor
                        .problem(self.r.problem(format_args!("tree {id} ({prefix})"), e));
                    continue;
                }
            };
            for entry in tree {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        self.visitor
                            .problem(self.r.problem(format_args!("tree {id} ({prefix})"), e));
                        break;
                    }
                };
                let oid = entry.oid.to_owned();
                match entry.mode.kind() {
                    gix::object::tree::EntryKind::Tree => {
                        if self.seen.trees.insert(oid) {
                            stack.push((oid, format!("{prefix}{}/", entry.filename)));
                        }
                    }
                    // A submodule: its objects live in its own repository.
                    gix::object::tree::EntryKind::Commit => {}
                    _ => {
                        if self.seen.blobs.insert(oid) {
                            let path = format!("{prefix}{}", entry.filename);
                            self.send(oid, path, commit, reach);
                        }
                    }
                }
            }
        }
    }

    fn blob(&mut self, id: ObjectId, path: String, commit: Option<CommitIndex>, reach: Reach) {
        if self.seen.blobs.insert(id) {
            self.send(id, path, commit, reach);
        }
    }

    fn send(&mut self, id: ObjectId, path: String, commit: Option<CommitIndex>, reach: Reach) {
        let path = match self.paths.get(&path) {
            Some(p) => p.clone(),
            None => {
                let p: Arc<str> = Arc::from(path.as_str());
                self.paths.insert(path, p.clone());
                p
            }
        };
        self.jobs.push(Job {
            id,
            path,
            commit,
            reach,
            versions: 0,
        });
    }

    /// `--all-objects`: walk commits no ref reaches (appending them to `commits`), then
    /// trees and blobs that no commit holds. Returns the number of extra commits.
    fn unreachable(
        &mut self,
        known: &std::collections::HashSet<ObjectId>,
        commits: &mut Vec<ObjectId>,
    ) -> u64 {
        use gix::objs::Kind;
        let all = match self.repo.objects.iter() {
            Ok(all) => all,
            Err(e) => {
                self.visitor
                    .problem(self.r.problem("the object database", e));
                return 0;
            }
        };
        let mut loose_commits = Vec::new();
        let mut loose_trees = Vec::new();
        let mut loose_blobs = Vec::new();
        let mut listed = HashSet::default();
        for id in all {
            let id = match id {
                Ok(id) => id,
                Err(e) => {
                    self.visitor
                        .problem(self.r.problem("the object database", e));
                    continue;
                }
            };
            if known.contains(&id)
                || self.seen.trees.contains(&id)
                || self.seen.blobs.contains(&id)
                || !listed.insert(id)
            {
                continue;
            }
            match self.repo.find_header(id).map(|h| h.kind()) {
                Ok(Kind::Commit) => loose_commits.push(id),
                Ok(Kind::Tree) => loose_trees.push(id),
                Ok(Kind::Blob) => loose_blobs.push(id),
                Ok(Kind::Tag) => {}
                Err(e) => self
                    .visitor
                    .problem(self.r.problem(format_args!("object {id}"), e)),
            }
        }
        let none = std::collections::HashSet::new();
        let nodes = graph::commits_in_order(
            self.r,
            self.repo,
            &loose_commits,
            &none,
            known,
            self.visitor,
        );
        let first = commits.len();
        commits.extend(nodes.iter().map(|n| n.id));
        self.commits(&nodes, first, Reach::UnreachableCommit);
        for id in loose_trees {
            self.tree(id, format!("unreachable/{id}/"), None, Reach::LooseObject);
        }
        for id in loose_blobs {
            self.blob(id, format!("unreachable/{id}"), None, Reach::LooseObject);
        }
        nodes.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_counted_per_path() {
        let a: Arc<str> = Arc::from("a.txt");
        let b: Arc<str> = Arc::from("b.txt");
        let job = |path: &Arc<str>| Job {
            id: ObjectId::null(gix::hash::Kind::Sha1),
            path: path.clone(),
            commit: None,
            reach: Reach::Ref,
            versions: 0,
        };
        let mut jobs = vec![job(&a), job(&b), job(&a), job(&a)];
        count_versions(&mut jobs);
        let counted: Vec<(&str, u32)> = jobs.iter().map(|j| (&*j.path, j.versions)).collect();
        assert_eq!(
            counted,
            [("a.txt", 3), ("b.txt", 1), ("a.txt", 3), ("a.txt", 3)]
        );
    }

    #[test]
    fn jobs_are_found_by_id_in_any_order_of_asking() {
        let id = |n: u8| ObjectId::from_bytes_or_panic(&[n; 20]);
        let path: Arc<str> = Arc::from("x");
        // Jobs in walk order, not id order.
        let jobs: Vec<Job> = [9u8, 3, 7, 1]
            .iter()
            .map(|&n| Job {
                id: id(n),
                path: path.clone(),
                commit: None,
                reach: Reach::Ref,
                versions: 1,
            })
            .collect();
        let by_id = JobsById::new(&jobs);
        // Ascending, as a pack index asks, with ids that are no job between them.
        let asked: Vec<Option<usize>> = (0..=10u8).map(|n| by_id.find(&id(n))).collect();
        assert_eq!(
            asked,
            [
                None,
                Some(3),
                None,
                Some(1),
                None,
                None,
                None,
                Some(2),
                None,
                Some(0),
                None
            ]
        );
        // Out of order, repeated, and past the end.
        for (n, want) in [
            (3u8, Some(1)),
            (9, Some(0)),
            (1, Some(3)),
            (1, Some(3)),
            (200, None),
            (7, Some(2)),
        ] {
            assert_eq!(by_id.find(&id(n)), want, "{n}");
        }
    }
}
