//! `leakhound serve` and `leakhound users`: the web triage application and its
//! accounts.

use crate::datastore::{who, ExistingDatastore};
use crate::exit;
use anyhow::Context;
use clap::{Args, Subcommand};
use leakhound_serve::accounts::{self, Role};
use leakhound_store::User;
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: ExistingDatastore,
    /// Address and port to listen on. Keep it on loopback unless it serves HTTPS
    /// (--tls-cert) or a TLS reverse proxy is in front (docs/serve.md).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Mark cookies Secure: set it when a TLS reverse proxy serves the pages (the
    /// browser then sends the session cookie over HTTPS only).
    #[arg(long)]
    secure_cookies: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    /// Cookies are then Secure, and browsers are told to stay on HTTPS.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Datastore connections the requests share.
    #[arg(long, default_value_t = 8, value_name = "N")]
    connections: usize,
}

pub fn run(a: ServeArgs) -> anyhow::Result<u8> {
    let mut store = a.store.open()?;
    let users = store.users().context("reading accounts")?;
    drop(store);
    let spec = a.store.datastore.clone().unwrap_or_default();
    if users.iter().all(|u| u.disabled) {
        eprintln!(
            "leakhound serve: no account can log in yet; make one with `leakhound users add NAME --role admin --datastore {}`",
            a.store.shown()
        );
    }
    let tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(leakhound_serve::Tls { cert, key }),
        _ => None,
    };
    if !a.listen.ip().is_loopback() && !a.secure_cookies && tls.is_none() {
        eprintln!(
            "leakhound serve: warning: listening on {} over plain HTTP; give --tls-cert and --tls-key, or put a TLS reverse proxy in front and pass --secure-cookies (docs/serve.md)",
            a.listen
        );
    }
    let shown = a.store.shown();
    let scheme = if tls.is_some() { "https" } else { "http" };
    leakhound_serve::serve(
        leakhound_serve::ServeConfig {
            datastore: spec,
            listen: a.listen,
            secure_cookies: a.secure_cookies,
            tls,
            connections: a.connections,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        move |addr| {
            eprintln!("leakhound serve: {scheme}://{addr}/ over datastore {shown} (Ctrl-C stops)");
        },
    )
    .context("leakhound serve")?;
    Ok(exit::CLEAN)
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Make an account, or reset its password and role. The password is asked for on
    /// the terminal, or read from standard input's first line with --password-stdin.
    Add {
        /// Login name (letters, digits, . - _ @).
        name: String,
        /// viewer (read), analyst (also triage) or admin (also accounts).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input's first line (scripts, CI).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: ExistingDatastore,
    },
    /// Disable an account: it cannot log in and its sessions end at once.
    Disable {
        /// Login name.
        name: String,
        #[command(flatten)]
        store: ExistingDatastore,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        store: ExistingDatastore,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// The new password: from standard input, or asked twice on the terminal.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no terminal to ask the password on: pass --password-stdin and pipe it in");
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let again = rpassword::prompt_password("Again: ").context("reading the password")?;
    if first != again {
        anyhow::bail!("the two passwords differ; nothing changed");
    }
    Ok(first)
}

pub fn users(c: UsersCommand) -> anyhow::Result<u8> {
    match c {
        UsersCommand::Add {
            name,
            role,
            password_stdin,
            store,
        } => {
            accounts::check_name(&name)?;
            let password = read_password(password_stdin)?;
            let hash = accounts::hash_password(&password)?;
            let mut store = store.open()?;
            let created_at = store.user(&name)?.map(|u| u.created_at).unwrap_or_else(|| {
                jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string()
            });
            let user = User {
                name: name.clone(),
                role: role.as_str().to_string(),
                password: hash,
                created_at,
                disabled: false,
            };
            let new = store
                .put_user(&user, &who(None))
                .context("saving the account")?;
            println!(
                "{name}: {} ({})",
                if new { "made" } else { "changed" },
                role.as_str()
            );
        }
        UsersCommand::Disable { name, store } => {
            let mut store = store.open()?;
            let Some(mut user) = store.user(&name)? else {
                anyhow::bail!("no account called {}", crate::output::safe(&name));
            };
            user.disabled = true;
            store
                .put_user(&user, &who(None))
                .context("saving the account")?;
            println!(
                "{}: disabled, its sessions ended",
                crate::output::safe(&name)
            );
        }
        UsersCommand::List { store } => {
            let mut store = store.open()?;
            for u in store.users()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.name,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    u.created_at
                );
            }
        }
    }
    Ok(exit::CLEAN)
}
