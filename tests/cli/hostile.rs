//! Hostile and damaged input (issue: hardening): names and lines that try to write to
//! the terminal, values of rules that did not run, spreadsheet formulas, another
//! application's database, crafted archive names and depths. Each test failed on the
//! code before its fix.

use crate::tree::{run_in, run_with_stdin, scan_jsonl, values::*, Tree};
use std::io::Write;

/// Nothing a scanned file holds may reach the terminal as a control sequence.
fn assert_no_controls(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| (c.is_control() && !matches!(c, '\n' | '\t')) || *c == '\u{202e}')
        .collect();
    assert!(bad.is_empty(), "{what} carries {bad:?}: {text:?}");
}

#[test]
fn terminal_escapes_in_names_and_lines_are_shown_escaped() {
    let t = Tree::new();
    let name = "a\x1b]0;pwned\x07b\r\u{202e}.env";
    t.file(
        name,
        format!("GITHUB_TOKEN={GITHUB} \x1b[2J\x1b[HALL CLEAN\n"),
    );
    // A broken archive whose name carries escapes: its warning goes to stderr.
    t.file("w\x1b[2J.zip", b"PK\x03\x04 broken");
    let run = run_in(t.path(), &["scan", "--color", "never", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_no_controls("stdout", &run.stdout);
    assert_no_controls("stderr", &run.stderr);
    assert!(
        run.stdout.contains("a\\x1b]0;pwned\\x07b\\r\\u{202e}.env"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\\x1b[2J"), "{}", run.stdout);
    assert!(run.stderr.contains("w\\x1b[2J.zip"), "{}", run.stderr);
}

#[test]
fn a_shown_or_stored_line_carries_no_value_of_rules_that_did_not_run() {
    let t = Tree::new();
    // The ID's checksum is broken on the second line: not a finding, still not shown.
    t.file(
        "row.csv",
        format!("张伟,{ID1},{AWS_ID},{MOBILE}\n李娜,440304198706151230,{MOBILE}\n"),
    );
    let store = t.join("m.db").display().to_string();
    for format in ["human", "jsonl", "csv", "json", "sarif"] {
        let run = run_in(
            t.path(),
            &[
                "scan",
                "--no-config",
                "--rules",
                "personal",
                "--format",
                format,
                "row.csv",
            ],
        );
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        for raw in [AWS_ID, ID1, MOBILE, "440304198706151230"] {
            assert!(
                !run.stdout.contains(raw),
                "{format} shows {raw}:\n{}",
                run.stdout
            );
        }
    }
    let run = run_in(
        t.path(),
        &[
            "scan",
            "--no-config",
            "--rules",
            "personal",
            "--datastore",
            &store,
            "row.csv",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let db = rusqlite::Connection::open(&store).expect("store");
    let mut stmt = db
        .prepare("SELECT COALESCE(line_text, '') FROM locations")
        .expect("query");
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("rows")
        .flatten()
        .collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(
            !l.contains(AWS_ID) && !l.contains(MOBILE),
            "stored raw: {l}"
        );
    }
}

#[test]
fn every_csv_cell_is_guarded_against_formulas() {
    let t = Tree::new();
    let name = "=cmd|' -C calc'!A0.txt";
    t.file(name, format!("token={GITHUB}\n"));
    t.file("@SUM(1+1).txt", format!("token={GITHUB}\n"));
    let run = run_in(
        t.path(),
        &["scan", "--format", "csv", "--", name, "@SUM(1+1).txt"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    for line in run.stdout.lines().skip(1) {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unguarded cell {cell:?} in {line}"
            );
        }
    }
    assert!(run.stdout.contains("'=cmd"), "{}", run.stdout);
}

#[test]
fn another_applications_sqlite_file_is_not_taken_over() {
    let t = Tree::new();
    let app = t.join("app.db");
    {
        let db = rusqlite::Connection::open(&app).expect("app db");
        db.execute_batch(
            "CREATE TABLE orders (id INTEGER, total REAL); INSERT INTO orders VALUES (1, 9.5);",
        )
        .expect("app schema");
    }
    t.file(".env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let store = app.display().to_string();
    let run = run_in(
        t.path(),
        &["scan", "--no-config", "--datastore", &store, ".env"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no leakhound schema"), "{}", run.stderr);
    let db = rusqlite::Connection::open(&app).expect("app db");
    let tables: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(tables, 1, "leakhound added tables");
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "delete");
    // An empty file and a leakhound store are still fine.
    let fresh = t.join("new.db").display().to_string();
    let run = run_in(
        t.path(),
        &["scan", "--no-config", "--datastore", &fresh, ".env"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = run_in(
        t.path(),
        &["scan", "--no-config", "--datastore", &fresh, ".env"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
}

fn zip_of(members: &[(&str, String)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in members {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .expect("member");
            w.write_all(data.as_bytes()).expect("write");
        }
        w.finish().expect("finish");
    }
    buf.into_inner()
}

#[test]
fn archive_members_with_escaping_names_are_scanned_under_clean_names() {
    let t = Tree::new();
    t.file(
        "evil.zip",
        zip_of(&[
            ("../../.env", format!("GITHUB_TOKEN={GITHUB}\n")),
            ("/etc/app.conf", format!("aws_access_key_id = {AWS_ID}\n")),
        ]),
    );
    let (found, run) = scan_jsonl(t.path(), &["evil.zip"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let paths: Vec<&str> = found.iter().filter_map(|f| f["path"].as_str()).collect();
    assert!(paths.contains(&"evil.zip!.env"), "{paths:?}");
    assert!(paths.contains(&"evil.zip!etc/app.conf"), "{paths:?}");
}

#[test]
fn a_thousand_nested_gzip_layers_do_not_overflow_the_stack() {
    // The gzip command builds the layers: flate2 in the test profile takes minutes.
    let t = Tree::new();
    t.file("deep.gz", format!("GITHUB_TOKEN={GITHUB}\n"));
    let built = std::process::Command::new("sh")
        .current_dir(t.path())
        .args([
            "-c",
            "for i in $(seq 1000); do gzip -1 -c -n deep.gz > next && mv next deep.gz; done",
        ])
        .status()
        .expect("sh");
    assert!(built.success());
    let run = run_in(t.path(), &["scan", "--max-depth", "2000", "deep.gz"]);
    assert!(
        run.code == 0 || run.code == 1,
        "rc {}: {}",
        run.code,
        run.stderr
    );
    assert!(run.stderr.contains("nested more than 64"), "{}", run.stderr);
}

#[test]
fn a_named_pipe_is_read_and_a_device_is_refused() {
    let t = Tree::new();
    let fifo = t.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(fifo)
                .expect("open fifo");
            f.write_all(format!("GITHUB_TOKEN={GITHUB}\n").as_bytes())
                .ok();
        })
    };
    let (found, run) = scan_jsonl(t.path(), &["pipe"]);
    writer.join().expect("writer");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["path"], "pipe");
    let run = run_in(t.path(), &["scan", "/dev/zero"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is a device"), "{}", run.stderr);
}

/// A listener on 127.0.0.1 that accepts connections and never says a word.
struct Silent {
    port: u16,
}

impl Silent {
    fn start() -> Silent {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            // Bounded: the test's clients connect a few times at most.
            for stream in listener.incoming().take(8) {
                held.push(stream);
            }
            std::thread::sleep(std::time::Duration::from_secs(120));
        });
        Silent { port }
    }
}

#[test]
fn a_server_that_never_answers_times_out_with_a_clear_error() {
    let silent = Silent::start();
    let t = Tree::new();
    t.file(".env", format!("GITHUB_TOKEN={GITHUB}\n"));
    let pg = format!(
        "postgres://postgres@127.0.0.1:{}/test?connect_timeout=2",
        silent.port
    );
    let my = format!("mysql://root@127.0.0.1:{}/test", silent.port);
    let store = format!(
        "postgres://postgres@127.0.0.1:{}/test?connect_timeout=2",
        silent.port
    );
    for args in [
        vec!["assess", pg.as_str()],
        vec!["assess", my.as_str()],
        vec!["scan", "--no-config", "--datastore", store.as_str(), ".env"],
    ] {
        let started = std::time::Instant::now();
        let run = run_in(t.path(), &args);
        let took = started.elapsed().as_secs();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("did not answer within"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(took < 30, "{args:?} took {took} s");
    }
}

#[test]
fn a_utf16_byte_order_mark_does_not_hide_an_ascii_file() {
    let t = Tree::new();
    let mut bytes = b"\xff\xfe".to_vec();
    bytes.extend_from_slice(format!("GITHUB_TOKEN={GITHUB}\n").as_bytes());
    t.file(".env", &bytes);
    let (found, run) = scan_jsonl(t.path(), &[".env"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule"], "github-pat-classic");
}

/// One bad line in a JSON Lines export made the whole file unreadable to `assess` (and
/// `trace`): it is skipped and counted, in memory and streamed.
#[test]
fn a_bad_json_lines_line_is_skipped_and_counted() {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!("{{\"id\": {i}, \"mobile\": \"1391234{i:04}\"}}\n"));
        if i == 2 {
            text.push_str("{\"id\": 3, \"mobile\": \n");
        }
    }
    let t = Tree::new();
    t.file("people.jsonl", &text);
    for extra in [&[][..], &["--stream-above", "1"][..]] {
        let mut args = vec!["assess", "--format", "json"];
        args.extend_from_slice(extra);
        args.push("people.jsonl");
        let run = run_in(t.path(), &args);
        assert!(run.code == 0 || run.code == 1, "{extra:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("1 line is not JSON, skipped (first: line 4"),
            "{extra:?}: {}",
            run.stderr
        );
        let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        assert_eq!(v["tables"][0]["rows"], 100, "{extra:?}: {}", run.stdout);
    }
}

/// Synthetic customers with valid IDs and mobiles (none real).
fn customers(n: u64) -> Vec<leakhound_trace::Canary> {
    let k = leakhound_trace::Key::from_bytes(b"population generator key for tests")
        .unwrap_or_else(|e| panic!("{e}"));
    (0..n)
        .map(|j| leakhound_trace::canary(&k, "customers", j, 0))
        .collect()
}

/// A stray quote at the start of one CSV cell made every CSV reader take the rest of
/// the file as that cell: `assess` said 6 rows of 200 with no warning, `trace index`
/// indexed a fraction, `scan` placed every later finding in the stray quote's row. A
/// badly escaped SQL string lost the rest of the dump the same way. Now the quote is
/// taken literally, every row is read, and a warning names the line.
#[test]
fn a_stray_quote_does_not_cut_a_table_short() {
    let people = customers(200);
    let mut csv = String::from("customer_id,姓名,身份证号,手机号\n");
    let mut sql = String::from(
        "CREATE TABLE `p` (`customer_id` text, `name` text, `id_card` text, `mobile` text);\n",
    );
    for (i, p) in people.iter().enumerate() {
        let name = if i == 5 {
            format!("\"{}", p.name)
        } else {
            p.name.clone()
        };
        csv.push_str(&format!("C{i:04},{name},{},{}\n", p.resident_id, p.mobile));
        let name = if i == 100 {
            format!("{}'s", p.name)
        } else {
            p.name.clone()
        };
        sql.push_str(&format!(
            "INSERT INTO `p` VALUES ('C{i:04}','{name}','{}','{}');\n",
            p.resident_id, p.mobile
        ));
    }
    let t = Tree::new();
    t.file("people.csv", &csv).file("people.sql", &sql);
    let cases = [
        ("people.csv", "1 stray quote (first on line 7)"),
        (
            "people.sql",
            "1 statement with a string that never closed (first on line 102)",
        ),
    ];
    for (file, warning) in cases {
        for extra in [&[][..], &["--stream-above", "1"][..]] {
            let mut args = vec!["assess", "--format", "json"];
            args.extend_from_slice(extra);
            args.push(file);
            let run = run_in(t.path(), &args);
            assert!(
                run.code == 0 || run.code == 1,
                "{file} {extra:?}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains(warning),
                "{file} {extra:?}: {}",
                run.stderr
            );
            let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
            assert_eq!(
                v["tables"][0]["rows"], 200,
                "{file} {extra:?}: {}",
                run.stdout
            );
        }
    }
    // trace indexes every record.
    let index =
        crate::trace::key_and_index(t.path(), &["--id-col", "customer_id"], &["people.csv"]);
    assert!(
        index.stderr.contains("indexed 200 records"),
        "{}",
        index.stderr
    );
    assert!(index.stderr.contains("stray quote"), "{}", index.stderr);
    // scan places the last row's mobile in row 200, not in the stray quote's row.
    let (findings, _) = scan_jsonl(t.path(), &["people.csv", "people.sql"]);
    for table in ["people.csv", "people.sql!p"] {
        let last = findings
            .iter()
            .filter(|f| f["rule"] == "cn-mobile" && f["table"]["name"] == table)
            .filter_map(|f| f["column_values"]["last_row"].as_u64())
            .max();
        assert_eq!(last, Some(200), "{table}: {findings:?}");
    }
}

/// A SQLite file cut in half gave no table, and the scanner fell back to its raw pages,
/// where values run together: none of 3,000 ID numbers was found, exit 0. Now what
/// SQLite can read is read, the rest is recovered from the leaf pages, and the damage
/// is reported.
#[test]
fn a_sqlite_file_cut_in_half_is_recovered_from_its_pages() {
    let people = customers(3000);
    let t = Tree::new();
    let full = t.join("full.db");
    {
        let c = rusqlite::Connection::open(&full).unwrap_or_else(|e| panic!("{e}"));
        c.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, id_card TEXT, mobile TEXT);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for p in &people {
            c.execute(
                "INSERT INTO customers (name, id_card, mobile) VALUES (?1, ?2, ?3)",
                rusqlite::params![p.name, p.resident_id, p.mobile],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{e}"));
    t.file("cut.db", &bytes[..bytes.len() / 2]);
    let (findings, run) = scan_jsonl(t.path(), &["cut.db"]);
    assert!(
        run.stderr.contains("cut.db: SQLite database: damaged"),
        "{}",
        run.stderr
    );
    let ids: std::collections::HashSet<&str> = findings
        .iter()
        .filter(|f| f["rule"] == "cn-resident-id")
        .filter_map(|f| f["table"]["name"].as_str())
        .collect();
    // Table-level findings: the ID cells of each table read or recovered.
    let found: u64 = findings
        .iter()
        .filter(|f| f["rule"] == "cn-resident-id")
        .filter_map(|f| f["count"].as_u64())
        .sum();
    assert!(found > 1300, "{found} IDs found in {ids:?}; {}", run.stderr);
    // assess counts the people in what was read and recovered, and says it is damaged.
    let run = run_in(t.path(), &["assess", "--format", "json", "cut.db"]);
    assert!(
        run.stderr.contains("recovered from the file's pages"),
        "{}",
        run.stderr
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let rows: u64 = v["tables"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["rows"].as_u64()).sum())
        .unwrap_or(0);
    assert!((1300..=1600).contains(&rows), "{rows}: {}", run.stdout);
    assert_ne!(run.code, 0);
}

/// (rule, line, column) of JSON Lines findings.
fn places_of(jsonl: &str) -> Vec<(String, u64, u64)> {
    let mut v: Vec<(String, u64, u64)> = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

/// Standard input was read whole: `yes | leakhound scan -` grew to gigabytes. Past the
/// first 8 MiB it is now matched in windows as it arrives, also through gzip, with the
/// same findings, lines and columns as the same bytes in a file; so is a `.gz` file.
#[test]
fn long_standard_input_is_matched_in_windows_with_the_file_answer() {
    let filler = "an ordinary log line with nothing secret in it at all\n";
    let mut text = format!("GITHUB_TOKEN={GITHUB}\n");
    while text.len() < (8 << 20) - 30 {
        text.push_str(filler);
    }
    // Straddles the first window's edge.
    text.push_str(&format!("token = {GITHUB}\n"));
    while text.len() < 20 << 20 {
        text.push_str(filler);
    }
    text.push_str(&format!("aws_access_key_id = {AWS_ID}\n"));
    let t = Tree::new();
    t.file("same.txt", &text);
    let file = run_in(t.path(), &["scan", "--format", "jsonl", "same.txt"]);
    let expected = places_of(&file.stdout);
    assert_eq!(expected.len(), 3, "{}", file.stdout);
    let lines: Vec<u64> = expected.iter().map(|e| e.1).collect();
    assert!(
        lines.contains(&1) && lines.iter().all(|&l| l > 0 && l < 400_000),
        "{lines:?}"
    );
    assert!(lines.iter().any(|&l| l > 300_000), "{lines:?}");
    let piped = run_with_stdin(
        t.path(),
        &["scan", "--format", "jsonl", "-"],
        Some(text.as_bytes()),
    );
    assert_eq!(piped.code, 1, "{}", piped.stderr);
    assert_eq!(places_of(&piped.stdout), expected, "{}", piped.stderr);
    let gz = std::process::Command::new("gzip")
        .arg("-c")
        .arg(t.join("same.txt"))
        .output()
        .expect("gzip");
    let piped = run_with_stdin(
        t.path(),
        &["scan", "--format", "jsonl", "-"],
        Some(&gz.stdout),
    );
    assert_eq!(places_of(&piped.stdout), expected, "{}", piped.stderr);
    // A compressed file on disk is decompressed as it is matched, too (it was expanded
    // into memory; this one, 380x smaller compressed, was even skipped as a bomb).
    t.file("app.log.gz", &gz.stdout);
    let file = run_in(t.path(), &["scan", "--format", "jsonl", "app.log.gz"]);
    assert_eq!(places_of(&file.stdout), expected, "{}", file.stderr);
    assert!(
        file.stdout.contains("app.log.gz!app.log"),
        "{}",
        file.stdout
    );
}

/// UTF-16 without a byte-order mark and UTF-32 were matched as raw bytes, where their
/// ASCII is NUL-separated: a key in such a file was not found. They are decoded now, in
/// files read whole and in the windows of a large one.
#[test]
fn utf16_without_a_mark_and_utf32_are_decoded() {
    let text = format!("# settings\nGITHUB_TOKEN={GITHUB}\naws_access_key_id = {AWS_ID}\n");
    let t = Tree::new();
    let le16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let be32: Vec<u8> = text
        .chars()
        .flat_map(|c| (c as u32).to_be_bytes())
        .collect();
    // Past the 16 MiB a file is decoded window by window.
    let mut big32 = be32.clone();
    let filler: Vec<u8> = "nothing here\n"
        .chars()
        .flat_map(|c| (c as u32).to_be_bytes())
        .collect();
    let mut fillers = 0usize;
    while big32.len() < 17 << 20 {
        big32.extend_from_slice(&filler);
        fillers += 1;
    }
    big32.extend_from_slice(&be32);
    t.file("le16.env", &le16)
        .file("be32.env", &be32)
        .file("big32.log", &big32);
    let (findings, run) = scan_jsonl(t.path(), &["."]);
    let mut got: Vec<(String, String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["rule"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    got.sort();
    let big_last = 3 + fillers + 3;
    assert_eq!(got.len(), 8, "{got:?} {}", run.stderr);
    assert!(
        got.iter()
            .any(|(p, r, l)| p == "./le16.env" && r.contains("github") && *l == 2),
        "{got:?}"
    );
    assert!(
        got.iter().any(|(p, _, l)| p == "./be32.env" && *l == 3),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(p, _, l)| p == "./big32.log" && *l as usize == big_last),
        "{got:?}"
    );
}

/// A long table in a compressed file (a `customers.csv.gz` export) was expanded in
/// memory, up to --max-expanded-size per worker. It goes through a temporary file now:
/// memory stays flat, and findings keep their table row and column.
#[test]
fn a_long_compressed_table_keeps_its_cell_places() {
    let people = customers(20);
    let mut csv = String::from("customer_id,note,手机号\n");
    let mut rows = 0u64;
    while csv.len() < 9 << 20 {
        rows += 1;
        csv.push_str(&format!("C{rows:07},no contact given,\n"));
    }
    for p in &people {
        rows += 1;
        csv.push_str(&format!("C{rows:07},called back,{}\n", p.mobile));
    }
    let t = Tree::new();
    t.file("customers.csv", &csv);
    let gz = std::process::Command::new("gzip")
        .arg("-c")
        .arg(t.join("customers.csv"))
        .output()
        .expect("gzip");
    std::fs::remove_file(t.join("customers.csv")).expect("rm");
    t.file("customers.csv.gz", &gz.stdout);
    let (findings, run) = scan_jsonl(t.path(), &["--each-cell", "customers.csv.gz"]);
    let mobiles: Vec<(String, String, u64)> = findings
        .iter()
        .filter(|f| f["rule"] == "cn-mobile")
        .map(|f| {
            (
                f["table"]["name"].as_str().unwrap_or("").to_string(),
                f["table"]["column"].as_str().unwrap_or("").to_string(),
                f["table"]["row"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(mobiles.len(), 20, "{}", run.stderr);
    assert!(
        mobiles.contains(&(
            "customers.csv.gz!customers.csv".into(),
            "手机号".into(),
            rows
        )),
        "{mobiles:?}"
    );
}
