//! `leakhound trace`: index a synthetic customer table, then match samples of it
//! (renamed, reordered, reformatted, masked), strangers and a mix, with exact counts;
//! canaries of two recipients in one dump name both; the index holds no raw value; a
//! wrong key is refused.

use crate::tree::{run_in, Run, Tree};
use leakhound_trace::{canary, Canary, Key};
use serde_json::Value;
use std::collections::HashSet;

const CUSTOMERS: u64 = 400;

/// Synthetic people: valid IDs, phones, VINs and plates, none of them real. Canaries
/// of an unrelated key serve as a population generator.
fn people(group: &str, n: u64) -> Vec<Canary> {
    let k =
        Key::from_bytes(b"population generator key for tests").unwrap_or_else(|e| panic!("{e}"));
    (0..n).map(|j| canary(&k, group, j, 0)).collect()
}

/// Customer `i`'s record date: spread over 2019-03 .. 2021-08.
fn created(i: u64) -> String {
    let month = 2 + i % 30; // months since 2019-01, 0-based
    format!(
        "{}-{:02}-{:02} 10:00:00",
        2019 + month / 12,
        month % 12 + 1,
        1 + i % 28
    )
}

fn customers_csv() -> String {
    let mut s = String::from(
        "customer_id,姓名,身份证号,手机号,邮箱,车架号,车牌,出生日期,created_at,金额\n",
    );
    for (i, p) in people("customers", CUSTOMERS).iter().enumerate() {
        s.push_str(&format!(
            "C{:05},{},{},{},{},{},{},{},{},{}.50\n",
            i + 1,
            p.name,
            p.resident_id,
            p.mobile,
            p.email,
            p.vin,
            p.plate,
            p.birth_date,
            created(i as u64),
            100 + i
        ));
    }
    s
}

/// `13800138000` as `+86 138 0013 8000`.
fn spaced(m: &str) -> String {
    format!("+86 {} {} {}", &m[..3], &m[3..7], &m[7..])
}

/// A leaked-looking sample of customers `range`: other column names and order,
/// reformatted values; the last `masked` rows hold only masked ID and phone.
fn reformatted(people: &[Canary], masked: usize) -> String {
    let mut s = String::from("MAIL,note,证件号码,Contact\n");
    let plain = people.len() - masked;
    for (i, p) in people.iter().enumerate() {
        if i < plain {
            s.push_str(&format!(
                "{},vip,{},{}\n",
                p.email.to_uppercase(),
                p.resident_id.to_lowercase(),
                spaced(&p.mobile)
            ));
        } else {
            let id = &p.resident_id;
            let m = &p.mobile;
            s.push_str(&format!(
                ",,{}********{},{}****{}\n",
                &id[..6],
                &id[14..],
                &m[..3],
                &m[7..]
            ));
        }
    }
    s
}

/// Make the key `k` in `dir` and index `sources` into `idx` with `extra` options;
/// both must succeed. Returns the index run (its stderr says what was indexed).
pub(crate) fn key_and_index(dir: &std::path::Path, extra: &[&str], sources: &[&str]) -> Run {
    let key = run_in(dir, &["trace", "key", "--out", "k"]);
    assert_eq!(key.code, 0, "{}", key.stderr);
    let mut args = vec!["trace", "index", "--key-file", "k", "--out", "idx"];
    args.extend_from_slice(extra);
    args.extend_from_slice(sources);
    let index = run_in(dir, &args);
    assert_eq!(index.code, 0, "{}", index.stderr);
    index
}

struct Traced {
    tree: Tree,
}

impl Traced {
    fn new() -> Traced {
        let tree = Tree::new();
        tree.file("customers.csv", customers_csv());
        let index = key_and_index(
            tree.path(),
            &["--id-col", "customer_id", "--date-col", "created_at"],
            &["customers.csv"],
        );
        assert!(
            index.stderr.contains("indexed 400 records"),
            "{}",
            index.stderr
        );
        Traced { tree }
    }

    fn matching(&self, dump: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "trace",
            "match",
            "--key-file",
            "k",
            "idx",
            dump,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = run_in(self.tree.path(), &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    }
}

fn dates(first: u64, last: u64) -> (String, String) {
    let all: Vec<String> = (first..last)
        .map(|i| created(i)[..10].to_string())
        .collect();
    (
        all.iter().min().cloned().unwrap_or_default(),
        all.iter().max().cloned().unwrap_or_default(),
    )
}

#[test]
fn a_renamed_reordered_reformatted_sample_is_ours() {
    let t = Traced::new();
    let customers = people("customers", CUSTOMERS);
    t.tree.file("leak.csv", reformatted(&customers[..200], 50));
    let r = t.matching("leak.csv", &["--list-matches", "ids.txt"]);
    assert_eq!(r["rows"], 200);
    assert_eq!(r["matched_rows"], 200);
    assert_eq!(r["match_rate"], 1.0);
    assert_eq!(r["verdict"], "genuine");
    assert_eq!(r["matched_by"]["email"], 150);
    assert_eq!(r["matched_by"]["resident_id"], 150);
    assert_eq!(r["matched_by"]["mobile"], 150);
    assert_eq!(r["matched_by"]["resident_id_masked"], 50);
    assert_eq!(r["matched_by"]["mobile_masked"], 50);
    assert_eq!(r["not_ours"]["rows"], 0);
    let (first, last) = dates(0, 200);
    assert_eq!(r["date_range"]["first"], first.as_str());
    assert_eq!(r["date_range"]["last"], last.as_str());
    assert_eq!(r["canaries"], Value::Array(vec![]));
    let ids = std::fs::read_to_string(t.tree.join("ids.txt")).unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<String> = (1..=200).map(|i| format!("C{i:05}")).collect();
    assert_eq!(ids.lines().collect::<Vec<_>>(), expected);
    let human = run_in(
        t.tree.path(),
        &["trace", "match", "--key-file", "k", "idx", "leak.csv"],
    );
    assert!(
        human.stdout.starts_with("Verdict: genuine: 200 of 200 rows match customer records (100.0%); all created 2019-03 to 2021-08."),
        "{}",
        human.stdout
    );
}

#[test]
fn strangers_match_nothing_and_a_mix_matches_exactly_its_share() {
    let t = Traced::new();
    let customers = people("customers", CUSTOMERS);
    let strangers = people("strangers", 100);
    t.tree.file("strangers.csv", reformatted(&strangers, 0));
    let r = t.matching("strangers.csv", &[]);
    assert_eq!(r["rows"], 100);
    assert_eq!(r["matched_rows"], 0);
    assert_eq!(r["verdict"], "not ours");
    assert_eq!(r["not_ours"]["rows"], 100);
    assert_eq!(r["not_ours"]["identifiers"]["mobile"], 100);
    assert_eq!(r["date_range"], Value::Null);

    let mut mix: Vec<Canary> = customers[200..350].to_vec();
    mix.extend_from_slice(&strangers[50..100]);
    t.tree.file("mix.csv", reformatted(&mix, 0));
    let r = t.matching("mix.csv", &[]);
    assert_eq!(r["rows"], 200);
    assert_eq!(r["matched_rows"], 150);
    assert_eq!(r["match_rate"], 0.75);
    assert_eq!(r["verdict"], "largely genuine");
    assert_eq!(r["not_ours"]["rows"], 50);
    let (first, last) = dates(200, 350);
    assert_eq!(r["date_range"]["first"], first.as_str());
    assert_eq!(r["date_range"]["last"], last.as_str());
}

#[test]
fn the_index_holds_no_raw_value() {
    let t = Traced::new();
    let index = std::fs::read(t.tree.join("idx")).unwrap_or_else(|e| panic!("{e}"));
    let contains = |needle: &str| index.windows(needle.len()).any(|w| w == needle.as_bytes());
    for p in people("customers", CUSTOMERS) {
        for v in [
            &p.name,
            &p.resident_id,
            &p.mobile,
            &p.mobile[3..],
            &p.email,
            &p.vin,
            &p.plate,
        ] {
            assert!(!contains(v), "{v} is in the index");
        }
    }
    assert!(
        contains("C00001"),
        "record ids are kept (they are not personal data)"
    );
}

#[test]
fn a_wrong_key_is_refused() {
    let t = Traced::new();
    t.tree
        .file("other", "another secret key of enough length\n");
    t.tree
        .file("leak.csv", reformatted(&people("customers", 10), 0));
    let r = run_in(
        t.tree.path(),
        &["trace", "match", "--key-file", "other", "idx", "leak.csv"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("different key"), "{}", r.stderr);
    t.tree.file("short", "abc\n");
    let r = run_in(
        t.tree.path(),
        &["trace", "match", "--key-file", "short", "idx", "leak.csv"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("at least 16"), "{}", r.stderr);
}

/// Rows of `export` whose resident ID is not a customer's: the canaries.
fn canary_rows(export: &str, customers: &HashSet<String>) -> Vec<String> {
    export
        .lines()
        .skip(1)
        .filter(|l| {
            let id = l.split(',').nth(2).unwrap_or_default();
            !customers.contains(id)
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn canaries_of_two_recipients_in_one_dump_name_both() {
    let t = Traced::new();
    let ids: HashSet<String> = people("customers", CUSTOMERS)
        .into_iter()
        .map(|p| p.resident_id)
        .collect();
    let mut copies = Vec::new();
    for who in ["supplier-a", "supplier-b"] {
        let out = format!("{who}.csv");
        let r = run_in(
            t.tree.path(),
            &[
                "trace",
                "export",
                "--key-file",
                "k",
                "--recipient",
                who,
                "--count",
                "20",
                "--index",
                "idx",
                "--id-col",
                "customer_id",
                "--output",
                &out,
                "customers.csv",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let text = std::fs::read_to_string(t.tree.join(&out)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text.lines().count(), 1 + 400 + 20);
        let canaries = canary_rows(&text, &ids);
        assert_eq!(canaries.len(), 20, "{who}");
        copies.push((text, canaries));
    }
    assert_ne!(
        copies[0].1, copies[1].1,
        "each recipient has its own canaries"
    );
    // A whole leaked copy: all customers, and its recipient's canaries.
    let r = t.matching("supplier-a.csv", &[]);
    assert_eq!(r["matched_rows"], 400);
    assert_eq!(r["canaries"][0]["recipient"], "supplier-a");
    assert_eq!(r["canaries"][0]["rows"], 20);
    assert_eq!(r["not_ours"]["rows"], 0, "canaries are not strangers");
    // A dump mixing ten real rows with three canaries of A and two of B.
    let header = copies[0].0.lines().next().unwrap_or_default().to_string();
    let mut dump = vec![header];
    dump.extend(
        copies[0]
            .0
            .lines()
            .skip(1)
            .filter(|l| !copies[0].1.contains(&l.to_string()))
            .take(10)
            .map(str::to_string),
    );
    dump.extend(copies[0].1.iter().take(3).cloned());
    dump.extend(copies[1].1.iter().take(2).cloned());
    t.tree.file("mixed.csv", dump.join("\n") + "\n");
    let r = t.matching("mixed.csv", &[]);
    assert_eq!(r["rows"], 15);
    assert_eq!(r["matched_rows"], 10);
    let hits: Vec<(String, u64)> = r["canaries"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["recipient"].as_str().unwrap_or_default().to_string(),
                        c["rows"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        hits,
        [("supplier-a".to_string(), 3), ("supplier-b".to_string(), 2)]
    );
    let summary = r["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("canaries of supplier-a (3 rows), supplier-b (2 rows)"),
        "{summary}"
    );
}

#[test]
fn canaries_are_valid_and_avoid_the_index() {
    let t = Traced::new();
    let r = run_in(
        t.tree.path(),
        &[
            "trace",
            "canary",
            "--key-file",
            "k",
            "--recipient",
            "partner",
            "--count",
            "50",
            "--index",
            "idx",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], Canary::COLUMNS.join(","));
    assert_eq!(lines.len(), 51);
    // The canaries assess as personal data, and matching finds them as canaries only.
    t.tree.file("canaries.csv", &r.stdout);
    let a = run_in(
        t.tree.path(),
        &["assess", "--format", "json", "canaries.csv"],
    );
    let doc: Value = serde_json::from_str(&a.stdout).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<&str> = doc["tables"][0]["columns"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["kind"].as_str()).collect())
        .unwrap_or_default();
    for k in [
        "name",
        "resident_id",
        "mobile",
        "email",
        "vin",
        "plate",
        "birth_date",
        "address",
        "bank_card",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let m = t.matching("canaries.csv", &[]);
    assert_eq!(m["matched_rows"], 0);
    assert_eq!(m["canaries"][0]["recipient"], "partner");
    assert_eq!(m["canaries"][0]["rows"], 50);
}

/// A verdict must not rest on a damaged index: a zeroed bucket table, one flipped entry
/// byte and an unknown version are refused (exit 2), not turned into "not ours".
#[test]
fn a_damaged_index_is_refused() {
    let t = Traced::new();
    t.tree
        .file("leak.csv", reformatted(&people("customers", 10), 0));
    let good = std::fs::read(t.tree.join("idx")).expect("index");
    let header_len = u64::from_le_bytes(good[8..16].try_into().expect("8 bytes")) as usize;
    let buckets = 16 + header_len;
    let entries = buckets + 65_537 * 8;
    let mut zeroed = good.clone();
    zeroed[buckets..entries].fill(0);
    let mut flipped = good.clone();
    flipped[entries + 12 * 7 + 3] ^= 0x40;
    let mut version = good.clone();
    let header =
        String::from_utf8_lossy(&version[16..buckets]).replace("\"version\":2", "\"version\":9");
    version[16..buckets].copy_from_slice(header.as_bytes());
    for (what, bytes, says) in [
        ("zeroed buckets", zeroed, "checksum"),
        ("flipped entry", flipped, "checksum"),
        ("version 9", version, "format version 9"),
    ] {
        t.tree.file("bad.idx", bytes);
        let r = run_in(
            t.tree.path(),
            &["trace", "match", "--key-file", "k", "bad.idx", "leak.csv"],
        );
        assert_eq!(r.code, 2, "{what}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{what}: {}", r.stderr);
    }
}

/// Hong Kong and Taiwan identity numbers and passports are fingerprinted too: a dump
/// keyed only by them is traced to the records that hold them.
#[test]
fn hong_kong_taiwan_ids_and_passports_are_traced() {
    let t = Tree::new();
    let hk = ["A123450(4)", "A123451(2)", "A123452(0)", "A123453(9)"];
    let tw = ["A123456707", "A123456716", "A123456725", "A123456734"];
    let passports = ["E12345671", "E12345672", "E12345673", "E12345674"];
    let mut ours = String::from("customer_id,hk_id,tw_id,passport\n");
    for i in 0..4 {
        ours.push_str(&format!("c{i},{},{},{}\n", hk[i], tw[i], passports[i]));
    }
    t.file("customers.csv", ours);
    // The dump: one column each, other names, two of the four people.
    t.file(
        "dump.csv",
        format!(
            "香港身份证,台湾身份证,护照号码\n{},,\n,{},\n,,{}\n",
            hk[1], tw[2], passports[2]
        ),
    );
    let index = key_and_index(t.path(), &["--id-col", "customer_id"], &["customers.csv"]);
    assert!(
        index.stderr.contains("indexed 4 records"),
        "{}",
        index.stderr
    );
    let matched = run_in(
        t.path(),
        &[
            "trace",
            "match",
            "--key-file",
            "k",
            "--format",
            "json",
            "--list-matches",
            "ids.txt",
            "idx",
            "dump.csv",
        ],
    );
    assert_eq!(matched.code, 0, "{}", matched.stderr);
    let doc: Value = serde_json::from_str(&matched.stdout).expect("json");
    assert_eq!(doc["matched_rows"], 3, "{doc:#}");
    for kind in ["hk_id", "tw_id", "passport"] {
        assert!(
            doc["matched_by"][kind].as_u64().is_some_and(|n| n >= 1),
            "{kind}: {doc:#}"
        );
    }
    let mut ids: Vec<String> = std::fs::read_to_string(t.join("ids.txt"))
        .expect("ids")
        .lines()
        .map(String::from)
        .collect();
    ids.sort();
    assert_eq!(ids, ["c1", "c2"]);
}
