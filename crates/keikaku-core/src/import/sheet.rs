//! Reads the planning office's spreadsheet (xlsx or CSV, see [`crate::sheet`]) into a stored
//! edition. The edition keeps its goals and policies; the sheet's rows are merged into its
//! projects: a row changes its project only where the sheet changed it since the sheet was made
//! (each row carries the 版 it was written with), a row without a 事業ID adds a project, a row
//! marked 計画から外す takes its project out, and a project the sheet has no row for stays as
//! it is. A row changed both in the sheet and, meanwhile, in the database is a conflict
//! (`stale-row`) reported with both values, so that two departments filling copies of one
//! template never undo each other's work.
//!
//! Every problem points at its cell (`file.xlsx:実施計画!F12`, or `file.csv:12:6` for CSV):
//! the checks common to every layout, plus what only a spreadsheet can get wrong: a policy the
//! edition does not have, an id from another edition or one edited by hand, a failed formula,
//! hidden rows, merged cells, a row pasted twice, amounts that look like 円 instead of 千円.
//!
//! An xlsx workbook also carries the structure sheet (施策体系, see [`structure`]): goals and
//! policies it adds or changes are merged before the projects are. A blank workbook
//! (`keikaku template --blank`) is read the same way against an empty edition
//! ([`blank_identity`]), which importing then creates as a draft.

use std::collections::{HashMap, HashSet};

use super::{Base, Context, Layout, Parsed, ReadEdition};
use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, FundingKind, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::{Money, Unit, parse_amount};
use crate::sheet::grid::{
    Grid, Value, looks_like_xlsx, read_csv_with, read_xlsx, read_xlsx_sheet_with, read_xlsx_with,
};
use crate::sheet::{
    AmountField, Column, INFO_CODE, INFO_EDITION, INFO_NAME, STRUCTURE_SHEET, is_remove_mark,
    is_row_version, row_version, split_list,
};
use crate::source::{Source, decode_text};
use crate::status::Status;
use crate::strategy::{StrategyCode, StrategyLink, split_codes};
use crate::validate::{Field, GoalMap, PolicyMap, ProjectMap, SourceMap};

/// The spreadsheet as an Excel workbook.
pub struct SheetXlsx;

/// The spreadsheet as CSV.
pub struct SheetCsv;

impl Layout for SheetXlsx {
    fn name(&self) -> &'static str {
        "sheet-xlsx"
    }

    fn description(&self) -> &'static str {
        "keikaku's spreadsheet as xlsx (keikaku template): updates a stored edition"
    }

    fn sniff(&self, source: &Source<'_>, _context: &Context) -> bool {
        looks_like_xlsx(source.bytes)
    }

    fn names_municipality(&self) -> bool {
        true
    }

    fn updates_existing(&self) -> bool {
        true
    }

    fn identify(&self, source: &Source<'_>) -> Option<(String, String)> {
        let grid = read_xlsx(source.bytes).ok()?;
        let code = grid.info(INFO_CODE)?.0.to_owned();
        let edition = grid.info(INFO_EDITION)?.0.to_owned();
        Some((code, edition))
    }

    fn read(&self, source: &Source<'_>, context: &Context) -> Parsed {
        let structure = read_xlsx_sheet_with(source.bytes, &context.limits, STRUCTURE_SHEET);
        match (read_xlsx_with(source.bytes, &context.limits), structure) {
            (Ok(grid), Ok(structure)) => read_grid(&grid, structure.as_ref(), context),
            (Err(diagnostic), _) | (_, Err(diagnostic)) => failed(diagnostic),
        }
    }
}

/// For a workbook `keikaku template --blank` wrote (or any workbook with a structure sheet),
/// the municipality and edition its instructions sheet names: what importing it creates when
/// that edition is not stored yet. `None` when the workbook names no valid municipality,
/// name and edition, or has no structure sheet.
pub fn blank_identity(bytes: &[u8]) -> Option<(crate::municipality::Municipality, EditionSpan)> {
    let grid = read_xlsx(bytes).ok()?;
    let code = crate::municipality::MunicipalityCode::parse(grid.info(INFO_CODE)?.0).ok()?;
    let name = grid.info(INFO_NAME)?.0.trim().to_owned();
    let span = EditionSpan::parse(grid.info(INFO_EDITION)?.0)?;
    let limits = crate::sheet::workbook::Limits::default();
    read_xlsx_sheet_with(bytes, &limits, STRUCTURE_SHEET).ok()??;
    (!name.is_empty()).then_some((crate::municipality::Municipality { code, name }, span))
}

impl Layout for SheetCsv {
    fn name(&self) -> &'static str {
        "sheet-csv"
    }

    fn description(&self) -> &'static str {
        "keikaku's spreadsheet as CSV, UTF-8 or Shift_JIS (keikaku template --format csv): updates a stored edition"
    }

    fn sniff(&self, source: &Source<'_>, context: &Context) -> bool {
        match decode_text(source.bytes, context.encoding) {
            Ok(text) => text
                .lines()
                .next()
                .is_some_and(|first| first.contains("施策コード") && first.contains("事業名")),
            Err(_) => false,
        }
    }

    fn names_municipality(&self) -> bool {
        true
    }

    fn updates_existing(&self) -> bool {
        true
    }

    fn read(&self, source: &Source<'_>, context: &Context) -> Parsed {
        match read_csv_with(source.bytes, context.encoding, &context.limits) {
            Ok(grid) => read_grid(&grid, None, context),
            Err(diagnostic) => failed(diagnostic),
        }
    }
}

fn failed(diagnostic: Diagnostic) -> Parsed {
    let mut report = Report::default();
    report.push(diagnostic);
    Parsed {
        editions: Vec::new(),
        report,
    }
}

/// A column found in the header row.
struct Located {
    index: usize,
    column: Column,
}

/// Which stored project a sheet row speaks of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// No 事業ID: a new project.
    New,
    /// The 事業ID of a project of this edition.
    Stored(ProjectId),
    /// A 事業ID with a 版: the project was in this edition when the sheet was made, and has
    /// been taken out of it since.
    Gone(ProjectId),
    /// An id that is malformed or belongs elsewhere (already reported).
    Invalid,
}

/// A row read from the sheet, before it is merged with what is stored.
struct RowRead {
    /// 0-based row in the grid.
    row: usize,
    /// Index of its policy in the edition.
    policy: usize,
    project: Project,
    map: ProjectMap,
    identity: Identity,
    /// The 版 cell: the row's version when the sheet was made.
    version: Option<(String, Position)>,
    /// Marked in the 計画から外す column.
    remove: bool,
}

/// What a sheet import changes in the stored edition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SheetChanges {
    /// Projects the sheet changed: `7-1 No.3 事業名`.
    pub updated: Vec<String>,
    /// Projects the sheet adds.
    pub added: Vec<String>,
    /// Projects the sheet takes out of the edition (marked 計画から外す).
    pub removed: Vec<String>,
    /// Rows the sheet did not change: the stored project is kept as it is now.
    pub unchanged: usize,
    /// Stored projects the sheet has no row for: kept as they are.
    pub not_in_sheet: usize,
    /// Rows of projects taken out of the edition by someone else after the sheet was made,
    /// which the sheet did not change (ignored).
    pub gone: Vec<String>,
    /// Changes to goals and policies from the structure sheet, as the audit log keys them
    /// (`goal.3`: added or removed; `policy.1-1.title`: changed).
    pub structure: Vec<String>,
}

impl SheetChanges {
    /// True when the sheet changes nothing.
    pub fn is_empty(&self) -> bool {
        self.updated.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.structure.is_empty()
    }
}

/// Reads the grid (and the structure sheet's, if any) and merges it into the stored edition.
fn read_grid(grid: &Grid, structure_grid: Option<&Grid>, context: &Context) -> Parsed {
    let Some(base) = &context.base else {
        return failed(Diagnostic::new(
            Code::MissingEdition,
            Position::File,
            "記入用シートは保存済みの計画期間に取り込みます。--edition で計画期間を指定してください（新しい計画期間は keikaku roll で作ります）。",
            "a spreadsheet updates a stored edition: name it with --edition (create a new one with keikaku roll)",
        ));
    };
    let mut report = Report::default();
    check_identity(grid, &base.edition, &mut report);
    let stored = &base.edition;
    let structured = structure::apply(
        base,
        grid,
        structure_grid,
        context.structure_edits,
        &mut report,
    );
    let base = &structured.base;
    let Some(header) = grid
        .rows
        .iter()
        .position(|r| r.iter().any(|v| !v.is_empty()))
    else {
        report.push(Diagnostic::new(
            Code::EmptyFile,
            Position::File,
            "シートが空です。",
            "the sheet is empty",
        ));
        return Parsed {
            editions: Vec::new(),
            report,
        };
    };
    let columns = match header_columns(grid, header, base, &mut report) {
        Some(columns) => columns,
        None => {
            return Parsed {
                editions: Vec::new(),
                report,
            };
        }
    };
    check_hidden_and_merged(grid, header, &mut report);
    let policies: Vec<&Policy> = base.edition.policies().collect();
    let stored_ids: HashSet<&str> = base
        .edition
        .projects()
        .map(|(_, p)| p.id.as_str())
        .collect();
    let mut rows: Vec<RowRead> = Vec::new();
    let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
    for r in header + 1..grid.rows.len() {
        let cells = &grid.rows[r];
        if cells.iter().all(Value::is_empty) {
            continue;
        }
        let texts: Vec<String> = cells.iter().map(Value::text).collect();
        if let Some(first) = seen.get(&texts) {
            report.push(Diagnostic::new(
                Code::DuplicateRow,
                grid.position(r, 0),
                format!(
                    "{} 行目と同じ内容の行です。重複している行を削除してください。",
                    first + 1
                ),
                format!(
                    "this row repeats row {} exactly; delete the copy",
                    first + 1
                ),
            ));
            continue;
        }
        seen.insert(texts, r);
        if let Some(row) = read_row(grid, r, &columns, &policies, &stored_ids, base, &mut report) {
            rows.push(row);
        }
    }
    let has_version = columns.iter().any(|c| c.column == Column::Version);
    let mut merged = merge(base, rows, has_version, grid, header, &columns, &mut report);
    let policy_column = columns
        .iter()
        .find(|c| c.column == Column::Policy)
        .map_or(0, |c| c.index);
    structure::finish(
        &structured,
        &mut merged.edition,
        &mut merged.map,
        grid,
        policy_column,
        &mut report,
    );
    if merged.edition.goals.is_empty() {
        report.push(Diagnostic::new(
            Code::EmptyFile,
            structured.sheet_at.clone().unwrap_or_default(),
            "施策体系が空です。「施策体系」シートに基本目標と施策を記入してください。",
            "the structure is empty: fill in the goals and policies in the sheet 施策体系",
        ));
    }
    merged.changes.structure = crate::audit::structure_changes(stored, &merged.edition)
        .into_iter()
        .map(|change| change.field)
        .collect();
    check_magnitude(&merged, base, &mut report);
    Parsed {
        editions: vec![ReadEdition {
            edition: merged.edition,
            map: merged.map,
            population: None,
            changes: Some(merged.changes),
        }],
        report,
    }
}

/// Merged cells anywhere, and hidden rows below the header, are errors at their cells: what
/// they hide would be read without anyone seeing it.
pub(super) fn check_hidden_and_merged(grid: &Grid, header: usize, report: &mut Report) {
    for ((r0, c0), (r1, c1)) in &grid.merged {
        let range = format!(
            "{}:{}",
            crate::sheet::cell_name(*r0, *c0),
            crate::sheet::cell_name(*r1, *c1)
        );
        report.push(Diagnostic::new(
            Code::MergedCells,
            grid.position(*r0, *c0),
            format!("セル {range} が結合されています。結合を解除し、それぞれのセルに値を入れてください。"),
            format!("cells {range} are merged: unmerge them and fill each cell"),
        ));
    }
    for row in grid.hidden_rows.iter().filter(|r| **r > header) {
        report.push(Diagnostic::new(
            Code::HiddenRow,
            grid.position(*row, 0),
            format!(
                "{} 行目が非表示です。再表示して内容を確かめてください（不要な行は削除します）。",
                row + 1
            ),
            format!(
                "row {} is hidden: unhide it and check it (delete rows that are not wanted)",
                row + 1
            ),
        ));
    }
}

/// The workbook says which municipality and edition it was made for: they must match.
fn check_identity(grid: &Grid, edition: &Edition, report: &mut Report) {
    if let Some((code, position)) = grid.info(INFO_CODE)
        && code != edition.municipality.code.as_str()
    {
        report.push(Diagnostic::new(
            Code::EditionMismatch,
            position.clone(),
            format!(
                "このシートは団体コード {code} 用です（取り込み先は {}）。",
                edition.municipality.code
            ),
            format!(
                "this sheet is for municipality {code}, not {}",
                edition.municipality.code
            ),
        ));
    }
    if let Some((span, position)) = grid.info(INFO_EDITION)
        && crate::fiscal::EditionSpan::parse(span) != Some(edition.span)
    {
        report.push(Diagnostic::new(
            Code::EditionMismatch,
            position.clone(),
            format!(
                "このシートは計画期間 {span} 用です（取り込み先は {}）。",
                edition.span
            ),
            format!("this sheet is for edition {span}, not {}", edition.span),
        ));
    }
}

fn header_columns(
    grid: &Grid,
    header: usize,
    base: &Base,
    report: &mut Report,
) -> Option<Vec<Located>> {
    let mut columns: Vec<Located> = Vec::new();
    for (index, value) in grid.rows[header].iter().enumerate() {
        if value.is_empty() {
            continue;
        }
        let text = value.text();
        match Column::parse(&text) {
            Some(Column::Amount(year, _)) if !base.edition.span.contains(year) => {
                report.push(Diagnostic::new(
                    Code::YearOutsideEdition,
                    grid.position(header, index),
                    format!(
                        "列「{text}」の年度は計画期間 {} の外です。",
                        base.edition.span.long_label()
                    ),
                    format!(
                        "column {text:?} is for a year outside the edition {}",
                        base.edition.span
                    ),
                ))
            }
            Some(column) if columns.iter().any(|c| c.column == column) => {
                report.push(Diagnostic::new(
                    Code::BadHeader,
                    grid.position(header, index),
                    format!("列「{text}」が2回あります。"),
                    format!("column {text:?} appears twice"),
                ))
            }
            Some(column) => columns.push(Located { index, column }),
            None => report.push(Diagnostic::new(
                Code::IgnoredCell,
                grid.position(header, index),
                format!("列「{text}」は読み込みません。"),
                format!("column {text:?} is not read"),
            )),
        }
    }
    // A year's amounts are read only with its three main columns: without 事業費 (say), the
    // funding columns would raise sum errors that are really one header problem.
    for year in base.edition.span.years() {
        let has = |field: AmountField| {
            columns
                .iter()
                .any(|c| c.column == Column::Amount(year, field))
        };
        let first = columns
            .iter()
            .find(|c| matches!(c.column, Column::Amount(y, _) if y == year))
            .map(|c| c.index);
        let Some(first) = first else { continue };
        let lacking: Vec<String> = [
            AmountField::Total,
            AmountField::Earmarked,
            AmountField::General,
        ]
        .into_iter()
        .filter(|f| !has(*f))
        .map(|f| Column::Amount(year, f).header())
        .collect();
        if !lacking.is_empty() {
            report.push(Diagnostic::new(
                Code::BadHeader,
                grid.position(header, first),
                format!(
                    "{}の金額の列のうち {} がありません。この年度の金額は読み込みません。",
                    year.label(),
                    lacking.join("・")
                ),
                format!(
                    "{} lacks the columns {}; its amounts are not read",
                    year.label(),
                    lacking.join(", ")
                ),
            ));
            columns.retain(|c| !matches!(c.column, Column::Amount(y, _) if y == year));
        }
    }
    let missing: Vec<String> = [Column::Policy, Column::Number, Column::Name]
        .into_iter()
        .filter(|needed| !columns.iter().any(|c| c.column == *needed))
        .map(Column::header)
        .collect();
    if !missing.is_empty() {
        report.push(Diagnostic::new(
            Code::BadHeader,
            grid.position(header, 0),
            format!("1行目（見出し）に {} の列がありません。keikaku template で作ったシートを使ってください。", missing.join("・")),
            format!("the header row lacks {}; use a sheet made by keikaku template", missing.join(", ")),
        ));
        return None;
    }
    if !columns.iter().any(|c| c.column == Column::Version) {
        report.push(Diagnostic::new(
            Code::BadHeader,
            grid.position(header, 0),
            format!(
                "「{}」の列がありません。keikaku template で新しいシートを作ってください（版は、シートを作った後にほかの人が同じ行を変えていないかを確かめるために使います）。",
                Column::Version.header()
            ),
            format!(
                "the header row lacks the column {:?}: make a new sheet with keikaku template (the version tells whether someone else changed a row after the sheet was made)",
                Column::Version.header()
            ),
        ));
    }
    Some(columns)
}

/// Reads an amount cell: `Ok(None)` for empty, `Ok(Some(None))` for `-`, `Ok(Some(Some(m)))`.
fn amount_cell(
    value: &Value,
    position: &Position,
    field: &'static str,
    report: &mut Report,
) -> Result<Option<Option<Money>>, ()> {
    match value {
        v if v.is_empty() => Ok(None),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
            Ok(Some(Some(Money::from_thousand_yen(*n as i64))))
        }
        Value::Number(n) => {
            report.push(
                Diagnostic::new(
                    Code::NotANumber,
                    position.clone(),
                    format!("{n} は千円単位の整数ではありません。"),
                    format!("{n} is not a whole number of 千円"),
                )
                .with_field(field),
            );
            Err(())
        }
        Value::Error(e) => {
            report.push(
                Diagnostic::new(
                    Code::FormulaError,
                    position.clone(),
                    format!("計算式の結果がエラー（{e}）です。式を直すか、値を入力してください。"),
                    format!("the formula gives an error ({e}); fix it or enter a value"),
                )
                .with_field(field),
            );
            Err(())
        }
        other => match parse_amount(&other.text(), Unit::ThousandYen) {
            Ok(amount) => Ok(Some(amount)),
            Err(err) => {
                report.push(
                    Diagnostic::new(
                        Code::NotANumber,
                        position.clone(),
                        format!("「{}」は金額として読めません（{err}）。", other.text()),
                        format!("{:?} is not an amount ({err})", other.text()),
                    )
                    .with_field(field),
                );
                Err(())
            }
        },
    }
}

fn text_cell(
    value: &Value,
    position: &Position,
    field: &'static str,
    report: &mut Report,
) -> String {
    if let Value::Error(e) = value {
        report.push(
            Diagnostic::new(
                Code::FormulaError,
                position.clone(),
                format!("計算式の結果がエラー（{e}）です。"),
                format!("the formula gives an error ({e})"),
            )
            .with_field(field),
        );
        return String::new();
    }
    value.text()
}

fn read_row(
    grid: &Grid,
    r: usize,
    columns: &[Located],
    policies: &[&Policy],
    stored_ids: &HashSet<&str>,
    base: &Base,
    report: &mut Report,
) -> Option<RowRead> {
    let cell = |column: Column| {
        columns
            .iter()
            .find(|c| c.column == column)
            .map(|c| (grid.cell(r, c.index), grid.position(r, c.index)))
    };
    let mut map = ProjectMap {
        at: grid.position(r, 0),
        fields: HashMap::new(),
    };

    let (policy_value, policy_position) = cell(Column::Policy)?;
    let policy_text = text_cell(policy_value, &policy_position, "施策", report);
    let policy = match PolicyCode::parse(&policy_text)
        .and_then(|code| policies.iter().position(|p| p.code == code))
    {
        Some(index) => Some(index),
        None => {
            let known: Vec<String> = policies.iter().map(|p| p.code.to_string()).collect();
            report.push(
                Diagnostic::new(
                    Code::UnknownPolicy,
                    policy_position,
                    if policy_text.is_empty() {
                        "施策コードがありません。".to_owned()
                    } else {
                        format!(
                            "施策コード「{policy_text}」はこの計画にありません（{}）。",
                            known.join("・")
                        )
                    },
                    format!(
                        "policy {policy_text:?} is not in this edition (policies: {})",
                        known.join(", ")
                    ),
                )
                .with_field("施策"),
            );
            None
        }
    };

    let (number_value, number_position) = cell(Column::Number)?;
    map.fields.insert(Field::Number, number_position.clone());
    let number = match number_value {
        v if v.is_empty() => {
            report.push(
                Diagnostic::new(
                    Code::MissingNumber,
                    number_position,
                    "事業番号がありません。",
                    "the project number is missing",
                )
                .with_field("No"),
            );
            0
        }
        Value::Number(n) if n.fract() == 0.0 && *n >= 1.0 && *n < 1e6 => *n as u32,
        other => match other.text().parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                report.push(
                    Diagnostic::new(
                        Code::BadNumber,
                        number_position,
                        format!("事業番号「{}」は1以上の整数ではありません。", other.text()),
                        format!(
                            "project number {:?} is not a whole number of 1 or more",
                            other.text()
                        ),
                    )
                    .with_field("No"),
                );
                0
            }
        },
    };

    let version = cell(Column::Version).and_then(|(value, position)| {
        let text = text_cell(value, &position, "版", report);
        (!text.is_empty()).then_some((text, position))
    });
    let remove = match cell(Column::Remove) {
        Some((value, position)) => {
            let text = text_cell(value, &position, "計画から外す", report);
            if text.is_empty() {
                false
            } else if is_remove_mark(&text) {
                true
            } else {
                report.push(
                    Diagnostic::new(
                        Code::NotANumber,
                        position,
                        format!("「{text}」は「計画から外す」の印として読めません。外す事業だけ「○」を入れ、ほかは空欄にします。"),
                        format!("{text:?} is not a mark of the 計画から外す column: put ○ for a project to take out, leave it empty otherwise"),
                    )
                    .with_field("計画から外す"),
                );
                false
            }
        }
        None => false,
    };

    let id_cell = cell(Column::Id).and_then(|(value, position)| {
        map.fields.insert(Field::Id, position.clone());
        let text = text_cell(value, &position, "事業ID", report);
        (!text.is_empty()).then_some((text, position))
    });

    let mut read_text =
        |column: Column, field: Field, label: &'static str, report: &mut Report| -> String {
            match cell(column) {
                Some((value, position)) => {
                    map.fields.insert(field, position.clone());
                    text_cell(value, &position, label, report)
                }
                None => String::new(),
            }
        };
    let name = read_text(Column::Name, Field::Name, "事業名", report);
    let summary = read_text(Column::Summary, Field::Summary, "事業概要", report);
    let status = Status::parse(&read_text(Column::Status, Field::Status, "区分", report));
    let departments = split_list(&read_text(
        Column::Departments,
        Field::Department,
        "担当課",
        report,
    ));
    let strategy_text = read_text(Column::Strategies, Field::Strategy, "地方創生事業", report);
    let mut strategies = Vec::new();
    for raw in split_codes(&strategy_text) {
        match StrategyCode::read(raw) {
            Some(code) => strategies.push(StrategyLink {
                code,
                raw: raw.to_owned(),
            }),
            None => {
                let position = map
                    .fields
                    .get(&Field::Strategy)
                    .cloned()
                    .unwrap_or_else(|| grid.position(r, 0));
                report.push(
                    Diagnostic::new(
                        Code::BadStrategyCode,
                        position,
                        format!("地方創生事業の番号「{raw}」が読めません（例: Ⅲ(4)、Ⅲ-4、3-4）。"),
                        format!("cannot read strategy code {raw:?} (expected e.g. Ⅲ(4), Ⅲ-4, 3-4)"),
                    )
                    .with_field("地方創生事業"),
                );
            }
        }
    }

    // A year with an unreadable cell is left out (its cell is reported), so that sums are
    // not checked against a guess.
    let costs: Vec<YearCost> = base
        .edition
        .span
        .years()
        .filter_map(|year| {
            read_year(grid, r, columns, year, &mut map, report)
                .ok()
                .flatten()
        })
        .collect();

    // A row with problems is still read (its problems are reported, and nothing is stored
    // while any remain), so that the checks common to every layout see it too.
    let policy = policy?;
    let mut project = Project {
        id: ProjectId::invalid(&format!("row{}", r + 1)),
        number,
        name,
        summary,
        status,
        departments,
        strategies,
        costs,
    };
    let identity = match id_cell {
        None => Identity::New,
        Some((text, position)) => identify(
            &text,
            position,
            policies[policy].code,
            &mut project,
            version.as_ref(),
            stored_ids,
            base,
            report,
        ),
    };
    Some(RowRead {
        row: r,
        policy,
        project,
        map,
        identity,
        version,
        remove,
    })
}

/// Which project a row's 事業ID names; sets the project's id when it names one.
#[expect(
    clippy::too_many_arguments,
    reason = "the row's parts and what is stored around it"
)]
fn identify(
    text: &str,
    position: Position,
    policy: PolicyCode,
    project: &mut Project,
    version: Option<&(String, Position)>,
    stored_ids: &HashSet<&str>,
    base: &Base,
    report: &mut Report,
) -> Identity {
    let Some(id) = ProjectId::parse(text) else {
        report.push(
            Diagnostic::new(
                Code::BadId,
                position,
                format!("事業ID「{text}」は使えない文字を含みます。"),
                format!("project id {text:?} is not valid"),
            )
            .with_field("事業ID"),
        );
        return Identity::Invalid;
    };
    if stored_ids.contains(text) {
        project.id = id.clone();
        return Identity::Stored(id);
    }
    let version = version
        .map(|(v, _)| v.as_str())
        .filter(|v| is_row_version(v));
    let municipality = base.edition.municipality.code.as_str();
    let elsewhere = base.other_ids.get(text);
    let same_municipality =
        elsewhere.is_some_and(|place| place.split_whitespace().next() == Some(municipality));
    let candidate = Project {
        id: id.clone(),
        ..project.clone()
    };
    // A row with a version was a row of this edition when the sheet was made. When its content
    // (id included) still has that version, or its id lives on in another edition of this
    // municipality (the one it was rolled from), the project has been taken out of this
    // edition since the sheet was made.
    if let Some(version) = version
        && (row_version(policy, &candidate) == version || same_municipality)
    {
        project.id = id.clone();
        return Identity::Gone(id);
    }
    let (code, ja, en) = match elsewhere {
        Some(place) => (
            Code::ForeignId,
            format!(
                "事業ID {text} は {place} の事業のものです。この計画期間の行にはその事業IDを使えません。"
            ),
            format!("project id {text} belongs to {place}, not to this edition"),
        ),
        None if version.is_some() => (
            Code::UnknownId,
            format!(
                "事業ID {text} の事業はこの計画期間にありません。事業IDが書き換えられたか、このシートを作った後にほかの取り込みで外されたかです。事業IDは書き換えないでください（新しい事業は事業IDと版を空欄にします）。"
            ),
            format!(
                "no project of this edition has id {text}: either the id was edited or another import took the project out after this sheet was made; do not edit ids (leave id and version empty for a new project)"
            ),
        ),
        None => (
            Code::UnknownId,
            format!(
                "事業ID {text} の事業はありません。事業IDは書き換えないでください（新しい事業は空欄にします）。"
            ),
            format!(
                "no project has id {text}: do not edit ids (leave the cell empty for a new project)"
            ),
        ),
    };
    report.push(Diagnostic::new(code, position, ja, en).with_field("事業ID"));
    Identity::Invalid
}

/// The stored edition with the sheet's changes applied.
struct Merged {
    edition: Edition,
    map: SourceMap,
    changes: SheetChanges,
    /// Ids of the projects whose content comes from the sheet (changed or added rows).
    applied: HashSet<String>,
}

/// What becomes of a stored project the sheet has a row for.
enum Decision {
    /// The row is unchanged in the sheet: keep what is stored (its row locates problems).
    Unchanged(ProjectMap),
    /// The sheet's row replaces the stored project.
    Updated(Box<RowRead>),
    /// Marked 計画から外す.
    Removed,
}

/// `7-1 No.3 事業名`.
fn describe(policy: PolicyCode, project: &Project) -> String {
    format!("{policy} No.{} {}", project.number, project.name)
}

/// Merges the sheet's rows into the stored edition: a row changes its project only when the
/// sheet changed it (its content no longer matches the 版 it was written with), and only if
/// the stored project is still what the sheet was made from; otherwise the row is a conflict
/// and both values are reported. Stored projects the sheet has no row for, and rows the sheet
/// did not change, keep what is stored now, so a sheet made before another import never undoes
/// that import. New rows are added with ids derived from the edition.
fn merge(
    base: &Base,
    rows: Vec<RowRead>,
    has_version: bool,
    grid: &Grid,
    header: usize,
    columns: &[Located],
    report: &mut Report,
) -> Merged {
    let policies: Vec<&Policy> = base.edition.policies().collect();
    let stored: HashMap<&str, (usize, &Project)> = policies
        .iter()
        .enumerate()
        .flat_map(|(i, policy)| policy.projects.iter().map(move |p| (p.id.as_str(), (i, p))))
        .collect();
    let mut changes = SheetChanges::default();
    let mut decided: HashMap<String, Decision> = HashMap::new();
    let mut added: Vec<RowRead> = Vec::new();
    for row in rows {
        let sheet_policy = policies[row.policy].code;
        match row.identity.clone() {
            Identity::Stored(id) => {
                if decided.contains_key(id.as_str()) {
                    report.push(
                        Diagnostic::new(
                            Code::DuplicateId,
                            row.map
                                .fields
                                .get(&Field::Id)
                                .cloned()
                                .unwrap_or_else(|| row.map.at.clone()),
                            format!(
                                "事業ID {id} の行が2つあります。1つの事業は1行にまとめてください。"
                            ),
                            format!("two rows have project id {id}: keep one row per project"),
                        )
                        .with_field("事業ID"),
                    );
                    continue;
                }
                let Some((stored_policy, stored_project)) = stored.get(id.as_str()).copied() else {
                    continue;
                };
                let stored_policy = policies[stored_policy].code;
                let stored_version = row_version(stored_policy, stored_project);
                let sheet_version = row_version(sheet_policy, &row.project);
                let made_from = match (&row.version, has_version) {
                    (Some((version, _)), _) if is_row_version(version) => Some(version.clone()),
                    (Some((version, position)), _) => {
                        report.push(bad_version(position.clone(), &id, Some(version)));
                        continue;
                    }
                    (None, true) => {
                        let position = version_position(grid, row.row, columns);
                        report.push(bad_version(position, &id, None));
                        continue;
                    }
                    // A sheet without the 版 column is refused (its header is reported); its
                    // rows are still read so that every other problem shows at once.
                    (None, false) => None,
                };
                let changed_since = made_from.as_ref().is_some_and(|v| *v != stored_version);
                let label = describe(stored_policy, stored_project);
                if row.remove {
                    if changed_since && sheet_version != stored_version {
                        report.push(stale(
                            &row,
                            stored_policy,
                            stored_project,
                            sheet_policy,
                            true,
                            base.edition.span,
                        ));
                    } else {
                        changes.removed.push(label);
                        decided.insert(id.to_string(), Decision::Removed);
                    }
                } else if made_from.as_deref() == Some(sheet_version.as_str())
                    || sheet_version == stored_version
                {
                    changes.unchanged += 1;
                    decided.insert(id.to_string(), Decision::Unchanged(row.map));
                } else if !changed_since {
                    changes.updated.push(describe(sheet_policy, &row.project));
                    decided.insert(id.to_string(), Decision::Updated(Box::new(row)));
                } else {
                    report.push(stale(
                        &row,
                        stored_policy,
                        stored_project,
                        sheet_policy,
                        false,
                        base.edition.span,
                    ));
                }
            }
            Identity::Gone(id) => {
                let untouched = row
                    .version
                    .as_ref()
                    .is_some_and(|(v, _)| *v == row_version(sheet_policy, &row.project));
                if row.remove || untouched {
                    changes.gone.push(describe(sheet_policy, &row.project));
                } else {
                    report.push(gone(&row, &id, sheet_policy));
                }
            }
            Identity::New if row.remove => report.push(Diagnostic::new(
                Code::IgnoredCell,
                row.map.at.clone(),
                "事業IDのない行に「計画から外す」の印があります。この行は追加しません。",
                "a row without a project id is marked 計画から外す: it is not added",
            )),
            Identity::New | Identity::Invalid => added.push(row),
        }
    }

    // Stored projects stay where they are unless the sheet changed or removed them.
    let mut lists: Vec<Vec<(Project, ProjectMap)>> = vec![Vec::new(); policies.len()];
    let mut occupied: HashMap<(usize, u32), String> = HashMap::new();
    let mut updated: Vec<RowRead> = Vec::new();
    for (i, policy) in policies.iter().enumerate() {
        for project in &policy.projects {
            match decided.remove(project.id.as_str()) {
                Some(Decision::Removed) => {}
                Some(Decision::Updated(row)) => updated.push(*row),
                kept => {
                    let map = match kept {
                        Some(Decision::Unchanged(map)) => map,
                        _ => {
                            changes.not_in_sheet += 1;
                            ProjectMap::default()
                        }
                    };
                    occupied.insert((i, project.number), describe(policy.code, project));
                    lists[i].push((project.clone(), map));
                }
            }
        }
    }
    // Rows the sheet supplies, in sheet order: changed rows first keep their ids.
    let mut taken: HashSet<String> = base.other_ids.keys().cloned().collect();
    taken.extend(stored.keys().map(|id| (*id).to_owned()));
    // The next suffix to try per derived id: rows sharing one (no 事業番号, say) must not
    // each search from -2 again, which made many such rows cost quadratic time.
    let mut next_suffix: HashMap<String, u32> = HashMap::new();
    let mut applied = HashSet::new();
    updated.sort_by_key(|row| row.row);
    for mut row in updated.into_iter().chain(added) {
        if let Some(kept) = occupied.get(&(row.policy, row.project.number)) {
            // A row whose id is wrong is reported as such; its number is not the problem.
            if row.identity == Identity::Invalid {
                continue;
            }
            let code = policies[row.policy].code;
            report.push(
                Diagnostic::new(
                    Code::DuplicateNumber,
                    row.map.fields.get(&Field::Number).cloned().unwrap_or_else(|| row.map.at.clone()),
                    format!(
                        "{code} No.{} は保存済みの事業「{kept}」が使っています（このシートにその行がないか、その行は変更されていません）。別の番号にしてください。",
                        row.project.number
                    ),
                    format!(
                        "{code} No.{} is used by the stored project {kept:?} (which this sheet has no row for, or does not change): use another number",
                        row.project.number
                    ),
                )
                .with_field("No"),
            );
            continue;
        }
        if row.identity == Identity::New {
            let code = policies[row.policy].code;
            let derived = ProjectId::derived(
                &base.edition.municipality,
                base.edition.span,
                code,
                row.project.number,
            );
            let mut candidate = derived.clone();
            let mut n = next_suffix.get(derived.as_str()).copied().unwrap_or(2);
            while taken.contains(candidate.as_str()) {
                candidate =
                    ProjectId::parse(&format!("{derived}-{n}")).unwrap_or_else(|| derived.clone());
                n += 1;
            }
            next_suffix.insert(derived.to_string(), n);
            taken.insert(candidate.to_string());
            row.project.id = candidate;
            changes
                .added
                .push(describe(policies[row.policy].code, &row.project));
        }
        applied.insert(row.project.id.to_string());
        lists[row.policy].push((row.project, row.map));
    }
    // Within a policy, projects follow their numbers, as the plan book lists them (a row
    // moved here from another policy takes its place by number, not by its row).
    for list in &mut lists {
        list.sort_by_key(|(project, _)| project.number);
    }

    let policy_column = columns
        .iter()
        .find(|c| c.column == Column::Policy)
        .map_or(0, |c| c.index);
    let mut edition = base.edition.clone();
    let mut maps = Vec::new();
    let mut lists = lists.into_iter();
    for goal in &mut edition.goals {
        let mut goal_map = GoalMap {
            at: grid.position(header, policy_column),
            policies: Vec::new(),
        };
        for policy in &mut goal.policies {
            let (projects, project_maps): (Vec<Project>, Vec<ProjectMap>) =
                lists.next().unwrap_or_default().into_iter().unzip();
            policy.projects = projects;
            goal_map.policies.push(PolicyMap {
                at: grid.position(header, policy_column),
                projects: project_maps,
            });
        }
        maps.push(goal_map);
    }
    Merged {
        edition,
        map: SourceMap {
            edition: grid.position(header, 0),
            goals: maps,
        },
        changes,
        applied,
    }
}

/// Where a row's 版 cell is (or its first cell when the sheet has no 版 column).
fn version_position(grid: &Grid, row: usize, columns: &[Located]) -> Position {
    let column = columns
        .iter()
        .find(|c| c.column == Column::Version)
        .map_or(0, |c| c.index);
    grid.position(row, column)
}

fn bad_version(position: Position, id: &ProjectId, text: Option<&str>) -> Diagnostic {
    let (ja, en) = match text {
        Some(text) => (
            format!(
                "事業ID {id} の行の版「{text}」は keikaku が書いたものではありません。版（灰色の列）は変更しないでください。"
            ),
            format!(
                "the version {text:?} of the row of project {id} was not written by keikaku: do not edit the version column (grey)"
            ),
        ),
        None => (
            format!(
                "事業ID {id} の行の版が空です。版（灰色の列）は消さないでください。keikaku template で新しいシートを作ってください。"
            ),
            format!(
                "the row of project {id} has no version: do not clear the version column (grey); make a new sheet with keikaku template"
            ),
        ),
    };
    Diagnostic::new(Code::BadVersion, position, ja, en).with_field("版")
}

/// How a value is shown in a conflict message.
fn shown(text: &str) -> String {
    const LIMIT: usize = 40;
    let mut short: String = text.chars().take(LIMIT).collect();
    if text.chars().count() > LIMIT {
        short.push('…');
    }
    format!("「{short}」")
}

fn shown_amount(money: Option<Money>) -> String {
    money.map_or_else(|| "-".to_owned(), |m| m.grouped())
}

/// The fields in which two versions of a project differ: (field, where in the row, stored
/// value, sheet value).
fn differences(
    stored_policy: PolicyCode,
    stored: &Project,
    sheet_policy: PolicyCode,
    sheet: &Project,
    span: EditionSpan,
) -> Vec<(String, Option<Field>, String, String)> {
    let mut out = Vec::new();
    let mut text = |label: &str, field: Option<Field>, a: String, b: String| {
        if a != b {
            out.push((label.to_owned(), field, shown(&a), shown(&b)));
        }
    };
    text(
        "施策コード",
        None,
        stored_policy.to_string(),
        sheet_policy.to_string(),
    );
    text(
        "事業番号",
        Some(Field::Number),
        stored.number.to_string(),
        sheet.number.to_string(),
    );
    text(
        "事業名",
        Some(Field::Name),
        stored.name.clone(),
        sheet.name.clone(),
    );
    text(
        "事業概要",
        Some(Field::Summary),
        stored.summary.clone(),
        sheet.summary.clone(),
    );
    text(
        "区分",
        Some(Field::Status),
        stored.status.label().to_owned(),
        sheet.status.label().to_owned(),
    );
    text(
        "担当課",
        Some(Field::Department),
        stored.departments.join(crate::sheet::LIST_SEPARATOR),
        sheet.departments.join(crate::sheet::LIST_SEPARATOR),
    );
    let raw = |p: &Project| {
        p.strategies
            .iter()
            .map(|s| s.raw.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    text(
        "地方創生事業",
        Some(Field::Strategy),
        raw(stored),
        raw(sheet),
    );
    for year in span.years() {
        let (a, b) = (stored.cost(year), sheet.cost(year));
        if a == b {
            continue;
        }
        let empty = YearCost::empty(year);
        let (a_cost, b_cost) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
        let amounts: [(&str, Field, Option<Money>, Option<Money>); 3] = [
            ("事業費", Field::Total(year), a_cost.total, b_cost.total),
            (
                "特定財源",
                Field::Earmarked(year),
                a_cost.earmarked,
                b_cost.earmarked,
            ),
            (
                "一般財源",
                Field::General(year),
                a_cost.general,
                b_cost.general,
            ),
        ];
        let mut any = false;
        for (label, field, x, y) in amounts {
            if x != y || (a.is_none() != b.is_none() && label == "事業費") {
                any = true;
                let show = |c: Option<&YearCost>, m: Option<Money>| {
                    if c.is_none() {
                        "（記載なし）".to_owned()
                    } else {
                        shown_amount(m)
                    }
                };
                out.push((
                    format!("{} {label}", year.label()),
                    Some(field),
                    show(a, x),
                    show(b, y),
                ));
            }
        }
        if !any {
            out.push((
                format!("{} 特定財源の内訳", year.label()),
                Some(Field::Earmarked(year)),
                format!(
                    "{:?}",
                    a_cost
                        .earmarked_breakdown
                        .iter()
                        .map(|(k, m)| (k.label(), m.thousand_yen()))
                        .collect::<Vec<_>>()
                ),
                format!(
                    "{:?}",
                    b_cost
                        .earmarked_breakdown
                        .iter()
                        .map(|(k, m)| (k.label(), m.thousand_yen()))
                        .collect::<Vec<_>>()
                ),
            ));
        }
    }
    out
}

/// A row changed in the sheet whose project was also changed in the database after the sheet
/// was made (or, with `removing`, a row marked 計画から外す whose project was changed since).
fn stale(
    row: &RowRead,
    stored_policy: PolicyCode,
    stored: &Project,
    sheet_policy: PolicyCode,
    removing: bool,
    span: EditionSpan,
) -> Diagnostic {
    let diffs = differences(stored_policy, stored, sheet_policy, &row.project, span);
    let position = diffs
        .iter()
        .find_map(|(_, field, _, _)| field.and_then(|f| row.map.fields.get(&f).cloned()))
        .unwrap_or_else(|| row.map.at.clone());
    let ja_list: Vec<String> = diffs
        .iter()
        .map(|(label, _, a, b)| format!("{label} 保存済み{a}／シート{b}"))
        .collect();
    let en_list: Vec<String> = diffs
        .iter()
        .map(|(label, _, a, b)| format!("{label}: stored {a}, sheet {b}"))
        .collect();
    let label = describe(stored_policy, stored);
    let id = &stored.id;
    let (ja, en) = if removing {
        (
            format!(
                "事業 {label}（事業ID {id}）は、このシートを作った後にほかの取り込みで変更されたため、このシートでは外せません（{}）。内容を確かめ、外す場合は keikaku template で作り直したシートで行ってください。",
                ja_list.join("、")
            ),
            format!(
                "project {label} (id {id}) was changed by another import after this sheet was made, so this sheet cannot take it out ({}); check it and use a new sheet from keikaku template",
                en_list.join("; ")
            ),
        )
    } else {
        (
            format!(
                "事業 {label}（事業ID {id}）は、このシートを作った後にほかの取り込みで変更されています。シートでも変更されているため取り込めません: {}。keikaku template で新しいシートを作り、変更を入れ直してください。",
                ja_list.join("、")
            ),
            format!(
                "project {label} (id {id}) was changed by another import after this sheet was made, and the sheet changes it too: {}. Make a new sheet with keikaku template and enter the changes again",
                en_list.join("; ")
            ),
        )
    };
    Diagnostic::new(Code::StaleRow, position, ja, en)
}

/// A changed row of a project that was taken out of the edition after the sheet was made.
fn gone(row: &RowRead, id: &ProjectId, policy: PolicyCode) -> Diagnostic {
    let label = describe(policy, &row.project);
    Diagnostic::new(
        Code::StaleRow,
        row.map.fields.get(&Field::Id).cloned().unwrap_or_else(|| row.map.at.clone()),
        format!(
            "事業 {label}（事業ID {id}）は、このシートを作った後にほかの取り込みでこの計画期間から外されたため、この行の変更は反映できません。残す場合は、事業IDと版を空欄にして新しい事業として追加してください。"
        ),
        format!(
            "project {label} (id {id}) was taken out of this edition by another import after this sheet was made, so the changes in this row cannot be applied; to keep it, clear its id and version and add it as a new project"
        ),
    )
    .with_field("事業ID")
}

/// Amounts 500 times or more what is expected are taken for 円 typed into 千円 cells.
const YEN_RATIO: i64 = 500;

/// The median of positive amounts (`None` when there are none).
fn median(mut values: Vec<i64>) -> Option<i64> {
    values.retain(|v| *v > 0);
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

fn positive_totals<'a>(projects: impl Iterator<Item = &'a Project>) -> Vec<i64> {
    projects
        .flat_map(|p| p.costs.iter().filter_map(|c| c.total))
        .map(Money::thousand_yen)
        .filter(|v| *v > 0)
        .collect()
}

/// Looks for amounts typed in 円 instead of 千円 in the rows the sheet changed or added: an
/// amount about 1,000 times the same project's other years, its stored or previous edition's
/// amounts, or (for a project with no history) the plan's typical amounts is a warning at its
/// cell; when the changed rows as a whole are that far off the plan, it is an error.
fn check_magnitude(merged: &Merged, base: &Base, report: &mut Report) {
    let history: HashMap<&str, Vec<i64>> = base
        .edition
        .projects()
        .chain(base.previous.iter().flat_map(|e| e.projects()))
        .map(|(_, p)| (p.id.as_str(), positive_totals(std::iter::once(p))))
        .fold(HashMap::new(), |mut acc, (id, values)| {
            acc.entry(id).or_insert_with(Vec::new).extend(values);
            acc
        });
    let reference: Vec<i64> = positive_totals(
        base.edition
            .projects()
            .chain(base.previous.iter().flat_map(|e| e.projects()))
            .map(|(_, p)| p),
    );
    let plan_median = median(reference.clone());
    let plan_max = reference.iter().copied().max();
    let mut sheet_amounts = Vec::new();
    let mut suspects = 0usize;
    let mut checked = 0usize;
    for (g, goal) in merged.edition.goals.iter().enumerate() {
        for (p, policy) in goal.policies.iter().enumerate() {
            for (j, project) in policy.projects.iter().enumerate() {
                if !merged.applied.contains(project.id.as_str()) {
                    continue;
                }
                let own = history
                    .get(project.id.as_str())
                    .cloned()
                    .unwrap_or_default();
                for cost in &project.costs {
                    let Some(value) = cost.total.map(Money::thousand_yen).filter(|v| *v > 0) else {
                        continue;
                    };
                    sheet_amounts.push(value);
                    let mut references = own.clone();
                    references.extend(
                        project
                            .costs
                            .iter()
                            .filter(|c| c.year != cost.year)
                            .filter_map(|c| c.total)
                            .map(Money::thousand_yen),
                    );
                    let suspect = match median(references) {
                        Some(reference) => {
                            checked += 1;
                            value >= reference.saturating_mul(YEN_RATIO)
                        }
                        None => match (plan_median, plan_max) {
                            (Some(typical), Some(largest)) => {
                                checked += 1;
                                value >= typical.saturating_mul(YEN_RATIO)
                                    && value >= largest.saturating_mul(5)
                            }
                            _ => false,
                        },
                    };
                    if suspect {
                        suspects += 1;
                        let position = merged.map.field(g, p, j, Field::Total(cost.year));
                        let label = describe(policy.code, project);
                        report.push(
                            Diagnostic::new(
                                Code::YenNotThousandYen,
                                position,
                                format!(
                                    "{label} の{}の事業費 {} 千円は、この事業のほかの年度や前の計画、計画全体の金額の約1,000倍です。円で入力していませんか。金額は千円単位で入力します。",
                                    cost.year.label(),
                                    Money::from_thousand_yen(value).grouped()
                                ),
                                format!(
                                    "{label}: the {} cost of {} 千円 is about 1,000 times the project's other years, its previous amounts or the plan's typical amounts: entered in 円 instead of 千円?",
                                    cost.year.label(),
                                    Money::from_thousand_yen(value).grouped()
                                ),
                            )
                            .with_field("事業費"),
                        );
                    }
                }
            }
        }
    }
    // The whole sheet: the changed rows' typical amount against the plan's.
    let sheet_median = median(sheet_amounts.clone());
    if let (Some(now), Some(before)) = (sheet_median, plan_median)
        && sheet_amounts.len() >= 3
        && now >= before.saturating_mul(YEN_RATIO)
        && suspects * 2 >= checked
    {
        let total: i64 = sheet_amounts.iter().sum();
        report.push(
            Diagnostic::new(
                Code::YenNotThousandYen,
                Position::File,
                format!(
                    "このシートで入力した事業費（{}件、合計 {} 千円）は、これまでの計画の金額のおよそ1,000倍です（中央値 {} 千円、これまでは {} 千円）。シート全体を円で入力していませんか。金額は千円単位で入力し直してください。",
                    sheet_amounts.len(),
                    Money::from_thousand_yen(total).grouped(),
                    Money::from_thousand_yen(now).grouped(),
                    Money::from_thousand_yen(before).grouped()
                ),
                format!(
                    "the costs entered in this sheet ({} amounts, {} 千円 in all) are about 1,000 times the plan's (median {} 千円, before {} 千円): was the whole sheet entered in 円? Enter amounts in 千円",
                    sheet_amounts.len(),
                    Money::from_thousand_yen(total).grouped(),
                    Money::from_thousand_yen(now).grouped(),
                    Money::from_thousand_yen(before).grouped()
                ),
            )
            .with_severity(crate::diagnostic::Severity::Error),
        );
    }
}

/// Reads one fiscal year's cells: `Ok(None)` when every cell is empty.
fn read_year(
    grid: &Grid,
    r: usize,
    columns: &[Located],
    year: FiscalYear,
    map: &mut ProjectMap,
    report: &mut Report,
) -> Result<Option<YearCost>, ()> {
    let mut cost = YearCost::empty(year);
    let mut present = false;
    let mut failed = false;
    for located in columns
        .iter()
        .filter(|c| matches!(c.column, Column::Amount(y, _) if y == year))
    {
        let Column::Amount(_, field) = located.column else {
            continue;
        };
        let position = grid.position(r, located.index);
        let (label, key) = match field {
            AmountField::Total => ("事業費", Field::Total(year)),
            AmountField::Earmarked => ("特定財源", Field::Earmarked(year)),
            AmountField::General => ("一般財源", Field::General(year)),
            AmountField::Kind(kind) => (kind.label(), Field::Breakdown(year, kind)),
        };
        map.fields.insert(key, position.clone());
        match amount_cell(grid.cell(r, located.index), &position, label, report) {
            Err(()) => failed = true,
            Ok(None) => {}
            Ok(Some(amount)) => {
                present = true;
                match field {
                    AmountField::Total => cost.total = amount,
                    AmountField::Earmarked => cost.earmarked = amount,
                    AmountField::General => cost.general = amount,
                    AmountField::Kind(kind) => {
                        if let Some(money) = amount {
                            cost.earmarked_breakdown.push((kind, money));
                        }
                    }
                }
            }
        }
    }
    if failed {
        return Err(());
    }
    cost.earmarked_breakdown
        .sort_by_key(|(kind, _): &(FundingKind, Money)| *kind);
    Ok(present.then_some(cost))
}

#[path = "sheet_structure.rs"]
mod structure;

#[cfg(test)]
#[path = "sheet_tests.rs"]
mod tests;
