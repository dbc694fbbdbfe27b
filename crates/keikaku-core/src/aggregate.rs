//! Totals of an edition grouped the ways people ask: by policy, goal, policy field (分野),
//! department, strategy code, 区分 or fiscal year.
//!
//! Rules: a project counts once in each group it belongs to, even when it has no amount
//! (a row of dashes counts as a project and adds nothing). A project with two departments or
//! two strategy codes counts under each, so rows can add up to more than the total line; the
//! total line counts every project once. Amounts are summed exactly in 千円.

use std::collections::HashMap;

use crate::fiscal::FiscalYear;
use crate::model::{Edition, Project};
use crate::money::Money;
use crate::status::STANDARD;

/// How to group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// 施策.
    Policy,
    /// 基本目標.
    Goal,
    /// The field (分野) of the goal, e.g. コミュニティ・行財政分野: the grouping that compares
    /// municipalities, whose goal numbers mean different things.
    Field,
    /// 担当課 (a project with several counts under each).
    Department,
    /// 地方創生事業 strategy code (a project with several counts under each).
    Strategy,
    /// 区分.
    Status,
    /// 年度.
    Year,
}

impl GroupBy {
    /// Every grouping, in menu order.
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Policy,
        GroupBy::Goal,
        GroupBy::Field,
        GroupBy::Department,
        GroupBy::Strategy,
        GroupBy::Status,
        GroupBy::Year,
    ];

    /// The name used on the command line and in JSON: `policy`, `goal`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Policy => "policy",
            GroupBy::Goal => "goal",
            GroupBy::Field => "field",
            GroupBy::Department => "department",
            GroupBy::Strategy => "strategy",
            GroupBy::Status => "status",
            GroupBy::Year => "year",
        }
    }

    /// The grouping called `name`.
    pub fn parse(name: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// The Japanese column heading: 施策, 基本目標, 担当課, 地方創生事業, 区分, 年度.
    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Policy => "施策",
            GroupBy::Goal => "基本目標",
            GroupBy::Field => "分野",
            GroupBy::Department => "担当課",
            GroupBy::Strategy => "地方創生事業",
            GroupBy::Status => "区分",
            GroupBy::Year => "年度",
        }
    }
}

/// Project count and amounts of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Number of projects.
    pub projects: u64,
    /// How many of them state a 事業費 in the years summed. When none does, the group has
    /// no amount (`-`), which is not 0: see [`Totals::stated`].
    pub priced: u64,
    /// 事業費 in 千円.
    pub cost: Money,
    /// 特定財源 in 千円.
    pub earmarked: Money,
    /// 一般財源 in 千円.
    pub general: Money,
    /// How many projects state a 特定財源 in the years summed (none: `-`, not 0).
    pub with_earmarked: u64,
    /// How many projects state a 一般財源 in the years summed (none: `-`, not 0).
    pub with_general: u64,
}

/// One of a group's sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sum {
    /// 事業費.
    Cost,
    /// 特定財源.
    Earmarked,
    /// 一般財源.
    General,
}

impl Totals {
    /// Adds another group's totals (projects counted in both count twice).
    pub fn add(&mut self, amounts: Totals) {
        self.projects += amounts.projects;
        self.priced += amounts.priced;
        self.with_earmarked += amounts.with_earmarked;
        self.with_general += amounts.with_general;
        self.cost = self.cost + amounts.cost;
        self.earmarked = self.earmarked + amounts.earmarked;
        self.general = self.general + amounts.general;
    }

    /// Adds one project with its amounts over the years summed (`None`: it states none).
    pub fn add_project(
        &mut self,
        cost: Option<Money>,
        earmarked: Option<Money>,
        general: Option<Money>,
    ) {
        self.projects += 1;
        self.priced += u64::from(cost.is_some());
        self.with_earmarked += u64::from(earmarked.is_some());
        self.with_general += u64::from(general.is_some());
        self.cost = self.cost + cost.unwrap_or(Money::ZERO);
        self.earmarked = self.earmarked + earmarked.unwrap_or(Money::ZERO);
        self.general = self.general + general.unwrap_or(Money::ZERO);
    }

    /// The sum `which`, or `None` when no project of the group states that amount: shown as
    /// `-`, never as 0.
    pub fn amount(&self, which: Sum) -> Option<Money> {
        match which {
            Sum::Cost => (self.priced > 0).then_some(self.cost),
            Sum::Earmarked => (self.with_earmarked > 0).then_some(self.earmarked),
            Sum::General => (self.with_general > 0).then_some(self.general),
        }
    }
}

/// One group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The group's key: `7-1`, `7`, `企画政策課`, `Ⅲ(4)` (or `none`), `継続`, `2020`.
    pub key: String,
    /// Its name: the policy or goal title, the department, the code, the status, `令和2年度`.
    pub name: String,
    /// Its totals.
    pub totals: Totals,
}

/// The key of the strategy group for projects without any strategy code.
pub const NO_STRATEGY: &str = "none";

/// The key of the field group for goals that state no field.
pub const NO_FIELD: &str = "none";

/// An edition's totals grouped one way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// The grouping.
    pub by: GroupBy,
    /// The fiscal year summed, or `None` for every year of the edition.
    pub year: Option<FiscalYear>,
    /// The groups, in the grouping's natural order.
    pub rows: Vec<Row>,
    /// Every project once.
    pub total: Totals,
    /// How many projects are counted in more than one row.
    pub counted_more_than_once: u64,
}

impl Aggregate {
    /// Orders rows by cost, largest first (ties by key order as before).
    pub fn sort_by_cost(&mut self) {
        self.rows
            .sort_by_key(|row| std::cmp::Reverse(row.totals.cost));
    }
}

/// The amounts of one project: its costs in `year`, or in every year.
fn project_amounts(project: &Project, year: Option<FiscalYear>) -> Totals {
    project_totals(project, |y| year.is_none_or(|wanted| y == wanted))
}

/// One project's totals over the fiscal years `keep` accepts: each sum over the years that
/// state it, no amount where none does (the project still counts).
pub fn project_totals(project: &Project, keep: impl Fn(FiscalYear) -> bool) -> Totals {
    let costs: Vec<_> = project.costs.iter().filter(|c| keep(c.year)).collect();
    let sum = |pick: fn(&crate::model::YearCost) -> Option<Money>| {
        costs.iter().filter_map(|c| pick(c)).reduce(|a, b| a + b)
    };
    let mut totals = Totals::default();
    totals.add_project(sum(|c| c.total), sum(|c| c.earmarked), sum(|c| c.general));
    totals
}

/// Groups `edition`'s projects by `by`, summing `year` only or every year.
pub fn aggregate(edition: &Edition, by: GroupBy, year: Option<FiscalYear>) -> Aggregate {
    let mut rows: Vec<Row> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut total = Totals::default();
    let mut counted_more_than_once = 0;
    let mut add = |rows: &mut Vec<Row>, key: String, name: String, amounts: Totals| {
        let i = *index.entry(key.clone()).or_insert_with(|| {
            rows.push(Row {
                key,
                name,
                totals: Totals::default(),
            });
            rows.len() - 1
        });
        rows[i].totals.add(amounts);
    };
    for goal in &edition.goals {
        for policy in &goal.policies {
            for project in &policy.projects {
                let amounts = project_amounts(project, year);
                total.add(amounts);
                match by {
                    GroupBy::Policy => add(
                        &mut rows,
                        policy.code.to_string(),
                        policy.title.clone(),
                        amounts,
                    ),
                    GroupBy::Goal => add(
                        &mut rows,
                        goal.number.to_string(),
                        goal.title.clone(),
                        amounts,
                    ),
                    GroupBy::Field if goal.field.is_empty() => add(
                        &mut rows,
                        NO_FIELD.to_owned(),
                        "（分野の記載なし）".to_owned(),
                        amounts,
                    ),
                    GroupBy::Field => {
                        add(&mut rows, goal.field.clone(), goal.field.clone(), amounts);
                    }
                    GroupBy::Department => {
                        let mut seen: Vec<&str> = Vec::new();
                        for department in &project.departments {
                            if !seen.contains(&department.as_str()) {
                                seen.push(department);
                                add(&mut rows, department.clone(), department.clone(), amounts);
                            }
                        }
                        if seen.len() > 1 {
                            counted_more_than_once += 1;
                        }
                    }
                    GroupBy::Strategy => {
                        let mut codes: Vec<_> = project.strategies.iter().map(|s| s.code).collect();
                        codes.sort_unstable();
                        codes.dedup();
                        if codes.is_empty() {
                            add(
                                &mut rows,
                                NO_STRATEGY.to_owned(),
                                "（地方創生事業以外）".to_owned(),
                                amounts,
                            );
                        }
                        if codes.len() > 1 {
                            counted_more_than_once += 1;
                        }
                        for code in codes {
                            add(&mut rows, code.to_string(), code.to_string(), amounts);
                        }
                    }
                    GroupBy::Status => {
                        let label = project.status.label().to_owned();
                        add(&mut rows, label.clone(), label, amounts);
                    }
                    GroupBy::Year => {
                        for cost in project
                            .costs
                            .iter()
                            .filter(|c| year.is_none_or(|y| c.year == y))
                        {
                            let one_year = project_amounts(project, Some(cost.year));
                            add(
                                &mut rows,
                                cost.year.year().to_string(),
                                cost.year.label(),
                                one_year,
                            );
                        }
                    }
                }
            }
        }
    }
    match by {
        GroupBy::Strategy => rows.sort_by_key(|r| {
            let code = crate::strategy::StrategyCode::parse(&r.key);
            (code.is_none(), code)
        }),
        GroupBy::Status => rows.sort_by_key(|r| {
            STANDARD
                .iter()
                .position(|(_, label)| *label == r.key)
                .unwrap_or(STANDARD.len())
        }),
        GroupBy::Year => rows.sort_by(|a, b| a.key.cmp(&b.key)),
        GroupBy::Policy | GroupBy::Goal | GroupBy::Field | GroupBy::Department => {}
    }
    Aggregate {
        by,
        year,
        rows,
        total,
        counted_more_than_once,
    }
}

/// One stored total of an edition: the groupings that compare municipalities, per year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearTotal {
    /// `all`, `field`, `strategy` or `status`.
    pub dimension: &'static str,
    /// The fiscal year.
    pub year: FiscalYear,
    /// The group's key (`all` for the whole edition).
    pub key: String,
    /// The group's name.
    pub name: String,
    /// Its totals in that year.
    pub totals: Totals,
}

/// The groupings stored per year for comparisons across municipalities.
pub const COMPARED: [GroupBy; 3] = [GroupBy::Field, GroupBy::Strategy, GroupBy::Status];

/// Every year of the edition: the total of all projects, and the totals by field, strategy
/// code and 区分. A project counts in every year of the edition, with or without an amount.
pub fn year_totals(edition: &Edition) -> Vec<YearTotal> {
    let mut out = Vec::new();
    for year in edition.span.years() {
        let all = aggregate(edition, GroupBy::Field, Some(year));
        out.push(YearTotal {
            dimension: "all",
            year,
            key: "all".to_owned(),
            name: "合計".to_owned(),
            totals: all.total,
        });
        for by in COMPARED {
            let grouped = if by == GroupBy::Field {
                all.clone()
            } else {
                aggregate(edition, by, Some(year))
            };
            out.extend(grouped.rows.into_iter().map(|row| YearTotal {
                dimension: by.as_str(),
                year,
                key: row.key,
                name: row.name,
                totals: row.totals,
            }));
        }
    }
    out
}
