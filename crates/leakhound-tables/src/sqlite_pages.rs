//! Rows read straight from the pages of a damaged SQLite file. SQLite finds a table's
//! rows by walking its B-tree from the root; in a file cut short (a partial copy, an
//! interrupted download, a stolen sample) the walk fails at the first missing page,
//! although most leaf pages, which hold the rows themselves, are still there. So the
//! leaf pages are read one by one, as SQLite's own `.recover` does, and their records
//! decoded. Which table a page belonged to is not known without the tree, so rows are
//! grouped by their number of columns. Content in overflow pages (values of more than
//! a few kilobytes) is not followed: a record whose values run past its page is cut
//! at the last whole value.

/// A recovered record: its rowid and its values as the table readers show them (an
/// `INTEGER PRIMARY KEY` column is stored as NULL: its value is the rowid).
pub(crate) type Record = (i64, Vec<String>);

/// Every record of every table leaf page in `file`, except the schema's (page 1).
pub(crate) fn carve(file: &[u8]) -> Vec<Record> {
    let Some(page_size) = page_size(file) else {
        return Vec::new();
    };
    let reserved = usize::from(file.get(20).copied().unwrap_or(0));
    let usable = page_size.saturating_sub(reserved);
    if usable < 480 {
        return Vec::new();
    }
    let mut rows = Vec::new();
    // Page 1 holds the file header and the schema table: skipped.
    for page in file.chunks(page_size).skip(1) {
        leaf_records(page, 0, usable, &mut rows);
    }
    rows
}

/// The `CREATE TABLE` statements of the schema table, when it fits on page 1 (up to a
/// few dozen tables): (name, sql). For a file whose schema SQLite refuses to read.
pub(crate) fn schema(file: &[u8]) -> Vec<(String, String)> {
    let Some(page_size) = page_size(file) else {
        return Vec::new();
    };
    let reserved = usize::from(file.get(20).copied().unwrap_or(0));
    let usable = page_size.saturating_sub(reserved);
    if usable < 480 {
        return Vec::new();
    }
    let mut rows = Vec::new();
    leaf_records(&file[..page_size.min(file.len())], 100, usable, &mut rows);
    rows.into_iter()
        .filter_map(|(_, r)| match r.as_slice() {
            [kind, name, _, _, sql] if kind == "table" && !name.starts_with("sqlite_") => {
                Some((name.clone(), sql.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The page size the header gives, if it is a valid one.
fn page_size(file: &[u8]) -> Option<usize> {
    let raw = u16::from_be_bytes([*file.get(16)?, *file.get(17)?]);
    let size = if raw == 1 { 65_536 } else { usize::from(raw) };
    (size.is_power_of_two() && (512..=65_536).contains(&size)).then_some(size)
}

/// Records of `page` if it is a table leaf page (type 13); its header is at `header`
/// (100 on page 1, after the file header).
fn leaf_records(page: &[u8], header: usize, usable: usize, rows: &mut Vec<Record>) {
    let Some(h) = page.get(header..header + 8) else {
        return;
    };
    if h[0] != 13 {
        return;
    }
    let cells = usize::from(u16::from_be_bytes([h[3], h[4]]));
    for k in 0..cells {
        let at = header + 8 + 2 * k;
        let Some(ptr) = page.get(at..at + 2) else {
            return;
        };
        let ptr = usize::from(u16::from_be_bytes([ptr[0], ptr[1]]));
        if let Some(row) = page.get(ptr..).and_then(|cell| leaf_cell(cell, usable)) {
            rows.push(row);
        }
    }
}

/// A table leaf cell: payload size, rowid, then the record (its local part).
fn leaf_cell(cell: &[u8], usable: usize) -> Option<Record> {
    let (payload, a) = varint(cell)?;
    let (rowid, b) = varint(cell.get(a..)?)?;
    let payload = usize::try_from(payload).ok()?;
    let local = local_size(payload, usable);
    let body = cell.get(a + b..)?;
    // Rowids are signed 64-bit integers stored as varints.
    Some((rowid as i64, record(&body[..local.min(body.len())])?))
}

/// How much of a payload of `p` bytes is on the leaf page itself (SQLite file format,
/// "B-tree pages").
fn local_size(p: usize, usable: usize) -> usize {
    let x = usable - 35;
    if p <= x {
        return p;
    }
    let m = (usable - 12) * 32 / 255 - 23;
    let k = m + (p - m) % (usable - 4);
    if k <= x {
        k
    } else {
        m
    }
}

/// A record: a header of serial types, then the values.
fn record(rec: &[u8]) -> Option<Vec<String>> {
    let (header_len, mut at) = varint(rec)?;
    let header_len = usize::try_from(header_len).ok()?;
    if header_len > rec.len() || header_len < at {
        return None;
    }
    let mut types = Vec::new();
    while at < header_len {
        let (t, n) = varint(&rec[at..header_len])?;
        types.push(t);
        at += n;
    }
    if types.is_empty() {
        return None;
    }
    let mut body = header_len;
    let mut cells = Vec::with_capacity(types.len());
    for t in types {
        let len = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return None,
            n => usize::try_from((n - 12) / 2).ok()?,
        };
        let Some(v) = rec.get(body..body.checked_add(len)?) else {
            // The rest is in overflow pages: keep the whole values, blank the others.
            cells.push(String::new());
            body = rec.len();
            continue;
        };
        body += len;
        cells.push(match t {
            0 => String::new(),
            1..=6 => {
                let mut n: i64 = if v[0] & 0x80 != 0 { -1 } else { 0 };
                for &byte in v {
                    n = (n << 8) | i64::from(byte);
                }
                n.to_string()
            }
            7 => f64::from_bits(u64::from_be_bytes(v.try_into().ok()?)).to_string(),
            8 => "0".into(),
            9 => "1".into(),
            n if n % 2 == 1 => String::from_utf8_lossy(v).into_owned(),
            // Blobs are not shown, as when the table is read whole.
            _ => String::new(),
        });
    }
    Some(cells)
}

/// A SQLite varint (1 to 9 bytes, big-endian, high bit continues) and its length.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(9) {
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(rows: usize) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("c.db");
        let c = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        c.execute_batch(
            "CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT, mobile TEXT, score REAL, n INT);
             CREATE TABLE other (a TEXT, b TEXT);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for i in 0..rows {
            c.execute(
                "INSERT INTO c (name, mobile, score, n) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    format!("name {i}"),
                    format!("1391234{i:04}"),
                    1.5,
                    -(i as i64)
                ],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        drop(c);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_row_of_an_intact_file_is_carved() {
        let file = database(3000);
        let rows = carve(&file);
        assert_eq!(rows.len(), 3000);
        assert!(rows.contains(&(
            8,
            vec![
                String::new(),
                "name 7".into(),
                "13912340007".into(),
                "1.5".into(),
                "-7".into()
            ]
        )));
    }

    #[test]
    fn the_first_half_of_a_file_cut_in_half_is_carved() {
        let file = database(3000);
        let tables: Vec<String> = schema(&file[..4096]).into_iter().map(|(n, _)| n).collect();
        assert_eq!(tables, ["c", "other"]);
        let rows = carve(&file[..file.len() / 2]);
        assert!(rows.len() > 1300 && rows.len() < 1600, "{}", rows.len());
    }

    #[test]
    fn varints_and_junk() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x80]), None);
        assert!(carve(b"SQLite format 3\0").is_empty());
        let mut junk = database(10);
        for (i, b) in junk.iter_mut().enumerate().skip(100) {
            *b = (i * 7919 % 251) as u8;
        }
        let _ = carve(&junk);
    }
}
