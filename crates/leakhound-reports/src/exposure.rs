//! Exposure: how many distinct identifiers a set of findings reveals. This is the
//! number a data-protection officer reports ("4,210 resident ID numbers"), so it counts
//! distinct values, not places: one ID number in ten files is one person's number.
//! A table-level finding (a whole column) brings the keys of its values, so a value
//! in a column and the same value in a text file are still one.

use leakhound_findings::{value_key, Category, Finding};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Distinct values of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    /// Rule id.
    pub rule: String,
    /// Rule name.
    pub name: String,
    /// Its category.
    pub category: Category,
    /// Distinct values (fingerprints) found.
    pub distinct: u64,
}

/// Distinct values per rule for data about people, vehicles and organisations, most
/// first. Secrets and mining artefacts are not exposure of someone's data.
pub fn exposure(findings: &[Finding]) -> Vec<Exposure> {
    let mut per_rule: BTreeMap<&str, (&Finding, HashSet<u64>)> = BTreeMap::new();
    for f in findings.iter().filter(|f| {
        matches!(
            f.category,
            Category::Personal | Category::Vehicle | Category::Organisation
        )
    }) {
        let values = &mut per_rule
            .entry(&f.rule)
            .or_insert_with(|| (f, HashSet::new()))
            .1;
        match &f.column_values {
            Some(column) => values.extend(column.keys.iter().copied()),
            None => {
                values.insert(value_key(&f.fingerprint));
            }
        }
    }
    let mut out: Vec<Exposure> = per_rule
        .into_values()
        .map(|(f, values)| Exposure {
            rule: f.rule.to_string(),
            name: f.name.to_string(),
            category: f.category,
            distinct: values.len() as u64,
        })
        .collect();
    out.sort_by(|a, b| b.distinct.cmp(&a.distinct).then(a.rule.cmp(&b.rule)));
    out
}
