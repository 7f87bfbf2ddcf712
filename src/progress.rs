//! A progress line on stderr for long scans, drawn only when stderr is a terminal.

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
    /// Start drawing if `enabled` and stderr is a terminal. Scans that finish within
    /// half a second never show a bar (pre-commit hooks stay quiet).
    pub fn start(counters: Arc<Counters>, enabled: bool) -> Progress {
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
                let mb = counters.bytes() as f64 / 1e6;
                let what = match counters.commits() {
                    0 => format!("{} files", counters.files()),
                    commits => format!("{commits} commits, {} blobs", counters.blobs()),
                };
                bar.set_message(format!(
                    "{what}, {mb:.1} MB scanned, {} findings",
                    counters.findings()
                ));
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
