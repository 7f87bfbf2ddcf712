//! `leakhound assess`: one synthetic customer table with known counts, written in every
//! supported format (CSV, TSV, GBK CSV, JSON with nested objects, JSON Lines, a zip
//! member, gzip, a mysqldump with multi-row INSERTs, a pg_dump COPY block), must give
//! the same rows, kinds and distinct people in each.

use crate::tree::{run_in, values::*, Tree};
use serde_json::Value;
use std::io::Write;

/// A resident ID with a valid MOD 11-2 check character.
pub(crate) fn resident_id(seq: u32) -> String {
    resident_id_in("110105", seq)
}

/// A resident ID of the region `region` (six digits) with a valid check character.
pub(crate) fn resident_id_in(region: &str, seq: u32) -> String {
    let body = format!(
        "{region}{}{:02}{:02}{:03}",
        1970 + seq % 30,
        1 + seq % 12,
        1 + seq % 28,
        seq % 1000
    );
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// 200 rows, 150 people: rows 0-99 are 50 people seen twice (ID, phone, e-mail, one
/// of two VINs); rows 100-149 have only an ID; rows 150-199 only a phone.
fn customers() -> Vec<[String; 6]> {
    (0..200u32)
        .map(|i| {
            let (id, phone, email) = if i < 100 {
                let p = i / 2;
                (
                    resident_id(p),
                    format!("139{:08}", 1000 + p),
                    format!("user{p}@carmaker.cn"),
                )
            } else if i < 150 {
                (resident_id(1000 + i), String::new(), String::new())
            } else {
                (String::new(), format!("138{:08}", 5000 + i), String::new())
            };
            let vin = if i < 100 {
                [VIN_CN, VIN_US][(i % 2) as usize].to_string()
            } else {
                String::new()
            };
            [
                "张伟".to_string(),
                id,
                phone,
                email,
                vin,
                format!("{}.{:02}", 100 + i, i % 100),
            ]
        })
        .collect()
}

const HEADER: [&str; 6] = ["姓名", "身份证号", "手机号", "邮箱", "车架号", "金额"];

fn delimited(sep: &str) -> String {
    let mut s = HEADER.join(sep);
    s.push('\n');
    for r in customers() {
        s.push_str(&r.join(sep));
        s.push('\n');
    }
    s
}

/// mysqldump style: CREATE TABLE, then multi-row INSERTs of 50 rows, NULL for empty.
fn mysqldump() -> String {
    let mut s = String::from(
        "-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `customers` (\n",
    );
    for h in HEADER {
        s.push_str(&format!("  `{h}` varchar(64) DEFAULT NULL,\n"));
    }
    s.push_str("  PRIMARY KEY (`身份证号`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n");
    for chunk in customers().chunks(50) {
        let tuples: Vec<String> = chunk
            .iter()
            .map(|r| {
                let cells: Vec<String> = r
                    .iter()
                    .map(|c| {
                        if c.is_empty() {
                            "NULL".into()
                        } else {
                            format!("'{c}'")
                        }
                    })
                    .collect();
                format!("({})", cells.join(","))
            })
            .collect();
        s.push_str(&format!(
            "INSERT INTO `customers` VALUES {};\n",
            tuples.join(",")
        ));
    }
    s
}

/// pg_dump style: a COPY block with \N for empty.
fn pg_dump() -> String {
    let mut s = format!(
        "COPY public.customers ({}) FROM stdin;\n",
        HEADER.join(", ")
    );
    for r in customers() {
        let cells: Vec<String> = r
            .iter()
            .map(|c| {
                if c.is_empty() {
                    "\\N".into()
                } else {
                    c.clone()
                }
            })
            .collect();
        s.push_str(&cells.join("\t"));
        s.push('\n');
    }
    s.push_str("\\.\n");
    s
}

/// The table as SQL any database takes: quoted names, NULL for empty.
fn create_and_insert(table: &str) -> String {
    let cols: Vec<String> = HEADER.iter().map(|h| format!("\"{h}\" text")).collect();
    let mut s = format!("CREATE TABLE {table} ({});\n", cols.join(", "));
    for r in customers() {
        let cells: Vec<String> = r
            .iter()
            .map(|c| {
                if c.is_empty() {
                    "NULL".into()
                } else {
                    format!("'{c}'")
                }
            })
            .collect();
        s.push_str(&format!(
            "INSERT INTO {table} VALUES ({});\n",
            cells.join(", ")
        ));
    }
    s
}

/// The table as an SQLite database file.
fn sqlite_file(path: &std::path::Path) {
    let db = rusqlite::Connection::open(path).expect("sqlite file");
    db.execute_batch(&create_and_insert("customers"))
        .expect("sqlite rows");
}

/// The table under `crm/` as CSV, nested JSON (pretty-printed, so records span
/// lines), JSON Lines, a mysqldump, a pg_dump and an SQLite file.
fn customer_tables(t: &Tree) {
    t.file("crm/customers.csv", delimited(","));
    t.file(
        "crm/customers.json",
        serde_json::to_string_pretty(&serde_json::json!({"data": json_records()}))
            .unwrap_or_default(),
    );
    let jsonl: String = json_records().iter().map(|r| format!("{r}\n")).collect();
    t.file("crm/customers.jsonl", jsonl);
    t.file("crm/mysql.sql", mysqldump());
    t.file("crm/pg.sql", pg_dump());
    sqlite_file(&t.join("crm/customers.db"));
}

fn json_records() -> Vec<Value> {
    customers()
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "customer": {"name": r[0], "id_card": r[1], "mobile": r[2], "email": r[3]},
                "vehicle": {"vin": r[4]},
                "amount": r[5],
            })
        })
        .collect()
}

fn assess(t: &Tree, paths: &[&str]) -> Value {
    let mut args = vec!["assess", "--format", "json"];
    args.extend_from_slice(paths);
    let run = run_in(t.path(), &args);
    assert_eq!(run.code, 1, "sensitive data means exit 1: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("bad json ({e}): {}", run.stdout))
}

/// A table read whole: all 200 rows, 150 people, the five sensitive kinds.
fn assert_whole_table(table: &Value) {
    let src = table["source"].as_str().unwrap_or("?");
    assert_eq!(table["rows"], 200, "{src}");
    assert_eq!(table["distinct_people"], 150, "{src}");
    assert_eq!(kinds(table).len(), 5, "{src}: {table}");
}

/// The kinds found, sorted, with their valid ratios.
fn kinds(table: &Value) -> Vec<(String, f64)> {
    let mut k: Vec<(String, f64)> = table["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["kind"].as_str()?.to_string(), c["valid_ratio"].as_f64()?)))
        .collect();
    k.sort_by(|a, b| a.0.cmp(&b.0));
    k
}

#[test]
fn every_format_gives_the_same_rows_kinds_and_people() {
    let t = Tree::new();
    customer_tables(&t);
    t.file("crm/customers.tsv", delimited("\t"));
    let utf8 = delimited(",");
    let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
    t.file("crm/customers_gbk.csv", &gbk);
    t.file(
        "crm/backup.zip",
        zipped("export/customers.csv", delimited(",").as_bytes()),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(delimited(",").as_bytes()).expect("gz");
    t.file("crm/customers2.csv.gz", gz.finish().expect("gz"));
    t.file("crm/README.md", "not a table\n");

    let doc = assess(&t, &["crm"]);
    let tables = doc["tables"].as_array().expect("tables");
    let sources: Vec<&str> = tables.iter().filter_map(|x| x["source"].as_str()).collect();
    assert_eq!(
        sources,
        [
            "crm/backup.zip!export/customers.csv",
            "crm/customers.csv",
            "crm/customers.db!customers",
            "crm/customers.json",
            "crm/customers.jsonl",
            "crm/customers.tsv",
            "crm/customers2.csv.gz!customers2.csv",
            "crm/customers_gbk.csv",
            "crm/mysql.sql!customers",
            "crm/pg.sql!public.customers",
        ]
    );
    let expected = vec![
        ("email".to_string(), 1.0),
        ("mobile".to_string(), 1.0),
        ("name".to_string(), 1.0),
        ("resident_id".to_string(), 1.0),
        ("vin".to_string(), 1.0),
    ];
    for table in tables {
        let src = table["source"].as_str().unwrap_or("?");
        assert_eq!(table["rows"], 200, "{src}");
        assert_eq!(table["distinct_people"], 150, "{src}");
        assert_eq!(table["distinct_vehicles"], 2, "{src}");
        assert_eq!(kinds(table), expected, "{src}");
        assert_eq!(table["distinct"]["resident_id"], 100, "{src}");
        assert_eq!(table["distinct"]["mobile"], 100, "{src}");
        let amount = table["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == "金额" || c["name"] == "amount")
            .unwrap_or_else(|| panic!("{src}: amount column"));
        assert!(amount["kind"].is_null(), "{src}: {amount}");
    }
    // Ten copies of the same people: 150 across all tables, not 1,500.
    assert_eq!(doc["summary"]["distinct_people"], 150);
    assert_eq!(doc["summary"]["rows"], 2000);
    // Nothing raw in the report.
    let text = doc.to_string();
    assert!(!text.contains(&resident_id(0)) && !text.contains("13900001000"));
}

/// A workbook with two sheets, as Excel users make them: the customer table (phones
/// stored as numbers, IDs as text) and a summary sheet with nothing personal.
fn workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("customers").expect("sheet name");
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for (r, row) in customers().iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            if v.is_empty() {
                continue;
            }
            match v.parse::<f64>() {
                Ok(n) if c == 2 || c == 5 => sheet.write_number(r, c, n).map(|_| ()),
                _ => sheet.write_string(r, c, v).map(|_| ()),
            }
            .expect("cell");
        }
    }
    let summary = book.add_worksheet();
    summary.set_name("summary").expect("sheet name");
    summary.write_string(0, 0, "region").expect("cell");
    summary.write_string(0, 1, "orders").expect("cell");
    summary.write_string(1, 0, "north").expect("cell");
    summary.write_number(1, 1, 120.0).expect("cell");
    book.save_to_buffer().expect("xlsx")
}

/// `bytes` as the one member `name` of a zip archive.
pub(crate) fn zipped(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file::<_, ()>(name, zip::write::SimpleFileOptions::default())
        .expect("zip entry");
    zip.write_all(bytes).expect("zip write");
    zip.finish().expect("zip").into_inner()
}

#[test]
fn every_sheet_of_a_workbook_is_a_table_also_inside_an_archive() {
    let t = Tree::new();
    let xlsx = workbook();
    t.file("book.xlsx", &xlsx);
    t.file("mail.zip", zipped("reports/book.xlsx", &xlsx));
    let doc = assess(&t, &["book.xlsx", "mail.zip"]);
    let tables = doc["tables"].as_array().expect("tables");
    let sources: Vec<&str> = tables.iter().filter_map(|x| x["source"].as_str()).collect();
    assert_eq!(
        sources,
        [
            "book.xlsx!customers",
            "book.xlsx!summary",
            "mail.zip!reports/book.xlsx!customers",
            "mail.zip!reports/book.xlsx!summary"
        ]
    );
    for customers in [&tables[0], &tables[2]] {
        assert_eq!(customers["format"], "xlsx");
        assert_eq!(customers["rows"], 200);
        assert_eq!(customers["distinct_people"], 150);
        assert_eq!(customers["distinct_vehicles"], 2);
        assert_eq!(
            customers["distinct"]["mobile"], 100,
            "numbers stored as floats read as phones"
        );
        assert_eq!(kinds(customers).len(), 5);
    }
    for summary in [&tables[1], &tables[3]] {
        assert_eq!(summary["rows"], 1);
        assert!(kinds(summary).is_empty());
    }
    t.file("broken.xlsx", &xlsx[..xlsx.len() / 2]);
    let run = run_in(t.path(), &["assess", "broken.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("broken.xlsx"), "{}", run.stderr);
}

/// The customer table as a snappy-compressed Parquet file, phones as INT64 (as a
/// data lake stores them), English column names, nulls for empty cells.
fn parquet_file(path: &std::path::Path) {
    parquet_file_with(path, parquet::basic::Compression::SNAPPY);
}

fn parquet_file_with(path: &std::path::Path, compression: parquet::basic::Compression) {
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use std::sync::Arc;
    let schema = Arc::new(
        parquet::schema::parser::parse_message_type(
            "message customers { OPTIONAL BYTE_ARRAY name (UTF8); OPTIONAL BYTE_ARRAY id_card (UTF8); \
             OPTIONAL INT64 mobile; OPTIONAL BYTE_ARRAY email (UTF8); OPTIONAL BYTE_ARRAY vin (UTF8); \
             OPTIONAL DOUBLE amount; }",
        )
        .expect("schema"),
    );
    let props = Arc::new(
        parquet::file::properties::WriterProperties::builder()
            .set_compression(compression)
            .build(),
    );
    let file = std::fs::File::create(path).expect("parquet file");
    let mut writer =
        parquet::file::writer::SerializedFileWriter::new(file, schema, props).expect("writer");
    let rows = customers();
    let mut group = writer.next_row_group().expect("row group");
    let mut c = 0;
    while let Some(mut column) = group.next_column().expect("column") {
        let cells: Vec<&String> = rows.iter().map(|r| &r[c]).collect();
        let levels: Vec<i16> = cells.iter().map(|v| i16::from(!v.is_empty())).collect();
        let present = cells.iter().filter(|v| !v.is_empty());
        match c {
            2 => {
                let v: Vec<i64> = present.map(|v| v.parse().expect("phone")).collect();
                column
                    .typed::<Int64Type>()
                    .write_batch(&v, Some(&levels), None)
            }
            5 => {
                let v: Vec<f64> = present.map(|v| v.parse().expect("amount")).collect();
                column
                    .typed::<DoubleType>()
                    .write_batch(&v, Some(&levels), None)
            }
            _ => {
                let v: Vec<ByteArray> = present.map(|v| ByteArray::from(v.as_str())).collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&v, Some(&levels), None)
            }
        }
        .expect("write column");
        column.close().expect("close column");
        c += 1;
    }
    group.close().expect("close row group");
    writer.close().expect("close file");
}

#[test]
fn a_parquet_file_gives_the_same_answer() {
    let t = Tree::new();
    parquet_file(&t.join("lake.parquet"));
    let bytes = std::fs::read(t.join("lake.parquet")).expect("read back");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).expect("gz");
    t.file("lake2.parquet.gz", gz.finish().expect("gz"));
    // zstd pages (what Spark and DuckDB write by default today) read as "0 rows" before.
    parquet_file_with(
        &t.join("lake3.parquet"),
        parquet::basic::Compression::ZSTD(parquet::basic::ZstdLevel::default()),
    );
    let doc = assess(&t, &["lake.parquet", "lake2.parquet.gz", "lake3.parquet"]);
    let tables = doc["tables"].as_array().expect("tables");
    let sources: Vec<&str> = tables.iter().filter_map(|x| x["source"].as_str()).collect();
    assert_eq!(
        sources,
        [
            "lake.parquet",
            "lake2.parquet.gz!lake2.parquet",
            "lake3.parquet"
        ]
    );
    for table in tables {
        assert_eq!(table["format"], "parquet");
        assert_eq!(table["rows"], 200);
        assert_eq!(table["distinct_people"], 150);
        assert_eq!(table["distinct_vehicles"], 2);
        assert_eq!(
            table["distinct"]["mobile"], 100,
            "INT64 phones read as phones"
        );
        assert_eq!(kinds(table).len(), 5);
    }
    t.file("torn.parquet", &bytes[..bytes.len() - 20]);
    let run = run_in(t.path(), &["assess", "torn.parquet"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a readable Parquet file"),
        "{}",
        run.stderr
    );
}

#[test]
fn human_output_lists_sensitive_columns_and_totals() {
    let t = Tree::new();
    t.file("customers.csv", delimited(","));
    let run = run_in(t.path(), &["assess", "customers.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "customers.csv (csv): 200 rows, 150 people (at least 100, at most 150), 2 vehicles"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("身份证号"), "{}", run.stdout);
    assert!(run.stdout.contains("resident_id"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("(1 other columns hold nothing sensitive)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("150 distinct people"), "{}", run.stdout);
}

#[test]
fn a_clean_table_exits_0_and_a_broken_one_is_reported() {
    let t = Tree::new();
    t.file("prices.csv", "sku,price\nA-1,10.5\nB-2,3.25\n");
    let run = run_in(t.path(), &["assess", "prices.csv"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    t.file("broken.json", "{\"data\": [");
    let run = run_in(t.path(), &["assess", "broken.json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a readable json table"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_live_postgres_database_gives_the_same_answer_and_samples() {
    let Some(store) = crate::datastore::postgres() else {
        return;
    };
    let mut c = postgres::Client::connect(&store.spec, postgres::NoTls).expect("connect");
    c.batch_execute(&create_and_insert("customers"))
        .expect("fixture table");
    c.batch_execute("CREATE SCHEMA crm; CREATE TABLE crm.notes (id int, body text); INSERT INTO crm.notes VALUES (1, 'hello')")
        .expect("second table");
    let t = Tree::new();
    let doc = assess(&t, &[&store.spec]);
    let tables = doc["tables"].as_array().expect("tables");
    let sources: Vec<&str> = tables.iter().filter_map(|x| x["source"].as_str()).collect();
    assert_eq!(sources, ["crm.notes", "public.customers"]);
    let customers = &tables[1];
    assert_eq!(customers["format"], "postgres");
    assert_eq!(customers["rows"], 200);
    assert_eq!(customers["distinct_people"], 150);
    assert_eq!(customers["distinct_vehicles"], 2);
    assert_eq!(kinds(customers).len(), 5);
    assert!(kinds(&tables[0]).is_empty());
    // --sample bounds the rows read per table; --full reads them all.
    let run = run_in(
        t.path(),
        &["assess", "--format", "json", "--sample", "50", &store.spec],
    );
    let sampled: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(sampled["tables"][1]["rows"], 50);
    let run = run_in(
        t.path(),
        &[
            "assess",
            "--format",
            "json",
            "--full",
            "--sample",
            "50",
            &store.spec,
        ],
    );
    let full: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(full["tables"][1]["rows"], 200);
    // The session is read-only: the tables are unchanged and no temporary table appeared.
    let n: i64 = c
        .query_one("SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')", &[])
        .map(|r| r.get(0))
        .unwrap_or(0);
    assert_eq!(n, 2);
    traced_from(&t, &store.spec, 150);
}

/// Issue 21: `trace index` and `trace match` read a live database's small tables (it
/// failed with "connection closed" on tables under 10,000 rows: the reader polled a
/// finished result again). The database is indexed, then matched against itself.
fn traced_from(t: &Tree, url: &str, people: u64) {
    let index = crate::trace::key_and_index(t.path(), &[], &[url]);
    assert!(index.stderr.contains("from 2 tables"), "{}", index.stderr);
    let matched = run_in(
        t.path(),
        &[
            "trace",
            "match",
            "--key-file",
            "k",
            "--format",
            "json",
            "idx",
            url,
        ],
    );
    assert_eq!(matched.code, 0, "{}", matched.stderr);
    let doc: Value = serde_json::from_str(&matched.stdout).expect("json");
    assert_eq!(doc["verdict"], "genuine", "{doc:#}");
    assert!(
        doc["matched_records"].as_u64().is_some_and(|n| n >= people),
        "{doc:#}"
    );
}

/// A scratch MariaDB/MySQL database, dropped afterwards.
pub(crate) struct MysqlScratch {
    admin: String,
    name: String,
    pub url: String,
}

impl MysqlScratch {
    pub(crate) fn new() -> Option<MysqlScratch> {
        use mysql::prelude::Queryable;
        if std::env::var_os("LEAKHOUND_SKIP_MYSQL").is_some() {
            return None;
        }
        let admin = std::env::var("LEAKHOUND_TEST_MYSQL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "leakhound_assess{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut c = mysql::Conn::new(mysql::Opts::from_url(&admin).expect("mysql url"))
            .unwrap_or_else(|e| {
                panic!("MariaDB/MySQL at {admin} does not answer ({e}); start it or set LEAKHOUND_SKIP_MYSQL=1")
            });
        c.query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop old scratch database");
        c.query_drop(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .expect("create scratch database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(MysqlScratch {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for MysqlScratch {
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        if let Ok(opts) = mysql::Opts::from_url(&self.admin) {
            if let Ok(mut c) = mysql::Conn::new(opts) {
                let _ = c.query_drop(format!("DROP DATABASE IF EXISTS {}", self.name));
            }
        }
    }
}

#[test]
fn a_live_mariadb_database_gives_the_same_answer_and_samples() {
    use mysql::prelude::Queryable;
    let Some(db) = MysqlScratch::new() else {
        return;
    };
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&db.url).expect("url")).expect("connect");
    c.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .expect("ansi quotes");
    for statement in create_and_insert("customers")
        .split(";\n")
        .filter(|s| !s.trim().is_empty())
    {
        c.query_drop(statement).expect("fixture table");
    }
    c.query_drop("CREATE TABLE notes (id int, body text, created date)")
        .expect("second table");
    c.query_drop("INSERT INTO notes VALUES (1, 'hello', '2021-08-03')")
        .expect("note");
    let t = Tree::new();
    let doc = assess(&t, &[&db.url]);
    let tables = doc["tables"].as_array().expect("tables");
    let sources: Vec<&str> = tables.iter().filter_map(|x| x["source"].as_str()).collect();
    let customers_source = format!("{}.customers", db.name);
    assert_eq!(
        sources,
        [customers_source.as_str(), &format!("{}.notes", db.name)]
    );
    let customers = &tables[0];
    assert_eq!(customers["format"], "mysql");
    assert_eq!(customers["rows"], 200);
    assert_eq!(customers["distinct_people"], 150);
    assert_eq!(customers["distinct_vehicles"], 2);
    assert_eq!(kinds(customers).len(), 5);
    assert!(kinds(&tables[1]).is_empty());
    let run = run_in(
        t.path(),
        &["assess", "--format", "json", "--sample", "50", &db.url],
    );
    let sampled: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(sampled["tables"][0]["rows"], 50);
    // mariadb:// is accepted as a spelling of mysql://.
    let maria = db.url.replacen("mysql://", "mariadb://", 1);
    let run = run_in(t.path(), &["assess", "--format", "json", "--full", &maria]);
    let full: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(full["tables"][0]["rows"], 200);
    traced_from(&t, &db.url, 150);
}

#[test]
fn streamed_csv_files_give_the_same_answer_in_every_encoding() {
    let t = Tree::new();
    let utf8 = delimited(",");
    t.file("utf8.csv", &utf8);
    let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
    t.file("gbk.csv", &gbk);
    let mut utf16 = vec![0xFF, 0xFE];
    for u in utf8.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    t.file("utf16.csv", &utf16);
    // Without a byte-order mark, and UTF-32: read as raw bytes (no rows) before.
    t.file("utf16_nobom.csv", &utf16[2..]);
    let utf32: Vec<u8> = utf8
        .chars()
        .flat_map(|c| (c as u32).to_be_bytes())
        .collect();
    t.file("utf32.csv", &utf32);
    t.file("tabs.tsv", delimited("\t"));
    // Dumps stream too: a mysqldump (also in GBK) and a pg_dump COPY block.
    let dump = mysqldump();
    t.file("mysql.sql", &dump);
    let (gbk_dump, _, _) = encoding_rs::GBK.encode(&dump);
    t.file("mysql_gbk.sql", &gbk_dump);
    t.file("pg.sql", pg_dump());
    let jsonl: String = json_records().iter().map(|r| format!("{r}\n")).collect();
    t.file("records.jsonl", jsonl);
    // One JSON document streams too: a top-level array, and an object whose largest
    // array holds the records (as when read whole).
    t.file(
        "array.json",
        serde_json::to_string(&json_records()).unwrap_or_default(),
    );
    t.file(
        "records.json",
        serde_json::to_string_pretty(&serde_json::json!({
            "errors": [], "total": 200, "data": json_records(),
        }))
        .unwrap_or_default(),
    );
    let run = run_in(
        t.path(),
        &["assess", "--format", "json", "--stream-above", "1", "."],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    let tables = doc["tables"].as_array().expect("tables");
    let sources: Vec<&str> = tables.iter().filter_map(|x| x["source"].as_str()).collect();
    assert_eq!(
        sources,
        [
            "./array.json",
            "./gbk.csv",
            "./mysql.sql!customers",
            "./mysql_gbk.sql!customers",
            "./pg.sql!public.customers",
            "./records.json",
            "./records.jsonl",
            "./tabs.tsv",
            "./utf16.csv",
            "./utf16_nobom.csv",
            "./utf32.csv",
            "./utf8.csv"
        ]
    );
    for table in tables {
        assert_whole_table(table);
    }
}

#[test]
fn an_unbalanced_quote_in_a_streamed_csv_is_taken_literally_and_every_row_read() {
    let t = Tree::new();
    let mut text = delimited(",");
    // An unbalanced quote swallowed the rest of the file into one field (one row for
    // two, silently); it is now taken as a literal character, with a warning.
    text.push_str("\"broken,1\n张伟,440304198706151231\n");
    t.file("damaged.csv", text);
    let run = run_in(
        t.path(),
        &[
            "assess",
            "--format",
            "json",
            "--stream-above",
            "1",
            "damaged.csv",
        ],
    );
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["tables"][0]["rows"], 202, "{}", run.stdout);
    assert!(
        run.stderr.contains("1 stray quote (first on line 202)"),
        "{}",
        run.stderr
    );
    // The person in the row after the quote was lost before; now counted.
    assert_eq!(doc["tables"][0]["distinct_people"], 151);
}

#[test]
fn a_bad_line_in_a_streamed_jsonl_keeps_every_record_around_it() {
    let t = Tree::new();
    let mut text: String = json_records().iter().map(|r| format!("{r}\n")).collect();
    text.push_str("{not json\n");
    text.push_str(&format!("{}\n", json_records()[0]));
    t.file("damaged.jsonl", text);
    let run = run_in(
        t.path(),
        &[
            "assess",
            "--format",
            "json",
            "--stream-above",
            "1",
            "damaged.jsonl",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 line is not JSON, skipped (first: line 201"),
        "{}",
        run.stderr
    );
    // The bad line is skipped, not the end of the file (hardening issue): the record
    // after it (a copy of the first) is read too.
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["tables"][0]["rows"], 201);
    assert_eq!(doc["tables"][0]["distinct_people"], 150);
}

#[test]
fn big_compressed_tables_are_streamed_with_the_same_answer() {
    let t = Tree::new();
    let csv = delimited(",");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes()).expect("gz");
    t.file("a.csv.gz", gz.finish().expect("gz"));
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(mysqldump().as_bytes()).expect("bz2");
    t.file("b.sql.bz2", bz.finish().expect("bz2"));
    let zst = ruzstd::encoding::compress_to_vec(
        std::io::Cursor::new(csv.as_bytes().to_vec()),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    t.file("c.tsv.zst", zst);
    let mut xz =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).expect("xz");
    let jsonl: String = json_records().iter().map(|r| format!("{r}\n")).collect();
    xz.write_all(jsonl.as_bytes()).expect("xz");
    t.file("d.jsonl.xz", xz.finish().expect("xz"));
    for stream_above in ["1", "1G"] {
        let run = run_in(
            t.path(),
            &[
                "assess",
                "--format",
                "json",
                "--stream-above",
                stream_above,
                ".",
            ],
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).expect("json");
        let tables = doc["tables"].as_array().expect("tables");
        let sources: Vec<&str> = tables.iter().filter_map(|x| x["source"].as_str()).collect();
        assert_eq!(
            sources,
            [
                "./a.csv.gz!a.csv",
                "./b.sql.bz2!b.sql!customers",
                "./c.tsv.zst!c.tsv",
                "./d.jsonl.xz!d.jsonl"
            ],
            "--stream-above {stream_above}"
        );
        for table in tables {
            assert_whole_table(table);
        }
    }
}

/// `scan` names the table cell of every finding in every table format: the same 150
/// resident IDs and 150 phone numbers, each in its own data row and its column, whether
/// the table is text (CSV, JSON, JSON Lines, SQL dumps) or read as a table (a workbook,
/// also inside a zip, an SQLite file, Parquet).
#[test]
fn scan_places_every_finding_in_its_table_cell() {
    let t = Tree::new();
    customer_tables(&t);
    let xlsx = workbook();
    t.file("crm/book.xlsx", &xlsx);
    t.file("crm/mail.zip", zipped("reports/book.xlsx", &xlsx));
    parquet_file(&t.join("crm/lake.parquet"));

    let jsonl = |each_cell: bool| -> Vec<Value> {
        let mut args = vec!["scan", "--format", "jsonl", "crm"];
        if each_cell {
            args.push("--each-cell");
        }
        let run = run_in(t.path(), &args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.trim().is_empty(),
            "nothing unreadable: {}",
            run.stderr
        );
        run.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let findings = jsonl(true);
    // By default each column is one table-level finding, in every format.
    let columns = jsonl(false);
    let tables = [
        ("crm/customers.csv", "身份证号", "手机号"),
        ("crm/customers.json", "customer.id_card", "customer.mobile"),
        ("crm/customers.jsonl", "customer.id_card", "customer.mobile"),
        ("crm/mysql.sql!customers", "身份证号", "手机号"),
        ("crm/pg.sql!public.customers", "身份证号", "手机号"),
        ("crm/customers.db!customers", "身份证号", "手机号"),
        ("crm/book.xlsx!customers", "身份证号", "手机号"),
        (
            "crm/mail.zip!reports/book.xlsx!customers",
            "身份证号",
            "手机号",
        ),
        ("crm/lake.parquet", "id_card", "mobile"),
    ];
    let id_rows: Vec<u64> = (1..=150).collect();
    let phone_rows: Vec<u64> = (1..=100).chain(151..=200).collect();
    for (table, id_column, phone_column) in tables {
        let rows = |rule: &str, column: &str| -> Vec<u64> {
            let mut rows: Vec<u64> = findings
                .iter()
                .filter(|f| f["rule"] == rule && f["table"]["name"] == table)
                .map(|f| {
                    assert_eq!(f["table"]["column"], column, "{table}: {f}");
                    f["table"]["row"].as_u64().unwrap_or(0)
                })
                .collect();
            rows.sort_unstable();
            rows
        };
        assert_eq!(rows("cn-resident-id", id_column), id_rows, "{table}");
        assert_eq!(rows("cn-mobile", phone_column), phone_rows, "{table}");
        let column = |rule: &str, column: &str| -> (u64, u64, u64, u64, usize) {
            let found: Vec<&Value> = columns
                .iter()
                .filter(|f| f["rule"] == rule && f["table"]["name"] == table)
                .collect();
            assert_eq!(found.len(), 1, "{table} {rule}: {found:?}");
            let f = found[0];
            assert_eq!(f["table"]["column"], column, "{table}: {f}");
            let v = &f["column_values"];
            let n = |x: &Value| x.as_u64().unwrap_or(0);
            let examples = v["examples"].as_array().map_or(0, Vec::len);
            assert!(f["line_text"].is_null(), "{f}");
            assert_eq!(n(&f["count"]), n(&v["cells"]), "{f}");
            (
                n(&v["cells"]),
                n(&v["distinct"]),
                n(&v["first_row"]),
                n(&v["last_row"]),
                examples,
            )
        };
        assert_eq!(
            column("cn-resident-id", id_column),
            (150, 100, 1, 150, 5),
            "{table}"
        );
        let (cells, _, first, last, examples) = column("cn-mobile", phone_column);
        assert_eq!((cells, first, last, examples), (150, 1, 200, 5), "{table}");
    }
    assert!(
        !columns
            .iter()
            .any(|f| f.to_string().contains(&resident_id(1))),
        "examples are masked"
    );
    // Every finding is in some table: no raw strings of zipped XML or database pages.
    let outside: Vec<&Value> = findings.iter().filter(|f| f["table"].is_null()).collect();
    assert!(outside.is_empty(), "{outside:?}");
    // Human output names the table when the file holds several.
    let human = run_in(
        t.path(),
        &[
            "scan",
            "--each-cell",
            "--color",
            "never",
            "crm/mysql.sql",
            "crm/customers.csv",
        ],
    );
    assert!(
        human
            .stdout
            .contains("table customers, row 1, column 身份证号"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("              row 1, column 身份证号"),
        "{}",
        human.stdout
    );
    // A workbook that cannot be read is said so, and its bytes are still matched.
    t.file("broken.xlsx", &xlsx[..xlsx.len() / 2]);
    let run = run_in(t.path(), &["scan", "broken.xlsx"]);
    assert!(
        run.stderr.contains("broken.xlsx") && run.stderr.contains("matched as bytes"),
        "{}",
        run.stderr
    );
}

/// A JSON export cut short, streamed: the records before the cut are assessed and the
/// damage is reported (read whole, the file was one unreadable document).
#[test]
fn a_streamed_json_document_cut_short_keeps_what_came_before() {
    let t = Tree::new();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "data": json_records() }))
        .unwrap_or_default();
    let cut = text.len() * 3 / 4;
    t.file("cut.json", &text.as_bytes()[..cut]);
    let run = run_in(
        t.path(),
        &[
            "assess",
            "--format",
            "json",
            "--stream-above",
            "1",
            "cut.json",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("damaged JSON"), "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    let rows = doc["tables"][0]["rows"].as_u64().unwrap_or(0);
    assert!((100..200).contains(&rows), "{rows} rows: {}", run.stdout);
}

/// Issue 21: a database that refuses says so once, in the server's words: not
/// `db error: db error: FATAL…`, not the MySQL driver's Debug form, twice.
#[test]
fn a_refusing_database_is_one_clear_error() {
    let t = Tree::new();
    if std::env::var_os("LEAKHOUND_SKIP_POSTGRES").is_none() {
        let admin = std::env::var("LEAKHOUND_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/leakhound_no_such_database");
        let run = run_in(t.path(), &["assess", &url]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        let said = "database \"leakhound_no_such_database\" does not exist";
        assert_eq!(run.stderr.matches(said).count(), 1, "{}", run.stderr);
        assert!(!run.stderr.contains("db error"), "{}", run.stderr);
    }
    if std::env::var_os("LEAKHOUND_SKIP_MYSQL").is_none() {
        let admin = std::env::var("LEAKHOUND_TEST_MYSQL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        // The admin URL's host and database, with a user the server does not know.
        let host = admin.trim_start_matches("mysql://");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let url = format!("mysql://leakhound_nobody:wrong@{host}");
        let run = run_in(t.path(), &["assess", &url]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_eq!(
            run.stderr.matches("Access denied").count(),
            1,
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("MySqlError"), "{}", run.stderr);
    }
}
