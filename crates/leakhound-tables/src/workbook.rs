//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS): every sheet is a table, named
//! `book.xlsx!Sheet1`. Cells are rendered as a person would read them: a phone number
//! Excel stored as the float 13800138000.0 is `13800138000`, a date cell is
//! `2021-08-03`.

use crate::rows::{take_header, Rows};
use crate::table::TableSink;
use calamine::{Data, Reader};

/// Is this file name a spreadsheet?
pub(crate) fn is_workbook(path: &str) -> bool {
    let name = path
        .rsplit(['/', '!'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    [".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// Hand every sheet of the workbook in `bytes` to `sink`.
pub(crate) fn workbook_tables(
    path: &str,
    bytes: &[u8],
    sink: &mut dyn TableSink,
) -> Result<(), String> {
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| e.to_string())?;
    for name in book.sheet_names() {
        let range = match book.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => return Err(format!("sheet {name}: {e}")),
        };
        let mut rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(cell).collect::<Vec<String>>())
            .filter(|r| r.iter().any(|c| !c.is_empty()))
            .collect();
        let columns = take_header(&mut rows);
        Rows {
            format: "xlsx",
            columns,
            rows,
        }
        .hand_to(&format!("{path}!{name}"), sink);
    }
    Ok(())
}

fn cell(d: &Data) -> String {
    match d {
        Data::Int(i) => i.to_string(),
        // Whole numbers as integers: IDs and phones are often stored as numbers.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::String(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, h, min, s, _) = dt.to_ymd_hms_milli();
            if (h, min, s) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}")
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}
