//! Findings in a CSV/TSV file also say where they sit in the table: the column, by its
//! header name, and the data row. "Row 1,204, column 手机号" is what a data-protection
//! team acts on; "line 1,205, column 38" is not.

use leakhound_findings::TableCell;

/// Is the last layer of `path` a CSV or TSV file?
pub(crate) fn is_table_path(path: &str) -> bool {
    let name = path
        .rsplit(['/', '!'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    name.ends_with(".csv") || name.ends_with(".tsv")
}

/// The cell of each offset in `text` (offsets need not be sorted). One pass up to the
/// last offset, honouring quotes, so a quoted field with commas or newlines is one cell.
pub(crate) fn cells(path: &str, text: &[u8], offsets: &[u64]) -> Vec<Option<TableCell>> {
    let delimiter = delimiter(path, text);
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut at: Vec<Option<(u64, usize)>> = vec![None; offsets.len()];
    let (mut record, mut field) = (0u64, 0usize);
    let mut header: Vec<String> = Vec::new();
    let mut current = Vec::new();
    let mut in_quotes = false;
    let mut next = 0usize;
    let mut i = 0usize;
    let last = offsets.iter().copied().max().unwrap_or(0) as usize;
    while i < text.len() && i <= last {
        while next < order.len() && offsets[order[next]] as usize <= i {
            at[order[next]] = Some((record, field));
            next += 1;
        }
        let b = text[i];
        if record == 0 && !(b == delimiter || b == b'\n' || b == b'\r')
            || (record == 0 && in_quotes)
        {
            current.push(b);
        }
        match b {
            b'"' if in_quotes && text.get(i + 1) == Some(&b'"') => i += 1,
            b'"' => in_quotes = !in_quotes,
            _ if in_quotes => {}
            b'\n' => {
                if record == 0 {
                    header.push(cell_text(&current));
                    current.clear();
                }
                record += 1;
                field = 0;
            }
            _ if b == delimiter => {
                if record == 0 {
                    header.push(cell_text(&current));
                    current.clear();
                }
                field += 1;
            }
            _ => {}
        }
        i += 1;
    }
    for &o in &order[next..] {
        at[o] = Some((record, field));
    }
    // A header row holds names: no finding in it, and no field that is a number.
    let has_header = !header.is_empty()
        && at.iter().all(|a| a.is_none_or(|(r, _)| r > 0))
        && header
            .iter()
            .all(|h| !h.is_empty() && h.parse::<f64>().is_err());
    let table = path.to_string();
    at.into_iter()
        .map(|a| {
            let (record, field) = a?;
            let column = if has_header {
                header.get(field).cloned().filter(|h| !h.is_empty())
            } else {
                None
            };
            Some(TableCell {
                name: table.clone(),
                column: column.unwrap_or_else(|| format!("column_{}", field + 1)),
                row: if has_header { record } else { record + 1 },
            })
        })
        .collect()
}

fn cell_text(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.trim().trim_matches('"').trim().to_string()
}

/// Tab for `.tsv`; otherwise the most frequent of `,` tab `;` `|` on the first line.
fn delimiter(path: &str, text: &[u8]) -> u8 {
    if path.to_ascii_lowercase().ends_with(".tsv") {
        return b'\t';
    }
    let first = &text[..memchr::memchr(b'\n', text).unwrap_or(text.len())];
    [b',', b'\t', b';', b'|']
        .into_iter()
        .max_by_key(|d| (first.iter().filter(|b| *b == d).count(), *d == b','))
        .unwrap_or(b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(path: &str, text: &str, needle: &str) -> TableCell {
        let offset = text.find(needle).unwrap_or_else(|| panic!("{needle}")) as u64;
        cells(path, text.as_bytes(), &[offset])
            .remove(0)
            .unwrap_or_else(|| panic!("no cell"))
    }

    #[test]
    fn rows_and_columns_follow_the_header_and_quotes() {
        let csv =
            "姓名,\"备注, 含逗号\",手机号\n张伟,\"多行\n备注\",13912345678\n李娜,x,13812345678\n";
        let c = one("a.csv", csv, "13912345678");
        assert_eq!((c.column.as_str(), c.row), ("手机号", 1));
        let c = one("a.csv", csv, "13812345678");
        assert_eq!(
            (c.column.as_str(), c.row),
            ("手机号", 2),
            "a quoted newline is not a row"
        );
        assert_eq!(one("a.csv", csv, "李娜").column, "姓名");
    }

    #[test]
    fn without_a_header_columns_are_numbered() {
        let csv = "张伟,13912345678\n李娜,13812345678\n";
        let c = one("x.csv", csv, "13812345678");
        assert_eq!((c.column.as_str(), c.row), ("column_2", 2));
        let tsv = "a\tb\n1\t13912345678\n";
        let c = one("x.tsv", tsv, "13912345678");
        assert_eq!((c.column.as_str(), c.row), ("b", 1));
        let semi = "name;phone\nx;13912345678\n";
        assert_eq!(one("x.csv", semi, "13912345678").column, "phone");
    }

    #[test]
    fn only_csv_and_tsv_names_are_tables() {
        assert!(is_table_path("dump.zip!export/Customers.CSV"));
        assert!(is_table_path("a.tsv"));
        assert!(!is_table_path("notes.txt"));
        assert!(!is_table_path("csv/readme.md"));
    }
}
