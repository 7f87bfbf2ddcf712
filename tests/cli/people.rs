//! People counts that hold up: shared contacts join nobody, two resident IDs are never
//! one person, contact-only rows count, and the bounds contain the truth. Each case
//! gave a wrong count when every identifier on a row was joined (union-find).

use crate::assess::{resident_id, resident_id_in};
use crate::tree::{run_in, Tree};
use serde_json::Value;

/// A people figure: (best estimate, at least, at most).
type Count = (u64, u64, u64);

/// `assess --format json` of the files: each table's count, the summary's, the document.
fn people(t: &Tree, files: &[&str]) -> (Vec<Count>, Count, Value) {
    let mut args = vec!["assess", "--format", "json"];
    args.extend_from_slice(files);
    let run = run_in(t.path(), &args);
    assert!(run.code <= 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    let triple = |v: &Value| {
        (
            v["distinct_people"].as_u64().unwrap_or(u64::MAX),
            v["distinct_people_min"].as_u64().unwrap_or(u64::MAX),
            v["distinct_people_max"].as_u64().unwrap_or(u64::MAX),
        )
    };
    let tables = doc["tables"]
        .as_array()
        .map(|ts| ts.iter().map(triple).collect())
        .unwrap_or_default();
    (tables, triple(&doc["summary"]), doc)
}

/// 2,000 distinct valid resident IDs (`resident_id` repeats after 1,000).
fn distinct_id(i: u32) -> String {
    resident_id_in(if i < 1000 { "110105" } else { "310115" }, i % 1000)
}

fn contains(truth: u64, (_, min, max): Count) -> bool {
    min <= truth && truth <= max
}

#[test]
fn a_dealer_phone_on_every_row_joins_nobody() {
    let t = Tree::new();
    let mut csv = String::from("身份证号,手机号,dealer_phone\n");
    for i in 0..2000 {
        csv.push_str(&format!(
            "{},139{:08},13612345678\n",
            distinct_id(i),
            1000 + i
        ));
    }
    t.file("sales.csv", csv);
    let (tables, summary, doc) = people(&t, &["sales.csv"]);
    assert_eq!(tables, [(2000, 2000, 2000)], "was 1 person");
    assert_eq!(summary, (2000, 2000, 2000));
    let shared = &doc["tables"][0]["shared_contacts"];
    assert_eq!(shared.as_array().map(Vec::len), Some(1), "{shared}");
    assert_eq!(shared[0]["column"], "dealer_phone");
    assert_eq!(shared[0]["rows"], 2000);
    // The markdown report, for a ticket or the regulator, says the same.
    let md = run_in(t.path(), &["assess", "--format", "markdown", "sales.csv"]);
    assert!(
        md.stdout
            .contains("**2000 distinct people** (at least 2000, at most 2000)"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("| sales.csv | csv | 2000 | 2000 (2000–2000) | 0 |"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("| sales.csv | dealer_phone | `13*******78` | 2000 | several_ids |"),
        "{}",
        md.stdout
    );
    assert!(!md.stdout.contains("13612345678"), "{}", md.stdout);
    assert_eq!(shared[0]["reason"], "several_ids");
    assert!(
        !shared.to_string().contains("13612345678"),
        "masked: {shared}"
    );
}

#[test]
fn a_family_sharing_one_address_is_four_people_and_one_person_on_two_rows_is_one() {
    let t = Tree::new();
    let mut family = String::from("id,email,mobile\n");
    for i in 0..4 {
        family.push_str(&format!(
            "{},zhang.family@163.com,139{:08}\n",
            resident_id(i),
            20 + i
        ));
    }
    t.file("family.csv", family);
    let (tables, _, _) = people(&t, &["family.csv"]);
    assert_eq!(tables, [(4, 4, 4)], "was 1 person");

    // ID and phone on one row, the phone alone on another: one person (at most two).
    t.file(
        "orders.csv",
        format!("id,mobile\n{},13900000123\n,13900000123\n", resident_id(7)),
    );
    let (tables, _, _) = people(&t, &["orders.csv"]);
    assert_eq!(tables, [(1, 1, 2)]);
    assert!(contains(1, tables[0]));
}

#[test]
fn phone_only_rows_count_and_placeholders_join_nobody() {
    let t = Tree::new();
    // 300 customers known by phone alone; 100 of them also typed the placeholder
    // 13800138000 as a second phone.
    let mut csv = String::from("mobile,mobile2\n");
    for i in 0..300 {
        let second = if i < 100 { "13800138000" } else { "" };
        csv.push_str(&format!("139{:08},{second}\n", 5000 + i));
    }
    t.file("leads.csv", csv);
    let (tables, _, doc) = people(&t, &["leads.csv"]);
    assert_eq!(
        tables[0].0, 300,
        "was 201: the placeholder joined 100 people"
    );
    assert!(contains(300, tables[0]), "{:?}", tables[0]);
    assert_eq!(
        doc["tables"][0]["shared_contacts"][0]["reason"],
        "placeholder"
    );
}

#[test]
fn the_same_people_in_two_tables_and_two_files_count_once() {
    let t = Tree::new();
    let mut crm = String::from("id,mobile\n");
    let mut sales = String::from("mobile,email\n");
    for i in 0..50 {
        crm.push_str(&format!("{},139{:08}\n", resident_id(i), 100 + i));
        // The same customers in another system, known by phone and e-mail.
        sales.push_str(&format!("139{:08},c{i}@163.com\n", 100 + i));
    }
    // A dealer's phone on every sales row: shared, joins nobody.
    let sales_dealer: String = sales
        .lines()
        .enumerate()
        .map(|(n, l)| {
            if n == 0 {
                format!("{l},dealer\n")
            } else {
                format!("{l},13612345678\n")
            }
        })
        .collect();
    t.file("crm.csv", crm.clone());
    t.file("exports/sales.csv", sales_dealer);
    let (tables, summary, _) = people(&t, &["crm.csv", "exports/sales.csv"]);
    assert_eq!(tables[0], (50, 50, 50));
    assert_eq!(tables[1].0, 50, "{tables:?}");
    assert_eq!(
        summary.0, 50,
        "one person each across the two files: {summary:?}"
    );
    assert!(contains(50, summary), "{summary:?}");
    // Two tables of one SQL dump: the same rule across tables.
    let dump = format!(
        "CREATE TABLE a (id varchar(18), mobile varchar(11));\n\
         INSERT INTO a VALUES ('{}','13900000001'),('{}','13900000002');\n\
         CREATE TABLE b (mobile varchar(11));\n\
         INSERT INTO b VALUES ('13900000001'),('13900000002'),('13900000003');\n",
        resident_id(1),
        resident_id(2)
    );
    t.file("dump.sql", dump);
    let (tables, summary, _) = people(&t, &["dump.sql"]);
    assert_eq!(tables.len(), 2);
    assert_eq!(
        summary.0, 3,
        "two IDs with their phones, one more phone: {summary:?}"
    );
    assert!(contains(3, summary));
}

/// Hong Kong and Taiwan IDs and passports are strong identifiers too: each names one
/// person, and a resident ID with a passport on one row is one person holding both.
#[test]
fn hong_kong_taiwan_ids_and_passports_name_people() {
    let t = Tree::new();
    let (id1, id2, id3) = (resident_id(1), resident_id(2), resident_id(3));
    let mut csv = String::from("身份证号,hk_id,tw_id,passport,手机号\n");
    csv.push_str(&format!("{id1},,,E12345671,13900000001\n"));
    csv.push_str(",,,E12345671,13900000001\n");
    csv.push_str(&format!("{id2},,,E12345672,\n{id3},,,,\n"));
    for hk in ["A123450(4)", "A123451(2)", "A123452(0)", "A123453(9)"] {
        csv.push_str(&format!(",{hk},,,13900000011\n"));
    }
    for tw in ["A123456707", "A123456716", "A123456725", "A123456734"] {
        csv.push_str(&format!(",,{tw},,\n"));
    }
    t.file("travellers.csv", csv);
    let (tables, _, doc) = people(&t, &["travellers.csv"]);
    let kinds: Vec<&str> = doc["tables"][0]["columns"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        ["resident_id", "hk_id", "tw_id", "passport", "mobile"],
        "{doc}"
    );
    // Three people with resident IDs (one also by passport alone), four from Hong Kong
    // (sharing one phone: the family's, tied to none of them alone), four from Taiwan.
    assert_eq!(tables, [(11, 11, 11)], "{doc}");
}
