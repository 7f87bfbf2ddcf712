//! Inputs: everything between a path on the command line and a byte buffer the engine
//! can scan.
//!
//! - [`walk`] enumerates files (gitignore optional, `.git/` internals skipped).
//! - [`read`] reads a file: small ones into memory, large ones memory-mapped.
//! - [`archive`] opens zip-family, tar and compressed containers in place, nested,
//!   within [`Limits`], and hands every member to a visitor with its `outer!inner` path.
//! - [`decode`] decides how a buffer is encoded (UTF-8, UTF-16, GBK/GB18030, binary) and
//!   transcodes to UTF-8 so a GBK export gives the same findings as its UTF-8 twin.
//!
//! Nothing here panics on bad input: a corrupt archive, an unreadable file or a zip bomb
//! becomes a [`Problem`] and the scan goes on.
#![deny(missing_docs)]

pub mod archive;
pub mod deadline;
pub mod decode;
pub mod read;
pub mod walk;

/// Separator between archive layers in a display path: `outer.zip!dir/inner.csv`.
pub const LAYER_SEPARATOR: char = '!';

/// Bounds on what archives may expand to. Every limit is a user option.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How many archive layers may be opened inside one another.
    pub max_depth: usize,
    /// Largest plain file scanned (bytes); larger files are skipped and reported.
    pub max_file_size: u64,
    /// Most bytes one top-level file may expand to across all its layers.
    pub max_expanded_size: u64,
    /// Largest allowed expansion ratio (expanded / compressed) of a member or stream,
    /// checked once a member passes 1 MiB: a zip bomb reaches thousands.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 5,
            max_file_size: 4 << 30,
            max_expanded_size: 2 << 30,
            max_ratio: 200,
        }
    }
}

/// Something that could not be read, or was skipped on purpose. Reported, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Display path (with `!` layers).
    pub path: String,
    /// What happened, in words a user can act on.
    pub message: String,
    /// Whether this was a deliberate skip (limits, exclusions) or a read failure.
    pub kind: ProblemKind,
}

/// Kinds of [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The content could not be read or parsed (permissions, corrupt archive).
    Unreadable,
    /// The content was skipped by a limit (size, depth, ratio) or looked malicious.
    Skipped,
}

impl Problem {
    /// Content at `path` could not be read.
    pub fn unreadable(path: &str, message: impl Into<String>) -> Problem {
        Problem {
            path: path.to_string(),
            message: message.into(),
            kind: ProblemKind::Unreadable,
        }
    }

    /// Content at `path` was skipped on purpose.
    pub fn skipped(path: &str, message: impl Into<String>) -> Problem {
        Problem {
            path: path.to_string(),
            message: message.into(),
            kind: ProblemKind::Skipped,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

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
