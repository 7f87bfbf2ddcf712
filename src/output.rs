//! Where a report goes and whether it is coloured, shared by `scan` and `report`.

use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::Path;

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
