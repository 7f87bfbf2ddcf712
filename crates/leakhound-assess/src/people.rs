//! Counting people: identifiers seen on the same row belong to the same person, so
//! they are joined (union-find); each group of joined identifiers is one person.
//!
//! A row with a resident ID and a phone, and another row with only that phone, are one
//! person. A row with only a phone and another with only an ID number are two, unless
//! some row links them: nothing in the data says they are the same person.

use std::collections::HashMap;

/// Distinct people among the identifiers added, row by row.
#[derive(Debug, Default)]
pub(crate) struct People {
    /// identifier hash -> node
    index: HashMap<u64, u32>,
    parent: Vec<u32>,
    roots: usize,
}

impl People {
    /// One row's identifiers (hashes of kind and normalised value).
    pub(crate) fn add_row(&mut self, ids: &[u64]) {
        let mut first: Option<u32> = None;
        for &id in ids {
            let node = self.node(id);
            match first {
                None => first = Some(node),
                Some(f) => self.union(f, node),
            }
        }
    }

    /// People so far.
    pub(crate) fn count(&self) -> usize {
        self.roots
    }

    fn node(&mut self, id: u64) -> u32 {
        if let Some(&n) = self.index.get(&id) {
            return n;
        }
        let n = self.parent.len() as u32;
        self.parent.push(n);
        self.index.insert(id, n);
        self.roots += 1;
        n
    }

    fn find(&mut self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            let grand = self.parent[self.parent[n as usize] as usize];
            self.parent[n as usize] = grand;
            n = grand;
        }
        n
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[rb as usize] = ra;
            self.roots -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::People;

    #[test]
    fn identifiers_on_one_row_are_one_person() {
        let mut p = People::default();
        p.add_row(&[1, 2]); // ID 1 with phone 2
        p.add_row(&[2]); // phone 2 again: same person
        p.add_row(&[3]); // an ID alone: someone else
        p.add_row(&[4]); // a phone alone: someone else again
        assert_eq!(p.count(), 3);
        p.add_row(&[3, 4]); // a row that links them
        assert_eq!(p.count(), 2);
        p.add_row(&[]);
        assert_eq!(p.count(), 2);
    }
}
