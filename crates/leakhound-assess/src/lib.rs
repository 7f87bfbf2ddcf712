//! What personal data a table holds: for each table (a CSV or JSON file, an archive
//! member, a database table), what kind of data each column holds and how much of it
//! validates, and how many distinct people and vehicles it exposes. Tables are read by
//! `leakhound-tables`; this crate is one of their sinks ([`Assessment`]).
//!
//! This answers what a regulator asks after a leak ("which kinds of personal data,
//! about how many people?"), which a list of matched lines does not. Values are
//! recognised with the same checksum validators as the scanner
//! (`leakhound-validators`), and column names count as context: a column of 11-digit
//! numbers named `手机` is a phone column with high confidence; the same numbers under
//! `amount` must nearly all validate to be called phones at all.
//!
//! Nothing here keeps or prints a raw value: people and vehicles are counted through
//! 64-bit hashes of their normalised identifiers.
#![deny(missing_docs)]

mod kinds;
mod people;

pub use kinds::{check, date_of, header_suggests, is_placeholder, recognise, Column, Kind};

use leakhound_findings::keys::IdSet;
use leakhound_inputs::{Limits, Problem};
use leakhound_tables::{DatabaseError, Meter, Row, RowBuffer, RowSource, Table, TableSink};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One column's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnReport {
    /// Column name (header, dotted JSON path, or `column_N`).
    pub name: String,
    /// What it holds; `null` when nothing sensitive.
    pub kind: Option<Kind>,
    /// Share of non-empty values that validate as `kind` (0 when `kind` is null).
    pub valid_ratio: f64,
    /// Non-empty values.
    pub non_empty: u64,
    /// `high` when the column name agrees with the values, else `medium`.
    pub confidence: Option<&'static str>,
}

/// One table's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableReport {
    /// File path, with `!` for archive members.
    pub source: String,
    /// `csv`, `tsv`, `json`, `jsonl`, `sql`, `sqlite` or `postgres`.
    pub format: &'static str,
    /// Data rows (the header is not a row).
    pub rows: u64,
    /// People, best estimate: each resident ID one person; phones and e-mail addresses
    /// belong to the person they are tied to, or are one more person where none is
    /// (see docs/assess.md, "Counting people").
    pub distinct_people: u64,
    /// What the data proves at least: the distinct resident IDs (one if only contacts).
    pub distinct_people_min: u64,
    /// What the data allows at most: each resident ID, plus each distinct set of
    /// contacts on a row without one, a different person.
    pub distinct_people_max: u64,
    /// Contacts that join nobody: on the rows of several resident IDs, with many other
    /// contacts, or placeholders. Most rows first, at most [`MAX_SHARED_REPORTED`].
    pub shared_contacts: Vec<SharedContactReport>,
    /// Distinct VINs.
    pub distinct_vehicles: u64,
    /// Distinct values per kind (resident IDs, phones, plates…).
    pub distinct: BTreeMap<Kind, u64>,
    /// Every column, in order.
    pub columns: Vec<ColumnReport>,
    /// Its identifiers as keyed hashes (only when the totals carry a key).
    #[serde(skip)]
    pub identities: Vec<Identity>,
}

/// A contact value that joins nobody, as reported (masked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedContactReport {
    /// The column it was found in.
    pub column: String,
    /// `mobile` or `email`.
    pub kind: Kind,
    /// Rows it is on.
    pub rows: u64,
    /// `several_ids`, `many_contacts` or `placeholder`.
    pub reason: &'static str,
    /// The value, masked.
    pub example: String,
}

/// One distinct identifier of a table as a keyed hash, with how the table tied it to
/// others: what an estate run stores so that people can be counted across tables read
/// by different processes. Only made when the totals carry a key ([`Totals::keyed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// What it is.
    pub kind: Kind,
    /// Its keyed hash.
    pub fp: u64,
    /// Strong kinds: the person (smallest hash of the documents the table showed
    /// together, as signed numbers). Contacts: 0 tied to nobody, `u64::MAX` to several
    /// people, else the person. VINs: 0.
    pub tie: u64,
    /// Contacts: the smallest hash of the contacts seen together on rows without a
    /// strong identifier (its own hash when alone). Others: 0.
    pub group: u64,
    /// Contacts: shared (placeholder, several people's, crowded).
    pub shared: bool,
}

/// Hashes identifiers under the user's secret key: (kind, normalised value) to 64 bits.
pub type KeyedHash = std::sync::Arc<dyn Fn(Kind, &str) -> u64 + Send + Sync>;

/// Shared contacts listed per table.
pub const MAX_SHARED_REPORTED: usize = 10;

/// People and vehicles across every table assessed, so a person in two exports is
/// counted once.
#[derive(Default)]
pub struct Totals {
    people: people::People,
    vehicles: IdSet,
    tables: u64,
    rows: u64,
    keyed: Option<KeyedHash>,
}

impl std::fmt::Debug for KeyedHashShown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "keyed" } else { "unkeyed" })
    }
}

/// How a key shows in debug output: whether there is one, nothing more.
struct KeyedHashShown<'a>(&'a Option<KeyedHash>);

impl Totals {
    /// Totals whose tables hash identifiers with `hash` (a keyed HMAC) and report
    /// them as [`TableReport::identities`], for an estate run's store.
    pub fn keyed(hash: KeyedHash) -> Totals {
        Totals {
            keyed: Some(hash),
            ..Totals::default()
        }
    }

    /// Distinct people across all tables: (best estimate, at least, at most). Worked
    /// out afresh from every identifier on each call.
    pub fn people(&self) -> (u64, u64, u64) {
        let e = self.people.estimate();
        (e.best, e.min, e.max)
    }
    /// Distinct vehicles (VINs) across all tables.
    pub fn vehicles(&self) -> u64 {
        self.vehicles.len() as u64
    }
    /// Tables assessed.
    pub fn tables(&self) -> u64 {
        self.tables
    }
    /// Rows across all tables.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

/// Assess the file at `path` (shown as `shown`): see [`leakhound_tables::read_path`] for what
/// is streamed and what is read whole.
pub fn assess_path(
    path: &std::path::Path,
    shown: &str,
    limits: &Limits,
    stream_above: u64,
    totals: &mut Totals,
    meter: &Meter,
) -> (Vec<TableReport>, Vec<Problem>) {
    let mut a = Assessment::with(totals);
    leakhound_tables::read_path(path, shown, limits, stream_above, meter, &mut a);
    a.into_parts(totals)
}

/// Assess every table of a live PostgreSQL, MySQL or MariaDB database (read-only
/// session), reading the first `sample` rows of each (all rows, streamed, with
/// `None`).
pub fn assess_database(
    url: &str,
    sample: Option<u64>,
    totals: &mut Totals,
) -> Result<Vec<TableReport>, DatabaseError> {
    let mut a = Assessment::with(totals);
    let read = leakhound_tables::read_database(url, sample, &mut a);
    let (tables, _) = a.into_parts(totals);
    read.map(|()| tables)
}

/// The sink that assesses: one [`TableBuilder`] per table handed to it, people
/// joined across tables in its [`Totals`].
#[derive(Default)]
pub struct Assessment {
    /// Each table's report, in the order read.
    pub tables: Vec<TableReport>,
    /// What could not be read.
    pub problems: Vec<Problem>,
    /// People and vehicles across all tables.
    pub totals: Totals,
}

impl Assessment {
    /// Assess on top of existing totals.
    fn with(totals: &mut Totals) -> Assessment {
        Assessment {
            totals: std::mem::take(totals),
            ..Assessment::default()
        }
    }

    /// Give the totals back.
    fn into_parts(self, totals: &mut Totals) -> (Vec<TableReport>, Vec<Problem>) {
        *totals = self.totals;
        (self.tables, self.problems)
    }
}

impl std::fmt::Debug for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totals")
            .field("people", &self.people)
            .field("vehicles", &self.vehicles.len())
            .field("tables", &self.tables)
            .field("rows", &self.rows)
            .field("keyed", &KeyedHashShown(&self.keyed))
            .finish()
    }
}

impl TableSink for Assessment {
    fn table(&mut self, t: Table<'_>) {
        let mut b = TableBuilder::new(t.source, t.format, t.columns);
        b.checker.keyed = self.totals.keyed.clone();
        b.consume(t.rows);
        self.tables.push(b.finish(&mut self.totals));
    }
    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

/// The share of valid values a column needs before it is given a kind: lower when
/// its name agrees, higher for kinds that random digits often pass (phones, cards).
pub fn threshold(kind: Kind, named: bool) -> f64 {
    match (kind, named) {
        (_, true) => 0.3,
        (Kind::Mobile | Kind::BankCard | Kind::Gps, false) => 0.9,
        (_, false) => 0.6,
    }
}

/// Assess `bytes` found at `path`: a table file, or an archive or compressed stream
/// holding some (see [`leakhound_tables::read_blob`]).
pub fn assess_blob(
    path: &str,
    bytes: &[u8],
    limits: &Limits,
    totals: &mut Totals,
) -> (Vec<TableReport>, Vec<Problem>) {
    let mut a = Assessment::with(totals);
    leakhound_tables::read_blob(path, bytes, limits, &mut a);
    a.into_parts(totals)
}

/// A column's verdict: what it holds, and whether its name says so too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnKind {
    /// What the column holds.
    pub kind: Kind,
    /// The column's name agrees (`high` confidence).
    pub named: bool,
}

/// Each column's kind, decided on a sample of rows: the kind most of its non-empty
/// values validate as, if enough of them do (see [`threshold`]). `assess`, `trace
/// index` and `trace match` all call this, so they agree on what a column is.
pub fn classify(
    names: &[String],
    context: &[Column],
    sample: &[Vec<String>],
) -> Vec<Option<ColumnKind>> {
    let width = names.len();
    let mut counts: Vec<HashMap<Kind, u64>> = vec![HashMap::new(); width];
    let mut non_empty = vec![0u64; width];
    for row in sample {
        for (i, cell) in row.iter().enumerate().take(width) {
            if cell.trim().is_empty() {
                continue;
            }
            non_empty[i] += 1;
            // Several values in one cell (a JSON array): the cell counts as its kind
            // if its first recognised value does.
            if let Some((k, _)) = cell.lines().find_map(|v| recognise(v, &context[i])) {
                *counts[i].entry(k).or_insert(0) += 1;
            }
        }
    }
    (0..width)
        .map(|i| {
            let best = counts[i]
                .iter()
                .max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k)))
                .map(|(k, n)| (*k, *n));
            best.and_then(|(kind, n)| {
                let ratio = n as f64 / non_empty[i].max(1) as f64;
                let named = header_suggests(&names[i], kind);
                (ratio >= threshold(kind, named)).then_some(ColumnKind { kind, named })
            })
        })
        .collect()
}

/// Rows read before column kinds are decided. Kinds are decided on this sample; every
/// later row is only checked against its column's kind, so memory stays at one sample
/// however long the table.
pub const SAMPLE_ROWS: usize = 10_000;

/// Rows per batch handed from the reader to the checkers and on to the counter.
const BATCH_ROWS: usize = 2_048;

/// Threads that check rows at once: as many as there are cores, up to four (past
/// that the reader and the counter are the bottleneck).
fn checkers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// A table assessed row by row: the first [`SAMPLE_ROWS`] rows are kept to decide the
/// columns' kinds, then replayed; later rows are counted as they come.
///
/// Past the sample the work is a pipeline so a long table uses every core: the thread
/// that reads the rows only packs them into [`RowBatch`]es; [`checkers`] threads check
/// them against their column's kind (validators, normalising, hashes: no shared
/// state, so they run side by side); one [`Counter`] thread (the distinct-value sets
/// and the people, where the time goes in cache misses) takes the checked batches in
/// reading order, so the figures do not depend on which checker finished first.
pub struct TableBuilder {
    source: String,
    format: &'static str,
    names: Vec<String>,
    sample: Vec<Vec<String>>,
    checker: Checker,
    tally: Tally,
    counter: Counter,
}

/// Checks cells against their column's kind: each identifier's kind and hash for the
/// [`Counter`]. Read-only once the kinds are decided, so checkers share one.
struct Checker {
    keyed: Option<KeyedHash>,
    context: Vec<Column>,
    /// Decided after the sample: (kind, column name agrees).
    kinds: Option<Vec<Option<(Kind, bool)>>>,
}

/// What a checker counts as it goes: rows, non-empty and valid cells per column. One
/// per checker thread, added up at the end.
#[derive(Clone)]
struct Tally {
    non_empty: Vec<u64>,
    valid: Vec<u64>,
    rows: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.rows += other.rows;
        for (a, b) in self.non_empty.iter_mut().zip(&other.non_empty) {
            *a += b;
        }
        for (a, b) in self.valid.iter_mut().zip(&other.valid) {
            *a += b;
        }
    }
}

/// Counts distinct values and people from checked rows.
struct Counter {
    people: people::People,
    /// Distinct values of kinds people do not keep, indexed by `Kind as usize`.
    distinct: Vec<IdSet>,
}

/// A contact identifier as checked, for the counter. Its value is a range of the
/// batch's `text`: one buffer per batch rather than a string per value allocated on
/// one thread and freed on the other (the allocator's cross-thread frees showed up).
struct CheckedContact {
    hash: u64,
    column: usize,
    kind: Kind,
    value: std::ops::Range<usize>,
    placeholder: bool,
}

/// Rows as read, for the checkers, each padded or cut to the table's width; the
/// buffer is reused from batch to batch.
#[derive(Default)]
struct RowBatch {
    /// Its place in reading order.
    seq: u64,
    rows: RowBuffer,
}

impl RowBatch {
    /// Append a row, padded or cut to `width` cells.
    fn push<'a>(&mut self, width: usize, row: impl IntoIterator<Item = &'a str>) {
        let mut cells = row.into_iter();
        for _ in 0..width {
            self.rows.push_cell(cells.next().unwrap_or_default());
        }
        self.rows.end_row();
    }
}

/// Checked rows: their identifiers in flat lists, each row's end in `ends`.
#[derive(Default)]
struct Batch {
    /// Its place in reading order.
    seq: u64,
    /// Per row: where its strong, contact and other identifiers end.
    ends: Vec<(u32, u32, u32)>,
    strong: Vec<people::Strong>,
    contacts: Vec<CheckedContact>,
    /// The contacts' normalised values, one after another.
    text: String,
    others: Vec<(Kind, u64)>,
}

impl Batch {
    fn clear(&mut self) {
        self.ends.clear();
        self.strong.clear();
        self.contacts.clear();
        self.text.clear();
        self.others.clear();
    }
}

impl Checker {
    /// Check one row into `batch`, counting into `tally`.
    fn check<'a>(&self, tally: &mut Tally, row: impl Iterator<Item = &'a str>, batch: &mut Batch) {
        let Some(kinds) = &self.kinds else {
            return;
        };
        tally.rows += 1;
        for (i, cell) in row.enumerate().take(self.context.len()) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            tally.non_empty[i] += 1;
            let Some((kind, _)) = kinds[i] else {
                continue;
            };
            // Nearly every cell is one line: no line splitting for those.
            let mut any = false;
            if cell.contains('\n') {
                for v in cell.lines() {
                    any |= self.value(kind, i, v.trim(), batch);
                }
            } else {
                any = self.value(kind, i, cell, batch);
            }
            if any {
                tally.valid[i] += 1;
            }
        }
        batch.ends.push((
            batch.strong.len() as u32,
            batch.contacts.len() as u32,
            batch.others.len() as u32,
        ));
    }

    /// Check one value of column `i` into `batch`: is it a valid `kind`?
    fn value(&self, kind: Kind, i: usize, v: &str, batch: &mut Batch) -> bool {
        let Some(normal) = check(kind, v, &self.context[i]) else {
            return false;
        };
        let hash = match &self.keyed {
            Some(keyed) => keyed(kind, &normal),
            None => identity_hash(kind, &normal),
        };
        // People keep the sets of strong and contact kinds; one set each.
        if Kind::STRONG.contains(&kind) {
            batch.strong.push((kind, hash));
        } else if Kind::CONTACTS.contains(&kind) {
            let start = batch.text.len();
            batch.text.push_str(&normal);
            batch.contacts.push(CheckedContact {
                hash,
                column: i,
                kind,
                placeholder: kinds::is_placeholder(kind, &normal),
                value: start..batch.text.len(),
            });
        } else {
            batch.others.push((kind, hash));
        }
        true
    }
}

impl Counter {
    /// Count a batch of checked rows.
    fn count(&mut self, batch: &Batch) {
        let mut seen: Vec<people::Seen<'_>> = Vec::new();
        let (mut s0, mut c0, mut o0) = (0usize, 0usize, 0usize);
        for &(s1, c1, o1) in &batch.ends {
            let (s1, c1, o1) = (s1 as usize, c1 as usize, o1 as usize);
            for (kind, hash) in batch.others.get(o0..o1).unwrap_or_default() {
                if let Some(set) = self.distinct.get_mut(*kind as usize) {
                    set.insert(*hash);
                }
            }
            seen.clear();
            seen.extend(
                batch
                    .contacts
                    .get(c0..c1)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| people::Seen {
                        hash: c.hash,
                        column: c.column,
                        kind: c.kind,
                        value: batch.text.get(c.value.clone()).unwrap_or_default(),
                        placeholder: c.placeholder,
                    }),
            );
            self.people
                .add_row(batch.strong.get(s0..s1).unwrap_or_default(), &seen);
            (s0, c0, o0) = (s1, c1, o1);
        }
    }
}

impl TableBuilder {
    /// A table named `source` with these columns.
    pub fn new(source: &str, format: &'static str, names: Vec<String>) -> TableBuilder {
        let width = names.len();
        TableBuilder {
            source: source.to_string(),
            format,
            checker: Checker {
                keyed: None,
                context: names.iter().map(|n| Column::new(n)).collect(),
                kinds: None,
            },
            tally: Tally {
                non_empty: vec![0; width],
                valid: vec![0; width],
                rows: 0,
            },
            counter: Counter {
                people: people::People::reporting_shared(),
                distinct: vec![IdSet::default(); Kind::ALL.len()],
            },
            names,
            sample: Vec::new(),
        }
    }

    /// Rows taken so far (sampled or counted).
    pub fn rows_seen(&self) -> u64 {
        self.tally.rows + self.sample.len() as u64
    }

    /// Every row of a table (cells beyond the columns are ignored, missing ones are
    /// empty). Past the sample, rows are packed on this thread, checked on
    /// [`checkers`] others and counted on one more.
    pub fn consume(&mut self, rows: &mut dyn RowSource) {
        let mut row = Row::default();
        if self.checker.kinds.is_none() {
            while self.sample.len() < SAMPLE_ROWS {
                if !rows.next_into(&mut row) {
                    // Ended within the sample; a finished reader is not asked again.
                    self.decide();
                    return;
                }
                self.sample.push(row.to_vec());
            }
            self.decide();
        }
        if !rows.next_into(&mut row) {
            return;
        }
        let width = self.names.len();
        let (checker, counter) = (&self.checker, &mut self.counter);
        let tallies = std::thread::scope(|scope| {
            let workers = checkers();
            let (to_check, unchecked) = crossbeam_channel::bounded::<RowBatch>(2 * workers);
            let (full, to_count) = crossbeam_channel::bounded::<Batch>(2 * workers);
            let (reuse_rows, reusable_rows) = crossbeam_channel::unbounded::<RowBatch>();
            let (reuse_checked, reusable_checked) = crossbeam_channel::unbounded::<Batch>();
            let checking: Vec<_> = (0..workers)
                .map(|_| {
                    let (unchecked, full) = (unchecked.clone(), full.clone());
                    let (reuse_rows, reusable_checked) =
                        (reuse_rows.clone(), reusable_checked.clone());
                    let mut tally = Tally {
                        non_empty: vec![0; width],
                        valid: vec![0; width],
                        rows: 0,
                    };
                    scope.spawn(move || {
                        for mut rows in unchecked {
                            let mut batch = reusable_checked.try_recv().unwrap_or_default();
                            batch.seq = rows.seq;
                            for row in rows.rows.rows() {
                                checker.check(&mut tally, row, &mut batch);
                            }
                            rows.rows.clear();
                            // The reader may have finished and gone: nothing to reuse then.
                            let _ = reuse_rows.send(rows);
                            if full.send(batch).is_err() {
                                break;
                            }
                        }
                        tally
                    })
                })
                .collect();
            drop((unchecked, full, reusable_checked));
            let counting = scope.spawn(move || {
                // Batches come in as checkers finish them and are counted in reading
                // order; the few that overtook a slower one wait here.
                let mut next = 0u64;
                let mut waiting: BTreeMap<u64, Batch> = BTreeMap::new();
                for batch in to_count {
                    waiting.insert(batch.seq, batch);
                    while let Some(mut batch) = waiting.remove(&next) {
                        counter.count(&batch);
                        batch.clear();
                        let _ = reuse_checked.send(batch);
                        next += 1;
                    }
                }
            });
            let mut seq = 0u64;
            let mut batch = RowBatch::default();
            loop {
                batch.push(width, row.cells());
                if batch.rows.len() >= BATCH_ROWS {
                    let mut next = reusable_rows.try_recv().unwrap_or_default();
                    seq += 1;
                    next.seq = seq;
                    if to_check.send(std::mem::replace(&mut batch, next)).is_err() {
                        break;
                    }
                }
                if !rows.next_into(&mut row) {
                    break;
                }
            }
            if !batch.rows.is_empty() {
                let _ = to_check.send(batch);
            }
            drop(to_check);
            let tallies: Vec<Tally> = checking
                .into_iter()
                .map(|c| {
                    c.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect();
            if let Err(panic) = counting.join() {
                std::panic::resume_unwind(panic);
            }
            tallies
        });
        for t in &tallies {
            self.tally.add(t);
        }
    }

    /// Decide each column's kind from the sample, then count the sample.
    fn decide(&mut self) {
        self.checker.kinds = Some(
            classify(&self.names, &self.checker.context, &self.sample)
                .into_iter()
                .map(|c| c.map(|c| (c.kind, c.named)))
                .collect(),
        );
        let mut batch = Batch::default();
        for row in std::mem::take(&mut self.sample) {
            self.checker
                .check(&mut self.tally, row.iter().map(String::as_str), &mut batch);
            if batch.ends.len() >= BATCH_ROWS {
                self.counter.count(&batch);
                batch.clear();
            }
        }
        self.counter.count(&batch);
    }

    /// The table's report.
    pub fn finish(mut self, totals: &mut Totals) -> TableReport {
        if self.checker.kinds.is_none() {
            self.decide();
        }
        let Checker { kinds, keyed, .. } = self.checker;
        let Tally {
            non_empty,
            valid,
            rows,
        } = self.tally;
        let Counter {
            people: table_people,
            distinct: sets,
        } = self.counter;
        let kinds = kinds.unwrap_or_default();
        let people = table_people.estimate();
        let mut shared_contacts: Vec<SharedContactReport> = table_people
            .shared()
            .filter_map(|(s, rows, reason)| {
                Some(SharedContactReport {
                    column: self.names.get(s.column)?.clone(),
                    kind: kinds.get(s.column).copied().flatten()?.0,
                    rows: u64::from(rows),
                    reason,
                    example: s.masked.clone(),
                })
            })
            .collect();
        shared_contacts.sort_by_key(|c| std::cmp::Reverse(c.rows));
        shared_contacts.truncate(MAX_SHARED_REPORTED);
        let columns = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let verdict = kinds.get(i).copied().flatten();
                let ratio = valid[i] as f64 / non_empty[i].max(1) as f64;
                ColumnReport {
                    name: name.clone(),
                    kind: verdict.map(|v| v.0),
                    valid_ratio: verdict.map_or(0.0, |_| (ratio * 1000.0).round() / 1000.0),
                    non_empty: non_empty[i],
                    confidence: verdict.map(|v| if v.1 { "high" } else { "medium" }),
                }
            })
            .collect();
        totals.tables += 1;
        totals.rows += rows;
        let mut distinct: BTreeMap<Kind, u64> = BTreeMap::new();
        for kind in Kind::STRONG.iter().chain(Kind::CONTACTS) {
            if let Some(n) = table_people.distinct(*kind).filter(|n| *n > 0) {
                distinct.insert(*kind, n);
            }
        }
        let mut identities = if keyed.is_some() {
            table_people.identities()
        } else {
            Vec::new()
        };
        // The all-tables figures take this table's sets over (moved when they are the
        // first), rather than every row being counted twice.
        totals.people.merge(table_people);
        for (i, set) in sets.into_iter().enumerate() {
            let Some(&kind) = Kind::ALL.iter().find(|k| **k as usize == i) else {
                continue;
            };
            if set.is_empty() {
                continue;
            }
            distinct.insert(kind, set.len() as u64);
            if kind == Kind::Vin {
                if keyed.is_some() {
                    identities.extend(set.iter().map(|&fp| Identity {
                        kind,
                        fp,
                        tie: 0,
                        group: 0,
                        shared: false,
                    }));
                }
                if totals.vehicles.is_empty() {
                    totals.vehicles = set;
                } else {
                    totals.vehicles.extend(set);
                }
            }
        }
        TableReport {
            source: self.source,
            format: self.format,
            rows,
            distinct_people: people.best,
            distinct_people_min: people.min,
            distinct_people_max: people.max,
            shared_contacts,
            distinct_vehicles: distinct.get(&Kind::Vin).copied().unwrap_or(0),
            distinct,
            columns,
            identities,
        }
    }
}

/// A value's identity within one run: its kind seeds the hash of its normal form. The
/// one-shot hash, not the streaming one: its state (a 256-byte buffer) cost more to set
/// up than hashing an 18-character ID. Never stored (kept figures use the keyed hash).
fn identity_hash(kind: Kind, normal: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(normal.as_bytes(), kind as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(path: &str, text: &str) -> TableReport {
        let (mut t, p) = assess_blob(
            path,
            text.as_bytes(),
            &Limits::default(),
            &mut Totals::default(),
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(t.len(), 1);
        t.remove(0)
    }

    #[test]
    fn columns_get_kinds_and_people_are_joined_across_rows() {
        let t = one(
            "c.csv",
            "姓名,身份证号,手机,车架号,金额\n\
             张伟,440304198706151231,13912345678,LSVAU218XN2183294,12.50\n\
             张伟,,13912345678,,3.00\n\
             李娜,310115199011304565,,,7.25\n\
             王芳,,13812345678,,1.00\n",
        );
        assert_eq!(t.rows, 4);
        let kinds: Vec<Option<Kind>> = t.columns.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                Some(Kind::Name),
                Some(Kind::ResidentId),
                Some(Kind::Mobile),
                Some(Kind::Vin),
                None
            ]
        );
        assert_eq!(t.columns[1].valid_ratio, 1.0);
        assert_eq!(t.columns[1].confidence, Some("high"));
        // 张伟 (ID + phone, phone again), 李娜 (ID), 王芳 (phone): three people.
        assert_eq!(t.distinct_people, 3);
        assert_eq!(t.distinct_vehicles, 1);
        assert_eq!(t.distinct.get(&Kind::Mobile), Some(&2));
    }

    /// A valid resident ID for person `i` (unique for `i` < 50,000).
    fn resident_id(i: usize) -> String {
        let body = format!("110105{:04}0101{:03}", 1950 + i / 1000, i % 1000);
        let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
        let check = leakhound_validators::resident_id_check_char(&digits) as char;
        format!("{body}{check}")
    }

    #[test]
    fn a_long_table_counts_the_same_in_the_pipeline_as_person_by_person() {
        // Past the sample and over many batches, checked on several threads: each
        // person's phone-only row comes 12,500 rows after their ID row, and one dealer
        // phone is on every row. Batches are counted in reading order, so the joins
        // and the shared dealer phone come out as for a short table.
        let n = 12_500;
        let mut csv = String::from("姓名,身份证号,手机号,经销商电话\n");
        for i in 0..n {
            csv.push_str(&format!("张伟,{},1391{i:07},13712345678\n", resident_id(i)));
        }
        for i in 0..n {
            // Some cells hold two lines; both values count.
            if i % 1000 == 7 {
                csv.push_str(&format!("张伟,,\"1391{i:07}\n1392{i:07}\",13712345678\n"));
            } else {
                csv.push_str(&format!("张伟,,1391{i:07},13712345678\n"));
            }
        }
        let t = one("long.csv", &csv);
        assert_eq!(t.rows, 2 * n as u64);
        assert_eq!(t.distinct_people, n as u64);
        assert_eq!(t.distinct_people_min, n as u64);
        assert_eq!(t.distinct.get(&Kind::ResidentId), Some(&(n as u64)));
        // Every person's phone, the 13 second lines and the dealer's.
        assert_eq!(t.distinct.get(&Kind::Mobile), Some(&(n as u64 + 13 + 1)));
        assert_eq!(t.columns[2].non_empty, 2 * n as u64);
        assert_eq!(t.columns[2].valid_ratio, 1.0);
        assert_eq!(t.shared_contacts.len(), 1, "{:?}", t.shared_contacts);
        assert_eq!(t.shared_contacts[0].column, "经销商电话");
    }

    #[test]
    fn rows_without_columns_are_counted_past_the_sample() {
        // JSON Lines records with no keys: no columns, every row still counts.
        let t = one("empty.jsonl", &"{}\n".repeat(25_000));
        assert_eq!(t.rows, 25_000);
        assert!(t.columns.is_empty());
    }

    #[test]
    fn digits_under_an_unrelated_name_need_to_nearly_all_validate() {
        // Mostly phone-shaped amounts, a third of them invalid: not a phone column.
        let mut csv = String::from("amount\n");
        for i in 0..30 {
            csv.push_str(if i % 3 == 0 {
                "10000000000\n"
            } else {
                "13912345678\n"
            });
        }
        let t = one("a.csv", &csv);
        assert_eq!(t.columns[0].kind, None);
        assert_eq!(t.distinct_people, 0);
        let named = one("a.csv", &csv.replacen("amount", "手机号", 1));
        assert_eq!(named.columns[0].kind, Some(Kind::Mobile));
    }

    #[test]
    fn the_meter_counts_bytes_and_rows_whole_or_streamed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("m.csv");
        let text = "手机号\n13912345678\n13812345678\n13712345678\n";
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        for stream_above in [u64::MAX, 1] {
            let meter = Meter::default();
            let (t, _) = assess_path(
                &path,
                "m.csv",
                &Limits::default(),
                stream_above,
                &mut Totals::default(),
                &meter,
            );
            assert_eq!(t[0].rows, 3);
            assert_eq!(meter.rows(), 3, "stream_above {stream_above}");
            assert_eq!(
                meter.bytes(),
                text.len() as u64,
                "stream_above {stream_above}"
            );
        }
    }

    #[test]
    fn unknown_files_are_ignored_and_broken_tables_reported() {
        let mut totals = Totals::default();
        let (t, p) = assess_blob("notes.md", b"# hi", &Limits::default(), &mut totals);
        assert!(t.is_empty() && p.is_empty());
        let (t, p) = assess_blob("bad.json", b"{not json", &Limits::default(), &mut totals);
        assert!(t.is_empty());
        assert_eq!(p.len(), 1);
    }
}
