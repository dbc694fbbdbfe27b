//! Tests of the bulletin-style list layout. The expected amounts are worked out by hand from
//! the text (1億 = 100,000千円, 1万円 = 10千円, 1千円 = 1千円), not taken from the code.

use super::BulletinList;
use crate::diagnostic::{Code, Lang, Severity};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::import::{Context, Layout, Parsed, detect, read};
use crate::model::EditionState;
use crate::municipality::{Municipality, MunicipalityCode};
use crate::source::Source;
use crate::status::Status;

fn kagamiishi() -> Context {
    Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("073423").expect("code"),
            name: "鏡石町".into(),
        }),
        ..Context::default()
    }
}

fn parse(text: &str, context: &Context) -> Parsed {
    read(
        &Source {
            name: "koho.txt",
            bytes: text.as_bytes(),
        },
        None,
        context,
    )
}

/// A policy as the tests expect it: (code, title, [(name, 区分, 担当課, 事業費 千円)]).
type ExpectedPolicy = (
    &'static str,
    &'static str,
    Vec<(&'static str, Status, Vec<&'static str>, i64)>,
);

/// A policy as read, in the same shape with owned strings.
type Listed = (String, String, Vec<(String, Status, Vec<String>, i64)>);

/// (name, 事業費 千円) of every project of the first edition read.
fn names_and_costs(parsed: &Parsed) -> Vec<(String, i64)> {
    parsed.editions[0]
        .edition
        .projects()
        .map(|(_, p)| {
            (
                p.name.clone(),
                p.costs
                    .first()
                    .and_then(|c| c.total)
                    .map_or(-1, |m| m.thousand_yen()),
            )
        })
        .collect()
}

const KOHO: &str = "令和6年度 当初予算の主な事業
（広報かがみいし 4月号より）

◆子育て・教育
■子育て支援
○子ども医療費助成事業〔継続〕 1億1,231万円
・学校給食費支援事業（拡充）（学校教育課） 499万2千円
  市民1人当たり約1,894円
■学校教育
▽小学校施設改修事業【新規】　1億7,400万5千円
○英語教育推進事業……420万円
◆道路・交通
■道路整備
○市道改良事業〔新規〕（建設課） 3,500千円
○橋りょう長寿命化事業 ２億円
■公共交通
";

#[test]
fn a_bulletin_list_reads_as_a_single_year_edition_with_exact_thousand_yen() {
    let source = Source {
        name: "koho.txt",
        bytes: KOHO.as_bytes(),
    };
    assert_eq!(
        detect(&source, &kagamiishi()).map(|l| l.name()),
        Some("bulletin")
    );
    let parsed = parse(KOHO, &kagamiishi());
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report);
    let edition = &parsed.editions[0].edition;
    let r6 = FiscalYear::new(2024).expect("year");
    assert_eq!(edition.span, EditionSpan::new(r6, r6).expect("span"));
    assert_eq!(edition.state, EditionState::Draft);
    assert_eq!(edition.title, "令和6年度 当初予算の主な事業");
    let goals: Vec<(u32, &str)> = edition
        .goals
        .iter()
        .map(|g| (g.number, g.title.as_str()))
        .collect();
    assert_eq!(goals, [(1, "子育て・教育"), (2, "道路・交通")]);
    // (policy, title, [(name, 区分, 担当課, 事業費 千円)]), by hand:
    // 1億1,231万円 = 100,000 + 12,310 = 112,310; 499万2千円 = 4,990 + 2 = 4,992;
    // 1億7,400万5千円 = 100,000 + 74,000 + 5 = 174,005; 420万円 = 4,200; 3,500千円 = 3,500;
    // ２億円 = 200,000.
    let expected: Vec<ExpectedPolicy> = vec![
        (
            "1-1",
            "子育て支援",
            vec![
                ("子ども医療費助成事業", Status::Continuing, vec![], 112_310),
                (
                    "学校給食費支援事業",
                    Status::Expanded,
                    vec!["学校教育課"],
                    4_992,
                ),
            ],
        ),
        (
            "1-2",
            "学校教育",
            vec![
                ("小学校施設改修事業", Status::New, vec![], 174_005),
                ("英語教育推進事業", Status::Continuing, vec![], 4_200),
            ],
        ),
        (
            "2-1",
            "道路整備",
            vec![
                ("市道改良事業", Status::New, vec!["建設課"], 3_500),
                ("橋りょう長寿命化事業", Status::Continuing, vec![], 200_000),
            ],
        ),
    ];
    let actual: Vec<Listed> = edition
        .policies()
        .map(|p| {
            (
                p.code.to_string(),
                p.title.clone(),
                p.projects
                    .iter()
                    .map(|j| {
                        (
                            j.name.clone(),
                            j.status.clone(),
                            j.departments.clone(),
                            j.cost(r6)
                                .and_then(|c| c.total)
                                .map_or(-1, |m| m.thousand_yen()),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let expected: Vec<Listed> = expected
        .into_iter()
        .map(|(code, title, projects)| {
            (
                code.to_owned(),
                title.to_owned(),
                projects
                    .into_iter()
                    .map(|(n, s, d, a)| {
                        (
                            n.to_owned(),
                            s,
                            d.into_iter().map(str::to_owned).collect(),
                            a,
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(actual, expected);
    // Per-policy totals by hand: 117,302; 178,205; 203,500 (all 498,007).
    let totals: Vec<i64> = edition
        .policies()
        .map(|p| {
            p.projects
                .iter()
                .filter_map(|j| j.cost(r6).and_then(|c| c.total))
                .map(|m| m.thousand_yen())
                .sum()
        })
        .collect();
    assert_eq!(totals, [117_302, 178_205, 203_500]);
    assert_eq!(
        edition
            .projects()
            .next()
            .map(|(_, p)| p.id.as_str().to_owned()),
        Some("073423-r6-1-1-1".to_owned())
    );
    // The per-person figure is not a project; the cut-off section and the two unmarked
    // projects are reported.
    let warnings: Vec<(Code, String)> = parsed
        .report
        .diagnostics
        .iter()
        .filter(|d| matches!(d.code, Code::CutOff | Code::AssumedStatus))
        .map(|d| (d.code, d.render("koho.txt", Lang::Ja)))
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings.iter().any(|(c, l)| *c == Code::CutOff
            && l.starts_with("koho.txt:16:")
            && l.contains("公共交通")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|(c, l)| *c == Code::AssumedStatus && l.contains("2 件")),
        "{warnings:?}"
    );
}

#[test]
fn an_amount_that_is_not_whole_thousand_yen_is_refused_at_its_line() {
    let text = "令和6年度 主な事業\n◆福祉\n○事業A 1,234,567円\n○事業B 500万円\n";
    let parsed = parse(text, &kagamiishi());
    let error = parsed
        .report
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)
        .expect("an error");
    assert_eq!(error.code, Code::NotANumber);
    let line = error.render("koho.txt", Lang::Ja);
    assert!(
        line.starts_with("koho.txt:3:6: error[not-a-number]"),
        "{line}"
    );
    assert!(line.contains("1,234,567円"), "{line}");
}

#[test]
fn the_year_comes_from_the_title_or_the_command_line_and_they_must_agree() {
    let untitled = "主な事業\n◆福祉\n○事業A 500万円\n○事業B 300万円\n";
    let parsed = parse(untitled, &kagamiishi());
    assert!(
        parsed
            .report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::BadHeader && d.message(Lang::En).contains("--edition")),
        "{:?}",
        parsed.report
    );
    assert!(parsed.editions.is_empty());

    let r7 = FiscalYear::new(2025).expect("year");
    let mut context = kagamiishi();
    context.span = EditionSpan::new(r7, r7);
    let parsed = parse(untitled, &context);
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report);
    assert_eq!(parsed.editions[0].edition.span, context.span.expect("span"));

    let titled = format!("令和6年度 主な事業\n{}", &untitled["主な事業\n".len()..]);
    let parsed = parse(&titled, &context);
    let error = parsed
        .report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::EditionMismatch)
        .expect("mismatch");
    assert!(
        error
            .render("koho.txt", Lang::En)
            .starts_with("koho.txt:1:"),
        "{}",
        error.render("koho.txt", Lang::En)
    );
}

#[test]
fn other_texts_are_not_taken_for_a_bulletin_list() {
    let context = kagamiishi();
    for text in [
        "hello\nworld\n",
        "{\"a\": \"○事業 1億円\"}\n",
        "令和6年度\n○事業A 1億円\n",
        "基本目標7\tNo\t事業名\t事業概要\t事業費\n",
    ] {
        assert!(
            !BulletinList.sniff(
                &Source {
                    name: "x.txt",
                    bytes: text.as_bytes()
                },
                &context
            ),
            "{text}"
        );
    }
}

/// When no layout fits, the message names the one that came closest and what it lacked.
#[test]
fn nothing_fits_names_the_closest_layout_and_what_is_missing() {
    let message = |text: &str| {
        let parsed = parse(text, &kagamiishi());
        let d = parsed
            .report
            .diagnostics
            .iter()
            .find(|d| d.code == Code::NotAPlan)
            .unwrap_or_else(|| panic!("not-a-plan for {text:?}: {:?}", parsed.report));
        (
            d.message(Lang::Ja).to_string(),
            d.message(Lang::En).to_string(),
        )
    };
    // A table header without its No column and 事業概要.
    let (ja, en) = message("基本目標1\n事業名\t事業費\t担当課\n道路\t100\t建設課\n");
    assert!(
        ja.contains("pdf-text") && ja.contains("2 行目") && ja.contains("No・事業概要"),
        "{ja}"
    );
    assert!(
        en.contains("line 2") && en.contains("No, 事業概要 missing"),
        "{en}"
    );
    // Marked lines whose amounts have no unit.
    let (ja, en) = message("令和6年度\n○事業A 1,000\n○事業B 2,000\n");
    assert!(ja.contains("bulletin") && ja.contains("「円」"), "{ja}");
    assert!(
        en.contains("bulletin") && en.contains("2 end in a number without a unit"),
        "{en}"
    );
    // JSON that is not keikaku's.
    let (ja, _) = message("{\"plans\": []}\n");
    assert!(
        ja.contains("keikaku-json") && ja.contains("\"format\""),
        "{ja}"
    );
    // Bytes named .xlsx that are no workbook are told so, not asked for an encoding.
    let parsed = read(
        &Source {
            name: "plan.xlsx",
            bytes: &[0x93, 0x01, 0xfe, 0x42, 0x00, 0x9c],
        },
        None,
        &kagamiishi(),
    );
    let d = &parsed.report.diagnostics[0];
    assert_eq!(d.code, Code::NotAPlan);
    assert!(
        d.message(Lang::Ja)
            .contains("Excel ブック（xlsx）として読めません")
    );
    // Nothing like any layout: the general message.
    let (ja, _) = message("hello\nworld\n");
    assert!(
        ja.contains("keikaku layouts") && !ja.contains("最も近い"),
        "{ja}"
    );
}

/// Lines a bulletin really holds that must not be misread: a negative amount is refused, a
/// line with two amounts is refused rather than guessed, brackets keep their width,
/// `1億2千万円` is 120,000千円, and a per-person figure in brackets beside a cost is not taken
/// for the cost.
#[test]
fn lines_with_signs_several_amounts_or_per_person_notes_are_not_misread() {
    let errors = |text: &str| -> Vec<(Code, String)> {
        parse(text, &kagamiishi())
            .report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| (d.code, d.render("koho.txt", Lang::Ja)))
            .collect()
    };
    let head = "令和6年度 主な事業\n◆福祉\n○事業A 500万円\n";
    let negative = errors(&format!("{head}○G事業 △300万円\n"));
    assert!(
        negative
            .iter()
            .any(|(c, l)| *c == Code::NegativeAmount && l.starts_with("koho.txt:4:")),
        "{negative:?}"
    );
    for line in [
        "○C事業 1,000万円（前年度 900万円）",
        "○F事業 2,000万円 うち国庫補助 500万円",
    ] {
        let found = errors(&format!("{head}{line}\n"));
        assert!(
            found
                .iter()
                .any(|(c, l)| *c == Code::ConflictingAmounts && l.starts_with("koho.txt:4:")),
            "{line}: {found:?}"
        );
    }
    let parsed = parse(
        &format!(
            "{head}○D事業（前年度比増） 1,000万円\n○H事業 1億2千万円\n○I事業 1,000万円（市民1人当たり約170円）\n"
        ),
        &kagamiishi(),
    );
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report);
    assert_eq!(
        names_and_costs(&parsed),
        [
            ("事業A".to_owned(), 5_000),
            ("D事業（前年度比増）".to_owned(), 10_000),
            ("H事業".to_owned(), 120_000),
            ("I事業".to_owned(), 10_000),
        ]
    );
}

/// A bulletin states 事業費 only: the policy totals of 特定財源 and 一般財源 are "no amount"
/// (`-`), never 0, until a project states them.
#[test]
fn sums_no_project_states_are_no_amount_not_zero() {
    use crate::aggregate::{GroupBy, Sum, aggregate};
    use crate::money::Money;
    let parsed = parse(KOHO, &kagamiishi());
    let mut edition = parsed.editions[0].edition.clone();
    let by_policy = aggregate(&edition, GroupBy::Policy, None);
    let first = &by_policy.rows[0].totals;
    assert_eq!(
        first.amount(Sum::Cost),
        Some(Money::from_thousand_yen(117_302))
    );
    assert_eq!(first.amount(Sum::Earmarked), None);
    assert_eq!(first.amount(Sum::General), None);
    // One project of 1-1 states its split (112,310 = 12,310 + 100,000): the sums are stated.
    let cost = &mut edition.goals[0].policies[0].projects[0].costs[0];
    cost.earmarked = Some(Money::from_thousand_yen(12_310));
    cost.general = Some(Money::from_thousand_yen(100_000));
    let by_policy = aggregate(&edition, GroupBy::Policy, None);
    let first = &by_policy.rows[0].totals;
    assert_eq!(
        first.amount(Sum::Earmarked),
        Some(Money::from_thousand_yen(12_310))
    );
    assert_eq!(
        first.amount(Sum::General),
        Some(Money::from_thousand_yen(100_000))
    );
    assert_eq!(by_policy.rows[1].totals.amount(Sum::Earmarked), None);
}
