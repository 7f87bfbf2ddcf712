//! A bound on how long opening a network input may take.
//!
//! The PostgreSQL client has a connect timeout for the TCP handshake only: a listener
//! that accepts and never answers (a wrong port, a hung server, a hostile endpoint) held
//! `assess postgres://…` and `--datastore postgres://…` forever. Opening runs on its own
//! thread here, and the caller stops waiting at the deadline.

use std::time::Duration;

/// How long opening a database connection may take unless the URL says otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one read from a database may take (MySQL's read timeout).
pub const READ_TIMEOUT: Duration = Duration::from_secs(300);

/// `open()`'s result if it finishes within `limit`; `None` when it did not. A thread
/// that overran is left to finish or fail on its own: the process does not wait for it.
pub fn within<T: Send + 'static>(
    limit: Duration,
    open: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("connect".into())
        .spawn(move || {
            let _ = tx.send(open());
        })
        .ok()?;
    rx.recv_timeout(limit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_the_result_or_none_at_the_deadline() {
        assert_eq!(within(Duration::from_secs(5), || 7), Some(7));
        let slow = within(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(2));
            1
        });
        assert_eq!(slow, None);
    }
}
