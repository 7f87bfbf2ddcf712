//! Accounts and login sessions of `leakhound serve`, kept in the store so every
//! server in front of one team store knows the same people.
//!
//! The store only keeps what cannot be used as it is: a password's memory-hard hash
//! (made by the server, as a PHC string) and a SHA-256 of each session's cookie token.

use crate::rows::{Param, Value};
use crate::runs::Sql;
use crate::StoreError;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// `viewer`, `analyst` or `admin`.
    pub role: String,
    /// The password's hash, as a PHC string (`$argon2id$…`).
    pub password: String,
    /// When it was made (RFC 3339 UTC).
    pub created_at: String,
    /// A disabled account cannot log in; its sessions are ended.
    pub disabled: bool,
}

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose.
    pub user: User,
    /// The token every form of this session must carry (CSRF).
    pub csrf: String,
    /// When it ends (RFC 3339 UTC).
    pub expires_at: String,
}

fn text(row: &[Value], i: usize) -> String {
    match row.get(i) {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Int(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn user(row: &[Value]) -> User {
    User {
        name: text(row, 0),
        role: text(row, 1),
        password: text(row, 2),
        created_at: text(row, 3),
        disabled: matches!(row.get(4), Some(Value::Int(n)) if *n != 0),
    }
}

const USER_COLUMNS: &str = "u.name, u.role, u.password, u.created_at, u.disabled";

/// Make the account, or change its role, password and standing if it exists.
/// Returns whether it was new.
pub(crate) fn put_user(sql: &mut dyn Sql, u: &User) -> Result<bool, StoreError> {
    let disabled = Param::Int(i64::from(u.disabled));
    let changed = sql.execute(
        "UPDATE users SET role = ?, password = ?, disabled = ? WHERE name = ?",
        &[
            Param::Text(u.role.clone()),
            Param::Text(u.password.clone()),
            disabled.clone(),
            Param::Text(u.name.clone()),
        ],
    )?;
    if changed == 0 {
        sql.execute(
            "INSERT INTO users (name, role, password, created_at, disabled) VALUES (?, ?, ?, ?, ?)",
            &[
                Param::Text(u.name.clone()),
                Param::Text(u.role.clone()),
                Param::Text(u.password.clone()),
                Param::Text(u.created_at.clone()),
                disabled,
            ],
        )?;
    }
    if u.disabled {
        sql.execute(
            "DELETE FROM web_sessions WHERE user_name = ?",
            &[Param::Text(u.name.clone())],
        )?;
    }
    Ok(changed == 0)
}

/// The account called `name`.
pub(crate) fn get_user(sql: &mut dyn Sql, name: &str) -> Result<Option<User>, StoreError> {
    let rows = sql.query(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = ?"),
        &[Param::Text(name.to_string())],
    )?;
    Ok(rows.first().map(|r| user(r)))
}

/// Every account, by name.
pub(crate) fn users(sql: &mut dyn Sql) -> Result<Vec<User>, StoreError> {
    let rows = sql.query(
        &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"),
        &[],
    )?;
    Ok(rows.iter().map(|r| user(r)).collect())
}

/// Start a session: `token` is the SHA-256 (hex) of the cookie's value.
pub(crate) fn start_session(
    sql: &mut dyn Sql,
    token: &str,
    user: &str,
    csrf: &str,
    now: &str,
    expires_at: &str,
) -> Result<(), StoreError> {
    // Sessions that ended are swept whenever one starts: no job to schedule.
    sql.execute(
        "DELETE FROM web_sessions WHERE expires_at < ?",
        &[Param::Text(now.to_string())],
    )?;
    sql.execute(
        "INSERT INTO web_sessions (token, user_name, csrf, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?)",
        &[
            Param::Text(token.to_string()),
            Param::Text(user.to_string()),
            Param::Text(csrf.to_string()),
            Param::Text(now.to_string()),
            Param::Text(expires_at.to_string()),
        ],
    )?;
    Ok(())
}

/// The live session whose token hashes to `token`, with its (enabled) account.
pub(crate) fn session(
    sql: &mut dyn Sql,
    token: &str,
    now: &str,
) -> Result<Option<Session>, StoreError> {
    let rows = sql.query(
        &format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM web_sessions s \
             JOIN users u ON u.name = s.user_name \
             WHERE s.token = ? AND s.expires_at > ? AND u.disabled = 0"
        ),
        &[Param::Text(token.to_string()), Param::Text(now.to_string())],
    )?;
    Ok(rows.first().map(|r| Session {
        user: user(r),
        csrf: text(r, 5),
        expires_at: text(r, 6),
    }))
}

/// End the session whose token hashes to `token`.
pub(crate) fn end_session(sql: &mut dyn Sql, token: &str) -> Result<(), StoreError> {
    sql.execute(
        "DELETE FROM web_sessions WHERE token = ?",
        &[Param::Text(token.to_string())],
    )?;
    Ok(())
}
