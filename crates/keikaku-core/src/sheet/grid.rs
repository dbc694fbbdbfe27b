//! A spreadsheet as a grid of values with what Excel can hide: hidden rows and merged cells.
//! Reads xlsx (through [`super::workbook`], which keeps only the cells that hold something)
//! and CSV (UTF-8, with or without BOM, or Shift_JIS), from bytes in memory, within
//! [`Limits`]: a sheet larger than any plan is refused with a located error, never read
//! into gigabytes.

use encoding_rs::Encoding;

use super::workbook::{Limits, Sheet, Workbook};
use super::{INFO_SHEET, PROJECT_SHEET};
use crate::diagnostic::{Code, Diagnostic, Position};
use crate::source::decode_text;

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Nothing.
    Empty,
    /// Text (CSV cells are always text).
    Text(String),
    /// A number.
    Number(f64),
    /// A formula whose result is an error, e.g. `#VALUE!`.
    Error(String),
}

impl Value {
    /// True for an empty cell or one holding only spaces.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as text, as a person would read it.
    pub fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(t) => t.trim().to_owned(),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Value::Number(n) => n.to_string(),
            Value::Error(e) => e.clone(),
        }
    }
}

/// What Excel writes for formulas that failed.
const ERROR_LITERALS: [&str; 8] = [
    "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!",
];

/// A sheet read into memory.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    /// The sheet's name for xlsx (positions are `sheet!A1`); `None` for CSV (`line:column`).
    pub sheet: Option<String>,
    /// Rows of cells, from the top-left corner.
    pub rows: Vec<Vec<Value>>,
    /// 0-based rows hidden in Excel.
    pub hidden_rows: Vec<usize>,
    /// Merged regions: (first row, first column), (last row, last column), 0-based.
    pub merged: Vec<((usize, usize), (usize, usize))>,
    /// Key-value pairs from the instructions sheet (xlsx written by `template`).
    pub info: Vec<(String, String, Position)>,
}

impl Grid {
    /// The cell at 0-based `row`, `column`.
    pub fn cell(&self, row: usize, column: usize) -> &Value {
        self.rows
            .get(row)
            .and_then(|r| r.get(column))
            .unwrap_or(&Value::Empty)
    }

    /// Where the cell is, as diagnostics print it.
    pub fn position(&self, row: usize, column: usize) -> Position {
        match &self.sheet {
            Some(sheet) => Position::Cell {
                sheet: sheet.clone(),
                row: to_u32(row),
                column: to_u32(column),
            },
            None => Position::at(to_u32(row + 1), to_u32(column + 1)),
        }
    }

    /// The value the instructions sheet gives for `key`.
    pub fn info(&self, key: &str) -> Option<(&str, &Position)> {
        self.info
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, p)| (v.as_str(), p))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A workbook cell's value as the grid holds it: text that reads like a failed formula
/// (`#VALUE!` typed or pasted as text) counts as one.
fn grid_value(value: Value) -> Value {
    match value {
        Value::Text(s) if ERROR_LITERALS.contains(&s.trim()) => Value::Error(s.trim().to_owned()),
        other => other,
    }
}

fn unreadable(what: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(
        Code::NotAPlan,
        Position::File,
        format!("Excel ファイルとして読めません（{what}）。"),
        format!("cannot read the workbook ({what})"),
    )
}

fn too_large(position: Position, limits: &Limits) -> Diagnostic {
    let cells = crate::money::group_thousands(i64::try_from(limits.cells).unwrap_or(i64::MAX));
    Diagnostic::new(
        Code::TooLarge,
        position,
        format!(
            "シートが大きすぎます。keikaku が読むのは {cells} セル（値のある最後の行まで・最も右の列までの空欄を含む）までです。"
        ),
        format!(
            "the sheet is too large: keikaku reads at most {cells} cells (counting empty cells up to the last row and the rightmost column holding a value)"
        ),
    )
}

impl Grid {
    /// The grid of a workbook sheet: every row as wide as the widest, as Excel shows it.
    /// Its cells, empty ones included, count against `limits.cells`; the first cell that
    /// would take the grid beyond is reported.
    pub fn from_sheet(sheet: Sheet, limits: &Limits) -> Result<Grid, Diagnostic> {
        let mut width = 0usize;
        for cell in &sheet.cells {
            width = width.max(cell.column as usize + 1);
            let area = (cell.row as usize + 1).saturating_mul(width);
            if area > limits.cells {
                return Err(too_large(
                    Position::Cell {
                        sheet: sheet.name.clone(),
                        row: cell.row,
                        column: cell.column,
                    },
                    limits,
                ));
            }
        }
        let height = sheet.cells.last().map_or(0, |c| c.row as usize + 1);
        let mut rows = vec![vec![Value::Empty; width]; height];
        for cell in sheet.cells {
            rows[cell.row as usize][cell.column as usize] = grid_value(cell.value);
        }
        Ok(Grid {
            sheet: Some(sheet.name),
            rows,
            hidden_rows: sheet.hidden_rows.iter().map(|r| *r as usize).collect(),
            merged: sheet
                .merged
                .iter()
                .map(|m| {
                    (
                        (m.first.0 as usize, m.first.1 as usize),
                        (m.last.0 as usize, m.last.1 as usize),
                    )
                })
                .collect(),
            info: Vec::new(),
        })
    }
}

/// Reads the projects sheet (and the instructions sheet, if present) of an xlsx workbook,
/// within the default [`Limits`].
pub fn read_xlsx(bytes: &[u8]) -> Result<Grid, Diagnostic> {
    read_xlsx_with(bytes, &Limits::default())
}

/// As [`read_xlsx`], within `limits`.
pub fn read_xlsx_with(bytes: &[u8], limits: &Limits) -> Result<Grid, Diagnostic> {
    let mut workbook = Workbook::open(bytes, *limits)?;
    let names = workbook.sheet_names();
    let name = if names.iter().any(|n| n == PROJECT_SHEET) {
        PROJECT_SHEET.to_owned()
    } else {
        names
            .first()
            .cloned()
            .ok_or_else(|| unreadable("no sheet"))?
    };
    let mut grid = Grid::from_sheet(workbook.sheet(&name)?, limits)?;
    if names.iter().any(|n| n == INFO_SHEET) {
        let info = workbook.sheet(INFO_SHEET)?;
        // Keys are in the sheet's first used column, values in the next.
        let first = info.cells.iter().map(|c| c.column).min().unwrap_or(0);
        // Cells come ordered by row and column: a lookup per key stays logarithmic.
        let value_of = |row: u32| {
            info.cells
                .binary_search_by_key(&(row, first + 1), |c| (c.row, c.column))
                .map_or_else(
                    |_| String::new(),
                    |i| grid_value(info.cells[i].value.clone()).text(),
                )
        };
        for cell in info.cells.iter().filter(|c| c.column == first) {
            if let Value::Text(key) = &cell.value {
                let position = Position::Cell {
                    sheet: INFO_SHEET.to_owned(),
                    row: cell.row,
                    column: first + 1,
                };
                grid.info
                    .push((key.trim().to_owned(), value_of(cell.row), position));
            }
        }
    }
    Ok(grid)
}

/// The sheet called `name` of an xlsx workbook, within `limits`; `Ok(None)` when the workbook
/// has no such sheet (the structure sheet of a workbook made before it existed).
pub fn read_xlsx_sheet_with(
    bytes: &[u8],
    limits: &Limits,
    name: &str,
) -> Result<Option<Grid>, Diagnostic> {
    let mut workbook = Workbook::open(bytes, *limits)?;
    if !workbook.sheet_names().iter().any(|n| n == name) {
        return Ok(None);
    }
    Grid::from_sheet(workbook.sheet(name)?, limits).map(Some)
}

/// Reads CSV (UTF-8 with or without BOM, or the given encoding) into a grid, within the
/// default [`Limits`]. The quote that keikaku puts in front of text that could start a formula
/// is removed again ([`crate::export::csv::restore`]), so a sheet written by `template` reads
/// back exactly.
pub fn read_csv(bytes: &[u8], encoding: Option<&'static Encoding>) -> Result<Grid, Diagnostic> {
    read_csv_with(bytes, encoding, &Limits::default())
}

/// As [`read_csv`], within `limits`: rows, fields per row and fields in all.
pub fn read_csv_with(
    bytes: &[u8],
    encoding: Option<&'static Encoding>,
    limits: &Limits,
) -> Result<Grid, Diagnostic> {
    let text = decode_text(bytes, encoding)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Grid::default();
    let mut area = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        let line = to_u32(grid.rows.len() + 1);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // The record's number, as every other CSV position is (`Grid::position`).
                let at = line;
                area += record.len();
                if grid.rows.len() >= limits.rows as usize {
                    return Err(csv_too_large(
                        at,
                        None,
                        format!("{} 行", group(limits.rows as usize)),
                        format!("{} rows", group(limits.rows as usize)),
                    ));
                }
                if record.len() > limits.columns as usize {
                    return Err(csv_too_large(
                        at,
                        Some(limits.columns + 1),
                        format!("1行 {} 列", group(limits.columns as usize)),
                        format!("{} fields in a row", group(limits.columns as usize)),
                    ));
                }
                if area > limits.cells {
                    return Err(csv_too_large(
                        at,
                        None,
                        format!("{} セル", group(limits.cells)),
                        format!("{} fields in all", group(limits.cells)),
                    ));
                }
                grid.rows.push(
                    record
                        .iter()
                        .map(|c| Value::Text(crate::export::csv::restore(c).to_owned()))
                        .collect(),
                );
            }
            Err(err) => {
                let at = err.position().map_or(line, |p| to_u32(p.line() as usize));
                return Err(Diagnostic::new(
                    Code::NotAPlan,
                    Position::line(at),
                    format!("CSV として読めません: {err}"),
                    format!("cannot read the CSV: {err}"),
                ));
            }
        }
    }
    Ok(grid)
}

fn group(n: usize) -> String {
    crate::money::group_thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

fn csv_too_large(line: u32, column: Option<u32>, ja: String, en: String) -> Diagnostic {
    Diagnostic::new(
        Code::TooLarge,
        match column {
            Some(column) => Position::at(line, column),
            None => Position::line(line),
        },
        format!("CSV が大きすぎます。keikaku が読むのは {ja} までです。"),
        format!("the CSV is too large: keikaku reads at most {en}"),
    )
}

/// True for bytes that start like a zip archive (xlsx files are zips).
pub fn looks_like_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rows: u32, columns: u32, cells: usize) -> Limits {
        Limits {
            rows,
            columns,
            cells,
            ..Limits::default()
        }
    }

    #[test]
    fn csv_is_read_within_limits() {
        let csv = b"a,b\r\nc,d,e\r\nf\r\n";
        assert_eq!(
            read_csv_with(csv, None, &limits(3, 3, 6))
                .expect("grid")
                .rows
                .len(),
            3
        );
        let error = |limits: Limits| {
            let err = read_csv_with(csv, None, &limits).expect_err("too large");
            (err.code, err.position)
        };
        assert_eq!(error(limits(3, 2, 6)), (Code::TooLarge, Position::at(2, 3)));
        assert_eq!(error(limits(2, 3, 6)), (Code::TooLarge, Position::line(3)));
        assert_eq!(error(limits(3, 3, 5)), (Code::TooLarge, Position::line(3)));
    }
}
