//! The inventory: every target of an estate run, read from a TOML file
//! (`estate.toml`), checked before anything is scanned.
//!
//! ```toml
//! [defaults]
//! history = true            # git targets: every commit of every ref
//!
//! [[target]]
//! git = "https://git.example.com/payments/app.git"
//! password_env = "GIT_TOKEN" # the token comes from the environment, never the file
//!
//! [[target]]
//! path = "/mnt/drops/partner-a"
//!
//! [[target]]
//! name = "crm"
//! database_env = "CRM_DATABASE_URL"
//! full = true
//! ```
//!
//! Secrets never sit in the inventory: a URL with a password in it is refused, and
//! passwords, tokens and database URLs are named by the environment variable (a
//! Kubernetes Secret) or file that holds them.

use crate::EstateError;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The whole inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Every target, in file order.
    pub targets: Vec<Target>,
    /// Rule packs to run (empty: all).
    pub rules: Vec<String>,
    /// A digest of the file, so every shard of a run can check it reads the same one.
    pub digest: String,
}

/// One target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Unique name: given, or made from the source (a URL without credentials).
    pub name: String,
    /// What to read.
    pub source: Source,
    /// A size hint in bytes (`size = "2G"`), for balancing before a run has measured it.
    pub size: Option<u64>,
}

/// Where a target's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A git repository by URL (https, http, ssh, git, file), cloned into the cache.
    Git {
        /// The URL, without credentials.
        url: String,
        /// Every commit of every ref (true) or the default branch's files only.
        history: bool,
        /// With history: read only the commits added since the last run that scanned
        /// it (its findings carried over); false rescans everything.
        incremental: bool,
        /// How to authenticate.
        auth: GitAuth,
    },
    /// A file, folder or archive on this machine (or a mounted volume).
    Path {
        /// The path.
        path: PathBuf,
        /// A git repository's history rather than its files.
        history: bool,
        /// With history: only the commits added since the last run (see `Git`).
        incremental: bool,
    },
    /// A live database, assessed (people counted), not scanned for secrets.
    Database {
        /// Where its URL comes from.
        url: Secret,
        /// Rows read per table (`None`: every row).
        sample: Option<u64>,
    },
}

/// Credentials for a git server, by reference only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitAuth {
    /// HTTPS: the user name sent with the password (default `git`; GitLab wants
    /// `oauth2` with OAuth tokens, GitHub takes any).
    pub username: Option<String>,
    /// HTTPS: the password or token, from this environment variable.
    pub password_env: Option<String>,
    /// HTTPS: git's credential store file (`https://user:token@host` lines).
    pub credentials_file: Option<PathBuf>,
    /// SSH: the private key file.
    pub ssh_key: Option<PathBuf>,
    /// SSH: known hosts file (else a host is trusted the first time it is met).
    pub known_hosts: Option<PathBuf>,
}

/// A value that is a secret: never in the inventory itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// In this environment variable.
    Env(String),
    /// In this file (a mounted Kubernetes Secret).
    File(PathBuf),
    /// Written in the inventory (allowed only when it holds no password).
    Plain(String),
}

impl Secret {
    /// The value, read from where it is.
    pub fn reveal(&self) -> Result<String, EstateError> {
        match self {
            Secret::Env(name) => std::env::var(name)
                .map(|v| v.trim().to_string())
                .map_err(|_| EstateError::MissingSecret(format!("environment variable {name}"))),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|v| v.trim().to_string())
                .map_err(|e| EstateError::MissingSecret(format!("{}: {e}", path.display()))),
            Secret::Plain(v) => Ok(v.clone()),
        }
    }
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Defaults,
    #[serde(default, rename = "target")]
    targets: Vec<Entry>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Defaults {
    history: Option<bool>,
    incremental: Option<bool>,
    rules: Option<Vec<String>>,
    full: Option<bool>,
    sample: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: Option<String>,
    git: Option<String>,
    path: Option<PathBuf>,
    database: Option<String>,
    database_env: Option<String>,
    database_file: Option<PathBuf>,
    history: Option<bool>,
    incremental: Option<bool>,
    username: Option<String>,
    password_env: Option<String>,
    credentials_file: Option<PathBuf>,
    ssh_key: Option<PathBuf>,
    known_hosts: Option<PathBuf>,
    full: Option<bool>,
    sample: Option<u64>,
    size: Option<String>,
}

/// Rows read per table of a database when neither `full` nor `sample` is given: every
/// row, since an estate's people figure is what the run is for.
const ALL_ROWS: Option<u64> = None;

impl Inventory {
    /// Read and check the inventory at `path`.
    pub fn load(path: &Path) -> Result<Inventory, EstateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EstateError::Io(path.display().to_string(), e))?;
        Inventory::parse(&text).map_err(|e| match e {
            EstateError::Inventory(m) => EstateError::Inventory(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Check an inventory given as text.
    pub fn parse(text: &str) -> Result<Inventory, EstateError> {
        let file: File =
            toml::from_str(text).map_err(|e| EstateError::Inventory(e.message().to_string()))?;
        let mut targets = Vec::with_capacity(file.targets.len());
        let mut names = HashSet::new();
        for (i, e) in file.targets.into_iter().enumerate() {
            let t = target(e, &file.defaults).map_err(|m| {
                EstateError::Inventory(format!(
                    "target {} (the {} in the file): {m}",
                    i + 1,
                    ordinal(i + 1)
                ))
            })?;
            if !names.insert(t.name.clone()) {
                return Err(EstateError::Inventory(format!(
                    "two targets are named `{}`: give one a `name`",
                    t.name
                )));
            }
            targets.push(t);
        }
        if targets.is_empty() {
            return Err(EstateError::Inventory(
                "no targets: add [[target]] tables with git, path or database_env".into(),
            ));
        }
        let digest = Sha256::digest(text.as_bytes())
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Inventory {
            targets,
            rules: file.defaults.rules.unwrap_or_default(),
            digest,
        })
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn target(e: Entry, d: &Defaults) -> Result<Target, String> {
    let history = e.history.or(d.history).unwrap_or(true);
    let incremental = e.incremental.or(d.incremental).unwrap_or(true);
    let sources = [
        e.git.is_some(),
        e.path.is_some(),
        e.database.is_some() || e.database_env.is_some() || e.database_file.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err("give exactly one of git, path, or database/database_env/database_file".into());
    }
    let git_only = e.username.is_some()
        || e.password_env.is_some()
        || e.credentials_file.is_some()
        || e.ssh_key.is_some()
        || e.known_hosts.is_some();
    if git_only && e.git.is_none() {
        return Err(
            "username, password_env, credentials_file, ssh_key and known_hosts are for git targets"
                .into(),
        );
    }
    let size = match &e.size {
        None => None,
        Some(s) => Some(
            leakhound_inputs::parse_size(s)
                .map_err(|_| format!("size `{s}` is not a size (100M, 2G)"))?,
        ),
    };
    let (source, default_name) = if let Some(url) = e.git {
        if e.incremental.is_some() && !history {
            return Err("incremental is for targets with history".into());
        }
        if has_password(&url) {
            return Err(format!(
                "the URL {} holds a password: put the token in an environment variable and name it with password_env",
                without_password(&url)
            ));
        }
        let name = without_password(&url);
        (
            Source::Git {
                url,
                history,
                incremental,
                auth: GitAuth {
                    username: e.username,
                    password_env: e.password_env,
                    credentials_file: e.credentials_file,
                    ssh_key: e.ssh_key,
                    known_hosts: e.known_hosts,
                },
            },
            name,
        )
    } else if let Some(path) = e.path {
        let name = path.display().to_string();
        (
            Source::Path {
                path,
                history: e.history.unwrap_or(false),
                incremental,
            },
            name,
        )
    } else {
        let (url, name) = if let Some(var) = e.database_env {
            (Secret::Env(var.clone()), format!("${var}"))
        } else if let Some(file) = e.database_file {
            let name = file.display().to_string();
            (Secret::File(file), name)
        } else {
            let url = e.database.unwrap_or_default();
            if has_password(&url) {
                return Err(format!(
                    "the database URL {} holds a password: give it with database_env or database_file",
                    without_password(&url)
                ));
            }
            let name = without_password(&url);
            (Secret::Plain(url), name)
        };
        let full = e.full.or(d.full).unwrap_or(false);
        let sample = if full {
            None
        } else {
            e.sample.or(d.sample).map(Some).unwrap_or(ALL_ROWS)
        };
        (Source::Database { url, sample }, name)
    };
    let name = e.name.unwrap_or(default_name);
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err("a target's name must be printable text".into());
    }
    Ok(Target { name, source, size })
}

/// Does this URL carry a password (`scheme://user:password@host`)?
pub fn has_password(url: &str) -> bool {
    userinfo(url).is_some_and(|(_, info)| info.contains(':'))
}

/// The `user:password` part of a URL and where it starts.
fn userinfo(url: &str) -> Option<(usize, &str)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let at = authority.rfind('@')?;
    Some((start, &authority[..at]))
}

/// The URL as messages may show it: a password becomes `***`.
pub fn without_password(url: &str) -> String {
    match userinfo(url) {
        Some((start, info)) if info.contains(':') => {
            let user = info.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..start], &url[start + info.len()..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_inventory_is_read() {
        let inv = Inventory::parse(
            r#"
[defaults]
history = true
rules = ["secret", "personal"]

[[target]]
git = "https://git.example.com/team/app.git"
password_env = "GIT_TOKEN"

[[target]]
name = "drops"
path = "/mnt/drops"
size = "2G"

[[target]]
name = "crm"
database_env = "CRM_URL"
sample = 500
"#,
        )
        .unwrap();
        assert_eq!(inv.targets.len(), 3);
        assert_eq!(inv.rules, ["secret", "personal"]);
        assert_eq!(inv.targets[0].name, "https://git.example.com/team/app.git");
        assert!(
            matches!(&inv.targets[0].source, Source::Git { history: true, auth, .. }
            if auth.password_env.as_deref() == Some("GIT_TOKEN"))
        );
        assert_eq!(inv.targets[1].size, Some(2 << 30));
        assert!(matches!(
            &inv.targets[1].source,
            Source::Path { history: false, .. }
        ));
        assert!(matches!(&inv.targets[2].source,
            Source::Database { url: Secret::Env(v), sample: Some(500) } if v == "CRM_URL"));
        assert_eq!(inv.digest.len(), 24);
    }

    #[test]
    fn passwords_in_the_file_are_refused_and_not_repeated() {
        let e =
            Inventory::parse("[[target]]\ngit = \"https://bob:hunter2@git.example.com/x.git\"\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("password_env"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = Inventory::parse("[[target]]\ndatabase = \"postgres://app:s3cret@db/crm\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("database_env") && !e.contains("s3cret"), "{e}");
        // A user without a password is fine.
        assert!(Inventory::parse("[[target]]\ndatabase = \"postgres://reader@db/crm\"\n").is_ok());
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("", "no targets"),
            ("[[target]]\nname = \"x\"\n", "exactly one"),
            ("[[target]]\ngit = \"a\"\npath = \"b\"\n", "exactly one"),
            ("[[target]]\npath = \"a\"\npath = \"b\"\n", "duplicate"),
            (
                "[[target]]\npath = \"a\"\n[[target]]\npath = \"a\"\n",
                "two targets are named `a`",
            ),
            (
                "[[target]]\npath = \"a\"\nssh_key = \"k\"\n",
                "are for git targets",
            ),
            ("[[target]]\npath = \"a\"\nsize = \"big\"\n", "not a size"),
            ("[[target]]\npath = \"a\"\ncolour = 1\n", "unknown field"),
            (
                "[[target]]\ngit = \"a\"\nhistory = false\nincremental = true\n",
                "incremental is for",
            ),
        ];
        for (text, expected) in cases {
            let e = Inventory::parse(text).unwrap_err().to_string();
            assert!(e.contains(expected), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_digest_follows_the_text() {
        let a = Inventory::parse("[[target]]\npath = \"a\"\n").unwrap();
        let b = Inventory::parse("[[target]]\npath = \"b\"\n").unwrap();
        assert_ne!(a.digest, b.digest);
        assert_eq!(
            a.digest,
            Inventory::parse("[[target]]\npath = \"a\"\n")
                .unwrap()
                .digest
        );
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            without_password("https://u:p@h/x?y=1"),
            "https://u:***@h/x?y=1"
        );
        assert_eq!(without_password("https://h/x@y"), "https://h/x@y");
        assert!(!has_password("ssh://git@h/x.git"));
        assert!(has_password("mysql://root:pw@127.0.0.1/test"));
    }
}
