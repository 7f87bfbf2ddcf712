//! The findings datastore: every scan, every finding and every place it was seen, and
//! what people decided about it. SQLite by default (one file, nothing to run);
//! PostgreSQL when a team or many scanning machines share one store.
//!
//! A finding is keyed by its fingerprint (rule and raw value), never by its line, so the
//! same secret seen again in another line, file, commit or scan is the same finding with
//! one more location, and a triage decision follows it everywhere.
//!
//! Raw values are never written: the store keeps masked values and masked lines only.
//!
//! ```
//! use leakhound_store::{ScanRecord, Store};
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = Store::open(dir.path().join("findings.db").to_str().unwrap()).unwrap();
//! let recorded = store.record(&ScanRecord::default(), &[]).unwrap();
//! assert_eq!(recorded.scan_id, 1);
//! ```
#![deny(missing_docs)]

mod accounts;
mod browse;
mod postgres_store;
mod rows;
mod runs;
mod schema;
mod sqlite_store;

pub use accounts::{Session, User};
pub use browse::{AuditCursor, AuditEntry, Cursor, Decision, FindingPage, FindingSummary};
pub use rows::{AssessmentRow, Filter, Reappeared, Recorded, ScanRecord, ScanRow, TriageOutcome};
pub use runs::{
    EstatePeople, Identity, IdentityClass, PlannedTarget, RunOverview, RunPlan, RunTarget,
    ShardState, TargetOutcome, TargetState,
};

use leakhound_findings::{Finding, Status};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Why the datastore could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused (locked, corrupt, not a database, disk full).
    #[error("SQLite datastore {path}: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// PostgreSQL refused or could not be reached.
    #[error("PostgreSQL datastore: {0}")]
    Postgres(#[from] postgres::Error),
    /// The server did not answer in time.
    #[error("PostgreSQL datastore: the server did not answer within {0} s (set connect_timeout=N in the URL to wait longer)")]
    Timeout(u64),
    /// The store was written by a newer leakhound whose schema this one does not know.
    #[error("the datastore has schema version {found}; this leakhound knows up to {known}: upgrade leakhound")]
    TooNew {
        /// Version in the store.
        found: i64,
        /// Newest version this binary knows.
        known: i64,
    },
    /// The file is another application's SQLite database: leakhound does not write into it.
    #[error("{0} is a SQLite database with tables of its own and no leakhound schema; it is left untouched (give a new file for the datastore)")]
    NotAStore(String),
    /// No finding has this fingerprint (or prefix).
    #[error("no finding with fingerprint {0}")]
    UnknownFingerprint(String),
    /// A fingerprint prefix that fits several findings.
    #[error("fingerprint prefix {prefix} fits {count} findings; give more characters")]
    AmbiguousFingerprint {
        /// What the user gave.
        prefix: String,
        /// How many findings it fits.
        count: usize,
    },
    /// A fingerprint prefix too short to be meant, or not hex.
    #[error("`{0}` is not a fingerprint (at least 8 hex characters)")]
    BadFingerprint(String),
    /// A value in the store that this binary cannot read back.
    #[error("datastore holds an unreadable value: {0}")]
    Corrupt(String),
}

/// An open datastore.
pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(sqlite_store::Sqlite),
    Postgres(Box<postgres_store::Postgres>),
}

impl Store {
    /// Open (creating and migrating as needed) the store named by `spec`: a
    /// `postgres://` or `postgresql://` URL, or a file path (`sqlite://` optional).
    pub fn open(spec: &str) -> Result<Store, StoreError> {
        let backend = if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            Backend::Postgres(Box::new(postgres_store::Postgres::open(spec)?))
        } else {
            let path = spec.strip_prefix("sqlite://").unwrap_or(spec);
            Backend::Sqlite(sqlite_store::Sqlite::open(Path::new(path))?)
        };
        Ok(Store { backend })
    }

    /// The files of an SQLite store (database, write-ahead log, shared memory), so a
    /// scan of the folder holding it does not scan its own findings. Empty for
    /// PostgreSQL.
    pub fn files(&self) -> Vec<std::path::PathBuf> {
        match &self.backend {
            Backend::Sqlite(s) => s.files(),
            Backend::Postgres(_) => Vec::new(),
        }
    }

    /// Which kind of store this is, for messages: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Record one scan and its findings in one transaction, and say what was new and
    /// which revoked values turned up in new places.
    pub fn record(
        &mut self,
        scan: &ScanRecord,
        findings: &[Finding],
    ) -> Result<Recorded, StoreError> {
        let batch = rows::Batch::new(findings);
        match &mut self.backend {
            Backend::Sqlite(s) => s.record(scan, &batch),
            Backend::Postgres(p) => p.record(scan, &batch),
        }
    }

    /// Set the status of the finding whose fingerprint is or starts with `fingerprint`
    /// (at least 8 hex characters), with a comment and who decided; logged with time.
    pub fn triage(
        &mut self,
        fingerprint: &str,
        status: Status,
        comment: Option<&str>,
        by: &str,
    ) -> Result<TriageOutcome, StoreError> {
        let prefix = fingerprint.trim().to_ascii_lowercase();
        if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::BadFingerprint(fingerprint.to_string()));
        }
        let at = rows::now();
        match &mut self.backend {
            Backend::Sqlite(s) => s.triage(&prefix, status, comment, by, &at),
            Backend::Postgres(p) => p.triage(&prefix, status, comment, by, &at),
        }
    }

    /// Findings, one per location, with their triage, in path order. Values are masked.
    pub fn findings(&mut self, filter: &Filter) -> Result<Vec<Finding>, StoreError> {
        let mut found = match &mut self.backend {
            Backend::Sqlite(s) => {
                let (sql, params) = rows::select_findings(filter, rows::Engine::Sqlite);
                s.load(&sql, &params)?
            }
            Backend::Postgres(p) => {
                let (sql, params) = rows::select_findings(filter, rows::Engine::Postgres);
                p.load(&sql, &params)?
            }
        };
        let latest = self.latest_scan()?.map(|s| s.id);
        for (finding, first_scan) in &mut found {
            if let Some(t) = finding.triage.as_deref_mut() {
                t.new = Some(*first_scan) == latest;
            }
        }
        Ok(found.into_iter().map(|(f, _)| f).collect())
    }

    /// Scans recorded, newest first.
    pub fn scans(&mut self, limit: usize) -> Result<Vec<ScanRow>, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(s) => s.scans(limit),
            Backend::Postgres(p) => p.scans(limit),
        }
    }

    /// The newest scan, if any.
    pub fn latest_scan(&mut self) -> Result<Option<ScanRow>, StoreError> {
        Ok(self.scans(1)?.into_iter().next())
    }

    /// Record the tables of one `leakhound assess` run (one transaction).
    pub fn record_assessments(&mut self, tables: &[AssessmentRow]) -> Result<(), StoreError> {
        self.record_run_assessments(tables, None, &[])
    }

    /// Record the tables of one target of an estate run with their keyed identities,
    /// in place of what an earlier attempt recorded for that target (one transaction).
    pub fn record_run_assessments(
        &mut self,
        tables: &[AssessmentRow],
        run: Option<&RunTarget>,
        identities: &[Identity],
    ) -> Result<(), StoreError> {
        let at = rows::now();
        match &mut self.backend {
            Backend::Sqlite(s) => s.record_assessments(tables, run, identities, &at),
            Backend::Postgres(p) => p.record_assessments(tables, run, identities, &at),
        }
    }

    fn in_transaction<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn runs::Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(s) => s.in_transaction(f),
            Backend::Postgres(p) => p.in_transaction(&mut f),
        }
    }

    /// Run `f` in a read transaction (SQLite: one that never blocks writers).
    fn in_read<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn runs::Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(s) => s.in_read(f),
            Backend::Postgres(p) => p.in_read(&mut f),
        }
    }

    /// One page of the findings `filter` selects (one row per finding, not per place),
    /// newest first, starting after `after`; at most `limit` (1 to 1,000); with their
    /// number, counted up to `cap` (and one more, to say "more than").
    pub fn finding_page(
        &mut self,
        filter: &Filter,
        after: Option<&Cursor>,
        limit: usize,
        cap: u64,
    ) -> Result<FindingPage, StoreError> {
        self.in_read(|tx| browse::page(tx, filter, after, limit, cap))
    }

    /// How many findings `filter` selects, counted up to `cap`.
    pub fn count_findings(&mut self, filter: &Filter, cap: u64) -> Result<u64, StoreError> {
        self.in_read(|tx| browse::count(tx, filter, cap))
    }

    /// The finding with this full fingerprint.
    pub fn finding(&mut self, fingerprint: &str) -> Result<Option<FindingSummary>, StoreError> {
        self.in_read(|tx| browse::one(tx, fingerprint))
    }

    /// Every decision about a finding, newest first.
    pub fn decisions(&mut self, fingerprint: &str) -> Result<Vec<Decision>, StoreError> {
        self.in_read(|tx| browse::decisions(tx, fingerprint))
    }

    /// Set the status of every finding in `fingerprints` (full fingerprints) in one
    /// transaction, logging each decision; returns those that exist.
    pub fn triage_many(
        &mut self,
        fingerprints: &[String],
        status: Status,
        comment: Option<&str>,
        by: &str,
    ) -> Result<Vec<String>, StoreError> {
        let at = rows::now();
        self.in_transaction(|tx| browse::triage_many(tx, fingerprints, status, comment, by, &at))
    }

    /// Add a line to the audit log (logins, accounts; decisions log themselves).
    pub fn audit(
        &mut self,
        by: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.in_transaction(|tx| browse::log(tx, by, action, subject, detail))
    }

    /// One page of the audit log, newest first: every triage decision (CLI and web)
    /// and account event; `limit` entries from `from`, and where the next page starts.
    pub fn audit_log(
        &mut self,
        from: Option<&AuditCursor>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<AuditCursor>), StoreError> {
        self.in_read(|tx| browse::audit_log(tx, from, limit))
    }

    /// Make an account or change it (role, password hash, disabled); logs who did it.
    /// Returns whether it was new.
    pub fn put_user(&mut self, user: &User, by: &str) -> Result<bool, StoreError> {
        self.in_transaction(|tx| {
            let new = accounts::put_user(tx, user)?;
            let action = match (new, user.disabled) {
                (true, _) => "user-created",
                (false, true) => "user-disabled",
                (false, false) => "user-changed",
            };
            browse::log(tx, by, action, &user.name, &format!("role {}", user.role))?;
            Ok(new)
        })
    }

    /// The account called `name`.
    pub fn user(&mut self, name: &str) -> Result<Option<User>, StoreError> {
        self.in_read(|tx| accounts::get_user(tx, name))
    }

    /// Every account.
    pub fn users(&mut self) -> Result<Vec<User>, StoreError> {
        self.in_read(accounts::users)
    }

    /// Start a login session; `token` is the SHA-256 (hex) of the cookie's value.
    pub fn start_session(
        &mut self,
        token: &str,
        user: &str,
        csrf: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let now = rows::now();
        self.in_transaction(|tx| accounts::start_session(tx, token, user, csrf, &now, expires_at))
    }

    /// The live session whose cookie token hashes to `token`.
    pub fn session(&mut self, token: &str) -> Result<Option<Session>, StoreError> {
        let now = rows::now();
        self.in_read(|tx| accounts::session(tx, token, &now))
    }

    /// End a login session.
    pub fn end_session(&mut self, token: &str) -> Result<(), StoreError> {
        self.in_transaction(|tx| accounts::end_session(tx, token))
    }

    /// Start shard `shard` of a run: the first shard of a run records `plan`; every
    /// shard gets back the plan the run was started with (compare its `inventory`).
    pub fn start_run(&mut self, plan: &RunPlan, shard: u32) -> Result<RunPlan, StoreError> {
        let now = rows::now();
        self.in_transaction(|tx| runs::start(tx, plan, shard, &now))
    }

    /// Add `targets` to the ad-hoc run `id` (`assess --run`), making it if new; false
    /// when `id` is an estate run made from an inventory.
    pub fn extend_run(&mut self, id: &str, targets: &[PlannedTarget]) -> Result<bool, StoreError> {
        let now = rows::now();
        self.in_transaction(|tx| runs::extend(tx, id, targets, &now))
    }

    /// What each target cost (milliseconds) the last time a run did it.
    pub fn target_costs(&mut self) -> Result<HashMap<String, u64>, StoreError> {
        self.in_transaction(runs::costs)
    }

    /// Record how one target of a run went.
    pub fn finish_target(&mut self, outcome: &TargetOutcome) -> Result<(), StoreError> {
        let now = rows::now();
        self.in_transaction(|tx| runs::finish_target(tx, outcome, &now))
    }

    /// Record that a shard finished its targets (or gave up: `failed`).
    pub fn finish_shard(&mut self, run: &str, shard: u32, failed: bool) -> Result<(), StoreError> {
        let now = rows::now();
        self.in_transaction(|tx| runs::finish_shard(tx, run, shard, failed, &now))
    }

    /// Where the last history scan of `repository` stopped (its commits) and which
    /// scan that was, unless that scan belongs to run `run`: what an estate run's
    /// incremental history scan builds on.
    pub fn history_base(
        &mut self,
        repository: &str,
        run: &str,
    ) -> Result<Option<(i64, Vec<String>)>, StoreError> {
        self.in_transaction(|tx| runs::history_base(tx, repository, run))
    }

    /// Ids of the runs recorded, newest first.
    pub fn runs(&mut self, limit: u64) -> Result<Vec<String>, StoreError> {
        self.in_transaction(|tx| runs::list(tx, limit))
    }

    /// A run put together from every shard, or `None` if there is no such run.
    pub fn run_overview(&mut self, id: &str) -> Result<Option<RunOverview>, StoreError> {
        self.in_transaction(|tx| runs::overview(tx, id))
    }

    /// Fingerprints run `id` saw that the run before it did not.
    pub fn run_new_fingerprints(&mut self, id: &str) -> Result<HashSet<String>, StoreError> {
        self.in_transaction(|tx| runs::new_fingerprints(tx, id))
    }

    /// The tables assessed in run `id`.
    pub fn run_assessments(&mut self, run: &str) -> Result<Vec<AssessmentRow>, StoreError> {
        let rows = self.in_transaction(|tx| {
            tx.query(
                "SELECT at, source, format, rows, distinct_people, distinct_vehicles, detail, \
                 target FROM assessments WHERE run_id = ? ORDER BY source, id",
                &[rows::Param::Text(run.to_string())],
            )
        })?;
        let text = |v: &rows::Value| match v {
            rows::Value::Text(s) => s.clone(),
            _ => String::new(),
        };
        let int = |v: &rows::Value| match v {
            rows::Value::Int(n) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        Ok(rows
            .iter()
            .filter(|r| r.len() == 8)
            .map(|r| AssessmentRow {
                at: text(&r[0]),
                source: text(&r[1]),
                format: text(&r[2]),
                rows: int(&r[3]),
                distinct_people: int(&r[4]),
                distinct_vehicles: int(&r[5]),
                detail: text(&r[6]),
                target: Some(text(&r[7])).filter(|t| !t.is_empty()),
            })
            .collect())
    }

    /// The newest assessment of each table ever assessed into this store.
    pub fn assessments(&mut self) -> Result<Vec<AssessmentRow>, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(s) => s.assessments(),
            Backend::Postgres(p) => p.assessments(),
        }
    }

    /// The commits the last history scan of `repository` walked from (empty if it
    /// was never scanned into this store).
    pub fn history_tips(&mut self, repository: &str) -> Result<Vec<String>, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(s) => s.history_tips(repository),
            Backend::Postgres(p) => p.history_tips(repository),
        }
    }

    /// Remember the commits scan `scan_id` walked from in `repository`, in place of
    /// those of its earlier scans.
    pub fn record_history_tips(
        &mut self,
        repository: &str,
        scan_id: i64,
        tips: &[String],
    ) -> Result<(), StoreError> {
        match &mut self.backend {
            Backend::Sqlite(s) => s.record_history_tips(repository, scan_id, tips),
            Backend::Postgres(p) => p.record_history_tips(repository, scan_id, tips),
        }
    }

    /// The schema version of the open store.
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(s) => s.schema_version(),
            Backend::Postgres(p) => p.schema_version(),
        }
    }
}
