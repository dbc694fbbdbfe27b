//! The error report as a workbook, for the people who fix the sheet in Excel: a copy of the
//! sheet with every cell that has a problem filled red and a comment saying what is wrong,
//! and a sheet listing every problem with its place.

use rust_xlsxwriter::{Color, Format, Note, Workbook, XlsxError};

use super::grid::{Grid, Value, looks_like_xlsx, read_csv, read_xlsx};
use crate::diagnostic::{Lang, Position, Report, Severity};

/// The document as a grid for the report: the workbook's project sheet, or the lines of a
/// text file split into cells (tabs for plan text, commas for CSV). Empty if unreadable.
pub fn grid_of(bytes: &[u8], encoding: Option<&'static encoding_rs::Encoding>) -> Grid {
    if looks_like_xlsx(bytes) {
        return read_xlsx(bytes).unwrap_or_default();
    }
    match crate::source::decode_text(bytes, encoding) {
        Ok(text) if text.lines().next().is_some_and(|l| l.contains('\t')) => Grid {
            rows: text
                .split('\n')
                .map(|l| {
                    l.trim_end_matches('\r')
                        .split('\t')
                        .map(|c| Value::Text(c.to_owned()))
                        .collect()
                })
                .collect(),
            ..Grid::default()
        },
        Ok(_) => read_csv(bytes, encoding).unwrap_or_default(),
        Err(_) => Grid::default(),
    }
}

/// The report workbook for `grid` (the sheet as read) and its problems.
pub fn to_xlsx(file: &str, grid: &Grid, report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let error = Format::new()
        .set_background_color(Color::RGB(0x00F4B6B6))
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let warning = Format::new().set_background_color(Color::RGB(0x00FFE699));
    let bold = Format::new().set_bold();

    let list = workbook.add_worksheet();
    list.set_name("エラー一覧")?;
    for (c, title) in ["重要度", "場所", "コード", "項目", "内容"]
        .iter()
        .enumerate()
    {
        list.write_string_with_format(0, u16::try_from(c).unwrap_or(0), *title, &bold)?;
    }
    list.set_column_width(1, 22)?;
    list.set_column_width(2, 22)?;
    list.set_column_width(4, 100)?;
    for (i, d) in report.diagnostics.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let severity = if d.severity == Severity::Error {
            "エラー"
        } else {
            "警告"
        };
        list.write_string(r, 0, severity)?;
        let place = d.position.to_string();
        list.write_string(
            r,
            1,
            if place.is_empty() {
                file.to_owned()
            } else {
                place
            },
        )?;
        list.write_string(r, 2, d.code.as_str())?;
        list.write_string(r, 3, d.field.unwrap_or(""))?;
        list.write_string(r, 4, d.message(Lang::Ja))?;
    }
    list.set_freeze_panes(1, 0)?;

    let sheet = workbook.add_worksheet();
    sheet.set_name(grid.sheet.as_deref().unwrap_or("シート"))?;
    for (r, row) in grid.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let (r, c) = (
                u32::try_from(r).unwrap_or(u32::MAX),
                u16::try_from(c).unwrap_or(u16::MAX),
            );
            match value {
                Value::Empty => {}
                Value::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
                other => {
                    sheet.write_string(r, c, other.text())?;
                }
            }
        }
    }
    let mut notes: Vec<((usize, usize), Severity, Vec<String>)> = Vec::new();
    for d in &report.diagnostics {
        let at = match &d.position {
            Position::Cell { sheet, row, column }
                if Some(sheet.as_str()) == grid.sheet.as_deref() =>
            {
                Some((*row as usize, *column as usize))
            }
            Position::Line { line, column } if grid.sheet.is_none() => Some((
                (*line as usize).saturating_sub(1),
                column.map_or(0, |c| (c as usize).saturating_sub(1)),
            )),
            _ => None,
        };
        let Some(at) = at else { continue };
        match notes.iter_mut().find(|(cell, _, _)| *cell == at) {
            Some(entry) => {
                entry.1 = entry.1.min(d.severity);
                entry.2.push(d.message(Lang::Ja).to_owned());
            }
            None => notes.push((at, d.severity, vec![d.message(Lang::Ja).to_owned()])),
        }
    }
    for ((r, c), severity, messages) in notes {
        let (row, col) = (
            u32::try_from(r).unwrap_or(u32::MAX),
            u16::try_from(c).unwrap_or(u16::MAX),
        );
        let format = if severity == Severity::Error {
            &error
        } else {
            &warning
        };
        match grid.cell(r, c) {
            Value::Number(n) => sheet.write_number_with_format(row, col, *n, format)?,
            Value::Empty => sheet.write_blank(row, col, format)?,
            other => sheet.write_string_with_format(row, col, other.text(), format)?,
        };
        sheet.insert_note(
            row,
            col,
            &Note::new(messages.join("\n")).set_author("keikaku"),
        )?;
    }
    sheet.set_freeze_panes(1, 0)?;
    workbook.save_to_buffer()
}
