//! Opening containers in place: zip and its family (jar, apk, docx, xlsx), tar, and
//! gzip, bzip2, xz and zstd streams, nested up to [`Limits::max_depth`].
//!
//! Containers are recognised by their magic bytes, not their names, so a renamed
//! `backup.dat` that is really a zip is opened too. Every member reaches the
//! [`Visitor`] with a display path of the form `outer.zip!dir/inner.csv`.

mod document;
mod image;
mod pdf;

use crate::{Limits, Problem, LAYER_SEPARATOR};
use std::io::{Cursor, Read};

/// Receives what an archive holds.
pub trait Visitor {
    /// Content that is not (or could not be opened as) a container.
    fn leaf(&mut self, path: &str, bytes: &[u8]);
    /// Something was skipped or could not be read.
    fn problem(&mut self, problem: Problem);
    /// Take this container whole, as a leaf, instead of opening it: a spreadsheet is
    /// a zip, but a table reader wants the workbook, not its XML parts.
    fn whole(&mut self, _path: &str) -> bool {
        false
    }
}

/// Below this size a member's expansion ratio is not judged: tiny files of zeros
/// compress a thousandfold and are harmless.
const RATIO_FLOOR: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    /// Not an archive, but read like one: its pages, metadata and attachments.
    Pdf,
}

impl Container {
    fn name(self) -> &'static str {
        match self {
            Container::Zip => "zip",
            Container::Tar => "tar",
            Container::Gzip => "gzip",
            Container::Bzip2 => "bzip2",
            Container::Xz => "xz",
            Container::Zstd => "zstd",
            Container::Pdf => "pdf",
        }
    }
}

fn detect(bytes: &[u8]) -> Option<Container> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(Container::Zip)
    } else if bytes.starts_with(b"\x1f\x8b\x08") {
        Some(Container::Gzip)
    } else if bytes.len() > 4 && bytes.starts_with(b"BZh") && (b'1'..=b'9').contains(&bytes[3]) {
        Some(Container::Bzip2)
    } else if bytes.starts_with(b"\xFD7zXZ\x00") {
        Some(Container::Xz)
    } else if bytes.starts_with(b"\x28\xB5\x2F\xFD") {
        Some(Container::Zstd)
    } else if bytes.len() >= 512 && &bytes[257..262] == b"ustar" {
        Some(Container::Tar)
    } else if pdf::is_pdf(bytes) {
        Some(Container::Pdf)
    } else {
        None
    }
}

/// Is `head` (a file's first bytes) a zip or tar archive or a PDF, which must be read
/// whole?
pub fn is_archive(head: &[u8]) -> bool {
    matches!(
        detect(head),
        Some(Container::Zip | Container::Tar | Container::Pdf)
    )
}

/// The inner file's name when `head` (a file's first bytes) is a gzip, bzip2, xz or
/// zstd stream: `x.csv.gz` gives `x.csv`.
pub fn compressed_name(path: &str, head: &[u8]) -> Option<String> {
    match detect(head)? {
        Container::Zip | Container::Tar | Container::Pdf => None,
        kind => Some(inner_name(path, kind)),
    }
}

/// A reader that decompresses `reader` when `head` (its first bytes) is a gzip, bzip2,
/// xz or zstd stream, with the inner file's name (`x.csv.gz` gives `x.csv`), for
/// readers that stream a big compressed file instead of expanding it in memory.
/// `None` when `head` is not such a stream (or a zstd header is damaged).
pub fn decompressing<'r>(
    path: &str,
    head: &[u8],
    reader: Box<dyn Read + 'r>,
) -> Option<(String, Box<dyn Read + 'r>)> {
    let kind = detect(head)?;
    let inner: Box<dyn Read + 'r> = match kind {
        Container::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Container::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Container::Xz => Box::new(lzma_rust2::XzReader::new(reader, true)),
        Container::Zstd => Box::new(ruzstd::decoding::StreamingDecoder::new(reader).ok()?),
        Container::Zip | Container::Tar | Container::Pdf => return None,
    };
    Some((inner_name(path, kind), inner))
}

/// An OCI image layout folder packed as a tar in memory (its blobs are compressed
/// layers, so this is the size of the folder), for [`expand`] to read as an image.
/// Files past `max_bytes` in total are left out, and the tar says so by being short.
pub fn image_folder_tar(dir: &std::path::Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    image::folder_tar(dir, max_bytes)
}

/// Open `bytes` (found at `path`) and everything inside it, calling the visitor for
/// every leaf. A plain file is itself a single leaf.
pub fn expand(path: &str, bytes: &[u8], limits: &Limits, visitor: &mut dyn Visitor) {
    let mut ex = Expander {
        limits,
        budget: limits.max_expanded_size,
        visitor,
    };
    ex.visit(path, bytes, 0);
}

struct Expander<'a> {
    limits: &'a Limits,
    /// Bytes this top-level file may still expand to.
    budget: u64,
    visitor: &'a mut dyn Visitor,
}

/// A member's name as it is shown: `../../x`, `/abs/x`, `C:/x` and `a/./b` become `x`,
/// `abs/x`, `x` and `a/b`. leakhound never extracts, so such names cannot write
/// anywhere; skipping them (as before) let a crafted archive hide content from the scan.
pub(crate) fn clean_member_name(name: &str) -> String {
    let n = name.replace('\\', "/");
    let n = match n.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &n[2..],
        _ => &n[..],
    };
    let parts: Vec<&str> = n
        .split('/')
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .collect();
    if parts.is_empty() {
        "(unnamed)".to_string()
    } else {
        parts.join("/")
    }
}

/// Archive layers opened inside one another, whatever `--max-depth` asks: each layer is
/// a stack frame, and 1,000 nested gzip layers overflowed the stack at ~450.
pub const MAX_NESTING: usize = 64;

impl Expander<'_> {
    fn visit(&mut self, path: &str, bytes: &[u8], depth: usize) {
        let Some(kind) = detect(bytes) else {
            self.visitor.leaf(path, bytes);
            return;
        };
        if self.visitor.whole(path) {
            self.visitor.leaf(path, bytes);
            return;
        }
        if depth >= self.limits.max_depth.min(MAX_NESTING) {
            self.visitor.problem(Problem::skipped(
                path,
                format!(
                    "{} nested more than {} layers deep; not opened (--max-depth)",
                    kind.name(),
                    self.limits.max_depth.min(MAX_NESTING)
                ),
            ));
            return;
        }
        match kind {
            Container::Zip => self.zip(path, bytes, depth),
            Container::Tar => self.tar(path, bytes, depth),
            Container::Pdf => self.pdf(path, bytes, depth),
            _ => self.stream(path, bytes, kind, depth),
        }
    }

    /// Read at most `cap` bytes from `reader`, judging ratio and budget as it goes.
    /// Returns what was read and whether to keep it.
    fn read_bounded(
        &mut self,
        path: &str,
        reader: &mut dyn Read,
        compressed: u64,
        what: &str,
    ) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 256 << 10];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    out.extend_from_slice(&chunk[..n]);
                    let len = out.len() as u64;
                    if len > self.budget {
                        self.visitor.problem(Problem::skipped(
                            path,
                            format!("{what} expands past the --max-expanded-size budget ({} bytes); skipped", self.limits.max_expanded_size),
                        ));
                        return None;
                    }
                    if len > RATIO_FLOOR && len / compressed.max(1) > self.limits.max_ratio {
                        self.visitor.problem(Problem::skipped(
                            path,
                            format!("{what} expands more than {}x (possible zip bomb); skipped (--max-ratio)", self.limits.max_ratio),
                        ));
                        return None;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Keep what decompressed before the damage: a truncated dump still
                    // holds data worth finding.
                    self.visitor.problem(Problem::unreadable(
                        path,
                        format!(
                            "{what} is truncated or corrupt after {} bytes: {e}",
                            out.len()
                        ),
                    ));
                    break;
                }
            }
        }
        self.budget -= out.len() as u64;
        Some(out)
    }

    fn zip(&mut self, path: &str, bytes: &[u8], depth: usize) {
        let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                let recovered = self.zip_local_headers(path, bytes, depth);
                if recovered == 0 {
                    self.visitor.problem(Problem::unreadable(
                        path,
                        format!("corrupt zip archive ({e}); scanning its raw bytes instead"),
                    ));
                    self.visitor.leaf(path, bytes);
                } else {
                    self.visitor.problem(Problem::unreadable(
                        path,
                        format!(
                            "corrupt zip archive ({e}); {recovered} member(s) recovered from \
                             their local headers, anything after the damage is lost"
                        ),
                    ));
                }
                return;
            }
        };
        for i in 0..archive.len() {
            let file = match archive.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.visitor.problem(Problem::unreadable(
                        path,
                        format!("zip member #{i} unreadable: {e}"),
                    ));
                    continue;
                }
            };
            if let Some((member, data)) = self.zip_member(path, file) {
                self.visit_member(&member, data, depth + 1);
            }
        }
    }

    /// A zip member: a document's text part is read as its text (see `document.rs`).
    fn visit_member(&mut self, member: &str, data: Vec<u8>, depth: usize) {
        let name = member
            .rsplit_once(LAYER_SEPARATOR)
            .map_or(member, |(_, n)| n);
        let text = document::is_text_part(name)
            .then(|| document::text(&data))
            .flatten();
        self.visit(member, text.as_deref().unwrap_or(&data), depth);
    }

    /// One zip member's display path and bytes; `None` for folders and members that
    /// are encrypted, declare a bomb's expansion or expand past the budget (reported).
    fn zip_member<R: Read>(
        &mut self,
        path: &str,
        mut file: zip::read::ZipFile<'_, R>,
    ) -> Option<(String, Vec<u8>)> {
        if file.is_dir() {
            return None;
        }
        let name = clean_member_name(&String::from_utf8_lossy(file.name_raw()));
        let member = format!("{path}{LAYER_SEPARATOR}{name}");
        if file.encrypted() {
            self.visitor.problem(Problem::skipped(
                &member,
                "encrypted zip member; not scanned",
            ));
            return None;
        }
        let declared = file.size();
        let compressed = file.compressed_size();
        if declared > RATIO_FLOOR && declared / compressed.max(1) > self.limits.max_ratio {
            self.visitor.problem(Problem::skipped(
                &member,
                format!(
                    "declares a {}x expansion (possible zip bomb); skipped (--max-ratio)",
                    declared / compressed.max(1)
                ),
            ));
            return None;
        }
        let data = self.read_bounded(&member, &mut file, compressed, "zip member")?;
        Some((member, data))
    }

    /// A zip without its central directory (cut short in transfer, carved from a
    /// disk): its members are walked from the front by their local headers, as far as
    /// they are intact. Returns how many were recovered; a member cut short keeps what
    /// decompressed before the cut.
    fn zip_local_headers(&mut self, path: &str, bytes: &[u8], depth: usize) -> usize {
        let mut cursor = Cursor::new(bytes);
        let mut recovered = 0;
        loop {
            let file = match zip::read::read_zipfile_from_stream(&mut cursor) {
                Ok(Some(f)) => f,
                Ok(None) | Err(_) => break,
            };
            if let Some((member, data)) = self.zip_member(path, file) {
                recovered += 1;
                self.visit_member(&member, data, depth + 1);
            }
        }
        recovered
    }

    fn tar(&mut self, path: &str, bytes: &[u8], depth: usize) {
        // A container image (`docker save`, an OCI layout) is a tar of layers that
        // must be read in order, with deletions applied: see `image.rs`.
        if let Some(index) = image::TarIndex::new(bytes) {
            if let Some(images) = image::images(&index) {
                self.images(path, &index, images, depth);
                return;
            }
        }
        let mut archive = tar::Archive::new(Cursor::new(bytes));
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.visitor.problem(Problem::unreadable(
                    path,
                    format!("corrupt tar archive: {e}"),
                ));
                return;
            }
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // Tar has no index to resynchronise from: stop at the damage.
                    self.visitor.problem(Problem::unreadable(
                        path,
                        format!("tar archive is corrupt or truncated: {e}"),
                    ));
                    return;
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = clean_member_name(&String::from_utf8_lossy(&entry.path_bytes()));
            let member = format!("{path}{LAYER_SEPARATOR}{name}");
            let size = entry.size();
            // Tar members are stored, not compressed: their "compressed" size is their size.
            let Some(data) = self.read_bounded(&member, &mut entry, size.max(1), "tar member")
            else {
                continue;
            };
            self.visit(&member, &data, depth + 1);
        }
    }

    /// A PDF's pages, metadata, form fields and attachments (see `pdf.rs`); its raw
    /// bytes when it cannot be read, as before PDFs were opened.
    fn pdf(&mut self, path: &str, bytes: &[u8], depth: usize) {
        let read = match pdf::read(bytes, self.budget) {
            Ok(read) => read,
            Err(failure) => {
                let why = match failure {
                    pdf::Failure::Corrupt(e) => format!("corrupt PDF ({e})"),
                    pdf::Failure::Encrypted => "encrypted PDF (not with the empty password)".into(),
                    pdf::Failure::Reader => "the PDF reader failed on this file".into(),
                };
                self.visitor.problem(Problem::unreadable(
                    path,
                    format!("{why}; scanning its raw bytes instead"),
                ));
                self.visitor.leaf(path, bytes);
                return;
            }
        };
        for why in read.problems {
            self.visitor.problem(Problem::unreadable(path, why));
        }
        for (name, data) in read.parts {
            self.budget = self.budget.saturating_sub(data.len() as u64);
            let member = format!("{path}{LAYER_SEPARATOR}{name}");
            self.visit(&member, &data, depth + 1);
        }
    }

    fn stream(&mut self, path: &str, bytes: &[u8], kind: Container, depth: usize) {
        let Some(data) = self.decompressed(path, bytes, kind) else {
            return;
        };
        if detect(&data) == Some(Container::Tar) {
            // `x.tar.gz!dir/file`, not `x.tar.gz!x.tar!dir/file`: one layer to the user.
            self.tar(path, &data, depth + 1);
        } else {
            let inner = inner_name(path, kind);
            self.visit(&format!("{path}{LAYER_SEPARATOR}{inner}"), &data, depth + 1);
        }
    }

    /// A gzip, bzip2, xz or zstd stream's content, within the limits (what could not
    /// be read is reported).
    fn decompressed(&mut self, path: &str, bytes: &[u8], kind: Container) -> Option<Vec<u8>> {
        let mut reader: Box<dyn Read + '_> = match kind {
            Container::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
            Container::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(bytes)),
            Container::Xz => Box::new(lzma_rust2::XzReader::new(bytes, true)),
            Container::Zstd => match ruzstd::decoding::StreamingDecoder::new(bytes) {
                Ok(d) => Box::new(d),
                Err(e) => {
                    self.visitor.problem(Problem::unreadable(
                        path,
                        format!("corrupt zstd stream: {e}"),
                    ));
                    return None;
                }
            },
            Container::Zip | Container::Tar | Container::Pdf => return None,
        };
        let what = format!("{} stream", kind.name());
        self.read_bounded(path, &mut reader, bytes.len() as u64, &what)
    }
}

/// `logs/app.log.gz` -> `app.log`: the name the decompressed stream would have.
fn inner_name(path: &str, kind: Container) -> String {
    let last = path
        .rsplit(['/', '\\', LAYER_SEPARATOR])
        .next()
        .unwrap_or(path);
    let lower = last.to_ascii_lowercase();
    let suffixes: &[&str] = match kind {
        Container::Gzip => &[".gz", ".gzip", ".z"],
        Container::Bzip2 => &[".bz2", ".bzip2"],
        Container::Xz => &[".xz"],
        Container::Zstd => &[".zst", ".zstd"],
        _ => &[],
    };
    for s in suffixes {
        if lower.ends_with(s) && lower.len() > s.len() {
            return last[..last.len() - s.len()].to_string();
        }
    }
    format!("{last}.{}", "out")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(Default)]
    struct Collect {
        leaves: Vec<(String, Vec<u8>)>,
        problems: Vec<Problem>,
    }
    impl Visitor for Collect {
        fn leaf(&mut self, path: &str, bytes: &[u8]) {
            self.leaves.push((path.to_string(), bytes.to_vec()));
        }
        fn problem(&mut self, problem: Problem) {
            self.problems.push(problem);
        }
    }

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            for (name, data) in members {
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated);
                w.start_file(*name, opts).ok();
                w.write_all(data).ok();
            }
            w.finish().ok();
        }
        buf.into_inner()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).ok();
        e.finish().unwrap_or_default()
    }

    fn run(path: &str, bytes: &[u8], limits: Limits) -> Collect {
        let mut c = Collect::default();
        expand(path, bytes, &limits, &mut c);
        c
    }

    /// Issue 21: a zip cut short loses its central directory; the intact members
    /// are still there and must be read, not the archive's compressed bytes.
    #[test]
    fn truncated_zip_recovers_its_intact_members() {
        let first = b"password=hunter2hunter2\n".repeat(50);
        let second: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let whole = zip_of(&[("a/config.txt", &first), ("b/data.bin", &second)]);
        // Without the central directory: both members come back whole.
        let directory = whole
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .expect("a central directory");
        let c = run("cut.zip", &whole[..directory], Limits::default());
        assert_eq!(c.leaves.len(), 2, "{:?}", c.problems);
        assert_eq!(
            c.leaves[0],
            ("cut.zip!a/config.txt".to_string(), first.clone())
        );
        assert_eq!(c.leaves[1].1, second);
        assert!(c.problems[0].message.contains("2 member(s) recovered"));
        // Cut inside the second member: the first is whole, the second is what
        // decompressed before the cut, and both problems are said.
        let c = run("cut.zip", &whole[..directory - 100], Limits::default());
        assert_eq!(c.leaves[0], ("cut.zip!a/config.txt".to_string(), first));
        assert!(c.leaves.len() == 2 && c.leaves[1].1.len() < second.len());
        assert!(c.problems.iter().any(|p| p.message.contains("truncated")));
        // Nothing recoverable: the raw bytes are scanned, as before.
        let c = run("cut.zip", &whole[..20], Limits::default());
        assert_eq!(
            c.leaves,
            vec![("cut.zip".to_string(), whole[..20].to_vec())]
        );
    }

    #[test]
    fn nested_zip_paths_use_one_bang_per_layer() {
        let inner = zip_of(&[("dir/a.txt", b"hello")]);
        let outer = zip_of(&[("inner.zip", &inner)]);
        let c = run("outer.zip", &outer, Limits::default());
        assert_eq!(
            c.leaves,
            vec![(
                "outer.zip!inner.zip!dir/a.txt".to_string(),
                b"hello".to_vec()
            )]
        );
        assert!(c.problems.is_empty());
    }

    #[test]
    fn tar_gz_is_one_layer() {
        let mut tar_buf = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        tar_buf
            .append_data(&mut h, "etc/app.conf", &b"key=1"[..])
            .ok();
        let tarred = tar_buf.into_inner().unwrap_or_default();
        let c = run("backup.tar.gz", &gz(&tarred), Limits::default());
        assert_eq!(
            c.leaves,
            vec![("backup.tar.gz!etc/app.conf".to_string(), b"key=1".to_vec())]
        );
    }

    #[test]
    fn gz_member_is_named_without_its_suffix() {
        let c = run("logs/app.log.gz", &gz(b"line"), Limits::default());
        assert_eq!(c.leaves[0].0, "logs/app.log.gz!app.log");
    }

    #[test]
    fn depth_limit_stops_opening() {
        let mut data = zip_of(&[("a.txt", b"x")]);
        for _ in 0..3 {
            data = zip_of(&[("n.zip", &data)]);
        }
        let c = run(
            "deep.zip",
            &data,
            Limits {
                max_depth: 2,
                ..Limits::default()
            },
        );
        assert!(c.leaves.is_empty());
        assert!(
            c.problems[0].message.contains("--max-depth"),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn zip_bomb_is_skipped_by_ratio() {
        let zeros = vec![0u8; 20 << 20];
        let bomb = zip_of(&[("zeros.bin", &zeros)]);
        let c = run("bomb.zip", &bomb, Limits::default());
        assert!(c.leaves.is_empty());
        assert!(
            c.problems[0].message.contains("zip bomb"),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn gzip_bomb_is_stopped_by_ratio_while_streaming() {
        let c = run("bomb.gz", &gz(&vec![0u8; 50 << 20]), Limits::default());
        assert!(c.leaves.is_empty());
        assert!(
            c.problems[0].message.contains("zip bomb"),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn path_traversal_members_are_scanned_under_a_clean_name() {
        // Skipping them (as before) let a crafted archive hide content from the scan.
        let z = zip_of(&[
            ("../../etc/passwd", b"root:x:0:0"),
            ("/abs/key.pem", b"k"),
            ("C:/Users/x/.env", b"e"),
            ("ok.txt", b"fine"),
        ]);
        let c = run("evil.zip", &z, Limits::default());
        let names: Vec<&str> = c.leaves.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "evil.zip!etc/passwd",
                "evil.zip!abs/key.pem",
                "evil.zip!Users/x/.env",
                "evil.zip!ok.txt"
            ]
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
    }

    #[test]
    fn member_names_are_cleaned() {
        use super::clean_member_name as clean;
        assert_eq!(clean("a/./b/../c"), "a/b/c");
        assert_eq!(clean("..\\..\\win.ini"), "win.ini");
        assert_eq!(clean("d:evil"), "evil");
        assert_eq!(clean("../"), "(unnamed)");
    }

    #[test]
    fn nesting_is_capped_whatever_the_limit_says() {
        let mut data = b"deep".to_vec();
        for _ in 0..(super::MAX_NESTING + 10) {
            data = gz(&data);
        }
        let limits = Limits {
            max_depth: 100_000,
            ..Limits::default()
        };
        let c = run("deep.gz", &data, limits);
        assert!(c.leaves.is_empty());
        assert!(c.problems[0].message.contains("nested more than 64"));
    }

    #[test]
    fn truncated_gzip_keeps_what_decompressed() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("row {i}\n").into_bytes())
            .collect();
        let full = gz(&text);
        let cut = &full[..full.len() / 2];
        let c = run("dump.sql.gz", cut, Limits::default());
        assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
        assert!(c.problems[0].message.contains("truncated"));
        assert!(!c.leaves.is_empty() && c.leaves[0].1.starts_with(b"row 0\n"));
    }

    mod fuzz {
        //! Stable-toolchain stand-in for `fuzz/fuzz_targets/archive_decode.rs`: random
        //! bytes and single-byte mutations of real archives must never panic or hang.
        use super::*;
        use proptest::prelude::*;

        fn samples() -> Vec<Vec<u8>> {
            let z = zip_of(&[("a/b.csv", b"id,x\n1,2\n"), ("c.txt", b"hello")]);
            let mut tar_buf = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_size(5);
            h.set_mode(0o644);
            h.set_cksum();
            tar_buf.append_data(&mut h, "x.txt", &b"hello"[..]).ok();
            let t = tar_buf.into_inner().unwrap_or_default();
            vec![z.clone(), gz(&z), gz(&t), t, gz(b"plain text")]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]
            #[test]
            fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let _ = run("r.bin", &data, Limits::default());
            }

            #[test]
            fn mutated_archives(which in 0usize..5, pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
                let mut data = samples()[which].clone();
                let i = pos.index(data.len());
                data[i] = byte;
                let keep = cut.index(data.len() + 1);
                data.truncate(keep.max(1));
                let _ = run("m.bin", &data, Limits::default());
            }
        }
    }

    #[test]
    fn corrupt_zip_falls_back_to_raw_bytes() {
        let mut z = zip_of(&[("a.txt", b"abc")]);
        z.truncate(20);
        let c = run("broken.zip", &z, Limits::default());
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.leaves.len(), 1);
    }
}
