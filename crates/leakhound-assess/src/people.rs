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
use std::collections::{HashMap, HashSet};

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

#[derive(Debug, Default)]
struct Contact {
    rows: u32,
    tie: Tie,
    /// Other contacts seen with it on rows without a strong identifier, up to
    /// [`MAX_PARTNERS`]; `None` once there were more (shared).
    partners: Option<Vec<u64>>,
    placeholder: bool,
}

impl Contact {
    fn shared(&self) -> bool {
        self.placeholder || self.tie == Tie::Many || self.partners.is_none()
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
    strong: HashSet<u64>,
    /// Documents of one person (different kinds on one row): parent links of a
    /// union-find over strong hashes, only for those ever joined.
    same_person: HashMap<u64, u64>,
    /// The documents of each joined person (by its root), to refuse a join that would
    /// give one person two documents of a kind.
    documents: HashMap<u64, Vec<Strong>>,
    /// Joins made: each turns two people into one.
    joined: u64,
    contacts: HashMap<u64, Contact>,
    /// Distinct contact sets of rows without a strong identifier.
    contact_rows: HashSet<u64>,
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
        self.strong.extend(strong.iter().map(|s| s.1));
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
            let was_shared = self.contacts.get(&c.hash).is_some_and(Contact::shared);
            let entry = self.contacts.entry(c.hash).or_insert_with(|| Contact {
                partners: Some(Vec::new()),
                ..Contact::default()
            });
            entry.rows = entry.rows.saturating_add(1);
            entry.placeholder |= c.placeholder;
            match row {
                RowStrong::Several => entry.tie = Tie::Many,
                RowStrong::One(s) => {
                    entry.tie = match entry.tie {
                        Tie::None => Tie::One(s),
                        Tie::One(t) if t == s => Tie::One(t),
                        _ => Tie::Many,
                    }
                }
                RowStrong::None => {
                    if let Some(partners) = entry.partners.as_mut() {
                        for other in contacts.iter().filter(|o| o.hash != c.hash) {
                            if !partners.contains(&other.hash) {
                                partners.push(other.hash);
                            }
                        }
                        if partners.len() > MAX_PARTNERS {
                            entry.partners = None;
                        }
                    }
                }
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

    /// Shared contacts, each with the rows it is on and why it is shared:
    /// `placeholder`, `several_ids` (seen with two or more strong identifiers) or
    /// `many_contacts` (seen with more than [`MAX_PARTNERS`] other contacts).
    pub(crate) fn shared(&self) -> impl Iterator<Item = (&SharedContact, u32, &'static str)> {
        self.shared.iter().filter_map(|s| {
            let c = self.contacts.get(&s.hash)?;
            let why = if c.placeholder {
                "placeholder"
            } else if c.tie == Tie::Many {
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
        true
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
        let index: HashMap<u64, u32> = self
            .contacts
            .iter()
            .filter(|(_, c)| !c.shared())
            .enumerate()
            .map(|(i, (h, _))| (*h, i as u32))
            .collect();
        let mut parent: Vec<u32> = (0..index.len() as u32).collect();
        let mut claimed = vec![false; index.len()];
        for (h, &i) in &index {
            let Some(c) = self.contacts.get(h) else {
                continue;
            };
            claimed[i as usize] = matches!(c.tie, Tie::One(_));
            for p in c.partners.iter().flatten() {
                if let Some(&j) = index.get(p) {
                    union(&mut parent, i, j);
                }
            }
        }
        let mut groups: HashMap<u32, bool> = HashMap::new();
        for i in 0..parent.len() as u32 {
            let root = find(&mut parent, i);
            *groups.entry(root).or_insert(false) |= claimed[i as usize];
        }
        let unclaimed = groups.values().filter(|c| !**c).count() as u64;
        let strong = (self.strong.len() as u64).saturating_sub(self.joined);
        let any = strong > 0 || !self.contacts.is_empty();
        let min = strong.max(u64::from(any));
        let max = strong + self.contact_rows.len() as u64;
        Estimate {
            best: (strong + unclaimed).clamp(min, max.max(min)),
            min,
            max: max.max(min),
        }
    }
}

fn bytes_of(key: &[u64]) -> Vec<u8> {
    key.iter().flat_map(|k| k.to_le_bytes()).collect()
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
}
