//! Databases as sources of tables: SQLite files (found like any file, also inside
//! archives) and live PostgreSQL and MySQL/MariaDB servers, read-only.

use crate::table::{Table, TableSink};

/// SQLite files start with this header whatever their name.
pub(crate) fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(b"SQLite format 3\0")
}

/// Every table of an SQLite database file's bytes, handed to `sink` as
/// `path!table`. The bytes are written to a private temporary file because SQLite
/// reads files, and an archive member has none.
///
/// A damaged file (cut short, pages overwritten) is read as far as SQLite can, then
/// the rows it could not reach are recovered from the leaf pages (see
/// [`crate::sqlite_pages`]) and handed on as `path!table (recovered pages)`; the error
/// says what was damaged and how much was recovered. A cut file used to give no
/// table at all, and the scanner then matched its raw pages, where values run
/// together and no ID number is found.
pub(crate) fn sqlite_tables(
    path: &str,
    bytes: &[u8],
    sink: &mut dyn TableSink,
) -> Result<(), String> {
    let mut file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| e.to_string())?;
    let conn = rusqlite::Connection::open_with_flags(
        file.path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    );
    let schema = conn
        .as_ref()
        .map_err(|e| e.to_string())
        .and_then(|c| table_names(c).map_err(|e| e.to_string()));
    let (conn, names) = match (conn, schema) {
        (Ok(c), Ok(names)) => (Some(c), names),
        (_, schema) => {
            let e = schema.err().unwrap_or_default();
            let failed = schema_from_page_one(bytes);
            return recover(
                path,
                bytes,
                None,
                &[],
                &failed,
                format!("schema: {e}"),
                sink,
            );
        }
    };
    let mut failed: Vec<Failed> = Vec::new();
    for name in &names {
        let quoted = quote_ident(name);
        let conn = conn.as_ref().ok_or("no connection")?;
        let mut stmt = match conn.prepare(&format!("SELECT * FROM {quoted}")) {
            Ok(s) => s,
            Err(e) => {
                failed.push(Failed::new(conn, name, 0, Vec::new(), e.to_string()));
                continue;
            }
        };
        let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let width = columns.len();
        let mut cursor = match stmt.query([]) {
            Ok(c) => c,
            Err(e) => {
                failed.push(Failed::new(conn, name, 0, columns, e.to_string()));
                continue;
            }
        };
        let mut error = None;
        let mut read = 0u64;
        let mut rows = std::iter::from_fn(|| {
            let r = match cursor.next() {
                Ok(r) => r?,
                Err(e) => {
                    error = Some(e.to_string());
                    return None;
                }
            };
            read += 1;
            Some((0..width).map(|i| cell(r.get_ref(i).ok())).collect())
        });
        sink.table(Table {
            source: &format!("{path}!{name}"),
            format: "sqlite",
            columns: columns.clone(),
            rows: &mut rows,
        });
        drop(cursor);
        if let Some(e) = error {
            failed.push(Failed::new(conn, name, read, columns, e));
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    let first = format!("table {}: {}", failed[0].name, failed[0].error);
    recover(path, bytes, conn.as_ref(), &names, &failed, first, sink)
}

/// A table SQLite could not read to the end.
struct Failed {
    name: String,
    columns: Vec<String>,
    /// The `INTEGER PRIMARY KEY` column, stored as NULL in records (it is the rowid).
    rowid_column: Option<usize>,
    read: u64,
    error: String,
}

impl Failed {
    fn new(
        conn: &rusqlite::Connection,
        name: &str,
        read: u64,
        columns: Vec<String>,
        error: String,
    ) -> Failed {
        let info = table_info(conn, name);
        let columns = if columns.is_empty() {
            info.iter().map(|(n, _)| n.clone()).collect()
        } else {
            columns
        };
        let keys: Vec<usize> = info
            .iter()
            .enumerate()
            .filter(|(_, (_, integer_key))| *integer_key)
            .map(|(i, _)| i)
            .collect();
        Failed {
            name: name.to_string(),
            columns,
            rowid_column: (keys.len() == 1).then(|| keys[0]),
            read,
            error,
        }
    }
}

/// The tables of a file whose schema SQLite cannot read, from the schema records on
/// page 1: each `CREATE TABLE` is run in an empty in-memory database, so SQLite itself
/// names the columns and the rowid column.
fn schema_from_page_one(bytes: &[u8]) -> Vec<Failed> {
    let Ok(scratch) = rusqlite::Connection::open_in_memory() else {
        return Vec::new();
    };
    crate::sqlite_pages::schema(bytes)
        .into_iter()
        .filter(|(_, sql)| scratch.execute_batch(sql).is_ok())
        .map(|(name, _)| Failed::new(&scratch, &name, 0, Vec::new(), String::new()))
        .filter(|f| !f.columns.is_empty())
        .collect()
}

/// Column names of `table`, each with whether it is an `INTEGER` primary key; empty
/// when the schema cannot be read.
fn table_info(conn: &rusqlite::Connection, table: &str) -> Vec<(String, bool)> {
    let sql = format!("PRAGMA table_info({})", quote_ident(table));
    let Ok(mut stmt) = conn.prepare(&sql) else {
        return Vec::new();
    };
    let rows = stmt.query_map([], |r| {
        let name: String = r.get(1)?;
        let kind: String = r.get(2)?;
        let pk: i64 = r.get(5)?;
        Ok((name, pk > 0 && kind.eq_ignore_ascii_case("INTEGER")))
    });
    let Ok(rows) = rows else {
        return Vec::new();
    };
    let all: Vec<(String, bool)> = rows.filter_map(Result::ok).collect();
    // A rowid alias is the only primary key column.
    let keys = all.iter().filter(|(_, k)| *k).count();
    all.into_iter().map(|(n, k)| (n, k && keys == 1)).collect()
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn table_names(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.collect()
}

fn cell(value: Option<rusqlite::types::ValueRef<'_>>) -> String {
    use rusqlite::types::ValueRef;
    match value {
        Some(ValueRef::Integer(n)) => n.to_string(),
        Some(ValueRef::Real(x)) => x.to_string(),
        Some(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
        _ => String::new(),
    }
}

/// A record's identity: its rowid and values, with the rowid column blank (as the
/// page stores it), so a row SQLite read and the same row carved from its page agree.
fn identity(rowid: i64, cells: &[String], rowid_column: Option<usize>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&rowid.to_le_bytes());
    for (i, c) in cells.iter().enumerate() {
        if Some(i) != rowid_column {
            h.update(c.as_bytes());
        }
        h.update(&[0xff]);
    }
    h.digest()
}

/// The rows SQLite can read, as identities, to tell carved records already handed on.
fn readable(
    conn: &rusqlite::Connection,
    names: &[String],
    seen: &mut std::collections::HashSet<u64>,
) {
    for name in names {
        let key = table_info(conn, name)
            .iter()
            .position(|(_, integer_key)| *integer_key);
        let Ok(mut stmt) = conn.prepare(&format!("SELECT rowid, * FROM {}", quote_ident(name)))
        else {
            continue;
        };
        let width = stmt.column_count().saturating_sub(1);
        let Ok(mut cursor) = stmt.query([]) else {
            continue;
        };
        while let Ok(Some(r)) = cursor.next() {
            let rowid: i64 = r.get(0).unwrap_or_default();
            let cells: Vec<String> = (1..=width).map(|i| cell(r.get_ref(i).ok())).collect();
            seen.insert(identity(rowid, &cells, key));
        }
    }
}

/// Hand on what the pages hold beyond what SQLite read, and say what was damaged.
fn recover(
    path: &str,
    bytes: &[u8],
    conn: Option<&rusqlite::Connection>,
    names: &[String],
    failed: &[Failed],
    damage: String,
    sink: &mut dyn TableSink,
) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    if let Some(conn) = conn {
        readable(conn, names, &mut seen);
    }
    // Recovered rows per failed table (by width), and the rest by width.
    let mut owned: Vec<Vec<Vec<String>>> = vec![Vec::new(); failed.len()];
    let mut loose: std::collections::BTreeMap<usize, Vec<Vec<String>>> = Default::default();
    for (rowid, mut cells) in crate::sqlite_pages::carve(bytes) {
        let owner: Vec<usize> = (0..failed.len())
            .filter(|&i| failed[i].columns.len() == cells.len())
            .collect();
        let key = match owner.as_slice() {
            [one] => failed[*one].rowid_column,
            _ => None,
        };
        if seen.contains(&identity(rowid, &cells, key)) {
            continue;
        }
        match owner.as_slice() {
            [one] => {
                if let Some(slot) = key.and_then(|k| cells.get_mut(k)) {
                    *slot = rowid.to_string();
                }
                owned[*one].push(cells);
            }
            _ => loose.entry(cells.len()).or_default().push(cells),
        }
    }
    let mut recovered = 0usize;
    for (f, rows) in failed.iter().zip(owned) {
        if rows.is_empty() {
            continue;
        }
        recovered += rows.len();
        sink.table(Table {
            source: &format!("{path}!{} (recovered pages)", f.name),
            format: "sqlite",
            columns: f.columns.clone(),
            rows: &mut rows.into_iter(),
        });
    }
    for (width, rows) in loose {
        recovered += rows.len();
        sink.table(Table {
            source: &format!("{path}!(recovered pages, {width} columns)"),
            format: "sqlite",
            columns: (1..=width).map(|i| format!("column_{i}")).collect(),
            rows: &mut rows.into_iter(),
        });
    }
    let read: u64 = failed.iter().map(|f| f.read).sum();
    Err(format!(
        "damaged ({damage}); {read} rows read before the damage, {recovered} more recovered \
         from the file's pages"
    ))
}

use leakhound_inputs::deadline::{within, CONNECT_TIMEOUT, READ_TIMEOUT};

/// Why a live database could not be read, in the server's own words: each cause once
/// (the drivers' errors repeat their cause in their message and again as its source).
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// PostgreSQL refused or could not be reached.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// MySQL or MariaDB refused or could not be reached.
    #[error("MySQL: {0}")]
    Mysql(String),
    /// The server did not answer in time.
    #[error("the database server did not answer within {0} s (set connect_timeout=N in the URL to wait longer)")]
    Timeout(u64),
}

impl From<postgres::Error> for DatabaseError {
    fn from(e: postgres::Error) -> Self {
        // "db error: FATAL: …" says "db error" for nothing; the server's severity,
        // message and hint are what a user acts on.
        let words = match e.as_db_error() {
            Some(db) => {
                let mut w = format!("{}: {}", db.severity(), db.message());
                if let Some(detail) = db.detail() {
                    w.push_str(&format!(" ({detail})"));
                }
                if let Some(hint) = db.hint() {
                    w.push_str(&format!("; hint: {hint}"));
                }
                w
            }
            None => e.to_string(),
        };
        DatabaseError::Postgres(words)
    }
}

impl From<mysql::Error> for DatabaseError {
    fn from(e: mysql::Error) -> Self {
        // The driver's Display of a server error is its Debug form
        // (`MySqlError { ERROR 1045 … }`); the server's code and message read better.
        let words = match &e {
            mysql::Error::MySqlError(server) => {
                format!(
                    "ERROR {} ({}): {}",
                    server.code, server.state, server.message
                )
            }
            other => other.to_string(),
        };
        DatabaseError::Mysql(words)
    }
}

/// A read-only-to-be client, given up on after the URL's `connect_timeout` (10 s when it
/// has none): the client's own timeout covers the TCP handshake, not a server that
/// accepts and never answers.
fn postgres_client(url: &str) -> Result<postgres::Client, DatabaseError> {
    let mut config: postgres::Config = url.parse()?;
    let limit = *config.get_connect_timeout().unwrap_or(&CONNECT_TIMEOUT);
    config.connect_timeout(limit);
    config.keepalives_idle(std::time::Duration::from_secs(60));
    within(limit, move || config.connect(postgres::NoTls))
        .ok_or(DatabaseError::Timeout(limit.as_secs()))?
        .map_err(Into::into)
}

/// Tables of a live PostgreSQL database: every table outside the system schemas, its
/// first `sample` rows (all rows when `None`), every value cast to text by the
/// server. The session is read-only, and rows are streamed from the server, so
/// `--full` on a big table does not hold it in memory.
pub(crate) fn postgres_tables(
    url: &str,
    sample: Option<u64>,
    sink: &mut dyn TableSink,
) -> Result<(), DatabaseError> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut client = postgres_client(url)?;
    client.batch_execute("SET default_transaction_read_only = on")?;
    let tables = client.query(
        "SELECT table_schema, table_name FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' \
         AND table_schema NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY table_schema, table_name",
        &[],
    )?;
    for t in tables {
        let (schema, table): (String, String) = (t.get(0), t.get(1));
        let columns: Vec<String> = client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                &[&schema, &table],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if columns.is_empty() {
            continue;
        }
        let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let select: Vec<String> = columns.iter().map(|c| format!("{}::text", q(c))).collect();
        let limit = sample.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let sql = format!(
            "SELECT {} FROM {}.{}{limit}",
            select.join(", "),
            q(&schema),
            q(&table)
        );
        let width = columns.len();
        let mut stream = client.query_raw(sql.as_str(), std::iter::empty::<&str>())?;
        let mut failed = None;
        let mut rows = std::iter::from_fn(|| match stream.next() {
            Ok(r) => r.map(|r| {
                (0..width)
                    .map(|i| {
                        r.try_get::<_, Option<String>>(i)
                            .ok()
                            .flatten()
                            .unwrap_or_default()
                    })
                    .collect()
            }),
            Err(e) => {
                failed = Some(e);
                None
            }
        })
        // A finished result must not be polled again (the PostgreSQL client then reports
        // "connection closed"), and readers do ask again: trace takes a sample, then the rest.
        .fuse();
        sink.table(Table {
            source: &format!("{schema}.{table}"),
            format: "postgres",
            columns,
            rows: &mut rows,
        });
        drop(stream);
        if let Some(e) = failed {
            return Err(e.into());
        }
    }
    Ok(())
}

/// Tables of a live MySQL or MariaDB server: every table of the URL's database (of
/// every non-system database when the URL names none), its first `sample` rows (all
/// when `None`), every value cast to text by the server, streamed. The session is
/// read-only. Sources are `database.table`.
pub(crate) fn mysql_tables(
    url: &str,
    sample: Option<u64>,
    sink: &mut dyn TableSink,
) -> Result<(), DatabaseError> {
    use mysql::prelude::Queryable;
    let url = url
        .strip_prefix("mariadb://")
        .map_or_else(|| url.to_string(), |rest| format!("mysql://{rest}"));
    let opts = mysql::Opts::from_url(&url).map_err(mysql::Error::from)?;
    // A server that accepts and never answers must not hold the run forever.
    let opts = mysql::OptsBuilder::from_opts(opts.clone())
        .tcp_connect_timeout(opts.get_tcp_connect_timeout().or(Some(CONNECT_TIMEOUT)))
        .read_timeout(opts.get_read_timeout().copied().or(Some(READ_TIMEOUT)))
        .write_timeout(opts.get_write_timeout().copied().or(Some(READ_TIMEOUT)));
    // The handshake waits for the server's greeting: bounded like PostgreSQL's.
    let mut conn = within(CONNECT_TIMEOUT, move || mysql::Conn::new(opts))
        .ok_or(DatabaseError::Timeout(CONNECT_TIMEOUT.as_secs()))??;
    conn.query_drop("SET SESSION TRANSACTION READ ONLY")?;
    let tables: Vec<(String, String)> = conn.query(
        "SELECT CAST(table_schema AS CHAR), CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' \
         AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') \
         AND (DATABASE() IS NULL OR table_schema = DATABASE()) \
         ORDER BY table_schema, table_name",
    )?;
    let q = |s: &str| format!("`{}`", s.replace('`', "``"));
    for (schema, table) in tables {
        let columns: Vec<String> = conn.exec(
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
             WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            (&schema, &table),
        )?;
        if columns.is_empty() {
            continue;
        }
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("CAST({} AS CHAR)", q(c)))
            .collect();
        let limit = sample.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let sql = format!(
            "SELECT {} FROM {}.{}{limit}",
            select.join(", "),
            q(&schema),
            q(&table)
        );
        let width = columns.len();
        let mut result = conn.query_iter(sql)?;
        let mut failed = None;
        let mut rows = std::iter::from_fn(|| match result.next()? {
            Ok(row) => Some(
                (0..width)
                    .map(|i| match row.as_ref(i) {
                        Some(mysql::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                        Some(mysql::Value::NULL) | None => String::new(),
                        Some(other) => other.as_sql(true).trim_matches('\'').to_string(),
                    })
                    .collect(),
            ),
            Err(e) => {
                failed = Some(e);
                None
            }
        })
        // A finished result must not be polled again (the PostgreSQL client then reports
        // "connection closed"), and readers do ask again: trace takes a sample, then the rest.
        .fuse();
        sink.table(Table {
            source: &format!("{schema}.{table}"),
            format: "mysql",
            columns,
            rows: &mut rows,
        });
        // Drain what the sink did not read, so the connection can take the next query.
        rows.for_each(drop);
        if let Some(e) = failed {
            return Err(e.into());
        }
    }
    Ok(())
}
