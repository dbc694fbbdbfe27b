//! Reads the seed (白河市 実施計画 R2–R4, 基本目標7) and compares every field of every
//! project with the values a person read from the document (`golden/mod.rs`).

mod golden;

use golden::{GOAL_FIELD, GOAL_TITLE, POLICIES, PROJECTS};
use keikaku_core::import::{self, Context};
use keikaku_core::source::Source;
use keikaku_core::{
    Code, Edition, FiscalYear, Money, Municipality, MunicipalityCode, Position, Severity,
};

fn shirakawa() -> Municipality {
    Municipality {
        code: MunicipalityCode::parse(golden::MUNICIPALITY_CODE).expect("valid code"),
        name: golden::MUNICIPALITY_NAME.to_owned(),
    }
}

fn read_seed() -> (Edition, keikaku_core::diagnostic::Report) {
    let context = Context {
        municipality: Some(shirakawa()),
        ..Context::default()
    };
    let source = Source {
        name: "shirakawa-r2-r4-goal7.txt",
        bytes: golden::SEED.as_bytes(),
    };
    let mut parsed = import::read(&source, None, &context);
    assert_eq!(parsed.editions.len(), 1, "{:?}", parsed.report);
    (parsed.editions.remove(0).edition, parsed.report)
}

#[test]
fn seed_has_no_errors_and_one_warning_on_the_two_amount_line() {
    let (_, report) = read_seed();
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let warnings: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].code, Code::AmbiguousAmounts);
    assert_eq!(warnings[0].position, Position::line(golden::AMBIGUOUS_LINE));
}

#[test]
fn seed_edition_goal_and_policies() {
    let (edition, _) = read_seed();
    assert_eq!(edition.span.first().year(), golden::FIRST_YEAR);
    assert_eq!(edition.span.last().year(), golden::LAST_YEAR);
    assert_eq!(edition.span.label(), "R2-R4");
    assert_eq!(edition.municipality, shirakawa());
    // The cover's spelling (支えあいでともに) and the page header's are one goal.
    assert_eq!(edition.goals.len(), 1);
    let goal = &edition.goals[0];
    assert_eq!(goal.number, golden::GOAL_NUMBER);
    assert_eq!(goal.title, GOAL_TITLE);
    assert_eq!(goal.field, GOAL_FIELD);
    let codes: Vec<String> = goal.policies.iter().map(|p| p.code.to_string()).collect();
    assert_eq!(codes, POLICIES.iter().map(|p| p.code).collect::<Vec<_>>());
    for (policy, expected) in goal.policies.iter().zip(POLICIES.iter()) {
        assert_eq!(policy.title, expected.title, "{}", expected.code);
        assert_eq!(policy.vision, expected.vision, "{}", expected.code);
    }
}

#[test]
fn seed_every_project_every_field() {
    let (edition, _) = read_seed();
    let read: Vec<_> = edition.projects().collect();
    assert_eq!(read.len(), 33);
    let r2 = FiscalYear::new(2020).expect("year");
    for ((policy, project), expected) in read.iter().zip(PROJECTS.iter()) {
        let at = format!(
            "{} No.{} (line {})",
            expected.policy, expected.number, expected.line
        );
        assert_eq!(policy.code.to_string(), expected.policy, "{at}");
        assert_eq!(project.number, expected.number, "{at}");
        assert_eq!(project.name, expected.name, "{at}");
        assert_eq!(project.summary, expected.summary, "{at}");
        assert_eq!(project.status.label(), expected.status, "{at}");
        let raw: Vec<&str> = project.strategies.iter().map(|s| s.raw.as_str()).collect();
        assert_eq!(raw, expected.strategies_raw, "{at}");
        let normal: Vec<String> = project
            .strategies
            .iter()
            .map(|s| s.code.to_string())
            .collect();
        assert_eq!(normal, expected.strategies, "{at}");
        assert_eq!(project.departments, expected.departments, "{at}");
        assert_eq!(
            project.costs.len(),
            1,
            "{at}: only the R2 cost survives in the PDF"
        );
        let cost = project.cost(r2).expect("R2 cost");
        assert_eq!(
            cost.total,
            expected.total.map(Money::from_thousand_yen),
            "{at} total"
        );
        assert_eq!(
            cost.earmarked,
            expected.earmarked.map(Money::from_thousand_yen),
            "{at} earmarked"
        );
        assert_eq!(
            cost.general,
            expected.general.map(Money::from_thousand_yen),
            "{at} general"
        );
        assert_eq!(
            project.id.as_str(),
            format!("072052-r2-{}-{}", expected.policy, expected.number),
            "{at}"
        );
    }
}
