//! Argument value parsers shared by subcommands.

use leakhound_findings::Category;
use leakhound_rules::RuleSet;
use std::path::PathBuf;

/// Parse a size: `1048576`, `512K`, `100MB`, `2GiB`, `1g` (binary multiples: sizes of
/// files and archives are thought of in KiB/MiB by most users).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (try 100M or 2G)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("unknown size unit `{other}` in `{s}` (K, M, G, T)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

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
