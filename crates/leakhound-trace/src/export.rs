//! A recipient's copy of a table with its canaries mixed in: each canary row copies a
//! real neighbouring row (so amounts, dates and categories look right) with every
//! identifying column replaced by the canary's values. Positions are drawn from the
//! key and the recipient, so the same export gives the same file.

use crate::canary::Canary;
use crate::key::{Draw, Key};
use crate::TraceError;
use leakhound_assess::{classify, Column, Kind};
use leakhound_inputs::{Problem, ProblemKind};
use leakhound_tables::{Table, TableSink};
use std::io::Write;

/// Counts the rows of the first table, to place canaries before writing.
#[derive(Default)]
pub struct RowCounter {
    /// Rows of the first table.
    pub rows: Option<u64>,
}

impl TableSink for RowCounter {
    fn table(&mut self, t: Table<'_>) {
        if self.rows.is_none() {
            self.rows = Some(t.rows.vecs().count() as u64);
        }
    }
    fn problem(&mut self, _: Problem) {}
}

/// Where the canaries go: `count` positions in `0..=rows` (a canary at position i is
/// written before real row i), sorted.
pub fn positions(key: &Key, recipient: &str, rows: u64, count: usize) -> Vec<u64> {
    let mut d = Draw::new(
        key,
        &[b"leakhound export positions v1", recipient.as_bytes()],
    );
    let mut p: Vec<u64> = (0..count).map(|_| d.below(rows + 1)).collect();
    p.sort_unstable();
    p
}

/// Writes the first table handed to it as CSV, with canaries at their positions.
pub struct Exporter<'a, W: Write> {
    out: csv::Writer<W>,
    canaries: &'a [Canary],
    positions: &'a [u64],
    id_column: Option<String>,
    key: &'a Key,
    recipient: &'a str,
    done: bool,
    written: u64,
    error: Option<TraceError>,
    problems: Vec<Problem>,
}

impl<'a, W: Write> Exporter<'a, W> {
    /// An exporter writing to `out`. `canaries` and `positions` pair up in order.
    pub fn new(
        out: W,
        key: &'a Key,
        recipient: &'a str,
        canaries: &'a [Canary],
        positions: &'a [u64],
        id_column: Option<String>,
    ) -> Self {
        Exporter {
            out: csv::Writer::from_writer(out),
            canaries,
            positions,
            id_column,
            key,
            recipient,
            done: false,
            written: 0,
            error: None,
            problems: Vec::new(),
        }
    }

    /// Finish writing; the number of rows written (canaries included).
    pub fn finish(mut self) -> Result<(u64, Vec<Problem>), TraceError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.done {
            return Err(TraceError::NoTable);
        }
        self.out
            .flush()
            .map_err(|e| TraceError::Io("export".into(), e))?;
        Ok((self.written, self.problems))
    }

    fn write(&mut self, row: &[String]) {
        if self.error.is_some() {
            return;
        }
        match self.out.write_record(row) {
            Ok(()) => self.written += 1,
            Err(e) => self.error = Some(TraceError::Csv(e.to_string())),
        }
    }
}

impl<W: Write> TableSink for Exporter<'_, W> {
    fn table(&mut self, t: Table<'_>) {
        if self.done {
            self.problems.push(Problem {
                path: t.source.to_string(),
                message: "only the first table of a source is exported".into(),
                kind: ProblemKind::Skipped,
            });
            return;
        }
        self.done = true;
        let mut rows = t.rows.vecs();
        let sample: Vec<Vec<String>> = rows.by_ref().take(leakhound_assess::SAMPLE_ROWS).collect();
        let context: Vec<Column> = t.columns.iter().map(|c| Column::new(c)).collect();
        let kinds: Vec<Option<Kind>> = classify(&t.columns, &context, &sample)
            .into_iter()
            .map(|k| k.map(|k| k.kind))
            .collect();
        let id_col = self.id_column.as_ref().and_then(|w| {
            t.columns
                .iter()
                .position(|c| c.trim().eq_ignore_ascii_case(w.trim()))
        });
        self.write(&t.columns.clone());
        let mut d = Draw::new(
            self.key,
            &[b"leakhound export ids v1", self.recipient.as_bytes()],
        );
        let mut next = 0usize;
        let mut previous: Option<Vec<String>> = None;
        let mut i = 0u64;
        let mut put_canaries = |this: &mut Self, at: u64, template: &[String], d: &mut Draw| {
            while next < this.positions.len() && this.positions[next] == at {
                if let Some(c) = this.canaries.get(next) {
                    let row = disguise(template, &kinds, id_col, c, d);
                    this.write(&row);
                }
                next += 1;
            }
        };
        for row in sample.into_iter().chain(rows) {
            put_canaries(self, i, &row, &mut d);
            self.write(&row);
            previous = Some(row);
            i += 1;
        }
        let template = previous.unwrap_or_else(|| vec![String::new(); t.columns.len()]);
        put_canaries(self, i, &template, &mut d);
    }

    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

/// A copy of `template` with its identifying columns replaced by the canary's values
/// and its record id (when named) by a fresh one of the same shape.
fn disguise(
    template: &[String],
    kinds: &[Option<Kind>],
    id_col: Option<usize>,
    c: &Canary,
    d: &mut Draw,
) -> Vec<String> {
    template
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if Some(i) == id_col {
                return v
                    .chars()
                    .map(|ch| {
                        if ch.is_ascii_digit() {
                            char::from(b'0' + d.below(10) as u8)
                        } else {
                            ch
                        }
                    })
                    .collect();
            }
            match kinds.get(i).copied().flatten() {
                Some(Kind::ResidentId) => c.resident_id.clone(),
                Some(Kind::Mobile) => c.mobile.clone(),
                Some(Kind::Email) => c.email.clone(),
                Some(Kind::Vin) => c.vin.clone(),
                Some(Kind::Plate) => c.plate.clone(),
                Some(Kind::BankCard) => c.bank_card.clone(),
                Some(Kind::Name) => c.name.clone(),
                Some(Kind::Address) => c.address.clone(),
                Some(Kind::BirthDate) => c.birth_date.clone(),
                _ => v.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_sorted_in_range_and_repeatable() {
        let k = Key::from_bytes(b"0123456789abcdef0123").unwrap_or_else(|e| panic!("{e}"));
        let p = positions(&k, "a", 100, 10);
        assert_eq!(p.len(), 10);
        assert!(p.windows(2).all(|w| w[0] <= w[1]));
        assert!(p.iter().all(|&x| x <= 100));
        assert_eq!(p, positions(&k, "a", 100, 10));
        assert_ne!(p, positions(&k, "b", 100, 10));
        assert_eq!(positions(&k, "a", 0, 3), [0, 0, 0]);
    }
}
