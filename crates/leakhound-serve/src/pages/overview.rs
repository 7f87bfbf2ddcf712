//! Scans, exposure and the audit log.

use super::{html, when, with_store, Failure, Nav};
use crate::filters::pairs;
use crate::session::Signed;
use crate::App;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use leakhound_reports::AssessedTable;
use leakhound_store::{AuditCursor, AuditEntry, ScanRow};
use std::sync::Arc;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_come_from_the_detail() {
        assert_eq!(
            identifiers(r#"{"distinct":{"mobile":12,"resident_id":10}}"#),
            "mobile 12, resident_id 10"
        );
        assert_eq!(identifiers("not json"), "");
    }
}
