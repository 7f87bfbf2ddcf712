//! Where a value left the branches: the answer to "is it still out there, and since
//! when not?".

use crate::History;
use gix::objs::FindExt;
use gix::ObjectId;
use std::collections::{HashMap, HashSet};

/// One finding to place: the path it was found at (in the commit, without archive
/// layers) and every blob at that path that holds it.
#[derive(Debug, Clone)]
pub struct RemovalQuery {
    /// Path in the commit's tree.
    pub path: String,
    /// Object ids (hex) of the blobs holding the value at that path.
    pub blobs: Vec<String>,
    /// The raw value. Later versions of a text file are matched only on their new
    /// lines, so a version that still holds the value need not be among `blobs`: a
    /// blob at the path holding these bytes holds the value too.
    pub value: Vec<u8>,
}

impl History<'_> {
    /// For each query, the commit after which no branch holds the value: `None` while
    /// a branch tip still holds one of its blobs, or if it was never on a branch.
    ///
    /// Each branch's first-parent line is walked from the tip back; the newest commit
    /// still holding a blob at the path makes the commit after it the remover. A merge
    /// that brought a deletion in from a side branch is therefore named as the remover
    /// on the main line, which is where the value left the branch. Commits shared with
    /// a line already walked are not walked again, so the whole answer costs at most
    /// one pass over the commits.
    pub fn removals(&self, queries: &[RemovalQuery]) -> Vec<Option<String>> {
        let mut results = vec![None; queries.len()];
        if queries.is_empty() {
            return results;
        }
        let repo = self.repo.local();
        let wanted: Vec<HashSet<ObjectId>> = queries
            .iter()
            .map(|q| {
                q.blobs
                    .iter()
                    .filter_map(|h| ObjectId::from_hex(h.as_bytes()).ok())
                    .collect()
            })
            .collect();
        let on_tips = blobs_on_tips(&repo, &self.branch_tips);
        // A value whose version was matched is settled by blob id; the others are
        // searched by their bytes along the walk, which starts at the tips themselves.
        let mut paths = Paths::default();
        for (q, query) in queries.iter().enumerate() {
            if wanted[q].is_disjoint(&on_tips) {
                paths.add(&query.path, q);
            }
        }
        let values: Vec<&[u8]> = queries.iter().map(|q| q.value.as_slice()).collect();
        let mut walked: HashSet<ObjectId> = HashSet::new();
        let mut buf = Vec::new();
        // A value some tip still holds (in any version of the file) was not removed,
        // whichever line is walked first: every tip is looked at before any line is
        // walked back. Settling it on the first line that held it reported a secret
        // deleted on `main` as removed while a release branch still had it.
        for tip in &self.branch_tips {
            if paths.nodes[0].pending == 0 {
                break;
            }
            let Ok(tree) = repo.objects.find_commit(tip, &mut buf).map(|c| c.tree()) else {
                continue;
            };
            let mut found = Vec::new();
            paths.visit(&repo, 0, tree, true, (&wanted, &values), &mut found);
            for (q, _) in found {
                paths.resolve(q);
            }
        }
        for tip in &self.branch_tips {
            let mut newer: Option<ObjectId> = None;
            let mut current = Some(*tip);
            while let Some(id) = current {
                if paths.nodes[0].pending == 0 || !walked.insert(id) {
                    break;
                }
                paths.drops.lookup();
                let (tree, parent) = match repo.objects.find_commit(&id, &mut buf) {
                    Ok(commit) => (commit.tree(), commit.parents().next()),
                    Err(_) => break,
                };
                current = parent;
                let mut found = Vec::new();
                paths.visit(&repo, 0, tree, true, (&wanted, &values), &mut found);
                for (q, blob) in found {
                    // The version found by its bytes may still be on a tip under
                    // another name (a rename): then nothing removed the value.
                    if !on_tips.contains(&blob) {
                        results[q] = newer.map(|c| c.to_string());
                    }
                    paths.resolve(q);
                }
                newer = Some(id);
            }
        }
        results
    }
}

/// The queries' paths as a tree of names, so each commit reads only the subtrees on
/// those paths, and only when they differ from the last version seen there.
struct Paths {
    nodes: Vec<PathNode>,
    /// For each query, the nodes from the root to its file.
    trail: Vec<Vec<usize>>,
    resolved: Vec<bool>,
    /// Every lookup walks history back through the pack: its pages are let go as it
    /// goes.
    drops: crate::memory::PageDrops,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            nodes: vec![PathNode::default()],
            trail: Vec::new(),
            resolved: Vec::new(),
            drops: crate::memory::PageDrops::every(crate::memory::LOOKUPS_PER_PAGE_DROP),
        }
    }
}

#[derive(Default)]
struct PathNode {
    children: HashMap<Vec<u8>, usize>,
    /// Queries whose file is this node.
    queries: Vec<usize>,
    /// Unresolved queries at or below this node.
    pending: usize,
    /// The object last read here. Whether a query is found depends only on the
    /// object, so the same object again (an unchanged folder) cannot find anything new.
    last: Option<ObjectId>,
    /// The values of `queries`, searched in versions of the file not among their blobs
    /// (built on first need).
    values: Option<Values>,
}

impl Paths {
    fn add(&mut self, path: &str, query: usize) {
        if self.trail.len() <= query {
            self.trail.resize(query + 1, Vec::new());
            self.resolved.resize(query + 1, true);
        }
        let mut node = 0;
        let mut trail = vec![0];
        for part in path.split('/') {
            let next = self.nodes.len();
            node = *self.nodes[node]
                .children
                .entry(part.as_bytes().to_vec())
                .or_insert(next);
            if node == next {
                self.nodes.push(PathNode::default());
            }
            trail.push(node);
        }
        self.nodes[node].queries.push(query);
        for &n in &trail {
            self.nodes[n].pending += 1;
        }
        self.trail[query] = trail;
        self.resolved[query] = false;
    }

    fn resolve(&mut self, query: usize) {
        if std::mem::replace(&mut self.resolved[query], true) {
            return;
        }
        for &n in &self.trail[query] {
            self.nodes[n].pending -= 1;
        }
    }

    /// Collect the unresolved queries whose blob sits at their path under `id`.
    fn visit(
        &mut self,
        repo: &gix::Repository,
        node: usize,
        id: ObjectId,
        is_tree: bool,
        (wanted, values): (&[HashSet<ObjectId>], &[&[u8]]),
        found: &mut Vec<(usize, ObjectId)>,
    ) {
        let n = &mut self.nodes[node];
        if n.pending == 0 || n.last == Some(id) {
            return;
        }
        n.last = Some(id);
        if !is_tree {
            let mut rest = Vec::new();
            for &q in &n.queries {
                if self.resolved[q] {
                    continue;
                }
                if wanted[q].contains(&id) {
                    found.push((q, id));
                } else {
                    rest.push(q);
                }
            }
            if !rest.is_empty() {
                let search = n
                    .values
                    .get_or_insert_with(|| Values::new(&n.queries, values));
                self.drops.lookup();
                let holding = search.held_in(repo, id);
                found.extend(
                    rest.into_iter()
                        .filter(|q| holding.contains(q))
                        .map(|q| (q, id)),
                );
            }
            return;
        }
        if n.children.is_empty() {
            return;
        }
        let mut buf = Vec::new();
        self.drops.lookup();
        let Ok(tree) = repo.objects.find_tree_iter(&id, &mut buf) else {
            return;
        };
        let next: Vec<(usize, ObjectId, bool)> = tree
            .flatten()
            .filter_map(|e| {
                let child = *n.children.get(AsRef::<[u8]>::as_ref(e.filename))?;
                Some((child, e.oid.to_owned(), e.mode.is_tree()))
            })
            .collect();
        for (child, oid, child_is_tree) in next {
            self.visit(repo, child, oid, child_is_tree, (wanted, values), found);
        }
    }
}

/// The values of the queries at one path, searched in one pass over a blob.
struct Values {
    search: Option<aho_corasick::AhoCorasick>,
    /// Pattern index -> query.
    queries: Vec<usize>,
}

impl Values {
    fn new(queries: &[usize], values: &[&[u8]]) -> Values {
        let queries: Vec<usize> = queries
            .iter()
            .copied()
            .filter(|&q| values.get(q).is_some_and(|v| !v.is_empty()))
            .collect();
        let patterns = queries.iter().filter_map(|&q| values.get(q));
        // A value that cannot be searched is only found by blob id, as before.
        let search = aho_corasick::AhoCorasick::new(patterns).ok();
        Values { search, queries }
    }

    /// The queries whose value the blob `id` holds.
    fn held_in(&self, repo: &gix::Repository, id: ObjectId) -> HashSet<usize> {
        let mut buf = Vec::new();
        let (Some(search), Ok(blob)) = (&self.search, repo.objects.find_blob(&id, &mut buf)) else {
            return HashSet::new();
        };
        search
            .find_overlapping_iter(blob.data)
            .filter_map(|m| self.queries.get(m.pattern().as_usize()).copied())
            .collect()
    }
}

/// Every blob in any of the tips' trees.
fn blobs_on_tips(repo: &gix::Repository, tips: &[ObjectId]) -> HashSet<ObjectId> {
    let mut found = HashSet::new();
    let mut seen = HashSet::new();
    let mut buf = Vec::new();
    let mut drops = crate::memory::PageDrops::every(crate::memory::LOOKUPS_PER_PAGE_DROP);
    for tip in tips {
        let root = match repo.objects.find_commit(tip, &mut buf) {
            Ok(commit) => commit.tree(),
            Err(_) => continue,
        };
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            drops.lookup();
            let Ok(tree) = repo.objects.find_tree_iter(&id, &mut buf) else {
                continue;
            };
            for entry in tree.flatten() {
                let oid = entry.oid.to_owned();
                match entry.mode.kind() {
                    gix::object::tree::EntryKind::Tree => stack.push(oid),
                    gix::object::tree::EntryKind::Commit => {}
                    _ => {
                        found.insert(oid);
                    }
                }
            }
        }
    }
    found
}

/// The object at `path` in `tree`, if any.
pub(crate) fn lookup(
    repo: &gix::Repository,
    tree: ObjectId,
    path: &str,
    buf: &mut Vec<u8>,
) -> Option<ObjectId> {
    let mut current = tree;
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        let tree = repo.objects.find_tree_iter(&current, buf).ok()?;
        let entry = tree.flatten().find(|e| e.filename == part.as_bytes())?;
        let is_tree = entry.mode.is_tree();
        current = entry.oid.to_owned();
        if parts.peek().is_none() {
            return (!is_tree).then_some(current);
        }
        if !is_tree {
            return None;
        }
    }
    None
}
