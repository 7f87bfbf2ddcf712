//! Signing in and out.

use super::{html, with_store, Failure, Nav};
use crate::accounts;
use crate::filters::Form;
use crate::session::{self, Signed};
use crate::App;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use std::sync::Arc;

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
