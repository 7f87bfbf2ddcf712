//! Table-level findings: a column's personal and vehicle values for one rule are one
//! finding (cells, distinct values, first and last row, masked examples); secrets in a
//! table stay one finding per value; `--each-cell` gives one finding per cell.

use crate::datastore::{on_both, report, scan};
use crate::tree::{run_in, scan_jsonl, values::*, Tree};
use serde_json::Value;

/// Three rows: one ID twice, a phone on every row, an AWS key in a note.
fn customers() -> String {
    format!(
        "name,id_card,mobile,note\n张伟,{ID1},{MOBILE},\n李娜,{ID2},13912345679,key {AWS_ID}\n张伟,{ID1},13912345680,\n"
    )
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(u64::MAX)
}

#[test]
fn a_column_is_one_finding_and_a_secret_in_a_table_stays_its_own() {
    let t = Tree::new();
    t.file("crm/customers.csv", customers());
    let (found, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let rules: Vec<&str> = found.iter().filter_map(|f| f["rule"].as_str()).collect();
    assert_eq!(rules.len(), 3, "{found:?}");
    let id = found
        .iter()
        .find(|f| f["rule"] == "cn-resident-id")
        .expect("the ID column");
    assert_eq!(id["table"]["column"], "id_card");
    let v = &id["column_values"];
    assert_eq!(
        (n(&id["count"]), n(&v["cells"]), n(&v["distinct"])),
        (3, 3, 2)
    );
    assert_eq!((n(&v["first_row"]), n(&v["last_row"])), (1, 3));
    assert_eq!(
        v["examples"],
        serde_json::json!([leakhound_findings::mask(ID1), leakhound_findings::mask(ID2)])
    );
    assert!(!run.stdout.contains(ID1) && !run.stdout.contains(MOBILE));
    let phone = found
        .iter()
        .find(|f| f["rule"] == "cn-mobile")
        .expect("phones");
    assert_eq!(n(&phone["column_values"]["distinct"]), 3);
    // The key is one finding of its own, with its line (masked) as always.
    let key = found
        .iter()
        .find(|f| f["rule"] == "aws-access-key-id")
        .expect("the key");
    assert!(
        key["column_values"].is_null() && key["count"].is_null(),
        "{key}"
    );
    assert_eq!(n(&key["table"]["row"]), 2);

    // --reveal shows the examples raw; --each-cell gives one finding per cell.
    let (revealed, _) = scan_jsonl(t.path(), &["--reveal"]);
    let id = revealed
        .iter()
        .find(|f| f["rule"] == "cn-resident-id")
        .expect("the ID column");
    assert_eq!(
        id["column_values"]["examples"],
        serde_json::json!([ID1, ID2])
    );
    let (cells, _) = scan_jsonl(t.path(), &["--each-cell"]);
    let per_rule = |rule: &str| cells.iter().filter(|f| f["rule"] == rule).count();
    assert_eq!(
        (
            per_rule("cn-resident-id"),
            per_rule("cn-mobile"),
            cells.len()
        ),
        (3, 3, 7)
    );
    assert!(cells.iter().all(|f| f["column_values"].is_null()));
}

/// The fingerprint is the rule, table and column: new rows keep the column's triage.
/// Exposure stays exact: a value in a column and in a text file is one value.
#[test]
fn a_column_keeps_its_triage_and_exposure_counts_values_not_columns() {
    on_both(|t, store| {
        t.file("crm/customers.csv", customers());
        t.file("notes.txt", format!("call back {ID2} and {ID1}\n"));
        scan(t, store, &["--rules", "personal"]);
        let found = report(t, store, &[]);
        let column = |found: &[Value]| -> Value {
            found
                .iter()
                .find(|f| f["rule"] == "cn-resident-id" && !f["table"].is_null())
                .cloned()
                .unwrap_or(Value::Null)
        };
        let first = column(&found);
        let fp = first["fingerprint"]
            .as_str()
            .expect("fingerprint")
            .to_string();
        let triaged = run_in(
            t.path(),
            &[
                "triage",
                &fp,
                "--status",
                "confirmed",
                "-m",
                "CRM export, notify",
                "--datastore",
                store,
            ],
        );
        assert_eq!(triaged.code, 0, "{}", triaged.stderr);
        // A new row in the export: the same column finding, still confirmed.
        let more = format!(
            "{}王芳,{},13912345681,\n",
            customers(),
            crate::assess::resident_id(7)
        );
        t.file("crm/customers.csv", &more);
        scan(t, store, &["--rules", "personal"]);
        let found = report(t, store, &[]);
        let again = column(&found);
        assert_eq!(again["fingerprint"], first["fingerprint"]);
        assert_eq!(again["status"], "confirmed", "{again}");
        assert_eq!(n(&again["column_values"]["cells"]), 4, "{again}");
        assert_eq!(n(&again["column_values"]["distinct"]), 3, "{again}");
        // Three distinct ID numbers in all: two in the text file are in the column too.
        let md = run_in(
            t.path(),
            &["report", "--datastore", store, "--format", "markdown"],
        );
        assert!(
            md.stdout
                .contains("| Chinese resident identity card number (`cn-resident-id`) | 3 |"),
            "{}",
            md.stdout
        );
        assert!(!md.stdout.contains(ID1), "{}", md.stdout);
    });
}

/// A table inside an archive and a table in a SQL dump are tables too.
#[test]
fn tables_in_archives_and_dumps_are_columns_too() {
    let t = Tree::new();
    t.file(
        "mail.zip",
        crate::assess::zipped("export/customers.csv", customers().as_bytes()),
    );
    t.file(
        "dump.sql",
        format!(
            "INSERT INTO `owners` (`name`, `vin`) VALUES ('a','{VIN_CN}'),('b','{VIN_US}'),('c','{VIN_CN}');\n"
        ),
    );
    let (found, _) = scan_jsonl(t.path(), &["--rules", "personal,vehicle"]);
    let table = |rule: &str| -> (String, u64, u64) {
        let f = found
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or(&Value::Null);
        (
            f["table"]["name"].as_str().unwrap_or("").to_string(),
            n(&f["column_values"]["cells"]),
            n(&f["column_values"]["distinct"]),
        )
    };
    assert_eq!(
        table("cn-resident-id"),
        ("./mail.zip!export/customers.csv".to_string(), 3, 2)
    );
    assert_eq!(table("vin"), ("./dump.sql!owners".to_string(), 3, 2));
}

/// A valid resident ID for person `n` (up to 60,000 people: 20,000 per region).
fn resident_id(n: usize) -> String {
    let region = ["110101", "110102", "110105"][(n / 20_000).min(2)];
    crate::assess::resident_id_in(region, (n % 20_000) as u32)
}

/// An export bigger than a scan window (4 MiB) is matched window by window: the
/// column figures are the whole file's, a secret keeps its row, `--each-cell` gives
/// every cell, and the same rows as a SQL dump give the same figures.
#[test]
fn an_export_bigger_than_a_window_gives_the_whole_files_figures() {
    let rows = 120_000usize;
    let mut csv = String::from("name,id_card,mobile,note\n");
    let mut sql = String::from(
        "CREATE TABLE `c` (`name` text, `id_card` text, `mobile` text, `note` text);\n",
    );
    for chunk in 0..rows / 100 {
        let mut tuples = Vec::new();
        for i in chunk * 100..chunk * 100 + 100 {
            let note = if i == 90_000 {
                format!("key {AWS_ID}")
            } else {
                String::new()
            };
            let (id, mobile) = (resident_id(i / 2), format!("139{:08}", 10_000_000 + i * 7));
            csv.push_str(&format!("客户{i},{id},{mobile},{note}\n"));
            tuples.push(format!("('客户{i}','{id}','{mobile}','{note}')"));
        }
        sql.push_str(&format!("INSERT INTO `c` VALUES {};\n", tuples.join(",")));
    }
    assert!(csv.len() > 4 << 20 && sql.len() > 4 << 20);
    let t = Tree::new();
    t.file("crm/big.csv", csv);
    t.file("crm/big.sql", sql);
    let (found, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for path in ["crm/big.csv", "crm/big.sql"] {
        let column = |rule: &str| -> Value {
            found
                .iter()
                .find(|f| {
                    f["rule"] == rule && f["path"].as_str().is_some_and(|p| p.ends_with(path))
                })
                .cloned()
                .unwrap_or_else(|| panic!("{rule} in {path}: {found:?}"))
        };
        let id = column("cn-resident-id");
        let v = &id["column_values"];
        assert_eq!(
            (
                n(&id["count"]),
                n(&v["distinct"]),
                n(&v["first_row"]),
                n(&v["last_row"])
            ),
            (rows as u64, rows as u64 / 2, 1, rows as u64),
            "{path}"
        );
        assert_eq!(
            n(&column("cn-mobile")["column_values"]["distinct"]),
            rows as u64
        );
        let key = column("aws-access-key-id");
        assert_eq!(n(&key["table"]["row"]), 90_001, "{path}");
    }
    let (cells, _) = scan_jsonl(t.path(), &["--each-cell"]);
    let per_rule = |rule: &str| cells.iter().filter(|f| f["rule"] == rule).count();
    assert_eq!(
        (per_rule("cn-resident-id"), per_rule("cn-mobile")),
        (2 * rows, 2 * rows)
    );
}
