//! Finding the repositories under a folder, for `scan --history ~/src`.

use std::path::{Path, PathBuf};

/// The repositories at or under `root`: `root` itself when it is one, else every work
/// tree (a folder with `.git`) and bare repository below it, not descending into a
/// repository once found, except for submodules kept in `.git/modules`. Unreadable
/// folders are skipped: a scan of a home directory must not stop at one denied folder.
pub fn find_repositories(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if is_repository(&dir) {
            modules(&git_dir_of(&dir), &mut found);
            found.push(dir);
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            // file_type does not follow symlinks: a link loop cannot trap the walk.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

fn git_dir_of(dir: &Path) -> PathBuf {
    let dot_git = dir.join(".git");
    if dot_git.is_dir() {
        dot_git
    } else {
        dir.to_path_buf()
    }
}

/// A work tree (with a `.git` folder or gitfile) or a bare repository.
fn is_repository(dir: &Path) -> bool {
    dir.join(".git").exists() || looks_bare(dir)
}

fn looks_bare(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

/// Submodule repositories absorbed into `.git/modules/<name>` (names may nest).
fn modules(git_dir: &Path, found: &mut Vec<PathBuf>) {
    let mut stack = vec![git_dir.join("modules")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if looks_bare(&path) {
                modules(&path, found);
                found.push(path);
            } else {
                stack.push(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_work_trees_and_bare_repositories_but_not_inside_them() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let mk = |p: &str| {
            std::fs::create_dir_all(root.path().join(p)).unwrap_or_else(|e| panic!("{e}"))
        };
        mk("a/.git");
        mk("a/nested/.git"); // inside a work tree: belongs to a, not listed
        mk("group/b.git/objects");
        mk("group/b.git/refs");
        std::fs::write(
            root.path().join("group/b.git/HEAD"),
            "ref: refs/heads/main\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        mk("a/.git/modules/lib/objects");
        mk("a/.git/modules/lib/refs");
        std::fs::write(root.path().join("a/.git/modules/lib/HEAD"), "0\n")
            .unwrap_or_else(|e| panic!("{e}"));
        mk("plain/folder");
        let found = find_repositories(root.path());
        let names: Vec<String> = found
            .iter()
            .map(|p| {
                p.strip_prefix(root.path())
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a", "a/.git/modules/lib", "group/b.git"]);
    }
}
