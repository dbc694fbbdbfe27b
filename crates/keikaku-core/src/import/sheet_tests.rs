//! The spreadsheet round trip and one generated workbook per check. Workbooks are written in
//! the test with rust_xlsxwriter from a grid: the template's own cells, changed as a
//! department (or an accident) would change them.

use std::collections::HashMap;

use rust_xlsxwriter::{Formula, Workbook};

use super::{SheetCsv, SheetXlsx};
use crate::diagnostic::{Code, Lang, Position, Severity};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::import::{self, Base, Context, Layout, Parsed, pdf_text::PdfTableText};
use crate::model::{Edition, FundingKind};
use crate::money::Money;
use crate::municipality::{Municipality, MunicipalityCode};
use crate::roll::roll;
use crate::sheet::grid::{Grid, Value, read_xlsx};
use crate::sheet::{INFO_CODE, INFO_EDITION, INFO_SHEET, PROJECT_SHEET, template};
use crate::source::Source;

const SEED: &str = include_str!("../../../../data/samples/shirakawa-r2-r4-goal7.txt");

fn seed() -> Edition {
    let context = Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        }),
        ..Context::default()
    };
    let mut parsed = import::read(
        &Source {
            name: "seed.txt",
            bytes: SEED.as_bytes(),
        },
        Some(&PdfTableText),
        &context,
    );
    parsed.editions.remove(0).edition
}

fn year(y: i32) -> FiscalYear {
    FiscalYear::new(y).expect("year")
}

/// R3–R5 rolled from the seed, with amounts that exercise every kind of cell: numbers, `-`,
/// zero, a breakdown of 特定財源, a year with nothing stated.
fn r3() -> Edition {
    let mut edition = roll(&seed(), EditionSpan::parse("R3-R5").expect("span")).expect("roll");
    let project = &mut edition.goals[0].policies[0].projects[0];
    project.costs = vec![crate::model::YearCost {
        year: year(2021),
        total: Some(Money::from_thousand_yen(17_000)),
        earmarked: Some(Money::from_thousand_yen(1_000)),
        general: Some(Money::from_thousand_yen(16_000)),
        earmarked_breakdown: vec![
            (FundingKind::National, Money::from_thousand_yen(600)),
            (FundingKind::Other, Money::from_thousand_yen(400)),
        ],
    }];
    edition.goals[0].policies[0].projects[3].costs =
        vec![crate::model::YearCost::empty(year(2022))];
    edition.goals[0].policies[0].projects[4].costs = vec![crate::model::YearCost {
        year: year(2023),
        total: Some(Money::ZERO),
        earmarked: None,
        general: Some(Money::ZERO),
        earmarked_breakdown: Vec::new(),
    }];
    edition
}

fn context_for(edition: &Edition) -> Context {
    Context {
        base: Some(Base {
            edition: edition.clone(),
            other_ids: HashMap::new(),
            previous: None,
        }),
        ..Context::default()
    }
}

fn read_with(layout: &dyn Layout, bytes: &[u8], context: &Context) -> Parsed {
    import::read(
        &Source {
            name: "r3.xlsx",
            bytes,
        },
        Some(layout),
        context,
    )
}

#[test]
fn xlsx_template_reads_back_as_the_same_edition() {
    for edition in [seed(), r3()] {
        let bytes = template::to_xlsx(&edition, &[]).expect("xlsx");
        let parsed = read_with(&SheetXlsx, &bytes, &context_for(&edition));
        assert!(!parsed.report.has_errors(), "{:#?}", parsed.report);
        assert_eq!(parsed.editions[0].edition, edition, "{}", edition.span);
        assert_eq!(
            SheetXlsx.identify(&Source {
                name: "x",
                bytes: &bytes
            }),
            Some(("072052".into(), edition.span.label()))
        );
    }
}

#[test]
fn csv_template_reads_back_as_the_same_edition_in_utf8_and_shift_jis() {
    let edition = r3();
    let bytes = template::to_csv(&edition);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let parsed = read_with(&SheetCsv, &bytes, &context_for(&edition));
    assert!(!parsed.report.has_errors(), "{:#?}", parsed.report);
    assert_eq!(parsed.editions[0].edition, edition);

    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let (sjis, _) = crate::export::csv::encode_shift_jis(&text);
    let mut context = context_for(&edition);
    context.encoding = crate::source::encoding_by_name("sjis");
    let parsed = read_with(&SheetCsv, &sjis, &context);
    assert!(!parsed.report.has_errors(), "{:#?}", parsed.report);
    assert_eq!(parsed.editions[0].edition, edition);
}

/// Writes `grid` as a workbook (sheet 実施計画, plus the instructions sheet when `info` is
/// given), hiding `hidden` rows and merging `merged` ranges.
fn workbook(
    grid: &Grid,
    info: Option<(&str, &str)>,
    hidden: &[u32],
    merged: &[(u32, u16, u32, u16)],
) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(PROJECT_SHEET).expect("name");
    for (r, row) in grid.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match value {
                Value::Empty => {}
                Value::Text(t) => {
                    sheet.write_string(r, c, t).expect("write");
                }
                Value::Number(n) => {
                    sheet.write_number(r, c, *n).expect("write");
                }
                Value::Error(e) => {
                    sheet
                        .write_formula(r, c, Formula::new("=1+\"a\"").set_result(e))
                        .expect("write");
                }
            }
        }
    }
    for r in hidden {
        sheet.set_row_hidden(*r).expect("hide");
    }
    for (r0, c0, r1, c1) in merged {
        let text = grid.rows[*r0 as usize][*c0 as usize].text();
        sheet
            .merge_range(*r0, *c0, *r1, *c1, &text, &rust_xlsxwriter::Format::new())
            .expect("merge");
    }
    if let Some((code, span)) = info {
        let info = book.add_worksheet();
        info.set_name(INFO_SHEET).expect("name");
        info.write_string(2, 0, INFO_CODE).expect("write");
        info.write_string(2, 1, code).expect("write");
        info.write_string(3, 0, INFO_EDITION).expect("write");
        info.write_string(3, 1, span).expect("write");
    }
    book.save_to_buffer().expect("save")
}

/// The template's grid of `edition`.
fn grid_of(edition: &Edition) -> Grid {
    read_xlsx(&template::to_xlsx(edition, &[]).expect("xlsx")).expect("grid")
}

fn column(grid: &Grid, header: &str) -> usize {
    grid.rows[0]
        .iter()
        .position(|v| v.text() == header)
        .unwrap_or_else(|| panic!("no column {header}"))
}

fn errors(parsed: &Parsed) -> Vec<(Code, String)> {
    parsed
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.code, d.position.to_string()))
        .collect()
}

/// Changes the template, reads it back, returns the problems.
fn check(
    change: impl FnOnce(&mut Grid),
    hidden: &[u32],
    merged: &[(u32, u16, u32, u16)],
    context: &Context,
) -> Parsed {
    let edition = &context.base.as_ref().expect("base").edition;
    let mut grid = grid_of(edition);
    change(&mut grid);
    read_with(&SheetXlsx, &workbook(&grid, None, hidden, merged), context)
}

fn set(grid: &mut Grid, row: usize, header: &str, value: Value) {
    let c = column(grid, header);
    grid.rows[row][c] = value;
}

#[test]
fn each_check_points_at_its_cell() {
    let edition = r3();
    let context = context_for(&edition);
    let text = |t: &str| Value::Text(t.to_owned());
    let r3_total = "令和3年度 事業費（千円）";

    let parsed = check(|g| set(g, 2, "施策コード", text("9-9")), &[], &[], &context);
    assert_eq!(
        errors(&parsed),
        [(Code::UnknownPolicy, "実施計画!A3".into())]
    );

    let parsed = check(|g| set(g, 1, "区分", text("見直し")), &[], &[], &context);
    assert_eq!(
        errors(&parsed),
        [(Code::UnknownStatus, "実施計画!F2".into())]
    );

    let parsed = check(|g| set(g, 1, r3_total, text("12,3a4")), &[], &[], &context);
    assert_eq!(errors(&parsed), [(Code::NotANumber, "実施計画!I2".into())]);
    let rendered = parsed.report.diagnostics[0].render("r3.xlsx", Lang::En);
    assert!(
        rendered.starts_with("r3.xlsx:実施計画!I2: error[not-a-number]"),
        "{rendered}"
    );

    let parsed = check(
        |g| set(g, 1, r3_total, Value::Error("#VALUE!".into())),
        &[],
        &[],
        &context,
    );
    assert_eq!(
        errors(&parsed),
        [(Code::FormulaError, "実施計画!I2".into())]
    );

    let parsed = check(
        |g| set(g, 1, r3_total, Value::Number(17_001.0)),
        &[],
        &[],
        &context,
    );
    assert_eq!(errors(&parsed), [(Code::SumMismatch, "実施計画!I2".into())]);

    let parsed = check(
        |g| {
            set(
                g,
                1,
                "令和3年度 うち国庫支出金（千円）",
                Value::Number(700.0),
            )
        },
        &[],
        &[],
        &context,
    );
    assert_eq!(
        errors(&parsed),
        [(Code::BreakdownMismatch, "実施計画!J2".into())]
    );

    let parsed = check(|g| set(g, 1, "事業名", Value::Empty), &[], &[], &context);
    assert_eq!(errors(&parsed), [(Code::MissingName, "実施計画!D2".into())]);

    let parsed = check(|g| set(g, 1, "事業番号", Value::Empty), &[], &[], &context);
    assert_eq!(
        errors(&parsed),
        [(Code::MissingNumber, "実施計画!B2".into())]
    );

    let parsed = check(
        |g| set(g, 1, "事業番号", Value::Number(1.5)),
        &[],
        &[],
        &context,
    );
    assert_eq!(errors(&parsed), [(Code::BadNumber, "実施計画!B2".into())]);

    let parsed = check(
        |g| set(g, 1, "事業番号", Value::Number(2.0)),
        &[],
        &[],
        &context,
    );
    assert_eq!(
        errors(&parsed),
        [(Code::DuplicateNumber, "実施計画!B3".into())]
    );

    let parsed = check(
        |g| set(g, 1, "地方創生事業", text("Ⅲ(x)")),
        &[],
        &[],
        &context,
    );
    assert_eq!(
        errors(&parsed),
        [(Code::BadStrategyCode, "実施計画!G2".into())]
    );

    let parsed = check(
        |g| set(g, 1, "事業ID", text("072052-r2-7-1-99")),
        &[],
        &[],
        &context,
    );
    assert_eq!(errors(&parsed), [(Code::UnknownId, "実施計画!C2".into())]);

    let mut elsewhere = context_for(&edition);
    if let Some(base) = &mut elsewhere.base {
        base.other_ids
            .insert("010006-r3-1-1-1".into(), "010006 北海道 R3-R5".into());
    }
    let parsed = check(
        |g| set(g, 1, "事業ID", text("010006-r3-1-1-1")),
        &[],
        &[],
        &elsewhere,
    );
    assert_eq!(errors(&parsed), [(Code::ForeignId, "実施計画!C2".into())]);
    assert!(
        parsed.report.diagnostics[0]
            .message(Lang::En)
            .contains("010006 北海道 R3-R5")
    );

    let parsed = check(|_| {}, &[4], &[], &context);
    assert_eq!(errors(&parsed), [(Code::HiddenRow, "実施計画!A5".into())]);

    let parsed = check(|_| {}, &[], &[(2, 7, 3, 7)], &context);
    assert!(
        errors(&parsed).contains(&(Code::MergedCells, "実施計画!H3".into())),
        "{:?}",
        errors(&parsed)
    );

    let parsed = check(
        |g| {
            let copy = g.rows[3].clone();
            g.rows.insert(4, copy);
        },
        &[],
        &[],
        &context,
    );
    assert_eq!(
        errors(&parsed),
        [(Code::DuplicateRow, "実施計画!A5".into())]
    );

    let parsed = check(
        |g| set(g, 1, r3_total, Value::Number(-17_000.0)),
        &[],
        &[],
        &context,
    );
    assert!(
        errors(&parsed).contains(&(Code::NegativeAmount, "実施計画!I2".into())),
        "{:?}",
        errors(&parsed)
    );

    let parsed = check(|g| g.rows[0][1] = text("番号"), &[], &[], &context);
    assert_eq!(errors(&parsed), [(Code::BadHeader, "実施計画!A1".into())]);

    let parsed = check(
        |g| {
            let c = column(g, r3_total);
            g.rows[0][c] = text("令和2年度 事業費（千円）");
        },
        &[],
        &[],
        &context,
    );
    // The renamed column is outside the edition, and R3 is left without its 事業費 column.
    assert_eq!(
        errors(&parsed),
        [
            (Code::YearOutsideEdition, "実施計画!I1".into()),
            (Code::BadHeader, "実施計画!J1".into())
        ]
    );
}

#[test]
fn a_sheet_made_for_another_edition_is_refused() {
    let edition = r3();
    let grid = grid_of(&edition);
    let bytes = workbook(&grid, Some(("072052", "R2-R4")), &[], &[]);
    let parsed = read_with(&SheetXlsx, &bytes, &context_for(&edition));
    assert_eq!(
        errors(&parsed),
        [(Code::EditionMismatch, "記入方法!B4".into())]
    );
    let bytes = workbook(&grid, Some(("130001", "R3-R5")), &[], &[]);
    let parsed = read_with(&SheetXlsx, &bytes, &context_for(&edition));
    assert_eq!(
        errors(&parsed),
        [(Code::EditionMismatch, "記入方法!B3".into())]
    );
    let parsed = read_with(
        &SheetXlsx,
        &template::to_xlsx(&edition, &[]).expect("xlsx"),
        &Context::default(),
    );
    assert_eq!(errors(&parsed), [(Code::MissingEdition, String::new())]);
}

#[test]
fn amounts_in_yen_are_suspected() {
    let previous = seed();
    let mut edition = roll(&previous, EditionSpan::parse("R3-R5").expect("span")).expect("roll");
    // Every project's R3 amount typed in 円: 1,000 times its R2 amount in 千円.
    for (_, project) in previous.projects() {
        let Some(total) = project.costs[0].total.filter(|m| *m > Money::ZERO) else {
            continue;
        };
        let target = edition.goals[0]
            .policies
            .iter_mut()
            .flat_map(|p| p.projects.iter_mut())
            .find(|p| p.id == project.id)
            .expect("carried");
        target.costs = vec![crate::model::YearCost {
            year: year(2021),
            total: Some(Money::from_thousand_yen(total.thousand_yen() * 1_000)),
            earmarked: Some(Money::ZERO),
            general: Some(Money::from_thousand_yen(total.thousand_yen() * 1_000)),
            earmarked_breakdown: Vec::new(),
        }];
    }
    let mut context = context_for(&edition);
    if let Some(base) = &mut context.base {
        base.previous = Some(previous.clone());
    }
    let parsed = read_with(
        &SheetXlsx,
        &template::to_xlsx(&edition, &[]).expect("xlsx"),
        &context,
    );
    assert!(!parsed.report.has_errors(), "{:?}", errors(&parsed));
    let warnings: Vec<Code> = parsed.report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(warnings, [Code::YenNotThousandYen]);
    assert_eq!(parsed.report.diagnostics[0].position, Position::File);

    // The same amounts in 千円 raise nothing.
    if let Some(base) = &mut context.base {
        base.previous = Some(previous);
    }
    let parsed = read_with(
        &SheetXlsx,
        &template::to_xlsx(&r3(), &[]).expect("xlsx"),
        &context_for(&r3()),
    );
    assert!(parsed.report.diagnostics.is_empty(), "{:?}", parsed.report);
}

#[test]
fn new_rows_get_ids_and_missing_rows_end() {
    let edition = r3();
    let mut grid = grid_of(&edition);
    grid.rows.remove(2); // 7-1-2 ends
    let mut new_row = grid.rows[1].clone();
    new_row[column(&grid, "事業番号")] = Value::Number(11.0);
    new_row[column(&grid, "事業ID")] = Value::Empty;
    new_row[column(&grid, "事業名")] = Value::Text("新しい事業".into());
    grid.rows.push(new_row);
    let parsed = read_with(
        &SheetXlsx,
        &workbook(&grid, None, &[], &[]),
        &context_for(&edition),
    );
    assert!(!parsed.report.has_errors(), "{:?}", errors(&parsed));
    let policy = &parsed.editions[0].edition.goals[0].policies[0];
    let numbers: Vec<u32> = policy.projects.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    let added = policy.projects.last().expect("new");
    assert_eq!(
        added.id.as_str(),
        "072052-r3-7-1-11",
        "a new id from this edition"
    );
    assert_eq!(added.name, "新しい事業");
}
