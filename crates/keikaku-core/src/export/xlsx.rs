//! Excel workbooks: one sheet per open-data table, a bold header row that stays in view
//! (frozen), an autofilter, 千円 amounts with thousands separators, sensible column widths.

use rust_xlsxwriter::{Color, DocProperties, Format, FormatBorder, Workbook, XlsxError};

use crate::export::tables::{Cell, Kind, Table};

/// Widest column, in characters.
const MAX_WIDTH: f64 = 60.0;

/// The workbook for `tables`, with `title` in its document properties.
pub fn to_xlsx(tables: &[Table], title: &str) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_comment("keikaku open data"),
    );
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0x00DDE7F3))
        .set_border_bottom(FormatBorder::Thin)
        .set_text_wrap();
    let amount = Format::new().set_num_format("#,##0");
    let integer = Format::new().set_num_format("0");
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.title)?;
        let mut widths: Vec<usize> = table
            .columns
            .iter()
            .map(|c| display_width(c.name))
            .collect();
        for (c, column) in table.columns.iter().enumerate() {
            let col = u16::try_from(c)
                .map_err(|_| XlsxError::ParameterError("too many columns".into()))?;
            sheet.write_string_with_format(0, col, column.name, &header)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let line = u32::try_from(r + 1)
                .map_err(|_| XlsxError::ParameterError("too many rows".into()))?;
            for (c, cell) in row.iter().enumerate() {
                let col = u16::try_from(c)
                    .map_err(|_| XlsxError::ParameterError("too many columns".into()))?;
                match cell {
                    Cell::Text(text) if !text.is_empty() => {
                        sheet.write_string(line, col, text)?;
                        widths[c] = widths[c].max(display_width(text));
                    }
                    Cell::Integer(Some(value)) => {
                        let format = match table.columns.get(c).map(|k| k.kind) {
                            Some(Kind::Amount) => &amount,
                            _ => &integer,
                        };
                        // Amounts in 千円 stay far below 2^53, so f64 holds them exactly.
                        sheet.write_number_with_format(line, col, *value as f64, format)?;
                        widths[c] =
                            widths[c].max(value.to_string().len() + value.to_string().len() / 3);
                    }
                    _ => {}
                }
            }
        }
        for (c, width) in widths.iter().enumerate() {
            let col = u16::try_from(c)
                .map_err(|_| XlsxError::ParameterError("too many columns".into()))?;
            sheet.set_column_width(col, (*width as f64 + 2.0).min(MAX_WIDTH))?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let last_row = u32::try_from(table.rows.len()).unwrap_or(u32::MAX);
        let last_col = u16::try_from(table.columns.len().saturating_sub(1)).unwrap_or(0);
        sheet.autofilter(0, 0, last_row, last_col)?;
    }
    workbook.save_to_buffer()
}

/// Width in spreadsheet character cells: CJK characters take two.
fn display_width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::export::tables::{Column, Kind};

    const COLUMNS: [Column; 3] = [
        Column {
            name: "事業名",
            kind: Kind::Text,
            required: true,
            description: "",
        },
        Column {
            name: "年度",
            kind: Kind::Integer,
            required: true,
            description: "",
        },
        Column {
            name: "事業費（千円）",
            kind: Kind::Amount,
            required: false,
            description: "",
        },
    ];

    /// Every `<f>` (formula) element in the worksheets of a workbook.
    fn formulas(bytes: &[u8]) -> usize {
        use std::io::Read;
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
        let mut count = 0;
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).expect("entry");
            if file.name().expect("name").starts_with("xl/worksheets/") {
                let mut xml = String::new();
                file.read_to_string(&mut xml).expect("xml");
                count += xml.matches("<f>").count() + xml.matches("<f ").count();
            }
        }
        count
    }

    /// Workbooks need no neutralising quote: text is written as a string cell, which Excel
    /// never runs, and the text stays exactly as it is.
    #[test]
    fn text_that_looks_like_a_formula_is_a_string_cell() {
        let hostile = "=HYPERLINK(\"http://example.com\",\"x\")";
        let table = Table {
            name: "projects",
            title: "事業",
            columns: &COLUMNS,
            primary_key: &[],
            rows: vec![vec![
                Cell::Text(hostile.into()),
                Cell::Integer(Some(2021)),
                Cell::Integer(Some(-5)),
            ]],
        };
        let bytes = to_xlsx(&[table], "t").expect("xlsx");
        assert_eq!(formulas(&bytes), 0);
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("open");
        let range = workbook.worksheet_range("事業").expect("sheet");
        assert_eq!(range.get((1, 0)), Some(&Data::String(hostile.into())));
        assert_eq!(range.get((1, 2)), Some(&Data::Float(-5.0)));

        // The department sheet too (its only formula is the drop-down list of policies,
        // which lives in the data validation, not in a cell).
        let municipality = crate::municipality::Municipality {
            code: crate::municipality::MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        };
        let span = crate::fiscal::EditionSpan::parse("R3-R5").expect("span");
        let mut edition = crate::synth::Generator::new(3).edition(&municipality, span, 1, 1, true);
        edition.goals[0].policies[0].projects[0].name = hostile.into();
        let bytes = crate::sheet::template::to_xlsx(&edition, &[]).expect("template");
        assert_eq!(formulas(&bytes), 0);
        let grid = crate::sheet::grid::read_xlsx(&bytes).expect("grid");
        assert!(
            grid.rows[1]
                .iter()
                .any(|v| *v == crate::sheet::grid::Value::Text(hostile.into()))
        );
    }

    #[test]
    fn workbook_reads_back_with_japanese_sheet_names() {
        let table = Table {
            name: "projects",
            title: "事業",
            columns: &COLUMNS,
            primary_key: &[],
            rows: vec![
                vec![
                    Cell::Text("集会所整備事業".into()),
                    Cell::Integer(Some(2020)),
                    Cell::Integer(None),
                ],
                vec![
                    Cell::Text("地域おこし協力隊活用事業".into()),
                    Cell::Integer(Some(2020)),
                    Cell::Integer(Some(16_759)),
                ],
            ],
        };
        let bytes = to_xlsx(&[table], "白河市 実施計画").expect("xlsx");
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("open");
        assert_eq!(workbook.sheet_names(), ["事業"]);
        let range = workbook.worksheet_range("事業").expect("sheet");
        assert_eq!(
            range.get((0, 2)),
            Some(&Data::String("事業費（千円）".into()))
        );
        assert!(
            matches!(range.get((1, 2)), None | Some(Data::Empty)),
            "no amount stays empty, not 0"
        );
        assert_eq!(range.get((2, 2)), Some(&Data::Float(16_759.0)));
        assert_eq!(
            range.get((2, 0)),
            Some(&Data::String("地域おこし協力隊活用事業".into()))
        );
    }
}
