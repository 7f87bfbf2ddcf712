//! Any bytes as a CSV/TSV, SQL dump, JSON Lines or JSON file, read by the streaming readers
//! (the path a large export takes) and read whole: the error paths (stray quotes,
//! unterminated strings, bad lines, broken encodings) must never panic or hang, and a
//! clean CSV must give the same row count both ways.
//! Run: `cargo fuzz run stream_readers`.
#![no_main]

use leakhound_tables::{read_blob, read_path, Table, TableSink};
use leakhound_tables::Meter;
use leakhound_inputs::{Limits, Problem};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &["t.csv", "t.tsv", "t.sql", "t.jsonl", "t.csv.gz", "t.json"];

#[derive(Default)]
struct Count {
    rows: u64,
    problems: u64,
}

impl TableSink for Count {
    fn table(&mut self, t: Table<'_>) {
        self.rows += t.rows.vecs().count() as u64;
    }
    fn problem(&mut self, _problem: Problem) {
        self.problems += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let dir = std::env::temp_dir().join(format!("leakhound-fuzz-stream-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join(name);
    if std::fs::write(&path, rest).is_err() {
        return;
    }
    let limits = Limits { max_expanded_size: 64 << 20, ..Limits::default() };
    let mut streamed = Count::default();
    read_path(&path, name, &limits, 0, &Meter::default(), &mut streamed);
    let mut whole = Count::default();
    read_blob(name, rest, &limits, &mut whole);
    // Plain ASCII CSV with no quotes, CR or NUL: both readers see the same records.
    let plain = name == "t.csv"
        && rest.iter().all(|&b| b == b'\n' || (b' '..=b'~').contains(&b) && b != b'"');
    if plain && streamed.problems == 0 && whole.problems == 0 {
        assert_eq!(streamed.rows, whole.rows);
    }
    // A JSON document both readers take whole has the same records both ways.
    if name == "t.json" && streamed.problems == 0 && whole.problems == 0 {
        assert_eq!(streamed.rows, whole.rows);
    }
});
