//! PostgreSQL: one store shared by a team or by many scanning machines at once.
//!
//! Rows go in as arrays (`INSERT … SELECT FROM UNNEST(…)`), ten thousand per round trip:
//! row-at-a-time inserts cost a network round trip each and were the bottleneck.
//! Concurrent writers are safe because every upsert takes its row locks in fingerprint
//! order (a `Batch` is sorted), and a transaction that still loses a deadlock or
//! serialisation race is retried whole.

use crate::rows::{self, Batch, Param, Row, Value};
use crate::runs::{self, Identity, RunTarget, Sql};
use crate::schema;
use crate::sqlite_store::{as_i64, json_list, one_match, rule_of, FLAGGED, REAPPEARED};
use crate::{AssessmentRow, Reappeared, Recorded, ScanRecord, ScanRow, StoreError, TriageOutcome};
use leakhound_findings::{Finding, Status, Triage};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Transaction};

pub(crate) struct Postgres {
    client: Client,
}

/// Rows per statement: big enough that round trips do not matter, small enough that
/// one statement's parameters stay a few megabytes.
const CHUNK: usize = 10_000;

/// Attempts at a transaction that lost a deadlock or serialisation race.
const ATTEMPTS: usize = 8;

/// Key of the advisory lock that serialises migrations between processes.
const MIGRATION_LOCK: i64 = 0x6c65_616b_686f_756e;

type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

impl Postgres {
    pub(crate) fn open(url: &str) -> Result<Postgres, StoreError> {
        // The client's connect timeout covers the TCP handshake only: a server that
        // accepts and never answers is given up on here (URL `connect_timeout`, else 10 s).
        let mut config: postgres::Config = url.parse()?;
        let limit = *config
            .get_connect_timeout()
            .unwrap_or(&leakhound_inputs::deadline::CONNECT_TIMEOUT);
        config.connect_timeout(limit);
        config.keepalives_idle(std::time::Duration::from_secs(60));
        let client = leakhound_inputs::deadline::within(limit, move || config.connect(NoTls))
            .ok_or(StoreError::Timeout(limit.as_secs()))??;
        let mut store = Postgres { client };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(schema::VERSION_TABLE)?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM leakhound_schema",
                &[],
            )?
            .get(0);
        if current > schema::latest() {
            return Err(StoreError::TooNew {
                found: current,
                known: schema::latest(),
            });
        }
        for v in current + 1..=schema::latest() {
            if let Some(sql) = schema::migration(v, &schema::POSTGRES) {
                tx.batch_execute(&sql)?;
                tx.execute(
                    "INSERT INTO leakhound_schema (version, applied_at) VALUES ($1, $2)",
                    &[&v, &rows::now()],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn schema_version(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .client
            .query_one("SELECT MAX(version)::BIGINT FROM leakhound_schema", &[])?
            .get(0))
    }

    /// Record a scan; one of [`ANALYZE_AFTER`] findings or more refreshes the
    /// planner's statistics afterwards.
    pub(crate) fn record(
        &mut self,
        scan: &ScanRecord,
        batch: &Batch<'_>,
    ) -> Result<Recorded, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tx = self.client.transaction()?;
            match record_in(tx, scan, batch) {
                Err(StoreError::Postgres(e)) if attempt < ATTEMPTS && retryable(&e) => {
                    std::thread::sleep(std::time::Duration::from_millis(20 * attempt as u64));
                }
                Ok(recorded) => {
                    if batch.findings.len() >= ANALYZE_AFTER {
                        // Autovacuum gets to a freshly loaded table only later; until
                        // then the planner thinks it small and walks a million rows
                        // where an index would do (`leakhound serve` pages took 0.2-0.7 s
                        // instead of 5-25 ms after a 1M-finding load).
                        self.client
                            .batch_execute("ANALYZE findings, locations, sightings")?;
                    }
                    return Ok(recorded);
                }
                other => return other,
            }
        }
    }

    pub(crate) fn triage(
        &mut self,
        prefix: &str,
        status: Status,
        comment: Option<&str>,
        by: &str,
        at: &str,
    ) -> Result<TriageOutcome, StoreError> {
        let mut tx = self.client.transaction()?;
        let matches = tx
            .query(
                "SELECT fingerprint, status, rule, masked FROM findings \
                 WHERE fingerprint LIKE $1 ORDER BY fingerprint LIMIT 100 FOR UPDATE",
                &[&format!("{prefix}%")],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        let (fingerprint, previous, rule, masked) = one_match(prefix, matches)?;
        tx.execute(
            "UPDATE findings SET status = $1, comment = $2, status_at = $3, status_by = $4 \
             WHERE fingerprint = $5",
            &[&status.as_str(), &comment, &at, &by, &fingerprint],
        )?;
        tx.execute(
            "INSERT INTO triage (fingerprint, status, comment, at, by_whom) VALUES ($1, $2, $3, $4, $5)",
            &[&fingerprint, &status.as_str(), &comment, &at, &by],
        )?;
        tx.commit()?;
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
        let bound: Params<'_> = params
            .iter()
            .map(|p| match p {
                Param::Text(s) => s as &(dyn ToSql + Sync),
                Param::Int(n) => n as &(dyn ToSql + Sync),
                Param::MaybeText(s) => s as &(dyn ToSql + Sync),
            })
            .collect();
        let rows = self.client.query(&numbered(sql), &bound)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut values = Vec::with_capacity(r.len());
            for (i, column) in r.columns().iter().enumerate() {
                values.push(if *column.type_() == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?
                        .map_or(Value::Null, Value::Int)
                } else {
                    r.try_get::<_, Option<String>>(i)?
                        .map_or(Value::Null, Value::Text)
                });
            }
            out.push(Row(values).into_finding()?);
        }
        Ok(out)
    }

    pub(crate) fn record_assessments(
        &mut self,
        tables: &[AssessmentRow],
        run: Option<&RunTarget>,
        identities: &[Identity],
        at: &str,
    ) -> Result<(), StoreError> {
        self.in_transaction(|tx| {
            if let Some(rt) = run {
                runs::forget_assessments(tx, rt)?;
                tx.insert_identities(rt, identities)?;
            }
            for t in tables {
                tx.execute(
                    "INSERT INTO assessments (at, source, format, rows, distinct_people, \
                     distinct_vehicles, detail, run_id, target) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    &[
                        Param::Text(at.to_string()),
                        Param::Text(t.source.clone()),
                        Param::Text(t.format.clone()),
                        Param::Int(as_i64(t.rows)),
                        Param::Int(as_i64(t.distinct_people)),
                        Param::Int(as_i64(t.distinct_vehicles)),
                        Param::Text(t.detail.clone()),
                        Param::MaybeText(run.map(|r| r.run.clone())),
                        Param::MaybeText(run.map(|r| r.target.clone())),
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// Run `f` in one read transaction planned for pages: many short queries at once,
    /// from a store the OS has in memory. Parallel workers make one query faster and
    /// fifty slower; and at the default random page cost the planner chose a 250 ms
    /// scan of every finding over a 97 ms walk of 5,000 index entries.
    pub(crate) fn in_read<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.client.transaction()?;
        tx.batch_execute(
            "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL random_page_cost = 1.1",
        )?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Run `f` in one transaction, again from the start if it loses a deadlock or
    /// serialisation race to another shard.
    pub(crate) fn in_transaction<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.client.transaction()?;
            let out = f(&mut tx).and_then(|out| {
                tx.commit()?;
                Ok(out)
            });
            match out {
                Err(StoreError::Postgres(e)) if attempt < ATTEMPTS && retryable(&e) => {
                    std::thread::sleep(std::time::Duration::from_millis(20 * attempt as u64));
                }
                other => return other,
            }
        }
    }

    pub(crate) fn history_tips(&mut self, repository: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .client
            .query(
                "SELECT tip FROM history_tips WHERE repository = $1 ORDER BY tip",
                &[&repository],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub(crate) fn record_history_tips(
        &mut self,
        repository: &str,
        scan_id: i64,
        tips: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        tx.execute(
            "DELETE FROM history_tips WHERE repository = $1",
            &[&repository],
        )?;
        // One statement per chunk: a mirror with pull-request refs has 60,000 tips,
        // and a round trip each took seconds.
        for chunk in tips.chunks(CHUNK) {
            tx.execute(
                "INSERT INTO history_tips (repository, tip, scan_id) \
                 SELECT $1, t, $3 FROM UNNEST($2::text[]) AS t ON CONFLICT DO NOTHING",
                &[&repository, &chunk, &scan_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn assessments(&mut self) -> Result<Vec<AssessmentRow>, StoreError> {
        Ok(self
            .client
            .query(rows::LATEST_ASSESSMENTS, &[])?
            .iter()
            .map(|r| AssessmentRow {
                at: r.get(0),
                source: r.get(1),
                format: r.get(2),
                rows: r.get::<_, i64>(3).max(0) as u64,
                distinct_people: r.get::<_, i64>(4).max(0) as u64,
                distinct_vehicles: r.get::<_, i64>(5).max(0) as u64,
                detail: r.get(6),
                target: r.get(7),
            })
            .collect())
    }

    pub(crate) fn scans(&mut self, limit: usize) -> Result<Vec<ScanRow>, StoreError> {
        let rows = self.client.query(
            "SELECT id, started_at, finished_at, tool_version, kind, targets, findings, \
             new_findings, bytes FROM scans ORDER BY id DESC LIMIT $1",
            &[&as_i64(limit as u64)],
        )?;
        Ok(rows
            .iter()
            .map(|r| ScanRow {
                id: r.get(0),
                started_at: r.get(1),
                finished_at: r.get(2),
                tool_version: r.get(3),
                kind: r.get(4),
                targets: r.get(5),
                findings: r.get(6),
                new_findings: r.get(7),
                bytes: r.get(8),
            })
            .collect())
    }
}

fn record_in(
    mut tx: Transaction<'_>,
    scan: &ScanRecord,
    batch: &Batch<'_>,
) -> Result<Recorded, StoreError> {
    let now = rows::now();
    let started = scan.started_or(&now);
    if let Some(rt) = &scan.run {
        runs::forget_scans(&mut tx, rt)?;
    }
    let run_id = scan.run.as_ref().map(|r| r.run.as_str());
    let target = scan.run.as_ref().map(|r| r.target.as_str());
    let scan_id: i64 = tx
        .query_one(
            "INSERT INTO scans (started_at, finished_at, tool_version, kind, targets, packs, \
             rules, files, blobs, bytes, problems, run_id, target) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            &[
                &started,
                &now,
                &scan.tool_version,
                &scan.kind,
                &json_list(&scan.targets),
                &json_list(&scan.packs),
                &as_i64(scan.rules),
                &as_i64(scan.files),
                &as_i64(scan.blobs),
                &as_i64(scan.bytes),
                &as_i64(scan.problems),
                &run_id,
                &target,
            ],
        )?
        .get(0);
    let mut recorded = Recorded {
        scan_id,
        findings: batch.findings.len(),
        ..Recorded::default()
    };
    for chunk in batch.findings.chunks(CHUNK) {
        let fps: Vec<&str> = chunk.iter().map(|f| f.fingerprint).collect();
        let rules: Vec<&str> = chunk.iter().map(|f| f.rule).collect();
        let names: Vec<&str> = chunk.iter().map(|f| f.name).collect();
        let cats: Vec<&str> = chunk.iter().map(|f| f.category).collect();
        let sevs: Vec<&str> = chunk.iter().map(|f| f.severity).collect();
        let confs: Vec<&str> = chunk.iter().map(|f| f.confidence).collect();
        let masked: Vec<&str> = chunk.iter().map(|f| f.masked.as_str()).collect();
        let validators: Vec<Option<&str>> = chunk.iter().map(|f| f.validator).collect();
        let rows = tx.query(
            "INSERT INTO findings (fingerprint, rule, name, category, severity, confidence, \
             masked, validator, first_scan, last_scan, first_seen, last_seen) \
             SELECT u.fp, u.rule, u.name, u.cat, u.sev, u.conf, u.masked, u.validator, \
             $9, $9, $10, $10 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[]) \
             AS u (fp, rule, name, cat, sev, conf, masked, validator) \
             ON CONFLICT (fingerprint) DO UPDATE SET last_scan = EXCLUDED.last_scan, \
             last_seen = EXCLUDED.last_seen, name = EXCLUDED.name, \
             severity = EXCLUDED.severity, confidence = EXCLUDED.confidence \
             RETURNING fingerprint, first_scan, status, comment, first_seen",
            &[
                &fps,
                &rules,
                &names,
                &cats,
                &sevs,
                &confs,
                &masked,
                &validators,
                &scan_id,
                &now,
            ],
        )?;
        for r in rows {
            let fp: String = r.get(0);
            let first_scan: i64 = r.get(1);
            let status: Status = r.get::<_, String>(2).parse().map_err(
                |e: leakhound_findings::ParseKindError| StoreError::Corrupt(e.to_string()),
            )?;
            if first_scan == scan_id {
                recorded.new.push(fp.clone());
            }
            recorded.triage.insert(
                fp,
                Triage {
                    status,
                    comment: r.get(3),
                    first_seen: r.get(4),
                    last_seen: now.clone(),
                    new: first_scan == scan_id,
                    reappeared: false,
                },
            );
        }
    }
    recorded.new.sort();
    for chunk in batch.locations.chunks(CHUNK) {
        let fps: Vec<&str> = chunk.iter().map(|l| l.fingerprint).collect();
        let places: Vec<&str> = chunk.iter().map(|l| l.place.as_str()).collect();
        let paths: Vec<&str> = chunk.iter().map(|l| l.path.as_ref()).collect();
        let lines: Vec<i64> = chunk.iter().map(|l| l.line).collect();
        let cols: Vec<i64> = chunk.iter().map(|l| l.column).collect();
        let texts: Vec<Option<&str>> = chunk.iter().map(|l| l.line_text.as_deref()).collect();
        let blobs: Vec<&str> = chunk.iter().map(|l| l.blob).collect();
        let repos: Vec<Option<&str>> = chunk.iter().map(|l| l.repository).collect();
        let commit = |f: fn(&leakhound_findings::CommitRef) -> &str| -> Vec<Option<&str>> {
            chunk.iter().map(|l| l.commit.map(f)).collect()
        };
        let ids = commit(|c| &c.id);
        let authors = commit(|c| &c.author);
        let emails = commit(|c| &c.email);
        let dates = commit(|c| &c.date);
        let cpaths = commit(|c| &c.path);
        let removed: Vec<Option<&str>> = chunk.iter().map(|l| l.removed).collect();
        let reach: Vec<Option<&str>> = chunk.iter().map(|l| l.reach).collect();
        let columns: Vec<Option<&str>> = chunk.iter().map(|l| l.column_values.as_deref()).collect();
        let decoded: Vec<Option<&str>> = chunk.iter().map(|l| l.decoded).collect();
        // Places and this scan's sightings of them in one statement: no row travels
        // back to the client.
        tx.execute(
            "WITH placed AS (\
             INSERT INTO locations (fingerprint, place, path, line, col, line_text, blob, \
             repository, commit_id, author, email, commit_date, commit_path, removed, reach, \
             column_values, decoded, first_scan, last_scan) \
             SELECT u.fp, u.place, u.path, u.line, u.col, u.line_text, u.blob, u.repository, \
             u.commit_id, u.author, u.email, u.commit_date, u.commit_path, u.removed, u.reach, \
             u.column_values, u.decoded, $16, $16 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::text[], $14::text[], $15::text[], $17::text[], $18::text[]) \
             AS u (fp, place, path, line, col, line_text, blob, repository, commit_id, author, \
             email, commit_date, commit_path, removed, reach, column_values, decoded) \
             ON CONFLICT (fingerprint, place) DO UPDATE SET path = EXCLUDED.path, \
             line = EXCLUDED.line, col = EXCLUDED.col, line_text = EXCLUDED.line_text, \
             blob = EXCLUDED.blob, removed = EXCLUDED.removed, last_scan = EXCLUDED.last_scan, \
             column_values = EXCLUDED.column_values, decoded = EXCLUDED.decoded \
             RETURNING id) \
             INSERT INTO sightings (scan_id, location_id) SELECT $16, id FROM placed \
             ON CONFLICT DO NOTHING",
            &[
                &fps, &places, &paths, &lines, &cols, &texts, &blobs, &repos, &ids, &authors,
                &emails, &dates, &cpaths, &removed, &reach, &scan_id, &columns, &decoded,
            ],
        )?;
    }
    if let Some(from) = scan.carry_from {
        runs::carry_sightings(&mut tx, from, scan_id)?;
    }
    tx.execute(&numbered(REAPPEARED), &[&scan_id])?;
    for r in tx.query(&numbered(FLAGGED), &[&scan_id])? {
        let fp: String = r.get(0);
        if let Some(t) = recorded.triage.get_mut(&fp) {
            t.reappeared = true;
        }
        recorded.reappeared.push(Reappeared {
            rule: rule_of(batch, &fp),
            fingerprint: fp,
            path: r.get(1),
        });
    }
    tx.execute(
        "UPDATE scans SET findings = $1, new_findings = $2, finished_at = $3 WHERE id = $4",
        &[
            &as_i64(batch.findings.len() as u64),
            &as_i64(recorded.new.len() as u64),
            &rows::now(),
            &scan_id,
        ],
    )?;
    tx.commit()?;
    Ok(recorded)
}

fn pg_params(params: &[Param]) -> Params<'_> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(s) => s as &(dyn ToSql + Sync),
            Param::Int(n) => n as &(dyn ToSql + Sync),
            Param::MaybeText(s) => s as &(dyn ToSql + Sync),
        })
        .collect()
}

impl Sql for Transaction<'_> {
    fn engine(&self) -> crate::rows::Engine {
        crate::rows::Engine::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        Ok(Transaction::execute(
            self,
            &numbered(sql),
            &pg_params(params),
        )?)
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Value>>, StoreError> {
        let rows = Transaction::query(self, &numbered(sql), &pg_params(params))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut values = Vec::with_capacity(r.len());
            for (i, column) in r.columns().iter().enumerate() {
                let t = column.type_();
                values.push(if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?
                        .map_or(Value::Null, Value::Int)
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)?
                        .map_or(Value::Null, |n| Value::Int(i64::from(n)))
                } else {
                    r.try_get::<_, Option<String>>(i)?
                        .map_or(Value::Null, Value::Text)
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    /// Binary COPY: a million identifiers in about a second, where inserts of arrays
    /// took several.
    fn insert_identities(&mut self, run: &RunTarget, rows: &[Identity]) -> Result<(), StoreError> {
        use postgres::binary_copy::BinaryCopyInWriter;
        let sink = self.copy_in(
            "COPY run_identities (run_id, target, class, kind, fp, tie, grp, shared) \
             FROM STDIN BINARY",
        )?;
        let types = [
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
        ];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for i in rows {
            writer.write(&[
                &run.run,
                &run.target,
                &(i.class as i64),
                &i64::from(i.kind),
                &(i.fp as i64),
                &(i.tie as i64),
                &(i.group as i64),
                &i64::from(i.shared),
            ])?;
        }
        writer.finish()?;
        // Fresh statistics, so the estate query plans for a million rows rather than
        // for the empty table the planner last looked at.
        if rows.len() >= ANALYZE_AFTER {
            self.batch_execute("ANALYZE run_identities")?;
        }
        Ok(())
    }

    fn prefer_hash_joins(&mut self) -> Result<(), StoreError> {
        // A nested loop over two runs' identities is hours; a hash join is seconds.
        self.batch_execute("SET LOCAL enable_nestloop = off")?;
        Ok(())
    }
}

/// Rows recorded at once (findings of a scan, identities of a table) from which the
/// tables' statistics are refreshed at once.
const ANALYZE_AFTER: usize = 10_000;

fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

/// `?` and `?N` placeholders as PostgreSQL's `$1, $2, …` and `$N` (our SQL has no
/// other `?`).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        out.push('$');
        if chars.peek().is_some_and(char::is_ascii_digit) {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
        } else {
            n += 1;
            out.push_str(&n.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered() {
        assert_eq!(
            super::numbered("a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(
            super::numbered("x = ?1 AND y <> ?12"),
            "x = $1 AND y <> $12"
        );
    }
}
