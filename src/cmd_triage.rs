//! `leakhound triage`.

use crate::datastore::{who, ExistingDatastore};
use crate::exit;
use anyhow::Context;
use clap::Args;
use leakhound_findings::Status;

#[derive(Args)]
pub struct TriageArgs {
    /// The finding's fingerprint, or its first 8 or more characters.
    fingerprint: String,
    /// The decision.
    #[arg(long, value_parser = parse_status)]
    status: Status,
    /// Why (kept with the decision, shown in reports).
    #[arg(long, short = 'm')]
    comment: Option<String>,
    /// Who decided (default: the login name).
    #[arg(long)]
    by: Option<String>,
    #[command(flatten)]
    store: ExistingDatastore,
}

fn parse_status(s: &str) -> Result<Status, String> {
    s.parse::<Status>().map_err(|e| e.to_string())
}

pub fn run(a: TriageArgs) -> anyhow::Result<u8> {
    let mut store = a.store.open()?;
    let by = who(a.by.as_deref());
    let done = store
        .triage(&a.fingerprint, a.status, a.comment.as_deref(), &by)
        .with_context(|| format!("triaging {}", a.fingerprint))?;
    println!(
        "{} {} {}: {} -> {} (by {by})",
        &done.fingerprint[..12.min(done.fingerprint.len())],
        done.rule,
        done.masked,
        done.previous,
        a.status
    );
    Ok(exit::CLEAN)
}
