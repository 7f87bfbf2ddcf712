//! Matching a suspect dump against the index: which rows are our customers, by which
//! identifiers, from which period, which rows are strangers, and whose canaries are in
//! it. Columns may be in any order under any names: the classifier finds them.

use crate::canary::CanarySet;
use crate::identifiers::{Key64, Plan};
use crate::index::Index;
use crate::key::Key;
use leakhound_inputs::Problem;
use leakhound_tables::{Table, TableSink};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A masked value that fits more records than this is ambiguous whatever else the
/// row holds.
const MASK_CANDIDATES: usize = 64;

/// The answer to "is this dump ours?".
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MatchReport {
    /// `genuine`, `largely genuine`, `partly ours`, `mostly not ours`, `not ours` or
    /// `no identifiers`.
    pub verdict: String,
    /// The verdict with the numbers behind it, in one sentence.
    pub summary: String,
    /// Rows read.
    pub rows: u64,
    /// Rows holding at least one identifier.
    pub rows_with_identifiers: u64,
    /// Rows that are one of our records.
    pub matched_rows: u64,
    /// `matched_rows / rows`.
    pub match_rate: f64,
    /// Distinct records of ours found.
    pub matched_records: u64,
    /// Rows matched through each identifier kind (a row may count under several).
    pub matched_by: BTreeMap<String, u64>,
    /// First and last date of the matched records, when the index has dates.
    pub date_range: Option<DateRange>,
    /// Matched records per month (`2021-08`).
    pub months: BTreeMap<String, u64>,
    /// Rows with identifiers none of which is ours (canaries excluded), and distinct
    /// identifiers per kind that are not ours.
    pub not_ours: NotOurs,
    /// Recipients whose canaries are in the dump.
    pub canaries: Vec<CanaryHit>,
    /// Each table read.
    pub tables: Vec<TableMatch>,
}

/// First and last date.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DateRange {
    /// `YYYY-MM-DD`.
    pub first: String,
    /// `YYYY-MM-DD`.
    pub last: String,
}

/// What in the dump is not ours.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct NotOurs {
    /// Rows with identifiers that match no record and no canary.
    pub rows: u64,
    /// Distinct unmatched identifiers per kind.
    pub identifiers: BTreeMap<String, u64>,
}

/// Canaries of one recipient found in the dump.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CanaryHit {
    /// Who was given them.
    pub recipient: String,
    /// Rows holding one of them.
    pub rows: u64,
}

/// One table of the dump.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableMatch {
    /// Where it came from.
    pub source: String,
    /// Rows read.
    pub rows: u64,
    /// Rows matched.
    pub matched_rows: u64,
    /// Columns used as identifiers: name and kind.
    pub identifiers: BTreeMap<String, String>,
}

/// Matches tables handed to it against an index.
pub struct Matcher<'a> {
    key: &'a Key,
    index: &'a Index,
    canaries: &'a CanarySet,
    rows: u64,
    with_ids: u64,
    matched_rows: u64,
    matched_by: BTreeMap<&'static str, u64>,
    records: HashSet<u32>,
    not_ours_rows: u64,
    unmatched: HashMap<&'static str, HashSet<u64>>,
    canary_rows: Vec<u64>,
    tables: Vec<TableMatch>,
    problems: Vec<Problem>,
}

impl<'a> Matcher<'a> {
    /// A matcher for `index`, recognising `canaries`.
    pub fn new(key: &'a Key, index: &'a Index, canaries: &'a CanarySet) -> Self {
        Matcher {
            key,
            index,
            canaries,
            rows: 0,
            with_ids: 0,
            matched_rows: 0,
            matched_by: BTreeMap::new(),
            records: HashSet::new(),
            not_ours_rows: 0,
            unmatched: HashMap::new(),
            canary_rows: vec![0; canaries.names().len()],
            tables: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Problems met while reading.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Record ids of the matched records, sorted, for notification.
    pub fn matched_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .records
            .iter()
            .filter_map(|&r| self.index.id(r).map(str::to_string))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Match one row; returns whether it is ours.
    fn row(&mut self, keys: &[Key64], found: &mut Vec<u32>) -> bool {
        self.rows += 1;
        if keys.is_empty() {
            return false;
        }
        self.with_ids += 1;
        let mut ours: BTreeSet<u32> = BTreeSet::new();
        let mut by: BTreeSet<&'static str> = BTreeSet::new();
        let mut canary = None;
        let mut masked: Option<BTreeSet<u32>> = None;
        let mut masked_kinds: BTreeSet<&'static str> = BTreeSet::new();
        let mut misses: Vec<&Key64> = Vec::new();
        for k in keys {
            if k.kind.is_masked() {
                self.index.find(k.hash, MASK_CANDIDATES + 1, found);
                if found.is_empty() || found.len() > MASK_CANDIDATES {
                    continue;
                }
                let these: BTreeSet<u32> = found.iter().copied().collect();
                masked = Some(match masked {
                    None => these,
                    Some(m) => m.intersection(&these).copied().collect(),
                });
                masked_kinds.insert(k.kind.label());
                continue;
            }
            self.index.find(k.hash, usize::MAX, found);
            if found.is_empty() {
                match self.canaries.recipient(k.hash) {
                    Some(r) => canary = Some(r),
                    None => misses.push(k),
                }
                continue;
            }
            by.insert(k.kind.label());
            ours.extend(found.iter().copied());
        }
        if ours.is_empty() {
            // Masked values alone: ours only if together they point at one record.
            if let Some(m) = masked.filter(|m| m.len() == 1) {
                ours.extend(m);
                by.extend(masked_kinds);
            }
        }
        if let Some(r) = canary {
            self.canary_rows[r] += 1;
        }
        if ours.is_empty() {
            if canary.is_none() {
                self.not_ours_rows += 1;
            }
            for k in misses {
                self.unmatched
                    .entry(k.kind.label())
                    .or_default()
                    .insert(k.hash);
            }
            return false;
        }
        self.matched_rows += 1;
        for b in by {
            *self.matched_by.entry(b).or_insert(0) += 1;
        }
        self.records.extend(ours);
        true
    }

    /// The report.
    pub fn report(&self) -> MatchReport {
        let mut months: BTreeMap<String, u64> = BTreeMap::new();
        let (mut first, mut last) = (u32::MAX, 0u32);
        for &r in &self.records {
            if let Some(d) = self.index.date(r) {
                first = first.min(d);
                last = last.max(d);
                *months
                    .entry(format!("{:04}-{:02}", d / 10_000, d / 100 % 100))
                    .or_insert(0) += 1;
            }
        }
        let day = |d: u32| format!("{:04}-{:02}-{:02}", d / 10_000, d / 100 % 100, d % 100);
        let date_range = (last > 0).then(|| DateRange {
            first: day(first),
            last: day(last),
        });
        let canaries: Vec<CanaryHit> = self
            .canaries
            .names()
            .iter()
            .zip(&self.canary_rows)
            .filter(|(_, &n)| n > 0)
            .map(|(name, &rows)| CanaryHit {
                recipient: name.clone(),
                rows,
            })
            .collect();
        let match_rate = if self.rows == 0 {
            0.0
        } else {
            (self.matched_rows as f64 / self.rows as f64 * 10_000.0).round() / 10_000.0
        };
        let (verdict, summary) = verdict(
            self.rows,
            self.with_ids,
            self.matched_rows,
            date_range.as_ref(),
            &canaries,
        );
        MatchReport {
            verdict,
            summary,
            rows: self.rows,
            rows_with_identifiers: self.with_ids,
            matched_rows: self.matched_rows,
            match_rate,
            matched_records: self.records.len() as u64,
            matched_by: self
                .matched_by
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            date_range,
            months,
            not_ours: NotOurs {
                rows: self.not_ours_rows,
                identifiers: self
                    .unmatched
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.len() as u64))
                    .collect(),
            },
            canaries,
            tables: self.tables.clone(),
        }
    }
}

impl TableSink for Matcher<'_> {
    fn table(&mut self, t: Table<'_>) {
        let mut rows = t.rows.vecs();
        let sample: Vec<Vec<String>> = rows.by_ref().take(leakhound_assess::SAMPLE_ROWS).collect();
        let plan = Plan::new(&t.columns, &sample);
        let mut table = TableMatch {
            source: t.source.to_string(),
            rows: 0,
            matched_rows: 0,
            identifiers: plan.identifier_columns(&t.columns),
        };
        let mut found = Vec::new();
        let key = self.key;
        let mut all = sample.into_iter().chain(rows);
        plan.hash_rows(key, false, &mut all, &mut |_, keys| {
            table.rows += 1;
            if self.row(keys, &mut found) {
                table.matched_rows += 1;
            }
        });
        self.tables.push(table);
    }

    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

/// `9412` as `9,412`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(
    rows: u64,
    with_ids: u64,
    matched: u64,
    dates: Option<&DateRange>,
    canaries: &[CanaryHit],
) -> (String, String) {
    let label = if with_ids == 0 && canaries.is_empty() {
        "no identifiers"
    } else {
        let rate = matched as f64 / rows.max(1) as f64;
        match rate {
            r if r >= 0.9 => "genuine",
            r if r >= 0.5 => "largely genuine",
            r if r >= 0.05 => "partly ours",
            _ if matched > 0 => "mostly not ours",
            _ => "not ours",
        }
    };
    let mut text = match label {
        "no identifiers" => format!(
            "no identifiers: none of the {} rows holds a resident ID, mobile, e-mail, VIN, plate, bank card or name with birth date to compare",
            thousands(rows)
        ),
        _ => format!(
            "{label}: {} of {} rows match customer records ({:.1}%)",
            thousands(matched),
            thousands(rows),
            matched as f64 * 100.0 / rows.max(1) as f64
        ),
    };
    if let Some(d) = dates {
        text.push_str(&format!(
            "; all created {} to {}",
            &d.first[..7],
            &d.last[..7]
        ));
    }
    if !canaries.is_empty() {
        let names: Vec<String> = canaries
            .iter()
            .map(|c| format!("{} ({} rows)", c.recipient, thousands(c.rows)))
            .collect();
        text.push_str(&format!(
            "; canaries of {}: this copy came from what was given to {}",
            names.join(", "),
            if canaries.len() == 1 {
                "that recipient"
            } else {
                "those recipients"
            }
        ));
    }
    (label.to_string(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(9412), "9,412");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn verdicts_follow_the_share_of_matching_rows() {
        let v = |m| verdict(10_000, 10_000, m, None, &[]).0;
        assert_eq!(v(9_412), "genuine");
        assert_eq!(v(6_000), "largely genuine");
        assert_eq!(v(600), "partly ours");
        assert_eq!(v(3), "mostly not ours");
        assert_eq!(v(0), "not ours");
        assert_eq!(verdict(10, 0, 0, None, &[]).0, "no identifiers");
        let dates = DateRange {
            first: "2019-03-02".into(),
            last: "2021-08-30".into(),
        };
        assert_eq!(
            verdict(10_000, 10_000, 9_412, Some(&dates), &[]).1,
            "genuine: 9,412 of 10,000 rows match customer records (94.1%); all created 2019-03 to 2021-08"
        );
    }
}
