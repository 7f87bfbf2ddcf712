//! The finding list, one finding, triage, and exports of a filter.

use super::{html, local, short, when, with_store, Failure, Nav};
use crate::filters::{Form, ListQuery};
use crate::session::Signed;
use crate::App;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use leakhound_findings::{Finding, Status};
use leakhound_reports::{Format, ReportOptions};
use leakhound_store::{Decision, FindingSummary};
use std::sync::Arc;

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
