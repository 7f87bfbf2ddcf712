//! `scan --history` and `--staged` on real repositories built with `git` in temp dirs.

use crate::tree::{run_in, values, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository built by the `git` command line, with fixed identities and dates so
/// every run creates the same objects.
struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: std::cell::Cell<u64>,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).expect("mkdir");
        let repo = Repo {
            _dir: dir,
            path,
            clock: std::cell::Cell::new(0),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.path, args, self.clock.get())
    }

    fn write(&self, rel: &str, text: impl AsRef<[u8]>) {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }

    /// Stage everything and commit; returns the new commit id.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        // Each commit a minute after the last.
        self.clock.set(self.clock.get() + 60);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn scan(&self, extra: &[&str]) -> (Vec<Value>, Run) {
        scan_at(&self.path, extra)
    }
}

/// Run git in `dir` at `seconds` past 2020-09-13 12:26:40 UTC, so object ids repeat.
pub(crate) fn git_in(dir: &Path, args: &[&str], seconds: u64) -> String {
    let date = format!("{} +0800", 1_600_000_000 + seconds);
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "protocol.file.allow=always", "-c", "gc.auto=0"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "Wang Wei")
        .env("GIT_AUTHOR_EMAIL", "wang.wei@example.com")
        .env("GIT_COMMITTER_NAME", "CI")
        .env("GIT_COMMITTER_EMAIL", "ci@example.com")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn scan_at(dir: &Path, extra: &[&str]) -> (Vec<Value>, Run) {
    let mut args = vec!["scan", "--format", "jsonl", "--reveal"];
    args.extend_from_slice(extra);
    let run = run_in(dir, &args);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let findings = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl {l:?}: {e}")))
        .collect();
    (findings, run)
}

/// The findings whose raw value is `value`.
fn with_value<'a>(findings: &'a [Value], value: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["match"] == value).collect()
}

fn one<'a>(findings: &'a [Value], value: &str) -> &'a Value {
    let found = with_value(findings, value);
    assert_eq!(
        found.len(),
        1,
        "expected one finding of {value}, got {found:#?}"
    );
    found[0]
}

const GITHUB: &str = values::GITHUB;
const ID: &str = values::ID1;
const ID2: &str = values::ID2;
const VIN: &str = values::VIN_CN;

#[test]
fn a_deleted_secret_is_found_with_the_commits_that_added_and_removed_it() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("start");
    repo.write("config/app.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let added = repo.commit("add config");
    repo.write("README.md", "hello again\n");
    repo.commit("docs");
    std::fs::remove_file(repo.path.join("config/app.env")).expect("rm");
    let removed = repo.commit("remove secret");
    repo.write("README.md", "bye\n");
    repo.commit("later");

    // The current tree is clean: a plain scan of it finds nothing.
    let (plain, _) = scan_at(&repo.path, &["--exclude", ".git", "."]);
    assert!(with_value(&plain, GITHUB).is_empty());

    let (findings, run) = repo.scan(&["--history", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = one(&findings, GITHUB);
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(f["line"], 1);
    assert_eq!(f["introduced"], added.as_str());
    assert_eq!(f["removed"], removed.as_str());
    assert_eq!(f["commit"]["id"], added.as_str());
    assert_eq!(f["commit"]["author"], "Wang Wei");
    assert_eq!(f["commit"]["email"], "wang.wei@example.com");
    assert_eq!(f["commit"]["path"], "config/app.env");
    // Author date in the author's own offset: the second commit, 2 minutes in.
    assert_eq!(f["commit"]["date"], "2020-09-13T20:28:40+08:00");
    assert_eq!(f["reach"], "ref");
    let blob = git_in(
        &repo.path,
        &["rev-parse", &format!("{added}:config/app.env")],
        0,
    );
    assert_eq!(f["git_blob"], blob.as_str());

    // Human output says who and when, and masks the value.
    let human = run_in(&repo.path, &["scan", "--history", "."]);
    assert!(
        human
            .stdout
            .contains(&format!("introduced in {}", &added[..10])),
        "{}",
        human.stdout
    );
    assert!(human
        .stdout
        .contains(&format!("removed in {}", &removed[..10])));
    assert!(!human.stdout.contains(GITHUB));
    assert!(
        human.stdout.contains("5 commits in 1 repository"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_secret_still_on_the_branch_has_no_removing_commit() {
    let repo = Repo::new();
    repo.write("app.env", format!("token={GITHUB}\n"));
    let added = repo.commit("add");
    repo.write("app.env", format!("# rotated? no\ntoken={GITHUB}\n"));
    repo.commit("edit around it");
    let (findings, _) = repo.scan(&["--history", "."]);
    // Two versions of the file hold it: still one finding, from the first version.
    let f = one(&findings, GITHUB);
    assert_eq!(f["introduced"], added.as_str());
    assert_eq!(f["line"], 1);
    assert!(f["removed"].is_null());
    assert!(f.as_object().is_some_and(|o| o.contains_key("removed")));
}

/// Regression: removals were settled on the first branch line that held the value, so
/// a secret deleted on `main` but still in the release branch's own later version of
/// the file (a version the finding was not matched in) was reported as removed.
#[test]
fn a_secret_removed_on_main_but_still_on_a_release_branch_is_not_removed() {
    let repo = Repo::new();
    // Over 8 KiB, so later versions are matched only on their new lines.
    let filler: String = (0..800).map(|i| format!("setting_{i} = {i}\n")).collect();
    let token = format!("token={GITHUB}\n");
    repo.write("app.env", format!("{token}{filler}"));
    let added = repo.commit("add");
    repo.write("app.env", format!("{token}{filler}last = 1\n"));
    repo.commit("edit elsewhere in the file");
    repo.git(&["checkout", "-q", "-b", "release"]);
    repo.write("app.env", format!("{token}{filler}last = 2\n"));
    repo.commit("release edit");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("app.env", format!("{filler}last = 1\n"));
    let removed = repo.commit("remove the token on main");
    for threads in ["1", "2"] {
        let (findings, _) = repo.scan(&["--history", "-j", threads, "."]);
        let f = one(&findings, GITHUB);
        assert_eq!(f["introduced"], added.as_str());
        assert!(
            f["removed"].is_null(),
            "the release branch still holds it, yet removed = {} (main's {removed})",
            f["removed"]
        );
    }
    // On main alone it was removed, by that commit.
    let (main_only, _) = repo.scan(&["--history", "--branch", "main", "."]);
    assert_eq!(one(&main_only, GITHUB)["removed"], removed.as_str());
}

/// A later version is matched only around its new lines; a value in the context kept
/// around them must still be judged with its own context. Here an author's address sat
/// at the edge of that context, cut off from the `author:` line above it, and came out
/// as a plain `email-address` besides the `contributor-email` it is.
#[test]
fn a_value_at_the_edge_of_a_later_versions_new_lines_keeps_its_kind() {
    let repo = Repo::new();
    let head: String = (0..400).map(|i| format!("# header line {i}\n")).collect();
    let long = |n: u32| format!("# {}\n", format!("padding {n} ").repeat(11));
    let text = |changed: &str| {
        format!(
            "{head}author:\n  - Li Na <li.na@carmaker-dealer.com.cn>\n{}{}{changed}\n{head}",
            long(1),
            long(2)
        )
    };
    repo.write("module.py", text("version = 1"));
    repo.commit("add");
    repo.write("module.py", text("version = 2"));
    repo.commit("edit the line after the authors");
    for threads in ["1", "2"] {
        let (findings, _) = repo.scan(&["--history", "-j", threads, "."]);
        let kinds: Vec<&str> = with_value(&findings, "li.na@carmaker-dealer.com.cn")
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert_eq!(kinds, ["contributor-email"], "-j {threads}");
    }
}

#[test]
fn unmerged_branches_tags_and_stashes_are_history_too() {
    let repo = Repo::new();
    repo.write("README.md", "main\n");
    repo.commit("start");
    // An unmerged branch.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let on_branch = repo.commit("feature work");
    repo.git(&["checkout", "-q", "main"]);
    // A commit only a tag reaches.
    repo.write("release.txt", format!("owner id {ID}\n"));
    let tagged = repo.commit("release");
    repo.git(&["tag", "-a", "v1", "-m", "v1"]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    // A stash.
    repo.write("README.md", format!("main\nvin {VIN}\n"));
    repo.git(&["stash", "-q"]);

    let (findings, _) = repo.scan(&["--history", "."]);
    let f = one(&findings, GITHUB);
    assert_eq!(f["introduced"], on_branch.as_str());
    assert!(f["removed"].is_null(), "still on the feature branch");
    let t = one(&findings, ID);
    assert_eq!(t["introduced"], tagged.as_str());
    assert!(
        t["removed"].is_null(),
        "never on a branch, so never removed from one"
    );
    let s = one(&findings, VIN);
    assert_eq!(s["path"], "README.md");

    // --branch limits the walk to one ref.
    let (main_only, _) = repo.scan(&["--history", "--branch", "main", "."]);
    assert!(with_value(&main_only, GITHUB).is_empty());
    assert!(with_value(&main_only, ID).is_empty());
    let (feature, _) = repo.scan(&["--history", "--branch", "feature", "."]);
    assert_eq!(with_value(&feature, GITHUB).len(), 1);
}

#[test]
fn the_same_secret_in_a_thousand_commits_is_one_finding_and_one_blob_scan() {
    let repo = Repo::new();
    // git fast-import builds 1,000 commits in milliseconds; each changes counter.txt
    // and leaves app.env (with the secret) as it was.
    let mut script = String::new();
    let secret = format!("GITHUB_TOKEN={GITHUB}\n");
    script.push_str(&format!("blob\nmark :1\ndata {}\n{secret}\n", secret.len()));
    for i in 0..1000u32 {
        let counter = format!("{i}\n");
        script.push_str(&format!(
            "commit refs/heads/main\ncommitter CI <ci@example.com> {} +0000\ndata 2\nc\n",
            1_600_000_000 + i
        ));
        script.push_str("M 100644 :1 app.env\n");
        script.push_str(&format!(
            "M 100644 inline counter.txt\ndata {}\n{counter}\n",
            counter.len()
        ));
    }
    let mut child = Command::new("git")
        .current_dir(&repo.path)
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("fast-import");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(script.as_bytes()).expect("write");
    }
    assert!(child.wait().expect("wait").success());

    let run = run_in(
        &repo.path,
        &["scan", "--history", "--format", "json", "--reveal", "."],
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["match"], GITHUB);
    let first = git_in(&repo.path, &["rev-list", "--max-parents=0", "HEAD"], 0);
    assert_eq!(findings[0]["introduced"], first.as_str());
    let summary = &report["summary"];
    assert_eq!(summary["commits"], 1000);
    // 1,000 versions of counter.txt and one app.env: the secret's blob was read once.
    assert_eq!(summary["blobs"], 1001);
}

#[test]
fn binary_blobs_are_scanned_without_flooding() {
    let repo = Repo::new();
    let mut bin = vec![0u8, 1, 2, 3, 0xff, 0xfe];
    bin.extend_from_slice(format!("\0\0token={GITHUB}\0\0").as_bytes());
    bin.extend((0..4096).map(|i| (i * 7 % 256) as u8));
    repo.write("firmware.bin", &bin);
    repo.commit("binary");
    let (findings, _) = repo.scan(&["--history", "."]);
    let f = one(&findings, GITHUB);
    assert_eq!(f["binary"], true);
    assert_eq!(f["path"], "firmware.bin");
}

#[test]
fn a_corrupt_object_is_reported_and_the_rest_is_scanned() {
    let repo = Repo::new();
    repo.write("good.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    repo.write("bad.txt", format!("id {ID}\n"));
    repo.commit("two files");
    let bad = repo.git(&["rev-parse", "HEAD:bad.txt"]);
    let object = repo
        .path
        .join(".git/objects")
        .join(&bad[..2])
        .join(&bad[2..]);
    writable(&object);
    std::fs::write(&object, b"this is not zlib at all").expect("corrupt");
    assert_rest_scanned_and_named(&repo, &bad);
}

/// git writes objects read-only.
fn writable(path: &Path) {
    let mut perms = std::fs::metadata(path).expect("object").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).expect("chmod");
}

/// The token in good.env is found; the ID in the damaged blob `bad` is not, and the
/// blob is named on stderr.
fn assert_rest_scanned_and_named(repo: &Repo, bad: &str) {
    let (findings, run) = repo.scan(&["--history", "."]);
    assert_eq!(run.code, 1, "findings still reported: {}", run.stderr);
    assert_eq!(with_value(&findings, GITHUB).len(), 1);
    assert!(with_value(&findings, ID).is_empty());
    assert!(
        run.stderr.contains(bad),
        "names the damaged object: {}",
        run.stderr
    );
}

#[test]
fn a_damaged_pack_entry_is_reported_and_the_rest_is_scanned() {
    let repo = Repo::new();
    repo.write("good.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    // Enough varied text that the damage lands inside its compressed stream.
    let filler: String = (0..200)
        .map(|i| format!("row {i} {}\n", i * 7919))
        .collect();
    repo.write("bad.txt", format!("id {ID}\n{filler}"));
    repo.commit("two files");
    repo.git(&["gc", "-q"]);
    let bad = repo.git(&["rev-parse", "HEAD:bad.txt"]);
    let pack_dir = repo.path.join(".git/objects/pack");
    let idx = std::fs::read_dir(&pack_dir)
        .expect("pack dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("one pack");
    // `verify-pack -v`: "<id> <type> <size> <size in pack> <offset>".
    let listing = repo.git(&["verify-pack", "-v", &idx.display().to_string()]);
    let entry: Vec<&str> = listing
        .lines()
        .find(|l| l.starts_with(&bad))
        .expect("bad blob in the pack")
        .split_whitespace()
        .collect();
    let (in_pack, offset): (usize, usize) = (
        entry[3].parse().expect("size"),
        entry[4].parse().expect("offset"),
    );
    let pack = idx.with_extension("pack");
    writable(&pack);
    let mut bytes = std::fs::read(&pack).expect("read pack");
    let middle = offset + in_pack / 2;
    bytes[middle..middle + 16].copy_from_slice(&[0xA5; 16]);
    std::fs::write(&pack, bytes).expect("damage pack");
    assert_rest_scanned_and_named(&repo, &bad);
}

#[test]
fn low_memory_finds_the_same_as_the_default() {
    // Many versions in one pack (read whole, delta by delta), so the page dropping
    // runs while blobs are decoded.
    let repo = Repo::new();
    for i in 0..40 {
        let mut text: String = (0..200)
            .map(|j| format!("setting_{j} = {}\n", j * i))
            .collect();
        if i == 7 {
            text.push_str(&format!("GITHUB_TOKEN={GITHUB}\n"));
        }
        if i == 30 {
            text.push_str(&format!("owner_id = {ID}\n"));
        }
        repo.write("app.conf", text);
        repo.commit(&format!("v{i}"));
    }
    repo.git(&["gc", "-q", "--aggressive"]);
    let (default, _) = repo.scan(&["--history", "."]);
    let (low, run) = repo.scan(&["--history", "--low-memory", "."]);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(with_value(&default, GITHUB).len(), 1, "{default:#?}");
    assert_eq!(with_value(&default, ID).len(), 1, "{default:#?}");
    assert_eq!(crate::tree::compact(&low), crate::tree::compact(&default));
}

#[test]
fn shallow_clones_and_packed_objects_work() {
    let repo = Repo::new();
    repo.write("old.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    repo.commit("old");
    std::fs::remove_file(repo.path.join("old.env")).expect("rm");
    repo.write("new.csv", format!("name,id\nZhang,{ID}\n"));
    repo.commit("new");
    repo.git(&["gc", "-q"]);
    let (packed, _) = repo.scan(&["--history", "."]);
    assert_eq!(with_value(&packed, GITHUB).len(), 1, "packed history");
    assert_eq!(with_value(&packed, ID).len(), 1);

    let clone = repo._dir.path().join("shallow");
    let url = format!("file://{}", repo.path.display());
    git_in(
        repo._dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
        0,
    );
    let (findings, run) = scan_at(&clone, &["--history", "."]);
    // The cut-off commit is named as the introducer of what it holds: say it may be older.
    assert!(
        run.stderr.contains("is a shallow clone") && run.stderr.lines().count() == 1,
        "one warning for a shallow clone: {}",
        run.stderr
    );
    assert_eq!(with_value(&findings, ID).len(), 1);
    assert!(
        with_value(&findings, GITHUB).is_empty(),
        "not in the shallow history"
    );
}

#[test]
fn all_objects_finds_deleted_branches_and_dangling_blobs() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    repo.commit("start");
    repo.git(&["checkout", "-q", "-b", "doomed"]);
    repo.write("leak.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let doomed = repo.commit("doomed");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "doomed"]);
    repo.write("dangling.txt", format!("vin {VIN}\n"));
    repo.git(&["hash-object", "-w", "dangling.txt"]);
    std::fs::remove_file(repo.path.join("dangling.txt")).expect("rm");
    // Reflogs still name the deleted branch's commit: drop them, as an old clone would.
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);

    let (reachable, _) = repo.scan(&["--history", "."]);
    assert!(with_value(&reachable, GITHUB).is_empty());
    assert!(with_value(&reachable, VIN).is_empty());

    let (all, _) = repo.scan(&["--history", "--all-objects", "."]);
    let f = one(&all, GITHUB);
    assert_eq!(f["reach"], "unreachable-commit");
    assert_eq!(f["introduced"], doomed.as_str());
    let d = one(&all, VIN);
    assert_eq!(d["reach"], "loose-object");
    assert!(d["commit"].is_null());
    assert!(d["path"]
        .as_str()
        .is_some_and(|p| p.starts_with("unreachable/")));
}

#[test]
fn since_commit_reports_only_what_is_new() {
    let repo = Repo::new();
    repo.write("old.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let base = repo.commit("old secret");
    repo.write("people.csv", format!("id\n{ID}\n"));
    repo.commit("new data");
    let (findings, _) = repo.scan(&["--history", "--since-commit", &base, "."]);
    assert!(with_value(&findings, GITHUB).is_empty(), "{findings:#?}");
    assert_eq!(with_value(&findings, ID).len(), 1);

    let bad = run_in(
        &repo.path,
        &["scan", "--history", "--since-commit", "no-such-rev", "."],
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no-such-rev"), "{}", bad.stderr);
}

#[test]
fn staged_reports_only_what_the_next_commit_adds() {
    let repo = Repo::new();
    repo.write("app.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    repo.commit("already committed");
    // Edit the file with an old secret elsewhere, and stage a new file with data.
    repo.write("app.env", format!("GITHUB_TOKEN={GITHUB}\nDEBUG=1\n"));
    repo.write("export.csv", format!("id\n{ID2}\n"));
    repo.write("unstaged.csv", format!("id\n{ID}\n"));
    repo.git(&["add", "app.env", "export.csv"]);

    let (findings, run) = repo.scan(&["--staged", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = one(&findings, ID2);
    assert_eq!(f["reach"], "staged");
    assert!(f["commit"].is_null());
    assert!(with_value(&findings, GITHUB).is_empty(), "already in HEAD");
    assert!(with_value(&findings, ID).is_empty(), "not staged");

    // A clean index exits 0: a pre-commit hook lets the commit through.
    repo.git(&["reset", "-q"]);
    let clean = run_in(&repo.path, &["scan", "--staged", "-q", "."]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);

    // On an unborn branch everything staged is new.
    let fresh = Repo::new();
    fresh.write("a.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    fresh.git(&["add", "a.env"]);
    let (first, _) = fresh.scan(&["--staged", "."]);
    assert_eq!(with_value(&first, GITHUB).len(), 1);
}

#[test]
fn a_folder_of_repositories_scans_each_including_submodules() {
    let top = tempfile::tempdir().expect("tmp");
    let make = |name: &str, file: &str, text: String| {
        let dir = top.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        git_in(&dir, &["init", "-q", "-b", "main"], 1);
        std::fs::write(dir.join(file), text).expect("write");
        git_in(&dir, &["add", "-A"], 2);
        git_in(&dir, &["commit", "-q", "-m", "c"], 3);
        dir
    };
    make("svc-a", "a.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    make("team/svc-b", "b.csv", format!("id\n{ID}\n"));
    let lib = make("lib-src", "lib.txt", format!("vin {VIN}\n"));
    let app = make("app", "README.md", "app\n".to_string());
    let url = format!("file://{}", lib.display());
    git_in(&app, &["submodule", "add", "-q", &url, "vendor/lib"], 4);
    git_in(&app, &["commit", "-q", "-m", "submodule"], 5);
    std::fs::remove_dir_all(&lib).expect("rm lib source");
    std::fs::create_dir(top.path().join("not-a-repo")).expect("mkdir");

    let (findings, run) = scan_at(top.path(), &["--history", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(one(&findings, GITHUB)["path"], "svc-a/a.env");
    assert_eq!(one(&findings, ID)["path"], "team/svc-b/b.csv");
    // The submodule's own history, from app/.git/modules.
    let v = one(&findings, VIN);
    assert_eq!(v["path"], "app/.git/modules/vendor/lib/lib.txt");
    assert_eq!(v["commit"]["path"], "lib.txt");

    let none = run_in(&top.path().join("not-a-repo"), &["scan", "--history", "."]);
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("not a git repository"),
        "{}",
        none.stderr
    );
}

#[test]
fn later_versions_of_a_large_file_report_new_values_at_their_true_lines() {
    // Past 8 KiB, a version is matched only where its lines are new at its path; the
    // line numbers must still be those of the whole file.
    let repo = Repo::new();
    let filler: Vec<String> = (0..600)
        .map(|i| format!("row {i:04} nothing to see here"))
        .collect();
    let mut v1 = filler.clone();
    v1[10] = format!("owner {ID}");
    repo.write("big.txt", v1.join("\n") + "\n");
    let first = repo.commit("v1");
    let mut v2 = v1.clone();
    v2.insert(300, format!("GITHUB_TOKEN={GITHUB}"));
    v2[590] = "row edited far away".to_string();
    repo.write("big.txt", v2.join("\n") + "\n");
    let second = repo.commit("v2");
    let mut v3 = v2.clone();
    v3.insert(0, format!("vin {VIN}"));
    repo.write("big.txt", v3.join("\n") + "\n");
    let third = repo.commit("v3");

    let (findings, _) = repo.scan(&["--history", "."]);
    let id = one(&findings, ID);
    assert_eq!(
        (id["line"].as_u64(), id["introduced"].as_str()),
        (Some(11), Some(first.as_str()))
    );
    let token = one(&findings, GITHUB);
    assert_eq!(
        (token["line"].as_u64(), token["introduced"].as_str()),
        (Some(301), Some(second.as_str()))
    );
    assert_eq!(token["column"], 14);
    let vin = one(&findings, VIN);
    assert_eq!(
        (vin["line"].as_u64(), vin["introduced"].as_str()),
        (Some(1), Some(third.as_str()))
    );
    // Versions 2 and 3 were not matched where they still hold the ID (those lines were
    // not new), yet it is still in the file: nothing removed it.
    for f in [id, token, vin] {
        assert!(f["removed"].is_null(), "still at the tip: {f}");
    }

    // Version 4 drops the token line and edits elsewhere; version 5 edits again.
    let mut v4 = v3.clone();
    v4.retain(|l| !l.contains(GITHUB));
    v4[500] = "row edited once more".to_string();
    repo.write("big.txt", v4.join("\n") + "\n");
    let fourth = repo.commit("v4");
    v4[520] = "and again".to_string();
    repo.write("big.txt", v4.join("\n") + "\n");
    repo.commit("v5");
    let (findings, _) = repo.scan(&["--history", "."]);
    assert_eq!(one(&findings, GITHUB)["removed"], fourth.as_str());
    assert!(one(&findings, ID)["removed"].is_null());
    assert!(one(&findings, VIN)["removed"].is_null());

    // Renamed: the ID is still on the branch under another name, so not removed,
    // whichever versions happened to be matched.
    repo.git(&["mv", "big.txt", "renamed.txt"]);
    repo.commit("rename");
    let (findings, _) = repo.scan(&["--history", "."]);
    let id = one(&findings, ID);
    assert_eq!(id["path"], "big.txt", "named where it was introduced");
    assert!(id["removed"].is_null(), "still on the branch: {id}");
}

#[test]
fn history_sarif_is_valid_and_carries_the_commit() {
    let repo = Repo::new();
    repo.write("app.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let added = repo.commit("add");
    let run = run_in(&repo.path, &["scan", "--history", "--format", "sarif", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif: Value = serde_json::from_str(&run.stdout).expect("SARIF JSON");
    let schema = crate::formats::sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("compile SARIF schema");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["properties"]["git"]["commit"]["id"], added.as_str());
    assert_eq!(result["properties"]["git"]["reach"], "ref");
    assert!(!run.stdout.contains(GITHUB), "masked");
}

/// A truncated pack reads nothing: that is an error (exit 2), as it is for files, not
/// "No findings" with exit 0.
#[test]
fn a_history_scan_that_read_nothing_is_an_error() {
    let repo = Repo::new();
    repo.write("a.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    repo.commit("one");
    repo.git(&["gc", "-q"]);
    let pack_dir = repo.path.join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .expect("pack dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("one pack");
    writable(&pack);
    let bytes = std::fs::read(&pack).expect("read pack");
    std::fs::write(&pack, &bytes[..12]).expect("truncate pack");
    let run = run_in(&repo.path, &["scan", "--history", "."]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("nothing could be read"),
        "{}",
        run.stderr
    );
}

/// A history finding reported from the datastore names the git object that holds it,
/// as `scan --history` does (it gave the scanner's internal content id, which `git
/// cat-file` rejects; issue: new user, item 2).
#[test]
fn a_stored_history_finding_names_its_git_blob() {
    let repo = Repo::new();
    repo.write("app/.env", format!("GITHUB_TOKEN={}\n", values::GITHUB));
    repo.commit("config");
    let store = repo.path.join("../store.db").display().to_string();
    let (found, run) = repo.scan(&["--history", "--datastore", &store]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let scanned = found[0]["git_blob"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let report = run_in(
        &repo.path,
        &["report", "--datastore", &store, "--format", "jsonl"],
    );
    let stored: Value =
        serde_json::from_str(report.stdout.lines().next().unwrap_or("{}")).expect("a jsonl record");
    assert_eq!(
        stored["git_blob"].as_str(),
        Some(scanned.as_str()),
        "{stored}"
    );
    assert_eq!(repo.git(&["cat-file", "-t", &scanned]).trim(), "blob");
}

/// `--since-commit HEAD` with nothing new says so; it said "Scanned the index of 1
/// repository", the `--staged` wording (issue: new user, item 5).
#[test]
fn nothing_new_since_a_commit_says_no_new_commits() {
    let repo = Repo::new();
    repo.write("README", "hello\n");
    repo.commit("first");
    let run = run_in(
        &repo.path,
        &["scan", "--history", "--since-commit", "HEAD", "."],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Scanned no new commits in 1 repository"),
        "{}",
        run.stdout
    );
    repo.write("README", "hello again\n");
    repo.git(&["add", "README"]);
    let staged = run_in(&repo.path, &["scan", "--staged", "."]);
    assert!(
        staged.stdout.contains("Scanned the index of 1 repository"),
        "{}",
        staged.stdout
    );
}

/// The hook definition and the GitHub action shipped in this repository run commands
/// that must keep working: the hook's `entry` blocks a commit that adds a secret and
/// lets a clean one through; the action's default `args` write a SARIF report.
#[test]
fn shipped_hook_and_action_commands_work() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let line = |file: &str, key: &str| -> Vec<String> {
        let text = std::fs::read_to_string(root.join(file)).expect("shipped file");
        let value = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .unwrap_or_else(|| panic!("{file} has no {key}"));
        value.split_whitespace().map(String::from).collect()
    };
    let entry = line(".pre-commit-hooks.yaml", "entry:");
    assert_eq!(entry.first().map(String::as_str), Some("leakhound"));
    let hook: Vec<&str> = entry[1..].iter().map(String::as_str).collect();
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    repo.write("app.env", format!("GITHUB_TOKEN={}\n", values::GITHUB));
    repo.git(&["add", "app.env"]);
    assert_eq!(run_in(&repo.path, &hook).code, 1, "a staged secret blocks");
    repo.git(&["rm", "-q", "--cached", "app.env"]);
    assert_eq!(run_in(&repo.path, &hook).code, 0, "nothing staged passes");
    let args = line("action.yml", "default:");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    repo.git(&["add", "app.env"]);
    repo.commit("oops");
    let run = run_in(&repo.path, &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif: Value = serde_json::from_slice(
        &std::fs::read(repo.path.join("leakhound.sarif")).expect("the action's report"),
    )
    .expect("sarif");
    assert_eq!(sarif["version"], "2.1.0");
}

/// Issue 23: a history scan into a datastore remembers where it stopped, and
/// `--incremental` reads only the blobs of commits added since (on every branch), on
/// SQLite and PostgreSQL; what it finds joins what the first scan found.
#[test]
fn incremental_rescans_read_only_what_was_added() {
    crate::datastore::on_both(|_, store| {
        let summary = |run: &Run| -> (u64, u64) {
            let doc: Value = serde_json::from_str(&run.stdout).expect("json");
            (
                doc["summary"]["blobs"].as_u64().unwrap_or(u64::MAX),
                // Left out of the summary when zero.
                doc["summary"]["commits"].as_u64().unwrap_or(0),
            )
        };
        let repo = Repo::new();
        repo.write("a.txt", "alpha\n");
        repo.write("b.txt", "beta\n");
        repo.write("old.env", format!("GITHUB_TOKEN={}\n", values::GITHUB));
        repo.commit("first");
        let scan = |extra: &[&str]| {
            let mut args = vec![
                "scan",
                "--history",
                "--format",
                "json",
                "--datastore",
                store,
            ];
            args.extend_from_slice(extra);
            args.push(".");
            let run = run_in(&repo.path, &args);
            assert!(run.code <= 1, "{}", run.stderr);
            run
        };
        assert_eq!(summary(&scan(&[])), (3, 1));
        // Two new blobs on main (one file changed, one added), one on a new branch.
        repo.write("a.txt", "alpha 2\n");
        repo.write("new.env", format!("AWS_ACCESS_KEY_ID={}\n", values::AWS_ID));
        repo.commit("second");
        repo.git(&["checkout", "-q", "-b", "side"]);
        repo.write("side.txt", "side\n");
        repo.commit("third");
        let second = scan(&["--incremental"]);
        assert_eq!(summary(&second), (3, 2), "{}", second.stdout);
        assert!(
            second.stdout.contains("aws-access-key-id"),
            "{}",
            second.stdout
        );
        assert!(!second.stdout.contains("github-pat"), "{}", second.stdout);
        // Nothing new: nothing read.
        assert_eq!(summary(&scan(&["--incremental"])), (0, 0));
        // The store holds both scans' findings.
        let report = run_in(
            &repo.path,
            &["report", "--datastore", store, "--format", "json"],
        );
        assert!(
            report.stdout.contains("github-pat") && report.stdout.contains("aws-access-key-id")
        );
        // Without --datastore there is nothing to read where to start from.
        let alone = run_in(&repo.path, &["scan", "--history", "--incremental", "."]);
        assert_eq!(alone.code, 2, "{}", alone.stderr);
    });
}
