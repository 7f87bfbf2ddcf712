//! Reading the store a page at a time, for `leakhound serve`: findings newest first
//! with a cursor (never OFFSET, which reads every skipped row again), one finding's
//! decisions, the audit log, and triage of many findings in one transaction.
//!
//! The SQL is written once with `?` placeholders for both backends ([`Sql`]).

use crate::rows::{self, Engine, Filter, Param, Value};
use crate::runs::Sql;
use crate::StoreError;
use leakhound_findings::Status;

/// One finding as the list shows it: what it is, its standing, and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingSummary {
    /// Its fingerprint (rule and raw value).
    pub fingerprint: String,
    /// Rule id.
    pub rule: String,
    /// Rule name.
    pub name: String,
    /// `secret`, `personal`…
    pub category: String,
    /// `critical` … `info`.
    pub severity: String,
    /// `high`, `medium`, `low`.
    pub confidence: String,
    /// The masked value (the store holds no raw value).
    pub masked: String,
    /// Its triage status.
    pub status: String,
    /// The comment of the last decision.
    pub comment: Option<String>,
    /// Who made the last decision.
    pub status_by: Option<String>,
    /// When.
    pub status_at: Option<String>,
    /// First recorded (RFC 3339 UTC).
    pub first_seen: String,
    /// Last recorded.
    pub last_seen: String,
    /// The scan that first recorded it.
    pub first_scan: i64,
    /// How many places it was seen in.
    pub places: u64,
    /// One of those places' paths (the first in path order).
    pub path: String,
}

/// Where a page of findings starts: after this (first seen, fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cursor {
    /// First-seen time of the last finding of the previous page.
    pub first_seen: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

impl Cursor {
    /// The cursor as one URL-safe word (`first_seen~fingerprint`).
    pub fn encode(&self) -> String {
        format!("{}~{}", self.first_seen, self.fingerprint)
    }

    /// Read a cursor back; `None` for anything that is not one.
    pub fn decode(text: &str) -> Option<Cursor> {
        let (first_seen, fingerprint) = text.split_once('~')?;
        let plausible = first_seen.len() <= 40
            && first_seen
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":.-+".contains(&b))
            && !fingerprint.is_empty()
            && fingerprint.len() <= 128
            && fingerprint.bytes().all(|b| b.is_ascii_hexdigit());
        plausible.then(|| Cursor {
            first_seen: first_seen.to_string(),
            fingerprint: fingerprint.to_string(),
        })
    }
}

/// One page of findings.
#[derive(Debug, Clone, Default)]
pub struct FindingPage {
    /// The findings, newest first.
    pub findings: Vec<FindingSummary>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
    /// How many findings the filter selects, counted no further than the cap asked
    /// for plus one (so "more than cap" can be said).
    pub count: u64,
}

/// Findings selected through their places whose keys one page view reads at most:
/// beyond that, a page is found by walking the findings instead.
const KEYS_AT_MOST: usize = 20_000;

/// One triage decision, from the CLI or the web.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The finding.
    pub fingerprint: String,
    /// The status set.
    pub status: String,
    /// Why.
    pub comment: Option<String>,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who.
    pub by: String,
}

/// One line of the audit log: a triage decision or an account event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who.
    pub by: String,
    /// `triage`, `login`, `login-failed`, `logout`, `user-created`, `role-changed`…
    pub action: String,
    /// What it was about (a fingerprint, a user name).
    pub subject: String,
    /// The rest (the status and comment of a decision; a role).
    pub detail: String,
}

const SUMMARY_COLUMNS: &str = "f.fingerprint, f.rule, f.name, f.category, f.severity, \
     f.confidence, f.masked, f.status, f.comment, f.status_by, f.status_at, f.first_seen, \
     f.last_seen, f.first_scan, \
     (SELECT COUNT(*) FROM locations lc WHERE lc.fingerprint = f.fingerprint), \
     (SELECT MIN(lp.path) FROM locations lp WHERE lp.fingerprint = f.fingerprint)";

fn text(row: &[Value], i: usize) -> String {
    match row.get(i) {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Int(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn maybe(row: &[Value], i: usize) -> Option<String> {
    match row.get(i) {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

fn int(row: &[Value], i: usize) -> i64 {
    match row.get(i) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    }
}

fn summary(row: &[Value]) -> FindingSummary {
    FindingSummary {
        fingerprint: text(row, 0),
        rule: text(row, 1),
        name: text(row, 2),
        category: text(row, 3),
        severity: text(row, 4),
        confidence: text(row, 5),
        masked: text(row, 6),
        status: text(row, 7),
        comment: maybe(row, 8),
        status_by: maybe(row, 9),
        status_at: maybe(row, 10),
        first_seen: text(row, 11),
        last_seen: text(row, 12),
        first_scan: int(row, 13),
        places: u64::try_from(int(row, 14)).unwrap_or(0),
        path: text(row, 15),
    }
}

/// The WHERE clause (possibly empty) of `filter` over findings `f`. Conditions on
/// places select the matching places first (by index where there is one) and keep
/// their findings: walking findings newest first and probing each one's places reads
/// the whole store when few match.
fn conditions(filter: &Filter, engine: Engine) -> (Vec<String>, Vec<Param>, bool) {
    let mut wheres = Vec::new();
    let mut params = Vec::new();
    filter.on_finding(&mut wheres, &mut params);
    let mut on_place = Vec::new();
    if let Some(scan) = filter.scan {
        on_place.push("l.id IN (SELECT s.location_id FROM sightings s WHERE s.scan_id = ?)".into());
        params.push(Param::Int(scan));
    }
    if let Some(run) = &filter.run {
        on_place.push(
            "l.id IN (SELECT s2.location_id FROM sightings s2 JOIN scans sc2 \
             ON sc2.id = s2.scan_id WHERE sc2.run_id = ?)"
                .to_string(),
        );
        params.push(Param::Text(run.clone()));
    }
    filter.on_place(engine, &mut on_place, &mut params);
    let by_place = !on_place.is_empty();
    if by_place {
        wheres.push(format!(
            "f.fingerprint IN (SELECT l.fingerprint FROM locations l WHERE {})",
            on_place.join(" AND ")
        ));
    }
    (wheres, params, by_place)
}

fn where_clause(wheres: &[String]) -> String {
    if wheres.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", wheres.join(" AND "))
    }
}

/// One page of the findings `filter` selects, newest first, starting after `after`,
/// with their number counted up to `cap`.
///
/// Filters on the finding alone walk an index newest first and stop after the page
/// (and the count after `cap`). Filters on places must find the matching places
/// first, whatever the page; their findings' keys are read once, in order, and give
/// both the count and the page, instead of a second pass to count.
pub(crate) fn page(
    sql: &mut dyn Sql,
    filter: &Filter,
    after: Option<&Cursor>,
    limit: usize,
    cap: u64,
) -> Result<FindingPage, StoreError> {
    let limit = limit.clamp(1, 1000);
    let (wheres, params, by_place) = conditions(filter, sql.engine());
    if by_place {
        if let Some(page) = page_by_keys(sql, &wheres, &params, after, limit, cap)? {
            return Ok(page);
        }
    }
    let count = count(sql, filter, cap.saturating_add(1))?;
    let (mut wheres, mut params) = (wheres, params);
    if let Some(c) = after {
        wheres.push("(f.first_seen < ? OR (f.first_seen = ? AND f.fingerprint < ?))".into());
        params.push(Param::Text(c.first_seen.clone()));
        params.push(Param::Text(c.first_seen.clone()));
        params.push(Param::Text(c.fingerprint.clone()));
    }
    let query = format!(
        "SELECT {SUMMARY_COLUMNS} FROM findings f{} \
         ORDER BY f.first_seen DESC, f.fingerprint DESC LIMIT ?",
        where_clause(&wheres)
    );
    params.push(Param::Int(limit as i64 + 1));
    let findings: Vec<FindingSummary> = sql
        .query(&query, &params)?
        .iter()
        .map(|r| summary(r))
        .collect();
    Ok(paged(findings, limit, count))
}

/// The page and its cursor from `limit + 1` findings.
fn paged(mut findings: Vec<FindingSummary>, limit: usize, count: u64) -> FindingPage {
    let next = if findings.len() > limit {
        findings.truncate(limit);
        findings.last().map(|f| Cursor {
            first_seen: f.first_seen.clone(),
            fingerprint: f.fingerprint.clone(),
        })
    } else {
        None
    };
    FindingPage {
        findings,
        next,
        count,
    }
}

/// A page from the ordered keys of every finding the conditions select; `None` when
/// there are more than [`KEYS_AT_MOST`] and the page lies beyond them.
fn page_by_keys(
    sql: &mut dyn Sql,
    wheres: &[String],
    params: &[Param],
    after: Option<&Cursor>,
    limit: usize,
    cap: u64,
) -> Result<Option<FindingPage>, StoreError> {
    let mut params = params.to_vec();
    params.push(Param::Int(KEYS_AT_MOST as i64 + 1));
    let keys: Vec<(String, String)> = sql
        .query(
            &format!(
                "SELECT f.first_seen, f.fingerprint FROM findings f{} \
                 ORDER BY f.first_seen DESC, f.fingerprint DESC LIMIT ?",
                where_clause(wheres)
            ),
            &params,
        )?
        .iter()
        .map(|r| (text(r, 0), text(r, 1)))
        .collect();
    let complete = keys.len() <= KEYS_AT_MOST;
    let start = match after {
        None => 0,
        Some(c) => {
            let cursor = (c.first_seen.as_str(), c.fingerprint.as_str());
            match keys
                .iter()
                .position(|(seen, fp)| (seen.as_str(), fp.as_str()) < cursor)
            {
                Some(i) => i,
                None if complete => keys.len(),
                None => return Ok(None),
            }
        }
    };
    let end = (start + limit + 1).min(keys.len());
    if end - start <= limit && !complete {
        // The page runs past the keys read: walk for it.
        return Ok(None);
    }
    let count = if complete {
        keys.len() as u64
    } else {
        KEYS_AT_MOST as u64 + 1
    }
    .min(cap.saturating_add(1));
    let wanted = &keys[start..end];
    if wanted.is_empty() {
        return Ok(Some(paged(Vec::new(), limit, count)));
    }
    let marks = vec!["?"; wanted.len()].join(", ");
    let ids: Vec<Param> = wanted
        .iter()
        .map(|(_, fp)| Param::Text(fp.clone()))
        .collect();
    let mut found: Vec<FindingSummary> = sql
        .query(
            &format!("SELECT {SUMMARY_COLUMNS} FROM findings f WHERE f.fingerprint IN ({marks})"),
            &ids,
        )?
        .iter()
        .map(|r| summary(r))
        .collect();
    found.sort_by(|a, b| {
        (b.first_seen.as_str(), b.fingerprint.as_str())
            .cmp(&(a.first_seen.as_str(), a.fingerprint.as_str()))
    });
    Ok(Some(paged(found, limit, count)))
}

/// How many findings `filter` selects, counting no further than `cap` (a count of a
/// million rows for every page view would cost more than the page).
pub(crate) fn count(sql: &mut dyn Sql, filter: &Filter, cap: u64) -> Result<u64, StoreError> {
    let (wheres, mut params, _) = conditions(filter, sql.engine());
    let inner = format!("SELECT 1 FROM findings f{} LIMIT ?", where_clause(&wheres));
    params.push(Param::Int(i64::try_from(cap).unwrap_or(i64::MAX)));
    let rows = sql.query(&format!("SELECT COUNT(*) FROM ({inner}) capped"), &params)?;
    Ok(rows
        .first()
        .map_or(0, |r| u64::try_from(int(r, 0)).unwrap_or(0)))
}

/// One finding, by its full fingerprint.
pub(crate) fn one(
    sql: &mut dyn Sql,
    fingerprint: &str,
) -> Result<Option<FindingSummary>, StoreError> {
    let rows = sql.query(
        &format!("SELECT {SUMMARY_COLUMNS} FROM findings f WHERE f.fingerprint = ?"),
        &[Param::Text(fingerprint.to_string())],
    )?;
    Ok(rows.first().map(|r| summary(r)))
}

/// Every decision about `fingerprint`, newest first.
pub(crate) fn decisions(sql: &mut dyn Sql, fingerprint: &str) -> Result<Vec<Decision>, StoreError> {
    let rows = sql.query(
        "SELECT fingerprint, status, comment, at, by_whom FROM triage \
         WHERE fingerprint = ? ORDER BY id DESC",
        &[Param::Text(fingerprint.to_string())],
    )?;
    Ok(rows
        .iter()
        .map(|r| Decision {
            fingerprint: text(r, 0),
            status: text(r, 1),
            comment: maybe(r, 2),
            at: text(r, 3),
            by: text(r, 4),
        })
        .collect())
}

/// Set `status` on every finding of `fingerprints` (exact), logging each decision
/// with `by` and `at`. Returns the fingerprints that exist (the others are skipped).
pub(crate) fn triage_many(
    sql: &mut dyn Sql,
    fingerprints: &[String],
    status: Status,
    comment: Option<&str>,
    by: &str,
    at: &str,
) -> Result<Vec<String>, StoreError> {
    let mut done = Vec::with_capacity(fingerprints.len());
    let comment = Param::MaybeText(comment.map(str::to_string));
    for fp in fingerprints {
        let changed = sql.execute(
            "UPDATE findings SET status = ?, comment = ?, status_at = ?, status_by = ? \
             WHERE fingerprint = ?",
            &[
                Param::Text(status.as_str().into()),
                comment.clone(),
                Param::Text(at.into()),
                Param::Text(by.into()),
                Param::Text(fp.clone()),
            ],
        )?;
        if changed == 0 {
            continue;
        }
        sql.execute(
            "INSERT INTO triage (fingerprint, status, comment, at, by_whom) VALUES (?, ?, ?, ?, ?)",
            &[
                Param::Text(fp.clone()),
                Param::Text(status.as_str().into()),
                comment.clone(),
                Param::Text(at.into()),
                Param::Text(by.into()),
            ],
        )?;
        done.push(fp.clone());
    }
    Ok(done)
}

/// Add one line to the audit log.
pub(crate) fn log(
    sql: &mut dyn Sql,
    by: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO audit (at, by_whom, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        &[
            Param::Text(rows::now()),
            Param::Text(by.into()),
            Param::Text(action.into()),
            Param::Text(subject.into()),
            Param::Text(detail.into()),
        ],
    )?;
    Ok(())
}

/// Where a page of the audit log starts: at time `at`, after the first `skip` entries
/// of that time (several decisions made at once share a millisecond).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditCursor {
    /// The time of the last entry shown.
    pub at: String,
    /// How many entries of that time were shown.
    pub skip: u64,
}

impl AuditCursor {
    /// As one URL-safe word.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.at, self.skip)
    }

    /// Read a cursor back; `None` for anything that is not one.
    pub fn decode(text: &str) -> Option<AuditCursor> {
        let (at, skip) = text.split_once('~')?;
        let plausible = !at.is_empty()
            && at.len() <= 40
            && at
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":.-+".contains(&b));
        Some(AuditCursor {
            at: plausible.then(|| at.to_string())?,
            skip: skip.parse().ok()?,
        })
    }
}

/// One page of the audit log, newest first: triage decisions (from the CLI and the
/// web) and account events; `limit` entries from `from`.
pub(crate) fn audit_log(
    sql: &mut dyn Sql,
    from: Option<&AuditCursor>,
    limit: usize,
) -> Result<(Vec<AuditEntry>, Option<AuditCursor>), StoreError> {
    let limit = limit.clamp(1, 1000);
    let (at, skip) = from.map_or(("9999", 0), |c| (c.at.as_str(), c.skip));
    // Ties are ordered by every column, so a page boundary inside one millisecond
    // neither repeats nor loses an entry.
    // Each log is read only as far as this page can reach (its `limit + 1 + skip`
    // newest entries up to `at`, and any sharing the last one's time) through its
    // index on `at`, instead of sorting both logs whole.
    let reach = i64::try_from(limit as u64 + skip).unwrap_or(i64::MAX);
    let rows = sql.query(
        "SELECT at, by_whom, action, subject, detail FROM ( \
           SELECT at, by_whom, 'triage' AS action, fingerprint AS subject, \
                  status || CASE WHEN comment IS NULL THEN '' ELSE ': ' || comment END AS detail \
           FROM triage WHERE at <= ? AND at >= COALESCE((SELECT t2.at FROM triage t2 \
             WHERE t2.at <= ? ORDER BY t2.at DESC LIMIT 1 OFFSET ?), '') \
           UNION ALL \
           SELECT at, by_whom, action, COALESCE(subject, ''), COALESCE(detail, '') \
           FROM audit WHERE at <= ? AND at >= COALESCE((SELECT a2.at FROM audit a2 \
             WHERE a2.at <= ? ORDER BY a2.at DESC LIMIT 1 OFFSET ?), '') \
         ) entries ORDER BY at DESC, action DESC, subject DESC, by_whom DESC, detail DESC \
         LIMIT ? OFFSET ?",
        &[
            Param::Text(at.into()),
            Param::Text(at.into()),
            Param::Int(reach),
            Param::Text(at.into()),
            Param::Text(at.into()),
            Param::Int(reach),
            Param::Int(limit as i64 + 1),
            Param::Int(i64::try_from(skip).unwrap_or(0)),
        ],
    )?;
    let mut entries: Vec<AuditEntry> = rows
        .iter()
        .map(|r| AuditEntry {
            at: text(r, 0),
            by: text(r, 1),
            action: text(r, 2),
            subject: text(r, 3),
            detail: text(r, 4),
        })
        .collect();
    let next = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|last| {
            let same = entries.iter().filter(|e| e.at == last.at).count() as u64;
            // Still inside the millisecond the page started in: skip on from there.
            let carried = if last.at == at { skip } else { 0 };
            AuditCursor {
                at: last.at.clone(),
                skip: carried + same,
            }
        })
    } else {
        None
    };
    Ok((entries, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor {
            first_seen: "2026-12-07T01:02:03.456Z".into(),
            fingerprint: "ab12".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        let a = AuditCursor {
            at: "2026-12-07T01:02:03.456Z".into(),
            skip: 3,
        };
        assert_eq!(AuditCursor::decode(&a.encode()), Some(a));
        assert_eq!(AuditCursor::decode("x~-1"), None);
        for junk in ["", "~", "x~zz", "2026'--~ab", "2026~", "a b~ab"] {
            assert_eq!(Cursor::decode(junk), None, "{junk}");
        }
    }

    proptest::proptest! {
        #[test]
        fn cursors_from_pages_read_back_and_nothing_else_panics(
            seen in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z",
            fp in "[0-9a-f]{1,64}",
            skip in 0u64..1_000_000,
            junk in "\\PC{0,80}",
        ) {
            let c = Cursor { first_seen: seen.clone(), fingerprint: fp };
            proptest::prop_assert_eq!(Cursor::decode(&c.encode()), Some(c));
            let a = AuditCursor { at: seen, skip };
            proptest::prop_assert_eq!(AuditCursor::decode(&a.encode()), Some(a));
            let _ = (Cursor::decode(&junk), AuditCursor::decode(&junk));
        }
    }

    #[test]
    fn place_conditions_become_one_subquery() {
        let (wheres, params, by_place) = conditions(
            &Filter {
                path: Some("50%_off".into()),
                target: Some("repo".into()),
                rules: vec!["aws".into()],
                ..Filter::default()
            },
            Engine::Sqlite,
        );
        assert_eq!(wheres.len(), 2, "{wheres:?}");
        assert!(by_place);
        assert!(wheres[1].starts_with("f.fingerprint IN"));
        assert_eq!(params.len(), 4);
        assert!(matches!(&params[1], Param::Text(p) if p == "%50\\%\\_off%"));
    }
}
