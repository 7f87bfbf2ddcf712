//! Table-level findings: the personal, vehicle and organisation values one rule
//! matched in one column of one table become one finding, with how many cells, how
//! many distinct values, the first and last row and a few examples. A customer export
//! of 100,000 rows is six things to triage (one per identifier column), not 600,000,
//! and the column's size is what a responder reports. Secrets stay one finding per
//! value: each key is revoked on its own. `scan --each-cell` turns this off.

use leakhound_findings::keys::IdSet;
use leakhound_findings::{
    column_fingerprint, fingerprint_key, value_key, Category, ColumnValues, Confidence, Finding,
    Severity, TableCell, MAX_EXAMPLES,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Whether a finding joins its column's table-level finding.
fn joins(f: &Finding) -> bool {
    f.cell.is_some() && would_join(f.category, f.count)
}

/// Whether a finding of `category` in a table cell joins its column's finding.
pub(crate) fn would_join(category: Category, count: Option<u64>) -> bool {
    // A location trace already counts its points.
    count.is_none()
        && matches!(
            category,
            Category::Personal | Category::Vehicle | Category::Organisation
        )
}

/// The hash a column's values are told apart by before their fingerprints are
/// made: most cells of a column repeat a value met before (a customer on many
/// orders), and those are counted without hashing them again with SHA-256.
fn value_hash(value: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(value.as_bytes())
}

/// Table, column and rule: what a table-level finding is about.
type ColumnKey = (Arc<str>, Arc<str>, Arc<str>);

/// One column's cells for one rule, gathered while a blob's findings are emitted.
struct Column {
    /// The first cell's finding, which becomes the table-level finding.
    first: Finding,
    cells: u64,
    last_row: u64,
    /// [`value_hash`] of each distinct value (sharded: one shard grows at a time,
    /// where one big table held its old and new slots at once).
    seen: IdSet,
    /// [`value_hash`] of the last cell counted: a value repeated in the next cell
    /// (rows grouped by customer, as order and sales exports are) is known to be in
    /// `seen` without a look into it, which misses the cache on big columns.
    last: Option<u64>,
    /// The value key of each distinct value.
    keys: Keys,
    examples: Vec<String>,
}

impl Column {
    /// Count one more cell at `row` holding `value`: a value not met before is keyed
    /// (by `key`, only then) and may be an example. The column's grade is its
    /// strongest cell's.
    fn add(
        &mut self,
        row: u64,
        value: &str,
        (severity, confidence): (Severity, Confidence),
        key: impl FnOnce() -> u64,
    ) {
        self.cells += 1;
        self.last_row = self.last_row.max(row);
        self.first.severity = self.first.severity.max(severity);
        self.first.confidence = self.first.confidence.max(confidence);
        let hash = value_hash(value);
        if self.last.replace(hash) == Some(hash) {
            return;
        }
        if self.seen.insert(hash) {
            self.keys.push(key());
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(value.to_string());
            }
        }
    }
}

/// The value keys of a column's distinct values, in blocks that double up to
/// [`KEY_BLOCK`] keys. One growing `Vec` held up to twice the keys it needed, and three
/// times while it moved to a bigger buffer: on a 10M-row export, with five columns of
/// about five million values each, that was tens of megabytes of peak for nothing.
#[derive(Default)]
struct Keys {
    blocks: Vec<Vec<u64>>,
}

/// Keys in a full block (512 KiB).
const KEY_BLOCK: usize = 1 << 16;

impl Keys {
    fn push(&mut self, key: u64) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < block.capacity() => block.push(key),
            last => {
                let size = last.map_or(8, |b| (b.capacity() * 2).min(KEY_BLOCK));
                let mut block = Vec::with_capacity(size);
                block.push(key);
                self.blocks.push(block);
            }
        }
    }

    fn len(&self) -> usize {
        self.blocks.iter().map(Vec::len).sum()
    }

    /// All keys in one vector, each block freed once copied.
    fn into_vec(self) -> Vec<u64> {
        let mut all = Vec::with_capacity(self.len());
        for block in self.blocks {
            all.extend_from_slice(&block);
        }
        all
    }
}

/// The table-level findings of one blob, in the order their columns were first met.
#[derive(Default)]
pub(crate) struct Columns {
    index: HashMap<ColumnKey, usize>,
    /// Columns found by the names' identity, before `index` hashes them: cells come
    /// with the table's one copy of each name.
    recent: Vec<(ColumnKey, usize)>,
    columns: Vec<Column>,
}

/// Columns remembered by name identity.
const RECENT: usize = 64;

impl Columns {
    /// Count a cell of a column already met, as [`Columns::take`] would, without
    /// its finding: a value met before is only counted, a new one is keyed (by
    /// [`fingerprint_key`], only then) and may be an example. False
    /// when the column is new: then the finding is made and taken.
    pub(crate) fn count(
        &mut self,
        cell: &TableCell,
        rule: &Arc<str>,
        value: &str,
        (severity, confidence): (Severity, Confidence),
    ) -> bool {
        let Some(at) = self.find(&cell.name, &cell.column, rule) else {
            return false;
        };
        let Some(column) = self.columns.get_mut(at) else {
            return false;
        };
        column.add(cell.row, value, (severity, confidence), || {
            fingerprint_key(rule, value)
        });
        true
    }

    /// The column of `name`, `column` and `rule`, if it was met.
    fn find(&mut self, name: &Arc<str>, column: &Arc<str>, rule: &Arc<str>) -> Option<usize> {
        let same = |(n, c, r): &ColumnKey| {
            Arc::ptr_eq(n, name) && Arc::ptr_eq(c, column) && Arc::ptr_eq(r, rule)
        };
        if let Some((_, at)) = self.recent.iter().find(|(key, _)| same(key)) {
            return Some(*at);
        }
        let key = (Arc::clone(name), Arc::clone(column), Arc::clone(rule));
        let at = *self.index.get(&key)?;
        if self.recent.len() < RECENT {
            self.recent.push((key, at));
        }
        Some(at)
    }

    /// Take `f` into its column, or give it back when it stays a finding of its own.
    pub(crate) fn take(&mut self, f: Finding) -> Option<Finding> {
        if !joins(&f) {
            return Some(f);
        }
        let Some(cell) = f.cell.as_deref() else {
            return Some(f);
        };
        let row = cell.row;
        let at = match self.find(&cell.name, &cell.column, &f.rule) {
            Some(at) => at,
            None => {
                let key = (
                    Arc::clone(&cell.name),
                    Arc::clone(&cell.column),
                    Arc::clone(&f.rule),
                );
                self.columns.push(Column {
                    first: f.clone(),
                    cells: 0,
                    last_row: row,
                    seen: IdSet::default(),
                    last: None,
                    keys: Keys::default(),
                    examples: Vec::new(),
                });
                self.index.insert(key, self.columns.len() - 1);
                self.columns.len() - 1
            }
        };
        let Some(column) = self.columns.get_mut(at) else {
            return Some(f);
        };
        column.add(row, &f.value, (f.severity, f.confidence), || {
            value_key(&f.fingerprint)
        });
        None
    }

    /// The table-level findings, one per (table, column, rule).
    pub(crate) fn finish(self) -> impl Iterator<Item = Finding> {
        self.columns.into_iter().map(|c| {
            let mut f = c.first;
            let (table, column) = match f.cell.as_deref() {
                Some(cell) => (cell.name.to_string(), cell.column.to_string()),
                None => (String::new(), String::new()),
            };
            f.fingerprint = column_fingerprint(&f.rule, &table, &column);
            // The row's other values are not findings of their own any more, so the
            // line could not be masked around them: the examples say what it holds.
            f.line_text = None;
            f.count = Some(c.cells);
            drop(c.seen);
            let mut keys = c.keys.into_vec();
            keys.sort_unstable();
            // Two values with one key (a 64-bit clash) are one, as they always were.
            keys.dedup();
            f.column_values = Some(Box::new(ColumnValues {
                distinct: keys.len() as u64,
                last_row: c.last_row,
                examples: c.examples,
                keys,
            }));
            f
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_findings::{fingerprint, Location};

    pub(super) fn cell(
        rule: &str,
        category: Category,
        column: &str,
        row: u64,
        value: &str,
    ) -> Finding {
        Finding {
            rule: Arc::from(rule),
            name: Arc::from(rule),
            category,
            severity: Severity::Medium,
            confidence: if row == 3 {
                Confidence::High
            } else {
                Confidence::Medium
            },
            location: Location {
                path: "c.csv".into(),
                line: row + 1,
                column: 1,
                offset: row * 10,
            },
            value: value.into(),
            fingerprint: fingerprint(rule, value),
            validator: None,
            line_text: Some(Arc::from("a,b")),
            count: None,
            blob: Arc::from(""),
            binary: false,
            git: None,
            triage: None,
            cell: Some(Box::new(TableCell {
                name: Arc::from("c.csv"),
                column: Arc::from(column),
                row,
            })),
            process: None,
            column_values: None,
            decoded: None,
        }
    }

    #[test]
    fn a_column_becomes_one_finding_and_secrets_stay_apart() {
        let mut columns = Columns::default();
        let mut own = Vec::new();
        let found = [
            cell("mobile", Category::Personal, "phone", 1, "13912345678"),
            cell("mobile", Category::Personal, "phone", 2, "13912345679"),
            cell("mobile", Category::Personal, "phone", 3, "13912345678"),
            cell("mobile", Category::Personal, "dealer", 1, "13712345678"),
            cell("aws-key", Category::Secret, "note", 2, "AKIAxxxx"),
        ];
        for f in found {
            own.extend(columns.take(f));
        }
        assert_eq!(own.len(), 1, "the secret stays a finding of its own");
        let out: Vec<Finding> = columns.finish().collect();
        assert_eq!(out.len(), 2);
        let phone = &out[0];
        let values = phone.column_values.as_deref().expect("table-level");
        assert_eq!(phone.count, Some(3));
        assert_eq!(values.distinct, 2);
        assert_eq!(
            (phone.cell.as_ref().map(|c| c.row), values.last_row),
            (Some(1), 3)
        );
        assert_eq!(values.examples, ["13912345678", "13912345679"]);
        assert_eq!(
            phone.confidence,
            Confidence::High,
            "the strongest cell's grade"
        );
        assert_eq!(
            phone.fingerprint,
            column_fingerprint("mobile", "c.csv", "phone")
        );
        assert!(phone.line_text.is_none(), "no unmasked neighbours");
        let mut keys = vec![
            value_key(&fingerprint("mobile", "13912345678")),
            value_key(&fingerprint("mobile", "13912345679")),
        ];
        keys.sort_unstable();
        assert_eq!(values.keys, keys);
    }

    /// Counting a cell in place gives the column finding that taking its whole
    /// finding gives.
    #[test]
    fn counting_in_place_is_taking_the_finding() {
        let found = [
            cell("mobile", Category::Personal, "phone", 1, "13912345678"),
            cell("mobile", Category::Personal, "phone", 2, "13912345679"),
            cell("mobile", Category::Personal, "phone", 3, "13912345678"),
            cell("mobile", Category::Personal, "phone", 4, "13912345670"),
        ];
        let mut taken = Columns::default();
        for f in found.clone() {
            assert!(taken.take(f).is_none());
        }
        let mut counted = Columns::default();
        for f in found {
            let grade = (f.severity, f.confidence);
            let Some(cell) = f.cell.as_deref() else {
                panic!("a cell");
            };
            let value = f.value.clone();
            if !counted.count(cell, &f.rule, &value, grade) {
                assert!(counted.take(f).is_none());
            }
        }
        let show = |c: Columns| -> Vec<String> { c.finish().map(|f| format!("{f:?}")).collect() };
        let (taken, counted) = (show(taken), show(counted));
        assert_eq!(taken.len(), 1);
        assert_eq!(counted, taken);
    }
}

#[cfg(test)]
mod counting {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the order of values (repeated in the next cell or further
        /// away), a column counts every cell, each distinct value once, and keeps the
        /// first distinct values as examples.
        #[test]
        fn counts_and_distinct_are_exact(picks in proptest::collection::vec(0u8..6, 1..200)) {
            let values: Vec<String> = picks.iter().map(|p| format!("1391234567{p}")).collect();
            let mut column = Column {
                first: super::tests::cell("mobile", Category::Personal, "phone", 1, &values[0]),
                cells: 0,
                last_row: 0,
                seen: IdSet::default(),
                last: None,
                keys: Keys::default(),
                examples: Vec::new(),
            };
            for (row, v) in values.iter().enumerate() {
                column.add(row as u64, v, (Severity::Low, Confidence::Low), || value_hash(v));
            }
            let mut distinct: Vec<&String> = Vec::new();
            for v in &values {
                if !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
            prop_assert_eq!(column.cells, values.len() as u64);
            prop_assert_eq!(column.seen.len(), distinct.len());
            prop_assert_eq!(column.keys.len(), distinct.len());
            let first: Vec<&String> = distinct.into_iter().take(MAX_EXAMPLES).collect();
            prop_assert_eq!(column.examples.iter().collect::<Vec<_>>(), first);
        }

        /// Keys come out as they went in, across blocks of every size.
        #[test]
        fn keys_come_out_in_order(n in 0usize..300_000) {
            let mut keys = Keys::default();
            for k in 0..n as u64 {
                keys.push(k * 7);
            }
            prop_assert_eq!(keys.len(), n);
            prop_assert!(keys.blocks.iter().all(|b| b.capacity() <= KEY_BLOCK));
            let all = keys.into_vec();
            prop_assert!(all.iter().enumerate().all(|(i, &k)| k == i as u64 * 7));
            prop_assert_eq!(all.len(), n);
        }
    }
}
