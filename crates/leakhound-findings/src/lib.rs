//! The finding model shared by every leakhound crate.
//!
//! Inputs (files, archive members, git blobs, table cells) and outputs (human, JSON,
//! SARIF, datastores) meet here, so this crate owns the few rules that must be the same
//! everywhere: how a value is masked, how a fingerprint is computed, and how a location
//! is written.
//!
//! ```
//! use leakhound_findings::{fingerprint, mask};
//! assert_eq!(mask("110105199003072316"), "1101**********2316");
//! assert_eq!(fingerprint("vin", "LSVAU2180N2183294").len(), 64);
//! ```
#![deny(missing_docs)]

mod column_context;
pub mod keys;
mod kinds;
mod mask;
mod place_kind;
pub mod run;
mod terminal;

pub use column_context::column_names_a_thing;
pub use kinds::{Category, Confidence, ParseKindError, Severity, Status};
pub use mask::{mask, redact_rest};
pub use place_kind::{is_contributor_list, is_source_code, is_test_or_example};
pub use terminal::for_terminal;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a finding sits. `path` uses one `!` per archive layer (`outer.zip!dir/a.csv`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Display path of the blob, with `!` separating archive layers.
    pub path: String,
    /// 1-based line number in the decoded text.
    pub line: u64,
    /// 1-based column, counted in characters so a GBK file and its UTF-8 twin agree.
    pub column: u64,
    /// Byte offset of the value in the decoded text.
    pub offset: u64,
}

/// One detected value. The raw value is kept so outputs can mask or reveal it; nothing
/// here is printed without going through [`Finding::shown_value`].
#[derive(Debug, Clone)]
pub struct Finding {
    /// Stable rule id, e.g. `github-pat-classic`.
    pub rule: Arc<str>,
    /// Human name of the rule.
    pub name: Arc<str>,
    /// Rule family.
    pub category: Category,
    /// How bad it is if real.
    pub severity: Severity,
    /// How sure the detector is that this is real.
    pub confidence: Confidence,
    /// Where it was found.
    pub location: Location,
    /// The raw matched value. Never print it directly: see [`Finding::shown_value`].
    pub value: String,
    /// `fingerprint(rule, value)`.
    pub fingerprint: String,
    /// The check that passed (`luhn`, `github-crc32`…), if the rule has one.
    pub validator: Option<Cow<'static, str>>,
    /// The line the value sits on (raw, trimmed to a readable width). Shared by the
    /// findings on one line: a table row with five values holds one copy, not five.
    pub line_text: Option<Arc<str>>,
    /// For aggregate findings (a location trace), how many items were seen.
    pub count: Option<u64>,
    /// Content id of the blob (hex); identical bytes share it wherever they appear.
    pub blob: Arc<str>,
    /// True when the blob looked binary (line numbers are then approximate).
    pub binary: bool,
    /// Where in a git repository's history the blob came from (history scans only).
    pub git: Option<Box<GitOrigin>>,
    /// What the datastore knows of this value (scans with `--datastore`, reports).
    pub triage: Option<Box<Triage>>,
    /// Where in a table the value sits (CSV/TSV files).
    pub cell: Option<Box<TableCell>>,
    /// The running process the finding is about (`leakhound host`).
    pub process: Option<Box<ProcessRef>>,
    /// For a table-level finding (every cell of one column that one rule matched, as
    /// one finding): what the column holds. `cell` is then its first row and `count`
    /// the number of cells.
    pub column_values: Option<Box<ColumnValues>>,
    /// The encodings the value was found under, outermost first (`base64>url`);
    /// its `value` and `fingerprint` are then the decoded value's, and its location
    /// the encoded span's.
    pub decoded: Option<Arc<str>>,
}

/// What one column of one table holds for one rule: a table-level finding. A
/// resident-ID column of 100,000 rows is one thing to triage, not 100,000, and its
/// size is the number a responder needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnValues {
    /// Distinct values among the cells.
    pub distinct: u64,
    /// The last data row holding one (the first is the finding's `cell.row`).
    pub last_row: u64,
    /// Up to [`MAX_EXAMPLES`] distinct values, raw like [`Finding::value`]: outputs
    /// mask them unless revealing, datastores keep them masked.
    pub examples: Vec<String>,
    /// [`value_key`] of every distinct value, sorted: distinct identifiers exposed
    /// across files and tables stay exact without keeping the values.
    pub keys: Vec<u64>,
}

/// Most example values a table-level finding carries.
pub const MAX_EXAMPLES: usize = 5;

impl ColumnValues {
    /// Examples as shown: masked unless revealing.
    pub fn shown_examples(&self, reveal: bool) -> Vec<String> {
        self.examples
            .iter()
            .map(|v| if reveal { v.clone() } else { mask(v) })
            .collect()
    }
}

/// The 64-bit key of a value, from its fingerprint: the first 16 hex digits. Exposure
/// counts distinct keys, so a per-cell finding and a table-level finding of the same
/// value meet. Two of 10 million distinct values share a key with odds of about 1 in
/// 370,000.
pub fn value_key(fingerprint: &str) -> u64 {
    fingerprint
        .get(..16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        // Not a leakhound fingerprint (a hand-edited baseline): any stable key will do.
        .unwrap_or_else(|| {
            let digest = Sha256::digest(fingerprint.as_bytes());
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            u64::from_be_bytes(first)
        })
}

/// The fingerprint of a table-level finding: rule, table and column, so the column
/// keeps its triage while its cells change from one export to the next.
pub fn column_fingerprint(rule: &str, table: &str, column: &str) -> String {
    fingerprint(rule, &format!("\u{1}column\u{1}{table}\u{1}{column}"))
}

/// A finding's place in a table: which table, which column (by header name, or
/// `column_N`) and which data row (1-based, the header not counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCell {
    /// The table: the file's display path. Shared by the table's findings.
    pub name: Arc<str>,
    /// The column's header name. Shared by the column's findings.
    pub column: Arc<str>,
    /// 1-based data row.
    pub row: u64,
}

/// A process on the inspected machine, as a responder needs to find and stop it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRef {
    /// Process id.
    pub pid: u32,
    /// Owner (login name, or the numeric uid when it has none).
    pub user: String,
    /// Executable path (`/proc/PID/exe`); ends in ` (deleted)` when the file is gone.
    pub exe: String,
    /// Command line, arguments joined by spaces, with detected values masked unless
    /// revealing.
    pub cmdline: String,
    /// Start time, RFC 3339 UTC.
    pub started: String,
    /// CPU time used over the process's life, in percent of one core.
    pub cpu_percent: f64,
}

/// A finding's standing in the datastore. Findings loaded from a datastore carry only
/// masked values (the raw value is never stored), so `value` and `line_text` are
/// already masked on them; masking is idempotent, so outputs need not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    /// The last decision on this value.
    pub status: Status,
    /// The comment given with it.
    pub comment: Option<String>,
    /// When the value was first recorded (RFC 3339, UTC).
    pub first_seen: String,
    /// When it was last recorded.
    pub last_seen: String,
    /// First recorded by this scan (or, in a report, by the latest scan).
    pub new: bool,
    /// Marked revoked, and seen in a place it had not been before.
    pub reappeared: bool,
}

/// A finding's place in git history. Boxed on [`Finding`] because most findings come
/// from plain files and should not pay for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitOrigin {
    /// The repository as the user named it (or as found under a folder they named).
    pub repository: String,
    /// Git object id of the blob holding the value (`git cat-file -p <blob>` shows it).
    pub blob: String,
    /// The first commit, in topological order, whose tree holds the value. `None` for
    /// a staged change or an object no commit reaches.
    pub commit: Option<CommitRef>,
    /// The commit after which the value is gone from a branch, when no branch tip still
    /// holds it. `None` while any branch tip still has it (or it was never on a branch).
    pub removed: Option<String>,
    /// How the blob was reached.
    pub reach: Reach,
}

/// One commit, as responders need to see it: who, when, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRef {
    /// Full commit id.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author e-mail.
    pub email: String,
    /// Author date, RFC 3339 with the author's offset.
    pub date: String,
    /// Path of the file in that commit (`!` layers for archive members).
    pub path: String,
}

/// How a git blob was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    /// From a ref (branch, tag, remote-tracking ref, stash) through its commits.
    Ref,
    /// Only from a commit that no ref reaches (a deleted branch not yet collected).
    UnreachableCommit,
    /// In the object database with no commit holding it (`--all-objects`).
    LooseObject,
    /// In the index, about to be committed (`--staged`).
    Staged,
}

impl Finding {
    /// The value as outputs print it: masked unless the user asked to reveal.
    pub fn shown_value(&self, reveal: bool) -> String {
        if reveal {
            self.value.clone()
        } else {
            mask(&self.value)
        }
    }

    /// The context line with this value, and every other value found on the same line
    /// (`others`), masked, unless revealing. Without `others`, a line holding a phone
    /// number and an ID number would print the ID in clear under the phone finding.
    pub fn shown_line(&self, reveal: bool, others: &[&str]) -> Option<String> {
        let line = self.line_text.as_deref()?;
        if reveal {
            return Some(line.to_string());
        }
        // A multi-line value (a private key) only overlaps the line: mask its first line.
        let first_line = |v: &'_ str| v.lines().next().unwrap_or("").to_string();
        let mut values: Vec<String> = std::iter::once(first_line(&self.value))
            .chain(others.iter().map(|v| first_line(v)))
            .filter(|v| !v.is_empty())
            .collect();
        // Longest first, so a value that contains another is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        let mut shown = line.to_string();
        for v in &values {
            shown = shown.replace(v.as_str(), &mask(v));
        }
        Some(mask::redact_rest(&shown).into_owned())
    }

    /// Sort key that gives the same order on every run: path, position, rule.
    pub fn sort_key(&self) -> (&str, u64, u64, &str) {
        (
            &self.location.path,
            self.location.line,
            self.location.column,
            &self.rule,
        )
    }
}

/// Put findings in report order (path, line, column, rule): the same on every run.
pub fn sort_for_report(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Whether findings are already in report order.
pub fn in_report_order(findings: &[Finding]) -> bool {
    findings.is_sorted_by(|a, b| a.sort_key() <= b.sort_key())
}

/// Every value found on each (path, line), so a printed line can mask all of them.
pub struct LineValues<'a> {
    values: HashMap<(&'a str, u64), Line<'a>>,
    /// The last line shown. Reports go through findings in order, and all findings on
    /// one line show the same masked line: a table row with five values was masked
    /// five times over, once per finding, before this.
    last: RefCell<Option<ShownLine>>,
}

/// The values found on one line. A minified file or a one-line JSON export can hold
/// tens of thousands on a line, while each finding shows a window of about 240 bytes of
/// it: past [`MANY_VALUES`], the values in a window are picked by one automaton pass
/// over the window instead of trying every value of the line against it (quadratic:
/// 60,000 values on a 2.5 MB line took minutes).
struct Line<'a> {
    values: Vec<&'a str>,
    /// Built on first use, for lines with many values: the automaton over their first
    /// lines, and the values as a set.
    many: std::cell::OnceCell<Option<Many<'a>>>,
}

/// Values past which a line's values are searched with one automaton.
const MANY_VALUES: usize = 32;

struct Many<'a> {
    finder: aho_corasick::AhoCorasick,
    patterns: Vec<&'a str>,
    set: std::collections::HashSet<&'a str>,
}

impl<'a> Line<'a> {
    fn many(&self) -> Option<&Many<'a>> {
        self.many
            .get_or_init(|| {
                if self.values.len() <= MANY_VALUES {
                    return None;
                }
                let mut patterns: Vec<&str> = self
                    .values
                    .iter()
                    .map(|v| v.lines().next().unwrap_or(""))
                    .filter(|v| !v.is_empty())
                    .collect();
                patterns.sort_unstable();
                patterns.dedup();
                let finder = aho_corasick::AhoCorasick::new(&patterns).ok()?;
                Some(Many {
                    finder,
                    patterns,
                    set: self.values.iter().copied().collect(),
                })
            })
            .as_ref()
    }

    /// The values that can be masked in `text` (a window of this line): all of them on
    /// a line with few; those whose first line occurs in `text` on a line with many.
    /// Masking a value that does not occur in the text changes nothing, so both give
    /// the same shown line.
    fn in_window(&self, text: &str) -> (Vec<&'a str>, Option<&Many<'a>>) {
        match self.many() {
            None => (self.values.clone(), None),
            Some(many) => {
                let mut hit = vec![false; many.patterns.len()];
                for m in many.finder.find_overlapping_iter(text) {
                    hit[m.pattern().as_usize()] = true;
                }
                let found = many
                    .patterns
                    .iter()
                    .zip(hit)
                    .filter_map(|(p, h)| h.then_some(*p))
                    .collect();
                (found, Some(many))
            }
        }
    }
}

struct ShownLine {
    path: String,
    line: u64,
    text: String,
    reveal: bool,
    shown: Option<String>,
}

impl<'a> LineValues<'a> {
    /// Index the values of `findings` by line.
    pub fn new(findings: &'a [Finding]) -> LineValues<'a> {
        let mut values: HashMap<(&str, u64), Line<'a>> = HashMap::new();
        for f in findings {
            values
                .entry((&f.location.path, f.location.line))
                .or_insert_with(|| Line {
                    values: Vec::new(),
                    many: std::cell::OnceCell::new(),
                })
                .values
                .push(&f.value);
        }
        LineValues {
            values,
            last: RefCell::new(None),
        }
    }

    /// The finding's line as it may be printed.
    pub fn shown_line(&self, f: &Finding, reveal: bool) -> Option<String> {
        let text = f.line_text.as_deref()?;
        let line = self
            .values
            .get(&(f.location.path.as_str(), f.location.line));
        let (others, many) = line.map(|l| l.in_window(text)).unwrap_or_default();
        // A finding in the index masks exactly its line's values, like its neighbours.
        let shared = match (many, line) {
            (Some(many), _) => many.set.contains(f.value.as_str()),
            (None, Some(l)) => l.values.contains(&f.value.as_str()),
            (None, None) => false,
        };
        let mut last = self.last.borrow_mut();
        if let Some(l) = last.as_ref().filter(|_| shared) {
            if l.line == f.location.line
                && l.reveal == reveal
                && l.text == text
                && l.path == f.location.path
            {
                return l.shown.clone();
            }
        }
        let shown = f.shown_line(reveal, &others);
        if shared {
            *last = Some(ShownLine {
                path: f.location.path.clone(),
                line: f.location.line,
                text: text.to_string(),
                reveal,
                shown: shown.clone(),
            });
        }
        shown
    }
}

/// Stable hex digest of a rule id and a raw value: the same on every run and machine,
/// independent of where the value was found, so it can key triage and baselines.
pub fn fingerprint(rule: &str, value: &str) -> String {
    let digest = fingerprint_digest(rule, value);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The SHA-256 digest a fingerprint is the hex of.
fn fingerprint_digest(rule: &str, value: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0u8]);
    h.update(value.as_bytes());
    h.finalize().into()
}

/// `value_key(&fingerprint(rule, value))` without the fingerprint's hex string: a
/// table's column keys a few million new values while it is scanned.
pub fn fingerprint_key(rule: &str, value: &str) -> u64 {
    let digest = fingerprint_digest(rule, value);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The key made straight from the digest is the fingerprint's key.
        #[test]
        fn fingerprint_key_is_the_fingerprints_key(rule in "[a-z_-]{1,12}", value in "\\PC{0,40}") {
            proptest::prop_assert_eq!(fingerprint_key(&rule, &value), value_key(&fingerprint(&rule, &value)));
        }
    }

    #[test]
    fn fingerprint_matches_an_independent_sha256() {
        // printf 'vin\0LSVAU2180N2183294' | sha256sum
        assert_eq!(
            fingerprint("vin", "LSVAU2180N2183294"),
            "47f50a181758a037adfd0bc9309f6787642e4da77a446574fc3fd3e1f8dd7a78"
        );
    }

    #[test]
    fn shown_line_masks_every_value_on_the_line() {
        let f = on_line("13912345678", 2, "张伟,440304198706151231,13912345678");
        let shown = f
            .shown_line(false, &["440304198706151231"])
            .unwrap_or_default();
        assert_eq!(shown, "张伟,4403**********1231,13*******78");
        assert!(f
            .shown_line(true, &[])
            .unwrap_or_default()
            .contains("440304198706151231"));
    }

    fn on_line(value: &str, line: u64, text: &str) -> Finding {
        Finding {
            rule: Arc::from("r"),
            name: Arc::from("r"),
            category: Category::Personal,
            severity: Severity::Medium,
            confidence: Confidence::Medium,
            location: Location {
                path: "a.csv".into(),
                line,
                column: 1,
                offset: 0,
            },
            value: value.into(),
            fingerprint: fingerprint("r", value),
            validator: None,
            line_text: Some(Arc::from(text)),
            count: None,
            blob: Arc::from(""),
            binary: false,
            git: None,
            triage: None,
            cell: None,
            process: None,
            column_values: None,
            decoded: None,
        }
    }

    #[test]
    fn a_line_with_many_values_masks_each_window_as_trying_every_value_would() {
        // A one-line export: 400 phones (some values containing others, some repeated),
        // each finding showing its own window of the line.
        let values: Vec<String> = (0..400)
            .map(|i| match i % 7 {
                0 => format!("1391234{:04}", i / 7),
                1 => format!("1391234{:04}", (i - 1) / 7 + 1),
                _ => format!("1380013{:04}", i),
            })
            .collect();
        let line: String = values
            .iter()
            .map(|v| format!("{{\"m\":\"{v}\"}},"))
            .collect();
        let found: Vec<Finding> = values
            .iter()
            .map(|v| {
                let at = line.find(v.as_str()).unwrap_or(0);
                let window = &line[at.saturating_sub(80)..(at + 160).min(line.len())];
                on_line(v, 1, window)
            })
            .collect();
        let lines = LineValues::new(&found);
        let all: Vec<&str> = found.iter().map(|f| f.value.as_str()).collect();
        for f in &found {
            let naive = f.shown_line(false, &all);
            assert_eq!(lines.shown_line(f, false), naive, "{}", f.value);
            assert!(naive.is_some_and(|n| !n.contains(f.value.as_str())));
        }
    }

    #[test]
    fn a_line_shown_again_is_the_same_and_others_are_not_mixed_up() {
        let row = "a,13912345678,440304198706151231";
        let found = vec![
            on_line("13912345678", 2, row),
            on_line("440304198706151231", 2, row),
            // Same line number, other excerpt (a long line cut around each value).
            on_line("440304198706151231", 2, "…,440304198706151231"),
            on_line("13800000000", 3, "b,13800000000"),
        ];
        let lines = LineValues::new(&found);
        let shown: Vec<String> = found
            .iter()
            .map(|f| lines.shown_line(f, false).unwrap_or_default())
            .collect();
        assert_eq!(shown[0], "a,13*******78,4403**********1231");
        assert_eq!(shown[1], shown[0]);
        assert_eq!(shown[2], "…,4403**********1231");
        assert_eq!(shown[3], "b,13*******00");
        // Revealing right after masking the same line shows it in clear.
        assert_eq!(lines.shown_line(&found[0], true).as_deref(), Some(row));
        // A finding the index does not hold still has its own value masked.
        let outsider = on_line("a", 2, row);
        assert_eq!(
            lines.shown_line(&outsider, false).unwrap_or_default(),
            "*,13*******78,4403**********1231"
        );
    }

    #[test]
    fn fingerprint_separates_rule_from_value() {
        assert_ne!(fingerprint("ab", ""), fingerprint("a", "b"));
    }
}
