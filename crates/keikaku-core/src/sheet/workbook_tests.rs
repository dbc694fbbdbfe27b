//! Workbooks written part by part with the `zip` crate, as a hostile or careless tool could
//! write them, and what the reader makes of each.

use std::io::Write;

use super::{Cell, Formula, Limits, Region, Workbook, parse_reference};
use crate::diagnostic::{Code, Diagnostic, Position};
use crate::sheet::grid::Value;

/// A workbook whose sheets are `(name, sheet XML body inside <worksheet>)`, with `strings` as
/// the shared strings (raw `<si>` elements) when given.
pub(crate) fn workbook(sheets: &[(&str, &str)], strings: Option<&str>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut put = |name: &str, text: &str| {
        zip.start_file(name, options).expect("start");
        zip.write_all(text.as_bytes()).expect("write");
    };
    let ns = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let mut listed = String::new();
    let mut rels = String::new();
    for (i, (name, body)) in sheets.iter().enumerate() {
        let n = i + 1;
        listed.push_str(&format!(
            r#"<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>"#
        ));
        rels.push_str(&format!(
            r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
        ));
        put(
            &format!("xl/worksheets/sheet{n}.xml"),
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {ns}>{body}</worksheet>"#
            ),
        );
    }
    if let Some(strings) = strings {
        rels.push_str(r#"<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
        put(
            "xl/sharedStrings.xml",
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{strings}</sst>"#
            ),
        );
    }
    put(
        "xl/workbook.xml",
        &format!(r#"<?xml version="1.0"?><workbook {ns}><sheets>{listed}</sheets></workbook>"#),
    );
    put(
        "xl/_rels/workbook.xml.rels",
        &format!(
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
        ),
    );
    zip.finish().expect("finish").into_inner()
}

/// One sheet called 実施計画 with `data` inside `<sheetData>` and `after` after it.
pub(crate) fn one_sheet(data: &str, after: &str, strings: Option<&str>) -> Vec<u8> {
    workbook(
        &[("実施計画", &format!("<sheetData>{data}</sheetData>{after}"))],
        strings,
    )
}

fn read(bytes: &[u8], limits: Limits) -> Result<super::Sheet, Diagnostic> {
    let mut book = Workbook::open(bytes, limits)?;
    book.sheet("実施計画")
}

fn cell_at(sheet: &str, name: &str) -> Position {
    let (row, column) = parse_reference(name).expect("reference");
    Position::Cell {
        sheet: sheet.into(),
        row,
        column,
    }
}

fn error(result: Result<super::Sheet, Diagnostic>) -> (Code, Position) {
    let err = result.expect_err("an error");
    (err.code, err.position)
}

#[test]
fn references_are_parsed_strictly() {
    assert_eq!(parse_reference("A1"), Some((0, 0)));
    assert_eq!(parse_reference("XFD1048576"), Some((1_048_575, 16_383)));
    assert_eq!(parse_reference("AF10"), Some((9, 31)));
    for bad in [
        "",
        "A",
        "1",
        "A0",
        "A01",
        "a1",
        "XFE1",
        "A1048577",
        "ZZZZZZZZ99999999999",
        "A-1",
        "A1B",
        "$A$1",
        "Ａ1",
    ] {
        assert_eq!(parse_reference(bad), None, "{bad}");
    }
}

#[test]
fn reads_values_of_every_kind() {
    let data = concat!(
        r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>"#,
        r#"<c r="C1"><v>17000</v></c><c r="D1" t="n"><v>-2.5</v></c></row>"#,
        r#"<row r="3" hidden="1"><c r="A3" t="inlineStr"><is><r><t>地域</t></r><r><t>づくり</t></r><rPh sb="0" eb="2"><t>チイキ</t></rPh></is></c>"#,
        r#"<c r="B3" t="str"><f>A3&amp;"!"</f><v>地域づくり!</v></c>"#,
        r#"<c r="C3"><f>SUM(C1:C2)</f></c>"#,
        r#"<c r="D3" t="e"><f>1/0</f><v>#DIV/0!</v></c>"#,
        r#"<c r="E3" t="b"><v>1</v></c><c r="F3" s="4"/></row>"#,
        // Cells and a row without `r` follow the previous ones.
        r#"<row><c t="s"><v>2</v></c><c><v>5</v></c></row>"#,
    );
    let strings = r#"<si><t>施策コード</t></si><si><t xml:space="preserve"> a &lt;b&gt; &#x41;_x001B__x005F_x0041_</t></si><si><t>7-1</t></si>"#;
    let merged = r#"<mergeCells count="1"><mergeCell ref="A5:C6"/></mergeCells>"#;
    let sheet = read(&one_sheet(data, merged, Some(strings)), Limits::default()).expect("sheet");
    let value = |name: &str| {
        let (row, column) = parse_reference(name).expect("ref");
        sheet
            .cells
            .iter()
            .find(|c| (c.row, c.column) == (row, column))
            .cloned()
    };
    let text = |t: &str| Value::Text(t.into());
    assert_eq!(value("A1").map(|c| c.value), Some(text("施策コード")));
    // Entities, character references and OOXML's _xHHHH_ escapes are decoded.
    assert_eq!(
        value("B1").map(|c| c.value),
        Some(text(" a <b> A\u{1b}_x0041_"))
    );
    assert_eq!(value("C1").map(|c| c.value), Some(Value::Number(17_000.0)));
    assert_eq!(value("D1").map(|c| c.value), Some(Value::Number(-2.5)));
    // Rich text runs join; the phonetic guide is not part of the text.
    assert_eq!(value("A3").map(|c| c.value), Some(text("地域づくり")));
    assert_eq!(
        value("B3"),
        Some(Cell {
            row: 2,
            column: 1,
            value: text("地域づくり!"),
            formula: Some(Formula {
                text: r#"A3&"!""#.into(),
                cached: true,
            }),
        })
    );
    // A formula whose result the file does not store.
    assert_eq!(
        value("C3").map(|c| (c.value, c.formula.map(|f| f.cached))),
        Some((Value::Empty, Some(false)))
    );
    assert_eq!(
        value("D3").map(|c| c.value),
        Some(Value::Error("#DIV/0!".into()))
    );
    assert_eq!(value("E3").map(|c| c.value), Some(text("TRUE")));
    // A styled cell without a value is not kept.
    assert_eq!(value("F3"), None);
    assert_eq!(value("A4").map(|c| c.value), Some(text("7-1")));
    assert_eq!(value("B4").map(|c| c.value), Some(Value::Number(5.0)));
    assert_eq!(sheet.hidden_rows, [2]);
    assert_eq!(
        sheet.merged,
        [Region {
            first: (4, 0),
            last: (5, 2)
        }]
    );
    assert_eq!(sheet.cells.len(), 11);
}

#[test]
fn any_sheet_is_read_by_name() {
    let bytes = workbook(
        &[
            (
                "表紙",
                r#"<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>"#,
            ),
            (
                "予算",
                r#"<sheetData><row r="2"><c r="B2"><v>2</v></c></row></sheetData>"#,
            ),
        ],
        None,
    );
    let mut book = Workbook::open(&bytes, Limits::default()).expect("open");
    assert_eq!(book.sheet_names(), ["表紙", "予算"]);
    let sheet = book.sheet("予算").expect("sheet");
    assert_eq!(sheet.cells.len(), 1);
    assert_eq!((sheet.cells[0].row, sheet.cells[0].column), (1, 1));
    assert_eq!(
        book.sheet("ない").expect_err("missing").code,
        Code::NotAPlan
    );
}

#[test]
fn a_huge_dimension_costs_nothing() {
    let bytes = workbook(
        &[(
            "実施計画",
            r#"<dimension ref="A1:XFD1048576"/><sheetData><row r="1" spans="1:16384"><c r="A1"><v>1</v></c></row></sheetData>"#,
        )],
        None,
    );
    let sheet = read(&bytes, Limits::default()).expect("sheet");
    assert_eq!(sheet.cells.len(), 1);
}

#[test]
fn a_value_beyond_the_limits_is_a_located_error() {
    let far = one_sheet(
        r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
        "",
        None,
    );
    assert_eq!(
        error(read(&far, Limits::default())),
        (Code::TooLarge, cell_at("実施計画", "XFD1048576"))
    );
    let right = one_sheet(r#"<row r="1"><c r="AMK1"><v>1</v></c></row>"#, "", None);
    assert_eq!(
        error(read(&right, Limits::default())),
        (Code::TooLarge, cell_at("実施計画", "AMK1"))
    );
    // Formatting far away holds no value and is no problem.
    let styled = one_sheet(
        r#"<row r="1048576"><c r="XFD1048576" s="1"/></row>"#,
        "",
        None,
    );
    assert!(
        read(&styled, Limits::default())
            .expect("sheet")
            .cells
            .is_empty()
    );
}

#[test]
fn broken_references_are_located_errors() {
    let cases = [
        (
            r#"<row r="2"><c r="A2"><v>1</v></c><c r="ZZZZZZZZ99999999999"><v>1</v></c></row>"#,
            "B2",
        ),
        (r#"<row r="2"><c r="A0"><v>1</v></c></row>"#, "A2"),
        (r#"<row r="0"><c><v>1</v></c></row>"#, "A1"),
        (r#"<row r="99999999999"><c><v>1</v></c></row>"#, "A1"),
        (r#"<row r="2"><c r="C3"><v>1</v></c></row>"#, "C3"),
        (
            r#"<row r="2"><c r="C2"><v>1</v></c><c r="C2"><v>2</v></c></row>"#,
            "C2",
        ),
        (r#"<row r="4"><c r="B4" t="s"><v>-1</v></c></row>"#, "B4"),
        (r#"<row r="4"><c r="B4" t="s"><v>abc</v></c></row>"#, "B4"),
        (r#"<row r="4"><c r="B4" t="s"><v>2</v></c></row>"#, "B4"),
        (
            r#"<row r="4"><c r="B4" t="s"><v>99999999999999999999999</v></c></row>"#,
            "B4",
        ),
        (r#"<row r="4"><c r="B4"><v>1,000</v></c></row>"#, "B4"),
        (r#"<row r="4"><c r="B4" t="n"><v>inf</v></c></row>"#, "B4"),
        (r#"<row r="4"><c r="B4" t="b"><v>2</v></c></row>"#, "B4"),
        (r#"<row r="4"><c r="B4" t="x"><v>2</v></c></row>"#, "B4"),
    ];
    let strings = "<si><t>a</t></si><si><t>b</t></si>";
    for (data, at) in cases {
        let bytes = one_sheet(data, "", Some(strings));
        assert_eq!(
            error(read(&bytes, Limits::default())),
            (Code::BrokenWorkbook, cell_at("実施計画", at)),
            "{data}"
        );
    }
    let merged = one_sheet(
        "",
        r#"<mergeCells><mergeCell ref="A1:ZZZZZZZZ9"/></mergeCells>"#,
        None,
    );
    assert_eq!(
        error(read(&merged, Limits::default())).0,
        Code::BrokenWorkbook
    );
}

#[test]
fn limits_bound_cells_text_and_parts() {
    let row =
        |r: u32| format!(r#"<row r="{r}"><c r="A{r}"><v>1</v></c><c r="B{r}"><v>2</v></c></row>"#);
    let data: String = (1..=3).map(row).collect();
    let bytes = one_sheet(&data, "", None);
    let small = Limits {
        cells: 5,
        ..Limits::default()
    };
    assert_eq!(
        error(read(&bytes, small)),
        (Code::TooLarge, cell_at("実施計画", "B3"))
    );

    // Each cell's copy of a shared string counts.
    let data: String = (1..=4)
        .map(|r| format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>"#))
        .collect();
    let strings = format!("<si><t>{}</t></si>", "あ".repeat(100));
    let bytes = one_sheet(&data, "", Some(&strings));
    let text = Limits {
        text_bytes: 1_000,
        ..Limits::default()
    };
    assert_eq!(
        error(read(&bytes, text)),
        (Code::TooLarge, cell_at("実施計画", "A3"))
    );

    let part = Limits {
        part_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        error(read(&one_sheet(&data, "", Some(&strings)), part)).0,
        Code::TooLarge
    );

    // One text longer than any cell can hold (the XML reader would buffer it whole).
    let long = format!(
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>{}</t></is></c></row>"#,
        "x".repeat(5 << 20)
    );
    assert_eq!(
        error(read(&one_sheet(&long, "", None), Limits::default())).0,
        Code::TooLarge
    );

    // Shared strings beyond the limits.
    let many = "<si><t>a</t></si>".repeat(10);
    let few = Limits {
        cells: 5,
        ..Limits::default()
    };
    assert_eq!(
        error(read(&one_sheet("", "", Some(&many)), few)).0,
        Code::TooLarge
    );
}

#[test]
fn not_a_workbook() {
    assert_eq!(
        Workbook::open(b"PK\x03\x04 not really", Limits::default())
            .err()
            .map(|d| d.code),
        Some(Code::NotAPlan)
    );
    let bytes = one_sheet("<row><c><v>1</v></row>", "", None);
    assert_eq!(error(read(&bytes, Limits::default())).0, Code::NotAPlan);
}
