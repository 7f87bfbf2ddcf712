//! Databases as sources of tables: SQLite files (found like any file, also inside
//! archives) and live PostgreSQL servers, read-only.

use crate::sources::Rows;

/// SQLite files start with this header whatever their name.
pub(crate) fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(b"SQLite format 3\0")
}

/// Every table of an SQLite database file's bytes. The bytes are written to a private
/// temporary file because SQLite reads files, and an archive member has none.
pub(crate) fn sqlite_tables(bytes: &[u8]) -> Result<Vec<(String, Rows)>, String> {
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
    let mut out = Vec::new();
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {quoted}"))
            .map_err(|e| e.to_string())?;
        let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let width = columns.len();
        let mut rows = Vec::new();
        let mut cursor = stmt.query([]).map_err(|e| e.to_string())?;
        while let Some(r) = cursor.next().map_err(|e| e.to_string())? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                use rusqlite::types::ValueRef;
                row.push(match r.get_ref(i).map_err(|e| e.to_string())? {
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(x) => x.to_string(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    ValueRef::Null | ValueRef::Blob(_) => String::new(),
                });
            }
            rows.push(row);
        }
        out.push((
            name,
            Rows {
                format: "sqlite",
                columns,
                rows,
            },
        ));
    }
    Ok(out)
}

/// Tables of a live PostgreSQL database: every table outside the system schemas, its
/// first `sample` rows (all rows when `None`), every value cast to text by the
/// server. The session is read-only.
pub(crate) fn postgres_tables(
    url: &str,
    sample: Option<u64>,
) -> Result<Vec<(String, Rows)>, postgres::Error> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute("SET default_transaction_read_only = on")?;
    let tables = client.query(
        "SELECT table_schema, table_name FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' \
         AND table_schema NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY table_schema, table_name",
        &[],
    )?;
    let mut out = Vec::new();
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
        let rows = client
            .query(sql.as_str(), &[])?
            .iter()
            .map(|r| {
                (0..columns.len())
                    .map(|i| r.get::<_, Option<String>>(i).unwrap_or_default())
                    .collect()
            })
            .collect();
        out.push((
            format!("{schema}.{table}"),
            Rows {
                format: "postgres",
                columns,
                rows,
            },
        ));
    }
    Ok(out)
}
