//! Shared output helpers: tables for terminals, JSON for scripts. The JSON shapes here are
//! documented in `docs/cli.md`; they are output formats of their own, not domain types.

use comfy_table::{CellAlignment, Table, presets};
use keikaku_core::diagnostic::{Report, visible};
use keikaku_core::{Lang, Position};
use serde::Serialize;

/// A table with a header line and right-aligned columns where asked. Control characters
/// in cells (names stored before they were checked, or written by hand) are shown as
/// escapes (`\u{1b}`): a table never moves the terminal's cursor or changes its colours.
pub fn table(header: &[&str], right_aligned: &[usize], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED);
    table.set_header(header.iter().map(|h| visible(h, true).into_owned()));
    for row in rows {
        debug_assert_eq!(row.len(), header.len(), "a row does not match the header");
        table.add_row(row.iter().map(|cell| visible(cell, true).into_owned()));
    }
    for index in right_aligned {
        if let Some(column) = table.column_mut(*index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string()
}

#[derive(Serialize)]
struct DiagnosticsView<'a> {
    file: &'a str,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<DiagnosticView<'a>>,
}

#[derive(Serialize)]
struct DiagnosticView<'a> {
    severity: &'static str,
    code: &'static str,
    line: Option<u32>,
    column: Option<u32>,
    sheet: Option<&'a str>,
    cell: Option<String>,
    path: Option<&'a str>,
    field: Option<&'static str>,
    message: &'a str,
    /// For a summary of problems left out: how many it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<usize>,
}

/// A validation report as JSON.
pub fn diagnostics_json(file: &str, report: &Report, lang: Lang) -> String {
    let view = DiagnosticsView {
        file,
        errors: report.error_count(),
        warnings: report.warning_count(),
        diagnostics: report
            .diagnostics
            .iter()
            .map(|d| {
                let (line, column, sheet, cell, path) = match &d.position {
                    Position::File => (None, None, None, None, None),
                    Position::Line { line, column } => (Some(*line), *column, None, None, None),
                    Position::Cell { sheet, row, column } => (
                        None,
                        None,
                        Some(sheet.as_str()),
                        Some(keikaku_core::sheet::cell_name(
                            *row as usize,
                            *column as usize,
                        )),
                        None,
                    ),
                    Position::Path(path) => (None, None, None, None, Some(path.as_str())),
                };
                DiagnosticView {
                    severity: d.severity.as_str(),
                    code: d.code.as_str(),
                    line,
                    column,
                    sheet,
                    cell,
                    path,
                    field: d.field,
                    message: d.message(lang),
                    left_out: (d.left_out() > 0).then_some(d.left_out()),
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&view).unwrap_or_default()
}
