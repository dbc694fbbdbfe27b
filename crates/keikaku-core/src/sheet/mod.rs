//! The planning office's spreadsheet: one row per project, the columns a department fills in.
//!
//! `keikaku template` writes it (xlsx with a drop-down for 区分, locked ids, 千円 number
//! formats and an instructions sheet, or the same columns as CSV); departments fill it in
//! Excel; `keikaku import` reads it back with every problem pointed at its cell
//! (`file.xlsx:実施計画!F12`). This module defines the columns once for both directions.
//!
//! Columns are found by their header text, so a sheet whose columns were reordered still
//! reads. Amount columns are named by fiscal year and field: `令和3年度 事業費（千円）`.

pub mod grid;
pub mod report;
pub mod template;
pub mod workbook;

use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{FundingKind, PolicyCode, Project};
use crate::money::Money;

/// The sheet holding the projects.
pub const PROJECT_SHEET: &str = "実施計画";
/// The sheet with instructions and the edition's identity.
pub const INFO_SHEET: &str = "記入方法";
/// The sheet listing the edition's policies (the choices of the policy column).
pub const POLICY_SHEET: &str = "施策一覧";
/// Label, in the info sheet, of the municipality code.
pub const INFO_CODE: &str = "団体コード";
/// Label, in the info sheet, of the edition.
pub const INFO_EDITION: &str = "計画期間";
/// Label, in the info sheet, of the municipality's name.
pub const INFO_NAME: &str = "団体名";
/// Label, in the info sheet, of the structure's version when the workbook was made (see
/// [`structure_version`]).
pub const INFO_STRUCTURE: &str = "施策体系の版";
/// The sheet holding the edition's goals and policies (its 施策体系), one row each.
pub const STRUCTURE_SHEET: &str = "施策体系";

/// What a column of the structure sheet holds. A goal's row has its number, title and 分野;
/// a policy's row has its code, title and めざすまちの姿 (and, for reading ease, its goal's
/// number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StructureColumn {
    /// 基本目標番号.
    GoalNumber,
    /// 基本目標 (the goal's title).
    GoalTitle,
    /// 分野 (the goal's field).
    Field,
    /// 施策コード, e.g. `1-1`.
    Policy,
    /// 施策名.
    PolicyTitle,
    /// めざすまちの姿.
    Vision,
}

impl StructureColumn {
    /// Every column, in the order the template writes them.
    pub const ALL: [StructureColumn; 6] = [
        StructureColumn::GoalNumber,
        StructureColumn::GoalTitle,
        StructureColumn::Field,
        StructureColumn::Policy,
        StructureColumn::PolicyTitle,
        StructureColumn::Vision,
    ];

    /// The header text.
    pub fn header(self) -> &'static str {
        match self {
            StructureColumn::GoalNumber => "基本目標番号",
            StructureColumn::GoalTitle => "基本目標",
            StructureColumn::Field => "分野",
            StructureColumn::Policy => "施策コード",
            StructureColumn::PolicyTitle => "施策名",
            StructureColumn::Vision => "めざすまちの姿",
        }
    }

    /// Reads a header cell.
    pub fn parse(header: &str) -> Option<StructureColumn> {
        let text = header.trim();
        StructureColumn::ALL
            .into_iter()
            .find(|c| c.header() == text)
    }
}

/// The version of an edition's structure (its goals and policies, without projects) as the
/// workbook records it under [`INFO_STRUCTURE`]: a short digest of every goal's number, title
/// and 分野 and every policy's code, title and めざすまちの姿, in order. On import, a structure
/// sheet that still has this version was not changed in the workbook; a stored structure whose
/// version differs was changed in the database since the workbook was made.
pub fn structure_version(goals: &[crate::model::Goal]) -> String {
    use sha2::{Digest, Sha256};
    let mut text = String::new();
    let mut field = |value: &str| {
        text.push_str(value);
        text.push('\u{1f}');
    };
    for goal in goals {
        field("goal");
        field(&goal.number.to_string());
        field(&goal.title);
        field(&goal.field);
        for policy in &goal.policies {
            field("policy");
            field(&policy.code.to_string());
            field(&policy.title);
            field(&policy.vision);
        }
    }
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Which amount of a year a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmountField {
    /// 事業費.
    Total,
    /// 特定財源.
    Earmarked,
    /// One kind of 特定財源.
    Kind(FundingKind),
    /// 一般財源.
    General,
}

impl AmountField {
    /// The fields of one year, in column order.
    pub const ALL: [AmountField; 8] = [
        AmountField::Total,
        AmountField::Earmarked,
        AmountField::Kind(FundingKind::National),
        AmountField::Kind(FundingKind::Prefectural),
        AmountField::Kind(FundingKind::NationalAndPrefectural),
        AmountField::Kind(FundingKind::Bonds),
        AmountField::Kind(FundingKind::Other),
        AmountField::General,
    ];

    /// Header text after the year.
    pub fn label(self) -> String {
        match self {
            AmountField::Total => "事業費".to_owned(),
            AmountField::Earmarked => "特定財源".to_owned(),
            AmountField::Kind(kind) => format!("うち{}", kind.label()),
            AmountField::General => "一般財源".to_owned(),
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// 施策コード.
    Policy,
    /// 事業番号.
    Number,
    /// 事業ID (stable id; empty for a new project).
    Id,
    /// 事業名.
    Name,
    /// 事業概要.
    Summary,
    /// 区分.
    Status,
    /// 地方創生事業.
    Strategies,
    /// 担当課.
    Departments,
    /// An amount of a fiscal year.
    Amount(FiscalYear, AmountField),
    /// 計画から外す: a mark (○) that takes the project out of this edition.
    Remove,
    /// 版: the version of the row when the sheet was made (locked; see [`row_version`]).
    Version,
}

/// The fixed columns before the amounts, with their headers.
const FIXED: [(Column, &str); 8] = [
    (Column::Policy, "施策コード"),
    (Column::Number, "事業番号"),
    (Column::Id, "事業ID"),
    (Column::Name, "事業名"),
    (Column::Summary, "事業概要"),
    (Column::Status, "区分"),
    (Column::Strategies, "地方創生事業"),
    (Column::Departments, "担当課"),
];

/// The columns after the amounts, with their headers.
const TRAILING: [(Column, &str); 2] = [(Column::Remove, "計画から外す"), (Column::Version, "版")];

/// The unit shown in amount headers.
const UNIT: &str = "（千円）";

impl Column {
    /// The header text.
    pub fn header(self) -> String {
        match self {
            Column::Amount(year, field) => format!("{} {}{UNIT}", year.label(), field.label()),
            named => FIXED
                .iter()
                .chain(&TRAILING)
                .find(|(c, _)| *c == named)
                .map_or_else(String::new, |(_, h)| (*h).to_owned()),
        }
    }

    /// Reads a header cell: the fixed names, or `〈year〉 〈field〉（千円）`.
    pub fn parse(header: &str) -> Option<Column> {
        let text = header.trim();
        if let Some((column, _)) = FIXED.iter().chain(&TRAILING).find(|(_, h)| *h == text) {
            return Some(*column);
        }
        let text = text
            .strip_suffix(UNIT)
            .or_else(|| text.strip_suffix("(千円)"))
            .unwrap_or(text)
            .trim();
        let (year, field) = text.split_once(char::is_whitespace)?;
        let year = FiscalYear::parse(year)?;
        let field = AmountField::ALL
            .into_iter()
            .find(|f| f.label() == field.trim())?;
        Some(Column::Amount(year, field))
    }
}

/// Every column of the sheet for an edition spanning `span`, in order.
pub fn columns(span: EditionSpan) -> Vec<Column> {
    let mut columns: Vec<Column> = FIXED.iter().map(|(c, _)| *c).collect();
    for year in span.years() {
        columns.extend(AmountField::ALL.iter().map(|f| Column::Amount(year, *f)));
    }
    columns.extend(TRAILING.iter().map(|(c, _)| *c));
    columns
}

/// Marks accepted in the 計画から外す column (an empty cell keeps the project).
pub const REMOVE_MARKS: [&str; 8] = ["○", "◯", "〇", "●", "1", "TRUE", "外す", "削除"];

/// True when `cell` (trimmed) is a mark of the 計画から外す column.
pub fn is_remove_mark(cell: &str) -> bool {
    let cell = cell.trim();
    REMOVE_MARKS.iter().any(|m| m.eq_ignore_ascii_case(cell))
}

/// The version of a project's row as the sheet shows it: a short digest of every field the
/// sheet holds (policy, number, id, texts, amounts of every year). The template writes it in
/// the locked 版 column; on import, a row whose content still has this digest was not changed
/// in the sheet, and a stored project whose digest differs was changed in the database since
/// the sheet was made. Equal content always gives the same digest.
pub fn row_version(policy: PolicyCode, project: &Project) -> String {
    use sha2::{Digest, Sha256};
    let mut text = String::new();
    let mut field = |value: &str| {
        text.push_str(value);
        text.push('\u{1f}');
    };
    let amount =
        |m: Option<Money>| m.map_or_else(|| "-".to_owned(), |m| m.thousand_yen().to_string());
    field(&policy.to_string());
    field(&project.number.to_string());
    field(project.id.as_str());
    field(&project.name);
    field(&project.summary);
    field(project.status.label());
    field(&project.departments.join("\u{1e}"));
    let strategies: Vec<&str> = project.strategies.iter().map(|s| s.raw.as_str()).collect();
    field(&strategies.join("\u{1e}"));
    for cost in &project.costs {
        field(&cost.year.year().to_string());
        field(&amount(cost.total));
        field(&amount(cost.earmarked));
        field(&amount(cost.general));
        for (kind, money) in &cost.earmarked_breakdown {
            field(kind.key());
            field(&money.thousand_yen().to_string());
        }
    }
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// True when `text` has the shape of a [`row_version`] (12 lower-case hex digits).
pub fn is_row_version(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The separator of several departments or strategy codes in one cell.
pub const LIST_SEPARATOR: &str = "、";

/// Splits a cell listing several departments (`企画政策課、財政課`, also spaces or commas).
pub fn split_list(cell: &str) -> Vec<String> {
    cell.split(|c: char| c.is_whitespace() || matches!(c, '、' | ',' | '，'))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `A1`-style reference of a 0-based row and column.
pub fn cell_name(row: usize, column: usize) -> String {
    let mut letters = String::new();
    let mut n = column + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.insert(0, char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

/// The 0-based row and column of an `A1`-style reference.
pub fn parse_cell_name(name: &str) -> Option<(usize, usize)> {
    let split = name.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = name.split_at(split);
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let column = letters.bytes().try_fold(0usize, |acc, b| {
        acc.checked_mul(26)?.checked_add(usize::from(b - b'A') + 1)
    })?;
    let row: usize = digits.parse().ok()?;
    Some((row.checked_sub(1)?, column - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let span = EditionSpan::parse("R3-R5").expect("span");
        let all = columns(span);
        assert_eq!(all.len(), 8 + 3 * 8 + 2);
        for column in &all {
            assert_eq!(
                Column::parse(&column.header()),
                Some(*column),
                "{}",
                column.header()
            );
        }
        assert_eq!(all[8].header(), "令和3年度 事業費（千円）");
        assert_eq!(Column::parse("R3 事業費"), Some(all[8]));
        assert_eq!(Column::parse("備考"), None);
    }

    #[test]
    fn cell_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(11, 5), "F12");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(9, 31), "AF10");
        for (row, column) in [(0, 0), (11, 5), (0, 26), (99, 701), (5, 702)] {
            assert_eq!(
                parse_cell_name(&cell_name(row, column)),
                Some((row, column))
            );
        }
        assert_eq!(parse_cell_name("12"), None);
        assert_eq!(parse_cell_name("A0"), None);
    }

    #[test]
    fn lists() {
        assert_eq!(
            split_list("企画政策課、経営改革推進室"),
            ["企画政策課", "経営改革推進室"]
        );
        assert_eq!(
            split_list("企画政策課 経営改革推進室"),
            ["企画政策課", "経営改革推進室"]
        );
        assert!(split_list("  ").is_empty());
    }
}
