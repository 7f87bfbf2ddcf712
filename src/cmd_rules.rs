//! `leakhound rules list` and `leakhound rules check`.

use crate::args::load_rules;
use crate::exit;
use anyhow::Context;
use clap::Subcommand;
use leakhound_matcher::{check_examples, Matcher};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Print every rule: id, category, severity, validator, name.
    List {
        /// Also load rules from this file.
        #[arg(long = "rules-file", value_name = "FILE")]
        rules_files: Vec<PathBuf>,
    },
    /// Compile every rule and run its examples; exit 1 on any mismatch.
    Check {
        /// Check only the rules in this file (built-in filters still apply).
        file: Option<PathBuf>,
    },
}

pub fn run(c: RulesCommand) -> anyhow::Result<u8> {
    match c {
        RulesCommand::List { rules_files } => list(&rules_files),
        RulesCommand::Check { file } => check(file),
    }
}

fn list(files: &[PathBuf]) -> anyhow::Result<u8> {
    let set = load_rules(&[], files)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "{:<40} {:<13} {:<9} {:<28} NAME",
        "ID", "CATEGORY", "SEVERITY", "VALIDATOR"
    )?;
    for r in set.rules() {
        writeln!(
            out,
            "{:<40} {:<13} {:<9} {:<28} {}",
            r.id,
            r.category.as_str(),
            r.severity.as_str(),
            r.validator.as_deref().unwrap_or("-"),
            r.name
        )?;
    }
    writeln!(out, "{} rules", set.rules().len())?;
    Ok(exit::CLEAN)
}

fn check(file: Option<PathBuf>) -> anyhow::Result<u8> {
    let files: Vec<PathBuf> = file.iter().cloned().collect();
    let set = load_rules(&[], &files)?;
    let matcher = Matcher::new(&set).context("compiling rules")?;
    let source = file.as_ref().map(|f| f.display().to_string());
    let in_scope = |id: &str| {
        source
            .as_ref()
            .is_none_or(|s| set.rules().iter().any(|r| r.id == id && &r.source == s))
    };
    let failures: Vec<_> = check_examples(&set, &matcher)
        .into_iter()
        .filter(|f| in_scope(&f.rule))
        .collect();
    let checked: Vec<_> = set.rules().iter().filter(|r| in_scope(&r.id)).collect();
    let examples: usize = checked
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    for f in &failures {
        println!("FAIL {f}");
    }
    let missing: Vec<&str> = checked
        .iter()
        .filter(|r| r.examples.is_empty() || r.negative_examples.is_empty())
        .map(|r| r.id.as_str())
        .collect();
    for id in &missing {
        println!("FAIL rule `{id}`: needs at least one example and one negative example");
    }
    println!(
        "{} rules, {} examples: {}",
        checked.len(),
        examples,
        if failures.is_empty() && missing.is_empty() {
            "all pass".to_string()
        } else {
            format!("{} failures", failures.len() + missing.len())
        }
    );
    Ok(if failures.is_empty() && missing.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    })
}
