//! A progress line on stderr for long runs, drawn only when stderr is a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use leakhound_scan::Counters;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Draws until dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// A scan's progress: files or commits, bytes, findings.
    pub fn scan(counters: Arc<Counters>, enabled: bool) -> Progress {
        Progress::start(
            move || {
                let mb = counters.bytes() as f64 / 1e6;
                let what = match counters.commits() {
                    0 => format!("{} files", counters.files()),
                    commits => format!("{commits} commits, {} blobs", counters.blobs()),
                };
                format!(
                    "{what}, {mb:.1} MB scanned, {} findings",
                    counters.findings()
                )
            },
            enabled,
        )
    }

    /// Reading tables (`assess`, `trace`): MB read and rows.
    pub fn tables(meter: Arc<leakhound_tables::Meter>, enabled: bool) -> Progress {
        Progress::start(
            move || {
                format!(
                    "{:.1} MB read, {} rows",
                    meter.bytes() as f64 / 1e6,
                    meter.rows()
                )
            },
            enabled,
        )
    }

    /// Start drawing `message()` if `enabled` and stderr is a terminal. Runs that
    /// finish within half a second never show a bar (pre-commit hooks stay quiet).
    pub fn start(message: impl Fn() -> String + Send + 'static, enabled: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { stop, handle: None };
        }
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            if flag.load(Ordering::Relaxed) {
                return;
            }
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            while !flag.load(Ordering::Relaxed) {
                bar.set_message(message());
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Progress {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
