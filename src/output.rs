//! Where a report goes and whether it is coloured, shared by `scan` and `report`.

use anyhow::Context;
use clap::Args;
use leakhound_reports::{write_report, Format, ReportOptions};
use leakhound_scan::{Findings, Summary};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where and how a findings report is written: shared by `scan`, `host` and `report`.
#[derive(Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, default_value = "human", value_parser = Format::NAMES.to_vec())]
    pub format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour human output: auto, always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

impl OutputArgs {
    /// The chosen format (checked before any work is done).
    pub fn format(&self) -> anyhow::Result<Format> {
        self.format.parse().map_err(anyhow::Error::msg)
    }

    /// Whether human output is coloured.
    pub fn colour(&self) -> bool {
        colour(&self.color, self.output.is_some())
    }

    /// Write the report.
    pub fn write(
        &self,
        format: Format,
        findings: &Findings,
        summary: &Summary,
        options: &ReportOptions,
    ) -> anyhow::Result<()> {
        let mut out = open(self.output.as_deref())?;
        write_report(&mut out, format, findings, summary, options).context("writing the report")
    }
}

/// `--output FILE`, or standard output.
pub fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("creating --output {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// `--color auto|always|never`: auto colours a terminal unless NO_COLOR is set.
pub fn colour(choice: &str, to_file: bool) -> bool {
    match choice {
        "always" => true,
        "never" => false,
        _ => !to_file && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Text from the input (a path in a warning, an error's cause) as it may be written to a
/// terminal: control characters escaped, so a file name cannot retitle the window or
/// clear the screen. See `leakhound_findings::for_terminal`.
pub fn safe(text: impl std::fmt::Display) -> String {
    leakhound_findings::for_terminal(&text.to_string()).into_owned()
}
