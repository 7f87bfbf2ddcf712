//! One handler per page. Reads and writes go to the store on a blocking thread; pages
//! are askama templates (`templates/`), which escape every value, so a file name with
//! markup in it is shown as text.

use crate::accounts::{self, Role};
use crate::filters::{pairs, Form, ListQuery};
use crate::session::{self, Signed};
use crate::App;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use leakhound_findings::{Finding, Status};
use leakhound_reports::{AssessedTable, Format, ReportOptions};
use leakhound_store::{
    AuditCursor, AuditEntry, Decision, FindingSummary, ScanRow, Store, StoreError, User,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Findings per page.
const PAGE: usize = 50;
/// The list counts matches up to this many: counting further costs more than the page
/// (a status that 50,000 findings share: 40-55 ms to count to 10,000 on PostgreSQL,
/// 6 ms to 1,000).
const COUNT_CAP: u64 = 1_000;
/// Findings one triage may change.
const MAX_TRIAGE: usize = 1000;
/// Places a finding's page lists (a test token copied into every fixture can have
/// tens of thousands; the export has them all).
const PLACES_SHOWN: u64 = 500;
/// Findings one export may hold: an export is built in memory, and the whole store
/// belongs to `leakhound report`, not to a page.
const EXPORT_AT_MOST: u64 = 100_000;

/// Why a request was not served.
pub(crate) enum Failure {
    /// Not signed in: to the login page.
    Login,
    /// Signed in, but the role does not allow it.
    Forbidden(&'static str),
    /// A form without the session's CSRF token.
    Csrf,
    NotFound,
    BadRequest(String),
    /// Too many failed logins.
    TooMany(Duration),
    /// The store failed (said to the server's log, not to the page).
    Internal(String),
}

impl From<session::NotSigned> for Failure {
    fn from(n: session::NotSigned) -> Failure {
        match n {
            session::NotSigned::Login => Failure::Login,
            session::NotSigned::Store(e) => Failure::Internal(e),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Internal(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    status: u16,
    message: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Failure::Login => return Redirect::to("/login").into_response(),
            Failure::Forbidden(what) => (
                StatusCode::FORBIDDEN,
                format!("Your role does not allow this: {what}."),
            ),
            Failure::Csrf => (
                StatusCode::FORBIDDEN,
                "This form is stale or did not come from this site (CSRF token missing or wrong). Reload the page and try again.".to_string(),
            ),
            Failure::NotFound => (StatusCode::NOT_FOUND, "There is nothing here.".to_string()),
            Failure::BadRequest(why) => (StatusCode::BAD_REQUEST, why),
            Failure::TooMany(wait) => {
                let page = ErrorPage {
                    nav: Nav::none(),
                    status: 429,
                    message: format!(
                        "Too many failed logins. Try again in {} minutes.",
                        wait.as_secs().div_ceil(60)
                    ),
                };
                let mut r = html(StatusCode::TOO_MANY_REQUESTS, &page);
                if let Ok(v) = wait.as_secs().to_string().parse() {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return r;
            }
            Failure::Internal(e) => {
                eprintln!("leakhound serve: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The datastore failed; the server's log says why.".to_string(),
                )
            }
        };
        let page = ErrorPage {
            nav: Nav::none(),
            status: status.as_u16(),
            message,
        };
        html(status, &page)
    }
}

/// Render a template as an HTML answer.
fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            eprintln!("leakhound serve: rendering: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response()
        }
    }
}

/// Run `f` with a store connection on a blocking thread.
async fn with_store<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Failure> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || app.stores.with(f))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?
        .map_err(Failure::from)
}

/// What the top bar shows.
pub(crate) struct Nav {
    pub name: String,
    pub role: String,
    pub csrf: String,
    pub admin: bool,
    pub signed: bool,
}

impl Nav {
    fn of(me: &Signed) -> Nav {
        Nav {
            name: me.name.clone(),
            role: me.role.as_str().to_string(),
            csrf: me.csrf.clone(),
            admin: me.role == Role::Admin,
            signed: true,
        }
    }

    fn none() -> Nav {
        Nav {
            name: String::new(),
            role: String::new(),
            csrf: String::new(),
            admin: false,
            signed: false,
        }
    }
}

/// A fingerprint as lists show it.
fn short(fp: &str) -> &str {
    &fp[..fp.len().min(12)]
}

/// A stored time as pages show it: `2026-12-07 01:02` (UTC).
fn when(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}

/// A local path to go back to after a form, never another site.
fn local(back: &str) -> &str {
    let fine = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && !back.chars().any(char::is_control);
    if fine {
        back
    } else {
        "/findings"
    }
}

pub(crate) async fn home(_me: Signed) -> Redirect {
    Redirect::to("/findings")
}

pub(crate) async fn not_found() -> Failure {
    Failure::NotFound
}

pub(crate) async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", include_str!("../static/app.css"))
}

pub(crate) async fn script() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    )
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

// ---- signing in and out ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    token: String,
    error: String,
}

pub(crate) async fn login_form(headers: HeaderMap, State(app): State<Arc<App>>) -> Response {
    login_page(&headers, &app, StatusCode::OK, String::new())
}

fn login_page(headers: &HeaderMap, app: &App, status: StatusCode, error: String) -> Response {
    let token = match session::cookie(headers, session::LOGIN_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.to_string(),
        _ => match session::random_token() {
            Ok(t) => t,
            Err(e) => return Failure::Internal(e.to_string()).into_response(),
        },
    };
    let cookie = session::set_cookie(
        session::LOGIN_COOKIE,
        &token,
        3600,
        app.config.secure_cookies,
    );
    let page = LoginPage {
        nav: Nav::none(),
        token,
        error,
    };
    let mut r = html(status, &page);
    if let Ok(v) = cookie.parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub(crate) async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let form = Form::parse(&body);
    let (name, password, token) = (form.get("name"), form.get("password"), form.get("token"));
    let expected = session::cookie(&headers, session::LOGIN_COOKIE).unwrap_or("");
    if token.is_empty() || !session::same_token(expected, token) {
        return Err(Failure::Csrf);
    }
    let name: String = name.trim().chars().take(64).collect();
    let keys = accounts::login_keys(&peer.ip().to_string(), &name);
    if let Some(wait) = app.throttle.wait(&keys) {
        return Err(Failure::TooMany(wait));
    }
    let who = name.clone();
    let user = with_store(&app, move |s| s.user(&who)).await?;
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking({
        let user = user.clone();
        move || match &user {
            Some(u) if !u.disabled => accounts::password_matches(&password, &u.password),
            _ => {
                // As long as a real check, so timing does not tell which names exist.
                accounts::password_matches(&password, accounts::decoy_hash());
                false
            }
        }
    })
    .await
    .map_err(|e| Failure::Internal(e.to_string()))?;
    let peer_ip = peer.ip().to_string();
    if !ok {
        app.throttle.failed(&keys);
        let who = name.clone();
        with_store(&app, move |s| {
            s.audit(&who, "login-failed", &who, &format!("from {peer_ip}"))
        })
        .await?;
        return Ok(login_page(
            &headers,
            &app,
            StatusCode::UNAUTHORIZED,
            "Wrong name or password.".into(),
        ));
    }
    app.throttle.succeeded(&keys);
    let token = session::random_token().map_err(|e| Failure::Internal(e.to_string()))?;
    let csrf = session::random_token().map_err(|e| Failure::Internal(e.to_string()))?;
    let expires = jiff::Timestamp::now()
        .checked_add(session::LIFETIME)
        .map_err(|e| Failure::Internal(e.to_string()))?
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let hash = session::token_hash(&token);
    with_store(&app, move |s| {
        s.start_session(&hash, &name, &csrf, &expires)?;
        s.audit(&name, "login", &name, &format!("from {peer_ip}"))
    })
    .await?;
    let secure = app.config.secure_cookies;
    let mut r = Redirect::to("/findings").into_response();
    let h = r.headers_mut();
    let lifetime = session::LIFETIME.as_secs();
    for cookie in [
        session::set_cookie(session::COOKIE, &token, lifetime, secure),
        session::set_cookie(session::LOGIN_COOKIE, "", 0, secure),
    ] {
        if let Ok(v) = cookie.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

pub(crate) async fn logout(
    me: Signed,
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Response, Failure> {
    if !me.csrf_ok(Form::parse(&body).get("csrf")) {
        return Err(Failure::Csrf);
    }
    let (token, name) = (me.token.clone(), me.name.clone());
    with_store(&app, move |s| {
        s.end_session(&token)?;
        s.audit(&name, "logout", &name, "")
    })
    .await?;
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = session::set_cookie(session::COOKIE, "", 0, app.config.secure_cookies).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

// ---- findings ----

/// A choice in a filter's list.
struct Choice {
    word: &'static str,
    on: bool,
}

fn choices<T: Copy + PartialEq>(all: &[T], on: &[T], word: fn(T) -> &'static str) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            word: word(*v),
            on: on.contains(v),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    nav: Nav,
    statuses: Vec<Choice>,
    categories: Vec<Choice>,
    severities: Vec<Choice>,
    q: ListQuery,
    rows: Vec<FindingSummary>,
    count: String,
    next: String,
    query: String,
    here: String,
    may_triage: bool,
    all_statuses: Vec<&'static str>,
}

impl FindingsPage {
    fn short<'a>(&self, fp: &'a str) -> &'a str {
        short(fp)
    }

    fn when(&self, at: &str) -> String {
        when(at)
    }
}

pub(crate) async fn findings(
    me: Signed,
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let q = ListQuery::parse(raw.as_deref());
    let filter = q.filter();
    let after = q.after.clone();
    let page = with_store(&app, move |s| {
        s.finding_page(&filter, after.as_ref(), PAGE, COUNT_CAP)
    })
    .await?;
    let count = page.count;
    let query = q.query_string();
    let next = page.next.as_ref().map_or(String::new(), |c| {
        let mut link = format!("/findings?{query}");
        if !query.is_empty() {
            link.push('&');
        }
        link.push_str("after=");
        link.push_str(&c.encode());
        link
    });
    let count = if count > COUNT_CAP {
        format!("more than {COUNT_CAP}")
    } else {
        count.to_string()
    };
    let here = match raw.as_deref() {
        Some(r) if !r.is_empty() => format!("/findings?{r}"),
        _ => "/findings".to_string(),
    };
    let page = FindingsPage {
        nav: Nav::of(&me),
        statuses: choices(Status::ALL, &q.statuses, Status::as_str),
        categories: choices(
            leakhound_findings::Category::ALL,
            &q.categories,
            leakhound_findings::Category::as_str,
        ),
        severities: choices(
            leakhound_findings::Severity::ALL,
            &q.severities,
            leakhound_findings::Severity::as_str,
        ),
        rows: page.findings,
        count,
        next,
        query,
        here,
        may_triage: me.role.may_triage(),
        all_statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
        q,
    };
    Ok(html(StatusCode::OK, &page))
}

/// One place of a finding, as the finding's page lists it.
struct PlaceView {
    path: String,
    line: u64,
    column: String,
    context: String,
    repository: String,
    commit: String,
    author: String,
    date: String,
    removed: String,
    decoded: String,
    table: String,
}

fn place(f: &Finding) -> PlaceView {
    let git = f.git.as_deref();
    let commit = git.and_then(|g| g.commit.as_ref());
    let table = match (&f.cell, &f.column_values) {
        (Some(cell), Some(values)) => format!(
            "column {} of {}: {} cells, {} distinct, rows {} to {}",
            cell.column,
            cell.name,
            f.count.unwrap_or(0),
            values.distinct,
            cell.row,
            values.last_row
        ),
        (Some(cell), None) => format!("row {}, column {} of {}", cell.row, cell.column, cell.name),
        _ => String::new(),
    };
    PlaceView {
        path: f.location.path.clone(),
        line: f.location.line,
        column: f.location.column.to_string(),
        context: f.line_text.as_deref().unwrap_or("").to_string(),
        repository: git.map(|g| g.repository.clone()).unwrap_or_default(),
        commit: commit.map(|c| short(&c.id).to_string()).unwrap_or_default(),
        author: commit
            .map(|c| format!("{} <{}>", c.author, c.email))
            .unwrap_or_default(),
        date: commit.map(|c| c.date.clone()).unwrap_or_default(),
        removed: git
            .and_then(|g| g.removed.as_deref())
            .map(|r| short(r).to_string())
            .unwrap_or_default(),
        decoded: f.decoded.as_deref().unwrap_or("").to_string(),
        table,
    }
}

#[derive(Template)]
#[template(path = "finding.html")]
struct FindingPage {
    nav: Nav,
    f: FindingSummary,
    places: Vec<PlaceView>,
    /// Places not listed (beyond [`PLACES_SHOWN`]).
    more_places: u64,
    decisions: Vec<Decision>,
    may_triage: bool,
    all_statuses: Vec<&'static str>,
    here: String,
}

impl FindingPage {
    fn when(&self, at: &str) -> String {
        when(at)
    }
}

pub(crate) async fn finding(
    me: Signed,
    State(app): State<Arc<App>>,
    Path(fingerprint): Path<String>,
) -> Result<Response, Failure> {
    if fingerprint.is_empty()
        || fingerprint.len() > 128
        || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(Failure::NotFound);
    }
    let fp = fingerprint.clone();
    let found = with_store(&app, move |s| {
        let Some(summary) = s.finding(&fp)? else {
            return Ok(None);
        };
        let places = s.findings(&leakhound_store::Filter {
            fingerprints: vec![fp.clone()],
            at_most: Some(PLACES_SHOWN),
            ..Default::default()
        })?;
        let decisions = s.decisions(&fp)?;
        Ok(Some((summary, places, decisions)))
    })
    .await?;
    let Some((f, places, decisions)) = found else {
        return Err(Failure::NotFound);
    };
    let page = FindingPage {
        nav: Nav::of(&me),
        more_places: f.places.saturating_sub(places.len() as u64),
        places: places.iter().map(place).collect(),
        decisions,
        may_triage: me.role.may_triage(),
        all_statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
        here: format!("/findings/{}", f.fingerprint),
        f,
    };
    Ok(html(StatusCode::OK, &page))
}

pub(crate) async fn triage(
    me: Signed,
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Response, Failure> {
    let form = Form::parse(&body);
    // The token first: a forged post learns nothing, not even whether the role fits.
    if !me.csrf_ok(form.get("csrf")) {
        return Err(Failure::Csrf);
    }
    if !me.role.may_triage() {
        return Err(Failure::Forbidden("triage needs the analyst or admin role"));
    }
    let status: Status = form
        .get("status")
        .parse()
        .map_err(|e: leakhound_findings::ParseKindError| Failure::BadRequest(e.to_string()))?;
    let comment = Some(form.get("comment").trim())
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(2000).collect::<String>());
    let fingerprints: Vec<String> = form
        .all("fp")
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .filter(|v| v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .collect();
    if fingerprints.is_empty() {
        return Err(Failure::BadRequest(
            "Tick at least one finding to triage.".into(),
        ));
    }
    if fingerprints.len() > MAX_TRIAGE {
        return Err(Failure::BadRequest(format!(
            "At most {MAX_TRIAGE} findings at once."
        )));
    }
    let back = local(form.get("back")).to_string();
    let by = me.name.clone();
    with_store(&app, move |s| {
        s.triage_many(&fingerprints, status, comment.as_deref(), &by)
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

// ---- scans, exposure, audit ----

#[derive(Template)]
#[template(path = "scans.html")]
struct ScansPage {
    nav: Nav,
    scans: Vec<ScanRow>,
    runs: Vec<String>,
}

impl ScansPage {
    fn when(&self, at: &str) -> String {
        when(at)
    }

    fn targets(&self, json: &str) -> String {
        serde_json::from_str::<Vec<String>>(json)
            .map(|t| t.join(", "))
            .unwrap_or_else(|_| json.to_string())
    }
}

pub(crate) async fn scans(me: Signed, State(app): State<Arc<App>>) -> Result<Response, Failure> {
    let (scans, runs) = with_store(&app, |s| Ok((s.scans(200)?, s.runs(50)?))).await?;
    let page = ScansPage {
        nav: Nav::of(&me),
        scans,
        runs,
    };
    Ok(html(StatusCode::OK, &page))
}

/// One system (an estate run's target) and the tables assessed in it.
struct SystemView {
    name: String,
    tables: Vec<TableView>,
}

/// One assessed table with its distinct identifiers by kind.
struct TableView {
    table: AssessedTable,
    identifiers: String,
}

#[derive(Template)]
#[template(path = "exposure.html")]
struct ExposurePage {
    nav: Nav,
    systems: Vec<SystemView>,
}

impl ExposurePage {
    fn percent(&self, ratio: &f64) -> String {
        format!("{:.0}%", ratio * 100.0)
    }
}

/// "resident_id 1203, mobile 1190" from a stored assessment's detail.
fn identifiers(detail: &str) -> String {
    let detail: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
    detail["distinct"]
        .as_object()
        .map(|kinds| {
            kinds
                .iter()
                .filter_map(|(kind, n)| Some(format!("{kind} {}", n.as_u64()?)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub(crate) async fn exposure(me: Signed, State(app): State<Arc<App>>) -> Result<Response, Failure> {
    let rows = with_store(&app, |s| s.assessments()).await?;
    let mut systems: Vec<SystemView> = Vec::new();
    for r in rows {
        let name = r
            .target
            .clone()
            .unwrap_or_else(|| "Assessed outside estate runs".to_string());
        let view = TableView {
            identifiers: identifiers(&r.detail),
            table: AssessedTable::from_stored(
                r.source,
                r.format,
                r.rows,
                (r.distinct_people, r.distinct_vehicles),
                r.at,
                &r.detail,
            ),
        };
        match systems.iter_mut().find(|s| s.name == name) {
            Some(s) => s.tables.push(view),
            None => systems.push(SystemView {
                name,
                tables: vec![view],
            }),
        }
    }
    let page = ExposurePage {
        nav: Nav::of(&me),
        systems,
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    entries: Vec<AuditEntry>,
    next: String,
}

impl AuditPage {
    fn when(&self, at: &str) -> String {
        at.get(..23).unwrap_or(at).replace('T', " ")
    }
}

pub(crate) async fn audit(
    me: Signed,
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let from = pairs(raw.unwrap_or_default().as_bytes())
        .into_iter()
        .find(|(k, _)| k == "from")
        .and_then(|(_, v)| AuditCursor::decode(&v));
    let (entries, next) = with_store(&app, move |s| s.audit_log(from.as_ref(), 100)).await?;
    let next = next.map_or(String::new(), |c| {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("from", &c.encode())
            .finish();
        format!("/audit?{q}")
    });
    let page = AuditPage {
        nav: Nav::of(&me),
        entries,
        next,
    };
    Ok(html(StatusCode::OK, &page))
}

// ---- accounts ----

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<User>,
    message: String,
}

impl UsersPage {
    fn when(&self, at: &str) -> String {
        when(at)
    }
}

pub(crate) async fn users(me: Signed, State(app): State<Arc<App>>) -> Result<Response, Failure> {
    if me.role != Role::Admin {
        return Err(Failure::Forbidden("managing accounts needs the admin role"));
    }
    users_page(&me, &app, StatusCode::OK, String::new()).await
}

async fn users_page(
    me: &Signed,
    app: &Arc<App>,
    status: StatusCode,
    message: String,
) -> Result<Response, Failure> {
    let users = with_store(app, |s| s.users()).await?;
    let page = UsersPage {
        nav: Nav::of(me),
        users,
        message,
    };
    Ok(html(status, &page))
}

pub(crate) async fn change_user(
    me: Signed,
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Response, Failure> {
    let form = Form::parse(&body);
    let field = |k: &str| form.get(k).to_string();
    if !me.csrf_ok(form.get("csrf")) {
        return Err(Failure::Csrf);
    }
    if me.role != Role::Admin {
        return Err(Failure::Forbidden("managing accounts needs the admin role"));
    }
    let name = field("name").trim().to_string();
    let role: Role = match field("role").parse() {
        Ok(r) => r,
        Err(e) => return users_page(&me, &app, StatusCode::BAD_REQUEST, e).await,
    };
    let disabled = field("action") == "disable";
    if disabled && name == me.name {
        return users_page(
            &me,
            &app,
            StatusCode::BAD_REQUEST,
            "You cannot disable your own account.".into(),
        )
        .await;
    }
    if let Err(e) = accounts::check_name(&name) {
        return users_page(&me, &app, StatusCode::BAD_REQUEST, e.to_string()).await;
    }
    let password = field("password");
    let who = name.clone();
    let existing = with_store(&app, move |s| s.user(&who)).await?;
    let hash = match (&existing, password.is_empty()) {
        (Some(u), true) => u.password.clone(),
        (None, true) => {
            return users_page(
                &me,
                &app,
                StatusCode::BAD_REQUEST,
                "A new account needs a password.".into(),
            )
            .await
        }
        (_, false) => {
            match tokio::task::spawn_blocking(move || accounts::hash_password(&password))
                .await
                .map_err(|e| Failure::Internal(e.to_string()))?
            {
                Ok(h) => h,
                Err(e) => {
                    return users_page(&me, &app, StatusCode::BAD_REQUEST, e.to_string()).await
                }
            }
        }
    };
    let user = User {
        created_at: existing
            .as_ref()
            .map(|u| u.created_at.clone())
            .unwrap_or_else(|| {
                jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string()
            }),
        name: name.clone(),
        role: role.as_str().to_string(),
        password: hash,
        disabled,
    };
    let by = me.name.clone();
    with_store(&app, move |s| s.put_user(&user, &by)).await?;
    let said = if disabled {
        format!("{name} is disabled and signed out.")
    } else {
        format!("{name} is saved as {}.", role.as_str())
    };
    users_page(&me, &app, StatusCode::OK, said).await
}

// ---- exports ----

async fn export(app: &Arc<App>, raw: Option<String>, format: Format) -> Result<Vec<u8>, Failure> {
    let filter = ListQuery::parse(raw.as_deref()).filter();
    let findings = with_store(app, move |s| {
        if s.count_findings(&filter, EXPORT_AT_MOST + 1)? > EXPORT_AT_MOST {
            return Ok(None);
        }
        s.findings(&filter).map(Some)
    })
    .await?
    .ok_or_else(|| {
        Failure::BadRequest(format!(
            "This filter selects more than {EXPORT_AT_MOST} findings: narrow it, or export the whole store with `leakhound report --datastore STORE --format csv`."
        ))
    })?;
    let version = app.config.tool_version.clone();
    tokio::task::spawn_blocking(move || {
        let summary = leakhound_scan::Summary::of_findings(&findings);
        let options = ReportOptions {
            tool_version: version,
            datastore: Some("leakhound serve".into()),
            ..ReportOptions::default()
        };
        let mut out = Vec::new();
        leakhound_reports::write_report(&mut out, format, &findings.into(), &summary, &options)
            .map(|()| out)
            .map_err(|e| Failure::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Failure::Internal(e.to_string()))?
}

fn download(kind: &'static str, name: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn export_csv(
    _me: Signed,
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let body = export(&app, raw, Format::Csv).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        "attachment; filename=\"leakhound-findings.csv\"",
        body,
    ))
}

pub(crate) async fn export_sarif(
    _me: Signed,
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let body = export(&app, raw, Format::Sarif).await?;
    Ok(download(
        "application/sarif+json",
        "attachment; filename=\"leakhound-findings.sarif\"",
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn going_back_stays_on_this_site() {
        assert_eq!(local("/findings?status=open"), "/findings?status=open");
        for away in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "",
            "/a\nb",
        ] {
            assert_eq!(local(away), "/findings", "{away:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn whatever_a_form_says_the_way_back_stays_here(back in "\\PC{0,60}|//.{0,20}|/\\\\.{0,20}") {
            let to = local(&back);
            proptest::prop_assert!(to.starts_with('/') && !to.starts_with("//"));
            proptest::prop_assert!(!to.contains('\\') && !to.chars().any(char::is_control));
        }
    }

    #[test]
    fn identifiers_come_from_the_detail() {
        assert_eq!(
            identifiers(r#"{"distinct":{"mobile":12,"resident_id":10}}"#),
            "mobile 12, resident_id 10"
        );
        assert_eq!(identifiers("not json"), "");
    }

    #[test]
    fn times_and_fingerprints_are_shortened() {
        assert_eq!(when("2026-12-07T01:02:03.456Z"), "2026-12-07 01:02");
        assert_eq!(when("short"), "short");
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("ab"), "ab");
    }
}
