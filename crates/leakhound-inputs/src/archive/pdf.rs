//! PDF: the text of every page, the document's metadata and form fields, and the
//! files attached to it.
//!
//! A PDF keeps its text in compressed content streams, as strings in a font's own
//! encoding, cut wherever the layout adjusts spacing (`[(ghp_LN) -15 (uuiQ…)] TJ`).
//! Matching the file's bytes finds nothing there, so a key in a PDF mailed to a
//! supplier went unseen. lopdf decodes the streams (bounded, so a decompression bomb is
//! refused), the fonts' encodings (ToUnicode maps included) and the page tree; each
//! page becomes one leaf (`manual.pdf!page 3`), so a finding says where to look.
//!
//! lopdf is a large parser of hostile input. It returns errors for what it can
//! judge, but a panic inside it must not end the scan: [`read`] runs it under
//! `catch_unwind` with the panic message kept off the terminal, and the caller then
//! matches the raw bytes as it did before PDFs were opened.

use lopdf::{Dictionary, Document, LoadOptions, Object};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// What a PDF holds that can be matched.
#[derive(Debug, Default)]
pub(super) struct Pdf {
    /// Member names (`page 3`, `document info`, `attachment keys.env`) and content.
    pub parts: Vec<(String, Vec<u8>)>,
    /// Parts that could not be read (a page in an unsupported encoding, an
    /// attachment over the budget), with why.
    pub problems: Vec<String>,
}

/// Why a PDF could not be opened at all.
#[derive(Debug)]
pub(super) enum Failure {
    /// Not parsable as a PDF (damaged, truncated, not really one).
    Corrupt(String),
    /// Encrypted with a password other than the empty one.
    Encrypted,
    /// The reader itself failed (a panic caught in it).
    Reader,
}

/// Does `bytes` start like a PDF? (Readers accept junk before the header; it is rare,
/// and looking past the first bytes of every file scanned would cost every scan.)
pub(super) fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
}

/// Read a PDF's pages, metadata, form fields and attachments, decompressing no more
/// than `budget` bytes in all (and no single stream past it).
pub(super) fn read(bytes: &[u8], budget: u64) -> Result<Pdf, Failure> {
    let limit = usize::try_from(budget.max(1)).unwrap_or(usize::MAX);
    quietly(|| read_inner(bytes, limit)).unwrap_or(Err(Failure::Reader))
}

fn read_inner(bytes: &[u8], limit: usize) -> Result<Pdf, Failure> {
    let options = LoadOptions {
        max_decompressed_size: Some(limit),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => Failure::Encrypted,
        e => Failure::Corrupt(e.to_string()),
    })?;
    if doc.is_encrypted() && doc.encryption_state.is_none() {
        return Err(Failure::Encrypted);
    }
    let mut pdf = Pdf::default();
    let mut left = limit;
    for (number, _) in doc.get_pages() {
        let mut text = String::new();
        let mut failed = None;
        for chunk in doc.extract_text_chunks_with_limit(&[number], left) {
            match chunk {
                Ok(t) => text.push_str(&t),
                Err(e) => failed = Some(e.to_string()),
            }
        }
        if let Some(why) = failed {
            let shown = if text.is_empty() {
                "unreadable"
            } else {
                "partly read"
            };
            pdf.problems.push(format!("page {number} {shown}: {why}"));
        }
        if !text.trim().is_empty() {
            left = left.saturating_sub(text.len());
            pdf.parts
                .push((format!("page {number}"), text.into_bytes()));
        }
    }
    let info = document_info(&doc);
    if !info.is_empty() {
        pdf.parts.push(("document info".into(), info.into_bytes()));
    }
    let fields = form_fields(&doc);
    if !fields.is_empty() {
        pdf.parts.push(("form fields".into(), fields.into_bytes()));
    }
    for (name, file) in attachments(&doc) {
        match file.decompressed_content_with_limit(left) {
            Ok(data) => {
                left = left.saturating_sub(data.len());
                pdf.parts.push((format!("attachment {name}"), data));
            }
            Err(e) => pdf
                .problems
                .push(format!("attachment {name} unreadable: {e}")),
        }
    }
    Ok(pdf)
}

/// The Info dictionary's text entries (Title, Author, Keywords, custom keys), one
/// `Key: value` line each: producers put labels, paths and notes there.
fn document_info(doc: &Document) -> String {
    let Some(info) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| deref(doc, o).as_dict().ok())
    else {
        return String::new();
    };
    text_entries(doc, info, |key| key != b"CreationDate" && key != b"ModDate")
}

/// Filled-in form fields, `name: value` per line: a PDF form can carry whatever
/// its filler typed, a password included.
fn form_fields(doc: &Document) -> String {
    let mut out = String::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        let Some(value) = dict.get(b"V").ok().and_then(|v| text(doc, v)) else {
            continue;
        };
        if dict.get(b"FT").is_err() && dict.get(b"Parent").is_err() {
            continue;
        }
        let name = dict
            .get(b"T")
            .ok()
            .and_then(|t| text(doc, t))
            .unwrap_or_default();
        out.push_str(&name);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// Embedded files (`/Type /Filespec` with an `/EF` entry), by their shown name.
fn attachments(doc: &Document) -> Vec<(String, &lopdf::Stream)> {
    let mut out = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        let Some(ef) = dict
            .get(b"EF")
            .ok()
            .and_then(|o| deref(doc, o).as_dict().ok())
        else {
            continue;
        };
        let Some(stream) = [b"UF".as_slice(), b"F"]
            .iter()
            .find_map(|k| ef.get(k).ok().and_then(|o| deref(doc, o).as_stream().ok()))
        else {
            continue;
        };
        let name = [b"UF".as_slice(), b"F", b"Desc"]
            .iter()
            .find_map(|k| dict.get(k).ok().and_then(|o| text(doc, o)))
            .map(|n| super::clean_member_name(&n))
            .unwrap_or_else(|| "(unnamed)".into());
        out.push((name, stream));
    }
    out
}

fn text_entries(doc: &Document, dict: &Dictionary, keep: impl Fn(&[u8]) -> bool) -> String {
    let mut out = String::new();
    for (key, value) in dict.iter() {
        if !keep(key) {
            continue;
        }
        if let Some(value) = text(doc, value) {
            out.push_str(&String::from_utf8_lossy(key));
            out.push_str(": ");
            out.push_str(&value);
            out.push('\n');
        }
    }
    out
}

/// A text string (PDFDocEncoding or UTF-16), or a name, as Rust text.
fn text(doc: &Document, object: &Object) -> Option<String> {
    match deref(doc, object) {
        o @ Object::String(..) => lopdf::decode_text_string(o).ok(),
        Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
        _ => None,
    }
}

/// Follow one indirect reference (the object itself if it is not one or is missing).
fn deref<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
    match object {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(object),
        _ => object,
    }
}

thread_local! {
    /// Set while the PDF reader runs on this thread: its panics are caught and
    /// reported as a problem, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Run `f`, catching a panic in it without printing the panic message.
fn quietly<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PDF written by hand: one page per entry of `pages` (content stream operators),
    /// Helvetica as `/F1`, `extra` objects appended and `trailer_extra` in the trailer.
    /// Offsets in the cross-reference table are computed, so lopdf reads it as written.
    pub(crate) fn pdf(pages: &[&str], extra: &[&str], trailer_extra: &str) -> Vec<u8> {
        let n = pages.len();
        let mut objects: Vec<String> = Vec::new();
        objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
        let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
        objects.push(format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            kids.join(" ")
        ));
        objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
        for (i, content) in pages.iter().enumerate() {
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            ));
            objects.push(format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len() + 1
            ));
        }
        objects.extend(extra.iter().map(|s| s.to_string()));
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn part<'a>(pdf: &'a Pdf, name: &str) -> &'a str {
        pdf.parts
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, b)| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    #[test]
    fn kerned_runs_are_joined_and_each_page_is_a_part() {
        let bytes = pdf(
            &[
                "BT /F1 12 Tf 72 700 Td [(token: ghp_LN) -15 (uuiQbTau)] TJ ET",
                "BT /F1 12 Tf 72 700 Td (second page) Tj ET",
            ],
            &[],
            "",
        );
        let read = read(&bytes, 1 << 20).unwrap_or_default();
        assert!(
            part(&read, "page 1").contains("token: ghp_LNuuiQbTau"),
            "{read:?}"
        );
        assert!(part(&read, "page 2").contains("second page"), "{read:?}");
        assert!(read.problems.is_empty(), "{read:?}");
    }

    #[test]
    fn info_form_fields_and_attachments_are_parts() {
        let pages = ["BT /F1 12 Tf (x) Tj ET"];
        let extra = [
            // 6: Info, 7: a form field, 8: a file spec, 9: its embedded stream.
            "<< /Title (Handover) /Keywords <FEFF0041004B> /CreationDate (D:2020) >>",
            "<< /FT /Tx /T (db_password) /V (Hunter2-prod) >>",
            "<< /Type /Filespec /F (../keys.env) /UF (keys.env) /EF << /F 9 0 R >> >>",
            "<< /Type /EmbeddedFile /Length 15 >>\nstream\nAPI_KEY=abcdef\n\nendstream",
        ];
        let bytes = pdf(&pages, &extra, "/Info 6 0 R");
        let read = read(&bytes, 1 << 20).unwrap_or_default();
        let info = part(&read, "document info");
        assert!(
            info.contains("Title: Handover") && info.contains("Keywords: AK"),
            "{info}"
        );
        assert!(!info.contains("CreationDate"), "{info}");
        assert_eq!(part(&read, "form fields"), "db_password: Hunter2-prod\n");
        assert!(
            part(&read, "attachment keys.env").starts_with("API_KEY=abcdef"),
            "{read:?}"
        );
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        assert!(matches!(
            read(b"%PDF-1.4\ngarbage", 1 << 20),
            Err(Failure::Corrupt(_))
        ));
        let mut cut = pdf(&["BT /F1 12 Tf (x) Tj ET"], &[], "");
        cut.truncate(cut.len() / 2);
        // Lenient loading may rebuild what is left; it must not panic either way.
        let _ = read(&cut, 1 << 20);
        assert!(is_pdf(b"%PDF-1.7") && !is_pdf(b"%PD") && !is_pdf(b"x%PDF-1.7"));
    }

    #[test]
    fn a_caught_panic_is_none_and_later_panics_still_print() {
        assert_eq!(quietly(|| 7), Some(7));
        let r: Option<()> = quietly(|| panic!("inside the reader"));
        assert!(r.is_none());
        assert!(!QUIET.with(Cell::get));
    }
}
