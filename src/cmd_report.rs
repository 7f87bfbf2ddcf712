//! `leakhound report`: what a datastore holds, in any output format.

use crate::args::parse_pack;
use crate::datastore::ExistingDatastore;
use crate::{exit, output};
use anyhow::Context;
use clap::Args;
use leakhound_findings::{Category, Status};
use leakhound_reports::{AssessedTable, ReportOptions};
use leakhound_scan::Summary;
use leakhound_store::Filter;

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    store: ExistingDatastore,
    #[command(flatten)]
    out: output::OutputArgs,
    /// Only findings with these statuses: open, false-positive, confirmed, revoked, accepted.
    #[arg(long, value_delimiter = ',', value_parser = parse_status)]
    status: Vec<Status>,
    /// Only these categories: secret, personal, vehicle, organisation, mining.
    #[arg(long, value_delimiter = ',', value_parser = parse_pack)]
    category: Vec<Category>,
    /// Only findings first seen since: a date (2026-11-01), a time (RFC 3339) or an
    /// age (7d, 12h, 30m).
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    since: Option<String>,
    /// Only what one scan saw: its number, or `latest`.
    #[arg(long, value_name = "N|latest")]
    scan: Option<String>,
    /// One estate run (`leakhound run`), every shard put together: its id, or
    /// `latest`. Adds the run's shards, targets and estate-wide people; "new" means
    /// not seen in the run before it.
    #[arg(long, value_name = "ID|latest", conflicts_with = "scan")]
    run: Option<String>,
}

fn parse_status(s: &str) -> Result<Status, String> {
    s.parse::<Status>().map_err(|e| e.to_string())
}

/// A point in time as the store compares it (RFC 3339 UTC, milliseconds).
pub fn parse_since(s: &str) -> Result<String, String> {
    let t = s.trim();
    let stamp = if let Some(age) = parse_age(t) {
        jiff::Timestamp::now()
            .checked_sub(age)
            .map_err(|e| e.to_string())?
    } else if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        ts
    } else if let Ok(date) = t.parse::<jiff::civil::Date>() {
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|e| e.to_string())?
            .timestamp()
    } else {
        return Err(format!(
            "`{s}` is not a date (2026-11-01), a time (2026-11-01T08:00:00Z) or an age (7d, 12h)"
        ));
    };
    Ok(stamp.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn parse_age(s: &str) -> Option<jiff::SignedDuration> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(jiff::SignedDuration::from_secs(n.checked_mul(secs)?))
}

pub fn run(a: ReportArgs) -> anyhow::Result<u8> {
    let format = a.out.format()?;
    let mut store = a.store.open()?;
    let scan = match a.scan.as_deref() {
        None => None,
        Some("latest") => Some(
            store
                .latest_scan()?
                .map(|s| s.id)
                .context("the datastore has no scans yet")?,
        ),
        Some(n) => {
            let id = n.parse::<i64>().map_err(|_| {
                anyhow::anyhow!("--scan takes a scan number or `latest`, not `{n}`")
            })?;
            // "No findings" for a scan that never ran would read as a clean scan.
            let scans = store.scans(usize::MAX).context("reading the datastore")?;
            if !scans.iter().any(|s| s.id == id) {
                anyhow::bail!(
                    "the datastore has no scan {id} (its scans: {})",
                    match (scans.last(), scans.first()) {
                        (Some(first), Some(last)) => format!("{} to {}", first.id, last.id),
                        _ => "none yet".to_string(),
                    }
                );
            }
            Some(id)
        }
    };
    let run = match a.run.as_deref() {
        None => None,
        Some(asked) => {
            let runs = store.runs(1_000).context("reading the datastore")?;
            let id = if asked == "latest" {
                runs.first()
                    .cloned()
                    .context("the datastore has no runs yet (`leakhound run` records them)")?
            } else {
                asked.to_string()
            };
            match store.run_overview(&id).context("reading the datastore")? {
                Some(overview) => Some(overview),
                // An empty report for a mistyped run would read as a clean estate.
                None => anyhow::bail!(
                    "the datastore has no run {} (its newest runs: {})",
                    crate::output::safe(&id),
                    if runs.is_empty() {
                        "none yet".to_string()
                    } else {
                        runs.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            }
        }
    };
    let filter = Filter {
        statuses: a.status.clone(),
        categories: a.category.clone(),
        since: a.since.clone(),
        scan,
        run: run.as_ref().map(|r| r.id.clone()),
        ..Filter::default()
    };
    let mut findings = store.findings(&filter).context("reading the datastore")?;
    if let Some(r) = &run {
        // New in this run: not seen anywhere in the run before it.
        let new = store
            .run_new_fingerprints(&r.id)
            .context("reading the datastore")?;
        for f in &mut findings {
            if let Some(t) = f.triage.as_deref_mut() {
                t.new = new.contains(&f.fingerprint);
            }
        }
    }
    let summary = Summary::of_findings(&findings);
    let assessments = match &run {
        Some(r) => store.run_assessments(&r.id),
        None => store.assessments(),
    }
    .context("reading assessments from the datastore")?;
    let options = ReportOptions {
        reveal: false,
        color: a.out.colour(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        no_summary: false,
        datastore: Some(a.store.shown()),
        scope: None,
        assessments: assessments.into_iter().map(assessed).collect(),
        run,
    };
    a.out.write(format, &findings.into(), &summary, &options)?;
    Ok(exit::CLEAN)
}

/// A stored assessment as the report shows it.
fn assessed(row: leakhound_store::AssessmentRow) -> AssessedTable {
    AssessedTable::from_stored(
        row.source,
        row.format,
        row.rows,
        (row.distinct_people, row.distinct_vehicles),
        row.at,
        &row.detail,
    )
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_dates_times_and_ages() {
        assert_eq!(
            parse_since("2026-11-01").as_deref(),
            Ok("2026-11-01T00:00:00.000Z")
        );
        assert_eq!(
            parse_since("2026-11-01T08:30:00+08:00").as_deref(),
            Ok("2026-11-01T00:30:00.000Z")
        );
        let week = parse_since("7d").unwrap_or_default();
        assert!(week.ends_with('Z') && week.len() == 24, "{week}");
        assert!(parse_since("last tuesday").is_err());
        assert!(parse_since("99999999999999d").is_err());
    }
}
