//! Estate runs: one run of `leakhound run` over an inventory of targets, split into
//! shards that run as separate processes (Kubernetes Indexed Job pods, CI matrix jobs)
//! and meet in one store.
//!
//! Three rules keep a sharded run's picture exact:
//! - **One plan per run.** The first shard to start a run writes which shard takes
//!   which target; every other shard, and a shard started again, reads that plan, so
//!   shards that see different caches or clocks still split the inventory the same way.
//! - **A target's results replace its earlier results in the run.** Recording a scan or
//!   an assessment for (run, target) first deletes what an earlier attempt recorded for
//!   it, in the same transaction: a shard killed and re-run counts nothing twice and
//!   loses nothing.
//! - **People are merged as keyed fingerprints.** Each table's identifiers go in as
//!   64-bit HMACs under the user's key with how the table tied them together (which
//!   resident ID a phone belongs to, which contacts share a row); the estate-wide
//!   figure is worked out in SQL over every table of the run. No raw value is stored.
//!
//! The SQL here is written once, with `?` placeholders, for both backends ([`Sql`]).

use crate::rows::{Param, Value};
use crate::StoreError;
pub use leakhound_findings::run::{EstatePeople, RunOverview, ShardState, TargetState};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What the run code needs from a backend's open transaction.
pub(crate) trait Sql {
    /// Run a statement; rows changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError>;
    /// Run a query; every row, column by column.
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Value>>, StoreError>;
    /// Bulk-insert one target's identities (the backends' fastest path: COPY, or one
    /// prepared statement).
    fn insert_identities(&mut self, run: &RunTarget, rows: &[Identity]) -> Result<(), StoreError>;
    /// Which database this is, for the little SQL that differs.
    fn engine(&self) -> crate::rows::Engine;
    /// Before a query that joins whole runs: make the planner hash rather than loop,
    /// whatever its statistics say (a table loaded a second ago looks empty to it).
    fn prefer_hash_joins(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Which run and target a scan or an assessment belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunTarget {
    /// The run's id (`nightly-2026-12-06`, the Kubernetes Job's name).
    pub run: String,
    /// The target's name in the inventory.
    pub target: String,
}

/// One target of a run's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTarget {
    /// Its name in the inventory (unique).
    pub name: String,
    /// `git`, `path` or `database`.
    pub kind: String,
    /// The shard that takes it (0-based).
    pub shard: u32,
    /// The cost the plan balanced by (estimated milliseconds).
    pub weight: u64,
}

/// Which shard takes which target, and what the run was started from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunPlan {
    /// The run's id.
    pub id: String,
    /// How many shards split it.
    pub shards: u32,
    /// A digest of the inventory, so a shard started with another inventory is refused.
    pub inventory: String,
    /// Every target, with its shard.
    pub targets: Vec<PlannedTarget>,
}

/// Whether an identifier names a person, is a way to reach one, or names a vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityClass {
    /// A resident ID, passport, Hong Kong or Taiwan ID: one person each.
    Strong = 0,
    /// A mobile number or e-mail address.
    Contact = 1,
    /// A VIN.
    Vehicle = 2,
}

/// One distinct identifier of one table, as a keyed fingerprint with how the table tied
/// it to others. Never a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// What sort of identifier.
    pub class: IdentityClass,
    /// Its kind (`leakhound_assess::Kind` as a number), for per-kind counts.
    pub kind: u8,
    /// Keyed fingerprint (HMAC under the user's key, first 64 bits).
    pub fp: u64,
    /// Strong: the person, as the smallest fingerprint of the documents the table
    /// showed together. Contact: 0 when tied to no strong identifier, `u64::MAX` when
    /// tied to several, else the person.
    pub tie: u64,
    /// Contact: the smallest fingerprint of the contacts seen together on rows without
    /// a strong identifier (itself when alone). 0 otherwise.
    pub group: u64,
    /// Contact: shared in this table (placeholder, several people's, crowded).
    pub shared: bool,
}

/// How one target of a shard went.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetOutcome {
    /// Run and target.
    pub run: RunTarget,
    /// The shard that ran it.
    pub shard: u32,
    /// `git`, `path` or `database`.
    pub kind: String,
    /// It could not be reached or read at all.
    pub failed: bool,
    /// What could not be read, or why the target failed (no credentials in them).
    pub problems: Vec<String>,
    /// Wall time, for the next run's plan.
    pub millis: u64,
    /// Bytes read.
    pub bytes: u64,
}

fn text(s: &str) -> Param {
    Param::Text(s.to_string())
}

fn int(n: u64) -> Param {
    Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn get_text(row: &[Value], i: usize) -> Option<String> {
    match row.get(i) {
        Some(Value::Text(s)) => Some(s.clone()),
        Some(Value::Int(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn get_int(row: &[Value], i: usize) -> u64 {
    match row.get(i) {
        Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Value::Text(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Register shard `shard` of `plan` (writing the plan if the run is new) and return the
/// plan the run was started with.
pub(crate) fn start(
    tx: &mut dyn Sql,
    plan: &RunPlan,
    shard: u32,
    now: &str,
) -> Result<RunPlan, StoreError> {
    let targets = serde_json::to_string(&plan.targets)
        .map_err(|e| StoreError::Corrupt(format!("run plan: {e}")))?;
    tx.execute(
        "INSERT INTO runs (id, started_at, shards, inventory, plan) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO NOTHING",
        &[
            text(&plan.id),
            text(now),
            int(u64::from(plan.shards)),
            text(&plan.inventory),
            Param::Text(targets),
        ],
    )?;
    let stored = stored_plan(tx, &plan.id)?
        .ok_or_else(|| StoreError::Corrupt(format!("run {} vanished", plan.id)))?;
    tx.execute(
        "INSERT INTO run_shards (run_id, shard, status, attempts, started_at) \
         VALUES (?, ?, 'running', 1, ?) ON CONFLICT (run_id, shard) DO UPDATE SET \
         status = 'running', attempts = run_shards.attempts + 1, \
         started_at = excluded.started_at, finished_at = NULL",
        &[text(&plan.id), int(u64::from(shard)), text(now)],
    )?;
    Ok(stored)
}

/// The inventory digest of runs made by `assess` rather than from an inventory: their
/// targets are the sources each `assess` was given, added as they come.
pub const AD_HOC: &str = "assess";

/// Add `targets` to the ad-hoc run `id` (made if new), for `assess --run`: several
/// assessments, each of some sources, recorded as one run whose people are merged.
/// `Ok(false)` when `id` is a run made from an inventory (not to be mixed with).
pub(crate) fn extend(
    tx: &mut dyn Sql,
    id: &str,
    targets: &[PlannedTarget],
    now: &str,
) -> Result<bool, StoreError> {
    let fresh = RunPlan {
        id: id.to_string(),
        shards: 1,
        inventory: AD_HOC.to_string(),
        targets: Vec::new(),
    };
    let mut plan = start(tx, &fresh, 0, now)?;
    if plan.inventory != AD_HOC {
        return Ok(false);
    }
    for t in targets {
        if !plan.targets.iter().any(|p| p.name == t.name) {
            plan.targets.push(t.clone());
        }
    }
    let json = serde_json::to_string(&plan.targets)
        .map_err(|e| StoreError::Corrupt(format!("run plan: {e}")))?;
    tx.execute(
        "UPDATE runs SET plan = ? WHERE id = ?",
        &[Param::Text(json), text(id)],
    )?;
    Ok(true)
}

fn stored_plan(tx: &mut dyn Sql, id: &str) -> Result<Option<RunPlan>, StoreError> {
    let rows = tx.query(
        "SELECT id, shards, inventory, plan FROM runs WHERE id = ?",
        &[text(id)],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let targets: Vec<PlannedTarget> =
        serde_json::from_str(&get_text(row, 3).unwrap_or_default())
            .map_err(|e| StoreError::Corrupt(format!("plan of run {id}: {e}")))?;
    Ok(Some(RunPlan {
        id: get_text(row, 0).unwrap_or_default(),
        shards: u32::try_from(get_int(row, 1)).unwrap_or(1),
        inventory: get_text(row, 2).unwrap_or_default(),
        targets,
    }))
}

/// Delete what earlier attempts recorded as scans of `rt` (their sightings with them).
pub(crate) fn forget_scans(tx: &mut dyn Sql, rt: &RunTarget) -> Result<(), StoreError> {
    let p = [text(&rt.run), text(&rt.target)];
    tx.execute(
        "DELETE FROM sightings WHERE scan_id IN \
         (SELECT id FROM scans WHERE run_id = ? AND target = ?)",
        &p,
    )?;
    tx.execute("DELETE FROM scans WHERE run_id = ? AND target = ?", &p)?;
    Ok(())
}

/// Delete what earlier attempts recorded as assessments of `rt`, identities included.
pub(crate) fn forget_assessments(tx: &mut dyn Sql, rt: &RunTarget) -> Result<(), StoreError> {
    let p = [text(&rt.run), text(&rt.target)];
    tx.execute(
        "DELETE FROM assessments WHERE run_id = ? AND target = ?",
        &p,
    )?;
    tx.execute(
        "DELETE FROM run_identities WHERE run_id = ? AND target = ?",
        &p,
    )?;
    Ok(())
}

/// Record how a target went (replacing an earlier attempt's word on it).
pub(crate) fn finish_target(
    tx: &mut dyn Sql,
    o: &TargetOutcome,
    now: &str,
) -> Result<(), StoreError> {
    let problems = serde_json::to_string(&o.problems).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO run_targets (run_id, target, shard, kind, status, problems, millis, \
         bytes, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (run_id, target) DO UPDATE SET shard = excluded.shard, \
         kind = excluded.kind, status = excluded.status, problems = excluded.problems, \
         millis = excluded.millis, bytes = excluded.bytes, finished_at = excluded.finished_at",
        &[
            text(&o.run.run),
            text(&o.run.target),
            int(u64::from(o.shard)),
            text(&o.kind),
            text(if o.failed { "failed" } else { "done" }),
            Param::Text(problems),
            int(o.millis),
            int(o.bytes),
            text(now),
        ],
    )?;
    Ok(())
}

/// Record that a shard finished (or failed).
pub(crate) fn finish_shard(
    tx: &mut dyn Sql,
    run: &str,
    shard: u32,
    failed: bool,
    now: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE run_shards SET status = ?, finished_at = ? WHERE run_id = ? AND shard = ?",
        &[
            text(if failed { "failed" } else { "finished" }),
            text(now),
            text(run),
            int(u64::from(shard)),
        ],
    )?;
    Ok(())
}

/// What each target cost the last time it was done, in milliseconds: what the next
/// plan balances by.
pub(crate) fn costs(tx: &mut dyn Sql) -> Result<HashMap<String, u64>, StoreError> {
    let rows = tx.query(
        "SELECT target, millis FROM run_targets t WHERE status = 'done' AND finished_at = \
         (SELECT MAX(finished_at) FROM run_targets u WHERE u.target = t.target \
         AND u.status = 'done')",
        &[],
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((get_text(r, 0)?, get_int(r, 1))))
        .collect())
}

/// Where the last history scan of `repository` stopped, and which scan that was, unless
/// it was a scan of run `run` itself (a shard started again: its earlier attempt is
/// about to be replaced, so it cannot be built on). `None`: scan the whole history.
pub(crate) fn history_base(
    tx: &mut dyn Sql,
    repository: &str,
    run: &str,
) -> Result<Option<(i64, Vec<String>)>, StoreError> {
    let rows = tx.query(
        "SELECT t.tip, t.scan_id FROM history_tips t JOIN scans s ON s.id = t.scan_id \
         WHERE t.repository = ? AND (s.run_id IS NULL OR s.run_id <> ?) ORDER BY t.tip",
        &[text(repository), text(run)],
    )?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let scan = i64::try_from(get_int(first, 1)).unwrap_or(0);
    let tips = rows.iter().filter_map(|r| get_text(r, 0)).collect();
    Ok(Some((scan, tips)))
}

/// Give scan `to` every place scan `from` saw: an incremental history scan read only
/// the new commits, and what the older ones hold is still in the repository.
pub(crate) fn carry_sightings(tx: &mut dyn Sql, from: i64, to: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO sightings (scan_id, location_id) SELECT ?, location_id FROM sightings \
         WHERE scan_id = ? ON CONFLICT DO NOTHING",
        &[Param::Int(to), Param::Int(from)],
    )?;
    Ok(())
}

/// The ids of the runs in the store, newest first.
pub(crate) fn list(tx: &mut dyn Sql, limit: u64) -> Result<Vec<String>, StoreError> {
    let rows = tx.query(
        "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT ?",
        &[int(limit)],
    )?;
    Ok(rows.iter().filter_map(|r| get_text(r, 0)).collect())
}

/// The run started last before `id`.
fn previous(tx: &mut dyn Sql, id: &str) -> Result<Option<String>, StoreError> {
    let rows = tx.query(
        "SELECT id FROM runs WHERE started_at < (SELECT started_at FROM runs WHERE id = ?1) \
         ORDER BY started_at DESC, id DESC LIMIT 1",
        &[text(id)],
    )?;
    Ok(rows.first().and_then(|r| get_text(r, 0)))
}

/// The fingerprints a run saw.
const RUN_FINGERPRINTS: &str = "SELECT l.fingerprint FROM scans sc \
     JOIN sightings s ON s.scan_id = sc.id JOIN locations l ON l.id = s.location_id \
     WHERE sc.run_id = ?";

/// The fingerprints run `id` saw that its previous run did not (all of them when there
/// was none).
pub(crate) fn new_fingerprints(tx: &mut dyn Sql, id: &str) -> Result<HashSet<String>, StoreError> {
    let seen: HashSet<String> = tx
        .query(RUN_FINGERPRINTS, &[text(id)])?
        .iter()
        .filter_map(|r| get_text(r, 0))
        .collect();
    let Some(before) = previous(tx, id)? else {
        return Ok(seen);
    };
    let old: HashSet<String> = tx
        .query(RUN_FINGERPRINTS, &[text(&before)])?
        .iter()
        .filter_map(|r| get_text(r, 0))
        .collect();
    Ok(seen.into_iter().filter(|f| !old.contains(f)).collect())
}

/// The whole picture of run `id`, or `None` if the store has no such run.
pub(crate) fn overview(tx: &mut dyn Sql, id: &str) -> Result<Option<RunOverview>, StoreError> {
    let Some(plan) = stored_plan(tx, id)? else {
        return Ok(None);
    };
    let started_at = tx
        .query("SELECT started_at FROM runs WHERE id = ?", &[text(id)])?
        .first()
        .and_then(|r| get_text(r, 0))
        .unwrap_or_default();
    let shard_states = tx
        .query(
            "SELECT shard, status, attempts, started_at, finished_at FROM run_shards \
             WHERE run_id = ? ORDER BY shard",
            &[text(id)],
        )?
        .iter()
        .map(|r| ShardState {
            shard: u32::try_from(get_int(r, 0)).unwrap_or(0),
            status: get_text(r, 1).unwrap_or_default(),
            attempts: get_int(r, 2),
            started_at: get_text(r, 3).unwrap_or_default(),
            finished_at: get_text(r, 4),
        })
        .collect();
    let mut done: HashMap<String, (String, Vec<String>, u64, u64)> = HashMap::new();
    for r in tx.query(
        "SELECT target, status, problems, millis, bytes FROM run_targets WHERE run_id = ?",
        &[text(id)],
    )? {
        let problems: Vec<String> =
            serde_json::from_str(&get_text(&r, 2).unwrap_or_default()).unwrap_or_default();
        done.insert(
            get_text(&r, 0).unwrap_or_default(),
            (
                get_text(&r, 1).unwrap_or_default(),
                problems,
                get_int(&r, 3),
                get_int(&r, 4),
            ),
        );
    }
    let counts = |rows: Vec<Vec<Value>>| -> HashMap<String, u64> {
        rows.iter()
            .filter_map(|r| Some((get_text(r, 0)?, get_int(r, 1))))
            .collect()
    };
    let findings = counts(tx.query(
        "SELECT sc.target, COUNT(DISTINCT l.fingerprint) FROM scans sc \
         JOIN sightings s ON s.scan_id = sc.id JOIN locations l ON l.id = s.location_id \
         WHERE sc.run_id = ? GROUP BY sc.target",
        &[text(id)],
    )?);
    let previous = previous(tx, id)?;
    let new = match &previous {
        None => findings.clone(),
        Some(before) => counts(tx.query(
            "SELECT sc.target, COUNT(DISTINCT l.fingerprint) FROM scans sc \
             JOIN sightings s ON s.scan_id = sc.id JOIN locations l ON l.id = s.location_id \
             WHERE sc.run_id = ?1 AND l.fingerprint NOT IN (SELECT l2.fingerprint \
             FROM scans sc2 JOIN sightings s2 ON s2.scan_id = sc2.id \
             JOIN locations l2 ON l2.id = s2.location_id WHERE sc2.run_id = ?2) \
             GROUP BY sc.target",
            &[text(id), text(before)],
        )?),
    };
    let tables = counts(tx.query(
        "SELECT target, COUNT(*) FROM assessments WHERE run_id = ? GROUP BY target",
        &[text(id)],
    )?);
    let targets = plan
        .targets
        .iter()
        .map(|t| {
            let (status, problems, millis, bytes) = done
                .remove(&t.name)
                .unwrap_or_else(|| ("not run".into(), Vec::new(), 0, 0));
            TargetState {
                name: t.name.clone(),
                kind: t.kind.clone(),
                shard: t.shard,
                status,
                problems,
                millis,
                bytes,
                findings: findings.get(&t.name).copied().unwrap_or(0),
                new_findings: new.get(&t.name).copied().unwrap_or(0),
                tables: tables.get(&t.name).copied().unwrap_or(0),
            }
        })
        .collect();
    let people = people(tx, id)?;
    Ok(Some(RunOverview {
        id: plan.id,
        started_at,
        shards: plan.shards,
        previous,
        shard_states,
        targets,
        people,
    }))
}

/// Estate-wide people of run `id`, from every table's keyed identities.
///
/// A strong identifier's person is the smallest fingerprint among the documents any
/// table showed with it; a contact is tied to a person when every table that tied it
/// tied it to the same one, and shared when any table found it shared or two tables
/// tied it to different people; contacts not shared are grouped by the smallest group
/// fingerprint any table gave them, and a group none of whose contacts is tied is one
/// more person. Chains of joins through more than one table at a time are followed one
/// step (a person can then count twice, never less than once), which the upper bound
/// covers.
fn people(tx: &mut dyn Sql, id: &str) -> Result<EstatePeople, StoreError> {
    tx.prefer_hash_joins()?;
    let row = tx
        .query(
            "WITH persons AS (SELECT fp, MIN(tie) AS person FROM run_identities \
             WHERE run_id = ?1 AND class = 0 GROUP BY fp), \
             contacts AS (SELECT c.fp AS fp, MAX(c.shared) AS shared, \
             COUNT(DISTINCT CASE WHEN c.tie <> 0 AND c.tie <> -1 \
             THEN COALESCE(p.person, c.tie) END) AS ties, \
             MAX(CASE WHEN c.tie = -1 THEN 1 ELSE 0 END) AS many, MIN(c.grp) AS grp \
             FROM run_identities c LEFT JOIN persons p ON p.fp = c.tie \
             WHERE c.run_id = ?1 AND c.class = 1 GROUP BY c.fp) \
             SELECT (SELECT COUNT(DISTINCT person) FROM persons), \
             (SELECT COUNT(*) FROM (SELECT grp FROM contacts \
             WHERE shared = 0 AND many = 0 AND ties <= 1 GROUP BY grp \
             HAVING MAX(ties) = 0) g), \
             (SELECT COUNT(DISTINCT fp) FROM run_identities WHERE run_id = ?1 AND class = 2), \
             (SELECT COUNT(*) FROM run_identities WHERE run_id = ?1)",
            &[text(id)],
        )?
        .into_iter()
        .next()
        .unwrap_or_default();
    let strong = get_int(&row, 0);
    let unclaimed = get_int(&row, 1);
    let identities = get_int(&row, 3);
    let max_rows = tx.query(
        "SELECT detail FROM assessments WHERE run_id = ?",
        &[text(id)],
    )?;
    let table_max: u64 = max_rows
        .iter()
        .filter_map(|r| {
            let detail: serde_json::Value = serde_json::from_str(&get_text(r, 0)?).ok()?;
            detail["distinct_people_max"].as_u64()
        })
        .sum();
    let best = strong + unclaimed;
    let min = if identities > 0 { strong.max(1) } else { 0 };
    Ok(EstatePeople {
        distinct_people: best.max(min),
        distinct_people_min: min,
        distinct_people_max: table_max.max(best),
        distinct_vehicles: get_int(&row, 2),
        identities,
    })
}
