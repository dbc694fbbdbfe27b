//! A town's file as a table of cells: an xlsx sheet (through [`crate::sheet::workbook`], with
//! its limits and located errors), or CSV/TSV text in UTF-8 or Shift_JIS.
//!
//! It keeps what the layout needs to see beyond values: merged regions (a heading or a goal
//! written once over several cells), formulas whose result the file does not store, hidden
//! rows, and how the text was decoded. It does not interpret the cells.

use std::collections::{HashMap, HashSet};

use encoding_rs::{Encoding, SHIFT_JIS};

use crate::diagnostic::{Code, Diagnostic, Position};
use crate::sheet::grid::{Grid, Value, looks_like_xlsx};
use crate::sheet::workbook::{Limits, Workbook};
use crate::source::{Source, decode_text};

/// A sheet or text file read into memory.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The cells (positions print as `sheet!A1` for xlsx, `line:column` for text).
    pub grid: Grid,
    /// For each cell inside a merged region but not its first: the region's first cell.
    merged_into: HashMap<(usize, usize), (usize, usize)>,
    /// Cells holding a formula whose result the workbook does not store.
    pub uncached: HashSet<(usize, usize)>,
    /// For text: the encoding read when it was not UTF-8 (told to the user).
    pub encoding: Option<&'static str>,
    /// For text: true when cells are separated by tabs.
    pub tabs: bool,
    /// Columns of the widest row (kept: the layout asks for it for every row).
    width: usize,
}

impl Table {
    /// A table over `grid` (merged regions clipped to the grid, so a region claiming the whole
    /// sheet costs no more than the grid).
    pub fn new(grid: Grid) -> Table {
        let mut merged_into = HashMap::new();
        let height = grid.rows.len();
        for &((r0, c0), (r1, c1)) in &grid.merged {
            for row in r0..=r1.min(height.saturating_sub(1)) {
                let width = grid.rows.get(row).map_or(0, Vec::len);
                for column in c0..=c1.min(width.saturating_sub(1)) {
                    if (row, column) != (r0, c0) {
                        merged_into.insert((row, column), (r0, c0));
                    }
                }
            }
        }
        let width = grid.rows.iter().map(Vec::len).max().unwrap_or(0);
        Table {
            grid,
            merged_into,
            width,
            ..Table::default()
        }
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.grid.rows.len()
    }

    /// Columns of the widest row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The cell as written.
    pub fn raw(&self, row: usize, column: usize) -> &Value {
        self.grid.cell(row, column)
    }

    /// The cell as a person sees it: a cell inside a merged region shows the region's value.
    pub fn shown(&self, row: usize, column: usize) -> &Value {
        match self.merged_into.get(&(row, column)) {
            Some(&(r, c)) => self.grid.cell(r, c),
            None => self.grid.cell(row, column),
        }
    }

    /// The first cell of the merged region `row`, `column` lies in (not being that cell).
    pub fn merged_origin(&self, row: usize, column: usize) -> Option<(usize, usize)> {
        self.merged_into.get(&(row, column)).copied()
    }

    /// Text of the shown cell, trimmed.
    pub fn text(&self, row: usize, column: usize) -> String {
        self.shown(row, column).text()
    }

    /// Where a cell is, as messages print it.
    pub fn position(&self, row: usize, column: usize) -> Position {
        self.grid.position(row, column)
    }

    /// True when row `row` is hidden in Excel.
    pub fn is_hidden(&self, row: usize) -> bool {
        self.grid.hidden_rows.binary_search(&row).is_ok()
    }
}

/// The cells of the first line of a CSV or TSV file, without reading the rest (for telling
/// keikaku's own sheet from a town's). Empty when the text cannot be decoded.
pub fn first_line(source: &Source<'_>, encoding: Option<&'static Encoding>) -> Vec<String> {
    let text = match decode_text(source.bytes, encoding) {
        Ok(text) => text,
        Err(_) if encoding.is_none() => {
            match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(source.bytes) {
                Some(text) => text.into_owned(),
                None => return Vec::new(),
            }
        }
        Err(_) => return Vec::new(),
    };
    let line = text.lines().next().unwrap_or("");
    let tabs = text_kind(source.name).unwrap_or(line.contains('\t') && !line.contains(','));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if tabs { b'\t' } else { b',' })
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(|c| c.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// True when the file is a workbook (by its bytes) or named `.csv`/`.tsv`.
pub fn is_table_file(source: &Source<'_>) -> bool {
    looks_like_xlsx(source.bytes) || text_kind(source.name).is_some()
}

/// `Some(true)` for a `.tsv` name, `Some(false)` for `.csv`, `None` otherwise.
fn text_kind(name: &str) -> Option<bool> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tsv") {
        Some(true)
    } else if lower.ends_with(".csv") {
        Some(false)
    } else {
        None
    }
}

/// The names of a workbook's sheets, in order.
pub fn sheet_names(bytes: &[u8]) -> Result<Vec<String>, Diagnostic> {
    Ok(Workbook::open(bytes, Limits::default())?.sheet_names())
}

/// One sheet of a workbook.
pub fn read_sheet(bytes: &[u8], name: &str) -> Result<Table, Diagnostic> {
    let limits = Limits::default();
    let mut workbook = Workbook::open(bytes, limits)?;
    let sheet = workbook.sheet(name)?;
    let uncached: HashSet<(usize, usize)> = sheet
        .cells
        .iter()
        .filter(|c| c.formula.as_ref().is_some_and(|f| !f.cached))
        .map(|c| (c.row as usize, c.column as usize))
        .collect();
    let mut table = Table::new(Grid::from_sheet(sheet, &limits)?);
    table.uncached = uncached;
    Ok(table)
}

/// A CSV or TSV file: UTF-8 (with or without BOM), the encoding the user named, or else
/// Shift_JIS when the bytes are valid Shift_JIS (the table says so, and the mapping shows it).
pub fn read_text(
    source: &Source<'_>,
    encoding: Option<&'static Encoding>,
) -> Result<Table, Diagnostic> {
    let (text, used) = match decode_text(source.bytes, encoding) {
        Ok(text) => (text, None),
        Err(err) if encoding.is_none() && err.code == Code::Encoding => {
            match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(source.bytes) {
                Some(text) => (text.into_owned(), Some("Shift_JIS (CP932)")),
                None => return Err(err),
            }
        }
        Err(err) => return Err(err),
    };
    let tabs = match text_kind(source.name) {
        Some(tabs) => tabs,
        None => {
            let first = text.lines().next().unwrap_or("");
            first.contains('\t') && !first.contains(',')
        }
    };
    let limits = Limits::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if tabs { b'\t' } else { b',' })
        .from_reader(text.as_bytes());
    let mut grid = Grid::default();
    let mut cells = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        let line = u32::try_from(grid.rows.len() + 1).unwrap_or(u32::MAX);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                cells = cells.saturating_add(record.len());
                let wide = record.len() > limits.columns as usize;
                if grid.rows.len() >= limits.rows as usize || wide || cells > limits.cells {
                    let at = if wide {
                        Position::at(line, limits.columns.saturating_add(1))
                    } else {
                        Position::line(line)
                    };
                    return Err(Diagnostic::new(
                        Code::TooLarge,
                        at,
                        format!(
                            "ファイルが大きすぎます。keikaku が読むのは {} 行・1行 {} 列・{} セルまでです。",
                            limits.rows, limits.columns, limits.cells
                        ),
                        format!(
                            "the file is too large: keikaku reads at most {} rows, {} fields in a row and {} fields in all",
                            limits.rows, limits.columns, limits.cells
                        ),
                    ));
                }
                grid.rows
                    .push(record.iter().map(|c| Value::Text(c.to_owned())).collect());
            }
            Err(err) => {
                let at = err
                    .position()
                    .map_or(line, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
                return Err(Diagnostic::new(
                    Code::NotAPlan,
                    Position::line(at),
                    format!("CSV として読めません: {err}"),
                    format!("cannot read the CSV: {err}"),
                ));
            }
        }
    }
    let mut table = Table::new(grid);
    table.encoding = used;
    table.tabs = tabs;
    Ok(table)
}
