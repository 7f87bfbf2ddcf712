//! SQL dumps as tables: `mysqldump` (`CREATE TABLE` column lists, multi-row
//! `INSERT … VALUES (…),(…)`) and `pg_dump` (`COPY … FROM stdin` blocks, or
//! `--inserts`). Column names come from the `INSERT`/`COPY` column list, else from the
//! table's `CREATE TABLE`, else `column_N`.

use crate::rows::Rows;
use crate::table::{Row, RowBuffer, RowSource};
use std::collections::HashMap;
use std::sync::Arc;

/// A dump's tables, and a note on statements cut at an unterminated string.
pub(crate) type Dump = (Vec<(String, Rows)>, Option<String>);

/// Every table with rows in the dump, in order of first appearance, and a note when
/// statements had strings that never closed (see [`Unterminated`]).
pub(crate) fn read(text: &str) -> Result<Dump, String> {
    let mut created: HashMap<String, Vec<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut tables: HashMap<String, Rows> = HashMap::new();
    let mut unterminated = Unterminated::default();
    for (at, piece, cut) in pieces(text) {
        if cut {
            unterminated.note(|| line_of(text, at));
        }
        match piece {
            Piece::Create(stmt) => {
                if let Some((name, cols)) = create_table(stmt) {
                    created.insert(name, cols);
                }
            }
            Piece::Insert(stmt) => {
                let (name, cols, rows) = insert(stmt)?;
                add(&mut tables, &mut order, &created, name, cols, rows);
            }
            Piece::Copy(header, body) => {
                let (name, cols) = copy_header(header).ok_or("a COPY statement without a table")?;
                add(
                    &mut tables,
                    &mut order,
                    &created,
                    name,
                    cols,
                    copy_rows(body),
                );
            }
        }
    }
    let tables = order
        .into_iter()
        .filter_map(|n| tables.remove(&n).map(|t| (n, t)))
        .collect();
    Ok((tables, unterminated.message()))
}

/// 1-based line of byte `at` of `text`.
fn line_of(text: &str, at: usize) -> u64 {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..at.min(text.len())]).count() as u64 + 1
}

/// Statements whose string never closed. A stray quote in one row of a dump (`'O'Brien'`
/// badly escaped) used to make every later `;` look quoted, so the rest of the dump was
/// one statement and its rows were lost without a word. A string is taken as cut at
/// a line end when the line ends with `;` and the next line starts a new statement
/// (see [`starts_statement`]); the rows of the cut statement may be misread, so
/// readers warn.
#[derive(Debug, Default)]
pub(crate) struct Unterminated {
    count: u64,
    first_line: u64,
}

impl Unterminated {
    fn note(&mut self, line: impl FnOnce() -> u64) {
        if self.count == 0 {
            self.first_line = line();
        }
        self.count += 1;
    }

    pub(crate) fn message(&self) -> Option<String> {
        (self.count > 0).then(|| {
            format!(
                "{} statement{} with a string that never closed (first on line {}): cut at \
                 the end of {} line and read on from the next statement; {} rows may be misread",
                self.count,
                if self.count == 1 { "" } else { "s" },
                self.first_line,
                if self.count == 1 { "its" } else { "each one's" },
                if self.count == 1 { "its" } else { "their" },
            )
        })
    }
}

/// Does `line` start a statement a dump writes at the start of a line? (Used only to
/// end a string that is still open at a line ending in `;`.)
fn starts_statement(line: &str) -> bool {
    const STARTS: &[&str] = &[
        "INSERT INTO",
        "REPLACE INTO",
        "CREATE TABLE",
        "COPY ",
        "DROP TABLE",
        "LOCK TABLES",
        "UNLOCK TABLES",
        "ALTER TABLE",
        "SET ",
        "--",
        "/*!",
    ];
    let head = line.trim_start().as_bytes();
    STARTS
        .iter()
        .any(|s| head.len() >= s.len() && head[..s.len()].eq_ignore_ascii_case(s.as_bytes()))
}

/// A statement of a dump that matters for its tables.
enum Piece<'t> {
    /// `CREATE TABLE …;`
    Create(&'t str),
    /// `INSERT INTO …;` or `REPLACE INTO …;`
    Insert(&'t str),
    /// A `COPY … FROM stdin;` line and its data lines, up to the `\.` line.
    Copy(&'t str, &'t str),
}

/// The statements of a dump that matter for its tables, each with its byte offset
/// (comments and other statements skipped). Whole-dump reading and [`places`] walk
/// the same statements.
/// The flag says the statement was cut at an unterminated string.
fn pieces(text: &str) -> impl Iterator<Item = (usize, Piece<'_>, bool)> {
    let mut pos = 0;
    std::iter::from_fn(move || next_piece(text, &mut pos))
}

/// The next statement of [`pieces`] from byte `pos` of `text`, moving `pos` past it.
fn next_piece<'t>(text: &'t str, pos: &mut usize) -> Option<(usize, Piece<'t>, bool)> {
    loop {
        let rest = text.get(*pos..)?;
        let trimmed = rest.trim_start();
        *pos += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            return None;
        }
        let at = *pos;
        // Comments and blank lines.
        if trimmed.starts_with("--") || trimmed.starts_with('#') {
            *pos += line_end(trimmed);
            continue;
        }
        if trimmed.starts_with("/*") {
            *pos += trimmed.find("*/").map_or(trimmed.len(), |i| i + 2);
            continue;
        }
        let upper: String = trimmed
            .chars()
            .take(16)
            .collect::<String>()
            .to_ascii_uppercase();
        if upper.starts_with("COPY ") {
            let header_end = line_end(trimmed);
            let used = copy_body_len(&trimmed[header_end..]);
            *pos += header_end + used;
            return Some((
                at,
                Piece::Copy(
                    &trimmed[..header_end],
                    &trimmed[header_end..header_end + used],
                ),
                false,
            ));
        }
        let mut cut = false;
        let end = statement_end_from(trimmed, 0, &mut None, &mut cut).unwrap_or(trimmed.len());
        *pos += end;
        let stmt = &trimmed[..end];
        if upper.starts_with("CREATE TABLE") {
            return Some((at, Piece::Create(stmt), cut));
        }
        if upper.starts_with("INSERT INTO") || upper.starts_with("REPLACE INTO") {
            return Some((at, Piece::Insert(stmt), cut));
        }
    }
}

/// Where byte offsets of a dump sit: (table, column, 1-based row counted over all of
/// that table's statements), or `None` outside row data. Offsets are given in rising
/// order, over as many calls as the caller likes (a scan places findings window by
/// window): the walk goes on from where the last call stopped, and always over the
/// same `text`.
#[derive(Default)]
pub(crate) struct SqlPlaces {
    /// Where the next statement is looked for.
    pos: usize,
    created: HashMap<String, Vec<Arc<str>>>,
    rows_before: HashMap<String, u64>,
    /// The statement the last offset fell in (or before), not yet counted in
    /// `rows_before`: a later offset may fall in it too.
    current: Option<Body>,
}

/// (table, column, 1-based row).
pub(crate) type SqlPlace = (Arc<str>, Arc<str>, u64);

/// The rows of one INSERT or COPY statement.
struct Body {
    table: Arc<str>,
    columns: Vec<Arc<str>>,
    at: usize,
    len: usize,
    copy: bool,
    /// Its rows, once walked.
    rows: Option<u64>,
}

impl SqlPlaces {
    /// The places of `offsets` (rising, none below an offset of an earlier call).
    pub(crate) fn place(&mut self, text: &str, offsets: &[usize]) -> Vec<Option<SqlPlace>> {
        let mut out = vec![None; offsets.len()];
        let mut next = 0;
        while next < offsets.len() {
            let Some(body) = &mut self.current else {
                match next_piece(text, &mut self.pos) {
                    Some((at, piece, _)) => self.current = self.body(at, piece),
                    None => break,
                }
                continue;
            };
            while next < offsets.len() && offsets[next] < body.at {
                next += 1;
            }
            let end = body.at + body.len;
            let inside = offsets[next..].partition_point(|&o| o < end);
            let rows_before = self
                .rows_before
                .get(body.table.as_ref())
                .copied()
                .unwrap_or(0);
            if inside > 0 {
                let mut here: Vec<(usize, u64, usize)> = Vec::new();
                let rows = walk(text, body, &offsets[next..next + inside], &mut here);
                body.rows = Some(rows);
                for (i, row, field) in here {
                    let column = match body.columns.get(field) {
                        Some(c) => Arc::clone(c),
                        None => Arc::from(format!("column_{}", field + 1)),
                    };
                    out[next + i] = Some((Arc::clone(&body.table), column, rows_before + row));
                }
                next += inside;
            }
            if next < offsets.len() {
                // Past this statement: its rows count before the table's next one.
                let rows = match body.rows {
                    Some(rows) => rows,
                    None => walk(text, body, &[], &mut Vec::new()),
                };
                *self.rows_before.entry(body.table.to_string()).or_default() += rows;
                self.current = None;
            }
        }
        out
    }

    /// The rows `piece` holds, or `None` for a statement without rows.
    fn body(&mut self, at: usize, piece: Piece<'_>) -> Option<Body> {
        let (name, cols, body_at, len, copy) = match piece {
            Piece::Create(stmt) => {
                if let Some((name, cols)) = create_table(stmt) {
                    let cols = cols.into_iter().map(Arc::from).collect();
                    self.created.insert(name, cols);
                }
                return None;
            }
            Piece::Insert(stmt) => {
                let (name, cols, values_at) = insert_head(stmt)?;
                (name, cols, at + values_at, stmt.len() - values_at, false)
            }
            Piece::Copy(header, body) => {
                let (name, cols) = copy_header(header)?;
                (name, cols, at + header.len(), body.len(), true)
            }
        };
        let columns = if cols.is_empty() {
            self.created.get(&name).cloned().unwrap_or_default()
        } else {
            cols.into_iter().map(Arc::from).collect()
        };
        Some(Body {
            table: Arc::from(name),
            columns,
            at: body_at,
            len,
            copy,
            rows: None,
        })
    }
}

/// Walk a statement's rows (see [`walk_tuples`]).
fn walk(text: &str, body: &Body, offsets: &[usize], here: &mut Vec<(usize, u64, usize)>) -> u64 {
    let Some(rows) = text.get(body.at..body.at + body.len) else {
        return 0;
    };
    if body.copy {
        walk_copy(rows, body.at, offsets, here)
    } else {
        walk_tuples(rows, body.at, offsets, here)
    }
}

/// Walk `(…),(…)` counting tuples and fields; for each offset inside a tuple push
/// (offset index, 1-based tuple, 0-based field). Returns the number of tuples.
fn walk_tuples(
    body: &str,
    base: usize,
    offsets: &[usize],
    here: &mut Vec<(usize, u64, usize)>,
) -> u64 {
    let b = body.as_bytes();
    let (mut depth, mut tuple, mut field) = (0u32, 0u64, 0usize);
    let mut quote: Option<u8> = None;
    let mut next = 0;
    let mut i = 0;
    while i < b.len() {
        while next < offsets.len() && offsets[next] <= base + i {
            if depth > 0 && offsets[next] == base + i {
                here.push((next, tuple, field));
            }
            next += 1;
        }
        let c = b[i];
        if let Some(q) = quote {
            i = quoted_step(b, i, q, &mut quote);
        } else {
            match c {
                b'\'' | b'"' => quote = Some(c),
                b'(' => {
                    depth += 1;
                    if depth == 1 {
                        tuple += 1;
                        field = 0;
                    }
                }
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 1 => field += 1,
                _ => {}
            }
        }
        i += 1;
    }
    tuple
}

/// Walk COPY data lines (tab-separated) the same way. Returns the number of rows.
fn walk_copy(
    body: &str,
    base: usize,
    offsets: &[usize],
    here: &mut Vec<(usize, u64, usize)>,
) -> u64 {
    let mut rows = 0;
    let mut line_at = base;
    let mut next = 0;
    for line in body.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "\\." {
            break;
        }
        rows += 1;
        let end = line_at + line.len();
        while next < offsets.len() && offsets[next] < end {
            let o = offsets[next];
            if o >= line_at {
                let field = line.as_bytes()[..o - line_at]
                    .iter()
                    .filter(|&&c| c == b'\t')
                    .count();
                here.push((next, rows, field));
            }
            next += 1;
        }
        line_at = end;
    }
    rows
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
    let close = stmt.rfind(')').filter(|&c| c > open)?;
    let body = &stmt[open + 1..close];
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
    let (name, cols, values_at) = insert_head(stmt).ok_or("an INSERT without INTO … VALUES")?;
    Ok((name, cols, tuples(&stmt[values_at..])))
}

/// [`insert`] with the rows into `rows`: table and column list.
fn insert_into(stmt: &str, rows: &mut RowBuffer) -> Result<(String, Vec<String>), String> {
    let (name, cols, values_at) = insert_head(stmt).ok_or("an INSERT without INTO … VALUES")?;
    tuples_into(&stmt[values_at..], rows);
    Ok((name, cols))
}

/// An INSERT's table, column list, and where its tuples start (after `VALUES`).
fn insert_head(stmt: &str) -> Option<(String, Vec<String>, usize)> {
    // `VALUES` is near the start: the head is upper-cased, not a statement of many
    // megabytes (unless the keyword is not found in it whole).
    let mut head_len = stmt.len().min(4096);
    while !stmt.is_char_boundary(head_len) {
        head_len -= 1;
    }
    let mut upper = stmt[..head_len].to_ascii_uppercase();
    let values_at = match find_keyword(&upper, "VALUES") {
        Some(at) if at + "VALUES".len() < head_len || head_len == stmt.len() => at,
        _ => {
            upper = stmt.to_ascii_uppercase();
            find_keyword(&upper, "VALUES")?
        }
    };
    let head = &stmt[..values_at];
    let into = upper[..values_at].find("INTO").map(|i| i + 4)?;
    let target = head[into..].trim();
    let (name, cols) = match target.find('(') {
        Some(p) => (
            table_name(&target[..p]),
            target[p + 1..target.rfind(')').filter(|&c| c > p).unwrap_or(target.len())]
                .split(',')
                .map(ident)
                .collect(),
        ),
        None => (table_name(target), Vec::new()),
    };
    Some((name, cols, values_at + "VALUES".len()))
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
    let mut rows = RowBuffer::default();
    tuples_into(s, &mut rows);
    rows.rows()
        .map(|r| r.map(str::to_string).collect())
        .collect()
}

/// The tuples of an INSERT's `VALUES` part, into `rows`.
///
/// A quoted value is unescaped straight into its cell: plain runs are copied whole
/// (they end at an ASCII quote or backslash, so on character boundaries) and an escape
/// is one character, so the cell stays UTF-8 with no check or lossy copy.
fn tuples_into(s: &str, rows: &mut RowBuffer) {
    let b = s.as_bytes();
    // The cell being read; one buffer for all.
    let mut cell = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'(' {
            i += 1;
            continue;
        }
        i += 1;
        cell.clear();
        let mut quoted = false;
        while let Some(&c) = b.get(i) {
            if c == b'\'' {
                // The blank between `,` and the quote is not part of the value.
                if !quoted && cell.trim().is_empty() {
                    cell.clear();
                }
                quoted = true;
                i += 1;
                while i < b.len() {
                    // Plain text up to the next escape or quote, in one copy.
                    let plain = memchr::memchr2(b'\\', b'\'', &b[i..]).unwrap_or(b.len() - i);
                    if plain > 0 {
                        cell.push_str(s.get(i..i + plain).unwrap_or_default());
                        i += plain;
                        continue;
                    }
                    if b[i] == b'\\' {
                        match s.get(i + 1..).and_then(|rest| rest.chars().next()) {
                            Some(e) => {
                                cell.push(match e {
                                    'n' => '\n',
                                    't' => '\t',
                                    'r' => '\r',
                                    '0' => '\0',
                                    other => other,
                                });
                                i += 1 + e.len_utf8();
                            }
                            // A backslash that ends the text stands for itself.
                            None => {
                                cell.push('\\');
                                i += 2;
                            }
                        }
                    } else if b.get(i + 1) == Some(&b'\'') {
                        cell.push('\'');
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                }
                continue;
            }
            match c {
                b',' | b')' => {
                    let t = cell.trim();
                    rows.push_cell(if !quoted && t.eq_ignore_ascii_case("NULL") {
                        ""
                    } else if quoted {
                        &cell
                    } else {
                        t
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
        rows.end_row();
    }
}

/// `COPY public.t (a, b) FROM stdin;` -> (public.t, [a, b]).
fn copy_header(line: &str) -> Option<(String, Vec<String>)> {
    let rest = line.trim_start().get(5..)?.trim_start();
    let upper = rest.to_ascii_uppercase();
    let from = find_keyword(&upper, "FROM")?;
    let target = rest[..from].trim();
    Some(match target.find('(') {
        Some(p) => (
            table_name(&target[..p]),
            target[p + 1..target.rfind(')').filter(|&c| c > p)?]
                .split(',')
                .map(ident)
                .collect(),
        ),
        None => (table_name(target), Vec::new()),
    })
}

/// Bytes of a COPY block's data, including its closing `\.` line.
fn copy_body_len(body: &str) -> usize {
    let mut used = 0;
    for line in body.split_inclusive('\n') {
        used += line.len();
        if line.trim_end_matches(['\n', '\r']) == "\\." {
            break;
        }
    }
    used
}

/// Tab-separated rows of a COPY block up to `\.`; `\N` is NULL.
fn copy_rows(body: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in body.split_inclusive('\n') {
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
    rows
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

/// One batch of rows a dump statement gave: table, column list (may be empty), rows.
type Batch = (String, Vec<String>, RowBuffer);

/// Rows per batch taken from a COPY block, so a huge block is never held whole.
const COPY_BATCH: usize = 1_000;

/// A dump read statement by statement from a stream, for dumps too big to hold: the
/// tables come one at a time (mysqldump and pg_dump write each table's rows together)
/// and rows as they are parsed. Memory is one statement (mysqldump keeps each INSERT
/// to about a megabyte) plus its rows.
pub(crate) struct DumpStream<R> {
    input: crate::lines::Lines<R>,
    created: HashMap<String, Vec<String>>,
    /// The table being read and its width.
    current: Option<(String, usize)>,
    /// Rows read and not yet handed on: `pending` from row `taken`.
    pending: RowBuffer,
    taken: usize,
    /// Buffers of rows already handed on, for the next statement's rows.
    spare: RowBuffer,
    /// A batch already read that belongs to the next table.
    next: Option<Batch>,
    /// Inside a COPY block: its table and columns.
    copy: Option<(String, Vec<String>)>,
    /// Why reading stopped early, if it did.
    pub(crate) damage: Option<String>,
    /// Statements cut at a string that never closed.
    pub(crate) unterminated: Unterminated,
    /// The current line is to be read again (it began the statement after a cut one).
    held: bool,
    /// Lines read so far.
    lines: u64,
}

impl<R: std::io::BufRead> RowSource for DumpStream<R> {
    fn next_into(&mut self, row: &mut Row) -> bool {
        DumpStream::next_into(self, row)
    }
}

impl<R: std::io::BufRead> DumpStream<R> {
    pub(crate) fn new(reader: R) -> Self {
        DumpStream {
            input: crate::lines::Lines::new(reader),
            created: HashMap::new(),
            current: None,
            pending: RowBuffer::default(),
            taken: 0,
            spare: RowBuffer::default(),
            next: None,
            copy: None,
            damage: None,
            unterminated: Unterminated::default(),
            held: false,
            lines: 0,
        }
    }

    /// The next table with rows: its name and columns. Rows of the previous table not
    /// read are skipped.
    pub(crate) fn next_table(&mut self) -> Option<(String, Vec<String>)> {
        let mut skipped = Row::default();
        while self.next_into(&mut skipped) {}
        let (name, cols, rows) = match self.next.take() {
            Some(b) => b,
            None => self.fill()?,
        };
        let columns = if cols.is_empty() {
            self.created.get(&name).cloned().unwrap_or_default()
        } else {
            cols
        };
        let width = rows.width().max(columns.len());
        let columns: Vec<String> = (0..width)
            .map(|i| {
                columns
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("column_{}", i + 1))
            })
            .collect();
        self.current = Some((name.clone(), width));
        self.spare = std::mem::replace(&mut self.pending, rows);
        self.taken = 0;
        Some((name, columns))
    }

    /// The next row of the current table, `None` when it ends.
    #[cfg(test)]
    pub(crate) fn next_row(&mut self) -> Option<Vec<String>> {
        let mut row = Row::default();
        self.next_into(&mut row).then(|| row.to_vec())
    }

    /// The next row of the current table into `row` (as many cells as the table has
    /// columns), `false` when it ends.
    fn next_into(&mut self, row: &mut Row) -> bool {
        loop {
            let Some((name, width)) = self.current.as_ref() else {
                return false;
            };
            if self.taken < self.pending.len() {
                row.clear();
                let mut cells = self.pending.row(self.taken);
                for _ in 0..*width {
                    row.push(cells.next().unwrap_or_default());
                }
                self.taken += 1;
                return true;
            }
            if self.next.is_some() {
                self.current = None;
                return false;
            }
            let name = name.clone();
            match self.fill() {
                Some((n, _, rows)) if n == name => {
                    self.spare = std::mem::replace(&mut self.pending, rows);
                    self.taken = 0;
                }
                Some(other) => {
                    self.next = Some(other);
                    self.current = None;
                    return false;
                }
                None => {
                    self.current = None;
                    return false;
                }
            }
        }
    }

    /// Read statements up to the next one that gives rows.
    fn fill(&mut self) -> Option<Batch> {
        if self.damage.is_some() {
            return None;
        }
        if let Some((name, cols)) = self.copy.clone() {
            let mut rows = RowBuffer::default();
            while rows.len() < COPY_BATCH {
                if !self.read_line()? {
                    break;
                }
                let l = self.input.line().trim_end_matches(['\n', '\r']);
                if l == "\\." {
                    self.copy = None;
                    break;
                }
                for cell in copy_rows(l).into_iter().next().unwrap_or_default() {
                    rows.push_cell(&cell);
                }
                rows.end_row();
            }
            if !rows.is_empty() {
                return Some((name, cols, rows));
            }
            if self.copy.is_some() {
                return None;
            }
        }
        let mut statement = String::new();
        let mut quote: Option<u8> = None;
        let mut first_line = 0;
        loop {
            if !self.read_line()? {
                return None;
            }
            if statement.is_empty() {
                let t = self.input.line().trim_start();
                if t.is_empty() || t.starts_with("--") || t.starts_with('#') {
                    continue;
                }
                if t.get(..5).is_some_and(|h| h.eq_ignore_ascii_case("COPY ")) {
                    match copy_header(t) {
                        Some(h) => {
                            self.copy = Some(h);
                            return self.fill();
                        }
                        None => {
                            self.damage = Some("a COPY statement without a table".into());
                            return None;
                        }
                    }
                }
            }
            let from = statement.len();
            if from == 0 {
                first_line = self.lines;
            }
            statement.push_str(self.input.line());
            let mut cut = false;
            if let Some(end) = statement_end_from(&statement, from, &mut quote, &mut cut) {
                if cut {
                    // The line just read starts the next statement.
                    self.held = true;
                    self.unterminated.note(|| first_line);
                }
                statement.truncate(end);
                if let Some(batch) = self.statement(&statement) {
                    return Some(batch);
                }
                statement.clear();
                quote = None;
            }
        }
    }

    /// A complete statement: remember CREATE TABLE columns, give INSERT rows.
    fn statement(&mut self, stmt: &str) -> Option<Batch> {
        let t = stmt.trim_start();
        let upper: String = t.chars().take(16).collect::<String>().to_ascii_uppercase();
        if upper.starts_with("CREATE TABLE") {
            if let Some((name, cols)) = create_table(t) {
                self.created.insert(name, cols);
            }
            None
        } else if upper.starts_with("INSERT INTO") || upper.starts_with("REPLACE INTO") {
            // The rows go into the buffer of the batch handed on before this one.
            let mut rows = std::mem::take(&mut self.spare);
            rows.clear();
            match insert_into(t, &mut rows) {
                Ok((name, cols)) => Some((name, cols, rows)),
                Err(e) => {
                    self.damage = Some(e);
                    None
                }
            }
        } else {
            None
        }
    }

    /// Move to the next line; `None` on a read error (recorded as damage),
    /// `Some(false)` at the end.
    fn read_line(&mut self) -> Option<bool> {
        if std::mem::take(&mut self.held) {
            return Some(true);
        }
        self.lines += 1;
        match self.input.advance() {
            Ok(more) => Some(more),
            Err(e) => {
                self.damage = Some(e.to_string());
                None
            }
        }
    }
}

/// One byte inside a string quoted with `q`: a backslash escape (single quotes) or a
/// doubled quote is skipped whole, the closing quote ends the string. Returns the
/// index of the last byte consumed.
fn quoted_step(b: &[u8], i: usize, q: u8, quote: &mut Option<u8>) -> usize {
    let c = b[i];
    if c == b'\\' && q == b'\'' {
        i + 1
    } else if c == q {
        if b.get(i + 1) == Some(&q) {
            i + 1
        } else {
            *quote = None;
            i
        }
    } else {
        i
    }
}

/// Where the statement in `s` ends (after its `;` outside quotes), scanning from
/// `from` with the quote state left by the previous call, so a statement read line by
/// line is scanned once. A string still open at the start of a line that follows a
/// line ending in `;` and begins a statement ends the statement there, with `cut` set
/// (see [`Unterminated`]).
fn statement_end_from(
    s: &str,
    from: usize,
    quote: &mut Option<u8>,
    cut: &mut bool,
) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if quote.is_some()
            && i > 0
            && b[i - 1] == b'\n'
            && s[..i - 1].trim_end().ends_with(';')
            && starts_statement(&s[i..])
        {
            *quote = None;
            *cut = true;
            return Some(i);
        }
        match *quote {
            Some(q) => {
                // Inside a string only its quote, a backslash and a line break matter:
                // jump to the next one (strings are most of an INSERT's bytes).
                match memchr::memchr3(q, b'\\', b'\n', &b[i..]) {
                    Some(0) => {}
                    Some(n) => {
                        i += n;
                        continue;
                    }
                    None => return None,
                }
                i = quoted_step(b, i, q, quote)
            }
            None => match c {
                b'\'' | b'"' | b'`' => *quote = Some(c),
                b';' => return Some(i + 1),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streamed and whole reading give the same tables, columns and rows.
    fn both(dump: &str) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
        let whole: Vec<(String, Vec<String>, Vec<Vec<String>>)> = read(dump)
            .unwrap_or_else(|e| panic!("{e}"))
            .0
            .into_iter()
            .map(|(n, r)| (n, r.columns, r.rows))
            .collect();
        let mut s = DumpStream::new(std::io::Cursor::new(dump.as_bytes()));
        let mut streamed = Vec::new();
        while let Some((name, columns)) = s.next_table() {
            let rows: Vec<Vec<String>> = std::iter::from_fn(|| s.next_row()).collect();
            streamed.push((name, columns, rows));
        }
        assert_eq!(s.damage, None);
        assert_eq!(streamed, whole);
        whole
    }

    #[test]
    fn streamed_dumps_match_whole_ones() {
        let mysql = "-- dump\n/*!40101 SET NAMES utf8 */;\nCREATE TABLE `a` (\n  `id` int,\n  `phone` varchar(20),\n  PRIMARY KEY (`id`)\n);\n\
                     INSERT INTO `a` VALUES (1,'139;1'),(2,'x\\'y');\nINSERT INTO `a` VALUES (3,'multi\nline');\n\
                     INSERT INTO `b` (`k`) VALUES ('v');\n";
        let t = both(mysql);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].2.len(), 3);
        let mut pg = String::from("COPY public.c (id, mobile) FROM stdin;\n");
        for i in 0..2500 {
            pg.push_str(&format!("{i}\t1391234{i:04}\n"));
        }
        pg.push_str("\\.\nCOPY public.d (x) FROM stdin;\n\\N\n\\.\n");
        let t = both(&pg);
        assert_eq!(
            t[0].2.len(),
            2500,
            "batches of one COPY block are one table"
        );
        assert_eq!(t[1].2, [[""]]);
    }

    #[test]
    fn mysqldump_multi_row_inserts() {
        let dump = "-- MySQL dump\n/*!40101 SET NAMES utf8mb4 */;\n\
            CREATE TABLE `customers` (\n  `id` int NOT NULL,\n  `name` varchar(20) DEFAULT NULL,\n  \
            `id_card` char(18),\n  `note` text,\n  PRIMARY KEY (`id`),\n  KEY `k` (`name`,`id_card`)\n) ENGINE=InnoDB;\n\
            INSERT INTO `customers` VALUES (1,'张伟','440304198706151231','it''s; (x)'),(2,'李娜',NULL,'a\\'b');\n\
            INSERT INTO `customers` VALUES (3,'王芳','310115199011304565','VALUES');\n";
        let t = read(dump).unwrap_or_default().0;
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

    proptest::proptest! {
        /// Any text, quoted as mysqldump and pg_dump quote it (backslash escapes, a
        /// doubled quote, an escaped character that needs none), reads back as itself.
        #[test]
        fn quoted_values_read_back_as_written(
            values in proptest::collection::vec("(\\PC|['\\\\\n\r\t\u{0}é长])*", 1..4),
            style in proptest::collection::vec(0u8..3, 8),
        ) {
            let quoted: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(n, v)| {
                    let mut q = String::from("'");
                    for (k, c) in v.chars().enumerate() {
                        let how = style[(n + k) % style.len()];
                        match c {
                            '\'' if how == 0 => q.push_str("''"),
                            '\'' | '\\' => {
                                q.push('\\');
                                q.push(c);
                            }
                            '\n' => q.push_str("\\n"),
                            '\t' if how == 1 => q.push_str("\\t"),
                            '\r' => q.push_str("\\r"),
                            '\0' => q.push_str("\\0"),
                            'é' | '长' if how == 2 => {
                                q.push('\\');
                                q.push(c);
                            }
                            _ => q.push(c),
                        }
                    }
                    q.push('\'');
                    q
                })
                .collect();
            let mut rows = RowBuffer::default();
            tuples_into(&format!("({}, 7, NULL)", quoted.join(", ")), &mut rows);
            let mut want: Vec<&str> = values.iter().map(String::as_str).collect();
            want.extend(["7", ""]);
            let got: Vec<&str> = rows.row(0).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn long_column_lists_long_strings_and_escapes_in_inserts() {
        // A column list longer than the upper-cased head, with `VALUES` cut at its
        // end; strings long enough to be copied in runs, with escapes and line breaks.
        let cols: Vec<String> = (0..900).map(|i| format!("c{i}")).collect();
        let long = "长".repeat(3000);
        let dump = format!(
            "INSERT INTO t ({}) VALUES ('a\\nb', 'it''s', '{long}', 'x\\\\y'{});\n\
             INSERT INTO t ({}) VALUES ('two\nlines', 'end\\'', '', '' {});\n",
            cols.join(", "),
            ", ''".repeat(896),
            cols.join(", "),
            ", NULL".repeat(896),
        );
        let t = both(&dump);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].1.len(), 900);
        assert_eq!(t[0].2.len(), 2);
        assert_eq!(t[0].2[0][..4], ["a\nb", "it's", long.as_str(), "x\\y"]);
        assert_eq!(t[0].2[1][..2], ["two\nlines", "end'"]);
    }

    #[test]
    fn pg_dump_copy_blocks_and_inserts_with_columns() {
        let dump = "CREATE TABLE public.owners (\n    id integer NOT NULL,\n    mobile text\n);\n\
            COPY public.owners (id, mobile) FROM stdin;\n1\t13912345678\n2\t\\N\n\\.\n\n\
            INSERT INTO public.cars (vin, plate) VALUES ('LSVAU218XN2183294', '粤B12345');\n";
        let t = read(dump).unwrap_or_default().0;
        let names: Vec<&str> = t.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["public.owners", "public.cars"]);
        assert_eq!(t[0].1.rows, [["1", "13912345678"], ["2", ""]]);
        assert_eq!(t[1].1.columns, ["vin", "plate"]);
        assert_eq!(
            t[1].1.rows,
            [["LSVAU218XN2183294", "粤B12345"]],
            "no blank before a value"
        );
    }

    /// A dump of `n` one-row INSERTs, row `bad` with a badly escaped name.
    fn dump_with_stray_quote(n: usize, bad: usize) -> String {
        let mut d = String::from("CREATE TABLE `p` (`id` int, `name` text, `mobile` text);\n");
        for i in 0..n {
            let name = if i == bad {
                "O'Brien".to_string()
            } else {
                format!("n{i}")
            };
            d.push_str(&format!(
                "INSERT INTO `p` VALUES ({i},'{name}','1391234{i:04}');\n"
            ));
        }
        d
    }

    #[test]
    fn an_unterminated_string_loses_no_later_rows_and_is_reported() {
        let dump = dump_with_stray_quote(200, 100);
        let (tables, note) = read(&dump).unwrap_or_default();
        assert_eq!(tables[0].1.rows.len(), 200);
        assert_eq!(tables[0].1.rows[199][2], "13912340199");
        let note = note.unwrap_or_default();
        assert!(
            note.starts_with("1 statement with a string that never closed (first on line 102)"),
            "{note}"
        );
        // Streamed the same, with the same note.
        let mut s = DumpStream::new(std::io::Cursor::new(dump.as_bytes()));
        let mut rows = 0;
        while s.next_table().is_some() {
            rows += std::iter::from_fn(|| s.next_row()).count();
        }
        assert_eq!(rows, 200);
        assert_eq!(s.unterminated.message().unwrap_or_default(), note);
        // And the scanner's places run past it.
        let at = dump.find("13912340199").unwrap_or(0);
        let p = SqlPlaces::default().place(&dump, &[at]);
        assert_eq!(p[0], Some((Arc::from("p"), Arc::from("mobile"), 200)));
    }

    #[test]
    fn strings_with_semicolons_at_line_ends_are_kept() {
        // pg_dump --inserts writes newlines inside strings; a line inside a string that
        // ends with `;` is not a cut unless the next line starts a statement.
        let dump =
            "INSERT INTO t VALUES (1, 'first;\nsecond;\nthird');\nINSERT INTO t VALUES (2, 'x');\n";
        let (tables, note) = read(dump).unwrap_or_default();
        assert_eq!(note, None);
        assert_eq!(tables[0].1.rows[0][1], "first;\nsecond;\nthird");
        assert_eq!(tables[0].1.rows.len(), 2);
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
            // Found by fuzzing: a `)` only before the first `(` (a slice panic), and
            // a character cut by the COPY check.
            "CREATE TABLE `p`) x (;",
            "COPY趶姖lic.0001\n",
            "INSERT INTO `p`) x (a VALUES (1);\n",
            "COPY `p`) x (a FROM stdin;\n",
        ] {
            let _ = read(s);
            let mut streamed = DumpStream::new(std::io::Cursor::new(s.as_bytes()));
            while streamed.next_table().is_some() {
                while streamed.next_row().is_some() {}
            }
        }
    }
}
