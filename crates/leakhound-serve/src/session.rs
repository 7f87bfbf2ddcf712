//! Login sessions and CSRF tokens.
//!
//! A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the
//! store keeps only its SHA-256, so whoever reads the store cannot sign in. Each
//! session has its own CSRF token, which every form carries and every change checks.
//! The login form, which has no session yet, checks a token it set in a cookie of its
//! own (double submit).

use crate::accounts::Role;
use crate::pages::{with_store, Failure};
use crate::App;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The session cookie.
pub(crate) const COOKIE: &str = "leakhound_session";
/// The login form's own token cookie.
pub(crate) const LOGIN_COOKIE: &str = "leakhound_login";
/// How long a session lasts.
pub(crate) const LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(12);

/// 32 random bytes as hex.
pub(crate) fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the store keeps of a token.
pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value of cookie `name` in the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for the whole site.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// Equal, in time that does not depend on where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The signed-in account of a request. Pages that take it redirect to the login
/// page without a live session.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub name: String,
    pub role: Role,
    pub csrf: String,
    /// The SHA-256 of the session token (to end it).
    pub token: String,
}

impl Signed {
    /// Check a form's CSRF token against the session's.
    pub fn csrf_ok(&self, given: &str) -> bool {
        same_token(&self.csrf, given)
    }
}

impl FromRequestParts<Arc<App>> for Signed {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, COOKIE) else {
            return Err(Failure::Login);
        };
        let hash = token_hash(token);
        let lookup = hash.clone();
        let Some(session) = with_store(app, move |s| s.session(&lookup)).await? else {
            return Err(Failure::Login);
        };
        Ok(Signed {
            role: session.user.role.parse().unwrap_or(Role::Viewer),
            name: session.user.name,
            csrf: session.csrf,
            token: hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token().expect("random");
        let b = random_token().expect("random");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; leakhound_session=xyz; b=2".parse().expect("value"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "leakhound"), None);
        let set = set_cookie(COOKIE, "v", 60, true);
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.ends_with("Secure")
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
    }
}
