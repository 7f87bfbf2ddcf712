//! One line at a time from a UTF-8 stream, checked with `simdutf8`.
//!
//! `BufRead::read_line` checks each line with the standard library's UTF-8 check,
//! which takes the slow path on any non-ASCII byte: on exports full of Chinese names
//! and addresses it was 6-8% of `assess`'s CPU on a JSON Lines file or a dump. Reading
//! the bytes and checking them with SIMD, then copying them into the line, costs a
//! fraction of that.

use std::io::BufRead;

/// Reads lines into one reused `String`, through one reused byte buffer.
#[derive(Default)]
pub(crate) struct LineReader {
    bytes: Vec<u8>,
}

impl LineReader {
    /// Read the next line (with its line break, if any) into `line`, which is cleared
    /// first. Returns the bytes read: 0 at the end. A line that is not UTF-8 is an
    /// `InvalidData` error, as with `read_line`, and leaves `line` empty.
    pub(crate) fn read_line(
        &mut self,
        reader: &mut impl BufRead,
        line: &mut String,
    ) -> std::io::Result<usize> {
        line.clear();
        self.bytes.clear();
        let n = reader.read_until(b'\n', &mut self.bytes)?;
        let text = simdutf8::basic::from_utf8(&self.bytes).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })?;
        line.push_str(text);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line as `read_line` gives it, on mixed scripts, CRLF and no final break.
    #[test]
    fn gives_the_lines_read_line_gives() {
        let text = "a,b\r\n张三,粤B12345\n\n{\"k\": \"é\"}\nlast";
        let (mut ours, mut std_lines) = (Vec::new(), Vec::new());
        let mut reader = std::io::BufReader::with_capacity(4, text.as_bytes());
        let (mut lines, mut line) = (LineReader::default(), String::new());
        while lines.read_line(&mut reader, &mut line).unwrap_or(0) > 0 {
            ours.push(line.clone());
        }
        let mut reader = std::io::BufReader::with_capacity(4, text.as_bytes());
        let mut l = String::new();
        while reader.read_line(&mut l).unwrap_or(0) > 0 {
            std_lines.push(std::mem::take(&mut l));
        }
        assert_eq!(ours, std_lines);
        assert_eq!(ours.len(), 5);
    }

    #[test]
    fn invalid_utf8_is_an_error_that_names_it() {
        let bytes: &[u8] = b"ok\nbad \xff line\n";
        let mut reader = std::io::BufReader::new(bytes);
        let (mut lines, mut line) = (LineReader::default(), String::new());
        assert_eq!(lines.read_line(&mut reader, &mut line).ok(), Some(3));
        assert_eq!(line, "ok\n");
        let e = lines.read_line(&mut reader, &mut line).err();
        assert_eq!(
            e.as_ref().map(|e| e.kind()),
            Some(std::io::ErrorKind::InvalidData)
        );
        assert!(e.is_some_and(|e| e.to_string().contains("valid UTF-8")));
        assert!(line.is_empty());
    }
}
