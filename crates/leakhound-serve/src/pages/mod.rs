//! One handler per page, a file per part of the site: signing in (`login.rs`), the
//! findings with triage and exports (`findings.rs`), scans, exposure and the audit log
//! (`overview.rs`), accounts (`users.rs`). Reads and writes go to the store on a
//! blocking thread; pages are askama templates (`templates/`), which escape every
//! value, so a file name with markup in it is shown as text.

mod findings;
mod login;
mod overview;
mod users;

pub(crate) use findings::{export_csv, export_sarif, finding, findings, triage};
pub(crate) use login::{login, login_form, logout};
pub(crate) use overview::{audit, exposure, scans};
pub(crate) use users::{change_user, users};

use crate::accounts::Role;
use crate::session::Signed;
use crate::App;
use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use leakhound_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

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
pub(crate) async fn with_store<T: Send + 'static>(
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
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    )
}

pub(crate) async fn script() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
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
    fn times_and_fingerprints_are_shortened() {
        assert_eq!(when("2026-12-07T01:02:03.456Z"), "2026-12-07 01:02");
        assert_eq!(when("short"), "short");
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("ab"), "ab");
    }
}
