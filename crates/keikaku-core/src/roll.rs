//! Starting the next edition from this one (ローリング方式): R2–R4 → R3–R5.
//!
//! The new edition keeps the goals and policies and carries every project forward with its
//! stable id, so that departments can update rows instead of retyping them and `diff` can
//! follow each project. Amounts for years still inside the new span are kept; the first year
//! drops out; the new last year has no amount yet. A project that was 新規 is 継続 in the next
//! edition. A project whose 区分 is 完了 (finished) or 廃止 (abolished) ends with the edition
//! it finished in and is not carried: [`left_behind`] lists those, so that the person rolling
//! is told. The result is a draft: nothing is public until someone publishes it, and
//! [`unfilled`] tells what is still missing before it may be (`keikaku publish` refuses an
//! edition whose projects have no 事業費 for a year it covers, unless told to go ahead).

use crate::diagnostic::Lang;
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, EditionState, Policy, Project};
use crate::status::Status;

/// True for a project that ends with this edition (区分 完了 or 廃止): the next edition does
/// not carry it.
pub fn ends_here(project: &Project) -> bool {
    matches!(project.status, Status::Completed | Status::Abolished)
}

/// The projects of `edition` that [`roll`] does not carry forward, in document order.
pub fn left_behind(edition: &Edition) -> Vec<(&Policy, &Project)> {
    edition.projects().filter(|(_, p)| ends_here(p)).collect()
}

/// The projects of an edition that have no 事業費 for at least one fiscal year it covers (the
/// year is not filled in at all; a stated `-` is a deliberate "no amount" and counts as
/// filled), counted by department and by year.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unfilled {
    /// The edition's span.
    pub span: Option<EditionSpan>,
    /// How many projects have such a year.
    pub projects: usize,
    /// Per department, how many of those projects it owns (a project of two departments counts
    /// under each), most first, then in document order.
    pub by_department: Vec<(String, usize)>,
    /// Per fiscal year of the edition, how many projects have no 事業費 for it (years where
    /// every project has one are left out).
    pub by_year: Vec<(FiscalYear, usize)>,
}

/// The department key of projects that name none.
const NO_DEPARTMENT: &str = "（担当課なし）";

/// Which projects of `edition` still lack a 事業費 for a year the edition covers.
pub fn unfilled(edition: &Edition) -> Unfilled {
    let mut out = Unfilled {
        span: Some(edition.span),
        ..Unfilled::default()
    };
    let mut by_year: Vec<(FiscalYear, usize)> = edition.span.years().map(|y| (y, 0)).collect();
    for (_, project) in edition.projects() {
        let mut missing = false;
        for (year, count) in &mut by_year {
            // A year stated as `-` is a deliberate "no amount": only a year not filled in at
            // all makes the edition incomplete.
            if project.cost(*year).is_none() {
                *count += 1;
                missing = true;
            }
        }
        if !missing {
            continue;
        }
        out.projects += 1;
        let mut departments: Vec<&str> = Vec::new();
        for department in &project.departments {
            if !departments.contains(&department.as_str()) {
                departments.push(department);
            }
        }
        if departments.is_empty() {
            departments.push(NO_DEPARTMENT);
        }
        for department in departments {
            match out.by_department.iter_mut().find(|(d, _)| d == department) {
                Some((_, n)) => *n += 1,
                None => out.by_department.push((department.to_owned(), 1)),
            }
        }
    }
    // A stable sort keeps document order among equal counts.
    out.by_department
        .sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    out.by_year = by_year.into_iter().filter(|(_, n)| *n > 0).collect();
    out
}

impl Unfilled {
    /// True when every project states a 事業費 for every year.
    pub fn is_complete(&self) -> bool {
        self.projects == 0
    }

    /// Why publishing is refused, for the person publishing.
    pub fn message(&self, lang: Lang) -> String {
        let span = self.span.map(|s| s.label()).unwrap_or_default();
        let long = self.span.map(|s| s.long_label()).unwrap_or_default();
        match lang {
            Lang::Ja => {
                let departments = self
                    .by_department
                    .iter()
                    .map(|(d, n)| format!("{d} {n}件"))
                    .collect::<Vec<_>>()
                    .join("、");
                let years = self
                    .by_year
                    .iter()
                    .map(|(y, n)| format!("{} {n}件", y.label()))
                    .collect::<Vec<_>>()
                    .join("、");
                format!(
                    "{span} を公開しません: 計画期間（{long}）のいずれかの年度の事業費が記入されていない事業（「-」は記入済みとみなします）が {} 件あります。\n  担当課別: {departments}\n  年度別: {years}\n金額を記入して取り込んでから公開してください。このまま公開するときは --allow-incomplete を付けます。",
                    self.projects
                )
            }
            Lang::En => {
                let departments = self
                    .by_department
                    .iter()
                    .map(|(d, n)| format!("{d} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let years = self
                    .by_year
                    .iter()
                    .map(|(y, n)| format!("FY{} {n}", y.year()))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "{span} was not published: {} project(s) have no 事業費 filled in for a fiscal year the edition covers ({long}).\n  by department: {departments}\n  by year: {years}\nFill in the amounts and import the sheet, or publish anyway with --allow-incomplete.",
                    self.projects
                )
            }
        }
    }
}

/// Why an edition cannot be rolled into the span asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollError {
    /// The new span must start later than the old one, and overlap or follow it.
    #[error(
        "{to} cannot follow {from}: the next edition starts after {from} begins and no later than the year after it ends"
    )]
    NotNext {
        /// The edition rolled from.
        from: EditionSpan,
        /// The span asked for.
        to: EditionSpan,
    },
}

/// The next edition of `edition`, covering `to`, as a draft, without the projects that end
/// here ([`left_behind`]).
pub fn roll(edition: &Edition, to: EditionSpan) -> Result<Edition, RollError> {
    let from = edition.span;
    let starts_later = to.first() > from.first();
    let continues = to.first().year() <= from.last().year() + 1;
    if !starts_later || !continues {
        return Err(RollError::NotNext { from, to });
    }
    let mut next = edition.clone();
    next.span = to;
    next.title = Edition::default_title(&edition.municipality, to);
    next.source = format!("{} から作成", from.label());
    next.state = EditionState::Draft;
    for policy in next.goals.iter_mut().flat_map(|g| g.policies.iter_mut()) {
        policy.projects.retain(|p| !ends_here(p));
    }
    for project in next
        .goals
        .iter_mut()
        .flat_map(|g| g.policies.iter_mut())
        .flat_map(|p| p.projects.iter_mut())
    {
        if project.status == Status::New {
            project.status = Status::Continuing;
        }
        project.costs.retain(|c| to.contains(c.year));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::FiscalYear;
    use crate::model::{Goal, Policy, PolicyCode, Project, ProjectId, YearCost};
    use crate::money::Money;
    use crate::municipality::{Municipality, MunicipalityCode};

    fn edition() -> Edition {
        let municipality = Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        };
        let span = EditionSpan::parse("R2-R4").expect("span");
        let year = |y| FiscalYear::new(y).expect("year");
        let cost = |y, t| YearCost {
            total: Some(Money::from_thousand_yen(t)),
            ..YearCost::empty(year(y))
        };
        Edition {
            title: "白河市実施計画（令和2年度～令和4年度）".into(),
            source: "seed.txt".into(),
            state: EditionState::Published,
            goals: vec![Goal {
                number: 7,
                title: "goal".into(),
                field: String::new(),
                policies: vec![Policy {
                    code: PolicyCode::new(7, 1).expect("code"),
                    title: "policy".into(),
                    vision: "vision".into(),
                    projects: vec![Project {
                        id: ProjectId::derived(
                            &municipality,
                            span,
                            PolicyCode::new(7, 1).expect("code"),
                            1,
                        ),
                        number: 1,
                        name: "事業".into(),
                        summary: String::new(),
                        status: Status::New,
                        departments: vec!["企画政策課".into()],
                        strategies: Vec::new(),
                        costs: vec![cost(2020, 10), cost(2021, 20), cost(2022, 30)],
                    }],
                }],
            }],
            municipality,
            span,
        }
    }

    #[test]
    fn carries_projects_with_their_ids_and_shifts_the_years() {
        let old = edition();
        let next = roll(&old, EditionSpan::parse("R3-R5").expect("span")).expect("roll");
        assert_eq!(next.state, EditionState::Draft);
        assert_eq!(next.title, "白河市実施計画（令和3年度～令和5年度）");
        let (_, project) = next.projects().next().expect("project");
        let (_, before) = old.projects().next().expect("project");
        assert_eq!(project.id, before.id, "the stable id is kept");
        assert_eq!(project.status, Status::Continuing, "新規 becomes 継続");
        let years: Vec<i32> = project.costs.iter().map(|c| c.year.year()).collect();
        assert_eq!(years, [2021, 2022], "R2 drops out; R5 has no amount yet");
        assert_eq!(next.goals[0].policies[0].vision, "vision");
    }

    #[test]
    fn finished_and_abolished_projects_end_with_their_edition() {
        let mut old = edition();
        let policy = &mut old.goals[0].policies[0];
        let first = policy.projects[0].clone();
        for (number, status) in [
            (2, Status::Completed),
            (3, Status::Abolished),
            (4, Status::Suspended),
            (5, Status::parse("終了")),
        ] {
            let mut project = first.clone();
            project.number = number;
            project.name = format!("事業{number}");
            project.id = ProjectId::parse(&format!("072052-r2-7-1-{number}")).expect("id");
            project.status = status;
            policy.projects.push(project);
        }
        let next = roll(&old, EditionSpan::parse("R3-R5").expect("span")).expect("roll");
        let carried: Vec<u32> = next.projects().map(|(_, p)| p.number).collect();
        assert_eq!(
            carried,
            [1, 4],
            "完了, 廃止 and 終了 (= 完了) end; 休止 is carried"
        );
        let ended: Vec<&str> = left_behind(&old)
            .iter()
            .map(|(_, p)| p.name.as_str())
            .collect();
        assert_eq!(ended, ["事業2", "事業3", "事業5"]);
        assert!(left_behind(&next).is_empty());
    }

    #[test]
    fn unfilled_counts_projects_without_amounts_by_department_and_year() {
        let old = edition();
        assert!(unfilled(&old).is_complete(), "every year has an amount");
        let mut next = roll(&old, EditionSpan::parse("R3-R5").expect("span")).expect("roll");
        // R3 and R4 are carried; R5 (FY2023) is new and empty.
        let policy = &mut next.goals[0].policies[0];
        let mut second = policy.projects[0].clone();
        second.number = 2;
        second.departments = vec!["財政課".into(), "企画政策課".into()];
        // A stated `-` is a deliberate "no amount": R3 counts as filled, R4 and R5 do not.
        second.costs = vec![YearCost::empty(FiscalYear::new(2021).expect("year"))];
        policy.projects.push(second);
        let mut third = policy.projects[0].clone();
        third.number = 3;
        third.departments = vec!["財政課".into()];
        third.costs.push(cost_of(2023, 5));
        policy.projects.push(third);
        let u = unfilled(&next);
        assert_eq!(u.projects, 2);
        assert_eq!(
            u.by_department,
            [("企画政策課".to_owned(), 2), ("財政課".to_owned(), 1)]
        );
        let years: Vec<(i32, usize)> = u.by_year.iter().map(|(y, n)| (y.year(), *n)).collect();
        assert_eq!(years, [(2022, 1), (2023, 2)]);
        let ja = u.message(Lang::Ja);
        assert!(
            ja.contains("事業費が記入されていない事業（「-」は記入済みとみなします）が 2 件"),
            "{ja}"
        );
        assert!(ja.contains("担当課別: 企画政策課 2件、財政課 1件"), "{ja}");
        assert!(ja.contains("令和5年度 2件"), "{ja}");
        assert!(ja.contains("--allow-incomplete"), "{ja}");
        let en = u.message(Lang::En);
        assert!(en.contains("R3-R5 was not published: 2 project(s)"), "{en}");
        assert!(en.contains("by department: 企画政策課 2, 財政課 1"), "{en}");
        assert!(en.contains("FY2023 2"), "{en}");
    }

    fn cost_of(y: i32, t: i64) -> YearCost {
        YearCost {
            total: Some(Money::from_thousand_yen(t)),
            ..YearCost::empty(FiscalYear::new(y).expect("year"))
        }
    }

    #[test]
    fn refuses_spans_that_do_not_follow() {
        let old = edition();
        for span in ["R2-R4", "R1-R3", "R6-R8"] {
            assert!(
                roll(&old, EditionSpan::parse(span).expect("span")).is_err(),
                "{span}"
            );
        }
        assert!(
            roll(&old, EditionSpan::parse("R5-R7").expect("span")).is_ok(),
            "the year after the end"
        );
    }
}
