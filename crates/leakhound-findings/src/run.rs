//! An estate run put together from all its shards (`leakhound report --run`): what
//! the datastore reads back and every report format shows. Counts and names only; no
//! value of any kind.

use serde::Serialize;

/// A shard as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardState {
    /// 0-based index.
    pub shard: u32,
    /// `running` (or died: a killed pod never says), `finished` or `failed`.
    pub status: String,
    /// Times it was started.
    pub attempts: u64,
    /// Last start, RFC 3339 UTC.
    pub started_at: String,
    /// When it finished, if it did.
    pub finished_at: Option<String>,
}

/// A target of a run as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetState {
    /// Its name in the inventory.
    pub name: String,
    /// `git`, `path` or `database`.
    pub kind: String,
    /// The shard that takes it.
    pub shard: u32,
    /// `done`, `failed` or `not run` (its shard has not reached it, or died).
    pub status: String,
    /// What could not be read, or why it failed.
    pub problems: Vec<String>,
    /// Wall time.
    pub millis: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Distinct findings (fingerprints) seen in it.
    pub findings: u64,
    /// Of those, not seen anywhere in the previous run.
    pub new_findings: u64,
    /// Tables assessed in it.
    pub tables: u64,
}

/// Distinct people and vehicles across every table of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EstatePeople {
    /// Best estimate: each person (strong identifiers shown together merged) once, plus
    /// each group of contacts that no strong identifier claims anywhere in the run.
    pub distinct_people: u64,
    /// What the data proves at least: the distinct persons with a strong identifier
    /// (one if only contacts were seen).
    pub distinct_people_min: u64,
    /// What it allows at most: the tables' upper bounds added up.
    pub distinct_people_max: u64,
    /// Distinct VINs.
    pub distinct_vehicles: u64,
    /// Keyed identifiers the figure was worked out from (0: the run had no key).
    pub identities: u64,
}

/// One run, put together from all its shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOverview {
    /// The run's id.
    pub id: String,
    /// When its first shard started.
    pub started_at: String,
    /// Shards it was split into.
    pub shards: u32,
    /// The run before it (by start), which "new" is measured against.
    pub previous: Option<String>,
    /// Every shard that started (a shard that never started is missing here and its
    /// targets are `not run`).
    pub shard_states: Vec<ShardState>,
    /// Every target of the plan.
    pub targets: Vec<TargetState>,
    /// Estate-wide people.
    pub people: EstatePeople,
}
