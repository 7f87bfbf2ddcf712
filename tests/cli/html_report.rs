//! The HTML report as a browser renders it: headless Chromium loads the page, runs its
//! script, and we read the resulting DOM (not the HTML text leakhound wrote).
//!
//! Chromium is found at `LEAKHOUND_CHROMIUM` or as `chromium` / `chromium-browser` /
//! `google-chrome` on PATH; `.ci/run` installs Debian's. Under CI (`CI` set) a missing
//! browser fails the test; on a developer's machine without one the test says so on
//! stderr and passes, so `cargo test` works on a fresh machine
//! (`LEAKHOUND_SKIP_BROWSER=1` skips it anywhere).

use crate::tree::{run_in, values::*, Tree};
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    if std::env::var_os("LEAKHOUND_SKIP_BROWSER").is_some() {
        return None;
    }
    if let Some(p) = std::env::var_os("LEAKHOUND_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(dir) = std::env::var_os("PATH") {
            for d in std::env::split_paths(&dir) {
                let p = d.join(name);
                if p.is_file() {
                    return Some(p);
                }
            }
        }
    }
    let why = "no Chromium found: install Debian's `chromium` (bash .ci/run does) or set LEAKHOUND_CHROMIUM";
    if std::env::var_os("CI").is_some() {
        panic!("{why}");
    }
    eprintln!("SKIPPED the HTML report browser test: {why}");
    None
}

fn headless(browser: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
        ])
        .args(args)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_html_report_renders_summary_charts_exposure_and_findings_in_a_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let t = Tree::new();
    let db = t.join("store.db").display().to_string();
    t.file(
        "crm.csv",
        format!("name,id,phone\nZhang,{ID1},{MOBILE}\nLi,{ID2},{MOBILE}\n"),
    );
    t.file("app/.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    // A file name crafted as HTML must show as text, never become an element.
    // ... and a folder named as a `javascript:` URL must not become a live link.
    t.file(
        "javascript:alert(document.domain)/<img src=x onerror=alert(1)>.env",
        format!("AWS_ACCESS_KEY_ID={AWS_ID}\n"),
    );
    let scan = |t: &Tree| {
        run_in(
            t.path(),
            &["scan", "--no-config", "--quiet", "--datastore", &db, "."],
        )
    };
    scan(&t);
    let stored = crate::datastore::report(&t, &db, &[]);
    let token = stored
        .iter()
        .find(|f| f["rule"] == "github-pat-classic")
        .and_then(|f| f["fingerprint"].as_str())
        .expect("token stored")
        .to_string();
    let triaged = run_in(
        t.path(),
        &["triage", &token, "--status", "revoked", "--datastore", &db],
    );
    assert_eq!(triaged.code, 0, "{}", triaged.stderr);
    t.file("backup/app.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    scan(&t);
    let stored = crate::datastore::report(&t, &db, &[]);
    // `assess` records its tables in the same store; the report shows them.
    let assessed = run_in(t.path(), &["assess", "--datastore", &db, "crm.csv"]);
    assert_eq!(assessed.code, 1, "{}", assessed.stderr);
    // Recording is said, as `scan` says it.
    assert!(
        assessed
            .stderr
            .contains("recorded the assessment of 1 table in"),
        "{}",
        assessed.stderr
    );
    let page = t.join("report.html");
    let run = run_in(
        t.path(),
        &[
            "report",
            "--datastore",
            &db,
            "--format",
            "html",
            "-o",
            "report.html",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = std::fs::read_to_string(&page).expect("report written");
    assert!(
        !written.contains("src=\"http") && !written.contains("href=\"http"),
        "the page loads nothing from a network"
    );

    let url = format!("file://{}", page.display());
    let dom = headless(&browser, &["--dump-dom", &url]);
    assert!(
        dom.contains("data-rendered=\"true\""),
        "the script did not finish:\n{dom}"
    );
    let section = dom
        .split("id=\"assessments\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .unwrap_or_default();
    // Two rows, two people (two resident IDs; the phone they share joins nobody), no
    // vehicle. Joining every shared value made this one person.
    assert!(
        section.contains(
            "<td>crm.csv (csv)</td><td class=\"num\">2</td><td class=\"num\">2</td><td class=\"num\">0</td>"
        ),
        "assessed tables: {section}"
    );
    assert!(section.contains("id: resident_id 100%"), "{section}");

    // One table row per stored finding.
    assert_eq!(
        dom.matches("<tr class=\"finding\"").count(),
        stored.len(),
        "rows in the DOM vs findings in the store"
    );
    // The cards carry the store's numbers.
    let card = |id: &str| -> String {
        let at = dom
            .find(&format!("id=\"card-{id}\""))
            .unwrap_or_else(|| panic!("card {id} missing"));
        let rest = &dom[at..];
        let n = rest.find("class=\"n\">").map(|i| i + 10).unwrap_or(0);
        rest[n..].split('<').next().unwrap_or("").to_string()
    };
    assert_eq!(card("findings"), stored.len().to_string());
    assert_eq!(card("reappeared"), "1");
    // Exposure: two distinct ID numbers, one phone number (seen twice).
    let exposure = &dom[dom.find("id=\"exposure-table\"").expect("exposure table")..];
    assert!(
        exposure.contains("<td>Chinese resident identity card number</td><td>2</td>"),
        "{exposure}"
    );
    assert!(exposure.contains("<td>Chinese mobile phone number</td><td>1</td>"));
    // One bar per category with findings.
    assert_eq!(
        dom.matches("<rect").count(),
        2 + 3,
        "category bars + severity bars"
    );
    assert!(dom.contains("revoked value in a new place"));
    // Masked values only, and the hostile name is text.
    for raw in [ID1, ID2, MOBILE, GITHUB, AWS_ID] {
        assert!(!dom.contains(raw), "{raw} shown in clear");
    }
    assert!(
        dom.contains("&lt;img src=x onerror=alert(1)&gt;.env"),
        "file name not shown as text"
    );
    assert!(!dom.contains("<img"), "a file name became an element");
    assert!(
        !dom.contains("href=\"javascript:"),
        "a folder name became a javascript: link"
    );
    assert!(
        dom.contains("href=\"./javascript%3Aalert(document.domain)/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.env\""),
        "the link is relative and encoded:\n{dom}"
    );

    // And it draws: a screenshot of a rendered page is far from blank.
    let shot = t.join("report.png");
    headless(
        &browser,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
            &url,
        ],
    );
    let png = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(png > 20_000, "screenshot of {png} bytes looks blank");
}

#[test]
fn an_estate_run_renders_its_shards_targets_and_people_as_text() {
    let Some(browser) = chromium() else {
        return;
    };
    let t = Tree::new();
    let mut csv = String::from("name,id_card\n");
    for i in 1..=3 {
        csv.push_str(&format!("客户{i},{}\n", crate::assess::resident_id(i)));
    }
    t.file("drops/customers.csv", csv);
    // A target name with markup in it must stay text on the page.
    t.file(
        "estate.toml",
        "[[target]]\nname = \"<img src=x onerror=alert(1)>\"\npath = \"drops\"\n\n[[target]]\nname = \"gone\"\npath = \"missing\"\n",
    );
    let key = run_in(t.path(), &["trace", "key", "--out", "k"]);
    assert_eq!(key.code, 0, "{}", key.stderr);
    let run = run_in(
        t.path(),
        &[
            "run",
            "-q",
            "--targets",
            "estate.toml",
            "--datastore",
            "f.db",
            "--key",
            "k",
            "--run",
            "nightly-1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = t.join("estate.html");
    let out = run_in(
        t.path(),
        &[
            "report",
            "--datastore",
            "f.db",
            "--run",
            "nightly-1",
            "--format",
            "html",
            "-o",
            "estate.html",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dom = headless(
        &browser,
        &["--dump-dom", &format!("file://{}", page.display())],
    );
    assert!(dom.contains("data-rendered=\"true\""), "{dom}");
    let section = dom
        .split("id=\"run\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap_or_default();
    assert!(!section.starts_with(" hidden"), "{section}");
    assert!(section.contains("Run nightly-1"), "{section}");
    assert!(
        section.contains("Estate-wide: 3 distinct people"),
        "{section}"
    );
    assert!(section.contains("<td>finished</td>"), "{section}");
    assert!(
        section.contains("<td>gone</td>") && section.contains("<td>failed</td>"),
        "{section}"
    );
    assert!(
        section.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{section}"
    );
    assert!(
        !dom.contains("<img src=\"x\""),
        "markup from a target name became an element"
    );
}
