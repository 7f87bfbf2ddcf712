//! Accounts (admins).

use super::{html, when, with_store, Failure, Nav};
use crate::accounts::{self, Role};
use crate::filters::Form;
use crate::session::Signed;
use crate::App;
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use leakhound_store::User;
use std::sync::Arc;

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
