//! Text encodings and binary files.

use crate::tree::{compact, scan_jsonl, values::*, Tree};

fn customer_table() -> String {
    format!(
        "姓名,身份证号,手机,车牌\n张伟,{ID1},{MOBILE},粤B8K3Q1\n王芳,{ID2},18600001234,京A12345\n"
    )
}

/// The same findings apart from the file name.
fn without_paths(findings: &[serde_json::Value]) -> Vec<String> {
    compact(findings)
        .into_iter()
        .map(|s| {
            let (rule, rest) = s.split_once(' ').unwrap_or((&s, ""));
            let (_, pos) = rest.split_once(':').unwrap_or(("", rest));
            format!("{rule} {pos}")
        })
        .collect()
}

#[test]
fn gbk_csv_gives_the_same_findings_as_its_utf8_twin() {
    let text = customer_table();
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    let t = Tree::new();
    t.file("utf8.csv", &text).file("gbk.csv", gbk.as_ref());
    let (found, _) = scan_jsonl(t.path(), &["--reveal", "--each-cell"]);
    let utf8: Vec<_> = found
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with("utf8.csv")))
        .cloned()
        .collect();
    let gbk: Vec<_> = found
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with("gbk.csv")))
        .cloned()
        .collect();
    assert_eq!(utf8.len(), 6, "{:?}", compact(&utf8));
    assert_eq!(without_paths(&utf8), without_paths(&gbk));
}

#[test]
fn utf16_with_bom_gives_the_same_findings() {
    let text = customer_table();
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
    let t = Tree::new();
    t.file("a-utf8.csv", &text)
        .file("b-utf16le.csv", le)
        .file("c-utf16be.csv", be);
    let (found, _) = scan_jsonl(t.path(), &["--reveal", "--each-cell"]);
    let by = |name: &str| -> Vec<String> {
        let v: Vec<_> = found
            .iter()
            .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .cloned()
            .collect();
        without_paths(&v)
    };
    assert_eq!(by("a-utf8.csv").len(), 6);
    assert_eq!(by("a-utf8.csv"), by("b-utf16le.csv"));
    assert_eq!(by("a-utf8.csv"), by("c-utf16be.csv"));
}

#[test]
fn binary_files_are_searched_for_embedded_text_without_flooding() {
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 100));
    elf.extend(format!("aws_key={AWS_ID}\0").as_bytes());
    elf.extend(std::iter::repeat_n(0xFFu8, 100));
    let mut flood = b"\x00\x01binary".to_vec();
    for _ in 0..500 {
        flood.extend(format!("\0{GITHUB}").as_bytes());
    }
    let t = Tree::new();
    t.file("app.so", elf).file("flood.bin", flood);
    let (found, run) = scan_jsonl(t.path(), &["--reveal"]);
    assert_eq!(run.code, 1);
    let elf_hits: Vec<_> = found
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with("app.so")))
        .collect();
    assert_eq!(elf_hits.len(), 1);
    assert_eq!(elf_hits[0]["match"], AWS_ID);
    assert_eq!(elf_hits[0]["binary"], true);
    let flood_hits = found
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with("flood.bin")))
        .count();
    assert_eq!(flood_hits, 20, "binary findings are capped");
}

#[test]
fn invalid_utf8_junk_and_huge_lines_do_not_crash() {
    let mut junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    junk.extend(format!("\n{GITHUB}\n").as_bytes());
    let huge_line = format!("{}\"{GITHUB}\"{}", "x".repeat(3_000_000), "y".repeat(100));
    let t = Tree::new();
    t.file("junk.dat", junk).file("minified.js", huge_line);
    let (found, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found.len(), 2, "{:?}", compact(&found));
    let minified = found
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("minified.js"))
        })
        .expect("minified finding");
    assert_eq!(minified["column"], 3_000_002);
    assert!(minified["line_text"].as_str().map_or(0, str::len) <= 240);
}
