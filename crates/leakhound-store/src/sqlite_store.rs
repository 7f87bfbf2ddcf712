//! SQLite: the default store, one file next to the user, nothing to run.

use crate::rows::{self, Batch, Param, Row, Value};
use crate::runs::{self, Identity, RunTarget, Sql};
use crate::schema;
use crate::{AssessmentRow, Reappeared, Recorded, ScanRecord, ScanRow, StoreError, TriageOutcome};
use leakhound_findings::{Finding, Status, Triage};
use rusqlite::{params, Connection, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

pub(crate) struct Sqlite {
    conn: Connection,
    path: String,
}

/// Long enough for another scan on the same machine to finish writing; writers wait
/// rather than fail.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// How long opening keeps retrying when another process holds the file while setting
/// it up.
const OPEN_PATIENCE: Duration = Duration::from_secs(30);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Sqlite {
    /// Open, switch to WAL and migrate. Two scans starting at once on a new file race
    /// for the switch to WAL, and SQLite answers some of those races with "busy" at once
    /// instead of waiting, so the whole opening is retried for a while.
    pub(crate) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let deadline = std::time::Instant::now() + OPEN_PATIENCE;
        loop {
            match Sqlite::open_once(path) {
                Err(StoreError::Sqlite { source, .. })
                    if is_busy(&source) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Sqlite, StoreError> {
        let shown = path.display().to_string();
        let err = err_for(&shown);
        let conn = Connection::open(path).map_err(&err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(&err)?;
        // `--datastore app.db` by mistake must not add our tables to another
        // application's database and switch its journal mode: a file with tables of its
        // own and no leakhound schema is refused before anything is written.
        let foreign: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%') AND NOT EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = 'leakhound_schema')",
                [],
                |r| r.get(0),
            )
            .map_err(&err)?;
        if foreign {
            return Err(StoreError::NotAStore(shown));
        }
        // WAL lets reports read while a scan writes; NORMAL is durable across crashes
        // of the process (not of the OS), enough for a findings log.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(&err)?;
        let mut store = Sqlite { conn, path: shown };
        store.migrate()?;
        Ok(store)
    }

    pub(crate) fn files(&self) -> Vec<std::path::PathBuf> {
        let Ok(db) = std::fs::canonicalize(&self.path) else {
            return Vec::new();
        };
        let mut files = vec![db.clone()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            files.push(name.into());
        }
        files
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError {
        err_for(&self.path)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let err = err_for(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        tx.execute_batch(schema::VERSION_TABLE).map_err(&err)?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM leakhound_schema",
                [],
                |r| r.get(0),
            )
            .map_err(&err)?;
        if current > schema::latest() {
            return Err(StoreError::TooNew {
                found: current,
                known: schema::latest(),
            });
        }
        for v in current + 1..=schema::latest() {
            if let Some(sql) = schema::migration(v, &schema::SQLITE) {
                tx.execute_batch(&sql).map_err(&err)?;
                tx.execute(
                    "INSERT INTO leakhound_schema (version, applied_at) VALUES (?1, ?2)",
                    params![v, rows::now()],
                )
                .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    pub(crate) fn schema_version(&mut self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT MAX(version) FROM leakhound_schema", [], |r| {
                r.get(0)
            })
            .map_err(self.err())
    }

    pub(crate) fn record(
        &mut self,
        scan: &ScanRecord,
        batch: &Batch<'_>,
    ) -> Result<Recorded, StoreError> {
        let err = err_for(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let now = rows::now();
        let started = scan.started_or(&now);
        if let Some(rt) = &scan.run {
            runs::forget_scans(&mut Lite(&tx, &self.path), rt)?;
        }
        tx.execute(
            "INSERT INTO scans (started_at, finished_at, tool_version, kind, targets, packs, \
             rules, files, blobs, bytes, problems, run_id, target) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                started,
                now,
                scan.tool_version,
                scan.kind,
                json_list(&scan.targets),
                json_list(&scan.packs),
                as_i64(scan.rules),
                as_i64(scan.files),
                as_i64(scan.blobs),
                as_i64(scan.bytes),
                as_i64(scan.problems),
                scan.run.as_ref().map(|r| &r.run),
                scan.run.as_ref().map(|r| &r.target),
            ],
        )
        .map_err(&err)?;
        let scan_id = tx.last_insert_rowid();
        let mut recorded = Recorded {
            scan_id,
            findings: batch.findings.len(),
            ..Recorded::default()
        };
        // Rows go to temporary tables first (plain inserts, no index), then
        // into the real tables with one set-based upsert each: per-row upserts spent
        // most of their time in SQLite's statement journal (10 µs a row).
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS scan_findings (
                fingerprint TEXT, rule TEXT, name TEXT, category TEXT, severity TEXT,
                confidence TEXT, masked TEXT, validator TEXT);
             CREATE TEMP TABLE IF NOT EXISTS scan_locations (
                fingerprint TEXT, place TEXT, path TEXT, line INTEGER, col INTEGER,
                line_text TEXT, blob TEXT, repository TEXT, commit_id TEXT, author TEXT,
                email TEXT, commit_date TEXT, commit_path TEXT, removed TEXT, reach TEXT,
                column_values TEXT, decoded TEXT);
             DELETE FROM temp.scan_findings;
             DELETE FROM temp.scan_locations;",
        )
        .map_err(&err)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO temp.scan_findings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(&err)?;
            for f in &batch.findings {
                put.execute(params![
                    f.fingerprint,
                    f.rule,
                    f.name,
                    f.category,
                    f.severity,
                    f.confidence,
                    f.masked,
                    f.validator,
                ])
                .map_err(&err)?;
            }
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO temp.scan_locations VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                )
                .map_err(&err)?;
            for l in &batch.locations {
                let c = l.commit;
                put.execute(params![
                    l.fingerprint,
                    l.place,
                    l.path,
                    l.line,
                    l.column,
                    l.line_text,
                    l.blob,
                    l.repository,
                    c.map(|c| &c.id),
                    c.map(|c| &c.author),
                    c.map(|c| &c.email),
                    c.map(|c| &c.date),
                    c.map(|c| &c.path),
                    l.removed,
                    l.reach,
                    l.column_values,
                    l.decoded,
                ])
                .map_err(&err)?;
            }
        }
        // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the upsert.
        tx.execute(
            "INSERT INTO findings (fingerprint, rule, name, category, severity, confidence, \
             masked, validator, first_scan, last_scan, first_seen, last_seen) \
             SELECT fingerprint, rule, name, category, severity, confidence, masked, \
             validator, ?1, ?1, ?2, ?2 FROM temp.scan_findings WHERE true \
             ON CONFLICT (fingerprint) DO UPDATE SET last_scan = excluded.last_scan, \
             last_seen = excluded.last_seen, name = excluded.name, \
             severity = excluded.severity, confidence = excluded.confidence",
            params![scan_id, now],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO locations (fingerprint, place, path, line, col, line_text, blob, \
             repository, commit_id, author, email, commit_date, commit_path, removed, reach, \
             column_values, decoded, first_scan, last_scan) \
             SELECT fingerprint, place, path, line, col, line_text, blob, repository, \
             commit_id, author, email, commit_date, commit_path, removed, reach, \
             column_values, decoded, ?1, ?1 \
             FROM temp.scan_locations WHERE true \
             ON CONFLICT (fingerprint, place) DO UPDATE SET path = excluded.path, \
             line = excluded.line, col = excluded.col, line_text = excluded.line_text, \
             blob = excluded.blob, removed = excluded.removed, last_scan = excluded.last_scan, \
             column_values = excluded.column_values, decoded = excluded.decoded",
            params![scan_id],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT OR IGNORE INTO sightings (scan_id, location_id) \
             SELECT ?1, l.id FROM temp.scan_locations s \
             JOIN locations l ON l.fingerprint = s.fingerprint AND l.place = s.place",
            params![scan_id],
        )
        .map_err(&err)?;
        if let Some(from) = scan.carry_from {
            runs::carry_sightings(&mut Lite(&tx, &self.path), from, scan_id)?;
        }
        // A revoked value (recorded before this scan) in a place new to this scan.
        tx.execute(REAPPEARED, params![scan_id]).map_err(&err)?;
        {
            let mut standing = tx
                .prepare(
                    "SELECT f.fingerprint, f.first_scan, f.status, f.comment, f.first_seen \
                     FROM temp.scan_findings s JOIN findings f ON f.fingerprint = s.fingerprint",
                )
                .map_err(&err)?;
            let mut rows = standing.query([]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                let fp: String = r.get(0).map_err(&err)?;
                let first_scan: i64 = r.get(1).map_err(&err)?;
                let status: String = r.get(2).map_err(&err)?;
                let status: Status =
                    status
                        .parse()
                        .map_err(|e: leakhound_findings::ParseKindError| {
                            StoreError::Corrupt(e.to_string())
                        })?;
                if first_scan == scan_id {
                    recorded.new.push(fp.clone());
                }
                recorded.triage.insert(
                    fp,
                    Triage {
                        status,
                        comment: r.get(3).map_err(&err)?,
                        first_seen: r.get(4).map_err(&err)?,
                        last_seen: now.clone(),
                        new: first_scan == scan_id,
                        reappeared: false,
                    },
                );
            }
            let mut flagged = tx.prepare(FLAGGED).map_err(&err)?;
            let mut rows = flagged.query(params![scan_id]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                let fingerprint: String = r.get(0).map_err(&err)?;
                if let Some(t) = recorded.triage.get_mut(&fingerprint) {
                    t.reappeared = true;
                }
                recorded.reappeared.push(Reappeared {
                    rule: rule_of(batch, &fingerprint),
                    fingerprint,
                    path: r.get(1).map_err(&err)?,
                });
            }
        }
        recorded.new.sort();
        tx.execute_batch("DELETE FROM temp.scan_findings; DELETE FROM temp.scan_locations;")
            .map_err(&err)?;
        tx.execute(
            "UPDATE scans SET findings = ?1, new_findings = ?2, finished_at = ?3 WHERE id = ?4",
            params![
                as_i64(batch.findings.len() as u64),
                as_i64(recorded.new.len() as u64),
                rows::now(),
                scan_id
            ],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(recorded)
    }

    pub(crate) fn triage(
        &mut self,
        prefix: &str,
        status: Status,
        comment: Option<&str>,
        by: &str,
        at: &str,
    ) -> Result<TriageOutcome, StoreError> {
        let err = err_for(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let matches: Vec<(String, String, String, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT fingerprint, status, rule, masked FROM findings \
                     WHERE fingerprint LIKE ?1 ORDER BY fingerprint LIMIT 100",
                )
                .map_err(&err)?;
            let rows = stmt
                .query_map(params![format!("{prefix}%")], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(&err)?;
            rows.collect::<Result<_, _>>().map_err(&err)?
        };
        let (fingerprint, previous, rule, masked) = one_match(prefix, matches)?;
        tx.execute(
            "UPDATE findings SET status = ?1, comment = ?2, status_at = ?3, status_by = ?4 \
             WHERE fingerprint = ?5",
            params![status.as_str(), comment, at, by, fingerprint],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO triage (fingerprint, status, comment, at, by_whom) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![fingerprint, status.as_str(), comment, at, by],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(TriageOutcome {
            fingerprint,
            previous,
            rule,
            masked,
        })
    }

    pub(crate) fn load(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Vec<(Finding, i64)>, StoreError> {
        Lite(&self.conn, &self.path)
            .query(sql, params)?
            .into_iter()
            .map(|values| Row(values).into_finding())
            .collect()
    }

    pub(crate) fn record_assessments(
        &mut self,
        tables: &[AssessmentRow],
        run: Option<&RunTarget>,
        identities: &[Identity],
        at: &str,
    ) -> Result<(), StoreError> {
        let err = err_for(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        if let Some(rt) = run {
            let mut lite = Lite(&tx, &self.path);
            runs::forget_assessments(&mut lite, rt)?;
            lite.insert_identities(rt, identities)?;
        }
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO assessments (at, source, format, rows, distinct_people, \
                     distinct_vehicles, detail, run_id, target) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(&err)?;
            for t in tables {
                insert
                    .execute(params![
                        at,
                        t.source,
                        t.format,
                        as_i64(t.rows),
                        as_i64(t.distinct_people),
                        as_i64(t.distinct_vehicles),
                        t.detail,
                        run.map(|r| &r.run),
                        run.map(|r| &r.target),
                    ])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    /// Run `f` in one write transaction.
    pub(crate) fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.in_tx(TransactionBehavior::Immediate, f)
    }

    /// Run `f` in one read transaction: a consistent snapshot that, under WAL, neither
    /// waits for writers nor holds them up (the web pages' reads).
    pub(crate) fn in_read<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.in_tx(TransactionBehavior::Deferred, f)
    }

    fn in_tx<T>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let err = err_for(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(behavior)
            .map_err(&err)?;
        let out = f(&mut Lite(&tx, &self.path))?;
        tx.commit().map_err(&err)?;
        Ok(out)
    }

    pub(crate) fn history_tips(&mut self, repository: &str) -> Result<Vec<String>, StoreError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare("SELECT tip FROM history_tips WHERE repository = ?1 ORDER BY tip")
            .map_err(&err)?;
        let found = stmt
            .query_map(params![repository], |r| r.get(0))
            .map_err(&err)?;
        found.collect::<Result<Vec<String>, _>>().map_err(&err)
    }

    pub(crate) fn record_history_tips(
        &mut self,
        repository: &str,
        scan_id: i64,
        tips: &[String],
    ) -> Result<(), StoreError> {
        let err = err_for(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        tx.execute(
            "DELETE FROM history_tips WHERE repository = ?1",
            params![repository],
        )
        .map_err(&err)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO history_tips (repository, tip, scan_id) \
                     VALUES (?1, ?2, ?3)",
                )
                .map_err(&err)?;
            for tip in tips {
                insert
                    .execute(params![repository, tip, scan_id])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    pub(crate) fn assessments(&mut self) -> Result<Vec<AssessmentRow>, StoreError> {
        let err = self.err();
        let mut stmt = self.conn.prepare(rows::LATEST_ASSESSMENTS).map_err(&err)?;
        let found = stmt
            .query_map([], |r| {
                Ok(AssessmentRow {
                    at: r.get(0)?,
                    source: r.get(1)?,
                    format: r.get(2)?,
                    rows: r.get::<_, i64>(3)?.max(0) as u64,
                    distinct_people: r.get::<_, i64>(4)?.max(0) as u64,
                    distinct_vehicles: r.get::<_, i64>(5)?.max(0) as u64,
                    detail: r.get(6)?,
                    target: r.get(7)?,
                })
            })
            .map_err(&err)?;
        found.collect::<Result<Vec<_>, _>>().map_err(&err)
    }

    pub(crate) fn scans(&mut self, limit: usize) -> Result<Vec<ScanRow>, StoreError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, started_at, finished_at, tool_version, kind, targets, findings, \
                 new_findings, bytes FROM scans ORDER BY id DESC LIMIT ?1",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![as_i64(limit as u64)], |r| {
                Ok(ScanRow {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    finished_at: r.get(2)?,
                    tool_version: r.get(3)?,
                    kind: r.get(4)?,
                    targets: r.get(5)?,
                    findings: r.get(6)?,
                    new_findings: r.get(7)?,
                    bytes: r.get(8)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&err)
    }
}

/// An open SQLite transaction as the run code uses it.
pub(crate) struct Lite<'a>(&'a Connection, &'a str);

fn bound(params: &[Param]) -> Vec<&dyn rusqlite::ToSql> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(s) => s as &dyn rusqlite::ToSql,
            Param::Int(n) => n as &dyn rusqlite::ToSql,
            Param::MaybeText(s) => s as &dyn rusqlite::ToSql,
        })
        .collect()
}

impl Sql for Lite<'_> {
    fn engine(&self) -> rows::Engine {
        rows::Engine::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        let err = err_for(self.1);
        let n = self
            .0
            .prepare_cached(sql)
            .map_err(&err)?
            .execute(bound(params).as_slice())
            .map_err(&err)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Value>>, StoreError> {
        let err = err_for(self.1);
        let mut stmt = self.0.prepare_cached(sql).map_err(&err)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(bound(params).as_slice()).map_err(&err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(&err)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(match r.get_ref(i).map_err(&err)? {
                    rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                    rusqlite::types::ValueRef::Real(x) => Value::Int(x as i64),
                    rusqlite::types::ValueRef::Text(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    _ => Value::Null,
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    fn insert_identities(&mut self, run: &RunTarget, rows: &[Identity]) -> Result<(), StoreError> {
        let err = err_for(self.1);
        let mut insert = self
            .0
            .prepare_cached(
                "INSERT INTO run_identities (run_id, target, class, kind, fp, tie, grp, shared) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(&err)?;
        for i in rows {
            insert
                .execute(params![
                    run.run,
                    run.target,
                    i.class as i64,
                    i64::from(i.kind),
                    i.fp as i64,
                    i.tie as i64,
                    i.group as i64,
                    i64::from(i.shared),
                ])
                .map_err(&err)?;
        }
        Ok(())
    }
}

/// Turns SQLite's errors into ours, naming the file.
fn err_for(path: &str) -> impl Fn(rusqlite::Error) -> StoreError {
    let path = path.to_string();
    move |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    }
}

/// The one finding a fingerprint prefix names, or why not.
pub(crate) fn one_match(
    prefix: &str,
    mut matches: Vec<(String, String, String, String)>,
) -> Result<(String, Status, String, String), StoreError> {
    match matches.len() {
        0 => Err(StoreError::UnknownFingerprint(prefix.to_string())),
        1 => {
            let (fp, status, rule, masked) = matches.remove(0);
            let status = status
                .parse()
                .map_err(|e: leakhound_findings::ParseKindError| {
                    StoreError::Corrupt(e.to_string())
                })?;
            Ok((fp, status, rule, masked))
        }
        count => Err(StoreError::AmbiguousFingerprint {
            prefix: prefix.to_string(),
            count,
        }),
    }
}

/// Flag the places new to scan ?1 of values marked revoked before it.
pub(crate) const REAPPEARED: &str = "UPDATE locations SET reappeared = 1 \
     WHERE first_scan = ?1 AND fingerprint IN (SELECT fingerprint FROM findings \
     WHERE status = 'revoked' AND last_scan = ?1 AND first_scan <> ?1)";

/// The places REAPPEARED flagged for scan ?1 (through the partial index, not a scan
/// of every place).
pub(crate) const FLAGGED: &str = "SELECT fingerprint, path FROM locations \
     WHERE reappeared = 1 AND first_scan = ?1 AND fingerprint IN (SELECT fingerprint \
     FROM findings WHERE status = 'revoked' AND last_scan = ?1) ORDER BY fingerprint, path";

pub(crate) fn rule_of(batch: &Batch<'_>, fingerprint: &str) -> String {
    batch
        .findings
        .binary_search_by(|f| f.fingerprint.cmp(fingerprint))
        .ok()
        .and_then(|i| batch.findings.get(i))
        .map(|f| f.rule.to_string())
        .unwrap_or_default()
}

pub(crate) fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
