//! Office documents: the text of Word (DOCX), PowerPoint (PPTX) and OpenDocument
//! (ODT, ODP) files, as a reader would see it.
//!
//! Their text is XML split into runs wherever formatting or an edit changed, so a key
//! pasted into a document is often cut in two (`<w:t>ghp_LNuu</w:t>…<w:t>iQbT…</w:t>`)
//! and matching the XML misses it. The parts that hold text are read instead as one
//! line per paragraph, runs joined. (Spreadsheets are tables: `leakhound-tables`.)

use quick_xml::events::Event;
use quick_xml::Reader;

/// Does this zip member hold a document's text?
pub(super) fn is_text_part(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let Some(file) = name.strip_suffix(".xml") else {
        return false;
    };
    let numbered = |prefix: &str| {
        file.strip_prefix(prefix)
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(
        file,
        "word/document" | "word/footnotes" | "word/endnotes" | "word/comments" | "content"
    ) || numbered("word/header")
        || numbered("word/footer")
        || numbered("ppt/slides/slide")
        || numbered("ppt/notesslides/notesslide")
        || numbered("ppt/comments/comment")
}

/// The text of a document part: paragraphs on lines, runs joined, tabs and breaks
/// kept. `None` if it is not well-formed XML (then it is matched as it is).
pub(super) fn text(xml: &[u8]) -> Option<Vec<u8>> {
    let mut reader = Reader::from_reader(xml);
    let mut out = Vec::with_capacity(xml.len() / 4);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Text(t)) => out.extend_from_slice(AsRef::<str>::as_ref(&t).as_bytes()),
            Ok(Event::CData(t)) => out.extend_from_slice(AsRef::<str>::as_ref(&t).as_bytes()),
            Ok(Event::GeneralRef(r)) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match AsRef::<str>::as_ref(&r) {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                "tab" => out.push(b'\t'),
                "br" | "cr" | "line-break" => out.push(b'\n'),
                "s" => out.push(b' '),
                _ => {}
            },
            Ok(Event::End(e)) => {
                if matches!(e.local_name().as_ref(), "p" | "h" | "tr") {
                    out.push(b'\n');
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
        buf.clear();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_joined_and_paragraphs_are_lines() {
        let xml = br#"<w:document><w:body><w:p><w:r><w:t>token: ghp_LNuu</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>iQbTauM8</w:t></w:r></w:p><w:p><w:r><w:t>a&amp;b</w:t><w:tab/><w:t>c&#x4e2d;</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(
            String::from_utf8(text(xml).unwrap_or_default()).unwrap_or_default(),
            "token: ghp_LNuuiQbTauM8\na&b\tc中\n"
        );
    }

    #[test]
    fn text_parts_are_recognised_by_name() {
        for name in [
            "word/document.xml",
            "word/header2.xml",
            "ppt/slides/slide12.xml",
            "ppt/notesSlides/notesSlide1.xml",
            "content.xml",
        ] {
            assert!(is_text_part(name), "{name}");
        }
        for name in [
            "word/styles.xml",
            "ppt/slides/_rels/slide1.xml.rels",
            "xl/sharedStrings.xml",
        ] {
            assert!(!is_text_part(name), "{name}");
        }
    }

    #[test]
    fn broken_xml_is_left_to_be_matched_as_it_is() {
        assert!(text(b"<w:p><w:t>x</w:p></w:t>").is_none());
    }
}
