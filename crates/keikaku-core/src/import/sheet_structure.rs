//! The structure sheet (施策体系) of the planning workbook: the edition's goals and policies,
//! one row each, read and merged into the stored edition before the projects are.
//!
//! A goal's row holds 基本目標番号, 基本目標 and 分野; a policy's row holds 施策コード (`1-1`:
//! the goal's number, then the policy's), 施策名 and めざすまちの姿, and may repeat its goal's
//! number. The sheet is the whole structure: a goal or policy added there is added, a title,
//! 分野 or めざすまちの姿 changed there is changed, and a policy whose row was deleted is
//! removed, which is an error while any project is still in it.
//!
//! The structure has one version, recorded in the instructions sheet when the workbook was
//! made ([`crate::sheet::structure_version`]): a structure sheet that still has it was not
//! changed in the workbook and keeps what is stored now; a changed one is applied only if the
//! stored structure is still what the workbook was made from, and is refused as `stale-row`
//! otherwise. Structures are few rows kept by the planning office, so one version for all of
//! them is enough to keep two workbooks from undoing each other. A workbook without a structure
//! sheet (made before it existed, or a test's) keeps the stored structure, and so does an
//! import whose [`crate::import::Context::structure_edits`] is off (a department's upload).

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::import::Base;
use crate::model::{Edition, Goal, Policy, PolicyCode};
use crate::sheet::grid::{Grid, Value};
use crate::sheet::{INFO_STRUCTURE, StructureColumn, is_row_version, structure_version};
use crate::validate::SourceMap;

/// Where each goal and policy of the structure sheet is.
#[derive(Debug, Clone, Default)]
pub(super) struct StructurePositions {
    goals: HashMap<u32, Position>,
    policies: HashMap<PolicyCode, Position>,
}

/// The stored edition with the workbook's structure in place, before its projects are merged.
pub(super) struct Structured {
    /// The edition to merge the projects into: the new structure, each policy with the stored
    /// projects of its code. Policies the sheet removed are kept in a last, extra goal (see
    /// `removed`), so that the projects still in them are found and reported.
    pub base: Base,
    /// True when the last goal of `base.edition` holds the policies the sheet removed.
    pub removed: bool,
    /// Where the sheet's goals and policies are.
    pub positions: StructurePositions,
    /// Where to point at the structure sheet as a whole (its 施策コード header).
    pub sheet_at: Option<Position>,
}

/// The goals and policies a structure sheet holds.
struct SheetStructure {
    goals: Vec<Goal>,
    positions: StructurePositions,
    /// The cells of each goal's and policy's row, in sheet order, to point at the first one
    /// that differs from what is stored.
    rows: Vec<(RowKey, Position)>,
    header_at: Position,
}

/// What a structure row names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKey {
    Goal(u32),
    Policy(PolicyCode),
}

/// Applies the structure sheet (if the workbook has one) to the stored edition.
pub(super) fn apply(
    base: &Base,
    info: &Grid,
    structure: Option<&Grid>,
    edits: bool,
    report: &mut Report,
) -> Structured {
    let keep = |sheet_at: Option<Position>, positions: StructurePositions| Structured {
        base: base.clone(),
        removed: false,
        positions,
        sheet_at,
    };
    let Some(grid) = structure else {
        return keep(None, StructurePositions::default());
    };
    let Some(sheet) = read(grid, report) else {
        return keep(None, StructurePositions::default());
    };
    let stored = &base.edition;
    let sheet_version = structure_version(&sheet.goals);
    let stored_version = structure_version(&stored.goals);
    let at = Some(sheet.header_at.clone());
    if sheet_version == stored_version {
        return keep(at, sheet.positions);
    }
    if !edits {
        // Only a changed structure sheet is worth a word.
        if info
            .info(INFO_STRUCTURE)
            .is_none_or(|(recorded, _)| recorded != sheet_version)
        {
            report.push(Diagnostic::new(
                Code::IgnoredCell,
                sheet.header_at.clone(),
                "施策体系シートの変更はこの取り込みでは反映しません（施策体系は企画担当が keikaku import で変更します）。",
                "the changes in the structure sheet are not applied by this import (the planning office changes the structure with keikaku import)",
            ));
        }
        return keep(at, StructurePositions::default());
    }
    match info.info(INFO_STRUCTURE) {
        Some((recorded, _)) if recorded == sheet_version => keep(at, sheet.positions),
        Some((recorded, position)) if !is_row_version(recorded) => {
            report.push(
                Diagnostic::new(
                    Code::BadVersion,
                    position.clone(),
                    format!("{INFO_STRUCTURE}「{recorded}」は keikaku が書いたものではありません。変更しないでください。"),
                    format!("the structure version {recorded:?} was not written by keikaku: do not edit it"),
                )
                .with_field(INFO_STRUCTURE),
            );
            keep(at, sheet.positions)
        }
        Some((recorded, _)) if recorded == stored_version => changed(base, sheet),
        None if stored.goals.is_empty() => changed(base, sheet),
        Some((recorded, _)) if recorded == structure_version(&[]) => {
            report.push(Diagnostic::new(
                Code::StaleRow,
                sheet.header_at.clone(),
                format!(
                    "このシートは白紙から作られましたが、計画期間 {} はすでに保存されています。keikaku template --edition {} で作ったシートを使ってください。",
                    stored.span, stored.span
                ),
                format!(
                    "this sheet was made blank, but the edition {} is stored now: use a sheet made by keikaku template --edition {}",
                    stored.span, stored.span
                ),
            ));
            keep(at, sheet.positions)
        }
        Some(_) => {
            let position = first_difference(&sheet, stored).unwrap_or(sheet.header_at.clone());
            report.push(Diagnostic::new(
                Code::StaleRow,
                position,
                "施策体系は、このシートを作った後にほかの取り込みで変更されています。このシートでも変更されているため取り込めません。keikaku template で新しいシートを作り、施策体系の変更を入れ直してください。",
                "the structure (goals and policies) was changed by another import after this sheet was made, and the sheet changes it too: make a new sheet with keikaku template and enter the structure changes again",
            ));
            keep(at, sheet.positions)
        }
        None => {
            report.push(Diagnostic::new(
                Code::BadVersion,
                sheet.header_at.clone(),
                format!("記入方法シートに「{INFO_STRUCTURE}」がありません。keikaku template で新しいシートを作ってください（施策体系を変えるには、シートを作った時の版が要ります）。"),
                format!("the instructions sheet has no {INFO_STRUCTURE:?}: make a new sheet with keikaku template (changing the structure needs the version it was made from)"),
            ));
            keep(at, sheet.positions)
        }
    }
}

/// The stored edition with the sheet's structure: each policy keeps the stored projects of its
/// code; stored policies the sheet has no row for go, with their projects, into an extra last
/// goal.
fn changed(base: &Base, sheet: SheetStructure) -> Structured {
    let mut stored: HashMap<PolicyCode, Policy> = base
        .edition
        .policies()
        .map(|p| (p.code, p.clone()))
        .collect();
    let mut goals = sheet.goals;
    for policy in goals.iter_mut().flat_map(|g| g.policies.iter_mut()) {
        if let Some(old) = stored.remove(&policy.code) {
            policy.projects = old.projects;
        }
    }
    let removed: Vec<Policy> = base
        .edition
        .policies()
        .filter_map(|p| stored.remove(&p.code))
        .collect();
    let any_removed = !removed.is_empty();
    if any_removed {
        goals.push(Goal {
            number: 0,
            title: String::new(),
            field: String::new(),
            policies: removed,
        });
    }
    let mut base = base.clone();
    base.edition.goals = goals;
    Structured {
        base,
        removed: any_removed,
        positions: sheet.positions,
        sheet_at: Some(sheet.header_at),
    }
}

/// The cell of the first goal or policy whose row differs from what is stored.
fn first_difference(sheet: &SheetStructure, stored: &Edition) -> Option<Position> {
    let goal = |n: u32| stored.goals.iter().find(|g| g.number == n);
    let policy = |c: PolicyCode| stored.policies().find(|p| p.code == c);
    sheet
        .rows
        .iter()
        .find(|(key, _)| match key {
            RowKey::Goal(n) => {
                let new = sheet.goals.iter().find(|g| g.number == *n);
                match (goal(*n), new) {
                    (Some(a), Some(b)) => a.title != b.title || a.field != b.field,
                    _ => true,
                }
            }
            RowKey::Policy(c) => {
                let new = sheet
                    .goals
                    .iter()
                    .flat_map(|g| &g.policies)
                    .find(|p| p.code == *c);
                match (policy(*c), new) {
                    (Some(a), Some(b)) => a.title != b.title || a.vision != b.vision,
                    _ => true,
                }
            }
        })
        .map(|(_, position)| position.clone())
}

/// After the projects are merged: a policy the sheet removed must hold no project. Each
/// project still in one is an error at its row's 施策コード cell (`policy_column`), or, for a
/// stored project the sheet has no row for, at the structure sheet. Then the extra goal goes,
/// and goals and policies point at their rows of the structure sheet.
pub(super) fn finish(
    structured: &Structured,
    edition: &mut Edition,
    map: &mut SourceMap,
    grid: &Grid,
    policy_column: usize,
    report: &mut Report,
) {
    if structured.removed
        && let Some(goal) = edition.goals.pop()
    {
        let goal_map = map.goals.pop().unwrap_or_default();
        for (p, policy) in goal.policies.iter().enumerate() {
            for (j, project) in policy.projects.iter().enumerate() {
                let row = goal_map
                    .policies
                    .get(p)
                    .and_then(|m| m.projects.get(j))
                    .and_then(|m| match &m.at {
                        Position::Cell { row, .. } => Some(*row as usize),
                        _ => None,
                    });
                let position = match row {
                    Some(row) => grid.position(row, policy_column),
                    None => structured.sheet_at.clone().unwrap_or_default(),
                };
                let code = policy.code;
                report.push(
                    Diagnostic::new(
                        Code::UnknownPolicy,
                        position,
                        format!(
                            "施策 {code}「{}」は施策体系シートから削除されていますが、事業 No.{} {}（事業ID {}）がまだこの施策にあります。事業をほかの施策に移すか「計画から外す」にしてから施策を削除してください。",
                            policy.title, project.number, project.name, project.id
                        ),
                        format!(
                            "policy {code} {:?} was deleted from the structure sheet but project No.{} {:?} (id {}) is still in it: move the project to another policy or take it out of the plan before deleting the policy",
                            policy.title, project.number, project.name, project.id
                        ),
                    )
                    .with_field("施策"),
                );
            }
        }
    }
    for (goal, goal_map) in edition.goals.iter().zip(map.goals.iter_mut()) {
        if let Some(at) = structured.positions.goals.get(&goal.number) {
            goal_map.at = at.clone();
        }
        for (policy, policy_map) in goal.policies.iter().zip(goal_map.policies.iter_mut()) {
            if let Some(at) = structured.positions.policies.get(&policy.code) {
                policy_map.at = at.clone();
            }
        }
    }
}

/// A text cell; a failed formula is reported and reads as empty.
fn text(
    grid: &Grid,
    r: usize,
    c: Option<usize>,
    label: &'static str,
    report: &mut Report,
) -> String {
    let Some(c) = c else {
        return String::new();
    };
    match grid.cell(r, c) {
        Value::Error(e) => {
            report.push(
                Diagnostic::new(
                    Code::FormulaError,
                    grid.position(r, c),
                    format!("計算式の結果がエラー（{e}）です。"),
                    format!("the formula gives an error ({e})"),
                )
                .with_field(label),
            );
            String::new()
        }
        value => value.text(),
    }
}

/// Reads the structure sheet; `None` when its header lacks a needed column (reported).
fn read(grid: &Grid, report: &mut Report) -> Option<SheetStructure> {
    let header = grid
        .rows
        .iter()
        .position(|r| r.iter().any(|v| !v.is_empty()))?;
    let mut columns: HashMap<StructureColumn, usize> = HashMap::new();
    for (index, value) in grid.rows[header].iter().enumerate() {
        match StructureColumn::parse(&value.text()) {
            Some(column) if !columns.contains_key(&column) => {
                columns.insert(column, index);
            }
            _ if value.is_empty() => {}
            _ => report.push(Diagnostic::new(
                Code::IgnoredCell,
                grid.position(header, index),
                format!("列「{}」は読み込みません。", value.text()),
                format!("column {:?} is not read", value.text()),
            )),
        }
    }
    let missing: Vec<&str> = [
        StructureColumn::GoalNumber,
        StructureColumn::GoalTitle,
        StructureColumn::Policy,
        StructureColumn::PolicyTitle,
    ]
    .into_iter()
    .filter(|c| !columns.contains_key(c))
    .map(StructureColumn::header)
    .collect();
    if !missing.is_empty() {
        report.push(Diagnostic::new(
            Code::BadHeader,
            grid.position(header, 0),
            format!("施策体系シートの見出しに {} の列がありません。keikaku template で作ったシートを使ってください。", missing.join("・")),
            format!("the structure sheet's header lacks {}; use a sheet made by keikaku template", missing.join(", ")),
        ));
        return None;
    }
    super::check_hidden_and_merged(grid, header, report);
    let column = |c: StructureColumn| columns.get(&c).copied();
    let header_at = grid.position(header, column(StructureColumn::Policy).unwrap_or(0));
    let mut goals: Vec<Goal> = Vec::new();
    let mut policies: Vec<(Policy, Position)> = Vec::new();
    let mut positions = StructurePositions::default();
    let mut rows = Vec::new();
    for r in header + 1..grid.rows.len() {
        if grid.rows[r].iter().all(Value::is_empty) {
            continue;
        }
        let cell = |c: StructureColumn| column(c).map(|i| grid.position(r, i)).unwrap_or_default();
        let number_text = text(
            grid,
            r,
            column(StructureColumn::GoalNumber),
            "基本目標番号",
            report,
        );
        let code_text = text(
            grid,
            r,
            column(StructureColumn::Policy),
            "施策コード",
            report,
        );
        let goal_number = if number_text.is_empty() {
            None
        } else {
            match number_text.parse::<u32>() {
                Ok(n) if (1..1000).contains(&n) => Some(n),
                _ => {
                    report.push(
                        Diagnostic::new(
                            Code::BadNumber,
                            cell(StructureColumn::GoalNumber),
                            format!(
                                "基本目標番号「{number_text}」は1から999の整数ではありません。"
                            ),
                            format!(
                                "goal number {number_text:?} is not a whole number from 1 to 999"
                            ),
                        )
                        .with_field("基本目標番号"),
                    );
                    continue;
                }
            }
        };
        if !code_text.is_empty() {
            let at = cell(StructureColumn::Policy);
            let Some(code) = PolicyCode::parse(&code_text) else {
                report.push(
                    Diagnostic::new(
                        Code::BadPolicyCode,
                        at,
                        format!("施策コード「{code_text}」が読めません（例: 1-1）。"),
                        format!("cannot read policy code {code_text:?} (expected e.g. 1-1)"),
                    )
                    .with_field("施策コード"),
                );
                continue;
            };
            if let Some(n) = goal_number.filter(|n| *n != code.goal()) {
                report.push(
                    Diagnostic::new(
                        Code::PolicyGoalMismatch,
                        cell(StructureColumn::GoalNumber),
                        format!("施策 {code} の行の基本目標番号が {n} です。施策コードの先頭の数字（{}）と同じにしてください。", code.goal()),
                        format!("the row of policy {code} says goal {n}; its code says goal {}", code.goal()),
                    )
                    .with_field("基本目標番号"),
                );
                continue;
            }
            if let Some(first) = positions.policies.get(&code) {
                report.push(
                    Diagnostic::new(
                        Code::DuplicatePolicy,
                        at,
                        format!("施策 {code} が2回あります（最初は {first}）。"),
                        format!("policy {code} appears twice (first at {first})"),
                    )
                    .with_field("施策コード"),
                );
                continue;
            }
            let title = text(
                grid,
                r,
                column(StructureColumn::PolicyTitle),
                "施策名",
                report,
            );
            if title.is_empty() {
                report.push(missing_title(
                    cell(StructureColumn::PolicyTitle),
                    "施策名",
                    &code.to_string(),
                ));
            }
            for extra in [StructureColumn::GoalTitle, StructureColumn::Field] {
                ignored_on(grid, r, column(extra), "施策", report);
            }
            let vision = text(
                grid,
                r,
                column(StructureColumn::Vision),
                "めざすまちの姿",
                report,
            );
            positions.policies.insert(code, at.clone());
            rows.push((RowKey::Policy(code), at.clone()));
            policies.push((
                Policy {
                    code,
                    title,
                    vision,
                    projects: Vec::new(),
                },
                at,
            ));
        } else if let Some(number) = goal_number {
            let at = cell(StructureColumn::GoalNumber);
            if let Some(first) = positions.goals.get(&number) {
                report.push(
                    Diagnostic::new(
                        Code::DuplicateGoal,
                        at,
                        format!("基本目標{number} の行が2つあります（最初は {first}）。"),
                        format!("goal {number} has two rows (first at {first})"),
                    )
                    .with_field("基本目標番号"),
                );
                continue;
            }
            let title = text(
                grid,
                r,
                column(StructureColumn::GoalTitle),
                "基本目標",
                report,
            );
            if title.is_empty() {
                report.push(missing_title(
                    cell(StructureColumn::GoalTitle),
                    "基本目標",
                    &format!("基本目標{number}"),
                ));
            }
            ignored_on(
                grid,
                r,
                column(StructureColumn::PolicyTitle),
                "基本目標",
                report,
            );
            ignored_on(grid, r, column(StructureColumn::Vision), "基本目標", report);
            let field = text(grid, r, column(StructureColumn::Field), "分野", report);
            positions.goals.insert(number, at.clone());
            rows.push((RowKey::Goal(number), at));
            goals.push(Goal {
                number,
                title,
                field,
                policies: Vec::new(),
            });
        } else {
            report.push(
                Diagnostic::new(
                    Code::BadPolicyCode,
                    cell(StructureColumn::Policy),
                    "この行には基本目標番号も施策コードもありません。基本目標の行には基本目標番号を、施策の行には施策コードを書いてください。",
                    "this row has neither a goal number nor a policy code: a goal's row needs its number, a policy's row its code",
                )
                .with_field("施策コード"),
            );
        }
    }
    for (policy, at) in policies {
        match goals.iter_mut().find(|g| g.number == policy.code.goal()) {
            Some(goal) => goal.policies.push(policy),
            None => report.push(
                Diagnostic::new(
                    Code::PolicyGoalMismatch,
                    at,
                    format!(
                        "施策 {} の基本目標{} の行がありません。基本目標の行（基本目標番号・基本目標・分野）を追加してください。",
                        policy.code,
                        policy.code.goal()
                    ),
                    format!(
                        "policy {} belongs to goal {}, which has no row: add the goal's row (number, title, field)",
                        policy.code,
                        policy.code.goal()
                    ),
                )
                .with_field("施策コード"),
            ),
        }
    }
    Some(SheetStructure {
        goals,
        positions,
        rows,
        header_at,
    })
}

fn missing_title(position: Position, label: &'static str, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MissingName,
        position,
        format!("{what} の{label}がありません。"),
        format!("{what} has no title ({label})"),
    )
    .with_field(label)
}

/// A cell that belongs to the other kind of row: not read, with a warning.
fn ignored_on(grid: &Grid, r: usize, c: Option<usize>, kind: &str, report: &mut Report) {
    let Some(c) = c else { return };
    let value = grid.cell(r, c);
    if value.is_empty() {
        return;
    }
    report.push(Diagnostic::new(
        Code::IgnoredCell,
        grid.position(r, c),
        format!(
            "{kind}の行のこのセル（「{}」）は読み込みません。",
            value.text()
        ),
        format!(
            "this cell ({:?}) is not read on a row of a {}",
            value.text(),
            if kind == "施策" { "policy" } else { "goal" }
        ),
    ));
}
