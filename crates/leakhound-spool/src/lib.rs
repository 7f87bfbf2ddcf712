//! Findings too many to hold in memory.
//!
//! A scan of one customer table can find millions of values, and holding them all until
//! the report was written made a scan's memory grow with its findings (~700 bytes
//! each). Workers hand their findings to a [`Spool`]; past a budget it sorts what it
//! holds and writes it as a run to an anonymous temporary file (no name, mode 0600, gone
//! when the process ends however it ends), and [`Findings::iter`] merges the runs back
//! in report order. Scans with fewer findings than the budget never touch the disk.
//!
//! ```
//! use leakhound_spool::Spool;
//! let spool = Spool::new(2);
//! spool.push(Vec::new());
//! let findings = spool.finish();
//! assert!(findings.is_empty());
//! assert_eq!(findings.iter().count(), 0);
//! ```
#![deny(missing_docs)]

mod merge;
mod run;

pub use merge::Iter;

use leakhound_findings::{in_report_order, sort_for_report, Category, Finding, Severity};
use run::Run;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// Findings held in memory before a run is written: ~35 MB of findings, a few
/// milliseconds of writing per run.
pub const DEFAULT_BUDGET: usize = 50_000;

/// Runs of one level merged into one: each run costs an open file and a read buffer
/// in the final merge, so their number must not grow with the findings.
const MAX_RUNS: usize = 32;

/// Why spilled findings could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The temporary file could not be created, written or read.
    #[error("temporary findings file: {0}")]
    Io(#[from] std::io::Error),
    /// A spilled finding could not be encoded or decoded.
    #[error("temporary findings file is corrupt: {0}")]
    Codec(#[from] postcard::Error),
    /// A spilled finding refers to a string the file never gave.
    #[error("temporary findings file is corrupt")]
    Corrupt,
    /// The temporary file ends inside a finding.
    #[error("temporary findings file is truncated")]
    Truncated,
    /// One finding over 4 GB (cannot happen: values and lines are cut far shorter).
    #[error("a finding too big to spill")]
    TooBig,
}

/// Counts of findings, kept as they arrive so that summaries need no second pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// All findings.
    pub total: u64,
    /// Findings per category.
    pub by_category: BTreeMap<Category, u64>,
    /// Findings per severity.
    pub by_severity: BTreeMap<Severity, u64>,
}

impl Tally {
    /// Count one more finding.
    pub fn add(&mut self, f: &Finding) {
        self.total += 1;
        *self.by_category.entry(f.category).or_insert(0) += 1;
        *self.by_severity.entry(f.severity).or_insert(0) += 1;
    }

    /// The counts of `findings`.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Tally {
        let mut tally = Tally::default();
        for f in findings {
            tally.add(f);
        }
        tally
    }
}

/// Collects findings from many threads, spilling sorted runs past its budget.
#[derive(Debug)]
pub struct Spool {
    budget: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    memory: Vec<Finding>,
    runs: Vec<Run>,
    tally: Tally,
    /// Why spilling stopped; the findings stayed in memory instead of being lost.
    spill_error: Option<String>,
    /// A thread is merging runs (the others keep adding runs meanwhile).
    merging: bool,
}

impl Spool {
    /// A spool that holds up to `budget` findings in memory (`usize::MAX`: never spill).
    pub fn new(budget: usize) -> Spool {
        Spool {
            budget: budget.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Add findings, in any order.
    pub fn push(&self, mut findings: Vec<Finding>) {
        let full = {
            let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            for f in &findings {
                s.tally.add(f);
            }
            if s.memory.is_empty() {
                s.memory = findings;
            } else {
                s.memory.append(&mut findings);
            }
            if s.memory.len() >= self.budget && s.spill_error.is_none() {
                std::mem::take(&mut s.memory)
            } else {
                return;
            }
        };
        // Sorted and written outside the lock: other workers keep pushing meanwhile.
        let mut full = full;
        sort_for_report(&mut full);
        let written = Run::write(&full);
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match written {
            Ok(run) => s.runs.push(run),
            Err(e) => {
                // A full disk costs memory, never findings.
                s.spill_error = Some(e.to_string());
                s.memory.append(&mut full);
                return;
            }
        }
        // Levels, as in a log-structured merge: MAX_RUNS runs of one level become one
        // run of the next, so each finding is rewritten once per level (log base
        // MAX_RUNS of the runs), never once per merge.
        loop {
            if s.merging {
                return;
            }
            let Some(level) = full_level(&s.runs) else {
                return;
            };
            s.merging = true;
            let (merging, rest): (Vec<Run>, Vec<Run>) = std::mem::take(&mut s.runs)
                .into_iter()
                .partition(|r| r.level == level);
            s.runs = rest;
            drop(s);
            let merged = Run::merge(&merging, level + 1);
            s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            s.merging = false;
            match merged {
                Ok(run) => s.runs.push(run),
                Err(e) => {
                    s.spill_error = Some(e.to_string());
                    s.runs.extend(merging);
                    return;
                }
            }
        }
    }

    /// Everything pushed, ready to read in report order.
    pub fn finish(self) -> Findings {
        let s = self
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut memory = s.memory;
        if !s.runs.is_empty() || !in_report_order(&memory) {
            sort_for_report(&mut memory);
        }
        Findings {
            memory,
            runs: s.runs,
            tally: s.tally,
            budget: self.budget,
            spill_error: s.spill_error,
        }
    }
}

/// A finished set of findings: in memory, or in sorted runs on disk plus a sorted rest
/// in memory.
#[derive(Debug, Default)]
pub struct Findings {
    memory: Vec<Finding>,
    runs: Vec<Run>,
    tally: Tally,
    budget: usize,
    spill_error: Option<String>,
}

impl From<Vec<Finding>> for Findings {
    /// Findings already in memory (a datastore report, a host check), order kept.
    fn from(findings: Vec<Finding>) -> Findings {
        Findings {
            tally: Tally::of(&findings),
            memory: findings,
            runs: Vec::new(),
            budget: DEFAULT_BUDGET,
            spill_error: None,
        }
    }
}

impl Findings {
    /// How many.
    pub fn len(&self) -> u64 {
        self.tally.total
    }

    /// None at all.
    pub fn is_empty(&self) -> bool {
        self.tally.total == 0
    }

    /// Counts by category and severity.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// All of them, when none were spilled.
    pub fn as_slice(&self) -> Option<&[Finding]> {
        self.runs.is_empty().then_some(self.memory.as_slice())
    }

    /// Whether some findings were written to disk.
    pub fn spilled(&self) -> bool {
        !self.runs.is_empty()
    }

    /// Why spilling stopped early (a full disk); the findings are all here regardless.
    pub fn spill_error(&self) -> Option<&str> {
        self.spill_error.as_deref()
    }

    /// Every finding, in order; may be called again for another pass.
    pub fn iter(&self) -> Iter<'_> {
        Iter::new(&self.memory, &self.runs)
    }

    /// Every finding in one vector (for consumers that need them all at once).
    pub fn into_vec(self) -> Result<Vec<Finding>, SpoolError> {
        if self.runs.is_empty() {
            return Ok(self.memory);
        }
        let mut all = Vec::with_capacity(usize::try_from(self.tally.total).unwrap_or(0));
        for f in self.iter() {
            all.push(f?.into_owned());
        }
        Ok(all)
    }

    /// Keep and change findings through `f`, in one pass; spilled findings stay
    /// spilled (a new set of runs is written).
    pub fn filter_map(
        self,
        mut f: impl FnMut(Finding) -> Option<Finding>,
    ) -> Result<Findings, SpoolError> {
        if self.runs.is_empty() {
            let kept: Vec<Finding> = self.memory.into_iter().filter_map(f).collect();
            return Ok(Findings {
                tally: Tally::of(&kept),
                memory: kept,
                runs: Vec::new(),
                budget: self.budget,
                spill_error: self.spill_error,
            });
        }
        let spool = Spool::new(self.budget);
        let mut batch = Vec::new();
        for finding in self.iter() {
            if let Some(kept) = f(finding?.into_owned()) {
                batch.push(kept);
                if batch.len() >= BATCH {
                    spool.push(std::mem::take(&mut batch));
                }
            }
        }
        spool.push(batch);
        Ok(spool.finish())
    }
}

/// Findings handed to a new spool at a time by [`Findings::filter_map`].
const BATCH: usize = 4096;

/// A level that has MAX_RUNS runs, if one has.
fn full_level(runs: &[Run]) -> Option<u32> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for r in runs {
        *counts.entry(r.level).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .find(|&(_, n)| n >= MAX_RUNS)
        .map(|(level, _)| level)
}

#[cfg(test)]
mod tests;
