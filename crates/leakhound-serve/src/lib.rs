//! `leakhound serve`: a team triages in the browser, over the same datastore the CLI
//! records into (SQLite or PostgreSQL).
//!
//! Server-rendered pages (askama templates, escaped by default) and one small script
//! file; nothing to build with Node, nothing loaded from elsewhere. Every change is a
//! form post that carries the session's CSRF token, by a signed-in account whose role
//! allows it, and lands in the store's logs with who and when, so `leakhound report`
//! and `leakhound triage` see what the page did and the page sees what they did.
//!
//! Layout: [`accounts`] (passwords, roles, login throttling), [`session`] (cookies,
//! CSRF), [`pages`] (one handler per page, a file per part of the site: `login`,
//! `findings`, `overview`, `users`), [`filters`] (query string to store filter),
//! [`pool`] (store connections for the request threads).
#![deny(missing_docs)]

pub mod accounts;
mod filters;
mod pages;
mod pool;
mod session;

use axum::http::{header, HeaderValue};
use std::net::SocketAddr;
use std::sync::Arc;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The datastore could not be opened.
    #[error("opening the datastore: {0}")]
    Store(#[from] leakhound_store::StoreError),
    /// The address could not be listened on.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The certificate or key could not be read or do not fit.
    #[error("TLS certificate {cert} and key {key}: {source}")]
    Tls {
        /// The certificate chain file (PEM).
        cert: String,
        /// The private key file (PEM).
        key: String,
        /// What was wrong.
        source: std::io::Error,
    },
    /// The runtime could not start, or serving failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// A certificate chain and its private key, both PEM files.
#[derive(Debug, Clone)]
pub struct Tls {
    /// The certificate chain, leaf first.
    pub cert: std::path::PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The datastore (SQLite path or postgres:// URL).
    pub datastore: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Mark cookies `Secure` (set when a TLS reverse proxy is in front; always with
    /// `tls`).
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate (rustls) instead of plain HTTP.
    pub tls: Option<Tls>,
    /// How many datastore connections requests share.
    pub connections: usize,
    /// leakhound's version, for the footer and SARIF exports.
    pub tool_version: String,
}

/// What every request handler shares.
pub(crate) struct App {
    pub stores: pool::Stores,
    pub config: ServeConfig,
    pub throttle: accounts::Throttle,
}

/// Serve until interrupted (Ctrl-C or SIGTERM). `ready` is called with the address
/// once the socket listens (port 0 picks a free one).
pub fn serve(
    mut config: ServeConfig,
    ready: impl FnOnce(SocketAddr) + Send + 'static,
) -> Result<(), ServeError> {
    // Open once up front so a wrong URL or a store from a newer leakhound is said at
    // once, and the schema is migrated before requests arrive.
    let first = leakhound_store::Store::open(&config.datastore)?;
    config.secure_cookies |= config.tls.is_some();
    let stores = pool::Stores::new(config.datastore.clone(), config.connections, first);
    let app = Arc::new(App {
        stores,
        config: config.clone(),
        throttle: accounts::Throttle::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("leakhound-serve")
        .build()?;
    let router = router(app, config.tls.is_some());
    runtime.block_on(async move {
        match &config.tls {
            None => {
                let listener =
                    tokio::net::TcpListener::bind(config.listen)
                        .await
                        .map_err(|source| ServeError::Listen {
                            addr: config.listen,
                            source,
                        })?;
                ready(listener.local_addr()?);
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stopped())
                .await?;
            }
            Some(tls) => serve_tls(&config, tls, router, ready).await?,
        }
        Ok(())
    })
}

/// HTTPS through rustls: each connection's handshake runs in its own task, so a slow
/// or silent client holds up nobody else.
async fn serve_tls(
    config: &ServeConfig,
    tls: &Tls,
    router: axum::Router,
    ready: impl FnOnce(SocketAddr) + Send + 'static,
) -> Result<(), ServeError> {
    let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .map_err(|source| ServeError::Tls {
            cert: tls.cert.display().to_string(),
            key: tls.key.display().to_string(),
            source,
        })?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        stopped().await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let listening = handle.clone();
    tokio::spawn(async move {
        if let Some(addr) = listening.listening().await {
            ready(addr);
        }
    });
    axum_server::bind_rustls(config.listen, rustls)
        .handle(handle)
        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })
}

/// The routes, wrapped in the headers every answer carries (and, over HTTPS, the
/// header that keeps browsers on HTTPS).
fn router(app: Arc<App>, https: bool) -> axum::Router {
    use axum::routing::{get, post};
    let router = axum::Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/findings", get(pages::findings))
        .route("/findings/{fingerprint}", get(pages::finding))
        .route("/triage", post(pages::triage))
        .route("/scans", get(pages::scans))
        .route("/exposure", get(pages::exposure))
        .route("/audit", get(pages::audit))
        .route("/users", get(pages::users).post(pages::change_user))
        .route("/export.csv", get(pages::export_csv))
        .route("/export.sarif", get(pages::export_sarif))
        .route("/static/app.css", get(pages::stylesheet))
        .route("/static/app.js", get(pages::script))
        .fallback(pages::not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app);
    if https {
        router.layer(axum::middleware::map_response(strict_transport))
    } else {
        router
    }
}

/// Browsers that reached the server over HTTPS use nothing else for a year.
async fn strict_transport(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// Headers on every answer: a policy that forbids inline script and anything from
/// elsewhere, no framing, no sniffing, no referrer, and no caching of pages that show
/// findings.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// Resolves when the process is asked to stop.
async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
