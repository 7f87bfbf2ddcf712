//! Argument value parsers shared by subcommands.

use leakhound_findings::Category;
use leakhound_rules::RuleSet;
use std::path::PathBuf;

pub use leakhound_inputs::parse_size;

/// Parse one pack of `--rules secret,personal` (clap splits on the commas).
pub fn parse_pack(s: &str) -> Result<Category, String> {
    s.parse::<Category>().map_err(|e| e.to_string())
}

/// Built-in rules, plus custom files, restricted to the chosen packs.
pub fn load_rules(packs: &[Category], files: &[PathBuf]) -> anyhow::Result<RuleSet> {
    use anyhow::Context;
    let mut set = RuleSet::builtin().context("built-in rules are broken (please report this)")?;
    for f in files {
        set.add_file(f)
            .with_context(|| format!("loading --rules-file {}", f.display()))?;
    }
    if !packs.is_empty() {
        set.retain_categories(packs);
    }
    Ok(set)
}

/// Every path named on the command line (`-` is standard input) must exist: a typo in a CI job's path must fail
/// the job (exit 2), not pass it with a warning. Files and folders met while walking
/// that cannot be read stay warnings; only what the user named is checked here.
pub fn named_paths_exist(paths: &[PathBuf]) -> anyhow::Result<()> {
    for p in paths {
        if crate::table_sources::is_database_url(p) || p.as_os_str() == "-" {
            continue;
        }
        if let Err(e) = std::fs::symlink_metadata(p) {
            anyhow::bail!("cannot read {}: {e}", crate::output::safe(p.display()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("100MB"), Ok(100 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("2X").is_err());
        assert!(parse_size("big").is_err());
        assert!(parse_size("99999999999999999999T").is_err());
    }

    #[test]
    fn packs() {
        assert_eq!(parse_pack("vehicle"), Ok(Category::Vehicle));
        assert!(parse_pack("secrets").is_err());
    }
}
