//! Archives and compressed files: member paths, nesting, and hostile archives.

use crate::tree::{compact, run_in, scan_jsonl, values::*, Tree};
use std::io::{Cursor, Write};

pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in members {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file(*name, opts).expect("zip member");
            w.write_all(data).expect("zip write");
        }
        w.finish().expect("zip finish");
    }
    buf.into_inner()
}

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gz");
    e.finish().expect("gz finish")
}

pub fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("tar append");
    }
    b.into_inner().expect("tar finish")
}

fn rows() -> String {
    format!("id,card\n1,{ID1}\n")
}

fn paths_of(found: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = found
        .iter()
        .filter_map(|f| f["path"].as_str())
        .map(|p| p.trim_start_matches("./").to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn members_get_one_bang_per_layer() {
    let inner = zip_of(&[("export/customers.csv", rows().as_bytes())]);
    let t = Tree::new();
    t.file(
        "outer.zip",
        zip_of(&[
            ("inner/dir/file.csv", rows().as_bytes()),
            ("nested.zip", &inner),
        ]),
    )
    .file(
        "backup.tar.gz",
        gz(&tar_of(&[("db/users.csv", rows().as_bytes())])),
    )
    .file("plain.tar", tar_of(&[("etc/x.csv", rows().as_bytes())]))
    .file("dump.sql.gz", gz(rows().as_bytes()))
    .file(
        "report.docx",
        zip_of(&[("word/document.xml", format!("<w:t>{ID1}</w:t>").as_bytes())]),
    );
    let (found, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        paths_of(&found),
        vec![
            "backup.tar.gz!db/users.csv",
            "dump.sql.gz!dump.sql",
            "outer.zip!inner/dir/file.csv",
            "outer.zip!nested.zip!export/customers.csv",
            "plain.tar!etc/x.csv",
            "report.docx!word/document.xml",
        ]
    );
    assert!(found.iter().all(|f| f["rule"] == "cn-resident-id"));
}

#[test]
fn every_compression_format_opens() {
    let data = rows();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(data.as_bytes()).expect("bz2");
    let bz = bz.finish().expect("bz2 finish");
    let zst = ruzstd::encoding::compress_to_vec(
        data.as_bytes(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let mut xz =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).expect("xz");
    xz.write_all(data.as_bytes()).expect("xz write");
    let xz = xz.finish().expect("xz finish");
    let t = Tree::new();
    t.file("a.csv.bz2", bz)
        .file("b.csv.zst", zst)
        .file("c.csv.xz", xz)
        .file("d.tgz", gz(&tar_of(&[("x.csv", data.as_bytes())])));
    let (found, run) = scan_jsonl(t.path(), &[]);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(
        paths_of(&found),
        vec![
            "a.csv.bz2!a.csv",
            "b.csv.zst!b.csv",
            "c.csv.xz!c.csv",
            "d.tgz!x.csv"
        ]
    );
}

#[test]
fn hostile_archives_are_reported_and_skipped_not_fatal() {
    let bomb = zip_of(&[("zeros.bin", &vec![0u8; 30 << 20])]);
    let traversal = zip_of(&[
        ("../../etc/cron.d/evil", b"x"),
        ("fine.csv", rows().as_bytes()),
    ]);
    let mut truncated = zip_of(&[("a.csv", rows().as_bytes())]);
    truncated.truncate(25);
    let t = Tree::new();
    t.file("bomb.zip", bomb)
        .file("evil.zip", traversal)
        .file("broken.zip", truncated)
        .file("ok.env", format!("T={GITHUB}\n"));
    let (found, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("bomb.zip!zeros.bin") && run.stderr.contains("zip bomb"),
        "{}",
        run.stderr
    );
    // `../../etc/cron.d/evil` is scanned as `evil.zip!etc/cron.d/evil` (hardening issue):
    // skipping it let a crafted archive hide content.
    assert!(!run.stderr.contains("path traversal"), "{}", run.stderr);
    assert!(
        run.stderr.contains("broken.zip") && run.stderr.contains("corrupt zip"),
        "{}",
        run.stderr
    );
    assert_eq!(paths_of(&found), vec!["evil.zip!fine.csv", "ok.env"]);
}

/// Issue 21: a zip cut short in transfer has no central directory, but its first
/// members are intact: they are scanned as members, not as the archive's raw bytes.
#[test]
fn a_truncated_zip_gives_up_its_intact_members() {
    let env = format!("GITHUB_TOKEN={GITHUB}\n");
    let filler: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let mut cut = zip_of(&[("app/.env", env.as_bytes()), ("data.bin", &filler)]);
    cut.truncate(cut.len() / 2);
    let t = Tree::new();
    t.file("cut.zip", cut);
    let (found, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(paths_of(&found), vec!["cut.zip!app/.env"]);
    assert!(
        run.stderr.contains("1 member(s) recovered")
            || run.stderr.contains("2 member(s) recovered"),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_are_options() {
    let mut nested = zip_of(&[("deep.csv", rows().as_bytes())]);
    for i in 0..3 {
        nested = zip_of(&[(&format!("layer{i}.zip"), &nested)]);
    }
    let t = Tree::new();
    t.file("n.zip", &nested);
    let (found, _) = scan_jsonl(t.path(), &[]);
    assert_eq!(found.len(), 1, "default depth opens 4 layers");
    let (found, run) = scan_jsonl(t.path(), &["--max-depth", "2"]);
    assert!(found.is_empty());
    assert!(run.stderr.contains("--max-depth"), "{}", run.stderr);
    let filler: String = (0..200_000u64)
        .map(|i| format!("{i},{}\n", i.wrapping_mul(2654435761) % 1_000_003))
        .collect();
    let big = zip_of(&[("big.csv", format!("{filler}{}", rows()).as_bytes())]);
    t.file("big.zip", big);
    let run = run_in(t.path(), &["scan", "--max-expanded-size", "1M", "big.zip"]);
    assert!(run.stderr.contains("--max-expanded-size"), "{}", run.stderr);
    assert_eq!(run.code, 0);
    let (found, _) = scan_jsonl(t.path(), &["big.zip"]);
    assert_eq!(
        compact(&found).len(),
        1,
        "within the default budget it is scanned"
    );
}
