//! Which projects of an edition to list: the filter behind `keikaku projects`, the API's
//! project listing and search, and the portal's search and group pages. It owns the rules, so
//! the same question gets the same answer from every front end:
//!
//! - An empty value (a form's すべて) is no filter.
//! - A value that does not have its field's form (a policy code that is not like `7-1`, a
//!   strategy code that is not like `Ⅲ(4)`, over [`MAX_CHARS`] characters) is *malformed*:
//!   the question cannot be asked (API and portal 400, CLI exit 2).
//! - A well-formed value that names nothing in the edition (no such policy, department, 区分
//!   or strategy code) is *not found* (404, CLI exit 1), never a silently empty list. Values
//!   that exist but match no project together (a department with no 新規 project) are an
//!   empty list.
//! - Values are compared as people mean them: strategy codes in any spelling (`Ⅲ(4)`,
//!   `III(4)`, `Ⅲ（４）`), 区分 by their standard word (拡大 is 拡充), policy codes in half
//!   or full width (`７-１`).

use std::fmt;

use crate::aggregate::GroupBy;
use crate::diagnostic::Lang;
use crate::model::{Edition, Policy, PolicyCode, Project};
use crate::status::Status;
use crate::strategy::StrategyCode;

/// Longest filter value accepted, in characters (a department name is far shorter).
pub const MAX_CHARS: usize = 100;

/// What a filter can select by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// 施策, by code (`7-1`).
    Policy,
    /// 担当課, by name.
    Department,
    /// 区分.
    Status,
    /// 地方創生事業, by strategy code.
    Strategy,
}

impl Field {
    /// Every field, in the order filters are checked.
    pub const ALL: [Field; 4] = [
        Field::Policy,
        Field::Department,
        Field::Status,
        Field::Strategy,
    ];

    /// The name of the API parameter and the CLI option: `policy`, `department`, ….
    pub fn key(self) -> &'static str {
        match self {
            Field::Policy => "policy",
            Field::Department => "department",
            Field::Status => "status",
            Field::Strategy => "strategy",
        }
    }

    /// The Japanese name: 施策, 担当課, 区分, 地方創生事業.
    pub fn label(self) -> &'static str {
        match self {
            Field::Policy => "施策",
            Field::Department => "担当課",
            Field::Status => "区分",
            Field::Strategy => "地方創生事業",
        }
    }

    /// The grouping that lists every value of the field (where to send someone whose value
    /// named nothing).
    pub fn group_by(self) -> GroupBy {
        match self {
            Field::Policy => GroupBy::Policy,
            Field::Department => GroupBy::Department,
            Field::Status => GroupBy::Status,
            Field::Strategy => GroupBy::Strategy,
        }
    }
}

/// Why a filter value cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Not of the field's form.
    Malformed,
    /// Longer than [`MAX_CHARS`].
    TooLong,
    /// Well-formed, but nothing in the edition has it.
    NotFound,
}

/// A filter value that cannot be used, with the field and the value as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Which filter.
    pub field: Field,
    /// The value as given (trimmed).
    pub value: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl FilterError {
    fn new(field: Field, value: &str, problem: Problem) -> FilterError {
        FilterError {
            field,
            value: value.to_owned(),
            problem,
        }
    }

    /// True when the value is well-formed but names nothing (404 / exit 1); otherwise the
    /// value is malformed (400 / exit 2).
    pub fn is_not_found(&self) -> bool {
        self.problem == Problem::NotFound
    }

    /// The message in `lang`. The value is shown with control characters escaped.
    pub fn message(&self, lang: Lang) -> String {
        let value = self.value.escape_debug().to_string();
        let label = self.field.label();
        match (lang, self.problem, self.field) {
            (Lang::Ja, Problem::TooLong, _) => {
                format!("{label}の指定が長すぎます（{MAX_CHARS}文字まで）。")
            }
            (Lang::Ja, Problem::Malformed, Field::Policy) => {
                format!("施策の番号「{value}」が読めません（例: 7-1）。")
            }
            (Lang::Ja, Problem::Malformed, Field::Strategy) => {
                format!("地方創生事業の番号「{value}」が読めません（例: Ⅲ(4)、III(4)）。")
            }
            (Lang::Ja, Problem::Malformed, _) => format!("{label}「{value}」が読めません。"),
            (Lang::Ja, Problem::NotFound, _) => {
                format!("{label}「{value}」はこの計画にありません。")
            }
            (Lang::En, Problem::TooLong, field) => {
                format!("{} is longer than {MAX_CHARS} characters", field.key())
            }
            (Lang::En, Problem::Malformed, Field::Policy) => {
                format!("policy {:?} is not a policy code such as 7-1", self.value)
            }
            (Lang::En, Problem::Malformed, Field::Strategy) => format!(
                "strategy {:?} is not a strategy code such as Ⅲ(4) or III(4)",
                self.value
            ),
            (Lang::En, Problem::Malformed, field) => {
                format!("{} {:?} cannot be read", field.key(), self.value)
            }
            (Lang::En, Problem::NotFound, Field::Policy) => {
                format!("no policy {value} in this edition")
            }
            (Lang::En, Problem::NotFound, Field::Department) => {
                format!("no department {:?} in this edition", self.value)
            }
            (Lang::En, Problem::NotFound, Field::Status) => {
                format!("no project with status {:?} in this edition", self.value)
            }
            (Lang::En, Problem::NotFound, Field::Strategy) => {
                format!("no project linked to strategy {value} in this edition")
            }
        }
    }
}

impl fmt::Display for FilterError {
    /// The English message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for FilterError {}

/// The projects to list: every given field must hold (all of them together).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    policy: Option<PolicyCode>,
    department: Option<String>,
    status: Option<Status>,
    strategy: Option<StrategyCode>,
}

impl ProjectFilter {
    /// The filter with `field` set from `text` as a person or a URL gave it. `None` and
    /// empty text leave the field unset. A malformed value is an error; so is a well-formed
    /// one that can name nothing in any edition (policy `0-0`, strategy `IIII(1)`).
    pub fn with(mut self, field: Field, text: Option<&str>) -> Result<Self, FilterError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(self);
        };
        if text.chars().count() > MAX_CHARS {
            return Err(FilterError::new(field, text, Problem::TooLong));
        }
        let not_found = || FilterError::new(field, text, Problem::NotFound);
        let malformed = || FilterError::new(field, text, Problem::Malformed);
        match field {
            Field::Policy => {
                if !policy_shaped(text) {
                    return Err(malformed());
                }
                self.policy = Some(PolicyCode::parse(text).ok_or_else(not_found)?);
            }
            Field::Department => self.department = Some(text.to_owned()),
            Field::Status => self.status = Some(Status::parse(text)),
            Field::Strategy => {
                if !strategy_shaped(text) {
                    return Err(malformed());
                }
                self.strategy = Some(StrategyCode::parse(text).ok_or_else(not_found)?);
            }
        }
        Ok(self)
    }

    /// The filter with a strategy code already parsed (the portal's `/strategies/3-4`).
    pub fn with_strategy(mut self, code: StrategyCode) -> Self {
        self.strategy = Some(code);
        self
    }

    /// The policy asked for.
    pub fn policy(&self) -> Option<PolicyCode> {
        self.policy
    }

    /// The department asked for.
    pub fn department(&self) -> Option<&str> {
        self.department.as_deref()
    }

    /// The 区分 asked for.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// The strategy code asked for.
    pub fn strategy(&self) -> Option<StrategyCode> {
        self.strategy
    }

    /// True when no field is set (every project passes).
    pub fn is_empty(&self) -> bool {
        self == &ProjectFilter::default()
    }

    /// Checks that every value names something in `edition`; the first that does not is a
    /// [`Problem::NotFound`] error.
    pub fn check(&self, edition: &Edition) -> Result<(), FilterError> {
        let missing = |field: Field, value: String| FilterError {
            field,
            value,
            problem: Problem::NotFound,
        };
        if let Some(code) = self.policy
            && !edition.policies().any(|p| p.code == code)
        {
            return Err(missing(Field::Policy, code.to_string()));
        }
        if let Some(name) = &self.department
            && !edition
                .projects()
                .any(|(_, p)| p.departments.iter().any(|d| d == name))
        {
            return Err(missing(Field::Department, name.clone()));
        }
        if let Some(status) = &self.status
            && !edition.projects().any(|(_, p)| p.status == *status)
        {
            return Err(missing(Field::Status, status.label().to_owned()));
        }
        if let Some(code) = self.strategy
            && !edition
                .projects()
                .any(|(_, p)| p.strategies.iter().any(|l| l.code == code))
        {
            return Err(missing(Field::Strategy, code.to_string()));
        }
        Ok(())
    }

    /// True when the project (in `policy`) passes every field.
    pub fn matches(&self, policy: &Policy, project: &Project) -> bool {
        self.policy.is_none_or(|c| policy.code == c)
            && self
                .department
                .as_ref()
                .is_none_or(|d| project.departments.contains(d))
            && self.status.as_ref().is_none_or(|s| project.status == *s)
            && self
                .strategy
                .is_none_or(|c| project.strategies.iter().any(|l| l.code == c))
    }

    /// Checks the filter against `edition` and returns the projects that pass, in document
    /// order.
    pub fn select<'e>(
        &self,
        edition: &'e Edition,
    ) -> Result<Vec<(&'e Policy, &'e Project)>, FilterError> {
        self.check(edition)?;
        Ok(edition
            .projects()
            .filter(|(policy, project)| self.matches(policy, project))
            .collect())
    }
}

/// A policy code's form: digits, a dash, digits (half or full width), as `7-1`.
fn policy_shaped(text: &str) -> bool {
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    text.split_once(['-', '－', '‐', '−', '–'])
        .is_some_and(|(goal, number)| {
            [goal, number]
                .iter()
                .all(|p| (1..=3).contains(&p.chars().count()) && p.chars().all(digit))
        })
}

/// A strategy code's form: a Roman numeral (ASCII letters, or one Unicode numeral) and one
/// or two digits in parentheses (half or full width), as `Ⅲ(4)` or `III(4)`.
fn strategy_shaped(text: &str) -> bool {
    let Some(open) = text.find(['(', '（']) else {
        return false;
    };
    let (numeral, rest) = text.split_at(open);
    let mut rest = rest.chars();
    rest.next();
    let inner: String = rest.collect();
    let Some(digits) = inner.strip_suffix([')', '）']) else {
        return false;
    };
    let ascii = (1..=8).contains(&numeral.len()) && numeral.chars().all(|c| "IVXLivxl".contains(c));
    let unicode = numeral.chars().count() == 1 && numeral.chars().all(|c| ('Ⅰ'..='Ⅻ').contains(&c));
    (ascii || unicode)
        && (1..=2).contains(&digits.chars().count())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Goal, ProjectId, YearCost};
    use crate::strategy::StrategyLink;
    use crate::{EditionSpan, FiscalYear, Money, Municipality, MunicipalityCode};

    fn project(number: u32, status: &str, departments: &[&str], codes: &[&str]) -> Project {
        Project {
            id: ProjectId::parse(&format!("p{number}")).expect("id"),
            number,
            name: format!("事業{number}"),
            summary: String::new(),
            status: Status::parse(status),
            departments: departments.iter().map(|d| (*d).to_owned()).collect(),
            strategies: codes
                .iter()
                .map(|c| StrategyLink {
                    code: StrategyCode::parse(c).expect("code"),
                    raw: (*c).to_owned(),
                })
                .collect(),
            costs: vec![YearCost {
                total: Some(Money::from_thousand_yen(1)),
                ..YearCost::empty(FiscalYear::new(2020).expect("year"))
            }],
        }
    }

    /// Two policies: 7-1 (a 継続 project of 企画政策課 linked to I(4) and III(4), a 新規 one
    /// of 財政課) and 7-2 (a 拡充 project of 財政課, written 拡大).
    fn edition() -> Edition {
        let municipality = Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        };
        Edition {
            municipality,
            span: EditionSpan::parse("R2-R4").expect("span"),
            title: "実施計画".into(),
            source: "test".into(),
            state: crate::model::EditionState::Published,
            goals: vec![Goal {
                number: 7,
                title: "目標".into(),
                field: String::new(),
                policies: vec![
                    Policy {
                        code: PolicyCode::new(7, 1).expect("code"),
                        title: "施策1".into(),
                        vision: String::new(),
                        projects: vec![
                            project(1, "継続", &["企画政策課"], &["I(4)", "III(4)"]),
                            project(2, "新規", &["財政課"], &[]),
                        ],
                    },
                    Policy {
                        code: PolicyCode::new(7, 2).expect("code"),
                        title: "施策2".into(),
                        vision: String::new(),
                        projects: vec![project(1, "拡大", &["財政課"], &["Ⅱ(1)"])],
                    },
                ],
            }],
        }
    }

    fn names(filter: &ProjectFilter) -> Result<Vec<String>, FilterError> {
        let edition = edition();
        Ok(filter
            .select(&edition)?
            .into_iter()
            .map(|(policy, project)| format!("{}-{}", policy.code, project.number))
            .collect())
    }

    fn with(field: Field, text: &str) -> Result<ProjectFilter, FilterError> {
        ProjectFilter::default().with(field, Some(text))
    }

    #[test]
    fn empty_values_are_no_filter() {
        for field in Field::ALL {
            assert!(with(field, "").expect("empty").is_empty());
            assert!(with(field, "  ").expect("blank").is_empty());
            let unset = ProjectFilter::default().with(field, None).expect("none");
            assert!(unset.is_empty());
        }
        assert_eq!(
            names(&ProjectFilter::default()).expect("all"),
            ["7-1-1", "7-1-2", "7-2-1"]
        );
    }

    #[test]
    fn values_are_compared_as_people_mean_them() {
        for text in ["Ⅲ(4)", "III(4)", "iii(4)", "Ⅲ（４）", " III(4) "] {
            let filter = with(Field::Strategy, text).expect(text);
            assert_eq!(names(&filter).expect(text), ["7-1-1"], "{text}");
        }
        let expanded = with(Field::Status, "拡充").expect("status");
        assert_eq!(names(&expanded).expect("拡充"), ["7-2-1"]);
        assert_eq!(
            with(Field::Status, "拡大").expect("alias"),
            expanded,
            "拡大 is 拡充"
        );
        let policy = with(Field::Policy, "７-２").expect("full width");
        assert_eq!(names(&policy).expect("7-2"), ["7-2-1"]);
        let both = with(Field::Department, "財政課")
            .and_then(|f| f.with(Field::Status, Some("新規")))
            .expect("both");
        assert_eq!(names(&both).expect("both"), ["7-1-2"]);
    }

    #[test]
    fn values_that_exist_but_match_nothing_together_are_an_empty_list() {
        let filter = with(Field::Department, "企画政策課")
            .and_then(|f| f.with(Field::Status, Some("新規")))
            .expect("filter");
        assert_eq!(names(&filter).expect("no error"), Vec::<String>::new());
    }

    #[test]
    fn values_that_name_nothing_are_not_found() {
        for (field, text) in [
            (Field::Department, "存在しない課"),
            (Field::Status, "廃止"),
            (Field::Status, "見直し"),
            (Field::Policy, "9-9"),
            (Field::Strategy, "Ⅴ(1)"),
            // Any text may be a department's name; control characters just name none.
            (Field::Department, "企画\u{0}課"),
        ] {
            let filter = with(field, text).expect(text);
            let err = names(&filter).expect_err(text);
            assert!(err.is_not_found(), "{text}");
            assert_eq!(err.field, field, "{text}");
            assert!(
                err.message(Lang::Ja).contains("この計画にありません"),
                "{text}"
            );
        }
        // Well-formed, but no edition can have them: not found without looking.
        for (field, text) in [(Field::Policy, "0-0"), (Field::Strategy, "IIII(0)")] {
            let err = with(field, text).expect_err(text);
            assert!(err.is_not_found(), "{text}");
        }
        let err =
            names(&with(Field::Department, "存在しない課").expect("filter")).expect_err("missing");
        assert_eq!(
            err.message(Lang::En),
            "no department \"存在しない課\" in this edition"
        );
        assert_eq!(
            err.message(Lang::Ja),
            "担当課「存在しない課」はこの計画にありません。"
        );
    }

    #[test]
    fn malformed_values_are_not_questions() {
        for (field, text) in [
            (Field::Strategy, "IV"),
            (Field::Strategy, "3(4)"),
            (Field::Strategy, "Ⅲ(4"),
            (Field::Strategy, "ABC(1)"),
            (Field::Policy, "seven"),
            (Field::Policy, "7"),
            (Field::Policy, "7-1-3"),
        ] {
            let err = with(field, text).expect_err(text);
            assert_eq!(err.problem, Problem::Malformed, "{text}");
        }
        let long = "課".repeat(MAX_CHARS + 1);
        let err = with(Field::Department, &long).expect_err("long");
        assert_eq!(err.problem, Problem::TooLong);
        assert!(!err.is_not_found());
        let err = with(Field::Strategy, "IV").expect_err("IV");
        assert_eq!(
            err.message(Lang::En),
            "strategy \"IV\" is not a strategy code such as Ⅲ(4) or III(4)"
        );
    }
}
