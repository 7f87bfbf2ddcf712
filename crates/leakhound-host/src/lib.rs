//! The running machine as an input: its processes, their connections and the files
//! that start programs at boot or login, checked for crypto-mining.
//!
//! Everything is read-only and local. Process command lines and start-up files go
//! through the same [`Scanner`] as files (the `mining` rule pack: pool URLs, wallets,
//! miner configs); on top of that this crate knows what only a live machine shows:
//! miner process names, miner-only arguments, executables deleted while running or
//! run from temporary folders, connections to pool ports or to pools named on the
//! machine, and long, heavy CPU use. The indicators are data (`indicators.toml`).
//!
//! Without root, other users' open files cannot be read, so their connections are
//! listed without an owner; everything else works.
#![deny(missing_docs)]

mod net;
mod procfs;

use leakhound_findings::{
    fingerprint, Category, Confidence, Finding, Location, ProcessRef, Severity,
};
use leakhound_scan::Scanner;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to inspect and how.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The file system root whose start-up files are checked (`/`, or a mounted image).
    pub root: PathBuf,
    /// The /proc tree to read; `None`: `/proc` for `/`, else `ROOT/proc`.
    pub proc_root: Option<PathBuf>,
    /// Report processes using more than this share of one core over their life
    /// (percent); 0 turns the check off.
    pub cpu_threshold: f64,
    /// ...and running for at least this many seconds.
    pub cpu_min_age_secs: f64,
    /// Look up pool host names found on the machine (DNS), to match connections to
    /// them by address. Off by default: nothing leaves the machine unasked.
    pub resolve: bool,
    /// Show command lines unmasked (`--reveal`).
    pub reveal: bool,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            root: PathBuf::from("/"),
            proc_root: None,
            cpu_threshold: 80.0,
            cpu_min_age_secs: 600.0,
            resolve: false,
            reveal: false,
        }
    }
}

/// What an inspection found and covered.
#[derive(Debug, Default)]
pub struct HostReport {
    /// Findings, processes first (by pid), then connections, then files.
    pub findings: Vec<Finding>,
    /// Processes read.
    pub processes: usize,
    /// Outgoing or established TCP connections read.
    pub connections: usize,
    /// Start-up files and folders checked (those that exist).
    pub startup_paths: Vec<PathBuf>,
    /// What could not be inspected.
    pub problems: Vec<String>,
}

/// Why an inspection could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The /proc tree cannot be listed.
    #[error("cannot read processes in {path}: {source}")]
    Proc {
        /// The /proc root.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The built-in indicators do not parse (a build defect).
    #[error("built-in host indicators are broken: {0}")]
    Indicators(String),
}

/// The indicator lists of `indicators.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Indicators {
    miner_names: Vec<String>,
    miner_flags: Vec<String>,
    algorithms: Vec<String>,
    pool_ports: Vec<u16>,
    busy_services: Vec<String>,
}

impl Indicators {
    fn builtin() -> Result<Indicators, HostError> {
        let mut i: Indicators = toml::from_str(include_str!("../indicators.toml"))
            .map_err(|e| HostError::Indicators(e.to_string()))?;
        for list in [&mut i.miner_names, &mut i.algorithms, &mut i.busy_services] {
            for v in list.iter_mut() {
                *v = v.to_lowercase();
            }
        }
        Ok(i)
    }
}

/// Start-up files and folders, relative to the root: where a miner is made to survive
/// a reboot or a login. Home folders are added from `home/*` and `root`.
const STARTUP: &[&str] = &[
    "etc/systemd/system",
    "etc/systemd/user",
    "etc/crontab",
    "etc/cron.d",
    "etc/cron.hourly",
    "etc/cron.daily",
    "etc/cron.weekly",
    "etc/cron.monthly",
    "var/spool/cron",
    "etc/rc.local",
    "etc/init.d",
    "etc/profile",
    "etc/profile.d",
    "etc/bash.bashrc",
    "etc/ld.so.preload",
    "etc/xdg/autostart",
];

/// Per-user start-up files, relative to a home folder.
const USER_STARTUP: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".zshrc",
    ".config/systemd/user",
    ".config/autostart",
];

/// Inspect the machine (or image) `options` names. Process command lines and start-up
/// files are matched with `scanner` (give it the `mining` pack).
pub fn inspect(options: &HostOptions, scanner: &Scanner) -> Result<HostReport, HostError> {
    let indicators = Indicators::builtin()?;
    let proc_root = options
        .proc_root
        .clone()
        .unwrap_or_else(|| procfs::default_proc_root(&options.root));
    let mut report = HostReport::default();
    let processes = procfs::processes(&proc_root).map_err(|source| HostError::Proc {
        path: proc_root.clone(),
        source,
    })?;
    let clock = procfs::clock(&proc_root);
    let users = procfs::users(&options.root);
    report.processes = processes.len();
    let own_pid = std::process::id();
    let live = proc_root == Path::new("/proc");

    // Pool endpoints named anywhere on the machine: command lines now, files below.
    let mut pool_endpoints: Vec<(String, Option<u16>)> = Vec::new();
    let mut by_socket: HashMap<u64, usize> = HashMap::new();
    for (i, p) in processes.iter().enumerate() {
        for s in &p.sockets {
            by_socket.insert(*s, i);
        }
    }

    let mut process_findings: Vec<Finding> = Vec::new();
    for p in &processes {
        if live && p.pid == own_pid {
            continue;
        }
        let reference = process_ref(p, &users, clock);
        let place = format!("{}/{}", proc_root.display(), p.pid);
        let mut found: Vec<Finding> = Vec::new();
        // The engine on the command line (and the executable's path when argv[0] does
        // not already name it): pool URLs, wallets, miner command lines.
        let cmdline = p.cmdline();
        let text = match (&p.exe, p.exe_name()) {
            (Some(exe), Some(name)) if !cmdline.contains(name) => format!("{cmdline}\n{exe}"),
            _ => cmdline,
        };
        if !text.trim().is_empty() {
            scanner.scan_blob(&place, text.as_bytes(), &mut |f| {
                if f.rule.as_ref() == "stratum-pool-url" || f.rule.as_ref() == "mining-pool-domain"
                {
                    pool_endpoints.push(endpoint(&f.value));
                }
                found.push(f);
            });
        }
        let own = process_indicators(p, &indicators, &place, options, clock);
        // A process already named as a miner needs no second "mentions a miner".
        if own.iter().any(|f| f.rule.as_ref() == "host-miner-process") {
            found.retain(|f| f.rule.as_ref() != "miner-binary-reference");
        }
        found.extend(own);
        let masked = if options.reveal {
            p.cmdline()
        } else {
            masked_cmdline(p, &found)
        };
        for mut f in found {
            let mut r = reference.clone();
            r.cmdline = masked.clone();
            f.process = Some(Box::new(r));
            f.line_text = None;
            process_findings.push(f);
        }
    }

    // Start-up files, through the file scanner.
    let mut startup: Vec<PathBuf> = STARTUP.iter().map(|p| options.root.join(p)).collect();
    let mut homes = vec![options.root.join("root")];
    if let Ok(dir) = std::fs::read_dir(options.root.join("home")) {
        homes.extend(dir.flatten().map(|e| e.path()));
    }
    for h in &homes {
        startup.extend(USER_STARTUP.iter().map(|p| h.join(p)));
    }
    startup.retain(|p| p.exists());
    let mut file_findings = Vec::new();
    if !startup.is_empty() {
        let problems = std::sync::Mutex::new(Vec::new());
        let on_problem = |p: &leakhound_inputs::Problem| {
            if let Ok(mut all) = problems.lock() {
                all.push(p.to_string());
            }
        };
        match scanner.scan_paths(&startup, &on_problem) {
            Ok((found, _)) => {
                // A host's start-up files hold a handful of findings: never spilled.
                let found = found.into_vec().unwrap_or_else(|e| {
                    report.problems.push(e.to_string());
                    Vec::new()
                });
                for f in &found {
                    if f.rule.as_ref() == "stratum-pool-url"
                        || f.rule.as_ref() == "mining-pool-domain"
                    {
                        pool_endpoints.push(endpoint(&f.value));
                    }
                }
                file_findings = found;
            }
            Err(e) => report.problems.push(e.to_string()),
        }
        report
            .problems
            .extend(problems.into_inner().unwrap_or_default());
    }
    report.startup_paths = startup;

    // Connections.
    let connections = net::connections(&proc_root);
    report.connections = connections.len();
    let resolved = if options.resolve {
        resolve(&pool_endpoints)
    } else {
        HashSet::new()
    };
    let pool_ports: HashSet<u16> = indicators.pool_ports.iter().copied().collect();
    let named_ports: HashSet<u16> = pool_endpoints.iter().filter_map(|(_, p)| *p).collect();
    let mut connection_findings = Vec::new();
    for c in &connections {
        let owner = by_socket.get(&c.inode).map(|&i| &processes[i]);
        let port = c.remote.port();
        let (rule, name, severity, confidence, why) = if resolved.contains(&c.remote.ip()) {
            (
                "host-pool-host-connection",
                "Connection to a mining pool named on this machine",
                Severity::Critical,
                Confidence::High,
                "its address is a pool host named in a command line or start-up file",
            )
        } else if named_ports.contains(&port) {
            (
                "host-pool-port-connection",
                "Connection to the port of a mining pool named on this machine",
                Severity::High,
                Confidence::Medium,
                "its port is the port of a pool URL found on this machine",
            )
        } else if pool_ports.contains(&port) {
            (
                "host-pool-port-connection",
                "Connection to a common mining-pool port",
                Severity::Medium,
                Confidence::Low,
                "its port is one mining pools commonly use",
            )
        } else {
            continue;
        };
        let value = c.remote.to_string();
        let mut f = host_finding(
            rule,
            name,
            severity,
            confidence,
            &format!("{}/net/tcp", proc_root.display()),
            &value,
        );
        f.line_text = Some(format!("{} -> {} ({why})", c.local, c.remote).into());
        if let Some(p) = owner {
            let mut r = process_ref(p, &users, clock);
            if !options.reveal {
                r.cmdline = masked_cmdline(p, &process_findings_for(&process_findings, p.pid));
            }
            f.process = Some(Box::new(r));
        }
        connection_findings.push(f);
    }

    report.findings = process_findings;
    report.findings.extend(connection_findings);
    report.findings.extend(file_findings);
    if report.processes == 0 {
        report
            .problems
            .push(format!("{}: no processes found", proc_root.display()));
    }
    Ok(report)
}

fn process_findings_for(all: &[Finding], pid: u32) -> Vec<Finding> {
    all.iter()
        .filter(|f| f.process.as_ref().is_some_and(|p| p.pid == pid))
        .cloned()
        .collect()
}

/// Indicators only a running process shows.
fn process_indicators(
    p: &procfs::Process,
    ind: &Indicators,
    place: &str,
    options: &HostOptions,
    clock: procfs::Clock,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let names: Vec<String> = [Some(p.name.as_str()), p.exe_name()]
        .into_iter()
        .flatten()
        .map(str::to_lowercase)
        .collect();
    let argv0 = p
        .args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_lowercase());
    if let Some(n) = names
        .iter()
        .chain(argv0.iter())
        .find(|n| ind.miner_names.contains(n))
    {
        out.push(host_finding(
            "host-miner-process",
            "Process named like a crypto miner",
            Severity::High,
            Confidence::Medium,
            place,
            n,
        ));
    }
    let mut args = p.args.iter().peekable();
    let mut flagged = false;
    while let Some(a) = args.next() {
        let key = a.split('=').next().unwrap_or(a);
        if ind.miner_flags.iter().any(|f| f == key) && !flagged {
            flagged = true;
            out.push(host_finding(
                "host-miner-arguments",
                "Process started with arguments only miners take",
                Severity::High,
                Confidence::High,
                place,
                a,
            ));
        }
        if matches!(key, "-a" | "--algo" | "--algorithm") {
            let value = a
                .split_once('=')
                .map(|(_, v)| v.to_string())
                .or_else(|| args.peek().map(|v| v.to_string()));
            if let Some(v) = value.filter(|v| ind.algorithms.contains(&v.to_lowercase())) {
                out.push(host_finding(
                    "host-mining-algorithm",
                    "Process told to use a mining algorithm",
                    Severity::High,
                    Confidence::High,
                    place,
                    &v,
                ));
            }
        }
    }
    let exe = p.exe.as_deref().unwrap_or("");
    let exe_path = exe.strip_suffix(" (deleted)").unwrap_or(exe);
    let in_temp = ["/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/"]
        .iter()
        .any(|t| exe_path.starts_with(t));
    // Run from an anonymous in-memory file: fileless malware does this, and so does
    // runc when it re-executes itself, so it is a medium signal alone.
    let memfd = exe_path.starts_with("/memfd:");
    if p.deleted() {
        // Daemons keep running on a deleted binary after a package upgrade: that
        // alone is weak. Deleted from a temporary folder is how droppers hide.
        let (severity, confidence) = if in_temp || !out.is_empty() {
            (Severity::High, Confidence::High)
        } else if memfd {
            (Severity::Medium, Confidence::Medium)
        } else {
            (Severity::Low, Confidence::Low)
        };
        out.push(host_finding(
            "host-deleted-executable",
            "Process running from a deleted executable",
            severity,
            confidence,
            place,
            exe,
        ));
    } else if in_temp {
        out.push(host_finding(
            "host-executable-in-temp",
            "Process running from a temporary folder",
            Severity::Medium,
            Confidence::Medium,
            place,
            exe_path,
        ));
    }
    let age = clock.uptime - p.start_secs;
    if options.cpu_threshold > 0.0 && age >= options.cpu_min_age_secs && age > 0.0 {
        let percent = 100.0 * p.cpu_secs / age;
        let known = names.iter().any(|n| ind.busy_services.contains(n));
        if percent >= options.cpu_threshold && !known {
            out.push(host_finding(
                "host-sustained-cpu",
                "Process using a core for a long time (miners do)",
                Severity::Low,
                Confidence::Low,
                place,
                &format!("{percent:.0}% of a core for {:.0} min", age / 60.0),
            ));
        }
    }
    out
}

fn host_finding(
    rule: &str,
    name: &str,
    severity: Severity,
    confidence: Confidence,
    path: &str,
    value: &str,
) -> Finding {
    Finding {
        rule: Arc::from(rule),
        name: Arc::from(name),
        category: Category::Mining,
        severity,
        confidence,
        location: Location {
            path: path.to_string(),
            line: 1,
            column: 1,
            offset: 0,
        },
        value: value.to_string(),
        fingerprint: fingerprint(rule, &format!("{path}\u{0}{value}")),
        validator: None,
        line_text: None,
        count: None,
        blob: "".into(),
        binary: false,
        git: None,
        triage: None,
        cell: None,
        process: None,
        column_values: None,
        decoded: None,
    }
}

fn process_ref(
    p: &procfs::Process,
    users: &HashMap<u32, String>,
    clock: procfs::Clock,
) -> ProcessRef {
    let started = jiff::Timestamp::from_second(clock.boot + p.start_secs as i64)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let age = clock.uptime - p.start_secs;
    ProcessRef {
        pid: p.pid,
        user: p
            .uid
            .map(|u| users.get(&u).cloned().unwrap_or_else(|| u.to_string()))
            .unwrap_or_default(),
        exe: p.exe.clone().unwrap_or_default(),
        cmdline: p.cmdline(),
        started,
        cpu_percent: if age > 0.0 {
            (1000.0 * p.cpu_secs / age).round() / 10.0
        } else {
            0.0
        },
    }
}

/// The command line with every value the engine found in it masked (wallets, pool
/// passwords).
fn masked_cmdline(p: &procfs::Process, found: &[Finding]) -> String {
    let mut line = p.cmdline();
    let mut values: Vec<&str> = found
        .iter()
        .filter(|f| !f.rule.starts_with("host-"))
        .map(|f| f.value.as_str())
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in values {
        line = line.replace(v, &leakhound_findings::mask(v));
    }
    line
}

/// `stratum+tcp://pool.example.com:4444` -> ("pool.example.com", Some(4444)).
fn endpoint(value: &str) -> (String, Option<u16>) {
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let hostport = rest.split('/').next().unwrap_or(rest);
    match hostport.rsplit_once(':') {
        Some((h, p)) => (h.to_lowercase(), p.parse().ok()),
        None => (hostport.to_lowercase(), None),
    }
}

fn resolve(endpoints: &[(String, Option<u16>)]) -> HashSet<std::net::IpAddr> {
    use std::net::ToSocketAddrs;
    let mut out = HashSet::new();
    for (host, port) in endpoints {
        if let Ok(addrs) = (host.as_str(), port.unwrap_or(0)).to_socket_addrs() {
            out.extend(addrs.map(|a: SocketAddr| a.ip()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_parse_and_are_lower_case() {
        let i = Indicators::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(i.miner_names.contains(&"xmrig".to_string()));
        assert!(i.pool_ports.contains(&3333));
        assert!(i.algorithms.iter().all(|a| *a == a.to_lowercase()));
    }

    #[test]
    fn pool_endpoints_split_host_and_port() {
        assert_eq!(
            endpoint("stratum+tcp://Pool.Example.com:4444"),
            ("pool.example.com".into(), Some(4444))
        );
        assert_eq!(
            endpoint("xmr.pool.minexmr.com"),
            ("xmr.pool.minexmr.com".into(), None)
        );
    }
}
