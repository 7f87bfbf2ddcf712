//! `leakhound run`: one shard of an estate run. Reads the inventory, takes this
//! shard's targets from the run's plan (made by the first shard to start, stored in
//! the datastore), and for each target clones or fetches, scans, assesses and records
//! against the run and the target. A target that cannot be reached is recorded as
//! failed and the shard goes on; only a datastore that cannot be written stops it.

use crate::args::{load_rules, parse_pack};
use crate::datastore::DatastoreArg;
use anyhow::Context;
use clap::Args;
use leakhound_assess::Assessment;
use leakhound_estate::{GitCache, Inventory, Shard, Source, Target};
use leakhound_findings::{Category, Finding};
use leakhound_inputs::Problem;
use leakhound_matcher::Matcher;
use leakhound_scan::{HistoryScanOptions, ScanOptions, Scanner};
use leakhound_store::{PlannedTarget, RunPlan, RunTarget, ScanRecord, Store, TargetOutcome};
use leakhound_tables::Meter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Args)]
pub struct RunArgs {
    /// The inventory: a TOML file of targets (see docs/estate.md).
    #[arg(long, value_name = "FILE", env = "LEAKHOUND_TARGETS")]
    targets: PathBuf,
    /// The run's id, the same for every shard of it (e.g. the Kubernetes Job's name).
    /// Default for an unsharded run: `run-` and the start time.
    #[arg(long, value_name = "ID", env = "LEAKHOUND_RUN")]
    run: Option<String>,
    /// This process's shard, I/N (0-based). Default: JOB_COMPLETION_INDEX of N =
    /// LEAKHOUND_SHARDS (a Kubernetes Indexed Job), else the whole run (0/1).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// The key (`leakhound trace key`) that fingerprints identifiers so people are
    /// counted once across the whole estate. Without it, tables are assessed but no
    /// estate-wide people figure is kept.
    #[arg(long, value_name = "FILE", env = "LEAKHOUND_KEY_FILE")]
    key: Option<PathBuf>,
    /// Where repositories are cloned and kept between runs.
    #[arg(long, value_name = "DIR", env = "LEAKHOUND_CACHE")]
    cache: Option<PathBuf>,
    /// Rule packs (overrides the inventory's `rules`).
    #[arg(long, value_name = "PACKS", value_delimiter = ',', value_parser = parse_pack)]
    rules: Vec<Category>,
    /// Worker threads per target (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    threads: usize,
    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    store: DatastoreArg,
}

/// Estimated cost of a target never measured: what the plan assumes before a run has
/// timed it (a mid-sized repository's history, a database's sample).
const UNKNOWN_COST_MS: u64 = 10_000;
/// Bytes per millisecond a scan gets through, to turn a size into a cost.
const BYTES_PER_MS: u64 = 20_000;

pub fn run(a: RunArgs) -> anyhow::Result<u8> {
    let inventory = Inventory::load(&a.targets)?;
    let shard = match &a.shard {
        Some(s) => Shard::parse(s)?,
        None => Shard::from_env(
            std::env::var("JOB_COMPLETION_INDEX").ok().as_deref(),
            std::env::var("LEAKHOUND_SHARDS").ok().as_deref(),
        )?
        .unwrap_or(Shard::ALL),
    };
    let run_id = match &a.run {
        Some(id) => id.clone(),
        None if shard.count == 1 => format!(
            "run-{}",
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
        ),
        None => anyhow::bail!(
            "a sharded run needs an id that every shard shares: --run ID or LEAKHOUND_RUN (the Kubernetes manifest sets it from the Job's name)"
        ),
    };
    check_run_id(&run_id)?;
    let Some(mut store) = a.store.open()? else {
        anyhow::bail!("leakhound run records into a datastore where its shards meet: pass --datastore PATH|URL or set LEAKHOUND_DATASTORE");
    };
    let shown_store = a.store.shown();
    let key = match &a.key {
        Some(path) => Some(
            leakhound_trace::Key::load(path)
                .with_context(|| format!("reading the key {}", path.display()))?,
        ),
        None => None,
    };
    let cache = GitCache::new(&a.cache.clone().unwrap_or_else(default_cache));

    // The plan: made here if this shard is the run's first, else the stored one.
    let costs = store
        .target_costs()
        .with_context(|| format!("reading {shown_store}"))?;
    let weights: Vec<u64> = inventory
        .targets
        .iter()
        .map(|t| estimated_cost(t, &costs, &cache))
        .collect();
    let named: Vec<(&str, u64)> = inventory
        .targets
        .iter()
        .map(|t| t.name.as_str())
        .zip(weights.iter().copied())
        .collect();
    let shards = leakhound_estate::assign(&named, shard.count);
    let plan = RunPlan {
        id: run_id.clone(),
        shards: shard.count,
        inventory: inventory.digest.clone(),
        targets: inventory
            .targets
            .iter()
            .zip(shards.iter().zip(&weights))
            .map(|(t, (s, w))| PlannedTarget {
                name: t.name.clone(),
                kind: kind_of(t).to_string(),
                shard: *s,
                weight: *w,
            })
            .collect(),
    };
    let stored = store
        .start_run(&plan, shard.index)
        .with_context(|| format!("starting shard {shard} of run {run_id} in {shown_store}"))?;
    if stored.inventory != plan.inventory {
        anyhow::bail!(
            "run {run_id} was started from another inventory (digest {} here, {} in the datastore): start a new run, or give every shard the same file",
            plan.inventory,
            stored.inventory
        );
    }
    if stored.shards != shard.count {
        anyhow::bail!(
            "run {run_id} was started with {} shards, this one says {}",
            stored.shards,
            shard.count
        );
    }
    let mine: Vec<&Target> = stored
        .targets
        .iter()
        .filter(|p| p.shard == shard.index)
        .filter_map(|p| inventory.targets.iter().find(|t| t.name == p.name))
        .collect();

    let packs: Vec<Category> = if a.rules.is_empty() {
        inventory
            .rules
            .iter()
            .map(|r| parse_pack(r).map_err(|e| anyhow::anyhow!("inventory rules: {e}")))
            .collect::<anyhow::Result<_>>()?
    } else {
        a.rules.clone()
    };
    let rules = load_rules(&packs, &[])?;
    let matcher = Matcher::new(&rules).context("compiling rules")?;
    let mut options = ScanOptions::default();
    options.walk.threads = a.threads;
    options.walk.skip_files = store.files();
    let scanner = Scanner::new(matcher, options);
    let mut shard_run = ShardRun {
        store: &mut store,
        shown_store: &shown_store,
        scanner: &scanner,
        key: key.as_ref(),
        cache: &cache,
        run: &run_id,
        packs: &packs,
        threads: a.threads,
    };
    if !a.quiet {
        eprintln!(
            "leakhound: run {run_id}, shard {shard}: {} of {} targets",
            mine.len(),
            inventory.targets.len()
        );
    }
    let mut failed = 0;
    for t in &mine {
        let started = Instant::now();
        let outcome = shard_run.target(t);
        let (problems, bytes, said, target_failed) = match outcome {
            Ok(done) => (done.problems, done.bytes, done.said, false),
            Err(e) => {
                if e.downcast_ref::<StoreFailure>().is_some() {
                    let _ = shard_run.store.finish_shard(&run_id, shard.index, true);
                    return Err(e);
                }
                let why = crate::described(&e);
                (vec![why.clone()], 0, format!("failed: {why}"), true)
            }
        };
        failed += usize::from(target_failed);
        let outcome = TargetOutcome {
            run: RunTarget {
                run: run_id.clone(),
                target: t.name.clone(),
            },
            shard: shard.index,
            kind: kind_of(t).to_string(),
            failed: target_failed,
            problems,
            millis: started.elapsed().as_millis() as u64,
            bytes,
        };
        shard_run
            .store
            .finish_target(&outcome)
            .with_context(|| format!("recording in {shown_store}"))?;
        if !a.quiet {
            eprintln!(
                "leakhound: {} ({}): {said} in {:.1} s",
                crate::output::safe(&t.name),
                kind_of(t),
                started.elapsed().as_secs_f64()
            );
        }
    }
    shard_run
        .store
        .finish_shard(&run_id, shard.index, false)
        .with_context(|| format!("recording in {shown_store}"))?;
    if !a.quiet {
        eprintln!(
            "leakhound: shard {shard} of run {run_id} finished: {} targets done, {failed} failed; `leakhound report --run {run_id}` puts the shards together",
            mine.len() - failed
        );
    }
    Ok(crate::exit::CLEAN)
}

/// A run id goes into file names, URLs and Kubernetes names: keep it plain.
pub(crate) fn check_run_id(id: &str) -> anyhow::Result<()> {
    let plain = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !plain {
        anyhow::bail!(
            "run id `{}`: use 1 to 128 letters, digits, `-`, `_` or `.`",
            crate::output::safe(id)
        );
    }
    Ok(())
}

/// `$XDG_CACHE_HOME/leakhound/git`, else `~/.cache/leakhound/git`, else a folder in
/// the temporary directory.
fn default_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("leakhound").join("git")
}

fn kind_of(t: &Target) -> &'static str {
    match t.source {
        Source::Git { .. } => "git",
        Source::Path { .. } => "path",
        Source::Database { .. } => "database",
    }
}

/// What a target is expected to cost, in milliseconds: as measured by the last run
/// that did it; else from its size (the inventory's hint, the cached clone, the files
/// on disk); else a guess.
fn estimated_cost(
    t: &Target,
    costs: &std::collections::HashMap<String, u64>,
    cache: &GitCache,
) -> u64 {
    if let Some(ms) = costs.get(&t.name) {
        return (*ms).max(1);
    }
    let size = t.size.or_else(|| match &t.source {
        Source::Git { url, history, .. } => cache.cached_size(url, *history),
        Source::Path { path, .. } => Some(path_size(path)),
        Source::Database { .. } => None,
    });
    size.map_or(UNKNOWN_COST_MS, |b| (b / BYTES_PER_MS).max(1))
}

/// Bytes under `path` (a file or a folder; unreadable parts count as nothing).
fn path_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_file() {
            total += meta.len();
        } else if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    total
}

/// The datastore refused a write: the shard stops (a re-run redoes its targets).
#[derive(Debug)]
struct StoreFailure(String);

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreFailure {}

/// What doing one target gave.
struct Done {
    problems: Vec<String>,
    bytes: u64,
    said: String,
}

struct ShardRun<'a> {
    store: &'a mut Store,
    shown_store: &'a str,
    scanner: &'a Scanner,
    key: Option<&'a leakhound_trace::Key>,
    cache: &'a GitCache,
    run: &'a str,
    packs: &'a [Category],
    threads: usize,
}

impl ShardRun<'_> {
    fn run_target(&self, t: &Target) -> RunTarget {
        RunTarget {
            run: self.run.to_string(),
            target: t.name.clone(),
        }
    }

    fn target(&mut self, t: &Target) -> anyhow::Result<Done> {
        match &t.source {
            Source::Git {
                url,
                history,
                incremental,
                auth,
            } => {
                let dir = self.cache.fetch(url, *history, auth)?;
                let shown = leakhound_estate::inventory::without_password(url);
                let mut done =
                    self.scan(t, &dir, *history && *incremental, Some(&shown), *history)?;
                if !*history {
                    done.said = format!("{} (default branch)", done.said);
                }
                Ok(done)
            }
            Source::Path {
                path,
                history,
                incremental,
            } => {
                if let Err(e) = std::fs::symlink_metadata(path) {
                    anyhow::bail!("cannot read {}: {e}", crate::output::safe(path.display()));
                }
                let mut done = self.scan(t, path, *history && *incremental, None, *history)?;
                if !*history {
                    let assessed = self.assess(t, &Reading::Path(path.clone()))?;
                    done.problems.extend(assessed.problems);
                    done.said = format!("{}, {}", done.said, assessed.said);
                }
                Ok(done)
            }
            Source::Database { url, sample } => {
                let url = url.reveal()?;
                if !leakhound_tables::is_database_url(&url) {
                    anyhow::bail!(
                        "{} is not a postgres:// or mysql:// URL",
                        crate::datastore::shown(&url)
                    );
                }
                self.assess(t, &Reading::Database(url, *sample))
            }
        }
    }

    /// Scan a folder or a repository's history and record the findings against the
    /// target. `shown` names a cloned repository by its URL rather than the cache
    /// folder, so every shard and every machine records the same places.
    ///
    /// `incremental` (history only): read only the commits added since the last
    /// history scan of this one repository recorded in the store, and carry that scan's
    /// places over, so the run still shows every finding of the history.
    fn scan(
        &mut self,
        t: &Target,
        path: &Path,
        incremental: bool,
        shown: Option<&str>,
        history: bool,
    ) -> anyhow::Result<Done> {
        // The key the store remembers this repository's tips under: its URL for a
        // clone (the cache folder differs between machines), else its path as `scan
        // --history --datastore` names it. Only a target that is one repository.
        let repositories = if history {
            leakhound_scan::repository_keys(&[path.to_path_buf()])
        } else {
            Vec::new()
        };
        let tips_key = match (shown, repositories.as_slice()) {
            (_, [] | [_, _, ..]) => None,
            (Some(url), [_]) => Some(url.to_string()),
            (None, [key]) => Some(key.clone()),
        };
        let base = match (&tips_key, incremental) {
            (Some(key), true) => self
                .store
                .history_base(key, self.run)
                .map_err(|e| StoreFailure(format!("reading {}: {e}", self.shown_store)))?,
            _ => None,
        };
        let problems: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let on_problem = |p: &Problem| {
            if let Ok(mut all) = problems.lock() {
                all.push(crate::output::safe(p).to_string());
            }
        };
        let paths = [path.to_path_buf()];
        let (findings, summary) = if history {
            let mut options = HistoryScanOptions {
                git: leakhound_scan::HistoryOptions {
                    threads: self.threads,
                    ..leakhound_scan::HistoryOptions::default()
                },
                ..HistoryScanOptions::default()
            };
            if let (Some((_, tips)), [key]) = (&base, repositories.as_slice()) {
                options.seen_tips.insert(key.clone(), tips.clone());
            }
            self.scanner
                .scan_history(&paths, &options, &on_problem)
                .context("scanning history")?
        } else {
            self.scanner
                .scan_paths(&paths, &on_problem)
                .context("scanning")?
        };
        let mut all = findings
            .into_vec()
            .context("reading the scan's findings back")?;
        if let Some(url) = shown {
            name_places_by_url(&mut all, path, url);
        }
        let record = ScanRecord {
            started_at: String::new(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: if history { "history" } else { "files" }.to_string(),
            targets: vec![t.name.clone()],
            packs: self.packs.iter().map(|c| c.to_string()).collect(),
            rules: summary.rules as u64,
            files: summary.files,
            blobs: summary.blobs,
            bytes: summary.bytes,
            problems: summary.problems.len() as u64,
            run: Some(self.run_target(t)),
            carry_from: base.as_ref().map(|(scan, _)| *scan),
        };
        let scan_id =
            crate::datastore::record(self.store, &record, &mut all, self.shown_store, true)
                .map_err(|e| StoreFailure(crate::described(&e)))?;
        if let Some(key) = &tips_key {
            for (_, tips) in &summary.tips {
                self.store
                    .record_history_tips(key, scan_id, tips)
                    .map_err(|e| StoreFailure(format!("recording in {}: {e}", self.shown_store)))?;
            }
        }
        let problems = problems.into_inner().unwrap_or_default();
        Ok(Done {
            said: format!(
                "{} {}findings in {} blobs{}",
                all.len(),
                if base.is_some() { "new " } else { "" },
                summary.blobs,
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(", {} unreadable", problems.len())
                }
            ),
            problems,
            bytes: summary.bytes,
        })
    }

    /// Assess the tables of a folder or a database and record them, with their keyed
    /// identities, against the target.
    fn assess(&mut self, t: &Target, reading: &Reading) -> anyhow::Result<Done> {
        let mut assessment = Assessment::default();
        if let Some(key) = self.key {
            assessment.totals = crate::cmd_assess::keyed_totals(key);
        }
        let meter = Meter::default();
        match reading {
            Reading::Path(path) => {
                let table_reading = crate::table_sources::Reading {
                    limits: leakhound_inputs::Limits::default(),
                    stream_above: 64 << 20,
                    sample: None,
                };
                crate::table_sources::read_all(
                    std::slice::from_ref(path),
                    &table_reading,
                    &meter,
                    &mut assessment,
                )?;
            }
            Reading::Database(url, sample) => {
                leakhound_tables::read_database(url, *sample, &mut assessment)
                    .with_context(|| format!("reading {}", crate::datastore::shown(url)))?;
            }
        }
        let rows: Vec<leakhound_store::AssessmentRow> = assessment
            .tables
            .iter()
            .map(crate::cmd_assess::stored)
            .collect();
        let identities = crate::cmd_assess::keyed_identities(&assessment.tables);
        self.store
            .record_run_assessments(&rows, Some(&self.run_target(t)), &identities)
            .map_err(|e| StoreFailure(format!("recording in {}: {e}", self.shown_store)))?;
        let (people, _, _) = assessment.totals.people();
        let problems: Vec<String> = assessment
            .problems
            .iter()
            .map(|p| crate::output::safe(p).to_string())
            .collect();
        Ok(Done {
            said: format!(
                "{} tables, {} rows, {people} people",
                rows.len(),
                assessment.totals.rows()
            ),
            problems,
            bytes: 0,
        })
    }
}

enum Reading {
    Path(PathBuf),
    Database(String, Option<u64>),
}

/// A cloned repository's findings name it by URL, not by the cache folder it was
/// cloned into: the cache is a different folder on every machine.
fn name_places_by_url(findings: &mut [Finding], dir: &Path, url: &str) {
    let dir_text = dir.display().to_string();
    for f in findings.iter_mut() {
        if let Some(g) = f.git.as_deref_mut() {
            if g.repository == dir_text || Path::new(&g.repository) == dir {
                g.repository = url.to_string();
            }
        }
        if let Some(rest) = f.location.path.strip_prefix(&dir_text) {
            f.location.path = format!("{url}{}", rest);
        }
    }
}
