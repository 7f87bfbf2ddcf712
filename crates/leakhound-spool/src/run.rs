//! One sorted run of findings in an anonymous temporary file, and reading it back.
//!
//! A run is a sequence of frames: a little-endian `u32` length, then the finding in
//! postcard (compact, serde-driven). The file has no name (`O_TMPFILE` where the system
//! has it), so raw values written here are gone when the process ends, however it ends.

use crate::SpoolError;
use leakhound_findings::{
    Category, ColumnValues, Confidence, Finding, GitOrigin, Location, ProcessRef, Severity,
    TableCell, Triage,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;

/// A string a run repeats (rule ids and names, paths, blob ids, table and column
/// names): written once, then by its number in the run. Cuts bytes, UTF-8 checks and
/// allocations on the way back, and findings read back share one copy again.
#[derive(Serialize, Deserialize)]
enum Shared<'a> {
    New(&'a str),
    Known(u32),
}

/// A finding's line: neighbours in a sorted run are usually on the same line.
#[derive(Serialize, Deserialize)]
enum Line<'a> {
    Absent,
    Same,
    New(&'a str),
}

#[derive(Serialize, Deserialize)]
struct Cell<'a> {
    #[serde(borrow)]
    name: Shared<'a>,
    #[serde(borrow)]
    column: Shared<'a>,
    row: u64,
}

/// A table-level finding's column (see [`ColumnValues`]), as written.
#[derive(Serialize)]
struct ValuesOut<'a> {
    distinct: u64,
    last_row: u64,
    examples: &'a [String],
    keys: &'a [u64],
}

/// [`ValuesOut`] read back.
#[derive(Deserialize)]
struct ValuesIn {
    distinct: u64,
    last_row: u64,
    examples: Vec<String>,
    keys: Vec<u64>,
}

/// A finding as written. `Finding` itself is not `Serialize`, so that no report can
/// print a raw value by serialising it.
#[derive(Serialize)]
struct Out<'a> {
    rule: Shared<'a>,
    name: Shared<'a>,
    category: Category,
    severity: Severity,
    confidence: Confidence,
    path: Shared<'a>,
    line: u64,
    column: u64,
    offset: u64,
    value: &'a str,
    fingerprint: &'a str,
    validator: Option<Shared<'a>>,
    line_text: Line<'a>,
    count: Option<u64>,
    blob: Shared<'a>,
    binary: bool,
    cell: Option<Cell<'a>>,
    git: Option<&'a GitOrigin>,
    triage: Option<&'a Triage>,
    process: Option<&'a ProcessRef>,
    column_values: Option<ValuesOut<'a>>,
    decoded: Option<&'a str>,
}

/// A finding as read back; the fields in [`Out`]'s order (postcard has no field names).
#[derive(Deserialize)]
struct In<'a> {
    #[serde(borrow)]
    rule: Shared<'a>,
    #[serde(borrow)]
    name: Shared<'a>,
    category: Category,
    severity: Severity,
    confidence: Confidence,
    #[serde(borrow)]
    path: Shared<'a>,
    line: u64,
    column: u64,
    offset: u64,
    value: &'a str,
    fingerprint: &'a str,
    #[serde(borrow)]
    validator: Option<Shared<'a>>,
    #[serde(borrow)]
    line_text: Line<'a>,
    count: Option<u64>,
    #[serde(borrow)]
    blob: Shared<'a>,
    binary: bool,
    #[serde(borrow)]
    cell: Option<Cell<'a>>,
    git: Option<Box<GitOrigin>>,
    triage: Option<Box<Triage>>,
    process: Option<Box<ProcessRef>>,
    column_values: Option<ValuesIn>,
    decoded: Option<&'a str>,
}

/// The writer's side of [`Shared`] and [`Line`]. Keys are owned, so that a run can
/// be written from findings that do not outlive the call (a merge of runs).
#[derive(Default)]
struct Encoder {
    known: HashMap<Box<str>, u32>,
    line: Option<Arc<str>>,
}

impl Encoder {
    fn shared<'a>(&mut self, s: &'a str) -> Shared<'a> {
        if let Some(&i) = self.known.get(s) {
            return Shared::Known(i);
        }
        let next = u32::try_from(self.known.len()).unwrap_or(u32::MAX);
        self.known.insert(s.into(), next);
        Shared::New(s)
    }

    fn line<'a>(&mut self, text: Option<&'a Arc<str>>) -> Line<'a> {
        let Some(text) = text else {
            return Line::Absent;
        };
        if self.line.as_ref().is_some_and(|last| last == text) {
            return Line::Same;
        }
        self.line = Some(Arc::clone(text));
        Line::New(text)
    }

    fn out<'a>(&mut self, f: &'a Finding) -> Out<'a> {
        Out {
            rule: self.shared(&f.rule),
            name: self.shared(&f.name),
            category: f.category,
            severity: f.severity,
            confidence: f.confidence,
            path: self.shared(&f.location.path),
            line: f.location.line,
            column: f.location.column,
            offset: f.location.offset,
            value: &f.value,
            fingerprint: &f.fingerprint,
            validator: f.validator.as_deref().map(|v| self.shared(v)),
            line_text: self.line(f.line_text.as_ref()),
            count: f.count,
            blob: self.shared(&f.blob),
            binary: f.binary,
            cell: f.cell.as_deref().map(|c| Cell {
                name: self.shared(&c.name),
                column: self.shared(&c.column),
                row: c.row,
            }),
            git: f.git.as_deref(),
            triage: f.triage.as_deref(),
            process: f.process.as_deref(),
            column_values: f.column_values.as_deref().map(|v| ValuesOut {
                distinct: v.distinct,
                last_row: v.last_row,
                examples: &v.examples,
                keys: &v.keys,
            }),
            decoded: f.decoded.as_deref(),
        }
    }
}

/// A written run.
#[derive(Debug)]
pub(crate) struct Run {
    file: File,
    /// Bytes written.
    end: u64,
    /// 0 for a run written from memory, n + 1 for a merge of runs of level n.
    pub(crate) level: u32,
}

impl Run {
    /// Write `findings` (already sorted) to a new anonymous temporary file.
    pub(crate) fn write(findings: &[Finding]) -> Result<Run, SpoolError> {
        let mut w = RunWriter::new()?;
        for f in findings {
            w.push(f)?;
        }
        w.finish(0)
    }

    /// Merge sorted runs into one (fewer open files and read buffers for the final
    /// merge). The runs are left as they were if this fails.
    pub(crate) fn merge(runs: &[Run], level: u32) -> Result<Run, SpoolError> {
        let mut w = RunWriter::new()?;
        for f in crate::Iter::new(&[], runs) {
            let f = f?;
            w.push(&f)?;
        }
        w.finish(level)
    }

    /// A run holding `bytes` as they are (tests of damaged files).
    #[cfg(test)]
    pub(crate) fn of_bytes(bytes: &[u8]) -> Run {
        let mut file = tempfile::tempfile().expect("temporary file");
        file.write_all(bytes).expect("write");
        Run {
            file,
            end: bytes.len() as u64,
            level: 0,
        }
    }

    /// The run's file (tests read it raw).
    #[cfg(test)]
    pub(crate) fn file_for_tests(&self) -> &File {
        &self.file
    }

    /// Pretend the run ends at `end` (tests of a damaged file).
    #[cfg(test)]
    pub(crate) fn set_end(&mut self, end: u64) {
        self.end = end;
    }

    /// A reader from the start; several may read one run at once.
    pub(crate) fn reader(&self) -> Reader<'_> {
        Reader {
            file: &self.file,
            pos: 0,
            end: self.end,
            buf: Vec::new(),
            at: 0,
            known: Vec::new(),
            line_text: None,
        }
    }
}

/// Writes one run, a finding at a time.
struct RunWriter {
    out: BufWriter<File>,
    end: u64,
    frame: Vec<u8>,
    encoder: Encoder,
}

impl RunWriter {
    fn new() -> Result<RunWriter, SpoolError> {
        Ok(RunWriter {
            out: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            end: 0,
            frame: Vec::with_capacity(1024),
            encoder: Encoder::default(),
        })
    }

    fn push(&mut self, f: &Finding) -> Result<(), SpoolError> {
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        frame.extend_from_slice(&[0; 4]);
        frame = postcard::to_extend(&self.encoder.out(f), frame)?;
        let len = u32::try_from(frame.len() - 4).map_err(|_| SpoolError::TooBig)?;
        frame[..4].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&frame)?;
        self.end += frame.len() as u64;
        self.frame = frame;
        Ok(())
    }

    fn finish(self, level: u32) -> Result<Run, SpoolError> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(Run {
            file,
            end: self.end,
            level,
        })
    }
}

/// Reads a run's findings in order, with positioned reads so that readers of one file
/// do not share a cursor.
pub(crate) struct Reader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    at: usize,
    /// The reader's side of [`Shared`]: every string the run has given so far.
    known: Vec<Arc<str>>,
    /// The last line given.
    line_text: Option<Arc<str>>,
}

/// Bytes read from a run at a time.
const READ_SIZE: usize = 64 << 10;

impl Reader<'_> {
    /// The next finding, or `None` at the end of the run.
    pub(crate) fn next_finding(&mut self) -> Result<Option<Finding>, SpoolError> {
        if !self.fill(4)? {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&self.buf[self.at..self.at + 4]);
        let len = u32::from_le_bytes(len) as usize;
        if !self.fill(4 + len)? {
            return Err(SpoolError::Truncated);
        }
        let frame = &self.buf[self.at + 4..self.at + 4 + len];
        let record: In<'_> = postcard::from_bytes(frame)?;
        let finding = decode(record, &mut self.known, &mut self.line_text)?;
        self.at += 4 + len;
        Ok(Some(finding))
    }

    /// Make `need` unread bytes available; false at a clean end of the run.
    fn fill(&mut self, need: usize) -> Result<bool, SpoolError> {
        while self.buf.len() - self.at < need {
            if self.pos >= self.end {
                return if self.buf.len() == self.at {
                    Ok(false)
                } else {
                    Err(SpoolError::Truncated)
                };
            }
            self.buf.drain(..self.at);
            self.at = 0;
            let want = (self.end - self.pos).min(need.max(READ_SIZE) as u64) as usize;
            let old = self.buf.len();
            self.buf.resize(old + want, 0);
            let got = read_at(self.file, &mut self.buf[old..], self.pos)?;
            self.buf.truncate(old + got);
            if got == 0 {
                return Err(SpoolError::Truncated);
            }
            self.pos += got as u64;
        }
        Ok(true)
    }
}

fn decode(
    r: In<'_>,
    known: &mut Vec<Arc<str>>,
    last_line: &mut Option<Arc<str>>,
) -> Result<Finding, SpoolError> {
    let mut shared = |s: Shared<'_>| -> Result<Arc<str>, SpoolError> {
        match s {
            Shared::New(s) => {
                let s: Arc<str> = Arc::from(s);
                known.push(Arc::clone(&s));
                Ok(s)
            }
            Shared::Known(i) => known.get(i as usize).cloned().ok_or(SpoolError::Corrupt),
        }
    };
    let rule = shared(r.rule)?;
    let name = shared(r.name)?;
    let path = shared(r.path)?;
    let validator = r.validator.map(&mut shared).transpose()?;
    let blob = shared(r.blob)?;
    let cell = match r.cell {
        Some(c) => Some(Box::new(TableCell {
            name: shared(c.name)?,
            column: shared(c.column)?,
            row: c.row,
        })),
        None => None,
    };
    let line_text = match r.line_text {
        Line::Absent => None,
        Line::Same => Some(last_line.clone().ok_or(SpoolError::Corrupt)?),
        Line::New(text) => {
            let text: Arc<str> = Arc::from(text);
            *last_line = Some(Arc::clone(&text));
            Some(text)
        }
    };
    Ok(Finding {
        rule,
        name,
        category: r.category,
        severity: r.severity,
        confidence: r.confidence,
        location: Location {
            path: path.to_string(),
            line: r.line,
            column: r.column,
            offset: r.offset,
        },
        value: r.value.to_string(),
        fingerprint: r.fingerprint.to_string(),
        validator: validator.map(|v| Cow::Owned(v.to_string())),
        line_text,
        count: r.count,
        blob,
        binary: r.binary,
        git: r.git,
        triage: r.triage,
        cell,
        process: r.process,
        column_values: r.column_values.map(|v| {
            Box::new(ColumnValues {
                distinct: v.distinct,
                last_row: v.last_row,
                examples: v.examples,
                keys: v.keys,
            })
        }),
        decoded: r.decoded.map(Arc::from),
    })
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}
