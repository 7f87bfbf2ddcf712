//! Counting people so the figure holds up when it is given to a regulator.
//!
//! Joining every identifier that shares a row (the obvious union-find) is wrong on real
//! exports: one dealer's phone on every row of a sales export joins 2,000 customers
//! into one "person". So identifiers are of two sorts:
//!
//! - **Strong** identifiers (a resident ID, a Hong Kong or Taiwan ID, a passport) name
//!   one person each. Two different strong identifiers of one kind are never one
//!   person, whatever else they share. Strong identifiers of different kinds on one row
//!   (a resident ID and a passport) are one person holding both documents, unless that
//!   would give one person two documents of a kind.
//! - **Contacts** (mobile, e-mail) belong to a person when the data ties them to one.
//!   A contact seen with two or more different strong identifiers, with more than
//!   [`MAX_PARTNERS`] other contacts on rows without one, or that is a placeholder
//!   (`13800000000`, `test@test.com`) is **shared**: it joins nobody and is reported.
//!
//! Rows without a strong identifier still count: their contacts are joined row by row
//! (shared ones left out), and each group that no strong identifier claims is one
//! person. A phone-only row whose phone is tied to a resident ID elsewhere is that
//! person, not a new one.
//!
//! The estimate comes with bounds. At least: the distinct strong identifiers (phones
//! and addresses alone prove no two people different; at least one person if any
//! identifier was seen). At most: each strong identifier one person, plus every
//! distinct set of contacts on a row without one a different person.
//!
//! Memory grows with distinct identifiers (hashes, never values), not with rows.

use crate::Kind;
use leakhound_findings::keys::{IdMap, IdSet};

/// A strong identifier as seen on a row: its kind and the hash of its normal form.
pub(crate) type Strong = (Kind, u64);

/// Other contacts a contact may be seen with (on rows without a strong identifier)
/// before it is taken for shared: a person has a phone or two and an address or two;
/// a placeholder or a dealer's number is on everyone's row.
pub(crate) const MAX_PARTNERS: usize = 3;

/// A contact identifier as seen on a row.
pub(crate) struct Seen<'a> {
    /// Hash of its kind and normalised value.
    pub hash: u64,
    /// The column it is in (for the shared-contact report).
    pub column: usize,
    /// `mobile` or `email`: the contact map doubles as their distinct-value count.
    pub kind: Kind,
    /// Its normalised value, masked if it is reported.
    pub value: &'a str,
    /// A placeholder value (`13800000000`): shared from the start.
    pub placeholder: bool,
}

/// The strong identifiers on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowStrong {
    None,
    One(u64),
    Several,
}

/// What a contact is tied to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Tie {
    /// No strong identifier seen with it.
    #[default]
    None,
    /// Exactly one.
    One(u64),
    /// Two or more.
    Many,
}

impl Tie {
    /// What a contact tied so in one table is tied to when the tables are put together.
    fn and(self, other: Tie) -> Tie {
        match (self, other) {
            (Tie::None, t) | (t, Tie::None) => t,
            (Tie::One(a), Tie::One(b)) if a == b => Tie::One(a),
            _ => Tie::Many,
        }
    }
}

/// One contact value, in 16 bytes (there are millions): the tie as one word (0 none,
/// `u64::MAX` many, else the person's root hash; a real hash equal to a sentinel is a
/// 1-in-2^63 event and would move one contact between tied and shared), rows, flags.
/// Its partners, which only contacts on rows without a strong identifier have, are
/// kept aside in [`People::partners`].
#[derive(Debug, Default, Clone, Copy)]
struct Contact {
    tie: u64,
    rows: u32,
    flags: u8,
    /// `Kind as u8`.
    kind: u8,
}

const PLACEHOLDER: u8 = 1;
/// More than [`MAX_PARTNERS`] other contacts seen with it.
const CROWDED: u8 = 2;
const TIE_MANY: u64 = u64::MAX;

impl Contact {
    fn tie(&self) -> Tie {
        match self.tie {
            0 => Tie::None,
            TIE_MANY => Tie::Many,
            root => Tie::One(root),
        }
    }

    fn set_tie(&mut self, tie: Tie) {
        self.tie = match tie {
            Tie::None => 0,
            Tie::Many => TIE_MANY,
            Tie::One(root) => root,
        };
    }

    fn shared(&self) -> bool {
        self.flags & (PLACEHOLDER | CROWDED) != 0 || self.tie == TIE_MANY
    }
}

/// Other contacts a contact was seen with on rows without a strong identifier.
#[derive(Debug, Default, Clone, Copy)]
struct Partners {
    ids: [u64; MAX_PARTNERS],
    len: u8,
}

impl Partners {
    fn as_slice(&self) -> &[u64] {
        &self.ids[..usize::from(self.len)]
    }

    /// Add `other`; false when that makes more than [`MAX_PARTNERS`].
    fn add(&mut self, other: u64) -> bool {
        if self.as_slice().contains(&other) {
            return true;
        }
        match self.ids.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = other;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// A shared contact, for the report: never a raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedContact {
    pub column: usize,
    pub masked: String,
    pub hash: u64,
}

/// The people figure: best estimate and what the data proves at least and at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Estimate {
    pub best: u64,
    pub min: u64,
    pub max: u64,
}

/// Distinct people among the identifiers added, row by row.
#[derive(Debug, Default)]
pub(crate) struct People {
    /// Distinct strong identifiers, one set per kind of [`Kind::STRONG`] (the table's
    /// distinct counts of those kinds are read from here, not kept twice).
    strong: [IdSet; 4],
    /// Documents of one person (different kinds on one row): parent links of a
    /// union-find over strong hashes, only for those ever joined.
    same_person: IdMap<u64>,
    /// The documents of each joined person (by its root), to refuse a join that would
    /// give one person two documents of a kind.
    documents: IdMap<Vec<Strong>>,
    /// Joins made: each turns two people into one.
    joined: u64,
    /// The joins made, in order, so another table's people can be merged in.
    joins: Vec<(Strong, Strong)>,
    contacts: IdMap<Contact>,
    /// Partners of contacts seen on rows without a strong identifier, until they have
    /// too many (then the contact is shared and its partners dropped).
    partners: IdMap<Partners>,
    /// Distinct contact sets of rows without a strong identifier.
    contact_rows: IdSet,
    /// Contacts that became shared, in that order, with where they were first seen so;
    /// kept only when `report_shared` is set (a table's, not the totals').
    shared: Vec<SharedContact>,
    report_shared: bool,
}

impl People {
    /// A table's people, keeping a report of its shared contacts.
    pub(crate) fn reporting_shared() -> People {
        People {
            report_shared: true,
            ..People::default()
        }
    }

    /// One row's identifiers: strong ones (hashes) and contacts.
    pub(crate) fn add_row(&mut self, strong: &[Strong], contacts: &[Seen<'_>]) {
        for (kind, hash) in strong {
            if let Some(set) = strong_slot(*kind).and_then(|i| self.strong.get_mut(i)) {
                set.insert(*hash);
            }
        }
        // Most rows hold one strong identifier or none: no sorting, no allocation.
        let row_ids: std::borrow::Cow<'_, [Strong]> = if strong.len() < 2 {
            std::borrow::Cow::Borrowed(strong)
        } else {
            let mut ids = strong.to_vec();
            ids.sort_unstable();
            ids.dedup();
            std::borrow::Cow::Owned(ids)
        };
        let row = match row_ids.as_ref() {
            [] => RowStrong::None,
            [(_, only)] => RowStrong::One(self.root(*only)),
            // Two of one kind: two people on one row (owner and driver); their contacts
            // are tied to both.
            ids if ids.windows(2).any(|w| w[0].0 == w[1].0) => RowStrong::Several,
            // One of each kind: one person's documents.
            [first, rest @ ..] => {
                let mut one = true;
                for other in rest {
                    one &= self.join(*first, *other);
                }
                if one {
                    RowStrong::One(self.root(first.1))
                } else {
                    RowStrong::Several
                }
            }
        };
        if row == RowStrong::None && !contacts.is_empty() {
            let mut key: Vec<u64> = contacts.iter().map(|c| c.hash).collect();
            key.sort_unstable();
            key.dedup();
            self.contact_rows
                .insert(xxhash_rust::xxh3::xxh3_64(&bytes_of(&key)));
        }
        for c in contacts {
            let entry = self.contacts.entry(c.hash).or_default();
            let was_shared = entry.rows > 0 && entry.shared();
            entry.rows = entry.rows.saturating_add(1);
            entry.kind = c.kind as u8;
            if c.placeholder {
                entry.flags |= PLACEHOLDER;
            }
            match row {
                RowStrong::Several => entry.set_tie(Tie::Many),
                RowStrong::One(s) => {
                    let tie = entry.tie().and(Tie::One(s));
                    entry.set_tie(tie);
                }
                RowStrong::None if entry.flags & CROWDED == 0 => {
                    let partners = self.partners.entry(c.hash).or_default();
                    let fits = contacts
                        .iter()
                        .filter(|o| o.hash != c.hash)
                        .all(|o| partners.add(o.hash));
                    if !fits {
                        entry.flags |= CROWDED;
                        self.partners.remove(&c.hash);
                    }
                }
                RowStrong::None => {}
            }
            if self.report_shared && !was_shared && entry.shared() {
                self.shared.push(SharedContact {
                    column: c.column,
                    masked: leakhound_findings::mask(c.value),
                    hash: c.hash,
                });
            }
        }
    }

    /// Distinct values of a strong or contact kind seen (`None` for other kinds).
    pub(crate) fn distinct(&self, kind: Kind) -> Option<u64> {
        if let Some(i) = strong_slot(kind) {
            return self.strong.get(i).map(|s| s.len() as u64);
        }
        Kind::CONTACTS.contains(&kind).then(|| {
            let k = kind as u8;
            self.contacts.values().filter(|c| c.kind == k).count() as u64
        })
    }

    /// Put another table's people into these, as if its rows had been added here:
    /// how `assess` keeps its all-tables figure without holding every identifier twice.
    pub(crate) fn merge(&mut self, other: People) {
        if self.strong.iter().all(IdSet::is_empty)
            && self.contacts.is_empty()
            && self.contact_rows.is_empty()
        {
            *self = People {
                report_shared: self.report_shared,
                shared: Vec::new(),
                ..other
            };
            return;
        }
        for (ours, theirs) in self.strong.iter_mut().zip(other.strong) {
            if ours.is_empty() {
                *ours = theirs;
            } else {
                ours.extend(theirs);
            }
        }
        for (a, b) in &other.joins {
            self.join(*a, *b);
        }
        for (hash, theirs) in other.contacts {
            let tie = match theirs.tie() {
                Tie::One(root) => Tie::One(self.root(root)),
                t => t,
            };
            let ours = self.contacts.entry(hash).or_default();
            ours.rows = ours.rows.saturating_add(theirs.rows);
            ours.flags |= theirs.flags;
            ours.kind = theirs.kind;
            let tie = ours.tie().and(tie);
            ours.set_tie(tie);
            if ours.flags & CROWDED != 0 {
                self.partners.remove(&hash);
            }
        }
        for (hash, theirs) in other.partners {
            let crowded = self
                .contacts
                .get(&hash)
                .is_some_and(|c| c.flags & CROWDED != 0);
            if crowded {
                continue;
            }
            let ours = self.partners.entry(hash).or_default();
            if !theirs.as_slice().iter().all(|&p| ours.add(p)) {
                self.partners.remove(&hash);
                if let Some(c) = self.contacts.get_mut(&hash) {
                    c.flags |= CROWDED;
                }
            }
        }
        self.contact_rows.extend(other.contact_rows.iter().copied());
    }

    /// Shared contacts, each with the rows it is on and why it is shared:
    /// `placeholder`, `several_ids` (seen with two or more strong identifiers) or
    /// `many_contacts` (seen with more than [`MAX_PARTNERS`] other contacts).
    pub(crate) fn shared(&self) -> impl Iterator<Item = (&SharedContact, u32, &'static str)> {
        self.shared.iter().filter_map(|s| {
            let c = self.contacts.get(&s.hash)?;
            let why = if c.flags & PLACEHOLDER != 0 {
                "placeholder"
            } else if c.tie() == Tie::Many {
                "several_ids"
            } else {
                "many_contacts"
            };
            Some((s, c.rows, why))
        })
    }

    /// The person (root document) `h` belongs to.
    fn root(&mut self, h: u64) -> u64 {
        // Most exports carry one kind of document: nothing was ever joined.
        if self.same_person.is_empty() {
            return h;
        }
        let mut r = h;
        while let Some(&p) = self.same_person.get(&r) {
            if p == r {
                break;
            }
            r = p;
        }
        // Path compression: every document on the way points at the root.
        let mut n = h;
        while n != r {
            match self.same_person.insert(n, r) {
                Some(next) => n = next,
                None => break,
            }
        }
        r
    }

    /// Make the documents `a` and `b` one person's; false when they cannot be (both
    /// people already hold a different document of one kind).
    fn join(&mut self, a: Strong, b: Strong) -> bool {
        let (ra, rb) = (self.root(a.1), self.root(b.1));
        if ra == rb {
            return true;
        }
        let docs_a = self.documents_of(ra, a);
        let docs_b = self.documents_of(rb, b);
        let clash = docs_a
            .iter()
            .any(|(k, h)| docs_b.iter().any(|(k2, h2)| k == k2 && h != h2));
        if clash {
            return false;
        }
        let mut docs = docs_a;
        docs.extend(docs_b);
        self.documents.remove(&rb);
        self.documents.insert(ra, docs);
        self.same_person.insert(ra, ra);
        self.same_person.insert(rb, ra);
        self.joined += 1;
        self.joins.push((a, b));
        true
    }

    /// Every distinct identifier with how these rows tied it to the others, for an
    /// estate-wide figure merged across processes (see `leakhound_store`'s runs). A
    /// person is named by the smallest (as a signed number, as SQL compares) hash of
    /// its documents; a contact group by the smallest hash of its contacts.
    pub(crate) fn identities(&self) -> Vec<crate::Identity> {
        let smallest = |hashes: &mut dyn Iterator<Item = u64>| -> Option<u64> {
            hashes.min_by_key(|h| *h as i64)
        };
        let person = |h: u64| -> u64 {
            let root = self.root_of(h);
            match self.documents.get(&root) {
                Some(docs) => smallest(&mut docs.iter().map(|(_, d)| *d)).unwrap_or(root),
                None => root,
            }
        };
        let mut out = Vec::new();
        for (slot, set) in self.strong.iter().enumerate() {
            let Some(&kind) = Kind::STRONG.get(slot) else {
                continue;
            };
            out.extend(set.iter().map(|&fp| crate::Identity {
                kind,
                fp,
                tie: person(fp),
                group: 0,
                shared: false,
            }));
        }
        // Contact groups: unshared contacts joined through the partners they were seen
        // with, as `estimate` joins them.
        let mut group: IdMap<u64> = IdMap::default();
        if self.partners.values().any(|p| p.len > 0) {
            let (index, mut parent) = self.contact_groups();
            let mut least: Vec<Option<u64>> = vec![None; parent.len()];
            for (&h, &i) in &index {
                let root = find(&mut parent, i) as usize;
                least[root] = smallest(&mut least[root].into_iter().chain([h]));
            }
            for (&h, &i) in &index {
                let root = find(&mut parent, i) as usize;
                group.insert(h, least[root].unwrap_or(h));
            }
        }
        for (&fp, c) in &self.contacts {
            let Some(&kind) = Kind::CONTACTS.iter().find(|k| **k as u8 == c.kind) else {
                continue;
            };
            out.push(crate::Identity {
                kind,
                fp,
                tie: match c.tie() {
                    Tie::None => 0,
                    Tie::Many => TIE_MANY,
                    Tie::One(root) => person(root),
                },
                group: group.get(&fp).copied().unwrap_or(fp),
                shared: c.shared(),
            });
        }
        out
    }

    /// Unshared contacts joined through the partners they were seen with: each
    /// contact's number, and the union-find parents over those numbers.
    fn contact_groups(&self) -> (IdMap<u32>, Vec<u32>) {
        let index: IdMap<u32> = self
            .contacts
            .iter()
            .filter(|(_, c)| !c.shared())
            .enumerate()
            .map(|(i, (h, _))| (*h, i as u32))
            .collect();
        let mut parent: Vec<u32> = (0..index.len() as u32).collect();
        for (h, partners) in &self.partners {
            let Some(&i) = index.get(h) else {
                continue;
            };
            for p in partners.as_slice() {
                if let Some(&j) = index.get(p) {
                    union(&mut parent, i, j);
                }
            }
        }
        (index, parent)
    }

    /// The person (root document) `h` belongs to, without shortening paths.
    fn root_of(&self, h: u64) -> u64 {
        let mut r = h;
        while let Some(&p) = self.same_person.get(&r) {
            if p == r {
                break;
            }
            r = p;
        }
        r
    }

    /// The documents of the person rooted at `root` (just `doc` if never joined).
    fn documents_of(&self, root: u64, doc: Strong) -> Vec<Strong> {
        self.documents
            .get(&root)
            .cloned()
            .unwrap_or_else(|| vec![doc])
    }

    /// The people figure so far.
    pub(crate) fn estimate(&self) -> Estimate {
        // Contacts not shared, joined with the partners they were seen with; a group
        // that no strong identifier claims is one more person.
        let strong = self.strong.iter().map(|s| s.len() as u64).sum::<u64>();
        let strong = strong.saturating_sub(self.joined);
        let any = strong > 0 || !self.contacts.is_empty();
        let min = strong.max(u64::from(any));
        let max = strong + self.contact_rows.len() as u64;
        let estimate = |unclaimed: u64| Estimate {
            best: (strong + unclaimed).clamp(min, max.max(min)),
            min,
            max: max.max(min),
        };
        // No contact was seen with another on a row without a strong identifier (the
        // usual export, an ID on every row): each unshared, untied contact is its own
        // group, and no index over millions of contacts is needed.
        if self.partners.values().all(|p| p.len == 0) {
            let unclaimed = self
                .contacts
                .values()
                .filter(|c| !c.shared() && c.tie() == Tie::None)
                .count() as u64;
            return estimate(unclaimed);
        }
        let (index, mut parent) = self.contact_groups();
        let mut claimed = vec![false; index.len()];
        for (h, &i) in &index {
            if let Some(c) = self.contacts.get(h) {
                claimed[i as usize] = matches!(c.tie(), Tie::One(_));
            }
        }
        // Per group root: 1 = a group, 2 = claimed by a strong identifier.
        let mut groups = vec![0u8; parent.len()];
        for i in 0..parent.len() as u32 {
            let root = find(&mut parent, i) as usize;
            groups[root] |= 1 | if claimed[i as usize] { 2 } else { 0 };
        }
        let unclaimed = groups.iter().filter(|g| **g == 1).count() as u64;
        estimate(unclaimed)
    }
}

fn bytes_of(key: &[u64]) -> Vec<u8> {
    key.iter().flat_map(|k| k.to_le_bytes()).collect()
}

/// Where a strong kind's set is in [`People::strong`].
fn strong_slot(kind: Kind) -> Option<usize> {
    Kind::STRONG.iter().position(|k| *k == kind)
}

fn find(parent: &mut [u32], mut n: u32) -> u32 {
    while parent[n as usize] != n {
        let grand = parent[parent[n as usize] as usize];
        parent[n as usize] = grand;
        n = grand;
    }
    n
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[rb as usize] = ra;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(hash: u64) -> Seen<'static> {
        Seen {
            hash,
            column: 0,
            kind: Kind::Mobile,
            value: "13912345678",
            placeholder: false,
        }
    }

    /// People of rows given as (strong identifiers, contacts).
    fn added<S: AsRef<[u64]>, C: AsRef<[u64]>>(rows: &[(S, C)]) -> People {
        let mut p = People::reporting_shared();
        for (strong, contacts) in rows {
            let seen: Vec<Seen<'_>> = contacts.as_ref().iter().map(|&h| c(h)).collect();
            let strong: Vec<Strong> = strong
                .as_ref()
                .iter()
                .map(|&h| (Kind::ResidentId, h))
                .collect();
            p.add_row(&strong, &seen);
        }
        p
    }

    fn people(rows: &[(&[u64], &[u64])]) -> Estimate {
        added(rows).estimate()
    }

    fn is(best: u64, min: u64, max: u64) -> Estimate {
        Estimate { best, min, max }
    }

    #[test]
    fn identities_carry_the_ties_and_groups_the_estimate_used() {
        let mut p = People::reporting_shared();
        // Resident ID 7 and passport 3 on one row with phone 50: one person, named by
        // the smaller hash (3); phones 60 and 61 together without an ID: one group.
        p.add_row(&[(Kind::ResidentId, 7), (Kind::Passport, 3)], &[c(50)]);
        p.add_row(&[], &[c(61), c(60)]);
        p.add_row(&[(Kind::ResidentId, 9)], &[c(70)]);
        p.add_row(&[(Kind::ResidentId, 8)], &[c(70)]);
        let ids = p.identities();
        let of = |fp: u64| ids.iter().find(|i| i.fp == fp).copied().unwrap();
        assert_eq!(of(7).tie, 3);
        assert_eq!(of(3).tie, 3);
        assert_eq!(of(9).tie, 9);
        assert_eq!((of(50).tie, of(50).shared), (3, false));
        assert_eq!((of(60).group, of(61).group), (60, 60));
        assert_eq!((of(60).tie, of(61).tie), (0, 0));
        // Seen with two people: shared, tied to many.
        assert!(of(70).shared && of(70).tie == TIE_MANY);
        assert_eq!(ids.len(), 8);
    }

    #[test]
    fn a_contact_tied_to_one_id_is_that_person() {
        // ID 1 with phone 10; phone 10 alone on another row: one person, maybe two.
        assert_eq!(people(&[(&[1], &[10]), (&[], &[10])]), is(1, 1, 2));
        // A phone alone and an ID alone: two, unless the phone is the ID's (1..2).
        assert_eq!(people(&[(&[1], &[]), (&[], &[11])]), is(2, 1, 2));
    }

    #[test]
    fn a_shared_dealer_phone_joins_nobody() {
        let rows: Vec<(Vec<u64>, Vec<u64>)> = (0..2000u64)
            .map(|i| (vec![i], vec![10_000 + i, 99_999]))
            .collect();
        let p = added(&rows);
        assert_eq!(p.estimate(), is(2000, 2000, 2000));
        let shared: Vec<_> = p.shared().collect();
        assert_eq!(shared.len(), 1);
        assert_eq!(
            (shared[0].0.hash, shared[0].1, shared[0].2),
            (99_999, 2000, "several_ids")
        );
    }

    #[test]
    fn contact_only_rows_are_people_and_placeholders_join_nobody() {
        // Phone-only rows: each distinct phone one person.
        assert_eq!(
            people(&[(&[], &[10]), (&[], &[11]), (&[], &[10])]),
            is(2, 1, 2)
        );
        // One phone with many different e-mails on rows without an ID: shared.
        let rows: Vec<(Vec<u64>, Vec<u64>)> =
            (0..10u64).map(|i| (vec![], vec![7, 100 + i])).collect();
        let p = added(&rows);
        assert_eq!(p.estimate(), is(10, 1, 10));
        // A person's phone and e-mail on two rows: one person.
        assert_eq!(people(&[(&[], &[10, 20]), (&[], &[20])]), is(1, 1, 2));
    }

    #[test]
    fn two_ids_are_never_one_person() {
        // A family of four sharing one e-mail.
        let e = 50;
        assert_eq!(
            people(&[(&[1], &[e]), (&[2], &[e]), (&[3], &[e]), (&[4], &[e])]),
            is(4, 4, 4)
        );
        // Owner and driver on one row.
        assert_eq!(people(&[(&[1, 2], &[10])]), is(2, 2, 2));
        assert_eq!(people(&[]), is(0, 0, 0));
    }

    #[test]
    fn documents_of_different_kinds_on_a_row_are_one_person() {
        let id = |h| (Kind::ResidentId, h);
        let passport = |h| (Kind::Passport, h);
        let hk = |h| (Kind::HkId, h);
        let mut p = People::default();
        // Person A: resident ID 1 and passport 100 on one row, each alone elsewhere.
        p.add_row(&[id(1), passport(100)], &[c(10)]);
        p.add_row(&[passport(100)], &[c(10)]);
        p.add_row(&[id(1)], &[]);
        // Person B: a Hong Kong ID only.
        p.add_row(&[hk(7)], &[]);
        assert_eq!(p.estimate(), is(2, 2, 2));
        assert!(p.shared().next().is_none(), "phone 10 is A's alone");
        // Passport 100 with another resident ID: not A's ID, so not one person.
        p.add_row(&[id(2), passport(100)], &[]);
        assert_eq!(p.estimate(), is(3, 3, 3));
    }

    /// People of `rows` added to one table, or split between two tables merged.
    fn split(rows: &[(Vec<Strong>, Vec<u64>)], at: usize) -> (Estimate, Estimate) {
        let add = |p: &mut People, rows: &[(Vec<Strong>, Vec<u64>)]| {
            for (strong, contacts) in rows {
                let seen: Vec<Seen<'_>> = contacts.iter().map(|&h| c(h)).collect();
                p.add_row(strong, &seen);
            }
        };
        let mut whole = People::default();
        add(&mut whole, rows);
        let (first, second) = rows.split_at(at.min(rows.len()));
        let mut totals = People::default();
        let mut a = People::reporting_shared();
        add(&mut a, first);
        totals.merge(a);
        let mut b = People::reporting_shared();
        add(&mut b, second);
        totals.merge(b);
        (whole.estimate(), totals.estimate())
    }

    #[test]
    fn merged_tables_count_as_one() {
        let id = |h| (Kind::ResidentId, h);
        let passport = |h| (Kind::Passport, h);
        // A person's ID with a phone in one table, the phone alone in the other; a
        // passport joined to the ID in the second table; a dealer phone in both.
        let rows = vec![
            (vec![id(1)], vec![10, 99]),
            (vec![id(2)], vec![11, 99]),
            (vec![], vec![10]),
            (vec![id(1), passport(100)], vec![99]),
            (vec![passport(100)], vec![12]),
            (vec![], vec![13, 14]),
            (vec![], vec![14, 15]),
        ];
        for at in 0..=rows.len() {
            let (whole, merged) = split(&rows, at);
            assert_eq!(whole, merged, "split at {at}");
        }
    }

    proptest::proptest! {
        /// Merging tables gives the figure of one table holding all their rows.
        #[test]
        fn merging_is_adding_the_rows(
            rows in proptest::collection::vec(
                (proptest::collection::vec(0u64..30, 0..3), proptest::collection::vec(100u64..140, 0..4)),
                0..60,
            ),
            at in 0usize..60,
        ) {
            let rows: Vec<(Vec<Strong>, Vec<u64>)> = rows
                .into_iter()
                .map(|(s, c)| (s.into_iter().map(|h| (Kind::ResidentId, h + 1)).collect(), c))
                .collect();
            let (whole, merged) = split(&rows, at);
            proptest::prop_assert_eq!(whole, merged);
        }
    }
}
