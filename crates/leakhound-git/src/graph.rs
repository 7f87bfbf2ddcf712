//! Where a walk starts (refs) and the order it visits commits in (parents first).

use crate::{GitError, Repository, Visitor};
use gix::objs::FindExt;
use gix::ObjectId;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

/// The objects refs point at, sorted by kind.
#[derive(Default)]
pub(crate) struct Tips {
    /// Commits to walk from.
    pub commits: Vec<ObjectId>,
    /// Branch tips: local and remote-tracking branches, and `HEAD`.
    pub branches: Vec<ObjectId>,
    /// Trees and blobs that a tag points at directly, with the ref name as path.
    pub trees: Vec<(ObjectId, String)>,
    /// See `trees`.
    pub blobs: Vec<(ObjectId, String)>,
}

impl Tips {
    fn add(&mut self, repo: &gix::Repository, id: ObjectId, name: &str) {
        use gix::objs::Kind;
        match repo.find_header(id).map(|h| h.kind()) {
            Ok(Kind::Commit) => self.commits.push(id),
            Ok(Kind::Tree) => self.trees.push((id, name.to_string())),
            Ok(Kind::Blob) => self.blobs.push((id, name.to_string())),
            // Tags were peeled; a missing target is reported when the walk reads it.
            Ok(Kind::Tag) | Err(_) => self.commits.push(id),
        }
    }

    fn dedup(&mut self) {
        for v in [&mut self.commits, &mut self.branches] {
            let mut seen = HashSet::new();
            v.retain(|id| seen.insert(*id));
        }
    }
}

/// Every ref (branches, tags, remote-tracking refs, notes, stash and the stash's
/// reflog, `HEAD`), or only `branches` when given.
pub(crate) fn tips(
    r: &Repository,
    repo: &gix::Repository,
    branches: &[String],
    visitor: &dyn Visitor,
) -> Result<Tips, GitError> {
    let mut tips = Tips::default();
    if !branches.is_empty() {
        for rev in branches {
            let id = resolve(r, repo, rev)?;
            tips.add(repo, id, rev);
            tips.branches.push(id);
        }
        tips.dedup();
        return Ok(tips);
    }
    let unreadable = |e: &dyn std::fmt::Display| GitError::Unreadable {
        path: r.display.clone(),
        what: "references",
        message: e.to_string(),
    };
    let platform = repo.references().map_err(|e| unreadable(&e))?;
    for reference in platform.all().map_err(|e| unreadable(&e))? {
        let mut reference = match reference {
            Ok(reference) => reference,
            Err(e) => {
                visitor.problem(r.problem("a reference", e));
                continue;
            }
        };
        let name = reference.name().as_bstr().to_string();
        match reference.peel_to_id() {
            Ok(id) => {
                let id = id.detach();
                tips.add(repo, id, &name);
                if name.starts_with("refs/heads/") || name.starts_with("refs/remotes/") {
                    tips.branches.push(id);
                }
            }
            Err(e) => visitor.problem(r.problem(format_args!("reference {name}"), e)),
        }
        if name == "refs/stash" {
            // Older stashes live only in the stash's reflog.
            let mut log = reference.log_iter();
            if let Ok(Some(lines)) = log.all() {
                for line in lines.flatten() {
                    tips.add(repo, line.new_oid(), &name);
                }
            }
        }
    }
    // A detached HEAD is a tip no ref names.
    if let Ok(head) = repo.head_id() {
        tips.add(repo, head.detach(), "HEAD");
        tips.branches.insert(0, head.detach());
    }
    tips.dedup();
    Ok(tips)
}

/// The object `rev` names, peeled to a commit.
pub(crate) fn resolve(
    r: &Repository,
    repo: &gix::Repository,
    rev: &str,
) -> Result<ObjectId, GitError> {
    let error = |message: String| GitError::Revision {
        path: r.display.clone(),
        rev: rev.to_string(),
        message,
    };
    let id = repo
        .rev_parse_single(rev)
        .map_err(|e| error(e.to_string()))?;
    let object = id.object().map_err(|e| error(e.to_string()))?;
    let commit = object.peel_to_commit().map_err(|e| error(e.to_string()))?;
    Ok(commit.id)
}

/// One commit of the graph.
pub(crate) struct Node {
    pub id: ObjectId,
    pub tree: ObjectId,
    time: i64,
    parents: Vec<ObjectId>,
}

/// Read every commit reachable from `tips` except those in `hidden` (and their
/// ancestors), tolerating unreadable commits and shallow boundaries, and return them
/// parents first. Ties go to the older commit time, then to the discovery order, so
/// the order is the same on every run.
pub(crate) fn commits_in_order(
    r: &Repository,
    repo: &gix::Repository,
    tips: &[ObjectId],
    hidden: &HashSet<ObjectId>,
    known: &HashSet<ObjectId>,
    visitor: &dyn Visitor,
) -> Vec<Node> {
    let shallow: HashSet<ObjectId> = repo
        .shallow_commits()
        .ok()
        .flatten()
        .map(|c| c.iter().copied().collect())
        .unwrap_or_default();
    let mut nodes: Vec<Node> = Vec::new();
    let mut index: HashMap<ObjectId, usize> = HashMap::new();
    let mut queued: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<ObjectId> = tips.iter().rev().copied().collect();
    let mut buf = Vec::new();
    let mut read = 0u64;
    let mut drops = crate::memory::PageDrops::every(crate::memory::LOOKUPS_PER_PAGE_DROP);
    while let Some(id) = stack.pop() {
        if hidden.contains(&id) || known.contains(&id) || !queued.insert(id) {
            continue;
        }
        drops.lookup();
        let commit = match repo.objects.find_commit(&id, &mut buf) {
            Ok(c) => c,
            Err(e) => {
                visitor.problem(r.problem(format_args!("commit {id}"), e));
                continue;
            }
        };
        let tree = commit.tree();
        let time = commit
            .committer()
            .ok()
            .and_then(|s| s.time().ok())
            .map_or(0, |t| t.seconds);
        let parents: Vec<ObjectId> = if shallow.contains(&id) {
            Vec::new()
        } else {
            commit.parents().collect()
        };
        stack.extend(parents.iter().rev().copied());
        index.insert(id, nodes.len());
        nodes.push(Node {
            id,
            tree,
            time,
            parents,
        });
        read += 1;
        if read.is_multiple_of(1024) {
            visitor.commits(1024);
        }
    }
    visitor.commits(read % 1024);
    topological(nodes, &index)
}

/// Kahn's algorithm, oldest ready commit first.
fn topological(nodes: Vec<Node>, index: &HashMap<ObjectId, usize>) -> Vec<Node> {
    let n = nodes.len();
    let mut waiting = vec![0usize; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in nodes.iter().enumerate() {
        for p in &node.parents {
            // Parents outside the walk (hidden, shallow, unreadable) do not hold it back.
            if let Some(&pi) = index.get(p) {
                waiting[i] += 1;
                children[pi].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, usize)>> = (0..n)
        .filter(|&i| waiting[i] == 0)
        .map(|i| Reverse((nodes[i].time, i)))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(i);
        for &c in &children[i] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                ready.push(Reverse((nodes[c].time, c)));
            }
        }
    }
    // A cycle cannot happen in a valid graph; a corrupt one keeps its remaining commits
    // in discovery order rather than losing them.
    if order.len() < n {
        let placed: HashSet<usize> = order.iter().copied().collect();
        order.extend((0..n).filter(|i| !placed.contains(i)));
    }
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Every commit reachable from `tips`, for `--since-commit` and incremental rescans.
pub(crate) fn ancestors(repo: &gix::Repository, tips: &[ObjectId]) -> HashSet<ObjectId> {
    let mut seen = HashSet::new();
    let mut stack = tips.to_vec();
    let mut buf = Vec::new();
    let mut drops = crate::memory::PageDrops::every(crate::memory::LOOKUPS_PER_PAGE_DROP);
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        drops.lookup();
        if let Ok(commit) = repo.objects.find_commit(&id, &mut buf) {
            stack.extend(commit.parents());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    #[test]
    fn parents_come_first_even_when_clocks_lie() {
        // 1 <- 2 <- 3, with 3 dated before 1 (a skewed clock): order must still be 1,2,3.
        let nodes = vec![
            Node {
                id: id(3),
                tree: id(0),
                time: 5,
                parents: vec![id(2)],
            },
            Node {
                id: id(2),
                tree: id(0),
                time: 50,
                parents: vec![id(1)],
            },
            Node {
                id: id(1),
                tree: id(0),
                time: 40,
                parents: vec![],
            },
        ];
        let index = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        let order: Vec<ObjectId> = topological(nodes, &index)
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(order, [id(1), id(2), id(3)]);
    }

    #[test]
    fn independent_branches_interleave_by_time() {
        let nodes = vec![
            Node {
                id: id(1),
                tree: id(0),
                time: 30,
                parents: vec![],
            },
            Node {
                id: id(2),
                tree: id(0),
                time: 10,
                parents: vec![],
            },
            Node {
                id: id(3),
                tree: id(0),
                time: 20,
                parents: vec![id(2), id(9)],
            },
        ];
        let index = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        let order: Vec<ObjectId> = topological(nodes, &index)
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(order, [id(2), id(3), id(1)]);
    }
}
