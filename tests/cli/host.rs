//! `leakhound host`: on a fixture /proc tree and file system (renamed and deleted
//! executables, a pool connection, a cron entry), and on the live machine with a
//! harmless process named like a miner and a loopback connection to a pool port.

use crate::tree::{run_in, Tree};
use serde_json::Value;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const WALLET: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";

fn host(dir: &Path, extra: &[&str]) -> (Vec<Value>, i32, String) {
    let mut args = vec!["host", "--format", "jsonl"];
    args.extend_from_slice(extra);
    let run = run_in(dir, &args);
    assert!(
        run.code == 0 || run.code == 1,
        "host failed: {}",
        run.stderr
    );
    let found = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl {l:?}: {e}")))
        .collect();
    (found, run.code, run.stderr)
}

/// (rule, pid or path) per finding, sorted.
fn summary(found: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = found
        .iter()
        .map(|f| {
            let at = f["process"]["pid"].as_u64().map_or_else(
                || f["path"].as_str().unwrap_or("?").to_string(),
                |p| format!("pid {p}"),
            );
            format!("{} {at}", f["rule"].as_str().unwrap_or("?"))
        })
        .collect();
    v.sort();
    v
}

/// One fake process under `proc`.
struct Fake<'a> {
    pid: u32,
    name: &'a str,
    args: &'a [&'a str],
    exe: &'a str,
    uid: u32,
    /// Seconds since boot it started at, CPU seconds used.
    start: u64,
    cpu: u64,
    sockets: &'a [u64],
}

fn fake_process(proc: &Path, p: &Fake<'_>) {
    let dir = proc.join(p.pid.to_string());
    std::fs::create_dir_all(dir.join("fd")).expect("mkdir");
    std::fs::write(dir.join("comm"), format!("{}\n", p.name)).expect("comm");
    let mut cmdline = Vec::new();
    for a in p.args {
        cmdline.extend_from_slice(a.as_bytes());
        cmdline.push(0);
    }
    std::fs::write(dir.join("cmdline"), cmdline).expect("cmdline");
    symlink(p.exe, dir.join("exe")).expect("exe link");
    std::fs::write(
        dir.join("status"),
        format!("Name:\t{}\nUid:\t{0}\t{0}\t{0}\t{0}\n", p.uid)
            .replace(&format!("Name:\t{}", p.uid), &format!("Name:\t{}", p.name)),
    )
    .expect("status");
    // Fields 14/15 (utime, stime) and 22 (starttime), in ticks of 1/100 s.
    let ticks = p.cpu * 100;
    std::fs::write(
        dir.join("stat"),
        format!(
            "{} ({}) S 1 1 1 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0 {} 1000 100",
            p.pid,
            p.name,
            p.start * 100
        ),
    )
    .expect("stat");
    for (i, inode) in p.sockets.iter().enumerate() {
        symlink(
            format!("socket:[{inode}]"),
            dir.join("fd").join((i + 3).to_string()),
        )
        .expect("fd link");
    }
}

/// A machine image: processes, one connection, passwd and a cron entry.
fn fixture(t: &Tree, infected: bool) {
    let proc = t.join("proc");
    std::fs::create_dir_all(proc.join("net")).expect("mkdir");
    std::fs::write(proc.join("uptime"), "100000.00 150000.00\n").expect("uptime");
    std::fs::write(proc.join("stat"), "cpu 1 2 3\nbtime 1764000000\n").expect("stat");
    t.file(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nwww:x:33:33::/var/www:/bin/sh\n",
    );
    // Clean processes: a web server, a busy database (known service), init.
    let nginx = Fake {
        pid: 300,
        name: "nginx",
        args: &["nginx: master process /usr/sbin/nginx"],
        exe: "/usr/sbin/nginx",
        uid: 0,
        start: 50,
        cpu: 30,
        sockets: &[],
    };
    let postgres = Fake {
        pid: 400,
        name: "postgres",
        args: &["/usr/lib/postgresql/15/bin/postgres"],
        exe: "/usr/lib/postgresql/15/bin/postgres",
        uid: 0,
        start: 100,
        cpu: 95_000,
        sockets: &[],
    };
    let init = Fake {
        pid: 1,
        name: "systemd",
        args: &["/sbin/init"],
        exe: "/usr/lib/systemd/systemd",
        uid: 0,
        start: 1,
        cpu: 200,
        sockets: &[],
    };
    for p in [&nginx, &postgres, &init] {
        fake_process(&proc, p);
    }
    let mut tcp = String::from("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
    // nginx serving a client on port 443 (not a pool): no finding.
    tcp.push_str("   0: 0A00000A:01BB 0B00000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 800 1 0 20 4 30 10 -1\n");
    if infected {
        let stratum = "stratum+tcp://pool.supportxmr.com:3333".to_string();
        // Renamed miner: an innocent name, run from /var/tmp, pool arguments, heavy CPU.
        let renamed_args = [
            "kworker-upd",
            "-o",
            stratum.as_str(),
            "-u",
            WALLET,
            "--donate-level=1",
            "-a",
            "rx/0",
        ];
        fake_process(
            &proc,
            &Fake {
                pid: 100,
                name: "kworker-upd",
                args: &renamed_args,
                exe: "/var/tmp/.x/kworker-upd",
                uid: 33,
                start: 1000,
                cpu: 90_000,
                sockets: &[555],
            },
        );
        // Deleted dropper binary, still running, no arguments.
        fake_process(
            &proc,
            &Fake {
                pid: 200,
                name: "kdevtmpfsi",
                args: &[],
                exe: "/tmp/kdevtmpfsi (deleted)",
                uid: 33,
                start: 2000,
                cpu: 10,
                sockets: &[],
            },
        );
        // An unknown program burning a core for a day.
        fake_process(
            &proc,
            &Fake {
                pid: 500,
                name: "dataproc",
                args: &["/opt/dp/dataproc"],
                exe: "/opt/dp/dataproc",
                uid: 0,
                start: 10_000,
                cpu: 85_000,
                sockets: &[],
            },
        );
        // pid 100 connected to 10.1.2.3:3333 (0x0D05).
        tcp.push_str("   1: 0A00000A:C001 0302010A:0D05 01 00000000:00000000 00:00000000 00000000    33        0 555 1 0 20 4 30 10 -1\n");
        t.file(
            "etc/cron.d/sysupdate",
            format!("@reboot www /var/tmp/.x/kworker-upd -o {stratum} -u {WALLET}\n"),
        );
    }
    std::fs::write(proc.join("net/tcp"), tcp).expect("tcp");
}

#[test]
fn a_fixture_host_with_a_renamed_miner_a_deleted_dropper_and_a_cron_entry() {
    let t = Tree::new();
    fixture(&t, true);
    let root = t.path().display().to_string();
    let (found, code, stderr) = host(t.path(), &["--root", &root]);
    assert_eq!(code, 1, "{stderr}");
    let mut expected: Vec<String> = [
        "host-deleted-executable pid 200",
        "host-executable-in-temp pid 100",
        "host-miner-arguments pid 100",
        "host-miner-process pid 200",
        "host-mining-algorithm pid 100",
        "host-pool-port-connection pid 100",
        "host-sustained-cpu pid 100",
        "host-sustained-cpu pid 500",
        "miner-donate-level pid 100",
        "mining-pool-domain pid 100",
        "monero-address pid 100",
        &format!("mining-pool-domain {root}/etc/cron.d/sysupdate"),
        &format!("monero-address {root}/etc/cron.d/sysupdate"),
        &format!("stratum-pool-url {root}/etc/cron.d/sysupdate"),
        "stratum-pool-url pid 100",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.sort();
    assert_eq!(summary(&found), expected, "{found:#?}");
    let conn = found
        .iter()
        .find(|f| f["rule"] == "host-pool-port-connection")
        .expect("connection finding");
    assert_eq!(
        conn["severity"], "high",
        "the port is named by a pool URL on the host"
    );
    let p = &conn["process"];
    assert_eq!(p["user"], "www");
    assert_eq!(p["exe"], "/var/tmp/.x/kworker-upd");
    assert_eq!(p["started"], "2025-11-24T16:16:40Z", "boot time + 1000 s");
    assert!((p["cpu_percent"].as_f64().unwrap_or(0.0) - 90.9).abs() < 0.1);
    let cmdline = p["cmdline"].as_str().unwrap_or("");
    assert!(cmdline.starts_with("kworker-upd -o "), "{cmdline}");
    assert!(
        !cmdline.contains(WALLET),
        "wallet shown in clear: {cmdline}"
    );
    let deleted = found
        .iter()
        .find(|f| f["rule"] == "host-deleted-executable")
        .expect("deleted");
    assert_eq!(deleted["severity"], "high", "deleted from /tmp");
    // --reveal shows the command line whole.
    let (revealed, _, _) = host(t.path(), &["--root", &root, "--reveal"]);
    assert!(revealed.iter().any(|f| f["process"]["cmdline"]
        .as_str()
        .is_some_and(|c| c.contains(WALLET))));
}

#[test]
fn a_clean_fixture_host_gives_no_findings() {
    let t = Tree::new();
    fixture(&t, false);
    let root = t.path().display().to_string();
    let (found, code, stderr) = host(t.path(), &["--root", &root]);
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(code, 0, "{stderr}");
    let human = run_in(t.path(), &["host", "--root", &root, "--color", "never"]);
    assert!(
        human.stdout.contains("Checked 3 processes, 1 connections"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("No findings."), "{}", human.stdout);
}

#[test]
fn a_missing_proc_tree_is_an_error() {
    let t = Tree::new();
    let run = run_in(t.path(), &["host", "--proc-root", "no/such/proc"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read processes in no/such/proc"),
        "{}",
        run.stderr
    );
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_live_machine_shows_a_miner_named_process_and_a_pool_connection() {
    let t = Tree::new();
    // A harmless `sleep`, copied under a miner's name.
    let fake_miner = t.join("xmrig");
    std::fs::copy("/bin/sleep", &fake_miner).expect("copy sleep");
    // Another test thread may fork while the copy's write handle is open; the child
    // holds it until it execs, and exec of the copy then fails with ETXTBSY ("text
    // file busy"). It clears within milliseconds: retry.
    let mut tries = 0;
    let named = loop {
        match Command::new(&fake_miner)
            .arg("60")
            .stdout(Stdio::null())
            .spawn()
        {
            Ok(child) => break Running(child),
            Err(e) if e.raw_os_error() == Some(26) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("start fake miner: {e}"),
        }
    };
    // A loopback listener on a pool port, and this test connected to it.
    let listener = [3333u16, 14444, 5555, 7777, 45700]
        .iter()
        .find_map(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).ok())
        .expect("a free pool port");
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    // A renamed miner: `sh` whose command line carries pool arguments naming that pool.
    let pool = format!("stratum+tcp://127.0.0.1:{port}");
    let renamed = Running(
        Command::new("sh")
            .args([
                "-c",
                "sleep 60",
                "kthreadd",
                "-o",
                &pool,
                "--donate-level",
                "1",
            ])
            .spawn()
            .expect("start sh"),
    );
    let _client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let _server_side = listener.accept().expect("accept");
    std::thread::sleep(std::time::Duration::from_millis(200));

    let (found, code, stderr) = host(t.path(), &["--cpu-threshold", "0", "--reveal"]);
    assert_eq!(code, 1, "{stderr}");
    let by = |rule: &str, pid: u32| {
        found
            .iter()
            .any(|f| f["rule"] == rule && f["process"]["pid"].as_u64() == Some(u64::from(pid)))
    };
    assert!(by("host-miner-process", named.0.id()), "{found:#?}");
    assert!(by("host-executable-in-temp", named.0.id()) || !fake_miner.starts_with("/tmp"));
    assert!(by("host-miner-arguments", renamed.0.id()), "{found:#?}");
    assert!(by("stratum-pool-url", renamed.0.id()), "{found:#?}");
    let remote = format!("127.0.0.1:{port}");
    let conn = found
        .iter()
        .find(|f| {
            f["rule"] == "host-pool-port-connection"
                && f["line_text"]
                    .as_str()
                    .is_some_and(|l| l.contains(&format!("-> {remote}")))
        })
        .unwrap_or_else(|| panic!("no connection to {remote}: {found:#?}"));
    assert_eq!(
        conn["process"]["pid"].as_u64(),
        Some(u64::from(std::process::id())),
        "the connection is mapped to this test's process"
    );
    assert_eq!(
        conn["severity"], "high",
        "a pool URL on the machine names this port"
    );

    // With --resolve, the pool host in the command line is looked up (127.0.0.1 needs
    // no DNS) and the connection is matched by address.
    let (resolved, _, _) = host(t.path(), &["--cpu-threshold", "0", "--reveal", "--resolve"]);
    assert!(
        resolved
            .iter()
            .any(|f| f["rule"] == "host-pool-host-connection" && f["match"] == remote.as_str()),
        "{resolved:#?}"
    );
    drop(renamed);
}

/// `host --datastore` records its findings like a scan does, and decisions taken on
/// them stick: once every finding is triaged as accepted, the next check passes.
#[test]
fn host_findings_are_recorded_and_triage_sticks() {
    let t = Tree::new();
    fixture(&t, true);
    let root = t.path().display().to_string();
    let db = t.join("findings.db").display().to_string();
    let (found, code, stderr) = host(t.path(), &["--root", &root, "--datastore", &db]);
    assert_eq!((found.len(), code), (15, 1), "{stderr}");
    assert!(stderr.contains("recorded scan 1"), "{stderr}");
    let stored = run_in(
        t.path(),
        &["report", "--datastore", &db, "--format", "jsonl"],
    );
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    let stored: Vec<Value> = stored
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        stored.iter().any(|f| f["rule"] == "host-miner-process"),
        "{stored:#?}"
    );
    assert!(
        !stored.iter().any(|f| f.to_string().contains(WALLET)),
        "the datastore holds masked values only"
    );
    let mut fingerprints: Vec<&str> = stored
        .iter()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    for fp in &fingerprints {
        let run = run_in(
            t.path(),
            &[
                "triage",
                fp,
                "--status",
                "accepted",
                "--by",
                "ops",
                "--datastore",
                &db,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let (again, code, stderr) = host(t.path(), &["--root", &root, "--datastore", &db]);
    assert_eq!(again.len(), 15);
    assert_eq!(code, 0, "every finding is decided: {stderr}");
    assert!(
        again.iter().all(|f| f["status"] == "accepted"),
        "{again:#?}"
    );
}

/// A compromised image can point `cmdline` at `/dev/zero`, make it a FIFO, and name a
/// process with terminal escapes: the device and the FIFO are refused (the device took
/// 7.7 GB in 30 s, the FIFO hung forever) and the name is shown escaped.
#[test]
fn hostile_proc_entries_are_read_bounded_and_shown_escaped() {
    let t = Tree::new();
    fixture(&t, false);
    let proc = t.join("proc");
    fake_process(
        &proc,
        &Fake {
            pid: 666,
            name: "xmrig\x1b]0;owned\x07",
            args: &["xmrig\x1b[2J", "-o", "stratum+tcp://pool.example:3333"],
            exe: "/tmp/.x/xmrig\x1b[2J",
            uid: 0,
            start: 10,
            cpu: 90_000,
            sockets: &[],
        },
    );
    let zero = proc.join("666/cmdline");
    std::fs::remove_file(&zero).expect("rm cmdline");
    symlink("/dev/zero", &zero).expect("zero link");
    // A FIFO as `cmdline`: opening it for reading waited for a writer forever.
    fake_process(
        &proc,
        &Fake {
            pid: 667,
            name: "sleeper",
            args: &["sleeper"],
            exe: "/usr/bin/sleeper",
            uid: 0,
            start: 10,
            cpu: 1,
            sockets: &[],
        },
    );
    let fifo = proc.join("667/cmdline");
    std::fs::remove_file(&fifo).expect("rm cmdline");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let root = t.path().display().to_string();
    let started = std::time::Instant::now();
    let run = run_in(t.path(), &["host", "--root", &root, "--color", "never"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert!(started.elapsed().as_secs() < 60, "unbounded read");
    assert!(
        !run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'),
        "{}",
        run.stdout
    );
}
