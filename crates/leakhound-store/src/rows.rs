//! What goes in and comes out of a store, independent of the database behind it.

use leakhound_findings::{
    Category, ColumnValues, CommitRef, Finding, GitOrigin, LineValues, Location, Reach, Severity,
    Status, TableCell, Triage,
};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// One scan as the store records it.
#[derive(Debug, Clone, Default)]
pub struct ScanRecord {
    /// When it started (RFC 3339 UTC); empty means now.
    pub started_at: String,
    /// leakhound's version.
    pub tool_version: String,
    /// `files`, `history`, `staged` or `host`.
    pub kind: String,
    /// What was scanned, as given.
    pub targets: Vec<String>,
    /// Rule packs enabled (empty: all).
    pub packs: Vec<String>,
    /// Number of rules enabled.
    pub rules: u64,
    /// Files read.
    pub files: u64,
    /// Blobs scanned.
    pub blobs: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files that could not be read or were skipped.
    pub problems: u64,
    /// The estate run and target this scan is part of (`leakhound run`): recording it
    /// replaces what an earlier attempt recorded for that target in that run.
    pub run: Option<crate::RunTarget>,
    /// An incremental history scan: the earlier scan whose places this one also saw
    /// (it read only the commits added since).
    pub carry_from: Option<i64>,
}

impl ScanRecord {
    /// When the scan started, or `now` when the caller did not say.
    pub(crate) fn started_or(&self, now: &str) -> String {
        if self.started_at.is_empty() {
            now.to_string()
        } else {
            self.started_at.clone()
        }
    }
}

/// A scan as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRow {
    /// Store-wide scan number, increasing.
    pub id: i64,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// End of recording, RFC 3339 UTC.
    pub finished_at: String,
    /// leakhound's version.
    pub tool_version: String,
    /// `files`, `history`, `staged` or `host`.
    pub kind: String,
    /// What was scanned (JSON array of strings).
    pub targets: String,
    /// Distinct findings seen in this scan.
    pub findings: i64,
    /// Of those, first seen in this scan.
    pub new_findings: i64,
    /// Bytes scanned.
    pub bytes: i64,
}

/// One table as `leakhound assess` saw it. The store keeps counts and the column
/// verdicts (`detail`, JSON), never a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssessmentRow {
    /// When it was recorded, RFC 3339 UTC (set by the store).
    pub at: String,
    /// The table: file path (`!` for members) or `schema.table`.
    pub source: String,
    /// `csv`, `sql`, `xlsx`, `postgres`…
    pub format: String,
    /// Data rows.
    pub rows: u64,
    /// Distinct people in the table.
    pub distinct_people: u64,
    /// Distinct vehicles in the table.
    pub distinct_vehicles: u64,
    /// The columns with their kinds and valid shares, and distinct counts per kind, as
    /// JSON.
    pub detail: String,
    /// The estate-run target (the system: a database, a repository, a share) it was
    /// assessed under, when an estate run recorded it (set by the store on reading).
    pub target: Option<String>,
}

/// The newest assessment of each table (source within its target), in target and
/// source order: two databases of an estate may both hold `public.customers`.
pub(crate) const LATEST_ASSESSMENTS: &str =
    "SELECT at, source, format, rows, distinct_people, distinct_vehicles, detail, target \
     FROM assessments a WHERE id = (SELECT MAX(id) FROM assessments b \
     WHERE b.source = a.source AND b.target IS NOT DISTINCT FROM a.target) \
     ORDER BY target, source";

/// What recording a scan changed.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// The new scan's id.
    pub scan_id: i64,
    /// Distinct findings (fingerprints) in the scan.
    pub findings: usize,
    /// Fingerprints first recorded by this scan.
    pub new: Vec<String>,
    /// Revoked values seen in a place they had not been before.
    pub reappeared: Vec<Reappeared>,
    /// The stored standing of every fingerprint of the scan, to annotate its output.
    pub triage: HashMap<String, Triage>,
}

/// A revoked value found somewhere new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reappeared {
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its rule.
    pub rule: String,
    /// The new place.
    pub path: String,
}

/// What `triage` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageOutcome {
    /// The full fingerprint the prefix resolved to.
    pub fingerprint: String,
    /// Status before.
    pub previous: Status,
    /// Rule of the finding.
    pub rule: String,
    /// Its masked value.
    pub masked: String,
}

/// Which findings a report wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<Status>,
    /// Only these categories (empty: all).
    pub categories: Vec<Category>,
    /// Only findings first seen at or after this time (RFC 3339 UTC).
    pub since: Option<String>,
    /// Only locations seen by this scan.
    pub scan: Option<i64>,
    /// Only locations seen by the scans of this estate run (every shard).
    pub run: Option<String>,
    /// Only these severities (empty: all).
    pub severities: Vec<Severity>,
    /// Only these rules (empty: all).
    pub rules: Vec<String>,
    /// Only findings first seen before this time (RFC 3339 UTC).
    pub until: Option<String>,
    /// Only findings first recorded by this scan: what it found that no scan before it
    /// had.
    pub new_in_scan: Option<i64>,
    /// Only places whose path holds this text (any case).
    pub path: Option<String>,
    /// Only places in this git repository or estate-run target.
    pub target: Option<String>,
    /// Only these fingerprints (empty: all).
    pub fingerprints: Vec<String>,
    /// Only findings estate run `R` saw that the run before it did not (all it saw
    /// when it was the first).
    pub new_in_run: Option<String>,
    /// At most this many places (rows of [`crate::Store::findings`]); all when `None`.
    pub at_most: Option<u64>,
}

impl Filter {
    /// Conditions on the finding (alias `f`), with their parameters in order.
    pub(crate) fn on_finding(&self, wheres: &mut Vec<String>, params: &mut Vec<Param>) {
        let mut any_of = |column: &str, values: Vec<String>| {
            if !values.is_empty() {
                let marks = vec!["?"; values.len()].join(", ");
                wheres.push(format!("{column} IN ({marks})"));
                params.extend(values.into_iter().map(Param::Text));
            }
        };
        any_of(
            "f.status",
            self.statuses.iter().map(|s| s.as_str().into()).collect(),
        );
        any_of(
            "f.category",
            self.categories.iter().map(|c| c.as_str().into()).collect(),
        );
        any_of(
            "f.severity",
            self.severities.iter().map(|c| c.as_str().into()).collect(),
        );
        any_of("f.rule", self.rules.clone());
        any_of("f.fingerprint", self.fingerprints.clone());
        if let Some(since) = &self.since {
            wheres.push("f.first_seen >= ?".to_string());
            params.push(Param::Text(since.clone()));
        }
        if let Some(until) = &self.until {
            wheres.push("f.first_seen < ?".to_string());
            params.push(Param::Text(until.clone()));
        }
        if let Some(scan) = self.new_in_scan {
            wheres.push("f.first_scan = ?".to_string());
            params.push(Param::Int(scan));
        }
        if let Some(run) = &self.new_in_run {
            let seen_by = |run: &str| {
                format!(
                    "SELECT l5.fingerprint FROM scans sc5 JOIN sightings s5 ON s5.scan_id = sc5.id \
                     JOIN locations l5 ON l5.id = s5.location_id WHERE sc5.run_id = {run}"
                )
            };
            wheres.push(format!(
                "f.fingerprint IN ({}) AND f.fingerprint NOT IN ({})",
                seen_by("?"),
                seen_by(
                    "(SELECT r6.id FROM runs r6 WHERE r6.started_at < \
                     (SELECT r7.started_at FROM runs r7 WHERE r7.id = ?) \
                     ORDER BY r6.started_at DESC, r6.id DESC LIMIT 1)"
                )
            ));
            params.push(Param::Text(run.clone()));
            params.push(Param::Text(run.clone()));
        }
    }

    /// Conditions on the place (alias `l`), with their parameters in order.
    pub(crate) fn on_place(
        &self,
        engine: Engine,
        wheres: &mut Vec<String>,
        params: &mut Vec<Param>,
    ) {
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            match engine {
                // SQLite's LIKE ignores ASCII case by itself (LOWER() would triple
                // the cost of the scan) and has no default escape character.
                Engine::Sqlite => {
                    wheres.push("l.path LIKE ? ESCAPE '\\'".to_string());
                    params.push(Param::Text(format!("%{}%", like_escaped(path))));
                }
                // Backslash is PostgreSQL's default escape; naming it would keep the
                // trigram index out of the plan.
                Engine::Postgres => {
                    wheres.push("LOWER(l.path) LIKE ?".to_string());
                    params.push(Param::Text(format!(
                        "%{}%",
                        like_escaped(&path.to_lowercase())
                    )));
                }
            }
        }
        if let Some(target) = self.target.as_deref().filter(|t| !t.is_empty()) {
            wheres.push(
                "(l.repository = ? OR l.id IN (SELECT s4.location_id FROM sightings s4 \
                 JOIN scans sc4 ON sc4.id = s4.scan_id WHERE sc4.target = ?))"
                    .to_string(),
            );
            params.push(Param::Text(target.to_string()));
            params.push(Param::Text(target.to_string()));
        }
    }
}

/// Which database the SQL is for, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

/// `text` with LIKE's wildcards (and the escape character) taken literally.
pub(crate) fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A query parameter: the two types our SQL binds.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    /// A text column's value or NULL.
    MaybeText(Option<String>),
}

/// Now, RFC 3339 UTC with milliseconds (sorts as text).
pub(crate) fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// One distinct finding of a scan.
pub(crate) struct FindingRow<'a> {
    pub fingerprint: &'a str,
    pub rule: &'a str,
    pub name: &'a str,
    pub category: &'static str,
    pub severity: &'static str,
    pub confidence: &'static str,
    pub masked: String,
    pub validator: Option<&'a str>,
}

/// One place a finding was seen. `place` is the key: repository and path, not the line,
/// so a value that moves within its file keeps its location.
pub(crate) struct LocationRow<'a> {
    pub fingerprint: &'a str,
    pub place: String,
    pub path: Cow<'a, str>,
    pub line: i64,
    pub column: i64,
    pub line_text: Option<String>,
    pub blob: &'a str,
    pub repository: Option<&'a str>,
    pub commit: Option<&'a CommitRef>,
    pub removed: Option<&'a str>,
    pub reach: Option<&'static str>,
    /// A table-level finding's column ([`StoredColumn`] as JSON).
    pub column_values: Option<String>,
    /// The encoding layers the value was found under here (`base64>url`).
    pub decoded: Option<&'a str>,
}

/// A table-level finding's column as stored: examples masked, value keys in hex
/// (16 digits each) so reports from the store count distinct identifiers exactly.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredColumn {
    table: String,
    column: String,
    first_row: u64,
    last_row: u64,
    cells: u64,
    distinct: u64,
    examples: Vec<String>,
    keys: String,
}

impl StoredColumn {
    fn of(f: &Finding) -> Option<String> {
        let v = f.column_values.as_deref()?;
        let cell = f.cell.as_deref()?;
        let mut keys = String::with_capacity(v.keys.len() * 16);
        for k in &v.keys {
            keys.push_str(&format!("{k:016x}"));
        }
        let stored = StoredColumn {
            table: text(&cell.name).into_owned(),
            column: text(&cell.column).into_owned(),
            first_row: cell.row,
            last_row: v.last_row,
            cells: f.count.unwrap_or(0),
            distinct: v.distinct,
            examples: v
                .shown_examples(false)
                .iter()
                .map(|e| text(e).into_owned())
                .collect(),
            keys,
        };
        serde_json::to_string(&stored).ok()
    }

    /// The finding's cell, cell count and column values, from the stored JSON.
    fn parse(json: &str) -> Result<(TableCell, u64, ColumnValues), crate::StoreError> {
        let bad = |what: &str| crate::StoreError::Corrupt(format!("column values: {what}"));
        let s: StoredColumn = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
        let keys = s
            .keys
            .as_bytes()
            .chunks(16)
            .map(|hex| {
                std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u64::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("a key is not hex"))
            })
            .collect::<Result<Vec<u64>, _>>()?;
        Ok((
            TableCell {
                name: Arc::from(s.table),
                column: Arc::from(s.column),
                row: s.first_row,
            },
            s.cells,
            ColumnValues {
                distinct: s.distinct,
                last_row: s.last_row,
                examples: s.examples,
                keys,
            },
        ))
    }
}

/// A scan's findings as rows: one per fingerprint, one per (fingerprint, place), both
/// sorted, so concurrent writers take row locks in the same order and cannot deadlock.
pub(crate) struct Batch<'a> {
    pub findings: Vec<FindingRow<'a>>,
    pub locations: Vec<LocationRow<'a>>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(findings: &'a [Finding]) -> Batch<'a> {
        // Sorting indices and keeping the first of each key costs a third of building
        // ordered maps of owned keys (measured on a million findings).
        let mut by_fp: Vec<&'a Finding> = findings.iter().collect();
        by_fp.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        by_fp.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        let rows = by_fp
            .into_iter()
            .map(|f| FindingRow {
                fingerprint: &f.fingerprint,
                rule: &f.rule,
                name: &f.name,
                category: f.category.as_str(),
                severity: f.severity.as_str(),
                confidence: f.confidence.as_str(),
                masked: text(&f.shown_value(false)).into_owned(),
                validator: f.validator.as_deref(),
            })
            .collect();

        let repo = |f: &'a Finding| f.git.as_ref().map(|g| g.repository.as_str());
        // (fingerprint, repository, path) is the place key; the first occurrence in
        // reading order (lowest line) stands for the place.
        let mut by_place: Vec<(usize, &'a Finding)> = findings.iter().enumerate().collect();
        by_place.sort_by(|(ia, a), (ib, b)| {
            (
                a.fingerprint.as_str(),
                repo(a),
                a.location.path.as_str(),
                ia,
            )
                .cmp(&(
                    b.fingerprint.as_str(),
                    repo(b),
                    b.location.path.as_str(),
                    ib,
                ))
        });
        by_place.dedup_by(|(_, a), (_, b)| {
            a.fingerprint == b.fingerprint
                && repo(a) == repo(b)
                && a.location.path == b.location.path
        });
        let lines = LineValues::new(findings);
        let locations = by_place
            .into_iter()
            .map(|(_, f)| {
                let repository = repo(f);
                let path = text(&f.location.path);
                // U+001F (unit separator) cannot clash with a path anyone types.
                let place = match repository {
                    Some(r) => format!("{}\u{1f}{path}", text(r)),
                    None => path.to_string(),
                };
                LocationRow {
                    fingerprint: &f.fingerprint,
                    place,
                    path,
                    line: i64::try_from(f.location.line).unwrap_or(i64::MAX),
                    column: i64::try_from(f.location.column).unwrap_or(i64::MAX),
                    line_text: lines.shown_line(f, false).map(|l| text(&l).into_owned()),
                    // A git finding's place is its git object (`git cat-file -p` shows it);
                    // the scanner's content id means nothing outside one run.
                    blob: f.git.as_ref().map_or(&*f.blob, |g| g.blob.as_str()),
                    repository,
                    commit: f.git.as_ref().and_then(|g| g.commit.as_ref()),
                    removed: f.git.as_ref().and_then(|g| g.removed.as_deref()),
                    reach: f.git.as_ref().map(|g| reach_word(g.reach)),
                    column_values: StoredColumn::of(f),
                    decoded: f.decoded.as_deref(),
                }
            })
            .collect();
        Batch {
            findings: rows,
            locations,
        }
    }
}

/// Text as both databases take it: PostgreSQL refuses NUL in text, and names from
/// archives or binary files can hold one.
fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{fffd}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn reach_word(r: Reach) -> &'static str {
    match r {
        Reach::Ref => "ref",
        Reach::UnreachableCommit => "unreachable-commit",
        Reach::LooseObject => "loose-object",
        Reach::Staged => "staged",
    }
}

fn parse_reach(s: &str) -> Reach {
    match s {
        "unreachable-commit" => Reach::UnreachableCommit,
        "loose-object" => Reach::LooseObject,
        "staged" => Reach::Staged,
        _ => Reach::Ref,
    }
}

/// The columns `select_findings` returns, in order, as both backends read them.
pub(crate) const SELECT_COLUMNS: &str = "f.fingerprint, f.rule, f.name, f.category, \
     f.severity, f.confidence, f.masked, f.validator, f.first_seen, f.last_seen, \
     f.first_scan, f.status, f.comment, l.path, l.line, l.col, l.line_text, l.blob, \
     l.repository, l.commit_id, l.author, l.email, l.commit_date, l.commit_path, \
     l.removed, l.reach, l.first_scan, l.reappeared, l.column_values, l.decoded";

/// The query for `filter`, with `?` placeholders (PostgreSQL numbers them).
pub(crate) fn select_findings(filter: &Filter, engine: Engine) -> (String, Vec<Param>) {
    let mut sql = format!(
        "SELECT {SELECT_COLUMNS} FROM findings f JOIN locations l ON l.fingerprint = f.fingerprint"
    );
    let mut wheres = Vec::new();
    let mut params = Vec::new();
    if let Some(scan) = filter.scan {
        sql.push_str(" JOIN sightings s ON s.location_id = l.id");
        wheres.push("s.scan_id = ?".to_string());
        params.push(Param::Int(scan));
    }
    if let Some(run) = &filter.run {
        // A place two targets of the run share is one row, not two.
        wheres.push(
            "l.id IN (SELECT s2.location_id FROM sightings s2 JOIN scans sc2 \
             ON sc2.id = s2.scan_id WHERE sc2.run_id = ?)"
                .to_string(),
        );
        params.push(Param::Text(run.clone()));
    }
    filter.on_finding(&mut wheres, &mut params);
    filter.on_place(engine, &mut wheres, &mut params);
    if !wheres.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&wheres.join(" AND "));
    }
    sql.push_str(" ORDER BY l.path, l.line, l.col, f.rule, f.fingerprint");
    if let Some(n) = filter.at_most {
        sql.push_str(" LIMIT ?");
        params.push(Param::Int(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    (sql, params)
}

/// One column value, as both backends read it.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// A row of `select_findings`, column by column (see `SELECT_COLUMNS`).
pub(crate) struct Row(pub Vec<Value>);

impl Row {
    fn text(&mut self, i: usize) -> Option<String> {
        match self.0.get_mut(i).map(|v| std::mem::replace(v, Value::Null)) {
            Some(Value::Text(s)) => Some(s),
            Some(Value::Int(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    fn need(&mut self, i: usize, what: &str) -> Result<String, crate::StoreError> {
        self.text(i)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("{what} is empty")))
    }

    fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Value::Int(n)) => *n,
            Some(Value::Text(s)) => s.parse().unwrap_or(0),
            _ => 0,
        }
    }

    fn kind<T>(&mut self, i: usize, what: &str) -> Result<T, crate::StoreError>
    where
        T: std::str::FromStr<Err = leakhound_findings::ParseKindError>,
    {
        self.need(i, what)?
            .parse()
            .map_err(|e: leakhound_findings::ParseKindError| {
                crate::StoreError::Corrupt(e.to_string())
            })
    }

    /// The finding this row describes, and the scan that first recorded its value.
    pub(crate) fn into_finding(mut self) -> Result<(Finding, i64), crate::StoreError> {
        let first_scan = self.int(10);
        let line = u64::try_from(self.int(14)).unwrap_or(0);
        let column = u64::try_from(self.int(15)).unwrap_or(0);
        let reappeared = self.int(27) != 0;
        let (cell, count, column_values) = match self.text(28) {
            Some(json) => {
                let (cell, cells, values) = StoredColumn::parse(&json)?;
                (Some(Box::new(cell)), Some(cells), Some(Box::new(values)))
            }
            None => (None, None, None),
        };
        let blob = self.text(17).unwrap_or_default();
        let commit_id = self.text(19);
        let commit = commit_id.map(|id| CommitRef {
            id,
            author: self.text(20).unwrap_or_default(),
            email: self.text(21).unwrap_or_default(),
            date: self.text(22).unwrap_or_default(),
            path: self.text(23).unwrap_or_default(),
        });
        let removed = self.text(24);
        let reach = self.text(25);
        let git = self.text(18).map(|repository| {
            Box::new(GitOrigin {
                repository,
                blob: blob.clone(),
                commit,
                removed,
                reach: reach.as_deref().map_or(Reach::Ref, parse_reach),
            })
        });
        let finding = Finding {
            fingerprint: self.need(0, "fingerprint")?,
            rule: Arc::from(self.need(1, "rule")?),
            name: Arc::from(self.need(2, "name")?),
            category: self.kind(3, "category")?,
            severity: self.kind(4, "severity")?,
            confidence: self.kind(5, "confidence")?,
            value: self.need(6, "value")?,
            validator: self.text(7).map(Cow::Owned),
            location: Location {
                path: self.need(13, "path")?,
                line,
                column,
                offset: 0,
            },
            line_text: self.text(16).map(Arc::from),
            count,
            blob: blob.into(),
            binary: false,
            git,
            cell,
            process: None,
            column_values,
            decoded: self.text(29).map(Arc::from),
            triage: Some(Box::new(Triage {
                first_seen: self.text(8).unwrap_or_default(),
                last_seen: self.text(9).unwrap_or_default(),
                status: self.kind(11, "status")?,
                comment: self.text(12),
                new: false,
                reappeared,
            })),
        };
        Ok((finding, first_scan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_placeholders_in_order() {
        let (sql, params) = select_findings(
            &Filter {
                statuses: vec![Status::Open, Status::Revoked],
                categories: vec![Category::Secret],
                since: Some("2026-01-01T00:00:00.000Z".into()),
                scan: Some(7),
                run: Some("nightly".into()),
                ..Filter::default()
            },
            Engine::Sqlite,
        );
        assert_eq!(sql.matches('?').count(), 6);
        assert!(matches!(params[0], Param::Int(7)));
        assert!(matches!(&params[1], Param::Text(r) if r == "nightly"));
        assert!(matches!(&params[4], Param::Text(c) if c == "secret"));
        assert!(sql.contains("f.first_seen >= ?"));
    }

    #[test]
    fn now_sorts_as_text() {
        let a = now();
        assert_eq!(a.len(), "2026-11-26T06:28:23.123Z".len());
        assert!(a.ends_with('Z'));
    }
}
