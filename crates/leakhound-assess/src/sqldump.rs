//! SQL dumps as tables: `mysqldump` (`CREATE TABLE` column lists, multi-row
//! `INSERT … VALUES (…),(…)`) and `pg_dump` (`COPY … FROM stdin` blocks, or
//! `--inserts`). Column names come from the `INSERT`/`COPY` column list, else from the
//! table's `CREATE TABLE`, else `column_N`.

use crate::sources::Rows;
use std::collections::HashMap;

/// Every table with rows in the dump, in order of first appearance.
pub(crate) fn read(text: &str) -> Result<Vec<(String, Rows)>, String> {
    let mut created: HashMap<String, Vec<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut tables: HashMap<String, Rows> = HashMap::new();
    let mut pos = 0;
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        let rest = &text[pos..];
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            break;
        }
        // Comments and blank lines.
        if trimmed.starts_with("--") || trimmed.starts_with('#') {
            pos += line_end(trimmed);
            continue;
        }
        if trimmed.starts_with("/*") {
            pos += trimmed.find("*/").map_or(trimmed.len(), |i| i + 2);
            continue;
        }
        let upper: String = trimmed
            .chars()
            .take(16)
            .collect::<String>()
            .to_ascii_uppercase();
        if upper.starts_with("CREATE TABLE") {
            let end = statement_end(trimmed);
            if let Some((name, cols)) = create_table(&trimmed[..end]) {
                created.insert(name, cols);
            }
            pos += end;
        } else if upper.starts_with("INSERT INTO") || upper.starts_with("REPLACE INTO") {
            let end = statement_end(trimmed);
            let (name, cols, rows) = insert(&trimmed[..end])?;
            add(&mut tables, &mut order, &created, name, cols, rows);
            pos += end;
        } else if upper.starts_with("COPY ") {
            let header_end = line_end(trimmed);
            let header = &trimmed[..header_end];
            let (name, cols) = copy_header(header).ok_or("a COPY statement without a table")?;
            let body = &trimmed[header_end..];
            let (rows, used) = copy_rows(body);
            add(&mut tables, &mut order, &created, name, cols, rows);
            pos += header_end + used;
        } else {
            pos += statement_end(trimmed);
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|n| tables.remove(&n).map(|t| (n, t)))
        .collect())
}

fn add(
    tables: &mut HashMap<String, Rows>,
    order: &mut Vec<String>,
    created: &HashMap<String, Vec<String>>,
    name: String,
    cols: Vec<String>,
    rows: Vec<Vec<String>>,
) {
    let table = tables.entry(name.clone()).or_insert_with(|| {
        order.push(name.clone());
        let columns = if !cols.is_empty() {
            cols.clone()
        } else {
            created.get(&name).cloned().unwrap_or_default()
        };
        Rows {
            format: "sql",
            columns,
            rows: Vec::new(),
        }
    });
    for mut r in rows {
        while table.columns.len() < r.len() {
            let n = table.columns.len() + 1;
            table.columns.push(format!("column_{n}"));
        }
        r.resize(table.columns.len(), String::new());
        table.rows.push(r);
    }
}

fn line_end(s: &str) -> usize {
    s.find('\n').map_or(s.len(), |i| i + 1)
}

/// Where the statement starting at `s` ends (after its `;`), skipping quoted text.
fn statement_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' && q == b'\'' {
                    i += 1;
                } else if c == q {
                    if b.get(i + 1) == Some(&q) {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
            }
            None => match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b';' => return i + 1,
                _ => {}
            },
        }
        i += 1;
    }
    b.len()
}

/// `schema`.`table`, "schema"."table", schema.table -> schema.table
fn table_name(s: &str) -> String {
    s.split('.')
        .map(|p| p.trim().trim_matches(['`', '"', '[', ']']))
        .collect::<Vec<_>>()
        .join(".")
}

fn ident(s: &str) -> String {
    s.trim().trim_matches(['`', '"', '[', ']']).to_string()
}

/// `CREATE TABLE name (col type …, col type …, PRIMARY KEY …)` -> (name, columns).
fn create_table(stmt: &str) -> Option<(String, Vec<String>)> {
    let open = stmt.find('(')?;
    let head = stmt[..open].split_whitespace().collect::<Vec<_>>();
    let name = head
        .iter()
        .rev()
        .find(|w| !w.eq_ignore_ascii_case("EXISTS"))?;
    let body = &stmt[open + 1..stmt.rfind(')')?];
    let mut cols = Vec::new();
    for part in split_top_level(body, b',') {
        let first = part.split_whitespace().next().unwrap_or("");
        let upper = first.to_ascii_uppercase();
        if first.is_empty()
            || matches!(
                upper.as_str(),
                "PRIMARY"
                    | "KEY"
                    | "UNIQUE"
                    | "INDEX"
                    | "CONSTRAINT"
                    | "FOREIGN"
                    | "FULLTEXT"
                    | "CHECK"
                    | "SPATIAL"
            )
        {
            continue;
        }
        cols.push(ident(first));
    }
    Some((table_name(name), cols))
}

/// Split on `sep` outside parentheses and quotes.
fn split_top_level(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let (mut depth, mut start, mut i) = (0i32, 0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' && q == b'\'' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else {
            match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if c == sep && depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// `INSERT INTO t (a, b) VALUES (…), (…);` -> (t, [a, b], rows).
type Insert = (String, Vec<String>, Vec<Vec<String>>);

fn insert(stmt: &str) -> Result<Insert, String> {
    let upper = stmt.to_ascii_uppercase();
    let values_at = find_keyword(&upper, "VALUES").ok_or("an INSERT without VALUES")?;
    let head = &stmt[..values_at];
    let into = head
        .to_ascii_uppercase()
        .find("INTO")
        .map(|i| i + 4)
        .ok_or("an INSERT without INTO")?;
    let target = head[into..].trim();
    let (name, cols) = match target.find('(') {
        Some(p) => (
            table_name(&target[..p]),
            target[p + 1..target.rfind(')').unwrap_or(target.len())]
                .split(',')
                .map(ident)
                .collect(),
        ),
        None => (table_name(target), Vec::new()),
    };
    let body = &stmt[values_at + "VALUES".len()..];
    Ok((name, cols, tuples(body)))
}

/// The keyword outside quotes (a value may contain the word VALUES).
fn find_keyword(upper: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = upper[from..].find(word) {
        let at = from + i;
        let before = upper[..at].chars().next_back();
        let after = upper[at + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
        if edge(before) && edge(after) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// `(1,'a',NULL),(2,'b\'c',3.5)` -> rows of cell texts (NULL as empty).
fn tuples(s: &str) -> Vec<Vec<String>> {
    let b = s.as_bytes();
    let mut rows = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'(' {
            i += 1;
            continue;
        }
        i += 1;
        let mut row = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        while let Some(&c) = b.get(i) {
            if c == b'\'' {
                quoted = true;
                i += 1;
                let mut raw = Vec::new();
                while let Some(&d) = b.get(i) {
                    if d == b'\\' {
                        let e = b.get(i + 1).copied().unwrap_or(b'\\');
                        raw.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'r' => b'\r',
                            b'0' => 0,
                            other => other,
                        });
                        i += 2;
                    } else if d == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            raw.push(b'\'');
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    } else {
                        raw.push(d);
                        i += 1;
                    }
                }
                cell.push_str(&String::from_utf8_lossy(&raw));
                continue;
            }
            match c {
                b',' | b')' => {
                    let t = cell.trim();
                    row.push(if !quoted && t.eq_ignore_ascii_case("NULL") {
                        String::new()
                    } else if quoted {
                        std::mem::take(&mut cell)
                    } else {
                        t.to_string()
                    });
                    cell.clear();
                    quoted = false;
                    i += 1;
                    if c == b')' {
                        break;
                    }
                }
                _ => {
                    if !quoted {
                        cell.push(c as char);
                    }
                    i += 1;
                }
            }
        }
        rows.push(row);
    }
    rows
}

/// `COPY public.t (a, b) FROM stdin;` -> (public.t, [a, b]).
fn copy_header(line: &str) -> Option<(String, Vec<String>)> {
    let rest = line.trim_start()[5..].trim_start();
    let upper = rest.to_ascii_uppercase();
    let from = find_keyword(&upper, "FROM")?;
    let target = rest[..from].trim();
    Some(match target.find('(') {
        Some(p) => (
            table_name(&target[..p]),
            target[p + 1..target.rfind(')')?]
                .split(',')
                .map(ident)
                .collect(),
        ),
        None => (table_name(target), Vec::new()),
    })
}

/// Tab-separated rows up to `\.`; `\N` is NULL. Returns the rows and bytes used.
fn copy_rows(body: &str) -> (Vec<Vec<String>>, usize) {
    let mut rows = Vec::new();
    let mut used = 0;
    for line in body.split_inclusive('\n') {
        used += line.len();
        let l = line.trim_end_matches(['\n', '\r']);
        if l == "\\." {
            break;
        }
        rows.push(
            l.split('\t')
                .map(|f| {
                    if f == "\\N" {
                        String::new()
                    } else {
                        unescape_copy(f)
                    }
                })
                .collect(),
        );
    }
    (rows, used)
}

fn unescape_copy(f: &str) -> String {
    if !f.contains('\\') {
        return f.to_string();
    }
    let mut out = String::with_capacity(f.len());
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysqldump_multi_row_inserts() {
        let dump = "-- MySQL dump\n/*!40101 SET NAMES utf8mb4 */;\n\
            CREATE TABLE `customers` (\n  `id` int NOT NULL,\n  `name` varchar(20) DEFAULT NULL,\n  \
            `id_card` char(18),\n  `note` text,\n  PRIMARY KEY (`id`),\n  KEY `k` (`name`,`id_card`)\n) ENGINE=InnoDB;\n\
            INSERT INTO `customers` VALUES (1,'张伟','440304198706151231','it''s; (x)'),(2,'李娜',NULL,'a\\'b');\n\
            INSERT INTO `customers` VALUES (3,'王芳','310115199011304565','VALUES');\n";
        let t = read(dump).unwrap_or_default();
        assert_eq!(t.len(), 1);
        let (name, rows) = &t[0];
        assert_eq!(name, "customers");
        assert_eq!(rows.columns, ["id", "name", "id_card", "note"]);
        assert_eq!(rows.rows.len(), 3);
        assert_eq!(
            rows.rows[0],
            ["1", "张伟", "440304198706151231", "it's; (x)"]
        );
        assert_eq!(rows.rows[1][2], "");
        assert_eq!(rows.rows[1][3], "a'b");
    }

    #[test]
    fn pg_dump_copy_blocks_and_inserts_with_columns() {
        let dump = "CREATE TABLE public.owners (\n    id integer NOT NULL,\n    mobile text\n);\n\
            COPY public.owners (id, mobile) FROM stdin;\n1\t13912345678\n2\t\\N\n\\.\n\n\
            INSERT INTO public.cars (vin, plate) VALUES ('LSVAU218XN2183294', '粤B12345');\n";
        let t = read(dump).unwrap_or_default();
        let names: Vec<&str> = t.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["public.owners", "public.cars"]);
        assert_eq!(t[0].1.rows, [["1", "13912345678"], ["2", ""]]);
        assert_eq!(t[1].1.columns, ["vin", "plate"]);
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "INSERT INTO",
            "INSERT INTO t VALUES (",
            "COPY ",
            "CREATE TABLE (",
            "'''",
            "INSERT INTO t VALUES ('\\",
        ] {
            let _ = read(s);
        }
    }
}
