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
use crate::sheet::grid::{Grid, Value, read_xlsx, read_xlsx_sheet_with};
use crate::sheet::{INFO_CODE, INFO_EDITION, INFO_SHEET, PROJECT_SHEET, STRUCTURE_SHEET, template};
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
    // No.2 is still 7-1-2's, whose row the sheet does not change: the changed row is told so.
    assert_eq!(
        errors(&parsed),
        [(Code::DuplicateNumber, "実施計画!B2".into())]
    );
    assert!(
        parsed.report.diagnostics[0]
            .message(Lang::En)
            .contains("7-1 No.2"),
        "{:?}",
        parsed.report.diagnostics[0]
    );
    // Two changed rows with one number: the common check finds it.
    let parsed = check(
        |g| {
            set(g, 1, "事業番号", Value::Number(12.0));
            set(g, 2, "事業番号", Value::Number(12.0));
        },
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

    // The notations towns write are read as in their own workbooks: Ⅱ-1, 3-4, full width.
    let parsed = check(
        |g| set(g, 1, "地方創生事業", text("Ⅱ-1、３（４）")),
        &[],
        &[],
        &context,
    );
    assert_eq!(errors(&parsed), []);
    let codes: Vec<String> = parsed.editions[0]
        .edition
        .projects()
        .next()
        .map(|(_, p)| p.strategies.iter().map(|s| s.code.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["Ⅱ(1)", "Ⅲ(4)"]);

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

/// The seed rolled into R3–R5 (no R3–R5 amounts yet), with the seed as the previous edition.
fn rolled_context() -> (Edition, Context) {
    let previous = seed();
    let edition = roll(&previous, EditionSpan::parse("R3-R5").expect("span")).expect("roll");
    let mut context = context_for(&edition);
    if let Some(base) = &mut context.base {
        base.previous = Some(previous);
    }
    (edition, context)
}

/// Fills the R3 amounts of `rows` (0-based sheet rows) with each project's R2 amount from the
/// seed times `factor`, all of it general funding.
fn fill_r3(grid: &mut Grid, factor: i64, rows: impl Fn(usize) -> bool) {
    let seed = seed();
    let id_column = column(grid, "事業ID");
    for r in 1..grid.rows.len() {
        if !rows(r) {
            continue;
        }
        let id = grid.rows[r][id_column].text();
        let Some((_, project)) = seed.projects().find(|(_, p)| p.id.as_str() == id) else {
            continue;
        };
        let Some(total) = project.costs[0].total.map(Money::thousand_yen) else {
            continue;
        };
        let value = (total * factor) as f64;
        set(grid, r, "令和3年度 事業費（千円）", Value::Number(value));
        set(grid, r, "令和3年度 特定財源（千円）", Value::Number(0.0));
        set(grid, r, "令和3年度 一般財源（千円）", Value::Number(value));
    }
}

#[test]
fn amounts_in_yen_are_suspected() {
    let (edition, context) = rolled_context();
    let read = |grid: &Grid| read_with(&SheetXlsx, &workbook(grid, None, &[], &[]), &context);

    // Every project's R3 amount typed in 円: 1,000 times its R2 amount in 千円. The sheet as a
    // whole is refused, and each amount is pointed at.
    let mut grid = grid_of(&edition);
    fill_r3(&mut grid, 1_000, |_| true);
    let parsed = read(&grid);
    let file_errors: Vec<_> = parsed
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(file_errors.len(), 1, "{:?}", errors(&parsed));
    assert_eq!(file_errors[0].code, Code::YenNotThousandYen);
    assert_eq!(file_errors[0].position, Position::File);
    let cells: Vec<String> = parsed
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning && d.code == Code::YenNotThousandYen)
        .map(|d| d.position.to_string())
        .collect();
    // The seed's projects with a positive R2 事業費 (7-6 No.1–4 are dashes).
    let priced = seed()
        .projects()
        .filter(|(_, p)| p.costs[0].total.is_some_and(|m| m > Money::ZERO))
        .count();
    assert_eq!(cells.len(), priced, "{cells:?}");
    assert!(cells.contains(&"実施計画!I2".to_owned()), "{cells:?}");

    // One project (7-1-3, row 4) in 円, the rest in 千円: a warning at its cell only.
    let mut grid = grid_of(&edition);
    fill_r3(&mut grid, 1, |r| r != 3);
    fill_r3(&mut grid, 1_000, |r| r == 3);
    let parsed = read(&grid);
    assert!(!parsed.report.has_errors(), "{:?}", errors(&parsed));
    let warnings: Vec<(Code, String)> = parsed
        .report
        .diagnostics
        .iter()
        .map(|d| (d.code, d.position.to_string()))
        .collect();
    assert_eq!(warnings, [(Code::YenNotThousandYen, "実施計画!I4".into())]);

    // The same amounts in 千円 raise nothing.
    let mut grid = grid_of(&edition);
    fill_r3(&mut grid, 1, |_| true);
    let parsed = read(&grid);
    assert!(parsed.report.diagnostics.is_empty(), "{:?}", parsed.report);
}

/// Sets the cells of row `r` (values by header) in a grid.
fn fill(grid: &mut Grid, r: usize, values: &[(&str, Value)]) {
    for (header, value) in values {
        set(grid, r, header, value.clone());
    }
}

fn stored_in(parsed: &Parsed) -> &Edition {
    assert!(!parsed.report.has_errors(), "{:?}", errors(parsed));
    &parsed.editions[0].edition
}

#[test]
fn new_rows_get_ids_missing_rows_stay_and_marked_rows_leave() {
    let edition = r3();
    let mut grid = grid_of(&edition);
    let remove = column(&grid, "計画から外す");
    grid.rows[3][remove] = Value::Text("○".into()); // 7-1-3 leaves
    grid.rows.remove(2); // 7-1-2's row deleted: it stays
    let mut new_row = grid.rows[1].clone();
    new_row[column(&grid, "事業番号")] = Value::Number(11.0);
    new_row[column(&grid, "事業ID")] = Value::Empty;
    new_row[column(&grid, "版")] = Value::Empty;
    new_row[column(&grid, "事業名")] = Value::Text("新しい事業".into());
    grid.rows.push(new_row);
    let parsed = read_with(
        &SheetXlsx,
        &workbook(&grid, None, &[], &[]),
        &context_for(&edition),
    );
    let merged = stored_in(&parsed);
    let policy = &merged.goals[0].policies[0];
    let numbers: Vec<u32> = policy.projects.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    let added = policy.projects.last().expect("new");
    assert_eq!(
        added.id.as_str(),
        "072052-r3-7-1-11",
        "a new id from this edition"
    );
    assert_eq!(added.name, "新しい事業");
    let changes = parsed.editions[0].changes.clone().expect("changes");
    assert_eq!(changes.added, ["7-1 No.11 新しい事業"]);
    assert_eq!(changes.removed.len(), 1);
    assert!(changes.removed[0].starts_with("7-1 No.3 "), "{changes:?}");
    assert!(changes.updated.is_empty(), "{changes:?}");
    assert_eq!(changes.not_in_sheet, 1);
    assert_eq!(changes.unchanged, edition.projects().count() - 2);
}

/// The lost update found by a trial: two departments fill copies of one template; the second,
/// made before the first was imported, must not undo the first department's work.
#[test]
fn a_stale_copy_changes_only_its_own_rows_and_refuses_conflicts() {
    let made_from = r3();
    let template = grid_of(&made_from);
    let r3_total = "令和3年度 事業費（千円）";
    let r3_earmarked = "令和3年度 特定財源（千円）";
    let r3_general = "令和3年度 一般財源（千円）";

    // Department A (copy 1): renames 7-1-2, sets R3 of 7-1-4, adds 7-2 No.9.
    let mut first = template.clone();
    fill(
        &mut first,
        2,
        &[("事業名", Value::Text("改名した事業".into()))],
    );
    fill(
        &mut first,
        4,
        &[
            (r3_total, Value::Number(300.0)),
            (r3_earmarked, Value::Number(100.0)),
            (r3_general, Value::Number(200.0)),
        ],
    );
    let mut added = first.rows[1].clone();
    added[column(&first, "施策コード")] = Value::Text("7-2".into());
    added[column(&first, "事業番号")] = Value::Number(9.0);
    added[column(&first, "事業ID")] = Value::Empty;
    added[column(&first, "版")] = Value::Empty;
    added[column(&first, "事業名")] = Value::Text("Aが追加した事業".into());
    first.rows.push(added);
    let parsed = read_with(
        &SheetXlsx,
        &workbook(&first, None, &[], &[]),
        &context_for(&made_from),
    );
    let after_first = stored_in(&parsed).clone();
    assert_eq!(
        parsed.editions[0]
            .changes
            .as_ref()
            .expect("changes")
            .updated
            .len(),
        2
    );

    // Department B (copy 2, made before A's import): changes 7-1-6 only.
    let mut second = template.clone();
    fill(
        &mut second,
        6,
        &[("事業概要", Value::Text("Bが書き直した概要".into()))],
    );
    let parsed = read_with(
        &SheetXlsx,
        &workbook(&second, None, &[], &[]),
        &context_for(&after_first),
    );
    let after_second = stored_in(&parsed);
    let project = |e: &Edition, id: &str| {
        e.projects()
            .find(|(_, p)| p.id.as_str() == id)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    // A's work survives: the rename, the amounts, the new project.
    assert_eq!(
        project(after_second, "072052-r2-7-1-2").name,
        "改名した事業"
    );
    assert_eq!(
        project(after_second, "072052-r2-7-1-4")
            .cost(year(2021))
            .and_then(|c| c.total),
        Some(Money::from_thousand_yen(300))
    );
    assert!(
        after_second
            .projects()
            .any(|(_, p)| p.name == "Aが追加した事業"),
        "A's new project was dropped"
    );
    // B's change is applied.
    assert_eq!(
        project(after_second, "072052-r2-7-1-6").summary,
        "Bが書き直した概要"
    );
    let changes = parsed.editions[0].changes.clone().expect("changes");
    assert_eq!(changes.updated.len(), 1, "{changes:?}");
    assert!(
        changes.added.is_empty() && changes.removed.is_empty(),
        "{changes:?}"
    );

    // Department C (another stale copy) changes 7-1-2's name and 7-1-4's R3 too: both rows
    // changed in the database since. Refused, naming both values; nothing is merged.
    let mut third = template.clone();
    fill(&mut third, 2, &[("事業名", Value::Text("Cの名前".into()))]);
    fill(
        &mut third,
        4,
        &[
            (r3_total, Value::Number(900.0)),
            (r3_earmarked, Value::Number(0.0)),
            (r3_general, Value::Number(900.0)),
        ],
    );
    let parsed = read_with(
        &SheetXlsx,
        &workbook(&third, None, &[], &[]),
        &context_for(after_second),
    );
    assert_eq!(
        errors(&parsed),
        [
            (Code::StaleRow, "実施計画!D3".into()),
            (Code::StaleRow, "実施計画!I5".into())
        ]
    );
    let message = parsed.report.diagnostics[0].render("dept-c.xlsx", Lang::Ja);
    assert!(
        message.starts_with("dept-c.xlsx:実施計画!D3: error[stale-row]: ")
            && message.contains("保存済み「改名した事業」")
            && message.contains("シート「Cの名前」"),
        "{message}"
    );
    let amounts = parsed.report.diagnostics[1].message(Lang::En);
    assert!(
        amounts.contains("stored 300") && amounts.contains("sheet 900"),
        "{amounts}"
    );
}

/// A row of a project that another import took out of the edition names that cause (it once
/// read "belongs to 072052 R2-R4", the previous edition that holds the same id).
#[test]
fn a_row_of_a_project_taken_out_since_says_so() {
    let made_from = r3();
    let template = grid_of(&made_from);
    let mut without = made_from.clone();
    without.goals[0].policies[0].projects.remove(1); // 7-1-2 taken out by another import
    let mut context = context_for(&without);
    if let Some(base) = &mut context.base {
        base.other_ids
            .insert("072052-r2-7-1-2".into(), "072052 白河市 R2-R4".into());
    }
    // Unchanged in this copy: ignored, the project stays out.
    let parsed = read_with(&SheetXlsx, &workbook(&template, None, &[], &[]), &context);
    let merged = stored_in(&parsed);
    assert_eq!(merged.projects().count(), without.projects().count());
    assert_eq!(
        parsed.editions[0]
            .changes
            .as_ref()
            .expect("changes")
            .gone
            .len(),
        1
    );
    // Changed in this copy: refused with the real cause, not foreign-id.
    let mut changed = template.clone();
    fill(
        &mut changed,
        2,
        &[("事業名", Value::Text("変えた名前".into()))],
    );
    let parsed = read_with(&SheetXlsx, &workbook(&changed, None, &[], &[]), &context);
    assert_eq!(errors(&parsed), [(Code::StaleRow, "実施計画!C3".into())]);
    let message = parsed.report.diagnostics[0].message(Lang::En);
    assert!(
        message.contains("taken out of this edition by another import"),
        "{message}"
    );
}

#[test]
fn version_cells_are_checked() {
    let edition = r3();
    let context = context_for(&edition);
    let parsed = check(|g| set(g, 1, "版", Value::Empty), &[], &[], &context);
    let version_cell = {
        let grid = grid_of(&edition);
        crate::sheet::cell_name(1, column(&grid, "版"))
    };
    assert_eq!(
        errors(&parsed),
        [(Code::BadVersion, format!("実施計画!{version_cell}"))]
    );
    let parsed = check(
        |g| set(g, 1, "版", Value::Text("hello".into())),
        &[],
        &[],
        &context,
    );
    assert_eq!(
        errors(&parsed),
        [(Code::BadVersion, format!("実施計画!{version_cell}"))]
    );
    // A sheet without the 版 column is refused.
    let parsed = check(
        |g| {
            let c = column(g, "版");
            for row in &mut g.rows {
                if row.len() > c {
                    row.remove(c);
                }
            }
        },
        &[],
        &[],
        &context,
    );
    assert!(
        errors(&parsed).contains(&(Code::BadHeader, "実施計画!A1".into())),
        "{:?}",
        errors(&parsed)
    );
    // An unknown mark in 計画から外す.
    let parsed = check(
        |g| set(g, 1, "計画から外す", Value::Text("たぶん".into())),
        &[],
        &[],
        &context,
    );
    assert_eq!(errors(&parsed).len(), 1, "{:?}", errors(&parsed));
}

/// Writes a whole planning workbook: the projects sheet, the instructions sheet's key-value
/// pairs, and the structure sheet.
fn full_workbook(projects: &Grid, info: &[(String, String)], structure: &Grid) -> Vec<u8> {
    fn write(sheet: &mut rust_xlsxwriter::Worksheet, grid: &Grid) {
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
                        sheet.write_string(r, c, e).expect("write");
                    }
                }
            }
        }
    }
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(PROJECT_SHEET).expect("name");
    write(sheet, projects);
    let sheet = book.add_worksheet();
    sheet.set_name(INFO_SHEET).expect("name");
    for (r, (key, value)) in info.iter().enumerate() {
        sheet.write_string(r as u32, 0, key).expect("write");
        sheet.write_string(r as u32, 1, value).expect("write");
    }
    let sheet = book.add_worksheet();
    sheet.set_name(STRUCTURE_SHEET).expect("name");
    write(sheet, structure);
    book.save_to_buffer().expect("save")
}

/// The template of `edition`: its projects grid, instructions and structure grid.
fn template_parts(edition: &Edition) -> (Grid, Vec<(String, String)>, Grid) {
    let bytes = template::to_xlsx(edition, &[]).expect("xlsx");
    let grid = read_xlsx(&bytes).expect("grid");
    let info = grid
        .info
        .iter()
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let structure = read_xlsx_sheet_with(&bytes, &Default::default(), STRUCTURE_SHEET)
        .expect("read")
        .expect("structure sheet");
    (grid, info, structure)
}

fn structure_row(cells: [&str; 6]) -> Vec<Value> {
    cells
        .iter()
        .map(|c| {
            if c.is_empty() {
                Value::Empty
            } else {
                Value::Text((*c).to_owned())
            }
        })
        .collect()
}

/// The context of the planning office's import of a workbook made from `edition`: structure
/// sheet applied.
fn planning_context(edition: &Edition) -> Context {
    Context {
        structure_edits: true,
        ..context_for(edition)
    }
}

fn kagamiishi() -> Edition {
    template::blank_edition(
        Municipality {
            code: MunicipalityCode::parse("073423").expect("code"),
            name: "鏡石町".into(),
        },
        EditionSpan::parse("R6-R8").expect("span"),
    )
}

/// A project row of the blank workbook: policy, number, name, R6 total, 特定財源, 一般財源.
fn project_row(grid: &Grid, policy: &str, number: f64, name: &str, r6: [f64; 3]) -> Vec<Value> {
    let mut row = vec![Value::Empty; grid.rows[0].len()];
    let at = |header: &str| column(grid, header);
    row[at("施策コード")] = Value::Text(policy.into());
    row[at("事業番号")] = Value::Number(number);
    row[at("事業名")] = Value::Text(name.into());
    row[at("区分")] = Value::Text("新規".into());
    row[at("担当課")] = Value::Text("企画財政課".into());
    row[at("令和6年度 事業費（千円）")] = Value::Number(r6[0]);
    row[at("令和6年度 特定財源（千円）")] = Value::Number(r6[1]);
    row[at("令和6年度 一般財源（千円）")] = Value::Number(r6[2]);
    row
}

/// The blank structure and projects a town fills in: two goals, three policies, four
/// projects.
fn filled_blank() -> (Grid, Vec<(String, String)>, Grid) {
    let (mut projects, info, mut structure) = template_parts(&kagamiishi());
    assert_eq!(projects.rows.len(), 1, "only the header");
    assert_eq!(structure.rows.len(), 1, "only the header");
    structure.rows.extend([
        structure_row(["1", "安心して暮らせるまち", "健康・福祉分野", "", "", ""]),
        structure_row(["1", "", "", "1-1", "子育て支援", "子どもが健やかに育つまち"]),
        structure_row(["1", "", "", "1-2", "高齢者福祉", ""]),
        structure_row(["2", "活力あるまち", "産業分野", "", "", ""]),
        structure_row(["", "", "", "2-1", "農業の振興", "農業が続くまち"]),
    ]);
    let rows = [
        project_row(&projects, "1-1", 1.0, "保育所運営", [1_000.0, 400.0, 600.0]),
        project_row(&projects, "1-1", 2.0, "子育て相談", [500.0, 0.0, 500.0]),
        project_row(&projects, "1-2", 1.0, "見守り事業", [300.0, 100.0, 200.0]),
        project_row(&projects, "2-1", 1.0, "農地保全", [2_000.0, 1_500.0, 500.0]),
    ];
    projects.rows.extend(rows);
    (projects, info, structure)
}

fn r6_totals(edition: &Edition) -> Vec<(String, i64)> {
    edition
        .policies()
        .map(|p| {
            let total = p
                .projects
                .iter()
                .filter_map(|j| j.cost(year(2024)).and_then(|c| c.total))
                .map(Money::thousand_yen)
                .sum();
            (p.code.to_string(), total)
        })
        .collect()
}

#[test]
fn a_filled_blank_workbook_creates_the_edition_as_a_draft() {
    let blank = kagamiishi();
    let (projects, info, structure) = filled_blank();
    let bytes = full_workbook(&projects, &info, &structure);
    let (municipality, span) = super::blank_identity(&bytes).expect("identity");
    assert_eq!(
        (municipality.code.as_str(), municipality.name.as_str()),
        ("073423", "鏡石町")
    );
    assert_eq!(span.label(), "R6-R8");
    let parsed = read_with(&SheetXlsx, &bytes, &planning_context(&blank));
    let edition = stored_in(&parsed);
    assert_eq!(edition.state, crate::model::EditionState::Draft);
    let goals: Vec<(u32, &str, &str)> = edition
        .goals
        .iter()
        .map(|g| (g.number, g.title.as_str(), g.field.as_str()))
        .collect();
    assert_eq!(
        goals,
        [
            (1, "安心して暮らせるまち", "健康・福祉分野"),
            (2, "活力あるまち", "産業分野")
        ]
    );
    assert_eq!(
        edition.goals[0].policies[0].vision,
        "子どもが健やかに育つまち"
    );
    // By hand: 1-1 = 1,000 + 500; 1-2 = 300; 2-1 = 2,000.
    assert_eq!(
        r6_totals(edition),
        [
            ("1-1".into(), 1_500),
            ("1-2".into(), 300),
            ("2-1".into(), 2_000)
        ]
    );
    assert_eq!(
        edition.goals[0].policies[0].projects[1].id.as_str(),
        "073423-r6-1-1-2"
    );
    let changes = parsed.editions[0].changes.clone().expect("changes");
    assert_eq!(changes.added.len(), 4);
    assert_eq!(
        changes.structure,
        ["goal.1", "goal.2", "policy.1-1", "policy.1-2", "policy.2-1"]
    );
}

#[test]
fn a_bad_structure_is_pointed_at_its_cell() {
    let blank = kagamiishi();
    let context = planning_context(&blank);
    let read = |change: &dyn Fn(&mut Grid, &mut Grid)| {
        let (mut projects, info, mut structure) = filled_blank();
        change(&mut projects, &mut structure);
        read_with(
            &SheetXlsx,
            &full_workbook(&projects, &info, &structure),
            &context,
        )
    };
    // The blank workbook as written: nothing to create.
    let (projects, info, structure) = template_parts(&blank);
    let parsed = read_with(
        &SheetXlsx,
        &full_workbook(&projects, &info, &structure),
        &context,
    );
    assert_eq!(errors(&parsed), [(Code::EmptyFile, "施策体系!D1".into())]);
    // Row 7 is a policy of goal 3, which has no row.
    let parsed = read(&|p, s| {
        s.rows.push(structure_row(["", "", "", "3-1", "観光", ""]));
        p.rows
            .push(project_row(p, "3-1", 1.0, "観光案内", [10.0, 0.0, 10.0]));
    });
    let found = errors(&parsed);
    assert!(
        found.contains(&(Code::PolicyGoalMismatch, "施策体系!D7".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(Code::UnknownPolicy, "実施計画!A6".into())),
        "the project row of the unknown policy: {found:?}"
    );
    // 1-1 twice: the second row (7) is the error.
    let parsed = read(&|_, s| {
        s.rows.push(structure_row([
            "1",
            "",
            "",
            "1-1",
            "子育て支援（再掲）",
            "",
        ]));
    });
    assert_eq!(
        errors(&parsed),
        [(Code::DuplicatePolicy, "施策体系!D7".into())]
    );
    // A policy row whose 基本目標番号 disagrees with its code: the policy (1-2) is not read,
    // so its project's row (4) names an unknown policy too.
    let parsed = read(&|_, s| s.rows[3][0] = Value::Text("2".into()));
    assert_eq!(
        errors(&parsed),
        [
            (Code::UnknownPolicy, "実施計画!A4".into()),
            (Code::PolicyGoalMismatch, "施策体系!A4".into())
        ]
    );
}

#[test]
fn structure_edits_are_applied_and_listed() {
    let edition = r3();
    let (mut projects, info, mut structure) = template_parts(&edition);
    // Row 3 is policy 7-1 (row 2 is goal 7).
    assert_eq!(structure.rows[2][3].text(), "7-1");
    structure.rows[2][4] = Value::Text("協働のまちづくり".into());
    structure.rows[1][2] = Value::Text("行財政分野".into());
    structure.rows.push(structure_row([
        "7",
        "",
        "",
        "7-9",
        "デジタル化の推進",
        "便利な市役所",
    ]));
    let mut row = projects.rows[1].clone();
    row[column(&projects, "施策コード")] = Value::Text("7-9".into());
    row[column(&projects, "事業番号")] = Value::Number(1.0);
    row[column(&projects, "事業ID")] = Value::Empty;
    row[column(&projects, "版")] = Value::Empty;
    row[column(&projects, "事業名")] = Value::Text("電子申請".into());
    projects.rows.push(row);
    let parsed = read_with(
        &SheetXlsx,
        &full_workbook(&projects, &info, &structure),
        &planning_context(&edition),
    );
    let merged = stored_in(&parsed);
    let goal = &merged.goals[0];
    assert_eq!(goal.field, "行財政分野");
    assert_eq!(goal.policies[0].title, "協働のまちづくり");
    let added = goal.policies.last().expect("7-9");
    assert_eq!(
        (
            added.code.to_string().as_str(),
            added.title.as_str(),
            added.projects.len()
        ),
        ("7-9", "デジタル化の推進", 1)
    );
    // Every stored project stays in its policy.
    assert_eq!(merged.projects().count(), edition.projects().count() + 1);
    let changes = parsed.editions[0].changes.clone().expect("changes");
    assert_eq!(
        changes.structure,
        ["goal.7.field", "policy.7-1.title", "policy.7-9"]
    );

    // Without structure edits (a department's upload), the structure stays and a warning
    // says so; the row of the policy the sheet added names an unknown policy.
    let parsed = read_with(
        &SheetXlsx,
        &full_workbook(&projects, &info, &structure),
        &context_for(&edition),
    );
    let new_row = projects.rows.len();
    assert_eq!(
        errors(&parsed),
        [(Code::UnknownPolicy, format!("実施計画!A{new_row}"))]
    );
    assert!(
        parsed
            .report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::IgnoredCell && d.position.to_string() == "施策体系!D1"),
        "{:?}",
        parsed.report
    );
}

#[test]
fn a_policy_still_used_cannot_be_removed_and_stale_structures_are_refused() {
    let edition = r3();
    let (projects, info, mut structure) = template_parts(&edition);
    // Row 4 is 7-2, whose projects are on the projects sheet.
    assert_eq!(structure.rows[3][3].text(), "7-2");
    let first_72 = projects
        .rows
        .iter()
        .position(|r| r[0].text() == "7-2")
        .expect("a 7-2 row");
    structure.rows.remove(3);
    let parsed = read_with(
        &SheetXlsx,
        &full_workbook(&projects, &info, &structure),
        &planning_context(&edition),
    );
    let found = errors(&parsed);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|(code, _)| *code == Code::UnknownPolicy),
        "{found:?}"
    );
    assert_eq!(found[0].1, format!("実施計画!A{}", first_72 + 1));

    // Someone renamed 7-1 after this workbook was made, and the workbook renames 7-3.
    let (projects, info, mut structure) = template_parts(&edition);
    let mut moved_on = edition.clone();
    moved_on.goals[0].policies[0].title = "別の名前".into();
    structure.rows[4][4] = Value::Text("交流の推進".into());
    let parsed = read_with(
        &SheetXlsx,
        &full_workbook(&projects, &info, &structure),
        &planning_context(&moved_on),
    );
    assert_eq!(errors(&parsed), [(Code::StaleRow, "施策体系!D3".into())]);
    // Unchanged in the workbook: the other rename stays.
    let (projects, info, structure) = template_parts(&edition);
    let parsed = read_with(
        &SheetXlsx,
        &full_workbook(&projects, &info, &structure),
        &planning_context(&moved_on),
    );
    assert_eq!(stored_in(&parsed).goals[0].policies[0].title, "別の名前");

    // A filled blank workbook for an edition stored meanwhile says so at the structure sheet.
    let (projects, info, structure) = filled_blank();
    let mut stored = kagamiishi();
    stored.goals = edition.goals.clone();
    let parsed = read_with(
        &SheetXlsx,
        &full_workbook(&projects, &info, &structure),
        &planning_context(&stored),
    );
    let found = errors(&parsed);
    assert!(
        found.contains(&(Code::StaleRow, "施策体系!D1".into())),
        "{found:?}"
    );
}
