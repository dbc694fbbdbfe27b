//! A spreadsheet as a grid of values with what Excel can hide: hidden rows and merged cells.
//! Reads xlsx (with calamine; hidden rows from the sheet's XML, which calamine does not
//! expose) and CSV (UTF-8, with or without BOM, or Shift_JIS), from bytes in memory.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use encoding_rs::Encoding;
use quick_xml::events::Event;

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

fn value(data: &Data) -> Value {
    match data {
        Data::Empty => Value::Empty,
        Data::String(s) => {
            if ERROR_LITERALS.contains(&s.trim()) {
                Value::Error(s.trim().to_owned())
            } else {
                Value::Text(s.clone())
            }
        }
        Data::Float(f) => Value::Number(*f),
        Data::Int(i) => Value::Number(*i as f64),
        Data::Bool(b) => Value::Text(if *b { "TRUE".into() } else { "FALSE".into() }),
        Data::Error(e) => Value::Error(format!("{e}")),
        other => Value::Text(other.to_string()),
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

/// Reads the projects sheet (and the instructions sheet, if present) of an xlsx workbook.
pub fn read_xlsx(bytes: &[u8]) -> Result<Grid, Diagnostic> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let names = workbook.sheet_names();
    let sheet = if names.iter().any(|n| n == PROJECT_SHEET) {
        PROJECT_SHEET.to_owned()
    } else {
        names
            .first()
            .cloned()
            .ok_or_else(|| unreadable("no sheet"))?
    };
    let range = workbook.worksheet_range(&sheet).map_err(unreadable)?;
    let mut grid = Grid {
        sheet: Some(sheet.clone()),
        ..Grid::default()
    };
    if let (Some((start_row, start_col)), Some((end_row, end_col))) = (range.start(), range.end()) {
        let (start_row, start_col, end_row, end_col) = (
            start_row as usize,
            start_col as usize,
            end_row as usize,
            end_col as usize,
        );
        grid.rows = vec![vec![Value::Empty; end_col + 1]; end_row + 1];
        for (r, row) in range.rows().enumerate() {
            for (c, data) in row.iter().enumerate() {
                grid.rows[start_row + r][start_col + c] = value(data);
            }
        }
    }
    grid.merged = workbook
        .merge_cells_by_sheet_name(&sheet)
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            (
                (d.start.0 as usize, d.start.1 as usize),
                (d.end.0 as usize, d.end.1 as usize),
            )
        })
        .collect();
    if names.iter().any(|n| n == INFO_SHEET)
        && let Ok(info) = workbook.worksheet_range(INFO_SHEET)
    {
        let (row0, col0) = info.start().unwrap_or((0, 0));
        for (r, row) in info.rows().enumerate() {
            if let (Some(Data::String(key)), Some(val)) = (row.first(), row.get(1)) {
                let position = Position::Cell {
                    sheet: INFO_SHEET.to_owned(),
                    row: row0 + to_u32(r),
                    column: col0 + 1,
                };
                grid.info
                    .push((key.trim().to_owned(), value(val).text(), position));
            }
        }
    }
    grid.hidden_rows = hidden_rows(bytes, &sheet).unwrap_or_default();
    Ok(grid)
}

/// The 0-based rows marked hidden in the sheet's XML.
fn hidden_rows(bytes: &[u8], sheet: &str) -> Option<Vec<usize>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let read = |archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str| -> Option<String> {
        let mut text = String::new();
        archive.by_name(name).ok()?.read_to_string(&mut text).ok()?;
        Some(text)
    };
    // workbook.xml names the sheet's relationship id; its rels file names the part.
    let workbook = read(&mut archive, "xl/workbook.xml")?;
    let mut relationship = None;
    for_each_start(&workbook, |name, attributes| {
        if name == "sheet" && attributes.iter().any(|(k, v)| k == "name" && v == sheet) {
            relationship = attributes
                .iter()
                .find(|(k, _)| k.ends_with(":id"))
                .map(|(_, v)| v.clone());
        }
    });
    let relationship = relationship?;
    let rels = read(&mut archive, "xl/_rels/workbook.xml.rels")?;
    let mut target = None;
    for_each_start(&rels, |name, attributes| {
        if name == "Relationship"
            && attributes
                .iter()
                .any(|(k, v)| k == "Id" && *v == relationship)
        {
            target = attributes
                .iter()
                .find(|(k, _)| k == "Target")
                .map(|(_, v)| v.clone());
        }
    });
    let target = target?;
    let path = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("xl/{target}"),
    };
    let xml = read(&mut archive, &path)?;
    let mut hidden = Vec::new();
    for_each_start(&xml, |name, attributes| {
        let is_hidden = attributes
            .iter()
            .any(|(k, v)| k == "hidden" && (v == "1" || v == "true"));
        let number = attributes
            .iter()
            .find(|(k, _)| k == "r")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        if name == "row"
            && is_hidden
            && let Some(r) = number
        {
            hidden.push(r.saturating_sub(1));
        }
    });
    Some(hidden)
}

/// Calls `f` with the local name and attributes of every start or empty element.
fn for_each_start(xml: &str, mut f: impl FnMut(&str, &[(String, String)])) {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let local = e.local_name();
                let name: &str = local.as_ref();
                let attributes: Vec<(String, String)> = e
                    .attributes()
                    .filter_map(Result::ok)
                    .map(|a| {
                        let key: &str = a.key.as_ref();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map(|v| v.into_owned())
                            .unwrap_or_default();
                        (key.to_owned(), value)
                    })
                    .collect();
                f(name, &attributes);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Reads CSV (UTF-8 with or without BOM, or the given encoding) into a grid. The quote that
/// keikaku puts in front of text that could start a formula is removed again
/// ([`crate::export::csv::restore`]), so a sheet written by `template` reads back exactly.
pub fn read_csv(bytes: &[u8], encoding: Option<&'static Encoding>) -> Result<Grid, Diagnostic> {
    let text = decode_text(bytes, encoding)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Grid::default();
    for (line, record) in reader.records().enumerate() {
        match record {
            Ok(record) => grid.rows.push(
                record
                    .iter()
                    .map(|c| Value::Text(crate::export::csv::restore(c).to_owned()))
                    .collect(),
            ),
            Err(err) => {
                let at = err
                    .position()
                    .map_or(to_u32(line + 1), |p| to_u32(p.line() as usize));
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

/// True for bytes that start like a zip archive (xlsx files are zips).
pub fn looks_like_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}
