//! Records formatted on several threads and written in order.
//!
//! A findings-dense scan (a customer table: 1.5 million findings) spent most of its
//! wall time formatting records on one thread after the scan. Record formats where
//! each record stands alone (JSON Lines, CSV) format batches of findings on worker
//! threads; the calling thread writes the batches in order, so the output is byte for
//! byte what one thread writes.

use crate::ReportError;
use leakhound_findings::{Finding, LineValues};
use leakhound_scan::Findings;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

/// Findings per batch (a batch is then extended to the end of its line).
const BATCH: usize = 4096;

/// Fewer findings than this are written on the calling thread: threads cost more
/// than they save on a pre-commit hook's handful.
const PARALLEL_FROM: u64 = 20_000;

/// Format `findings` with `format` (one batch into one buffer) and write them in
/// order. `format` masks each line with the values of the batch's own findings on it:
/// batches hold whole lines, so that is every value on the line, provided findings come
/// in report order. Findings out of order (a datastore's, a host check's) are written
/// in one batch on this thread.
pub(crate) fn write_batches<F>(
    out: &mut dyn Write,
    findings: &Findings,
    format: F,
) -> Result<(), ReportError>
where
    F: Fn(&[Finding], Option<&str>, &LineValues<'_>, &mut Vec<u8>) -> Result<(), ReportError>
        + Sync,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // One core reads the findings back and writes; the others format.
    let workers = (cores - 1).clamp(1, 4);
    if let Some(all) = findings.as_slice() {
        if cores < 2 || findings.len() < PARALLEL_FROM || !leakhound_findings::in_report_order(all)
        {
            let mut buf = Vec::new();
            format(all, None, &LineValues::new(all), &mut buf)?;
            out.write_all(&buf)?;
            return Ok(());
        }
    }
    let (jobs_tx, jobs_rx) = crossbeam_channel::bounded::<(u64, Batch<'_>)>(workers * 2);
    let (done_tx, done_rx) =
        crossbeam_channel::bounded::<(u64, Result<Vec<u8>, ReportError>)>(workers * 2);
    std::thread::scope(|scope| {
        scope.spawn(move || batches(findings, &jobs_tx));
        for _ in 0..workers {
            let (jobs_rx, done_tx, format) = (jobs_rx.clone(), done_tx.clone(), &format);
            scope.spawn(move || {
                for (seq, batch) in jobs_rx {
                    let result = match batch {
                        Batch::Findings { list, before } => {
                            let mut buf = Vec::with_capacity(list.len() * 512);
                            let lines = LineValues::new(&list);
                            format(&list, before.as_deref(), &lines, &mut buf).map(|()| buf)
                        }
                        Batch::Failed(e) => Err(e),
                    };
                    if done_tx.send((seq, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop((jobs_rx, done_tx));
        // Batches finish out of order; hold the early ones until their turn.
        let mut next = 0u64;
        let mut waiting: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let written: Result<(), ReportError> = (|| {
            for (seq, result) in &done_rx {
                waiting.insert(seq, result?);
                while let Some(buf) = waiting.remove(&next) {
                    out.write_all(&buf)?;
                    next += 1;
                }
            }
            Ok(())
        })();
        // On an error, closing the channel stops the workers, then the reader.
        drop(done_rx);
        written
    })
}

enum Batch<'a> {
    Findings {
        list: Cow<'a, [Finding]>,
        /// The path of the finding just before the batch (reports that head each
        /// file's findings with its path need it).
        before: Option<String>,
    },
    /// The findings could not be read back; the writer reports it in its turn.
    Failed(ReportError),
}

/// Cut `findings` into batches of whole lines and hand them out, numbered.
fn batches<'a>(findings: &'a Findings, jobs: &crossbeam_channel::Sender<(u64, Batch<'a>)>) {
    let mut seq = 0u64;
    let mut send = |batch: Batch<'a>| {
        let sent = jobs.send((seq, batch)).is_ok();
        seq += 1;
        sent
    };
    if let Some(all) = findings.as_slice() {
        let mut start = 0;
        while start < all.len() {
            let end = line_end(all, (start + BATCH).min(all.len()));
            let batch = Batch::Findings {
                list: Cow::Borrowed(&all[start..end]),
                before: start.checked_sub(1).map(|i| all[i].location.path.clone()),
            };
            if !send(batch) {
                return;
            }
            start = end;
        }
        return;
    }
    let mut batch: Vec<Finding> = Vec::with_capacity(BATCH);
    let mut before = None;
    for f in findings.iter() {
        let f = match f {
            Ok(f) => f.into_owned(),
            Err(e) => {
                send(Batch::Failed(e.into()));
                return;
            }
        };
        if batch.len() >= BATCH && batch.last().is_some_and(|last| !same_line(last, &f)) {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            let last = full.last().map(|f| f.location.path.clone());
            let batch = Batch::Findings {
                list: Cow::Owned(full),
                before: std::mem::replace(&mut before, last),
            };
            if !send(batch) {
                return;
            }
        }
        batch.push(f);
    }
    if !batch.is_empty() {
        send(Batch::Findings {
            list: Cow::Owned(batch),
            before,
        });
    }
}

/// The first index at or after `at` that starts a new line (or the end).
fn line_end(all: &[Finding], mut at: usize) -> usize {
    while at < all.len() && at > 0 && same_line(&all[at - 1], &all[at]) {
        at += 1;
    }
    at
}

fn same_line(a: &Finding, b: &Finding) -> bool {
    a.location.line == b.location.line && a.location.path == b.location.path
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_findings::{fingerprint, Category, Confidence, Location, Severity};
    use std::sync::Arc;

    /// Rows of two values each, so that every shown line must mask a neighbour's value.
    fn rows(n: u64) -> Vec<Finding> {
        rows_per_file(n, 7_000)
    }

    fn rows_per_file(n: u64, per_file: u64) -> Vec<Finding> {
        let mut all = Vec::new();
        for row in 1..=n {
            let (id, phone) = (format!("4403{row:014}"), format!("139{row:08}"));
            let text: Arc<str> = Arc::from(format!("{id},{phone}").as_str());
            for (column, value) in [(1, id), (20, phone)] {
                all.push(Finding {
                    rule: Arc::from("r"),
                    name: Arc::from("r"),
                    category: Category::Personal,
                    severity: Severity::High,
                    confidence: Confidence::High,
                    location: Location {
                        path: format!("t{:03}.csv", (row - 1) / per_file),
                        line: row,
                        column,
                        offset: 0,
                    },
                    fingerprint: fingerprint("r", &value),
                    value,
                    validator: None,
                    line_text: Some(Arc::clone(&text)),
                    count: None,
                    blob: Arc::from("b"),
                    binary: false,
                    git: None,
                    triage: None,
                    cell: None,
                    process: None,
                    column_values: None,
                    decoded: None,
                });
            }
        }
        all
    }

    fn format(
        batch: &[Finding],
        _before: Option<&str>,
        lines: &LineValues<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<(), ReportError> {
        for f in batch {
            writeln!(
                buf,
                "{}:{} {}",
                f.location.path,
                f.location.line,
                lines.shown_line(f, false).unwrap_or_default()
            )?;
        }
        Ok(())
    }

    fn one_thread(all: &[Finding]) -> Vec<u8> {
        let mut buf = Vec::new();
        format(all, None, &LineValues::new(all), &mut buf).unwrap();
        buf
    }

    fn written(findings: &Findings) -> Vec<u8> {
        let mut out = Vec::new();
        write_batches(&mut out, findings, format).unwrap();
        out
    }

    #[test]
    fn batches_on_threads_write_what_one_thread_writes() {
        let all = rows(15_000);
        assert!(leakhound_findings::in_report_order(&all));
        let expected = one_thread(&all);
        assert!(!String::from_utf8_lossy(&expected).contains("440300000000012345"));
        assert_eq!(written(&Findings::from(all.clone())), expected);
        // Spilled: read back from runs, in batches cut at line ends.
        let spool = leakhound_spool::Spool::new(5_000);
        for chunk in all.chunks(3_000) {
            spool.push(chunk.to_vec());
        }
        let spilled = spool.finish();
        assert!(spilled.spilled());
        assert_eq!(written(&spilled), expected);
    }

    /// A path header where the path changes, also when the change falls on a batch's
    /// first finding (2,048 rows = 4,096 findings = one batch per file).
    #[test]
    fn batches_know_the_path_before_them() {
        fn headed(
            batch: &[Finding],
            before: Option<&str>,
            _: &LineValues<'_>,
            buf: &mut Vec<u8>,
        ) -> Result<(), ReportError> {
            let mut current = before;
            for f in batch {
                if current != Some(f.location.path.as_str()) {
                    if current.is_some() {
                        writeln!(buf)?;
                    }
                    writeln!(buf, "== {}", f.location.path)?;
                    current = Some(&f.location.path);
                }
                writeln!(buf, "{}", f.location.line)?;
            }
            Ok(())
        }
        // Files of one batch each, then files that batches start in the middle of.
        for per_file in [2_048, 3_001] {
            let all = rows_per_file(2_048 * 12, per_file);
            assert!(leakhound_findings::in_report_order(&all));
            let mut expected = Vec::new();
            headed(&all, None, &LineValues::new(&all), &mut expected).unwrap();
            let spool = leakhound_spool::Spool::new(5_000);
            spool.push(all.clone());
            for findings in [Findings::from(all), spool.finish()] {
                let mut out = Vec::new();
                write_batches(&mut out, &findings, headed).unwrap();
                let out = String::from_utf8_lossy(&out);
                assert_eq!(out, String::from_utf8_lossy(&expected));
                let files = (2_048 * 12_u64).div_ceil(per_file) as usize;
                assert_eq!(out.matches("== ").count(), files);
            }
        }
    }

    #[test]
    fn findings_out_of_order_are_masked_with_all_their_line_mates() {
        let mut all = rows(12_000);
        // A line's two findings far apart: batch-local indexes would miss the mate.
        all.swap(1, 20_001);
        let out = String::from_utf8(written(&Findings::from(all.clone()))).unwrap();
        assert_eq!(out.as_bytes(), one_thread(&all));
        assert!(
            !out.contains("13900000001"),
            "a neighbour's value shown in clear"
        );
    }
}
