//! The open-data tables, defined once: every download format (CSV, Shift_JIS CSV, xlsx, the
//! Data Package) writes these same tables with these same columns.
//!
//! - 事業 (`projects`): one row per project per fiscal year of its edition.
//! - 施策 (`policies`): one row per policy, with its vision and totals.
//! - 基本目標 (`goals`): one row per goal.
//!
//! Leading columns are 全国地方公共団体コード and 地方公共団体名, as the 自治体標準オープン
//! データセット does. A missing amount (a `-` in the plan, or a year the plan does not state)
//! is an empty cell, never 0.

use crate::aggregate::{GroupBy, aggregate};
use crate::model::{Edition, FundingKind, YearCost};
use crate::money::Money;

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// A whole number (years, counts, numbers).
    Integer,
    /// A whole number of 千円.
    Amount,
}

/// A column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Header text (Japanese), also the field name in the Data Package schema.
    pub name: &'static str,
    /// Value type.
    pub kind: Kind,
    /// True when every row has a value.
    pub required: bool,
    /// What the column holds, for the schema's description.
    pub description: &'static str,
}

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text (may be empty).
    Text(String),
    /// A number, or no value.
    Integer(Option<i64>),
}

impl Cell {
    /// The cell as a CSV field: text (neutralised when written, see
    /// [`crate::export::csv::neutralise`]) or a number.
    pub fn field(&self) -> crate::export::csv::Field<'_> {
        match self {
            Cell::Text(text) => crate::export::csv::Field::text(text.as_str()),
            Cell::Integer(value) => crate::export::csv::Field::integer(*value),
        }
    }

    /// The cell as CSV text: numbers without separators, empty for no value, text that could
    /// start a formula with a quote in front.
    pub fn csv_text(&self) -> String {
        self.field().written().into_owned()
    }
}

/// A table of open data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// ASCII name, used for file names and Data Package resources: `projects`.
    pub name: &'static str,
    /// Japanese title, used for sheet names: `事業`.
    pub title: &'static str,
    /// Columns.
    pub columns: &'static [Column],
    /// Columns that identify a row.
    pub primary_key: &'static [&'static str],
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

const fn text(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
        required: true,
        description,
    }
}

const fn optional_text(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
        required: false,
        description,
    }
}

const fn integer(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Integer,
        required: true,
        description,
    }
}

const fn amount(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Amount,
        required: false,
        description,
    }
}

const fn total(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Amount,
        required: true,
        description,
    }
}

const CODE: Column = text(
    "全国地方公共団体コード",
    "6桁の全国地方公共団体コード（検査数字付き）",
);
const MUNICIPALITY: Column = text("地方公共団体名", "市区町村名");
const SPAN: Column = text("計画期間", "実施計画の期間（例: R2-R4 は令和2〜4年度）");

/// Columns of the 事業 table.
pub const PROJECT_COLUMNS: [Column; 24] = [
    CODE,
    MUNICIPALITY,
    SPAN,
    integer("基本目標番号", "基本目標の番号"),
    text("基本目標", "基本目標の名称"),
    text("施策コード", "施策の番号（例: 7-1）"),
    text("施策", "施策の名称"),
    text("事業ID", "計画の版をまたいで事業を識別するID"),
    integer("事業番号", "施策内の事業番号（No）"),
    text("事業名", "事業名"),
    optional_text("事業概要", "事業概要"),
    text("区分", "新規・継続などの区分"),
    optional_text(
        "地方創生事業",
        "総合戦略の基本目標と施策の番号（複数は空白区切り）",
    ),
    optional_text("担当課", "担当課（複数は空白区切り）"),
    integer("年度", "会計年度（西暦、4月始まりの年）"),
    text("年度表記", "会計年度の和暦表記"),
    amount("事業費（千円）", "事業費（千円）。空欄は計上なし"),
    amount("特定財源（千円）", "特定財源（千円）。空欄は計上なし"),
    amount("一般財源（千円）", "一般財源（千円）。空欄は計上なし"),
    amount("国庫支出金（千円）", "特定財源のうち国庫支出金（千円）"),
    amount("県支出金（千円）", "特定財源のうち県支出金（千円）"),
    amount(
        "国・県支出金（千円）",
        "特定財源のうち国・県支出金（千円、国と県を分けない資料）",
    ),
    amount("地方債（千円）", "特定財源のうち地方債（千円）"),
    amount("その他特定財源（千円）", "特定財源のうちその他（千円）"),
];

/// Columns of the 施策 table.
pub const POLICY_COLUMNS: [Column; 12] = [
    CODE,
    MUNICIPALITY,
    SPAN,
    integer("基本目標番号", "基本目標の番号"),
    text("施策コード", "施策の番号（例: 7-1）"),
    text("施策", "施策の名称"),
    optional_text("めざすまちの姿", "施策のめざすまちの姿（複数行）"),
    integer("事業数", "施策に属する事業の数"),
    total(
        "事業費計（千円）",
        "計画期間の事業費の合計（千円、計上なしは含めない）",
    ),
    total("特定財源計（千円）", "計画期間の特定財源の合計（千円）"),
    total("一般財源計（千円）", "計画期間の一般財源の合計（千円）"),
    integer("表示順", "計画書での掲載順"),
];

/// Columns of the 基本目標 table.
pub const GOAL_COLUMNS: [Column; 6] = [
    CODE,
    MUNICIPALITY,
    SPAN,
    integer("基本目標番号", "基本目標の番号"),
    text("基本目標", "基本目標の名称"),
    optional_text("分野", "基本目標の分野"),
];

fn t(text: impl Into<String>) -> Cell {
    Cell::Text(text.into())
}

fn n(value: i64) -> Cell {
    Cell::Integer(Some(value))
}

fn money(value: Option<Money>) -> Cell {
    Cell::Integer(value.map(Money::thousand_yen))
}

fn part(cost: Option<&YearCost>, kind: FundingKind) -> Cell {
    money(
        cost.and_then(|c| c.earmarked_breakdown.iter().find(|(k, _)| *k == kind))
            .map(|(_, m)| *m),
    )
}

/// The 事業 table of `editions`.
pub fn projects(editions: &[Edition]) -> Table {
    let mut rows = Vec::new();
    for edition in editions {
        let code = edition.municipality.code.to_string();
        for goal in &edition.goals {
            for policy in &goal.policies {
                for project in &policy.projects {
                    for year in edition.span.years() {
                        let cost = project.cost(year);
                        rows.push(vec![
                            t(code.clone()),
                            t(edition.municipality.name.clone()),
                            t(edition.span.label()),
                            n(i64::from(goal.number)),
                            t(goal.title.clone()),
                            t(policy.code.to_string()),
                            t(policy.title.clone()),
                            t(project.id.to_string()),
                            n(i64::from(project.number)),
                            t(project.name.clone()),
                            t(project.summary.clone()),
                            t(project.status.label()),
                            t(project
                                .strategies
                                .iter()
                                .map(|s| s.code.to_string())
                                .collect::<Vec<_>>()
                                .join(" ")),
                            t(project.departments.join(" ")),
                            n(i64::from(year.year())),
                            t(year.label()),
                            money(cost.and_then(|c| c.total)),
                            money(cost.and_then(|c| c.earmarked)),
                            money(cost.and_then(|c| c.general)),
                            part(cost, FundingKind::National),
                            part(cost, FundingKind::Prefectural),
                            part(cost, FundingKind::NationalAndPrefectural),
                            part(cost, FundingKind::Bonds),
                            part(cost, FundingKind::Other),
                        ]);
                    }
                }
            }
        }
    }
    Table {
        name: "projects",
        title: "事業",
        columns: &PROJECT_COLUMNS,
        primary_key: &["全国地方公共団体コード", "計画期間", "事業ID", "年度"],
        rows,
    }
}

/// The 施策 table of `editions`.
pub fn policies(editions: &[Edition]) -> Table {
    let mut rows = Vec::new();
    for edition in editions {
        let totals = aggregate(edition, GroupBy::Policy, None);
        for (position, (goal, policy)) in edition
            .goals
            .iter()
            .flat_map(|g| g.policies.iter().map(move |p| (g, p)))
            .enumerate()
        {
            let key = policy.code.to_string();
            let sums = totals
                .rows
                .iter()
                .find(|r| r.key == key)
                .map(|r| r.totals)
                .unwrap_or_default();
            rows.push(vec![
                t(edition.municipality.code.to_string()),
                t(edition.municipality.name.clone()),
                t(edition.span.label()),
                n(i64::from(goal.number)),
                t(key),
                t(policy.title.clone()),
                t(policy.vision.clone()),
                n(i64::try_from(sums.projects).unwrap_or(i64::MAX)),
                n(sums.cost.thousand_yen()),
                n(sums.earmarked.thousand_yen()),
                n(sums.general.thousand_yen()),
                n(i64::try_from(position + 1).unwrap_or(i64::MAX)),
            ]);
        }
    }
    Table {
        name: "policies",
        title: "施策",
        columns: &POLICY_COLUMNS,
        primary_key: &["全国地方公共団体コード", "計画期間", "施策コード"],
        rows,
    }
}

/// The 基本目標 table of `editions`.
pub fn goals(editions: &[Edition]) -> Table {
    let rows = editions
        .iter()
        .flat_map(|edition| {
            edition.goals.iter().map(move |goal| {
                vec![
                    t(edition.municipality.code.to_string()),
                    t(edition.municipality.name.clone()),
                    t(edition.span.label()),
                    n(i64::from(goal.number)),
                    t(goal.title.clone()),
                    t(goal.field.clone()),
                ]
            })
        })
        .collect();
    Table {
        name: "goals",
        title: "基本目標",
        columns: &GOAL_COLUMNS,
        primary_key: &["全国地方公共団体コード", "計画期間", "基本目標番号"],
        rows,
    }
}

/// Every table, in the order downloads list them.
pub fn all(editions: &[Edition]) -> Vec<Table> {
    vec![projects(editions), policies(editions), goals(editions)]
}
