//! `leakhound run`: one estate inventory (git repositories over file URLs and a local
//! `git daemon`, a folder with a CSV and an archive, a PostgreSQL and a MariaDB
//! database, targets that cannot be reached) run as one process and as four shards in
//! parallel into the real PostgreSQL, and with a shard killed (SIGKILL) and re-run:
//! the merged reports must be identical, and customers found in both databases and
//! the CSV counted once.

use crate::assess::{resident_id, MysqlScratch};
use crate::datastore::{postgres, Store};
use crate::history::git_in;
use crate::tree::{leakhound, run_in, values::*, Tree};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn phone(i: u32) -> String {
    format!("1391234{i:04}")
}

/// A repository at `dir` with one commit per (path, text) step; `None` deletes.
fn repo(dir: &Path, steps: &[(&str, Option<&str>)]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    git_in(dir, &["init", "-q", "-b", "main"], 0);
    for (i, (path, text)) in steps.iter().enumerate() {
        let file = dir.join(path);
        match text {
            Some(t) => {
                if let Some(parent) = file.parent() {
                    std::fs::create_dir_all(parent).expect("mkdir");
                }
                std::fs::write(&file, t).expect("write");
            }
            None => std::fs::remove_file(&file).expect("rm"),
        }
        git_in(dir, &["add", "-A"], 60 * i as u64);
        git_in(
            dir,
            &["commit", "-q", "-m", &format!("step {i}")],
            60 * i as u64,
        );
    }
}

/// `git daemon` serving `base` on a free port of 127.0.0.1; stopped when dropped.
struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon (Debian: git-daemon-run or git's own git-daemon)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        GitDaemon { child, port }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The estate: repositories, a folder, two databases and two targets that fail.
struct Estate {
    tree: Tree,
    _daemon: GitDaemon,
    _pg: Store,
    pg_url: String,
    _maria: MysqlScratch,
}

impl Estate {
    fn build() -> Option<Estate> {
        let pg = postgres()?;
        let maria = MysqlScratch::new()?;
        let tree = Tree::new();
        let served = tree.join("served");
        repo(
            &tree.join("repos/app"),
            &[
                (".env", Some(&format!("GITHUB_TOKEN={GITHUB}\n"))),
                (".env", None),
                ("README.md", Some("nothing to see\n")),
            ],
        );
        repo(
            &tree.join("repos/deploy"),
            &[(
                "settings.py",
                Some(&format!(
                    "AWS_ACCESS_KEY_ID = \"{AWS_ID}\"\nAWS_SECRET_ACCESS_KEY = \"{AWS_SECRET}\"\n"
                )),
            )],
        );
        repo(
            &served.join("billing"),
            &[(
                "config/app.yml",
                Some(&format!("aws_key: {AWS_ID}\nowner_phone: {MOBILE}\n")),
            )],
        );
        let daemon = GitDaemon::start(&served);

        // Customers 101..=200 in the CSV, and phone-only rows for customers 1..=10, who
        // are in PostgreSQL with their resident IDs: those rows are no new people.
        let mut csv = String::from("name,id_card,mobile\n");
        for i in 101..=200 {
            csv.push_str(&format!("客户{i},{},{}\n", resident_id(i), phone(i)));
        }
        for i in 1..=10 {
            csv.push_str(&format!(",,{}\n", phone(i)));
        }
        tree.file("drops/customers.csv", csv);
        tree.file(
            "drops/bundle.zip",
            crate::assess::zipped(".env", format!("TOKEN={GITHUB}\n").as_bytes()),
        );

        // Customers 1..=100 in PostgreSQL, 51..=150 in MariaDB.
        let mut c = postgres::Client::connect(&pg.spec, postgres::NoTls).expect("connect");
        c.batch_execute("CREATE TABLE customers (name text, id_card text, mobile text)")
            .expect("table");
        for i in 1..=100u32 {
            c.execute(
                "INSERT INTO customers VALUES ($1, $2, $3)",
                &[&format!("客户{i}"), &resident_id(i), &phone(i)],
            )
            .expect("row");
        }
        {
            use mysql::prelude::Queryable;
            let mut m =
                mysql::Conn::new(mysql::Opts::from_url(&maria.url).expect("url")).expect("connect");
            m.query_drop(
                "CREATE TABLE members (name varchar(40), id_card varchar(18), mobile varchar(11))",
            )
            .expect("table");
            for i in 51..=150u32 {
                m.exec_drop(
                    "INSERT INTO members VALUES (?, ?, ?)",
                    (format!("客户{i}"), resident_id(i), phone(i)),
                )
                .expect("row");
            }
        }
        let pg_url = pg.spec.clone();
        let root = tree.path().display().to_string();
        tree.file(
            "estate.toml",
            format!(
                r#"[defaults]
history = true

[[target]]
name = "app"
git = "file://{root}/repos/app"

[[target]]
name = "deploy"
git = "file://{root}/repos/deploy"

[[target]]
name = "deploy-files"
git = "file://{root}/repos/deploy"
history = false

[[target]]
name = "billing"
git = "git://127.0.0.1:{port}/billing"

[[target]]
name = "drops"
path = "{root}/drops"

[[target]]
name = "crm"
database_env = "ESTATE_TEST_CRM_URL"

[[target]]
name = "members"
database = "{maria}"

[[target]]
name = "gone"
git = "file://{root}/repos/gone"

[[target]]
name = "no-credentials"
database_env = "ESTATE_TEST_UNSET_URL"
"#,
                port = daemon.port,
                maria = maria.url,
            ),
        );
        let key = run_in(tree.path(), &["trace", "key", "--out", "estate.key"]);
        assert_eq!(key.code, 0, "{}", key.stderr);
        Some(Estate {
            tree,
            _daemon: daemon,
            _pg: pg,
            pg_url,
            _maria: maria,
        })
    }

    /// `leakhound run` for shard `index` of `count`, with the environment a Kubernetes
    /// Indexed Job gives a pod; each pod its own cache.
    fn shard(&self, store: &str, run: &str, index: u32, count: u32) -> Command {
        let mut cmd = leakhound();
        cmd.current_dir(self.tree.path())
            .args(["run", "-q"])
            .env("LEAKHOUND_TARGETS", self.tree.join("estate.toml"))
            .env("LEAKHOUND_DATASTORE", store)
            .env("LEAKHOUND_KEY_FILE", self.tree.join("estate.key"))
            .env(
                "LEAKHOUND_CACHE",
                self.tree.join(&format!("cache/{run}-{index}")),
            )
            .env("LEAKHOUND_RUN", run)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("LEAKHOUND_SHARDS", count.to_string())
            .env("ESTATE_TEST_CRM_URL", &self.pg_url)
            .env_remove("ESTATE_TEST_UNSET_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run_shards(&self, store: &str, run: &str, count: u32) {
        let children: Vec<Child> = (0..count)
            .map(|i| self.shard(store, run, i, count).spawn().expect("spawn"))
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "shard {i}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// `report --run` as JSON, or why not.
    fn report(&self, store: &str, run: &str) -> Result<Value, String> {
        let out = run_in(
            self.tree.path(),
            &[
                "report",
                "--datastore",
                store,
                "--run",
                run,
                "--format",
                "json",
            ],
        );
        if out.code != 0 {
            return Err(out.stderr);
        }
        serde_json::from_str(&out.stdout).map_err(|e| e.to_string())
    }

    /// Targets `run` has recorded an outcome for so far.
    fn targets_done(&self, store: &str, run: &str) -> usize {
        let doc = self.report(store, run).unwrap_or_default();
        doc["run"]["targets"]
            .as_array()
            .map_or(0, |t| t.iter().filter(|t| t["status"] != "not run").count())
    }

    /// The merged report of `run` as (findings, targets, people), without what
    /// differs between two runs of the same estate (times, attempts, run ids).
    fn picture(&self, store: &str, run: &str) -> (Vec<String>, Vec<String>, Value) {
        let doc = self
            .report(store, run)
            .unwrap_or_else(|e| panic!("report --run: {e}"));
        let mut findings: Vec<String> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let mut f = f.clone();
                // When it was recorded differs; what was found must not.
                if let Some(o) = f.as_object_mut() {
                    o.remove("first_seen");
                    o.remove("last_seen");
                }
                f.to_string()
            })
            .collect();
        findings.sort();
        let targets: Vec<String> = doc["run"]["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .map(|t| {
                format!(
                    "{} {} {} findings={} new={} tables={} problems={}",
                    t["name"],
                    t["kind"],
                    t["status"],
                    t["findings"],
                    t["new_findings"],
                    t["tables"],
                    t["problems"]
                )
            })
            .collect();
        (findings, targets, doc["run"]["people"].clone())
    }
}

#[test]
fn four_shards_a_killed_shard_and_one_process_give_the_same_picture() {
    let Some(estate) = Estate::build() else {
        return;
    };
    let (Some(single), Some(sharded)) = (postgres(), postgres()) else {
        return;
    };

    // One process.
    estate.run_shards(&single.spec, "whole", 1);
    let whole = estate.picture(&single.spec, "whole");

    // Four shards at once, each with its own cache, as four pods.
    estate.run_shards(&sharded.spec, "split", 4);
    let split = estate.picture(&sharded.spec, "split");
    assert_eq!(whole.0, split.0, "findings differ");
    assert_eq!(whole.1, split.1, "targets differ");
    assert_eq!(whole.2, split.2, "people differ");

    // What the picture holds. Secrets from every repository, history included (the
    // .env deleted in app's second commit), the archive, the checkout.
    for expected in [
        "\"repository\":\"file://",
        "repos/app\",\"rule\":\"github-pat-classic",
        "\"repository\":\"git://127.0.0.1:",
        "repos/deploy/settings.py",
        "drops/bundle.zip!.env",
        "drops/customers.csv",
    ] {
        assert!(
            whole.0.iter().any(|f| f.contains(expected)),
            "{expected} not in {:#?}",
            whole.0
        );
    }
    let targets = whole.1.join("\n");
    assert!(targets.contains("\"gone\" \"git\" \"failed\""), "{targets}");
    assert!(targets.contains("ESTATE_TEST_UNSET_URL"), "{targets}");
    assert!(
        targets.contains("\"crm\" \"database\" \"done\" findings=0 new=0 tables=1"),
        "{targets}"
    );
    assert!(
        targets.contains("\"members\" \"database\" \"done\" findings=0 new=0 tables=1"),
        "{targets}"
    );
    // Customers 1..=200: 1..=100 in PostgreSQL, 51..=150 in MariaDB, 101..=200 in the
    // CSV, whose phone-only rows are customers 1..=10 again.
    assert_eq!(whole.2["distinct_people"], 200, "{:#}", whole.2);
    assert_eq!(whole.2["distinct_people_min"], 200, "{:#}", whole.2);

    // A shard killed mid-run (SIGKILL, as the kubelet does) and started again by the
    // Job, at several points of its work: the merged picture is the same. (A store of
    // its own, so that "new" means the same as in the first two.)
    let Some(again) = postgres() else {
        return;
    };
    for delay_ms in [50u64, 100, 150, 200] {
        let mut child = estate
            .shard(&again.spec, "killed", 0, 1)
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let partial = estate.targets_done(&again.spec, "killed");
        eprintln!("killed after {delay_ms} ms: {partial} of 9 targets recorded");
    }
    estate.run_shards(&again.spec, "killed", 1);
    let killed = estate.picture(&again.spec, "killed");
    assert_eq!(whole.0, killed.0, "findings after kills");
    assert_eq!(whole.1, killed.1, "targets after kills");
    assert_eq!(whole.2, killed.2, "people after kills");
    let report = run_in(
        estate.tree.path(),
        &["report", "--datastore", &again.spec, "--run", "killed"],
    );
    assert!(
        report.stdout.contains("shard 0: finished ("),
        "{}",
        report.stdout
    );
    assert!(!report.stdout.contains("(1 attempt)"), "{}", report.stdout);
}

#[test]
fn a_sharded_run_needs_an_id_and_the_job_count() {
    let t = Tree::new();
    t.file("estate.toml", "[[target]]\npath = \".\"\n");
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = leakhound();
        cmd.current_dir(t.path())
            .args(["run", "--targets", "estate.toml", "--datastore", "f.db"])
            .args(args)
            .env_remove("LEAKHOUND_RUN")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("LEAKHOUND_SHARDS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&[("JOB_COMPLETION_INDEX", "1")], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("LEAKHOUND_SHARDS"), "{err}");
    let (code, err) = run(&[], &["--shard", "1/4"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--run ID or LEAKHOUND_RUN"), "{err}");
    let (code, err) = run(&[], &["--shard", "1/4", "--run", "bad id!"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("letters, digits"), "{err}");
    // A shard started with another inventory than its run's is refused.
    let (code, err) = run(&[], &["--run", "r"]);
    assert_eq!(code, 0, "{err}");
    t.file(
        "estate.toml",
        "[[target]]\npath = \".\"\nname = \"renamed\"\n",
    );
    let (code, err) = run(&[], &["--run", "r"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("another inventory"), "{err}");
    // No datastore: where would the shards meet?
    let out = leakhound()
        .current_dir(t.path())
        .args(["run", "--targets", "estate.toml"])
        .env_remove("LEAKHOUND_DATASTORE")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--datastore"));
}

#[test]
fn report_run_names_the_runs_there_are() {
    let t = Tree::new();
    t.file("estate.toml", "[[target]]\npath = \"src\"\n");
    t.file("src/.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let run = |day: &str| {
        let out = run_in(
            t.path(),
            &[
                "run",
                "-q",
                "--targets",
                "estate.toml",
                "--datastore",
                "f.db",
                "--run",
                day,
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
    };
    run("monday");
    let out = run_in(
        t.path(),
        &["report", "--datastore", "f.db", "--run", "tuesday"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no run tuesday") && out.stderr.contains("monday"),
        "{}",
        out.stderr
    );
    // A second run: the same secret is not new; a new one is.
    t.file("src/more.env", format!("AWS_ACCESS_KEY_ID={AWS_ID}\n"));
    run("tuesday");
    let out = run_in(
        t.path(),
        &[
            "report",
            "--datastore",
            "f.db",
            "--run",
            "latest",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(doc["run"]["id"], "tuesday");
    assert_eq!(doc["run"]["previous"], "monday");
    assert_eq!(
        doc["run"]["targets"][0]["new_findings"], 1,
        "{:#}",
        doc["run"]
    );
    let new: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["new"] == true)
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(new, ["aws-access-key-id"], "{:#}", doc["findings"]);
    for format in ["human", "markdown", "html"] {
        let out = run_in(
            t.path(),
            &[
                "report",
                "--datastore",
                "f.db",
                "--run",
                "tuesday",
                "--format",
                format,
            ],
        );
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        assert!(out.stdout.contains("tuesday"), "{format}: {}", out.stdout);
    }
}

#[test]
fn nightly_runs_read_only_new_commits_and_still_show_every_finding() {
    let t = Tree::new();
    let origin = t.join("origin");
    repo(
        &origin,
        &[(".env", Some(&format!("GITHUB_TOKEN={GITHUB}\n")))],
    );
    let inventory = |incremental: bool| {
        format!(
            "[[target]]\nname = \"app\"\ngit = \"file://{}\"\nincremental = {incremental}\n",
            origin.display()
        )
    };
    let run = |id: &str| {
        let out = run_in(
            t.path(),
            &[
                "run",
                "--targets",
                "estate.toml",
                "--datastore",
                "f.db",
                "--cache",
                "cache",
                "--run",
                id,
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stderr
    };
    let rules = |id: &str| -> Vec<String> {
        let out = run_in(
            t.path(),
            &[
                "report",
                "--datastore",
                "f.db",
                "--run",
                id,
                "--format",
                "json",
            ],
        );
        let doc: Value = serde_json::from_str(&out.stdout).expect("json");
        let mut r: Vec<String> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| format!("{} {}", f["rule"], f["path"]))
            .collect();
        r.sort();
        r
    };
    t.file("estate.toml", inventory(true));
    let first = run("monday");
    assert!(first.contains("1 findings in 1 blobs"), "{first}");

    // A commit with a new secret: the next night reads that commit's blob only.
    std::fs::write(
        origin.join("deploy.env"),
        format!("AWS_ACCESS_KEY_ID={AWS_ID}\n"),
    )
    .expect("write");
    git_in(&origin, &["add", "-A"], 600);
    git_in(&origin, &["commit", "-q", "-m", "deploy"], 600);
    let second = run("tuesday");
    assert!(second.contains("1 new findings in 1 blobs"), "{second}");
    let both = rules("tuesday");
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(rules("monday").len(), 1);

    // Tuesday's shard started again: its own earlier attempt is not built on.
    let again = run("tuesday");
    assert!(again.contains("2 findings in 2 blobs"), "{again}");
    assert_eq!(rules("tuesday"), both);

    // incremental = false reads everything, and sees the same.
    t.file("estate.toml", inventory(false));
    let full = run("wednesday");
    assert!(full.contains("2 findings in 2 blobs"), "{full}");
    assert_eq!(rules("wednesday"), both);
    // And an incremental night after a full one builds on it.
    t.file("estate.toml", inventory(true));
    let thursday = run("thursday");
    assert!(thursday.contains("0 new findings in 0 blobs"), "{thursday}");
    assert_eq!(rules("thursday"), both);
}

#[test]
fn assessments_kept_with_a_key_count_people_across_runs_of_assess() {
    let t = Tree::new();
    let table = |range: std::ops::RangeInclusive<u32>, phone_only: &[u32]| {
        let mut csv = String::from("name,id_card,mobile\n");
        for i in range {
            csv.push_str(&format!("客户{i},{},{}\n", resident_id(i), phone(i)));
        }
        for i in phone_only {
            csv.push_str(&format!(",,{}\n", phone(*i)));
        }
        csv
    };
    // Customers 1-50 in one export, 26-75 in another found a week later, with
    // phone-only rows of customers 1-5: 75 people.
    t.file("week1/a.csv", table(1..=50, &[]));
    t.file("week2/b.csv", table(26..=75, &[1, 2, 3, 4, 5]));
    assert_eq!(run_in(t.path(), &["trace", "key", "--out", "k"]).code, 0);
    for dir in ["week1", "week2"] {
        let out = run_in(
            t.path(),
            &[
                "assess",
                "--datastore",
                "f.db",
                "--key",
                "k",
                "--run",
                "incident-42",
                dir,
            ],
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains("as run incident-42"), "{}", out.stderr);
    }
    let out = run_in(
        t.path(),
        &[
            "report",
            "--datastore",
            "f.db",
            "--run",
            "incident-42",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        doc["run"]["people"]["distinct_people"], 75,
        "{:#}",
        doc["run"]
    );
    let targets: Vec<&str> = doc["run"]["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(targets, ["week1", "week2"]);
    // The store holds fingerprints, never the identifiers.
    let db = std::fs::read(t.join("f.db")).expect("store");
    for value in [resident_id(30), phone(30)] {
        assert!(
            !db.windows(value.len()).any(|w| w == value.as_bytes()),
            "{value} stored raw"
        );
    }
    // A key without a datastore has nowhere to keep anything.
    let out = run_in(t.path(), &["assess", "--key", "k", "week1"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    // An estate run is not mixed with assessments.
    t.file("estate.toml", "[[target]]\npath = \"week1\"\n");
    let out = run_in(
        t.path(),
        &[
            "run",
            "-q",
            "--targets",
            "estate.toml",
            "--datastore",
            "f.db",
            "--run",
            "nightly",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run_in(
        t.path(),
        &["assess", "--datastore", "f.db", "--run", "nightly", "week2"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("estate run"), "{}", out.stderr);
}
