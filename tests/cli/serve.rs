//! `leakhound serve` and `leakhound users`: the real binary serving a real datastore
//! (SQLite, then the machine's PostgreSQL), driven over HTTP on loopback. The browser
//! tests (`browser.rs`) drive the same server through Chromium.

use crate::datastore::{on_both, scan};
use crate::tree::{run_in, run_with_stdin, values::*, Tree};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A file name with markup in it: it must come back as text.
pub(crate) const MARKUP: &str = "<img src=x onerror=alert(1)>.env";

/// Findings of several rules in several files, one of them named with markup.
pub(crate) fn fixture(t: &Tree, store: &str) {
    t.file(&format!("app/{MARKUP}"), format!("token={GITHUB}\n"))
        .file(
            "app/config.py",
            format!("AWS_ACCESS_KEY_ID = \"{AWS_ID}\"\nAWS_SECRET_ACCESS_KEY = \"{AWS_SECRET}\"\n"),
        )
        .file("people/list.txt", format!("客户 {ID1} 电话 {MOBILE}\n"));
    scan(t, store, &[]);
}

/// Make an account with `leakhound users add`.
pub(crate) fn add_user(t: &Tree, store: &str, name: &str, role: &str, password: &str) {
    let run = run_with_stdin(
        t.path(),
        &[
            "users",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--datastore",
            store,
        ],
        Some(format!("{password}\n").as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// The address in the server's "listening" line: `http://127.0.0.1:PORT`.
fn served_at(line: &str) -> Option<String> {
    ["https://", "http://"].iter().find_map(|scheme| {
        let rest = line.split(scheme).nth(1)?;
        Some(format!("{scheme}{}", rest.split('/').next()?))
    })
}

/// A running `leakhound serve`, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(store: &str) -> Server {
        Server::start_with(store, &[])
    }

    pub fn start_with(store: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leakhound"))
            .args(["serve", "--datastore", store, "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start leakhound serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .and_then(Result::ok)
                .unwrap_or_else(|| panic!("leakhound serve stopped before listening"));
            if let Some(base) = served_at(&line) {
                break base;
            }
        };
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client with its own cookies, that does not follow redirects.
pub(crate) struct Client {
    agent: ureq::Agent,
    base: String,
    cookies: BTreeMap<String, String>,
}

/// An answer: status, headers (lower-case names), body.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    pub fn new(server: &Server) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        Client::with_agent(server, agent)
    }

    pub fn with_agent(server: &Server, agent: ureq::Agent) -> Client {
        Client {
            agent,
            base: server.base.clone(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn answer(&mut self, mut r: ureq::http::Response<ureq::Body>) -> Answer {
        let headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.into(), value.into());
                    }
                }
            }
        }
        Answer {
            status: r.status().as_u16(),
            headers,
            body: r.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let r = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .call()
            .expect("GET");
        self.answer(r)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded_pairs(form);
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body)
            .expect("POST");
        self.answer(r)
    }

    /// Sign in through the login form; the answer to the form's post.
    pub fn login(&mut self, name: &str, password: &str) -> Answer {
        let form = self.get("/login");
        let token = hidden(&form.body, "token");
        self.post(
            "/login",
            &[("name", name), ("password", password), ("token", &token)],
        )
    }
}

fn form_urlencoded_pairs(form: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

/// The value of the hidden input `name` in a page.
pub(crate) fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    page.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no hidden {name} in the page"))
        .to_string()
}

/// The fingerprints offered for triage on a finding list.
fn offered(page: &str) -> Vec<String> {
    page.split("name=\"fp\" value=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

const ANA: &str = "correct horse battery";
const VIC: &str = "viewer password 1";

#[test]
fn analysts_triage_in_the_browser_and_the_cli_sees_it() {
    on_both(|t, store| {
        fixture(t, store);
        add_user(t, store, "ana", "analyst", ANA);
        add_user(t, store, "vic", "viewer", VIC);
        let server = Server::start(store);
        let mut ana = Client::new(&server);

        // Nothing without signing in; a wrong password is refused.
        let away = ana.get("/findings");
        assert_eq!(
            (away.status, away.header("location")),
            (303, Some("/login"))
        );
        let wrong = ana.login("ana", "not the password");
        assert_eq!(wrong.status, 401, "{}", wrong.body);
        assert!(wrong.body.contains("Wrong name or password"));

        let signed = ana.login("ana", ANA);
        assert_eq!(signed.status, 303, "{}", signed.body);
        let cookie = signed
            .headers
            .iter()
            .find(|(k, v)| k == "set-cookie" && v.starts_with("leakhound_session="))
            .map(|(_, v)| v.clone())
            .expect("session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));

        let list = ana.get("/findings");
        assert_eq!(list.status, 200);
        let csp = list.header("content-security-policy").unwrap_or("");
        assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(list.header("x-frame-options"), Some("DENY"));
        assert_eq!(list.header("cache-control"), Some("no-store"));
        // The file name with markup is text; no raw value is served.
        assert!(list
            .body
            .contains("&#60;img src=x onerror=alert(1)&#62;.env"));
        assert!(!list.body.contains("<img src=x"), "markup served as markup");
        for raw in [GITHUB, AWS_ID, AWS_SECRET, ID1, MOBILE] {
            assert!(!list.body.contains(raw), "raw value served: {raw}");
        }
        let fps = offered(&list.body);
        assert!(fps.len() >= 4, "{fps:?}");
        let csrf = hidden(&list.body, "csrf");

        // A forged post (no token, or another token) changes nothing.
        let forged = ana.post("/triage", &[("fp", &fps[0]), ("status", "false-positive")]);
        assert_eq!(forged.status, 403);
        let wrong_token = ana.post(
            "/triage",
            &[
                ("fp", &fps[0]),
                ("status", "false-positive"),
                ("csrf", "00"),
            ],
        );
        assert_eq!(wrong_token.status, 403);

        // Three at once.
        let done = ana.post(
            "/triage",
            &[
                ("csrf", &csrf),
                ("fp", &fps[0]),
                ("fp", &fps[1]),
                ("fp", &fps[2]),
                ("status", "revoked"),
                ("comment", "rotated <today>"),
                ("back", "/findings?status=revoked"),
            ],
        );
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.header("location"), Some("/findings?status=revoked"));
        let revoked = ana.get("/findings?status=revoked");
        assert_eq!(offered(&revoked.body).len(), 3);

        // The CLI sees the page's decisions, and the page the CLI's.
        let report = run_in(
            t.path(),
            &[
                "report",
                "--datastore",
                store,
                "--status",
                "revoked",
                "--format",
                "jsonl",
            ],
        );
        let fingerprints: std::collections::BTreeSet<String> = report
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["fingerprint"].as_str().map(str::to_string))
            .collect();
        assert_eq!(fingerprints.len(), 3, "{}", report.stdout);
        let cli = run_in(
            t.path(),
            &[
                "triage",
                &fps[3],
                "--status",
                "confirmed",
                "--by",
                "cli-user",
                "--datastore",
                store,
            ],
        );
        assert_eq!(cli.code, 0, "{}", cli.stderr);
        let one = ana.get(&format!("/findings/{}", fps[3]));
        assert_eq!(one.status, 200);
        assert!(one.body.contains("cli-user"), "{}", one.body);
        let audit = ana.get("/audit");
        assert_eq!(audit.body.matches("<td>ana</td><td>triage</td>").count(), 3);
        assert_eq!(
            audit
                .body
                .matches("<td>cli-user</td><td>triage</td>")
                .count(),
            1
        );
        assert!(audit.body.contains("revoked: rotated &#60;today&#62;"));
        assert!(
            audit.body.contains("<td>login</td>") && audit.body.contains("<td>login-failed</td>")
        );

        // Exports follow the filter and hold no raw value.
        let csv = ana.get("/export.csv?status=revoked");
        assert_eq!(csv.status, 200);
        assert!(csv
            .header("content-disposition")
            .unwrap_or("")
            .contains("attachment"));
        let rows = csv.body.lines().count() - 1;
        assert!(rows >= 3, "{}", csv.body);
        assert!(!csv.body.contains("confirmed"));
        let one_finding = ana.get(&format!("/export.csv?fp={}", fps[0]));
        assert_eq!(one_finding.body.lines().count(), 2, "{}", one_finding.body);
        let sarif = ana.get("/export.sarif?status=confirmed");
        let doc: serde_json::Value = serde_json::from_str(&sarif.body).expect("SARIF is JSON");
        assert_eq!(doc["runs"][0]["results"].as_array().map(Vec::len), Some(1));
        for raw in [GITHUB, AWS_ID, AWS_SECRET, ID1, MOBILE] {
            assert!(!csv.body.contains(raw) && !sarif.body.contains(raw));
        }

        // Exposure: the assessed table, its people and identifiers by kind.
        t.file(
            "exports/customers.csv",
            format!("name,id_card,phone\n张三,{ID1},{MOBILE}\n李四,{ID2},\n"),
        );
        let assess = run_in(
            t.path(),
            &["assess", "--datastore", store, "exports/customers.csv"],
        );
        assert!(assess.code <= 1, "{}", assess.stderr);
        let exposure = ana.get("/exposure");
        assert_eq!(exposure.status, 200);
        assert!(
            exposure.body.contains("exports/customers.csv"),
            "{}",
            exposure.body
        );
        assert!(exposure.body.contains("Assessed outside estate runs"));
        assert!(
            exposure.body.contains("<td>2 (2 – 2)</td>"),
            "{}",
            exposure.body
        );
        assert!(exposure.body.contains("resident_id 2"), "{}", exposure.body);
        for raw in [ID1, ID2, MOBILE] {
            assert!(!exposure.body.contains(raw));
        }

        // A viewer reads, and is refused a change even with a valid token.
        let mut vic = Client::new(&server);
        assert_eq!(vic.login("vic", VIC).status, 303);
        let seen = vic.get("/findings");
        assert_eq!(seen.status, 200);
        assert!(
            offered(&seen.body).is_empty(),
            "viewers get no triage boxes"
        );
        let vic_csrf = hidden(&seen.body, "csrf");
        let refused = vic.post(
            "/triage",
            &[("csrf", &vic_csrf), ("fp", &fps[0]), ("status", "accepted")],
        );
        assert_eq!(refused.status, 403);
        assert_eq!(vic.get("/users").status, 403);
        // Ana's token is not Vic's.
        let crossed = vic.post(
            "/triage",
            &[("csrf", &csrf), ("fp", &fps[0]), ("status", "accepted")],
        );
        assert_eq!(crossed.status, 403);
        let still = ana.get(&format!("/findings/{}", fps[0]));
        assert!(still.body.contains("revoked"));

        // Logging out ends the session on the server, not only in the browser.
        let old_cookies = ana.cookies.clone();
        assert_eq!(ana.post("/logout", &[("csrf", &csrf)]).status, 303);
        ana.cookies = old_cookies;
        assert_eq!(ana.get("/findings").status, 303);
    });
}

#[test]
fn logins_are_throttled_and_disabled_accounts_are_signed_out() {
    let t = Tree::new();
    let store = t.join("findings.db").display().to_string();
    fixture(&t, &store);
    add_user(&t, &store, "ana", "analyst", ANA);
    add_user(&t, &store, "root", "admin", "admin password 1");
    let server = Server::start(&store);

    let mut guesser = Client::new(&server);
    for _ in 0..5 {
        assert_eq!(guesser.login("ana", "guess").status, 401);
    }
    let blocked = guesser.login("ana", ANA);
    assert_eq!(blocked.status, 429, "{}", blocked.body);
    assert!(blocked.header("retry-after").is_some());
    // Another account from the same address (a team behind one proxy) still may.

    let mut root = Client::new(&server);
    assert_eq!(root.login("root", "admin password 1").status, 303);
    let users = root.get("/users");
    assert_eq!(users.status, 200);
    let csrf = hidden(&users.body, "csrf");
    let made = root.post(
        "/users",
        &[
            ("csrf", &csrf),
            ("name", "bea"),
            ("role", "analyst"),
            ("password", "bea password 12"),
            ("action", "save"),
        ],
    );
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.body.contains("bea is saved as analyst"));
    let short = root.post(
        "/users",
        &[
            ("csrf", &csrf),
            ("name", "cy"),
            ("role", "viewer"),
            ("password", "short"),
            ("action", "save"),
        ],
    );
    assert_eq!(short.status, 400);
    let mut bea = Client::new(&server);
    assert_eq!(bea.login("bea", "bea password 12").status, 303);
    assert_eq!(bea.get("/findings").status, 200);
    let off = root.post(
        "/users",
        &[
            ("csrf", &csrf),
            ("name", "bea"),
            ("role", "analyst"),
            ("action", "disable"),
        ],
    );
    assert_eq!(off.status, 200);
    assert_eq!(
        bea.get("/findings").status,
        303,
        "a disabled account's session ends"
    );
    assert_eq!(bea.login("bea", "bea password 12").status, 401);
    let listed = run_in(t.path(), &["users", "list", "--datastore", &store]);
    assert!(
        listed.stdout.contains("bea\tanalyst\tdisabled"),
        "{}",
        listed.stdout
    );
}

#[test]
fn serve_refuses_a_missing_store_and_users_refuse_bad_input() {
    let t = Tree::new();
    let missing = t.join("nope.db").display().to_string();
    let run = run_in(t.path(), &["serve", "--datastore", &missing]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no datastore at"), "{}", run.stderr);
    let store = t.join("findings.db").display().to_string();
    fixture(&t, &store);
    let users_add = |name: &str, stdin: Option<&[u8]>| {
        let mut args = vec![
            "users",
            "add",
            name,
            "--role",
            "admin",
            "--datastore",
            &store,
        ];
        if stdin.is_some() {
            args.push("--password-stdin");
        }
        run_with_stdin(t.path(), &args, stdin)
    };
    let bad = users_add("<b>", Some(b"long enough password\n"));
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("account names"), "{}", bad.stderr);
    let short = users_add("ana", Some(b"short\n"));
    assert_eq!(short.code, 2);
    assert!(short.stderr.contains("at least 12"), "{}", short.stderr);
    let no_tty = users_add("ana", None);
    assert_eq!(no_tty.code, 2);
    assert!(
        no_tty.stderr.contains("--password-stdin"),
        "{}",
        no_tty.stderr
    );
}

#[test]
fn https_with_a_given_certificate() {
    let t = Tree::new();
    let store = t.join("findings.db").display().to_string();
    fixture(&t, &store);
    add_user(&t, &store, "ana", "analyst", ANA);
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .expect("self-signed certificate");
    let (cert, key) = (t.join("cert.pem"), t.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("write cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
    let server = Server::start_with(
        &store,
        &[
            "--tls-cert",
            &cert.display().to_string(),
            "--tls-key",
            &key.display().to_string(),
        ],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let root = ureq::tls::Certificate::from_der(made.cert.der()).to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
            root,
        ])))
        .build();
    let mut ana = Client::with_agent(
        &server,
        ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into(),
    );
    let signed = ana.login("ana", ANA);
    assert_eq!(signed.status, 303, "{}", signed.body);
    let cookie = signed
        .headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("leakhound_session="))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let list = ana.get("/findings");
    assert_eq!(list.status, 200);
    assert_eq!(
        list.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    // Plain HTTP to the HTTPS port gets no page.
    let plain = ureq::get(server.base.replace("https://", "http://") + "/login").call();
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));

    // A key that does not fit is said clearly.
    let other =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("certificate");
    std::fs::write(t.join("other.pem"), other.signing_key.serialize_pem()).expect("write");
    let run = run_in(
        t.path(),
        &[
            "serve",
            "--datastore",
            &store,
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert.display().to_string(),
            "--tls-key",
            &t.join("other.pem").display().to_string(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("TLS certificate"), "{}", run.stderr);
}
