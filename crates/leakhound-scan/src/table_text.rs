//! Big CSV, JSON and SQL exports matched window by window.
//!
//! Matched whole, a million-row export held every matched cell (six million findings,
//! 1.8 GB) until the end of the file, only to fold most of them into a few table-level
//! findings. Here each window of whole lines is matched, located, placed in its table
//! (one walk through the file, see [`leakhound_tables::places::Placer`]) and reported
//! or folded into its column before the next window is matched. Memory follows the
//! window and the columns' distinct values, not the findings. The findings are the
//! ones the whole file gives, as a test checks.
//!
//! Two things need the whole file and are carried across windows: a location trace
//! (the coordinates of all windows are counted before they are reported one by one or
//! as one trace), and the row numbering, which the placer keeps.

use crate::{locate, BlobFinding, Emitter, Scanner};
use leakhound_findings::{Finding, TableCell};
use leakhound_inputs::decode::{Decoded, Encoding};
use leakhound_matcher::{RawMatch, RuleIndex};
use leakhound_tables::places::{self, Placer};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};

/// Longest value matched across a window's end: a window reports the matches that
/// start before its last line start at least this far from its end, and the next
/// window starts there. Private keys are the longest values.
const MAX_OVERLAP: usize = 64 << 10;

/// Most bytes in a window. A window of a dense export holds about 35,000 findings
/// (6 MB) between matching and placing, and up to a dozen windows are matched ahead
/// or kept as buffers: with 4 MiB windows that was 150 MB more peak memory for no
/// speed.
pub(crate) const MAX_WINDOW: usize = 1 << 20;

impl Scanner {
    /// Is `blob`, at `path`, a text table big enough to be matched in windows?
    pub(crate) fn streams_table(
        &self,
        path: &str,
        blob: &Decoded<'_>,
        scoped: &[RuleIndex],
    ) -> bool {
        let bytes = blob.bytes();
        bytes.len() > self.options.table_window
            && scoped.is_empty()
            && places::is_text_table(path)
            && !leakhound_tables::is_binary_table(path, bytes)
            && !self.chunked(blob)
            && blob.encoding() != Encoding::Binary
    }

    /// Match, place and report the text table `blob` at `path` a window at a time.
    /// A thread per core matches and locates windows (three quarters of the work);
    /// this one places their findings in order and reports them or folds them into
    /// their columns.
    pub(crate) fn scan_table_text(
        &self,
        path: &str,
        blob: &Decoded<'_>,
        content_id: &str,
        report: &mut dyn FnMut(Finding),
    ) {
        let text = blob.text();
        let mut placed = Placed {
            text,
            placer: Placer::new(path, text),
            emitter: Emitter::new(self, path, content_id, false, (0, 0)),
            traces: self
                .matcher
                .aggregates()
                .iter()
                .map(|&(aggregate, counted, min_count)| Trace {
                    aggregate,
                    counted,
                    min_count,
                    count: 0,
                    first: None,
                    held: Vec::new(),
                })
                .collect(),
            names: TableNames::new(path),
        };
        // `--threads N` bounds the matching threads too; one means no other thread.
        let workers = match self.options.walk.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .min(4);
        let cursor = Cursor {
            at: Mutex::new(At::default()),
            placed: Condvar::new(),
            ahead: workers + 2,
            spare: Mutex::new(Vec::new()),
        };
        let (send, windows) = std::sync::mpsc::sync_channel::<Matched>(workers);
        // What was placed leaves memory (when the text is a mapped file) a window
        // late: the placer may look a little behind the window it places.
        let mut passed = 0;
        let mut pass_over = |placed_to: usize| {
            leakhound_inputs::read::pass_over(text.get(passed..placed_to).unwrap_or_default());
            passed = passed.max(placed_to);
        };
        std::thread::scope(|scope| {
            let mut started = 0;
            let matching = if workers > 1 { workers } else { 0 };
            for _ in 0..matching {
                let send = send.clone();
                let cursor = &cursor;
                let worker = std::thread::Builder::new()
                    .name("table-windows".into())
                    .spawn_scoped(scope, move || {
                        while let Some(matched) = self.match_window(text, cursor) {
                            if send.send(matched).is_err() {
                                return;
                            }
                        }
                    });
                started += usize::from(worker.is_ok());
            }
            drop(send);
            if started == 0 {
                // One thread asked for, or none to be had: match here, window after
                // window.
                while let Some(mut matched) = self.match_window(text, &cursor) {
                    placed.take(&mut matched.found, report);
                    cursor.placed(matched.n + 1);
                    cursor.give_back(matched.found);
                    pass_over(matched.start);
                }
                return;
            }
            // Windows come in the order they were matched; they are placed in the
            // order of the text (the placer walks it forward).
            let mut early = std::collections::BTreeMap::new();
            let mut next = 0;
            for matched in windows {
                early.insert(matched.n, matched);
                while let Some(mut matched) = early.remove(&next) {
                    placed.take(&mut matched.found, report);
                    next += 1;
                    cursor.placed(next);
                    cursor.give_back(matched.found);
                    pass_over(matched.start);
                }
            }
        });
        let Placed {
            traces,
            mut emitter,
            ..
        } = placed;
        for trace in traces {
            trace.finish(self, text, &mut emitter, report);
        }
        emitter.finish(report);
    }

    /// Claim the next window of `text` from `cursor`, and match and locate it.
    /// `None` when the text is done.
    fn match_window(&self, text: &[u8], cursor: &Cursor) -> Option<Matched> {
        let window = self.options.table_window.clamp(4096, MAX_WINDOW);
        let overlap = (window / 4).min(MAX_OVERLAP);
        let (n, start, end, owned, lines_before) = {
            let mut c = cursor.at.lock().ok()?;
            // Not too far ahead of the window being placed: matched windows wait
            // in memory until it is.
            while c.windows >= c.placed + cursor.ahead && c.start < text.len() {
                c = cursor.placed.wait(c).ok()?;
            }
            if c.start >= text.len() {
                return None;
            }
            let (start, lines_before, n) = (c.start, c.lines_before, c.windows);
            let (end, owned) = next_window(text, start, window, overlap);
            c.lines_before += memchr::memchr_iter(b'\n', &text[start..owned]).count() as u64;
            c.start = owned;
            c.windows += 1;
            (n, start, end, owned, lines_before)
        };
        let here = &text[start..end];
        let mut raw = self.matcher.scan_window(here);
        raw.retain(|m| m.start < owned - start);
        // A cell folded into its column never shows its line: its excerpt is made
        // only if it turns out not to be in a cell.
        let folds = |m: &RawMatch| {
            !self.options.each_cell
                && crate::columns::would_join(self.matcher.rule(m.rule).category, m.count)
        };
        let mut found = cursor.spare();
        locate::locate_deferring(here, &raw, &folds, &mut found);
        if self.options.decode_depth > 0 {
            self.add_decoded(here, &raw, &mut found);
        }
        for f in &mut found {
            f.line += lines_before;
            f.offset += start as u64;
            for (from, to) in [&mut f.excerpt_at, &mut f.value_at].into_iter().flatten() {
                *from += start as u64;
                *to += start as u64;
            }
        }
        Some(Matched { n, start, found })
    }
}

/// A window matched: its number, where it starts in the text, and its findings, at
/// their place in the whole text.
struct Matched {
    n: usize,
    start: usize,
    found: Vec<BlobFinding>,
}

/// The windows handed out to the matching threads, and how many were placed.
struct Cursor {
    at: Mutex<At>,
    /// Signalled when a window was placed.
    placed: Condvar,
    /// Most windows handed out and not yet placed.
    ahead: usize,
    /// Emptied findings buffers, for the next windows: a window's buffer is tens of
    /// megabytes on a dense export, and a new one each time came as fresh pages from
    /// the kernel (page faults were 4% of the run).
    spare: Mutex<Vec<Vec<BlobFinding>>>,
}

/// Where the next window starts, the lines before it, the windows handed out and the
/// windows placed.
#[derive(Default)]
struct At {
    start: usize,
    lines_before: u64,
    windows: usize,
    placed: usize,
}

impl Cursor {
    /// An empty buffer for a window's findings.
    fn spare(&self) -> Vec<BlobFinding> {
        self.spare
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_default()
    }

    /// `found`, emptied, is free for another window.
    fn give_back(&self, mut found: Vec<BlobFinding>) {
        found.clear();
        if let Ok(mut spare) = self.spare.lock() {
            if spare.len() < self.ahead {
                spare.push(found);
            }
        }
    }

    /// `n` windows are placed: threads waiting to match more may go on.
    fn placed(&self, n: usize) {
        if let Ok(mut at) = self.at.lock() {
            at.placed = n;
        }
        self.placed.notify_all();
    }
}

/// What places a table's findings, window after window, and reports them.
struct Placed<'s, 't> {
    text: &'t [u8],
    placer: Placer<'t>,
    emitter: Emitter<'s>,
    traces: Vec<Trace>,
    names: TableNames,
}

impl Placed<'_, '_> {
    /// Place one window's findings and report them, or hold them for a trace.
    fn take(&mut self, found: &mut Vec<BlobFinding>, report: &mut dyn FnMut(Finding)) {
        let offsets: Vec<usize> = found
            .iter()
            .map(|f| usize::try_from(f.offset).unwrap_or(usize::MAX))
            .collect();
        let cells = self.placer.place(&offsets);
        for (mut bf, place) in found.drain(..).zip(cells) {
            let cell = place.map(|p| TableCell {
                name: self.names.name(p.table),
                column: p.column,
                row: p.row,
            });
            if let (None, Some((from, to))) = (&cell, bf.excerpt_at.take()) {
                let (from, to) = (usize::try_from(from), usize::try_from(to));
                if let (Ok(from), Ok(to)) = (from, to) {
                    bf.line_text = locate::excerpt(self.text, from, to).into();
                }
            }
            let at = bf.value_at.take().map(|(from, to)| {
                let (from, to) = (usize::try_from(from), usize::try_from(to));
                let (from, to) = (from.unwrap_or(usize::MAX), to.unwrap_or(usize::MAX));
                String::from_utf8_lossy(self.text.get(from..to).unwrap_or_default())
            });
            match self
                .traces
                .iter_mut()
                .find(|t| t.counted == bf.rule && bf.decoded.is_none())
            {
                Some(trace) => {
                    if let Some(value) = at {
                        bf.value = value.into_owned();
                    }
                    trace.hold(bf, cell)
                }
                None => match &at {
                    Some(value) => self.emitter.emit_valued(&bf, value, cell, report),
                    None => self.emitter.emit(&bf, cell, report),
                },
            }
        }
    }
}

/// The window from `start`: its end, and where the next window starts (the last
/// line start at least `overlap` before the end, or the end of the text). A line
/// longer than a window widens the window until it ends: windows start at line
/// starts, so columns and the look-behind of matches are the whole file's.
fn next_window(text: &[u8], start: usize, window: usize, overlap: usize) -> (usize, usize) {
    let mut end = start.saturating_add(window).min(text.len());
    loop {
        if end == text.len() {
            return (end, end);
        }
        let limit = end.saturating_sub(overlap).max(start);
        if let Some(i) = memchr::memrchr(b'\n', &text[start..limit]) {
            return (end, start + i + 1);
        }
        end = end.saturating_add(window).min(text.len());
    }
}

/// The matches of a counted rule (GPS positions) across all windows: reported one by
/// one if fewer than `min_count`, else as one `aggregate` finding at the first, as a
/// whole-file match reports them.
struct Trace {
    aggregate: RuleIndex,
    counted: RuleIndex,
    min_count: usize,
    count: usize,
    /// The first counted match: where the trace is reported.
    first: Option<(usize, usize, Option<TableCell>)>,
    /// The matches so far, until there are enough for a trace.
    held: Vec<(BlobFinding, Option<TableCell>)>,
}

impl Trace {
    fn hold(&mut self, bf: BlobFinding, cell: Option<TableCell>) {
        self.count += 1;
        if self.first.is_none() {
            let start = usize::try_from(bf.offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(bf.value.len());
            self.first = Some((start, end, cell.clone()));
        }
        if self.count >= self.min_count {
            self.held = Vec::new();
        } else {
            self.held.push((bf, cell));
        }
    }

    fn finish(
        self,
        scanner: &Scanner,
        text: &[u8],
        emitter: &mut Emitter<'_>,
        report: &mut dyn FnMut(Finding),
    ) {
        if self.count < self.min_count {
            for (bf, cell) in self.held {
                emitter.emit(&bf, cell, report);
            }
            return;
        }
        let Some((start, end, cell)) = self.first else {
            return;
        };
        let trace = RawMatch {
            rule: self.aggregate,
            start,
            end,
            confidence: scanner.matcher.rule(self.aggregate).confidence,
            count: Some(self.count as u64),
            doubtful: false,
        };
        for bf in locate::locate(text, &[trace]) {
            emitter.emit(&bf, cell.clone(), report);
        }
    }
}

/// One copy of each table's name (`dump.sql!customers`) for all of its cells.
struct TableNames {
    path: Arc<str>,
    tables: HashMap<Arc<str>, Arc<str>>,
}

impl TableNames {
    fn new(path: &str) -> TableNames {
        TableNames {
            path: Arc::from(path),
            tables: HashMap::new(),
        }
    }

    fn name(&mut self, table: Option<Arc<str>>) -> Arc<str> {
        match table {
            None => Arc::clone(&self.path),
            Some(table) => {
                let path = &self.path;
                Arc::clone(
                    self.tables
                        .entry(table)
                        .or_insert_with_key(|t| Arc::from(format!("{path}!{t}"))),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{ScanOptions, Scanner};

    fn scanner(table_window: usize, each_cell: bool) -> Scanner {
        let rules = leakhound_rules::RuleSet::builtin().expect("rules");
        let matcher = leakhound_matcher::Matcher::new(&rules).expect("matcher");
        Scanner::new(
            matcher,
            ScanOptions {
                table_window,
                each_cell,
                ..ScanOptions::default()
            },
        )
    }

    /// Every finding of `text` at `path`, in report order, as text (all fields).
    fn found(s: &Scanner, path: &str, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        s.scan_blob(path, text.as_bytes(), &mut |f| out.push(f));
        leakhound_findings::sort_for_report(&mut out);
        out.iter().map(|f| format!("{f:?}")).collect()
    }

    fn mobile(i: usize) -> String {
        format!("139{:08}", 10_000_000 + i * 7)
    }

    /// A customer export with a header, quoted cells over two lines, a secret, a few
    /// GPS positions per file, and values in every row.
    fn csv(rows: usize, positions: usize) -> String {
        let mut t = String::from("序号,姓名,身份证号,手机,备注,位置\n");
        for i in 0..rows {
            let note = match i % 97 {
                0 => "\"两行\n备注, 含逗号\"".to_string(),
                5 => "DB_URL=mysql://app:Sup3r-s3cret@10.0.0.5/crm".to_string(),
                _ => format!("r{i}"),
            };
            let at = if i % (rows / positions.max(1)).max(1) == 0
                && i / (rows / positions.max(1)).max(1) < positions
            {
                format!("\"31.{:06},121.473700\"", 230_400 + i)
            } else {
                String::new()
            };
            t.push_str(&format!(
                "{i},客户{i},440304198706151231,{},{note},{at}\n",
                mobile(i)
            ));
        }
        t
    }

    fn jsonl(rows: usize) -> String {
        (0..rows)
            .map(|i| {
                format!(
                    "{{\"id\": {i}, \"contact\": {{\"mobile\": \"{}\", \"email\": \"u{i}@carmaker.cn\"}}, \"vin\": \"LSVAU218XN2183294\"}}\n",
                    mobile(i)
                )
            })
            .collect()
    }

    fn sql(rows: usize) -> String {
        let mut t = String::from(
            "-- 13900000000 in a comment\nCREATE TABLE `customers` (\n  `id` int,\n  `mobile` varchar(20),\n  `note` text\n);\n",
        );
        for chunk in 0..rows / 50 {
            let tuples: Vec<String> = (0..50)
                .map(|k| {
                    let i = chunk * 50 + k;
                    format!("({i},'{}','it''s ok')", mobile(i))
                })
                .collect();
            t.push_str(&format!(
                "INSERT INTO `customers` VALUES {};\n",
                tuples.join(",")
            ));
            if chunk == 30 {
                // Outside any row: a finding of its own, with its line.
                t.push_str("-- called 13812345678 about it\n");
            }
            if chunk % 7 == 0 {
                t.push_str(&format!(
                    "INSERT INTO `cars` (`k`, `vin`) VALUES ('q{chunk}','LSVAU218XN2183294');\n"
                ));
            }
        }
        t
    }

    fn json(rows: usize) -> String {
        let records: Vec<String> = (0..rows)
            .map(|i| {
                format!(
                    "  {{\"name\": \"客户{i}\",\n   \"mobile\": \"{}\"}}",
                    mobile(i)
                )
            })
            .collect();
        format!("{{\"data\": [\n{}\n]}}\n", records.join(",\n"))
    }

    /// Matched in 4 KiB windows, an export gives exactly the findings it gives matched
    /// whole, per cell and per column: rows, columns and tables carried across
    /// windows, multi-line cells cut by a window edge, secrets, and GPS positions
    /// counted over the whole file (a trace when there are 20 or more).
    #[test]
    fn windows_give_the_findings_of_the_whole_file() {
        let files = [
            ("a.csv", csv(3000, 30)),
            ("few.csv", csv(3000, 5)),
            ("b.jsonl", jsonl(1500)),
            ("c.sql", sql(3000)),
            ("d.json", json(2000)),
        ];
        for each_cell in [false, true] {
            let whole = scanner(usize::MAX, each_cell);
            let windowed = scanner(4096, each_cell);
            for (path, text) in &files {
                assert!(text.len() > 20 * 4096, "{path} must cross many windows");
                let expected = found(&whole, path, text);
                let least = if each_cell { 1000 } else { 1 };
                assert!(expected.len() >= least, "{path}: {}", expected.len());
                let got = found(&windowed, path, text);
                assert_eq!(got.len(), expected.len(), "{path}, each cell: {each_cell}");
                for (g, e) in got.iter().zip(&expected) {
                    assert_eq!(g, e, "{path}, each cell: {each_cell}");
                }
            }
        }
    }

    /// With `--threads 1` the windows are matched on the scanning thread, with the
    /// same findings.
    #[test]
    fn one_thread_gives_the_same_findings() {
        let text = sql(3000);
        let mut one = scanner(4096, false);
        one.options.walk.threads = 1;
        let expected = found(&scanner(usize::MAX, false), "c.sql", &text);
        assert_eq!(found(&one, "c.sql", &text), expected);
    }

    /// A big table's result is not kept: a copy of it is matched again, reported at
    /// its own path, and counted as a copy.
    #[test]
    fn a_copy_of_a_big_table_is_found_and_counted_as_a_copy() {
        let s = scanner(4096, false);
        let text = csv(3000, 0);
        let first = found(&s, "a.csv", &text);
        let copy = found(&s, "copy/a.csv", &text);
        assert!(!first.is_empty());
        assert_eq!(copy.len(), first.len());
        assert!(copy.iter().all(|f| f.contains("copy/a.csv")));
        let copies = s
            .counters
            .duplicates
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(copies, 1);
    }

    #[test]
    fn the_tests_cover_what_they_claim() {
        let s = scanner(4096, false);
        let trace = found(&s, "a.csv", &csv(3000, 30));
        assert!(trace.iter().any(|f| f.contains("location-trace")));
        assert!(trace.iter().any(|f| f.contains("mysql-url-password")));
        let few = found(&s, "few.csv", &csv(3000, 5));
        assert!(few.iter().any(|f| f.contains("gps-coordinate")));
        assert!(!few.iter().any(|f| f.contains("location-trace")));
        let dump = found(&s, "c.sql", &sql(3000));
        assert!(dump.iter().any(|f| f.contains("c.sql!cars")));
        assert!(dump
            .iter()
            .any(|f| f.contains("cell: None") && f.contains("called 13812345678")));
    }

    /// A mapped export's pages leave memory as it is hashed, as its table's quotes
    /// and text are checked and as its windows are placed: a 1.4 GB dump is never
    /// resident whole. The findings are the ones the text gives in memory.
    #[test]
    fn a_mapped_table_is_never_resident_whole() {
        use std::io::Write;
        for (path, quoted) in [("a.csv", false), ("b.csv", true), ("c.sql", false)] {
            let mut text = match path {
                "c.sql" => {
                    String::from("CREATE TABLE `t` (`id` int, `mobile` text, `note` text);\n")
                }
                _ => String::from("id,mobile,note\n"),
            };
            let mut i = 0;
            while text.len() < 24 << 20 {
                let note = "plain words that match nothing at all, only to fill the row";
                let m = mobile(i % 50_000);
                text.push_str(&match (path, quoted) {
                    ("c.sql", _) => format!("INSERT INTO `t` VALUES ({i},'{m}','{note}');\n"),
                    (_, true) => format!("{i},{m},\"{note}, quoted\"\n"),
                    _ => format!("{i},{m},{note}\n"),
                });
                i += 1;
            }
            let mut file = tempfile::NamedTempFile::new().expect("temp file");
            file.write_all(text.as_bytes()).expect("write");
            file.flush().expect("flush");
            let s = scanner(256 << 10, true);
            let expected = found(&s, path, &text);
            let bytes = leakhound_inputs::read::read_file(file.path()).expect("read");
            assert!(matches!(
                bytes,
                leakhound_inputs::read::FileBytes::Mapped(_)
            ));
            let before = leakhound_inputs::read::mapped_resident_kib();
            let mut most = before;
            let mut got = Vec::new();
            s.scan_blob(path, &bytes, &mut |f| {
                if got.len() % 2000 == 0 {
                    most = most.max(leakhound_inputs::read::mapped_resident_kib());
                }
                got.push(f)
            });
            leakhound_findings::sort_for_report(&mut got);
            let got: Vec<String> = got.iter().map(|f| format!("{f:?}")).collect();
            assert_eq!(got, expected, "{path}");
            if cfg!(target_os = "linux") {
                assert!(
                    most < before + (8 << 10),
                    "{path}: resident file pages grew {before} -> {most} kB over a {} kB file",
                    text.len() >> 10
                );
            }
        }
    }
}
