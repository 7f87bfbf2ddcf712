//! Where the datastore is, shared by `scan`, `triage` and `report`.

use anyhow::Context;
use clap::Args;
use leakhound_store::Store;

#[derive(Args, Clone, Debug, Default)]
pub struct DatastoreArg {
    /// Datastore: an SQLite file (created if missing) or a postgres:// URL. Without it
    /// (or LEAKHOUND_DATASTORE), nothing is recorded.
    #[arg(long, value_name = "PATH|URL", env = "LEAKHOUND_DATASTORE")]
    pub datastore: Option<String>,
}

impl DatastoreArg {
    /// Open the datastore if one was named.
    pub fn open(&self) -> anyhow::Result<Option<Store>> {
        match &self.datastore {
            None => Ok(None),
            Some(spec) => Store::open(spec)
                .with_context(|| format!("opening datastore {}", shown(spec)))
                .map(Some),
        }
    }

    /// Open the datastore, which this command needs.
    pub fn require(&self) -> anyhow::Result<Store> {
        self.open()?.ok_or_else(|| {
            anyhow::anyhow!("no datastore: pass --datastore PATH|URL or set LEAKHOUND_DATASTORE")
        })
    }

    /// The datastore as messages may show it.
    pub fn shown(&self) -> String {
        self.datastore.as_deref().map(shown).unwrap_or_default()
    }
}

/// A datastore URL without its password, for messages and reports.
pub fn shown(spec: &str) -> String {
    match (spec.find("://"), spec.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &spec[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &spec[..scheme + 3], &spec[at..]),
                None => spec.to_string(),
            }
        }
        _ => spec.to_string(),
    }
}

/// Who is deciding: `--by`, else the login name.
pub fn who(by: Option<&str>) -> String {
    by.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::shown("postgres://app:s3cret@db:5432/leaks"),
            "postgres://app:***@db:5432/leaks"
        );
        assert_eq!(super::shown("findings.db"), "findings.db");
        assert_eq!(super::shown("postgres://app@db/x"), "postgres://app@db/x");
    }
}
