//! Which columns of a table identify a person, and the keyed fingerprints of one row's
//! identifiers, normalised so the same person written two ways gives one fingerprint:
//! `+86 138 0013 8000` and `13800138000`, `Zhang.San+shop@GMAIL.com` and
//! `zhangsan@gmail.com`, `粤B·12345` and `粤B12345`.
//!
//! Masked values (`110105********002X`, `138****8000`) cannot be hashed whole, so the
//! index also holds fingerprints of the parts that masking usually leaves visible; a
//! masked value matches only when those parts point at a single record.

use crate::key::Key;
use leakhound_assess::{check, classify, threshold, Column, Kind};
use serde::Serialize;

/// What an index entry fingerprints. The number is the domain tag mixed into the HMAC
/// and must never change (indexes on disk depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum IdKind {
    /// Resident ID, upper-cased.
    ResidentId = 1,
    /// Mobile number in E.164 (`+8613800138000`).
    Mobile = 2,
    /// E-mail, lower-cased, `+tags` removed, Gmail dots removed.
    Email = 3,
    /// VIN, upper-cased.
    Vin = 4,
    /// Licence plate without separators.
    Plate = 5,
    /// Bank card digits.
    BankCard = 6,
    /// Name and date of birth together (`张伟|1987-06-15`).
    NameBirth = 7,
    /// A resident ID's first six and last four characters (region, sequence, check).
    ResidentIdMasked = 8,
    /// A resident ID's first three and last four characters.
    ResidentIdMaskedShort = 9,
    /// A mobile number's first three and last four digits.
    MobileMasked = 10,
    /// Hong Kong identity card number, as `assess` normalises it.
    HkId = 11,
    /// Taiwan national identification number, upper-cased.
    TwId = 12,
    /// Passport number (in a column named for passports), upper-cased.
    Passport = 13,
}

impl IdKind {
    /// The name reports use (both masked resident ID forms are one kind to a reader).
    pub fn label(self) -> &'static str {
        match self {
            IdKind::ResidentId => "resident_id",
            IdKind::Mobile => "mobile",
            IdKind::Email => "email",
            IdKind::Vin => "vin",
            IdKind::Plate => "plate",
            IdKind::BankCard => "bank_card",
            IdKind::NameBirth => "name_birth_date",
            IdKind::ResidentIdMasked | IdKind::ResidentIdMaskedShort => "resident_id_masked",
            IdKind::MobileMasked => "mobile_masked",
            IdKind::HkId => "hk_id",
            IdKind::TwId => "tw_id",
            IdKind::Passport => "passport",
        }
    }

    /// Masked kinds identify a record only when unambiguous.
    pub fn is_masked(self) -> bool {
        matches!(
            self,
            IdKind::ResidentIdMasked | IdKind::ResidentIdMaskedShort | IdKind::MobileMasked
        )
    }
}

/// One identifier's fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key64 {
    /// What it fingerprints.
    pub kind: IdKind,
    /// The keyed hash.
    pub hash: u64,
}

/// The identifying columns of a table, decided once on a sample of its rows with the
/// same classifier as `assess`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The kind of identifier each column holds (full values, masked ones, or both).
    roles: Vec<Option<Kind>>,
    context: Vec<Column>,
    name: Option<usize>,
    birth: Option<usize>,
}

impl Plan {
    /// The plan for a table with these columns, from a sample of its rows.
    pub fn new(columns: &[String], sample: &[Vec<String>]) -> Plan {
        let context: Vec<Column> = columns.iter().map(|c| Column::new(c)).collect();
        let kinds = classify(columns, &context, sample);
        let mut roles: Vec<Option<Kind>> = kinds
            .iter()
            .map(|k| {
                k.and_then(|k| match k.kind {
                    Kind::ResidentId
                    | Kind::Mobile
                    | Kind::Email
                    | Kind::Vin
                    | Kind::Plate
                    | Kind::BankCard
                    | Kind::HkId
                    | Kind::TwId
                    | Kind::Passport => Some(k.kind),
                    _ => None,
                })
            })
            .collect();
        // Columns holding masked values, alone or beside full ones: the column is a
        // resident ID or mobile column if full and masked values together reach the
        // share `assess` asks of full values alone.
        for (i, role) in roles.iter_mut().enumerate() {
            if role.is_some() || kinds[i].is_some() {
                continue;
            }
            let values: Vec<&str> = sample
                .iter()
                .filter_map(|r| r.get(i))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                continue;
            }
            for kind in [Kind::ResidentId, Kind::Mobile] {
                let masked = |v: &str| match kind {
                    Kind::ResidentId => masked_id(v).is_some(),
                    _ => masked_mobile(v).is_some(),
                };
                let hits = values
                    .iter()
                    .filter(|v| masked(v) || check(kind, v, &context[i]).is_some())
                    .count();
                if hits == 0 || !values.iter().any(|v| masked(v)) {
                    continue;
                }
                let named = context[i].suggests(kind);
                if hits as f64 / values.len() as f64 >= threshold(kind, named) {
                    *role = Some(kind);
                    break;
                }
            }
        }
        let find = |kind| kinds.iter().position(|k| k.is_some_and(|k| k.kind == kind));
        Plan {
            name: find(Kind::Name),
            birth: find(Kind::BirthDate),
            roles,
            context,
        }
    }

    /// Does any column identify people?
    pub fn identifies(&self) -> bool {
        self.roles.iter().any(Option::is_some) || (self.name.is_some() && self.birth.is_some())
    }

    /// Column name to identifier kind, for the columns that identify (reports).
    pub fn identifier_columns(
        &self,
        columns: &[String],
    ) -> std::collections::BTreeMap<String, String> {
        columns
            .iter()
            .zip(self.column_labels())
            .filter_map(|(c, l)| l.map(|l| (c.clone(), l.to_string())))
            .collect()
    }

    /// The identifier kind each column gives, for reports (`None`: not an identifier).
    pub fn column_labels(&self) -> Vec<Option<&'static str>> {
        self.roles
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                Some(k) => full_kind(*k).map(IdKind::label),
                None if Some(i) == self.name || Some(i) == self.birth => (self.name.is_some()
                    && self.birth.is_some())
                .then_some(IdKind::NameBirth.label()),
                None => None,
            })
            .collect()
    }

    /// The fingerprints of one row's identifiers. With `index_side`, each full
    /// resident ID and mobile also gives its masked forms (what the index stores so
    /// masked dumps can be matched); otherwise masked cells give masked fingerprints.
    pub fn keys(&self, key: &Key, row: &[String], index_side: bool, out: &mut Vec<Key64>) {
        out.clear();
        let mut push = |kind: IdKind, value: &str| {
            out.push(Key64 {
                kind,
                hash: key.fingerprint(kind as u8, value),
            })
        };
        for (i, role) in self.roles.iter().enumerate() {
            let Some(kind) = role else { continue };
            let Some(cell) = row.get(i) else { continue };
            for v in cell.lines().map(str::trim).filter(|v| !v.is_empty()) {
                let Some(normal) = check(*kind, v, &self.context[i]) else {
                    if !index_side {
                        masked_keys(*kind, v, &mut push);
                    }
                    continue;
                };
                let Some(id_kind) = full_kind(*kind) else {
                    continue;
                };
                let normal = normalise(id_kind, &normal);
                push(id_kind, &normal);
                if index_side {
                    index_masks(id_kind, &normal, &mut push);
                }
            }
        }
        if let (Some(n), Some(b)) = (self.name, self.birth) {
            let name = row.get(n).map(|s| name_normal(s)).unwrap_or_default();
            let birth = row
                .get(b)
                .and_then(|s| check(Kind::BirthDate, s.trim(), &self.context[b]));
            if let (false, Some(birth)) = (name.is_empty(), birth) {
                push(IdKind::NameBirth, &format!("{name}|{birth}"));
            }
        }
    }
}

/// Rows per batch handed to the hashing thread.
const BATCH: usize = 4096;

impl Plan {
    /// Fingerprint every row of `rows` and hand each row with its fingerprints to
    /// `each`, in order. Reading (the caller's iterator, often a CSV parser) stays on
    /// this thread while a second thread computes the HMACs, so on two cores the two
    /// overlap; `each` also runs here, so it may keep state without locks.
    pub fn hash_rows(
        &self,
        key: &Key,
        index_side: bool,
        rows: &mut dyn Iterator<Item = Vec<String>>,
        each: &mut dyn FnMut(Vec<String>, &[Key64]),
    ) {
        // A batch's rows, their fingerprints in one vector, and where each row's end:
        // two allocations per batch crossing threads, not one per row (glibc's
        // allocator serialises frees of memory another thread allocated).
        type Hashed = (Vec<Vec<String>>, Vec<Key64>, Vec<usize>);
        std::thread::scope(|s| {
            let (to_worker, batches) = std::sync::mpsc::sync_channel::<Vec<Vec<String>>>(2);
            let (to_main, hashed) = std::sync::mpsc::sync_channel::<Hashed>(2);
            s.spawn(move || {
                let mut keys = Vec::new();
                for batch in batches {
                    let mut all = Vec::with_capacity(batch.len() * 8);
                    let mut ends = Vec::with_capacity(batch.len());
                    for row in &batch {
                        self.keys(key, row, index_side, &mut keys);
                        all.extend_from_slice(&keys);
                        ends.push(all.len());
                    }
                    if to_main.send((batch, all, ends)).is_err() {
                        return;
                    }
                }
            });
            let mut in_flight = 0usize;
            let mut deliver = |(rows, keys, ends): Hashed| {
                let mut start = 0;
                for (row, end) in rows.into_iter().zip(ends) {
                    each(row, &keys[start..end]);
                    start = end;
                }
            };
            loop {
                let batch: Vec<Vec<String>> = (&mut *rows).take(BATCH).collect();
                let last = batch.len() < BATCH;
                if !batch.is_empty() {
                    if to_worker.send(batch).is_err() {
                        break;
                    }
                    in_flight += 1;
                }
                // Keep at most two batches ahead of the results.
                while in_flight > 1 || (last && in_flight > 0) {
                    match hashed.recv() {
                        Ok(b) => {
                            in_flight -= 1;
                            deliver(b);
                        }
                        Err(_) => return,
                    }
                }
                if last {
                    break;
                }
            }
            drop(to_worker);
        });
    }
}

/// The index kind of a full value of `kind`.
fn full_kind(kind: Kind) -> Option<IdKind> {
    Some(match kind {
        Kind::ResidentId => IdKind::ResidentId,
        Kind::Mobile => IdKind::Mobile,
        Kind::Email => IdKind::Email,
        Kind::Vin => IdKind::Vin,
        Kind::Plate => IdKind::Plate,
        Kind::BankCard => IdKind::BankCard,
        Kind::HkId => IdKind::HkId,
        Kind::TwId => IdKind::TwId,
        Kind::Passport => IdKind::Passport,
        _ => return None,
    })
}

/// The canonical form of a value `check` has already validated and normalised.
pub(crate) fn normalise(kind: IdKind, checked: &str) -> String {
    match kind {
        IdKind::Mobile => format!("+86{checked}"),
        IdKind::Email => email_normal(checked),
        _ => checked.to_string(),
    }
}

/// Lower-cased, `+tag` removed; Gmail ignores dots and is also `googlemail.com`.
fn email_normal(lower: &str) -> String {
    let Some((local, domain)) = lower.rsplit_once('@') else {
        return lower.to_string();
    };
    let local = local.split('+').next().unwrap_or(local);
    let domain = if domain == "googlemail.com" {
        "gmail.com"
    } else {
        domain
    };
    if domain == "gmail.com" {
        format!("{}@{domain}", local.replace('.', ""))
    } else {
        format!("{local}@{domain}")
    }
}

/// A name as it is compared: no spaces, Latin letters lower-cased.
pub(crate) fn name_normal(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The masked forms the index stores for a full resident ID or mobile.
fn index_masks(kind: IdKind, normal: &str, push: &mut impl FnMut(IdKind, &str)) {
    match kind {
        IdKind::ResidentId if normal.len() == 18 => {
            push(
                IdKind::ResidentIdMasked,
                &format!("{}|{}", &normal[..6], &normal[14..]),
            );
            push(
                IdKind::ResidentIdMaskedShort,
                &format!("{}|{}", &normal[..3], &normal[14..]),
            );
        }
        IdKind::Mobile if normal.len() == 14 => {
            // `+86` and 11 digits.
            push(
                IdKind::MobileMasked,
                &format!("{}|{}", &normal[3..6], &normal[10..]),
            );
        }
        _ => {}
    }
}

/// The masked fingerprint of a masked cell, if it has enough visible characters.
fn masked_keys(kind: Kind, v: &str, push: &mut impl FnMut(IdKind, &str)) {
    match kind {
        Kind::ResidentId => {
            if let Some((p, s)) = masked_id(v) {
                if p.len() >= 6 {
                    push(
                        IdKind::ResidentIdMasked,
                        &format!("{}|{}", &p[..6], &s[s.len() - 4..]),
                    );
                } else {
                    push(
                        IdKind::ResidentIdMaskedShort,
                        &format!("{}|{}", &p[..3], &s[s.len() - 4..]),
                    );
                }
            }
        }
        Kind::Mobile => {
            if let Some((p, s)) = masked_mobile(v) {
                push(
                    IdKind::MobileMasked,
                    &format!("{}|{}", &p[..3], &s[s.len() - 4..]),
                );
            }
        }
        _ => {}
    }
}

fn is_mask(c: char) -> bool {
    matches!(c, '*' | '＊' | '•' | '●')
}

/// The visible prefix and suffix of a masked value of `len` characters whose visible
/// characters pass `ok`; `None` unless at least `min_prefix` and `min_suffix` show.
fn visible(
    v: &str,
    len: usize,
    min_prefix: usize,
    min_suffix: usize,
    ok: fn(char) -> bool,
) -> Option<(String, String)> {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() != len || !chars.iter().any(|&c| is_mask(c)) {
        return None;
    }
    let first = chars.iter().position(|&c| is_mask(c))?;
    let last = chars.iter().rposition(|&c| is_mask(c))?;
    let prefix: String = chars[..first].iter().collect();
    let suffix: String = chars[last + 1..].iter().collect();
    let visible_ok = chars[..first]
        .iter()
        .chain(&chars[last + 1..])
        .all(|&c| ok(c));
    (visible_ok && prefix.len() >= min_prefix && suffix.len() >= min_suffix)
        .then(|| (prefix.to_ascii_uppercase(), suffix.to_ascii_uppercase()))
}

/// `110105********002X`: 18 characters, at least three shown before the mask and four
/// after.
fn masked_id(v: &str) -> Option<(String, String)> {
    visible(v, 18, 3, 4, |c| c.is_ascii_digit() || c == 'X' || c == 'x')
}

/// `138****8000` (a `+86` or `0086` prefix and separators allowed).
fn masked_mobile(v: &str) -> Option<(String, String)> {
    let compact: String = v.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let rest = compact
        .strip_prefix("+86")
        .or_else(|| compact.strip_prefix("0086"))
        .unwrap_or(&compact);
    let (p, s) = visible(rest, 11, 3, 4, |c| c.is_ascii_digit())?;
    p.starts_with('1').then_some((p, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from_bytes(b"0123456789abcdef0123").unwrap_or_else(|e| panic!("{e}"))
    }

    fn keys(plan: &Plan, row: &[&str], index_side: bool) -> Vec<Key64> {
        let row: Vec<String> = row.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        plan.keys(&key(), &row, index_side, &mut out);
        out
    }

    fn table(columns: &[&str], rows: &[&[&str]]) -> Plan {
        let columns: Vec<String> = columns.iter().map(|s| s.to_string()).collect();
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect();
        Plan::new(&columns, &rows)
    }

    #[test]
    fn reformatted_values_give_the_same_fingerprints() {
        let ours = table(
            &["手机", "email"],
            &[&["13800138000", "zhangsan@gmail.com"]],
        );
        let theirs = table(
            &["contact", "MAIL"],
            &[&["+86 138 0013 8000", "Zhang.San+shop@GoogleMail.COM"]],
        );
        let a = keys(&ours, &["13800138000", "zhangsan@gmail.com"], false);
        let b = keys(
            &theirs,
            &["+86 138 0013 8000", "Zhang.San+shop@GoogleMail.COM"],
            false,
        );
        assert_eq!(a.len(), 2);
        assert_eq!(a, b);
    }

    #[test]
    fn the_index_side_adds_masked_forms_that_masked_cells_meet() {
        let plan = table(
            &["身份证", "手机"],
            &[&["11010519491231002X", "13800138000"]],
        );
        let full = keys(&plan, &["11010519491231002X", "13800138000"], true);
        let kinds: Vec<IdKind> = full.iter().map(|k| k.kind).collect();
        assert_eq!(
            kinds,
            [
                IdKind::ResidentId,
                IdKind::ResidentIdMasked,
                IdKind::ResidentIdMaskedShort,
                IdKind::Mobile,
                IdKind::MobileMasked
            ]
        );
        let masked = table(&["证件", "电话"], &[&["110105********002X", "138****8000"]]);
        let m = keys(&masked, &["110105********002X", "138****8000"], false);
        assert_eq!(m.len(), 2);
        assert!(m.iter().all(|k| full.contains(k)), "{m:?} in {full:?}");
        let short = keys(&masked, &["1101**********002X", "+86 138-****-8000"], false);
        assert_eq!(short[0].kind, IdKind::ResidentIdMaskedShort);
        assert!(full.contains(&short[0]));
        assert!(full.contains(&short[1]));
    }

    #[test]
    fn masks_need_enough_visible_characters() {
        assert!(masked_id("11**************29").is_none());
        assert!(masked_id("110105********002").is_none(), "17 characters");
        assert!(masked_id("11010519491231002X").is_none(), "nothing masked");
        assert!(masked_mobile("1**********").is_none());
        assert!(masked_mobile("238****8000").is_none());
    }

    #[test]
    fn name_and_birth_date_together_identify() {
        let plan = table(&["姓名", "出生日期"], &[&["张伟", "1987-06-15"]]);
        assert!(plan.identifies());
        let a = keys(&plan, &["张伟", "1987-06-15"], true);
        let b = keys(&plan, &["张 伟", "1987/6/15"], false);
        assert_eq!(a.len(), 1);
        assert_eq!(a, b);
        assert!(keys(&plan, &["张伟", ""], false).is_empty());
        let names_only = table(&["姓名"], &[&["张伟"]]);
        assert!(!names_only.identifies());
    }
}
