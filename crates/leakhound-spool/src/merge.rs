//! Reading runs back in report order: a k-way merge of the sorted runs and the sorted
//! rest still in memory.

use crate::run::{Reader, Run};
use crate::SpoolError;
use leakhound_findings::Finding;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Findings in order: borrowed from memory, or read back from disk (owned).
pub struct Iter<'a> {
    memory: std::slice::Iter<'a, Finding>,
    readers: Vec<Reader<'a>>,
    /// The next finding of each source; `None` when nothing is spilled (the memory is
    /// then read straight through, in its own order).
    heap: Option<BinaryHeap<Head<'a>>>,
    /// Every source has put its first finding on the heap.
    started: bool,
    /// Set after an error: a broken run ends the iteration rather than skipping ahead.
    failed: bool,
}

/// The next finding of one source. Ordered so that the max-heap pops the smallest
/// sort key first; ties go to the lower source, so equal keys keep a stable order.
struct Head<'a> {
    finding: Cow<'a, Finding>,
    /// Index into the readers; `readers.len()` for the memory.
    source: usize,
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.finding.sort_key(), other.source).cmp(&(self.finding.sort_key(), self.source))
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head<'_> {}

impl<'a> Iter<'a> {
    pub(crate) fn new(memory: &'a [Finding], runs: &'a [Run]) -> Iter<'a> {
        let mut iter = Iter {
            memory: memory.iter(),
            readers: runs.iter().map(Run::reader).collect(),
            heap: None,
            started: false,
            failed: false,
        };
        if !runs.is_empty() {
            iter.heap = Some(BinaryHeap::with_capacity(runs.len() + 1));
        }
        iter
    }

    /// The next finding of `source`, put on the heap.
    fn refill(&mut self, source: usize) -> Result<(), SpoolError> {
        let next = match self.readers.get_mut(source) {
            Some(reader) => reader.next_finding()?.map(Cow::Owned),
            None => self.memory.next().map(Cow::Borrowed),
        };
        if let (Some(finding), Some(heap)) = (next, self.heap.as_mut()) {
            heap.push(Head { finding, source });
        }
        Ok(())
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<Cow<'a, Finding>, SpoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.heap.is_none() {
            return self.memory.next().map(|f| Ok(Cow::Borrowed(f)));
        }
        if !self.started {
            self.started = true;
            for source in 0..=self.readers.len() {
                if let Err(e) = self.refill(source) {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        let head = self.heap.as_mut()?.pop()?;
        if let Err(e) = self.refill(head.source) {
            self.failed = true;
            return Some(Err(e));
        }
        Some(Ok(head.finding))
    }
}
