//! Any bytes, under any table file name, through every table reader (CSV, JSON, SQL
//! dumps, spreadsheets, Parquet, SQLite), the classifier, and the offset-to-cell walkers
//! the scanner uses (`places`): must never panic.
//! Run: `cargo fuzz run table_readers` (needs a nightly toolchain and cargo-fuzz).
#![no_main]

use leakhound_tables::{read_blob, Table, TableSink};
use leakhound_inputs::{Limits, Problem};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "t.csv", "t.tsv", "t.json", "t.jsonl", "t.sql", "t.xlsx", "t.xls", "t.ods", "t.parquet", "t.db",
];

struct Drain;
impl TableSink for Drain {
    fn table(&mut self, t: Table<'_>) {
        let sample: Vec<Vec<String>> = t.rows.vecs().take(100).collect();
        let context: Vec<_> = t.columns.iter().map(|c| leakhound_assess::Column::new(c)).collect();
        let _ = leakhound_assess::classify(&t.columns, &context, &sample);
    }
    fn problem(&mut self, _problem: Problem) {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let limits = Limits { max_expanded_size: 64 << 20, ..Limits::default() };
    read_blob(name, rest, &limits, &mut Drain);
    let offsets: Vec<u64> = (0..rest.len() as u64 + 1).step_by(7).collect();
    let places = leakhound_tables::places::places(name, rest, &offsets);
    assert_eq!(places.len(), offsets.len());
});
