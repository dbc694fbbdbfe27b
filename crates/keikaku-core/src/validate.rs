//! Checks that hold for every plan whatever layout it came from: sums, signs, limits,
//! duplicates, vocabulary. Importers check what only they can see (cells that are not
//! numbers, truncated files) and call [`check_edition`] for the rest.
//!
//! Validation never stops at the first problem: it returns every one, each located through
//! the importer's [`SourceMap`].

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic, Position, Report, Severity};
use crate::fiscal::FiscalYear;
use crate::model::{Edition, FundingKind, Project, YearCost};
use crate::money::Money;
use crate::status::Status;

/// What the user has configured about validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// 区分 words accepted besides the standard vocabulary (e.g. `見直し`).
    pub extra_statuses: Vec<String>,
    /// Amounts above this are [`Code::AbsurdAmount`]. Default: 1,000,000,000 千円 (one
    /// trillion yen), more than any municipality's yearly budget.
    pub max_amount: Money,
    /// Severity changes per code: `Some(severity)` or `None` to silence.
    pub severity_overrides: Vec<(Code, Option<Severity>)>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            extra_statuses: Vec::new(),
            max_amount: Money::from_thousand_yen(1_000_000_000),
            severity_overrides: Vec::new(),
        }
    }
}

impl Rules {
    /// True when `status` is standard or configured.
    pub fn accepts_status(&self, status: &Status) -> bool {
        match status {
            Status::Other(text) => self.extra_statuses.iter().any(|s| s == text),
            _ => true,
        }
    }

    /// True when `text` names an accepted status; importers use it to recognise the 区分
    /// cell by its content.
    pub fn is_status_word(&self, text: &str) -> bool {
        let status = Status::parse(text);
        status.is_standard() || self.accepts_status(&status)
    }
}

/// A field of a project, for locating problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// No.
    Number,
    /// 事業名.
    Name,
    /// 事業概要.
    Summary,
    /// 区分.
    Status,
    /// 地方創生事業.
    Strategy,
    /// 担当課.
    Department,
    /// Stable id.
    Id,
    /// 事業費 of a year.
    Total(FiscalYear),
    /// 特定財源 of a year.
    Earmarked(FiscalYear),
    /// 一般財源 of a year.
    General(FiscalYear),
    /// One kind of 特定財源 of a year.
    Breakdown(FiscalYear, FundingKind),
}

impl Field {
    /// The Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            Field::Number => "No",
            Field::Name => "事業名",
            Field::Summary => "事業概要",
            Field::Status => "区分",
            Field::Strategy => "地方創生事業",
            Field::Department => "担当課",
            Field::Id => "事業ID",
            Field::Total(_) => "事業費",
            Field::Earmarked(_) => "特定財源",
            Field::General(_) => "一般財源",
            Field::Breakdown(_, kind) => kind.label(),
        }
    }
}

/// Where each part of an edition was read, aligned with the edition's tree: goal `g`,
/// policy `p` of that goal, project `j` of that policy.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    /// The edition as a whole (e.g. the first table header).
    pub edition: Position,
    /// Per goal.
    pub goals: Vec<GoalMap>,
}

/// Positions within one goal.
#[derive(Debug, Clone, Default)]
pub struct GoalMap {
    /// The goal heading.
    pub at: Position,
    /// Per policy.
    pub policies: Vec<PolicyMap>,
}

/// Positions within one policy.
#[derive(Debug, Clone, Default)]
pub struct PolicyMap {
    /// The policy heading.
    pub at: Position,
    /// Per project.
    pub projects: Vec<ProjectMap>,
}

/// Positions of one project and its fields.
#[derive(Debug, Clone, Default)]
pub struct ProjectMap {
    /// The project's first line or row.
    pub at: Position,
    /// Fields whose position differs from the row's.
    pub fields: HashMap<Field, Position>,
}

impl SourceMap {
    fn policy(&self, g: usize, p: usize) -> Position {
        self.goals
            .get(g)
            .and_then(|goal| goal.policies.get(p))
            .map(|policy| policy.at.clone())
            .unwrap_or_else(|| self.edition.clone())
    }

    fn project(&self, g: usize, p: usize, j: usize) -> Option<&ProjectMap> {
        self.goals.get(g)?.policies.get(p)?.projects.get(j)
    }

    /// The position of `field` of project `j` of policy `p` of goal `g`, falling back to
    /// the project's row, then its policy.
    pub fn field(&self, g: usize, p: usize, j: usize, field: Field) -> Position {
        match self.project(g, p, j) {
            Some(project) => project
                .fields
                .get(&field)
                .cloned()
                .unwrap_or_else(|| project.at.clone()),
            None => self.policy(g, p),
        }
    }
}

impl SourceMap {
    fn goal(&self, g: usize) -> Position {
        self.goals
            .get(g)
            .map(|goal| goal.at.clone())
            .unwrap_or_else(|| self.edition.clone())
    }
}

/// The position of `key` inside `position` where positions are paths (`….title` in JSON);
/// other positions (a line, a cell) already point at the place.
fn keyed(position: &Position, key: &str) -> Position {
    match position {
        Position::Path(path) => Position::Path(format!("{path}.{key}")),
        other => other.clone(),
    }
}

/// The position of element `i` of a list field at `position` (`….departments[1]` in JSON).
fn indexed(position: &Position, i: usize) -> Position {
    match position {
        Position::Path(path) => Position::Path(format!("{path}[{i}]")),
        other => other.clone(),
    }
}

/// The name of a control character, for messages (`U+001B (ESC)`).
fn control_name(c: char) -> String {
    const C0: [&str; 32] = [
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
        "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB",
        "ESC", "FS", "GS", "RS", "US",
    ];
    let code = u32::from(c);
    let name = match code {
        0..=31 => C0.get(code as usize).copied(),
        0x7F => Some("DEL"),
        _ => None,
    };
    match name {
        Some(name) => format!("U+{code:04X} ({name})"),
        None => format!("U+{code:04X}"),
    }
}

/// A [`Code::ControlCharacter`] error when `text` holds a control character other than a
/// tab or a line break.
fn control_character(
    field: &'static str,
    text: &str,
    at: impl FnOnce() -> Position,
) -> Option<Diagnostic> {
    let (index, c) = text
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))?;
    let (name, n) = (control_name(c), index + 1);
    Some(
        Diagnostic::new(
            Code::ControlCharacter,
            at(),
            format!(
                "{field}の {n} 文字目に制御文字 {name} があります。制御文字（タブと改行のほか）は使えません。"
            ),
            format!(
                "{} holds the control character {name} at character {n}; control characters other than tabs and line breaks are not allowed",
                crate::diagnostic::field_in_english(field)
            ),
        )
        .with_field(field),
    )
}

fn check_text(report: &mut Report, field: &'static str, text: &str, at: Position) {
    if let Some(d) = control_character(field, text, || at) {
        report.push(d);
    }
}

/// Control characters in the edition's own texts: its title, the document it came from,
/// the municipality's name.
fn check_edition_texts(edition: &Edition, map: &SourceMap, report: &mut Report) {
    for (field, text, key) in [
        ("計画の題名", edition.title.as_str(), "title"),
        ("出典", edition.source.as_str(), "source"),
        ("団体名", edition.municipality.name.as_str(), "municipality"),
    ] {
        let at = if key == "municipality" {
            map.edition.clone()
        } else {
            keyed(&map.edition, key)
        };
        check_text(report, field, text, at);
    }
}

/// Checks an edition against the rules, returning every problem located via `map`.
pub fn check_edition(edition: &Edition, map: &SourceMap, rules: &Rules) -> Report {
    let mut report = Report::default();
    check_edition_texts(edition, map, &mut report);
    let mut policy_codes: HashMap<String, ()> = HashMap::new();
    let mut ids: HashMap<&str, (String, u32)> = HashMap::new();
    let mut goal_numbers: HashMap<u32, Position> = HashMap::new();
    for (g, goal) in edition.goals.iter().enumerate() {
        let goal_at = map.goal(g);
        if let Some(first) = goal_numbers.get(&goal.number) {
            report.push(
                Diagnostic::new(
                    Code::DuplicateGoal,
                    goal_at.clone(),
                    format!("基本目標{} が2回あります（最初は {first}）。", goal.number),
                    format!("goal {} appears twice (first at {first})", goal.number),
                )
                .with_field("基本目標"),
            );
        } else {
            goal_numbers.insert(goal.number, goal_at.clone());
        }
        for (field, text, key) in [
            ("基本目標", goal.title.as_str(), "title"),
            ("分野", goal.field.as_str(), "field"),
        ] {
            check_text(&mut report, field, text, keyed(&goal_at, key));
        }
        for (p, policy) in goal.policies.iter().enumerate() {
            let code = policy.code.to_string();
            let policy_at = map.policy(g, p);
            for (field, text, key) in [
                ("施策", policy.title.as_str(), "title"),
                ("めざすまちの姿", policy.vision.as_str(), "vision"),
            ] {
                check_text(&mut report, field, text, keyed(&policy_at, key));
            }
            if policy_codes.insert(code.clone(), ()).is_some() {
                report.push(
                    Diagnostic::new(
                        Code::DuplicatePolicy,
                        map.policy(g, p),
                        format!("施策 {code} が2回あります。"),
                        format!("policy {code} appears twice"),
                    )
                    .with_field("施策"),
                );
            }
            if policy.projects.is_empty() {
                report.push(
                    Diagnostic::new(
                        Code::EmptyPolicy,
                        map.policy(g, p),
                        format!("施策 {code} に事業がありません。"),
                        format!("policy {code} has no projects"),
                    )
                    .with_field("施策"),
                );
            }
            let mut numbers: HashMap<u32, Position> = HashMap::new();
            for (j, project) in policy.projects.iter().enumerate() {
                let at = |field| map.field(g, p, j, field);
                let mut duplicate_number = false;
                if project.number > 0 {
                    if let Some(first) = numbers.get(&project.number) {
                        duplicate_number = true;
                        report.push(
                            Diagnostic::new(
                                Code::DuplicateNumber,
                                at(Field::Number),
                                format!(
                                    "施策 {code} の No.{} が重複しています（最初は {first}）。",
                                    project.number
                                ),
                                format!(
                                    "policy {code} has No.{} twice (first at {first})",
                                    project.number
                                ),
                            )
                            .with_field("No"),
                        );
                    } else {
                        numbers.insert(project.number, at(Field::Number));
                    }
                }
                let label = format!("{code} No.{}", project.number);
                // Ids derived from numbers repeat when numbers do: report the number only.
                let previous = ids.insert(project.id.as_str(), (code.clone(), project.number));
                if let Some((other, n)) = previous.filter(|_| !duplicate_number) {
                    report.push(
                        Diagnostic::new(
                            Code::DuplicateId,
                            at(Field::Id),
                            format!("事業ID {} は {other} No.{n} と重複しています。", project.id),
                            format!("project id {} is also used by {other} No.{n}", project.id),
                        )
                        .with_field("事業ID"),
                    );
                }
                report.extend(check_project(project, &label, edition, rules, &at));
            }
        }
    }
    report
}

/// The checks on one project.
fn check_project(
    project: &Project,
    label: &str,
    edition: &Edition,
    rules: &Rules,
    at: &dyn Fn(Field) -> Position,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if project.name.trim().is_empty() {
        out.push(
            Diagnostic::new(
                Code::MissingName,
                at(Field::Name),
                format!("{label} の事業名がありません。"),
                format!("{label} has no project name"),
            )
            .with_field("事業名"),
        );
    }
    match &project.status {
        Status::Other(text) if text.is_empty() => out.push(Diagnostic::new(
            Code::MissingStatus,
            at(Field::Status),
            format!("{label} の区分がありません。"),
            format!("{label} has no status (区分)"),
        ).with_field("区分")),
        status if !rules.accepts_status(status) => out.push(Diagnostic::new(
            Code::UnknownStatus,
            at(Field::Status),
            format!(
                "{label} の区分「{status}」は認められた語ではありません（新規・継続・拡充・縮小・完了・休止・統合・廃止）。\
                 使う場合は設定の validation.extra_statuses に追加してください。"
            ),
            format!(
                "{label}: status \"{status}\" is not in the accepted vocabulary \
                 (新規 継続 拡充 縮小 完了 休止 統合 廃止); add it to validation.extra_statuses to accept it"
            ),
        ).with_field("区分")),
        _ => {}
    }
    for (field, text, key) in [
        (Field::Name, project.name.as_str(), None),
        (Field::Summary, project.summary.as_str(), None),
        (Field::Status, project.status.label(), None),
    ]
    .into_iter()
    .chain(
        project
            .departments
            .iter()
            .enumerate()
            .map(|(i, d)| (Field::Department, d.as_str(), Some(i))),
    )
    .chain(
        project
            .strategies
            .iter()
            .enumerate()
            .map(|(i, s)| (Field::Strategy, s.raw.as_str(), Some(i))),
    ) {
        if let Some(d) = control_character(field.label(), text, || match key {
            Some(i) => indexed(&at(field), i),
            None => at(field),
        }) {
            out.push(d);
        }
    }
    let mut years: HashMap<FiscalYear, ()> = HashMap::new();
    for cost in &project.costs {
        if years.insert(cost.year, ()).is_some() {
            out.push(
                Diagnostic::new(
                    Code::DuplicateYear,
                    at(Field::Total(cost.year)),
                    format!(
                        "{label} の{}の金額が2回あります。1年度に1つにしてください。",
                        cost.year.label()
                    ),
                    format!(
                        "{label} gives the amounts of FY{} twice; give each year once",
                        cost.year.year()
                    ),
                )
                .with_field("年度"),
            );
        }
    }
    if project.departments.is_empty() {
        out.push(
            Diagnostic::new(
                Code::MissingDepartment,
                at(Field::Department),
                format!("{label} の担当課がありません。"),
                format!("{label} has no department"),
            )
            .with_field("担当課"),
        );
    }
    for cost in &project.costs {
        out.extend(check_cost(cost, label, edition, rules, at));
    }
    out
}

/// The checks on one year's amounts: range, sign, limit, sums.
fn check_cost(
    cost: &YearCost,
    label: &str,
    edition: &Edition,
    rules: &Rules,
    at: &dyn Fn(Field) -> Position,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let year = cost.year;
    if !edition.span.contains(year) {
        out.push(
            Diagnostic::new(
                Code::YearOutsideEdition,
                at(Field::Total(year)),
                format!(
                    "{label} の {} の金額は計画期間 {} の外です。",
                    year.label(),
                    edition.span.long_label()
                ),
                format!(
                    "{label}: an amount for FY{} lies outside the edition {}",
                    year.year(),
                    edition.span
                ),
            )
            .with_field("年度"),
        );
    }
    let mut amounts: Vec<(Field, Money)> = Vec::new();
    amounts.extend(cost.total.map(|m| (Field::Total(year), m)));
    amounts.extend(cost.earmarked.map(|m| (Field::Earmarked(year), m)));
    amounts.extend(cost.general.map(|m| (Field::General(year), m)));
    amounts.extend(
        cost.earmarked_breakdown
            .iter()
            .map(|(k, m)| (Field::Breakdown(year, *k), *m)),
    );
    for (field, money) in &amounts {
        if money.is_negative() {
            out.push(
                Diagnostic::new(
                    Code::NegativeAmount,
                    at(*field),
                    format!(
                        "{label} の{}（{}）が負の値 {} です。",
                        field.label(),
                        year.label(),
                        money
                    ),
                    format!(
                        "{label}: {} for FY{} is negative ({})",
                        crate::diagnostic::field_in_english(field.label()),
                        year.year(),
                        money.thousand_yen()
                    ),
                )
                .with_field(field.label()),
            );
        } else if *money > rules.max_amount {
            out.push(Diagnostic::new(
                Code::AbsurdAmount,
                at(*field),
                format!(
                    "{label} の{}（{}）{} は上限 {} を超えています。単位（千円）を確認してください。",
                    field.label(), year.label(), money, rules.max_amount
                ),
                format!(
                    "{label}: {} for FY{} is {} thousand yen, above the limit of {}; check the unit (千円)",
                    crate::diagnostic::field_in_english(field.label()), year.year(), money.grouped(), rules.max_amount.grouped()
                ),
            ).with_field(field.label()));
        }
    }
    match (cost.total, cost.earmarked, cost.general) {
        (Some(total), Some(earmarked), Some(general))
            if earmarked.checked_add(general) != Some(total) =>
        {
            out.push(
                Diagnostic::new(
                    Code::SumMismatch,
                    at(Field::Total(year)),
                    format!(
                        "{label} の{}: 事業費 {} ≠ 特定財源 {} + 一般財源 {}（計 {}）",
                        year.label(),
                        total.grouped(),
                        earmarked.grouped(),
                        general.grouped(),
                        (earmarked + general).grouped()
                    ),
                    format!(
                        "{label} FY{}: total {} ≠ earmarked {} + general {} (= {})",
                        year.year(),
                        total.grouped(),
                        earmarked.grouped(),
                        general.grouped(),
                        (earmarked + general).grouped()
                    ),
                )
                .with_field("事業費"),
            );
        }
        (Some(total), earmarked, general) if earmarked.is_none() || general.is_none() => {
            // A part with no amount (`-`, or not stated) adds nothing: when the parts given
            // do not make up the total, the split is incomplete. A warning, since a plan
            // read with its funding lines missing is stored (and exported) this way.
            let parts: Money = earmarked.into_iter().chain(general).sum();
            if parts != total {
                let show = |m: Option<Money>| m.map_or_else(|| "-".to_owned(), Money::grouped);
                let (t, e, g) = (total.grouped(), show(earmarked), show(general));
                out.push(
                    Diagnostic::new(
                        Code::MissingFundingSplit,
                        at(Field::Total(year)),
                        format!(
                            "{label} の{}: 事業費 {t} に対して 特定財源 {e}・一般財源 {g} で、内訳がそろっていません。分かる金額だけを読みました。",
                            year.label()
                        ),
                        format!(
                            "{label} FY{}: total {t} but earmarked {e} and general {g}: the split into 特定財源 and 一般財源 is incomplete; only the amounts given were read",
                            year.year()
                        ),
                    )
                    .with_field("事業費"),
                );
            }
        }
        (None, earmarked, general) => {
            let parts: Money = earmarked.into_iter().chain(general).sum();
            if parts != Money::ZERO {
                out.push(
                    Diagnostic::new(
                        Code::SumMismatch,
                        at(Field::Total(year)),
                        format!(
                            "{label} の{}: 事業費が「-」なのに財源が {} あります。",
                            year.label(),
                            parts.grouped()
                        ),
                        format!(
                            "{label} FY{}: total is '-' but the funding adds up to {}",
                            year.year(),
                            parts.grouped()
                        ),
                    )
                    .with_field("事業費"),
                );
            }
        }
        _ => {}
    }
    if !cost.earmarked_breakdown.is_empty() {
        let sum: Money = cost.earmarked_breakdown.iter().map(|(_, m)| *m).sum();
        if cost.earmarked != Some(sum) {
            let earmarked = cost
                .earmarked
                .map_or_else(|| "-".to_owned(), Money::grouped);
            out.push(
                Diagnostic::new(
                    Code::BreakdownMismatch,
                    at(Field::Earmarked(year)),
                    format!(
                        "{label} の{}: 特定財源 {earmarked} ≠ 内訳の合計 {}",
                        year.label(),
                        sum.grouped()
                    ),
                    format!(
                        "{label} FY{}: earmarked {earmarked} ≠ sum of its breakdown {}",
                        year.year(),
                        sum.grouped()
                    ),
                )
                .with_field("特定財源"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::EditionSpan;
    use crate::municipality::{Municipality, MunicipalityCode};
    use crate::strategy::StrategyLink;
    use crate::synth::Generator;

    /// A small edition and the map a JSON document would give it.
    fn edition() -> (Edition, SourceMap) {
        let municipality = Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        };
        let span = EditionSpan::parse("R2-R4").expect("span");
        let edition = Generator::new(3).edition(&municipality, span, 2, 2, true);
        let edition_at = "municipalities[0].editions[0]";
        let map = SourceMap {
            edition: Position::Path(edition_at.into()),
            goals: edition
                .goals
                .iter()
                .enumerate()
                .map(|(g, goal)| GoalMap {
                    at: Position::Path(format!("{edition_at}.goals[{g}]")),
                    policies: goal
                        .policies
                        .iter()
                        .enumerate()
                        .map(|(p, policy)| {
                            let at = format!("{edition_at}.goals[{g}].policies[{p}]");
                            PolicyMap {
                                at: Position::Path(at.clone()),
                                projects: (0..policy.projects.len())
                                    .map(|j| {
                                        let at = format!("{at}.projects[{j}]");
                                        let mut fields = HashMap::new();
                                        for (field, key) in [
                                            (Field::Name, "name"),
                                            (Field::Summary, "summary"),
                                            (Field::Status, "status"),
                                            (Field::Department, "departments"),
                                            (Field::Strategy, "strategies"),
                                        ] {
                                            fields.insert(
                                                field,
                                                Position::Path(format!("{at}.{key}")),
                                            );
                                        }
                                        for (c, cost) in policy.projects[j].costs.iter().enumerate()
                                        {
                                            fields.insert(
                                                Field::Total(cost.year),
                                                Position::Path(format!("{at}.costs[{c}].total")),
                                            );
                                        }
                                        ProjectMap {
                                            at: Position::Path(at),
                                            fields,
                                        }
                                    })
                                    .collect(),
                            }
                        })
                        .collect(),
                })
                .collect(),
        };
        (edition, map)
    }

    fn problems(edition: &Edition, map: &SourceMap) -> Vec<(Code, String)> {
        check_edition(edition, map, &Rules::default())
            .diagnostics
            .into_iter()
            .map(|d| (d.code, d.position.to_string()))
            .collect()
    }

    #[test]
    fn control_characters_are_refused_in_every_text_field() {
        let (clean, map) = edition();
        assert_eq!(problems(&clean, &map), []);
        let e = "municipalities[0].editions[0]";
        let p = format!("{e}.goals[0].policies[0]");
        let j = format!("{p}.projects[1]");
        type Change = fn(&mut Edition);
        let cases: Vec<(Change, String)> = vec![
            (|x| x.title.push('\u{1b}'), format!("{e}.title")),
            (|x| x.source.push('\u{0}'), format!("{e}.source")),
            (|x| x.municipality.name.push('\u{7}'), e.to_owned()),
            (
                |x| x.goals[0].title.push('\u{8}'),
                format!("{e}.goals[0].title"),
            ),
            (
                |x| x.goals[0].field.push('\u{7f}'),
                format!("{e}.goals[0].field"),
            ),
            (
                |x| x.goals[0].policies[0].title.push('\u{9b}'),
                format!("{p}.title"),
            ),
            (
                |x| x.goals[0].policies[0].vision.push('\u{c}'),
                format!("{p}.vision"),
            ),
            (
                |x| x.goals[0].policies[0].projects[1].name.push('\u{1b}'),
                format!("{j}.name"),
            ),
            (
                |x| x.goals[0].policies[0].projects[1].summary.push('\u{0}'),
                format!("{j}.summary"),
            ),
            (
                |x| x.goals[0].policies[0].projects[1].status = Status::Other("継\u{1b}続".into()),
                format!("{j}.status"),
            ),
            (
                |x| {
                    x.goals[0].policies[0].projects[1]
                        .departments
                        .push("課\u{7}".into())
                },
                format!("{j}.departments[1]"),
            ),
            (
                |x| {
                    let project = &mut x.goals[0].policies[0].projects[1];
                    let code = crate::strategy::StrategyCode::parse("Ⅲ(4)").expect("code");
                    project.strategies = vec![StrategyLink {
                        code,
                        raw: "Ⅲ(4)\u{1b}".into(),
                    }];
                },
                format!("{j}.strategies[0]"),
            ),
        ];
        for (change, at) in cases {
            let mut edition = clean.clone();
            change(&mut edition);
            let found: Vec<(Code, String)> = problems(&edition, &map)
                .into_iter()
                .filter(|(code, _)| *code == Code::ControlCharacter)
                .collect();
            assert_eq!(found, [(Code::ControlCharacter, at.clone())], "{at}");
        }
        // Tabs and line breaks are text.
        let mut edition = clean.clone();
        edition.goals[0].policies[0].vision = "一行目\r\n二行目\t続き".into();
        edition.goals[0].policies[0].projects[0].summary = "概要\n続き".into();
        assert_eq!(problems(&edition, &map), []);
    }

    #[test]
    fn a_split_with_a_part_missing_must_still_make_up_the_total() {
        let (clean, map) = edition();
        let money = |v: i64| Some(Money::from_thousand_yen(v));
        let cases = [
            (
                (money(100), None, money(50)),
                Some(Code::MissingFundingSplit),
            ),
            (
                (money(100), money(30), None),
                Some(Code::MissingFundingSplit),
            ),
            ((money(100), None, None), Some(Code::MissingFundingSplit)),
            ((money(100), None, money(100)), None),
            ((money(0), None, None), None),
            ((money(100), money(30), money(60)), Some(Code::SumMismatch)),
            ((None, None, None), None),
            ((None, money(5), None), Some(Code::SumMismatch)),
        ];
        for ((total, earmarked, general), expected) in cases {
            let mut edition = clean.clone();
            let cost = &mut edition.goals[0].policies[0].projects[0].costs[0];
            (cost.total, cost.earmarked, cost.general) = (total, earmarked, general);
            let year = cost.year;
            let found = problems(&edition, &map);
            let expected: Vec<(Code, String)> = expected
                .into_iter()
                .map(|code| (code, map.field(0, 0, 0, Field::Total(year)).to_string()))
                .collect();
            assert_eq!(found, expected, "{total:?} {earmarked:?} {general:?}");
        }
    }

    #[test]
    fn repeated_years_and_goals_are_errors() {
        let (clean, map) = edition();
        let mut edition = clean.clone();
        let project = &mut edition.goals[0].policies[0].projects[0];
        let first = project.costs[0].clone();
        project.costs.push(first);
        let year = project.costs[0].year;
        assert_eq!(
            problems(&edition, &map),
            [(
                Code::DuplicateYear,
                map.field(0, 0, 0, Field::Total(year)).to_string()
            )]
        );
        let mut edition = clean.clone();
        let mut goal = edition.goals[0].clone();
        goal.policies.clear();
        edition.goals.push(goal);
        let found = problems(&edition, &map);
        assert!(
            found.contains(&(Code::DuplicateGoal, "municipalities[0].editions[0]".into())),
            "{found:?}"
        );
    }
}
