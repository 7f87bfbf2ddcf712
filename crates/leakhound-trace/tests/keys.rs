//! The key is what makes the index useful: the same dump matched with another key
//! finds nothing, even when the key check is bypassed.

use leakhound_inputs::Limits;
use leakhound_tables::read_blob;
use leakhound_trace::{canary, BuildOptions, CanarySet, Index, IndexBuilder, Key, Matcher};

fn table(n: u64) -> String {
    let k =
        Key::from_bytes(b"population generator key for tests").unwrap_or_else(|e| panic!("{e}"));
    let mut s = String::from("name,id_card,mobile,email\n");
    for j in 0..n {
        let c = canary(&k, "people", j, 0);
        s.push_str(&format!(
            "{},{},{},{}\n",
            c.name, c.resident_id, c.mobile, c.email
        ));
    }
    s
}

fn matched(index: &Index, key: &Key, dump: &str) -> u64 {
    let canaries = CanarySet::new(key, &[], index);
    let mut m = Matcher::new(key, index, &canaries);
    read_blob("dump.csv", dump.as_bytes(), &Limits::default(), &mut m);
    m.report().matched_rows
}

#[test]
fn the_wrong_key_matches_nothing() {
    let right = Key::from_bytes(b"the right key, long enough").unwrap_or_else(|e| panic!("{e}"));
    let wrong = Key::from_bytes(b"the wrong key, long enough").unwrap_or_else(|e| panic!("{e}"));
    let csv = table(300);
    let mut b = IndexBuilder::new(&right, BuildOptions::default());
    read_blob("customers.csv", csv.as_bytes(), &Limits::default(), &mut b);
    assert_eq!(b.records(), 300);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("idx");
    b.write(&path).unwrap_or_else(|e| panic!("{e}"));

    assert!(matches!(
        Index::open(&path, &wrong),
        Err(leakhound_trace::TraceError::WrongKey)
    ));
    let index = Index::open_unchecked(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(matched(&index, &right, &csv), 300);
    assert_eq!(matched(&index, &wrong, &csv), 0);
}

#[test]
fn a_damaged_index_is_an_error_not_a_crash() {
    let key = Key::from_bytes(b"the right key, long enough").unwrap_or_else(|e| panic!("{e}"));
    let csv = table(50);
    let mut b = IndexBuilder::new(&key, BuildOptions::default());
    read_blob("customers.csv", csv.as_bytes(), &Limits::default(), &mut b);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("idx");
    b.write(&path).unwrap_or_else(|e| panic!("{e}"));
    let whole = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    for cut in [0, 7, 20, whole.len() / 2, whole.len() - 1] {
        std::fs::write(&path, &whole[..cut]).unwrap_or_else(|e| panic!("{e}"));
        assert!(Index::open(&path, &key).is_err(), "cut at {cut}");
    }
    let mut longer = whole.clone();
    longer.push(0);
    std::fs::write(&path, &longer).unwrap_or_else(|e| panic!("{e}"));
    assert!(Index::open(&path, &key).is_err(), "trailing bytes");
}
