//! Where the datastore is, shared by `scan`, `triage` and `report`.

use anyhow::Context;
use clap::Args;
use leakhound_findings::{Finding, Severity, Status};
use leakhound_store::{ScanRecord, Store};

/// Where a recording command (`scan`, `assess`, `host`) keeps what it found. The
/// variable's value is never shown in help: it may be a URL with a password.
#[derive(Args, Clone, Debug, Default)]
pub struct DatastoreArg {
    /// Datastore: an SQLite file (created if missing) or a postgres:// URL. Without it
    /// (or LEAKHOUND_DATASTORE), nothing is recorded.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "LEAKHOUND_DATASTORE",
        hide_env_values = true
    )]
    pub datastore: Option<String>,
}

/// The datastore a reading command (`report`, `triage`) works on: it must exist,
/// since an empty new one would answer "no findings" to a mistyped path.
#[derive(Args, Clone, Debug, Default)]
pub struct ExistingDatastore {
    /// The datastore that `scan --datastore` recorded into: an SQLite file or a
    /// postgres:// URL (or LEAKHOUND_DATASTORE). Required.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "LEAKHOUND_DATASTORE",
        hide_env_values = true
    )]
    pub datastore: Option<String>,
}

impl ExistingDatastore {
    /// Open the datastore, which must have been named and, for an SQLite file, exist.
    pub fn open(&self) -> anyhow::Result<Store> {
        let Some(spec) = &self.datastore else {
            anyhow::bail!(
                "no datastore: pass --datastore PATH|URL (the one `scan --datastore` recorded into) or set LEAKHOUND_DATASTORE"
            );
        };
        let file = spec.strip_prefix("sqlite://").unwrap_or(spec);
        if !file.contains("://") && !std::path::Path::new(file).exists() {
            anyhow::bail!(
                "no datastore at {}: record into it first (`leakhound scan --datastore {} PATH`)",
                crate::output::safe(spec),
                crate::output::safe(spec)
            );
        }
        Store::open(spec).with_context(|| format!("opening datastore {}", shown(spec)))
    }

    /// The datastore as messages may show it.
    pub fn shown(&self) -> String {
        self.datastore.as_deref().map(shown).unwrap_or_default()
    }
}

impl DatastoreArg {
    /// Open the datastore if one was named.
    pub fn open(&self) -> anyhow::Result<Option<Store>> {
        match &self.datastore {
            None => Ok(None),
            Some(spec) => Store::open(spec)
                .with_context(|| format!("opening datastore {}", shown(spec)))
                .map(Some),
        }
    }

    /// The datastore as messages may show it.
    pub fn shown(&self) -> String {
        self.datastore.as_deref().map(shown).unwrap_or_default()
    }
}

/// Record a run's findings (`scan` or `host`) and give each its standing decision;
/// warn when a value marked revoked turns up in a new place. Returns the scan's id.
pub fn record(
    store: &mut Store,
    run: &ScanRecord,
    findings: &mut [Finding],
    shown: &str,
    quiet: bool,
) -> anyhow::Result<i64> {
    let recorded = store
        .record(run, findings)
        .with_context(|| format!("recording the {} run in {shown}", run.kind))?;
    // Flag the new place only, not every place of a revoked value.
    let new_places: std::collections::HashSet<(&str, &str)> = recorded
        .reappeared
        .iter()
        .map(|r| (r.fingerprint.as_str(), r.path.as_str()))
        .collect();
    for f in findings.iter_mut() {
        if let Some(t) = recorded.triage.get(&f.fingerprint) {
            let mut t = t.clone();
            t.reappeared = new_places.contains(&(f.fingerprint.as_str(), f.location.path.as_str()));
            f.triage = Some(Box::new(t));
        }
    }
    if !quiet {
        eprintln!(
            "leakhound: recorded scan {} in {shown}: {} distinct values, {} new",
            recorded.scan_id,
            recorded.findings,
            recorded.new.len()
        );
        for r in &recorded.reappeared {
            eprintln!(
                "leakhound: warning: {} {} was marked revoked and is now also in {}",
                r.rule,
                &r.fingerprint[..12.min(r.fingerprint.len())],
                crate::output::safe(&r.path)
            );
        }
    }
    Ok(recorded.scan_id)
}

/// Whether a finding fails the run (exit 1): at or above `fail_on` (`--fail-on`), and
/// not settled. A decision recorded in the datastore (false positive, accepted,
/// revoked) stops it failing CI again, unless a revoked value has turned up somewhere
/// new.
pub fn fails(f: &Finding, fail_on: Severity) -> bool {
    if f.severity < fail_on {
        return false;
    }
    match f.triage.as_deref() {
        None => true,
        Some(t) => t.reappeared || matches!(t.status, Status::Open | Status::Confirmed),
    }
}

/// A datastore URL without its password, for messages and reports.
pub fn shown(spec: &str) -> String {
    match (spec.find("://"), spec.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &spec[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &spec[..scheme + 3], &spec[at..]),
                None => spec.to_string(),
            }
        }
        _ => spec.to_string(),
    }
}

/// Who is deciding: `--by`, else the login name (`$USER`, `$LOGNAME`, `%USERNAME%`),
/// else the account of the process's user id: root in a container and CI jobs often
/// have no `$USER`, and an audit trail of "unknown" helps nobody.
pub fn who(by: Option<&str>) -> String {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    by.map(str::to_string)
        .or_else(|| set("USER"))
        .or_else(|| set("LOGNAME"))
        .or_else(|| set("USERNAME"))
        .or_else(account_of_this_process)
        .unwrap_or_else(|| "unknown".into())
}

/// The account name of this process's real user id, from `/etc/passwd` (`uid N` when
/// the id has no entry there).
fn account_of_this_process() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    Some(account_in(&passwd, &uid).unwrap_or_else(|| format!("uid {uid}")))
}

/// The name `passwd` (the text of `/etc/passwd`) gives `uid`.
fn account_in(passwd: &str, uid: &str) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_account_is_found_by_its_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nci:x:1001:1001::/home/ci:/bin/sh\n";
        assert_eq!(super::account_in(passwd, "1001").as_deref(), Some("ci"));
        assert_eq!(super::account_in(passwd, "0").as_deref(), Some("root"));
        assert_eq!(super::account_in(passwd, "7"), None);
        assert_eq!(super::account_in("garbage", "0"), None);
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::shown("postgres://app:s3cret@db:5432/leaks"),
            "postgres://app:***@db:5432/leaks"
        );
        assert_eq!(super::shown("findings.db"), "findings.db");
        assert_eq!(super::shown("postgres://app@db/x"), "postgres://app@db/x");
    }
}
