//! `leakhound serve` in a real browser: headless Chromium, driven by chromedriver over
//! the W3C WebDriver protocol, against the real server on the machine's PostgreSQL.
//!
//! chromedriver is found at `LEAKHOUND_CHROMEDRIVER` or on PATH, Chromium as in
//! `html_report.rs`; `.ci/run` installs Debian's `chromium` and `chromium-driver`.
//! Under CI a missing one fails the test; elsewhere it is skipped with a note.
//!
//! With `LEAKHOUND_SCREENSHOTS=DIR` the test also saves the main pages as PNG files
//! there (`docs/screenshots/regenerate.sh` does this for the docs).
//!
//! The WebDriver calls are a handful of JSON requests, made with the HTTP client the
//! other serve tests use; a WebDriver crate would bring an async stack and TLS for
//! a loopback protocol.

use crate::datastore::{postgres, sqlite};
use crate::serve::{add_user, fixture, Server, MARKUP};
use crate::tree::{values::*, Tree};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver, or `None` (with a note) when the test cannot run.
fn browser() -> Option<(PathBuf, PathBuf)> {
    if std::env::var_os("LEAKHOUND_SKIP_BROWSER").is_some() {
        return None;
    }
    let chromium = std::env::var_os("LEAKHOUND_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromium", "chromium-browser", "google-chrome"]));
    let driver = std::env::var_os("LEAKHOUND_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromedriver"]));
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let why = "no Chromium or chromedriver: install Debian's `chromium` and `chromium-driver` (bash .ci/run does)";
            if std::env::var_os("CI").is_some() {
                panic!("{why}");
            }
            eprintln!("SKIPPED the serve browser test: {why}");
            None
        }
    }
}

/// One browser session through chromedriver; both end when dropped.
struct Browser {
    driver: Child,
    agent: ureq::Agent,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.session).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let mut r = agent
            .post(format!("{base}/session"))
            .header("Content-Type", "application/json")
            .send(caps.to_string())
            .expect("new session");
        let answer: Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
                .expect("session JSON");
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {answer}"));
        Browser {
            driver,
            agent,
            session: format!("{base}/session/{id}"),
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let r = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        };
        let mut r = r.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let text = r.body_mut().read_to_string().unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(error) = v["value"]["error"].as_str() {
            panic!("{method} {path}: {error}: {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn all(&self, css: &str) -> Vec<String> {
        self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
        .collect()
    }

    /// Wait (up to 10 s) until the address satisfies `want`: a click returns before
    /// the navigation it starts has finished.
    fn wait_url(&self, want: impl Fn(&str) -> bool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url();
            if want(&url) {
                return;
            }
            assert!(Instant::now() < deadline, "expected {what}, still at {url}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait (up to 10 s) until `css` matches: a click's navigation may still be
    /// loading when the next command arrives.
    fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.all(css).is_empty() {
            assert!(Instant::now() < deadline, "no {css} on {}", self.url());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn one(&self, css: &str) -> String {
        self.all(css).into_iter().next().unwrap_or_else(|| {
            panic!(
                "no element {css} on {}: {}",
                self.url(),
                self.call("GET", "/source", None)
            )
        })
    }

    fn click(&self, css: &str) {
        let e = self.one(css);
        self.call("POST", &format!("/element/{e}/click"), None);
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.one(css);
        self.call("POST", &format!("/element/{e}/clear"), None);
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn texts(&self, css: &str) -> Vec<String> {
        self.all(css)
            .iter()
            .map(|e| {
                self.call("GET", &format!("/element/{e}/text"), None)
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    fn text(&self, css: &str) -> String {
        self.texts(css).join("\n")
    }

    /// Pick `option` in the `<select>` matched by `css`.
    fn choose(&self, css: &str, option: &str) {
        for e in self.all(&format!("{css} option")) {
            let text = self.call("GET", &format!("/element/{e}/text"), None);
            if text.as_str() == Some(option) {
                self.call("POST", &format!("/element/{e}/click"), None);
                return;
            }
        }
        panic!("no option {option} in {css}");
    }

    /// Run a script (through DevTools: the page's CSP does not apply to it).
    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Save the page as PNG into `LEAKHOUND_SCREENSHOTS`, if set.
    fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("LEAKHOUND_SCREENSHOTS") else {
            return;
        };
        use base64::Engine;
        let png = self.call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("PNG");
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), bytes).expect("write PNG");
    }

    fn login(&self, base: &str, name: &str, password: &str) {
        self.go(&format!("{base}/login"));
        self.type_into("#name", name);
        self.type_into("#password", password);
        self.click("#login");
    }
}

#[test]
fn a_team_triages_in_chromium_against_postgres() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let t = Tree::new();
    let pg = postgres();
    let lite = sqlite(&t);
    let store = pg.as_ref().map_or(lite.spec.clone(), |p| p.spec.clone());
    fixture(&t, &store);
    add_user(&t, &store, "ana", "analyst", "correct horse battery");
    add_user(&t, &store, "vic", "viewer", "viewer password 1");
    t.file(
        "exports/customers.csv",
        format!("name,id_card,phone,vin\n张三,{ID1},{MOBILE},{VIN_CN}\n李四,{ID2},,\n"),
    );
    let assess = crate::tree::run_in(
        t.path(),
        &["assess", "--datastore", &store, "exports/customers.csv"],
    );
    assert!(assess.code <= 1, "{}", assess.stderr);
    let server = Server::start(&store);
    let base = server.base.clone();
    let b = Browser::start(&chromium, &chromedriver);

    // Log in.
    b.go(&format!("{base}/findings"));
    b.wait_url(|u| u.ends_with("/login"), "the login page");
    b.screenshot("login");
    b.login(&base, "ana", "correct horse battery");
    b.wait_url(
        |u| u.ends_with("/findings"),
        "the findings after logging in",
    );
    let all = b.all("input.pick").len();
    assert!(all >= 4, "{all} findings");

    // The file name with markup is shown as text, and made no element.
    let paths = b.text("table.findings td.path");
    assert!(paths.contains(&format!("app/{MARKUP}")), "{paths}");
    assert!(b.all("table.findings img").is_empty());

    // Filter by path: the secrets under app/.
    b.type_into("#path", "app/");
    b.click("#apply");
    b.wait_url(|u| u.contains("path=app%2F"), "the filtered list");
    let boxes = b.all("input.pick");
    assert!(
        boxes.len() >= 3 && boxes.len() < all,
        "{} of {all}",
        boxes.len()
    );
    b.screenshot("findings");

    // Triage three at once: "select all" (the page's script), then untick the rest.
    b.click("#all");
    let ticked = b.script("return document.querySelectorAll('input.pick:checked').length");
    assert_eq!(ticked, json!(boxes.len()));
    for e in &boxes[3..] {
        b.call("POST", &format!("/element/{e}/click"), None);
    }
    b.choose("#status", "revoked");
    b.type_into("#comment", "rotated on the provider's console");
    b.click("#apply-triage");
    b.wait_url(|u| u.contains("path=app%2F"), "back to the same filter");
    b.wait_for("table.findings td.status-revoked");
    let statuses = b.texts("table.findings td[class^=status-]");
    assert_eq!(statuses.len(), boxes.len());
    let revoked = statuses.iter().filter(|s| s.starts_with("revoked")).count();
    assert_eq!(revoked, 3, "{statuses:?}");

    // One finding's page shows the decision.
    b.go(&format!("{base}/findings?status=revoked"));
    let first = b.one("table.findings td a");
    b.call("POST", &format!("/element/{first}/click"), None);
    b.wait_for("#decisions");
    assert!(b
        .text("#decisions")
        .contains("rotated on the provider's console"));
    b.screenshot("finding");

    // The audit log has the three decisions, by ana.
    b.go(&format!("{base}/audit"));
    let audit = b.text("#audit");
    assert_eq!(audit.matches("ana triage").count(), 3, "{audit}");
    b.screenshot("audit");
    b.go(&format!("{base}/exposure"));
    let exposure = b.text("table.exposure");
    assert!(exposure.contains("exports/customers.csv"), "{exposure}");
    assert!(exposure.contains("resident_id 2"), "{exposure}");
    b.screenshot("exposure");
    b.go(&format!("{base}/scans"));
    b.screenshot("scans");

    // A form whose CSRF token was taken out is refused.
    b.go(&format!("{base}/findings?status=open"));
    let open_before = b.all("input.pick").len();
    assert!(open_before >= 1);
    b.click("input.pick");
    b.script("document.querySelector('#triage input[name=csrf]').remove()");
    b.choose("#status", "false-positive");
    b.click("#apply-triage");
    b.wait_for("#error");
    assert!(b.text("#error").contains("CSRF"), "{}", b.text("main"));

    // A post from another site carries no session cookie (SameSite=Strict).
    b.go(&format!("{base}/findings?status=open"));
    let fp = b.script("return document.querySelector('input.pick').value");
    let fp = fp.as_str().unwrap_or_default().to_string();
    assert!(!fp.is_empty());
    let forged = format!(
        "data:text/html,<form method=post action='{base}/triage'><input name=fp value={fp}><input name=status value=false-positive><input name=csrf value=x></form><script>document.forms[0].submit()</script>"
    );
    b.go(&forged);
    std::thread::sleep(Duration::from_millis(500));
    b.go(&format!("{base}/findings/{fp}"));
    assert!(
        b.text("#status-now").starts_with("open"),
        "{}",
        b.text("#status-now")
    );

    // Log out: the session is gone.
    b.click("#logout");
    b.wait_url(
        |u| u.ends_with("/login"),
        "the login page after logging out",
    );
    b.go(&format!("{base}/findings"));
    b.wait_url(
        |u| u.ends_with("/login"),
        "the login page: the session is gone",
    );

    // A viewer sees findings, gets no triage form, and a post with its own valid
    // token is refused.
    b.login(&base, "vic", "viewer password 1");
    b.wait_url(
        |u| u.ends_with("/findings"),
        "the findings after logging in",
    );
    assert!(b.all("input.pick").is_empty());
    assert!(b.all("#apply-triage").is_empty());
    b.script(&format!(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/triage'; \
         const csrf = document.querySelector('input[name=csrf]').value; \
         for (const [k, v] of [['csrf', csrf], ['fp', '{fp}'], ['status', 'false-positive']]) {{ \
           const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }} \
         document.body.appendChild(f); f.submit();"
    ));
    b.wait_for("#error");
    assert!(b.text("#error").contains("role"), "{}", b.text("main"));
    b.go(&format!("{base}/findings/{fp}"));
    assert!(b.text("#status-now").starts_with("open"));
}
