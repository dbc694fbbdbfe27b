//! Reads the planning office's spreadsheet (xlsx or CSV, see [`crate::sheet`]) into a stored
//! edition: the edition keeps its goals and policies, and its projects become the sheet's
//! rows. A row with a 事業ID updates that project; a row without one is a new project; a
//! project missing from the sheet has ended.
//!
//! Every problem points at its cell (`file.xlsx:実施計画!F12`, or `file.csv:12:6` for CSV):
//! the checks common to every layout, plus what only a spreadsheet can get wrong: a policy the
//! edition does not have, an id from another edition or one edited by hand, a failed formula,
//! hidden rows, merged cells, a row pasted twice, amounts that look like 円 instead of 千円.

use std::collections::{HashMap, HashSet};

use super::{Base, Context, Layout, Parsed, ReadEdition};
use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::FiscalYear;
use crate::model::{Edition, FundingKind, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::{Money, Unit, parse_amount};
use crate::sheet::grid::{Grid, Value, looks_like_xlsx, read_csv, read_xlsx};
use crate::sheet::{AmountField, Column, INFO_CODE, INFO_EDITION, split_list};
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
        match read_xlsx(source.bytes) {
            Ok(grid) => read_grid(&grid, context),
            Err(diagnostic) => failed(diagnostic),
        }
    }
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
        match read_csv(source.bytes, context.encoding) {
            Ok(grid) => read_grid(&grid, context),
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

/// A row read from the sheet, before its id is settled.
struct RowRead {
    policy: usize,
    project: Project,
    map: ProjectMap,
    new: bool,
}

/// Reads the grid into the base edition.
fn read_grid(grid: &Grid, context: &Context) -> Parsed {
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
    let policies: Vec<&Policy> = base.edition.policies().collect();
    // Looked up once per row: a scan of the edition per row made updates quadratic.
    let own_ids: HashSet<&str> = base
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
        if let Some(row) = read_row(grid, r, &columns, &policies, base, &own_ids, &mut report) {
            rows.push(row);
        }
    }
    let edition = assemble(base, rows, grid, header, &columns);
    if let Some(previous) = &base.previous {
        check_magnitude(&edition.0, previous, &mut report);
    }
    Parsed {
        editions: vec![ReadEdition {
            edition: edition.0,
            map: edition.1,
            population: None,
        }],
        report,
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
    base: &Base,
    own_ids: &HashSet<&str>,
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

    let mut new = true;
    let mut id = None;
    if let Some((value, position)) = cell(Column::Id) {
        map.fields.insert(Field::Id, position.clone());
        let text = text_cell(value, &position, "事業ID", report);
        if !text.is_empty() {
            new = false;
            let in_edition = own_ids.contains(text.as_str());
            match ProjectId::parse(&text) {
                Some(parsed) if in_edition => id = Some(parsed),
                Some(_) => {
                    let (code, ja, en) = match base.other_ids.get(&text) {
                        Some(place) => (
                            Code::ForeignId,
                            format!(
                                "事業ID {text} は {place} の事業のものです。この計画期間の行にはその事業IDを使えません。"
                            ),
                            format!("project id {text} belongs to {place}, not to this edition"),
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
                }
                None => {
                    report.push(
                        Diagnostic::new(
                            Code::BadId,
                            position,
                            format!("事業ID「{text}」は使えない文字を含みます。"),
                            format!("project id {text:?} is not valid"),
                        )
                        .with_field("事業ID"),
                    );
                }
            }
        }
    }

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
        match StrategyCode::parse(raw) {
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
                        format!("地方創生事業の番号「{raw}」が読めません（例: Ⅲ(4)）。"),
                        format!("cannot read strategy code {raw:?} (expected e.g. Ⅲ(4))"),
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
    let placeholder = ProjectId::invalid(&format!("row{}", r + 1));
    let project = Project {
        id: id.unwrap_or(placeholder),
        number,
        name,
        summary,
        status,
        departments,
        strategies,
        costs,
    };
    Some(RowRead {
        policy,
        project,
        map,
        new,
    })
}

/// The edition with the sheet's rows as its projects, and where each came from. New rows get
/// an id derived from the edition, made unique against every id known.
fn assemble(
    base: &Base,
    rows: Vec<RowRead>,
    grid: &Grid,
    header: usize,
    columns: &[Located],
) -> (Edition, SourceMap) {
    let mut edition = base.edition.clone();
    let policy_column = columns
        .iter()
        .find(|c| c.column == Column::Policy)
        .map_or(0, |c| c.index);
    let mut taken: HashSet<String> = base.other_ids.keys().cloned().collect();
    taken.extend(base.edition.projects().map(|(_, p)| p.id.to_string()));
    // The next suffix to try per derived id: rows sharing one (no 事業番号, say) must not
    // each search from -2 again, which made many such rows cost quadratic time.
    let mut next_suffix: HashMap<String, u32> = HashMap::new();
    let mut by_policy: Vec<Vec<(Project, ProjectMap)>> =
        vec![Vec::new(); edition.policies().count()];
    for RowRead {
        policy,
        mut project,
        map,
        new,
    } in rows
    {
        if new {
            let code = base.edition.policies().nth(policy).map(|p| p.code);
            if let Some(code) = code {
                let derived =
                    ProjectId::derived(&edition.municipality, edition.span, code, project.number);
                let mut candidate = derived.clone();
                let mut n = next_suffix.get(derived.as_str()).copied().unwrap_or(2);
                while taken.contains(candidate.as_str()) {
                    candidate = ProjectId::parse(&format!("{derived}-{n}"))
                        .unwrap_or_else(|| derived.clone());
                    n += 1;
                }
                next_suffix.insert(derived.to_string(), n);
                taken.insert(candidate.to_string());
                project.id = candidate;
            }
        }
        if let Some(list) = by_policy.get_mut(policy) {
            list.push((project, map));
        }
    }
    // Within a policy, projects follow their numbers, as the plan book lists them (a row
    // moved here from another policy takes its place by number, not by its row).
    for list in &mut by_policy {
        list.sort_by_key(|(project, _)| project.number);
    }
    let mut maps = Vec::new();
    let mut lists = by_policy.into_iter();
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
    (
        edition,
        SourceMap {
            edition: grid.position(header, 0),
            goals: maps,
        },
    )
}

/// Warns when every amount is at least 1,000 times the same project's amount in the previous
/// edition: the sheet was probably filled in 円 instead of 千円.
fn check_magnitude(edition: &Edition, previous: &Edition, report: &mut Report) {
    let largest = |project: &Project| {
        project
            .costs
            .iter()
            .filter_map(|c| c.total)
            .map(Money::thousand_yen)
            .max()
    };
    let before: HashMap<&str, i64> = previous
        .projects()
        .filter_map(|(_, p)| largest(p).filter(|v| *v > 0).map(|v| (p.id.as_str(), v)))
        .collect();
    let ratios: Vec<i64> = edition
        .projects()
        .filter_map(|(_, p)| Some((largest(p)?, *before.get(p.id.as_str())?)))
        .filter(|(now, _)| *now > 0)
        .map(|(now, then)| now / then)
        .collect();
    if ratios.len() >= 3 && ratios.iter().all(|r| *r >= 1_000) {
        report.push(Diagnostic::new(
            Code::YenNotThousandYen,
            Position::File,
            format!(
                "金額が前の計画期間（{}）の1,000倍以上になっています（{}事業すべて）。円で入力していませんか。金額は千円単位で入力します。",
                previous.span,
                ratios.len()
            ),
            format!(
                "every amount is at least 1,000 times the previous edition's ({}, {} projects): entered in 円 instead of 千円?",
                previous.span,
                ratios.len()
            ),
        ));
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

#[cfg(test)]
#[path = "sheet_tests.rs"]
mod tests;
