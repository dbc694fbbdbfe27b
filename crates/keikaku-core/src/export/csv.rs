//! CSV as Japanese users open it: UTF-8 with a BOM (Excel reads it correctly), one header
//! row, CRLF line ends; or Shift_JIS (CP932) for older software.
//!
//! Characters that CP932 cannot encode are replaced by a look-alike where one exists
//! (〜 → ～) or by 〓 (the traditional replacement mark), and counted so the caller can say
//! so; the encoder is never allowed to write HTML character references into a CSV.

use crate::export::tables::{self, Table};
use crate::model::Edition;

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The table as CSV text (header and rows, CRLF), without a BOM.
pub fn to_string(table: &Table) -> String {
    rows_to_string(table, true)
}

/// The table's rows as CSV text (CRLF), with the header row first when `header`: pieces of
/// one long CSV written a batch at a time.
pub fn rows_to_string(table: &Table, header: bool) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail.
    if header {
        let _ = writer.write_record(table.columns.iter().map(|c| c.name));
    }
    for row in &table.rows {
        let _ = writer.write_record(row.iter().map(tables::Cell::csv_text));
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The table as UTF-8 CSV with a BOM.
pub fn to_utf8_bom(table: &Table) -> Vec<u8> {
    let mut out = BOM.to_vec();
    out.extend_from_slice(to_string(table).as_bytes());
    out
}

/// The table as Shift_JIS (CP932) CSV, and how many characters had to be replaced.
pub fn to_shift_jis(table: &Table) -> (Vec<u8>, usize) {
    encode_shift_jis(&to_string(table))
}

/// Encodes text as CP932, replacing what it cannot hold (see the module documentation).
pub fn encode_shift_jis(text: &str) -> (Vec<u8>, usize) {
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    if !had_errors {
        return (bytes.into_owned(), 0);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut replaced = 0;
    let mut buffer = [0u8; 4];
    for c in text.chars() {
        let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buffer));
        if !bad {
            out.extend_from_slice(&bytes);
            continue;
        }
        replaced += 1;
        let substitute = match c {
            '〜' => '～',
            '•' | '･' => '・',
            '–' | '—' => '－',
            _ => '〓',
        };
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(substitute.encode_utf8(&mut buffer));
        out.extend_from_slice(&bytes);
    }
    (out, replaced)
}

/// The 事業 table of `editions` as UTF-8 CSV with a BOM (what `keikaku export --format csv`
/// writes).
pub fn to_csv_utf8_bom(editions: &[Edition]) -> Vec<u8> {
    to_utf8_bom(&tables::projects(editions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_jis_replaces_what_cp932_cannot_hold() {
        let (bytes, replaced) = encode_shift_jis("令和2年度〜令和4年度 𠮷野");
        assert_eq!(replaced, 2);
        let (text, _, errors) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!errors);
        assert_eq!(text, "令和2年度～令和4年度 〓野");
        assert!(!String::from_utf8_lossy(&bytes).contains("&#"));
        let (plain, none) = encode_shift_jis("白河市①髙");
        assert_eq!(none, 0);
        assert_eq!(encoding_rs::SHIFT_JIS.decode(&plain).0, "白河市①髙");
    }
}
