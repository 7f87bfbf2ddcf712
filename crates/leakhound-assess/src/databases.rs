//! Databases as sources of tables: SQLite files (found like any file, also inside
//! archives) and live PostgreSQL and MySQL/MariaDB servers, read-only.

use crate::tables::{Table, TableSink};

/// SQLite files start with this header whatever their name.
pub(crate) fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(b"SQLite format 3\0")
}

/// Every table of an SQLite database file's bytes, handed to `sink` as
/// `path!table`. The bytes are written to a private temporary file because SQLite
/// reads files, and an archive member has none.
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
    )
    .map_err(|e| e.to_string())?;
    let names: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())?
    };
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {quoted}"))
            .map_err(|e| e.to_string())?;
        let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let width = columns.len();
        let mut cursor = stmt.query([]).map_err(|e| e.to_string())?;
        let mut failed = None;
        let mut rows = std::iter::from_fn(|| {
            let r = match cursor.next() {
                Ok(r) => r?,
                Err(e) => {
                    failed = Some(e.to_string());
                    return None;
                }
            };
            use rusqlite::types::ValueRef;
            Some(
                (0..width)
                    .map(|i| match r.get_ref(i) {
                        Ok(ValueRef::Integer(n)) => n.to_string(),
                        Ok(ValueRef::Real(x)) => x.to_string(),
                        Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                        _ => String::new(),
                    })
                    .collect(),
            )
        });
        sink.table(Table {
            source: &format!("{path}!{name}"),
            format: "sqlite",
            columns,
            rows: &mut rows,
        });
        if let Some(e) = failed {
            return Err(format!("table {name}: {e}"));
        }
    }
    Ok(())
}

use leakhound_inputs::deadline::{within, CONNECT_TIMEOUT, READ_TIMEOUT};

/// A read-only-to-be client, given up on after the URL's `connect_timeout` (10 s when it
/// has none): the client's own timeout covers the TCP handshake, not a server that
/// accepts and never answers.
fn postgres_client(url: &str) -> Result<postgres::Client, crate::AssessError> {
    let mut config: postgres::Config = url.parse()?;
    let limit = *config.get_connect_timeout().unwrap_or(&CONNECT_TIMEOUT);
    config.connect_timeout(limit);
    config.keepalives_idle(std::time::Duration::from_secs(60));
    within(limit, move || config.connect(postgres::NoTls))
        .ok_or(crate::AssessError::Timeout(limit.as_secs()))?
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
) -> Result<(), crate::AssessError> {
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
        });
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
) -> Result<(), crate::AssessError> {
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
        .ok_or(crate::AssessError::Timeout(CONNECT_TIMEOUT.as_secs()))??;
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
        });
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
