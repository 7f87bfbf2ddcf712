//! Who may do what: roles, password hashes (Argon2id, memory-hard) and the login
//! throttle. The CLI's `users` command makes accounts with these same functions.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read every page and export; change nothing.
    Viewer,
    /// Also triage findings.
    Analyst,
    /// Also manage accounts.
    Admin,
}

impl Role {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// May this role set a finding's status?
    pub fn may_triage(self) -> bool {
        self >= Role::Analyst
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim() {
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}` (viewer, analyst or admin)")),
        }
    }
}

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The name is empty, too long or has characters other than letters, digits and
    /// `.-_@`.
    #[error("account names are 1 to 64 letters, digits or . - _ @")]
    BadName,
    /// Shorter than [`MIN_PASSWORD`] characters.
    #[error("passwords have at least {MIN_PASSWORD} characters")]
    ShortPassword,
    /// The hash could not be made.
    #[error("hashing the password: {0}")]
    Hash(String),
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// Check an account name: what the audit log and pages show must be plain.
pub fn check_name(name: &str) -> Result<(), AccountError> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || ".-_@".contains(c));
    if fine {
        Ok(())
    } else {
        Err(AccountError::BadName)
    }
}

/// Hash a password for the store: Argon2id with its recommended parameters (19 MiB,
/// two passes) and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AccountError::ShortPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Does `password` match the stored hash? A hash that cannot be read matches nothing.
pub fn password_matches(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to check against when the account does not exist, so a wrong name costs
/// as long as a wrong password and timing does not tell which names exist.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("no account has this password, ever").unwrap_or_default())
}

/// Failed logins allowed for one account from one address in [`WINDOW`].
pub(crate) const FAILURES: u32 = 5;
/// Failed logins allowed from one address, whatever the accounts, in [`WINDOW`]:
/// higher, because a team behind one proxy shares an address, and one person's typos
/// must not lock everyone out.
pub(crate) const ADDRESS_FAILURES: u32 = 50;
/// How long failures are remembered.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most; the oldest are forgotten first.
const KEYS: usize = 100_000;

/// The throttle's keys for a login attempt, with their allowances: the account from
/// this address (guessing one password), and the address (spraying many accounts).
pub(crate) fn login_keys(address: &str, name: &str) -> Vec<(String, u32)> {
    vec![
        (format!("{address} {name}"), FAILURES),
        (address.to_string(), ADDRESS_FAILURES),
    ]
}

/// Counts failed logins per key: over its allowance in [`WINDOW`], more attempts are
/// refused until the window ends.
#[derive(Default)]
pub(crate) struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// How long the attempt must wait, if any of its keys is over its allowance.
    pub fn wait(&self, keys: &[(String, u32)]) -> Option<Duration> {
        let now = Instant::now();
        let map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.iter()
            .filter_map(|(k, most)| map.get(k).map(|entry| (entry, most)))
            .filter(|((n, since), most)| *n >= **most && now.duration_since(*since) < WINDOW)
            .map(|((_, since), _)| WINDOW.saturating_sub(now.duration_since(*since)))
            .max()
    }

    /// Count a failed attempt for each of its keys.
    pub fn failed(&self, keys: &[(String, u32)]) {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= KEYS {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        if map.len() >= KEYS {
            return;
        }
        for (k, _) in keys {
            let entry = map.entry(k.clone()).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// A successful login clears the account's count from that address (not the
    /// address's own).
    pub fn succeeded(&self, keys: &[(String, u32)]) {
        if let Some((k, _)) = keys.first() {
            self.failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_match() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches("correct horse battery", &h));
        assert!(!password_matches("correct horse batterY", &h));
        assert!(!password_matches("anything", "not a hash"));
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::ShortPassword)
        ));
        let again = hash_password("correct horse battery").expect("hash");
        assert_ne!(h, again, "salted");
    }

    #[test]
    fn names_are_plain() {
        assert!(check_name("ana.li@example.com").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("<b>x</b>").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn roles_order_and_parse() {
        assert!(Role::Admin.may_triage() && Role::Analyst.may_triage());
        assert!(!Role::Viewer.may_triage());
        for r in [Role::Viewer, Role::Analyst, Role::Admin] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn the_throttle_refuses_one_account_after_five_failures_and_an_address_after_fifty() {
        let t = Throttle::default();
        let ana = login_keys("10.0.0.1", "ana");
        for _ in 0..FAILURES - 1 {
            t.failed(&ana);
        }
        assert_eq!(t.wait(&ana), None);
        t.failed(&ana);
        let wait = t.wait(&ana).expect("refused");
        assert!(wait <= WINDOW && wait > WINDOW - Duration::from_secs(5));
        // Another account from the same address still may; ana from another too.
        assert!(t.wait(&login_keys("10.0.0.1", "bob")).is_none());
        assert!(t.wait(&login_keys("10.0.0.2", "ana")).is_none());
        // Spraying many accounts from one address is stopped at fifty.
        for i in 0..ADDRESS_FAILURES - FAILURES {
            t.failed(&login_keys("10.0.0.1", &format!("user{i}")));
        }
        assert!(t.wait(&login_keys("10.0.0.1", "bob")).is_some());
        assert!(t.wait(&login_keys("10.0.0.3", "bob")).is_none());
        t.succeeded(&ana);
        assert!(t.wait(&login_keys("10.0.0.2", "ana")).is_none());
    }
}
