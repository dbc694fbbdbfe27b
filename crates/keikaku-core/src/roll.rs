//! Starting the next edition from this one (ローリング方式): R2–R4 → R3–R5.
//!
//! The new edition keeps the goals and policies and carries every project forward with its
//! stable id, so that departments can update rows instead of retyping them and `diff` can
//! follow each project. Amounts for years still inside the new span are kept; the first year
//! drops out; the new last year has no amount yet. A project that was 新規 is 継続 in the next
//! edition. The result is a draft: nothing is public until someone publishes it.

use crate::fiscal::EditionSpan;
use crate::model::{Edition, EditionState};
use crate::status::Status;

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

/// The next edition of `edition`, covering `to`, as a draft.
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
