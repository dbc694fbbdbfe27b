//! One test per trap of the PDF-table text layout (see DOMAIN.md) and per validation check,
//! each on a small document written for the purpose.

use super::PdfTableText;
use crate::diagnostic::{Code, Lang, Position, Severity};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::import::{self, Context, Parsed};
use crate::model::Project;
use crate::money::Money;
use crate::municipality::{Municipality, MunicipalityCode};
use crate::source::{Source, encoding_by_name};
use crate::status::Status;
use crate::validate::Rules;

const HEAD: &str = "基本目標1 テストのまち【テスト分野】\n\n施策 1-1 テスト施策\n\n【めざすまちの姿】\n\nテストが進んでいます。\n\n";
const HEADER: &str = "No\t事業名\t事業概要\tR2事業費(千円)\t3年間の事業計画\t\t\t区分\t地方創生事業\t担当課\n\t\t\t特定財源 一般財源\tR2\tR3\tR4\t\t\t\n";
const FOOT: &str = "\n※地方創生事業…総合戦略の番号を示している。\n";

/// Lines 1–10 are HEAD and HEADER; the first row is line 11.
const FIRST_ROW: u32 = 11;

fn context() -> Context {
    Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        }),
        ..Context::default()
    }
}

fn read_with(text: &str, context: &Context) -> Parsed {
    import::read(
        &Source {
            name: "t.txt",
            bytes: text.as_bytes(),
        },
        Some(&PdfTableText),
        context,
    )
}

fn read(text: &str) -> Parsed {
    read_with(text, &context())
}

fn table(rows: &str) -> String {
    format!("{HEAD}{HEADER}{rows}{FOOT}")
}

fn problems(parsed: &Parsed) -> Vec<(Code, Option<u32>)> {
    parsed
        .report
        .diagnostics
        .iter()
        .map(|d| (d.code, d.position.line_number()))
        .collect()
}

fn errors(parsed: &Parsed) -> Vec<(Code, Option<u32>)> {
    parsed
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.code, d.position.line_number()))
        .collect()
}

fn projects(parsed: &Parsed) -> Vec<Project> {
    parsed
        .editions
        .iter()
        .flat_map(|e| e.edition.projects().map(|(_, p)| p.clone()))
        .collect()
}

fn r2() -> FiscalYear {
    FiscalYear::new(2020).expect("year")
}

fn amounts(project: &Project) -> (Option<i64>, Option<i64>, Option<i64>) {
    let cost = project.cost(r2()).expect("R2 cost");
    let k = |m: Option<Money>| m.map(Money::thousand_yen);
    (k(cost.total), k(cost.earmarked), k(cost.general))
}

const ROW_A: &str = "1\t事業A\t概要A\t100\t\t\t\t継続\tⅢ(4)\t企画政策課\n\t\t\t40\t\t\t\t\t\t\n\t\t\t60\t\t\t\t\t\t\n";

#[test]
fn stacked_cost_lines_are_total_earmarked_general() {
    let parsed = read(&table(ROW_A));
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    let p = &projects(&parsed)[0];
    assert_eq!(amounts(p), (Some(100), Some(40), Some(60)));
    assert_eq!(p.name, "事業A");
    assert_eq!(p.summary, "概要A");
    assert_eq!(p.status, Status::Continuing);
}

#[test]
fn header_wordings_all_mean_three_years() {
    for wording in [
        "3年間の事業計画",
        "3カ年の事業計画",
        "3か年の事業計画",
        "3年の事業計画",
        "３ヶ年の事業計画",
    ] {
        let header = HEADER.replace("3年間の事業計画", wording);
        let parsed = read(&format!("{HEAD}{header}{ROW_A}{FOOT}"));
        assert!(
            errors(&parsed).is_empty(),
            "{wording}: {:?}",
            problems(&parsed)
        );
        assert_eq!(
            parsed.editions[0].edition.span.label(),
            "R2-R4",
            "{wording}"
        );
    }
}

#[test]
fn two_level_header_with_separate_columns_and_missing_r4() {
    // As 7-1's second table: 特定財源 and 一般財源 on their own lines, R4 absent.
    let header = "No\t事業名\t事業概要\tR2事業費(千円)\t\t\t3カ年の事業計画\t区分\t地方創生事業\t担当課\n\t\t\t特定財源\t\t\t\t\t\t\n\t\t\t一般財源\tR2\tR3\t\t\t\t\n";
    let parsed = read(&format!("{HEAD}{header}{ROW_A}{FOOT}"));
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    assert_eq!(parsed.editions[0].edition.span.label(), "R2-R4");
    assert_eq!(
        amounts(&projects(&parsed)[0]),
        (Some(100), Some(40), Some(60))
    );
}

#[test]
fn row_shifted_one_column_is_read_by_content() {
    // As 7-3: the header has 11 columns with 区分 in column 9, the row puts it in column 8.
    let header = "No\t事業名\t事業概要\tR2事業費(千円)\t\t3カ年の事業計画\t\t\t区分\t地方創生事業\t担当課\n\t\t\t特定財源\t一般財源\tR2\tR3\tR4\t\t\t\n";
    let rows = "1\t三市交流事業\t相互訪問を実施する。\t63\t\t\t\t継続\t\t秘書広報課\t\n\t\t\t0\t\t\t\t\t\t\t\n\t\t\t63\t\t\t\t\t\t\t\n\
                2\t国際交流協会事業\t交流事業を実施する。\t5,004\t\t\t\t新規\tⅢ(5)\t企画政策課\t\n\t\t\t3,186\t\t\t\t\t\t\t\n\t\t\t1,818\t\t\t\t\t\t\t\n";
    let parsed = read(&format!("{HEAD}{header}{rows}{FOOT}"));
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    let read = projects(&parsed);
    assert_eq!(read[0].status, Status::Continuing);
    assert!(read[0].strategies.is_empty());
    assert_eq!(read[0].departments, ["秘書広報課"]);
    assert_eq!(amounts(&read[0]), (Some(63), Some(0), Some(63)));
    assert_eq!(read[1].status, Status::New);
    assert_eq!(read[1].strategies[0].code.to_string(), "Ⅲ(5)");
    assert_eq!(read[1].departments, ["企画政策課"]);
    assert_eq!(amounts(&read[1]), (Some(5_004), Some(3_186), Some(1_818)));
}

#[test]
fn dash_rows_on_three_lines_and_on_one_line_are_no_amount_not_zero() {
    let three = "1\t集会所整備事業\t整備する。\t-\t\t\t\t継続\t\t生活防災課\n\t\t\t-\t\t\t\t\t\t\n\t\t\t-\t\t\t\t\t\t\n";
    let parsed = read(&table(three));
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    assert_eq!(amounts(&projects(&parsed)[0]), (None, None, None));

    // As 7-6 No.1–4: `-	-` on one line and nothing more, under a two-level header.
    let header = "No\t事業名\t事業概要\tR2事業費(千円)\t\t3カ年の事業計画\t\t\t区分\t地方創生事業\t担当課\n\t\t\t特定財源\t一般財源\tR2\tR3\tR4\t\t\t\n";
    let rows = "1\t財政計画に基づく財政運営\t努める。\t-\t-\t\t\t\t継続\t\t財政課\n2\t財政調整基金積立金\t積み立てる。\t-\t-\t\t\t\t継続\t\t財政課\n";
    let parsed = read(&format!("{HEAD}{header}{rows}{FOOT}"));
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    let read = projects(&parsed);
    assert_eq!(read.len(), 2);
    for p in &read {
        assert_eq!(amounts(p), (None, None, None));
        assert_ne!(p.cost(r2()).and_then(|c| c.total), Some(Money::ZERO));
    }
}

#[test]
fn two_amounts_on_one_line_are_read_by_column_and_flagged() {
    // As 7-6 No.5: `23,364	0` then `23,364`; the header gives 一般財源 its own column.
    let header = "No\t事業名\t事業概要\tR2事業費(千円)\t\t3カ年の事業計画\t\t\t区分\t地方創生事業\t担当課\n\t\t\t特定財源\t一般財源\tR2\tR3\tR4\t\t\t\n";
    let rows = "5\tふるさと納税取扱事務\t寄附を募る。\t23,364\t0\t\t\t\t継続\tⅢ(3)\t企画政策課\n\t\t\t23,364\t\t\t\t\t\t\t\n";
    let parsed = read(&format!("{HEAD}{header}{rows}{FOOT}"));
    assert_eq!(
        problems(&parsed),
        [(Code::AmbiguousAmounts, Some(FIRST_ROW))]
    );
    assert!(!parsed.report.has_errors());
    assert_eq!(
        amounts(&projects(&parsed)[0]),
        (Some(23_364), Some(23_364), Some(0))
    );
    let message = parsed.report.diagnostics[0].render("t.txt", Lang::En);
    assert!(
        message.starts_with("t.txt:11: warning[ambiguous-amounts]"),
        "{message}"
    );
}

#[test]
fn two_departments_and_mixed_roman_numerals_in_one_cell() {
    let row = "1\t事業B\t概要B\t10\t\t\t\t新規\tI(4) Ⅲ(4)\t企画政策課 経営改革推進室\n\t\t\t0\t\t\t\t\t\t\n\t\t\t10\t\t\t\t\t\t\n";
    let parsed = read(&table(row));
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    let p = &projects(&parsed)[0];
    assert_eq!(p.departments, ["企画政策課", "経営改革推進室"]);
    let raw: Vec<&str> = p.strategies.iter().map(|s| s.raw.as_str()).collect();
    assert_eq!(raw, ["I(4)", "Ⅲ(4)"]);
    let codes: Vec<String> = p.strategies.iter().map(|s| s.code.to_string()).collect();
    assert_eq!(codes, ["Ⅰ(4)", "Ⅲ(4)"]);
}

#[test]
fn footnotes_page_headers_vision_and_cover_are_not_rows() {
    let text = format!(
        "\n基本目標1\n\nテストの街\n\n【テスト分野】\n\n\n{HEAD}{HEADER}{ROW_A}{FOOT}\n基本目標1 テストのまち【テスト分野】\n\n施策 1-2 二つ目の施策\n\n【めざすまちの姿】\n\n一行目。\n二行目。\n\n{HEADER}{}{FOOT}",
        ROW_A.replace("1\t事業A", "1\t事業C")
    );
    let parsed = read(&text);
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    let edition = &parsed.editions[0].edition;
    assert_eq!(
        edition.goals.len(),
        1,
        "the cover and the page headers are one goal"
    );
    assert_eq!(
        edition.goals[0].title, "テストのまち",
        "the page header's spelling wins over the cover's"
    );
    assert_eq!(edition.goals[0].field, "テスト分野");
    assert_eq!(edition.goals[0].policies.len(), 2);
    assert_eq!(edition.goals[0].policies[1].vision, "一行目。\n二行目。");
    assert_eq!(projects(&parsed).len(), 2);
}

#[test]
fn schedule_cells_are_empty_and_only_the_first_year_cost_is_kept() {
    let parsed = read(&table(ROW_A));
    let p = &projects(&parsed)[0];
    assert_eq!(p.costs.len(), 1);
    assert_eq!(p.costs[0].year, r2());
}

#[test]
fn sum_mismatch_names_the_row() {
    let row = ROW_A.replace("\t60\t", "\t50\t");
    let parsed = read(&table(&row));
    assert_eq!(errors(&parsed), [(Code::SumMismatch, Some(FIRST_ROW))]);
    let rendered = parsed.report.diagnostics[0].render("t.txt", Lang::En);
    assert!(
        rendered.contains("total 100 ≠ earmarked 40 + general 50"),
        "{rendered}"
    );
}

#[test]
fn text_in_an_amount_cell_is_not_a_number() {
    let row = ROW_A.replace("\t100\t", "\t12,3a4\t");
    let parsed = read(&table(&row));
    assert_eq!(errors(&parsed), [(Code::NotANumber, Some(FIRST_ROW))]);
    assert_eq!(
        parsed.report.diagnostics[0].position,
        Position::at(FIRST_ROW, 4)
    );
}

#[test]
fn negative_and_absurd_amounts() {
    let negative = "1\t事業A\t概要A\t△100\t\t\t\t継続\t\t企画政策課\n\t\t\t0\t\t\t\t\t\t\n\t\t\t△100\t\t\t\t\t\t\n";
    let parsed = read(&table(negative));
    assert_eq!(
        errors(&parsed),
        [
            (Code::NegativeAmount, Some(FIRST_ROW)),
            (Code::NegativeAmount, Some(FIRST_ROW + 2))
        ]
    );
    let absurd = "1\t事業A\t概要A\t5,000,000,000\t\t\t\t継続\t\t企画政策課\n\t\t\t0\t\t\t\t\t\t\n\t\t\t5,000,000,000\t\t\t\t\t\t\n";
    let parsed = read(&table(absurd));
    assert_eq!(
        errors(&parsed),
        [
            (Code::AbsurdAmount, Some(FIRST_ROW)),
            (Code::AbsurdAmount, Some(FIRST_ROW + 2))
        ]
    );
}

#[test]
fn missing_name_and_missing_or_bad_number() {
    let no_name = ROW_A.replace("1\t事業A", "1\t");
    assert_eq!(
        errors(&read(&table(&no_name))),
        [(Code::MissingName, Some(FIRST_ROW))]
    );
    let no_number = ROW_A.replace("1\t事業A", "\t事業A");
    assert_eq!(
        errors(&read(&table(&no_number))),
        [(Code::MissingNumber, Some(FIRST_ROW))]
    );
    let bad_number = ROW_A.replace("1\t事業A", "1a\t事業A");
    assert_eq!(
        errors(&read(&table(&bad_number))),
        [(Code::BadNumber, Some(FIRST_ROW))]
    );
}

#[test]
fn duplicate_numbers_in_a_policy() {
    let rows = format!("{ROW_A}{}", ROW_A.replace("事業A", "事業Z"));
    let parsed = read(&table(&rows));
    assert_eq!(
        errors(&parsed),
        [(Code::DuplicateNumber, Some(FIRST_ROW + 3))]
    );
}

#[test]
fn unknown_status_unless_configured_and_aliases() {
    let row = ROW_A.replace("継続", "見直し");
    let parsed = read(&table(&row));
    assert_eq!(errors(&parsed), [(Code::UnknownStatus, Some(FIRST_ROW))]);
    assert_eq!(
        parsed.report.diagnostics[0].position,
        Position::at(FIRST_ROW, 8)
    );

    let mut configured = context();
    configured.rules = Rules {
        extra_statuses: vec!["見直し".into()],
        ..Rules::default()
    };
    let parsed = read_with(&table(&row), &configured);
    assert!(errors(&parsed).is_empty(), "{:?}", problems(&parsed));
    assert_eq!(projects(&parsed)[0].status, Status::Other("見直し".into()));

    let alias = ROW_A.replace("継続", "拡大");
    let parsed = read(&table(&alias));
    assert!(errors(&parsed).is_empty());
    assert_eq!(projects(&parsed)[0].status.label(), "拡充");

    let missing = ROW_A.replace("継続", "");
    assert_eq!(
        errors(&read(&table(&missing))),
        [(Code::MissingStatus, Some(FIRST_ROW))]
    );
}

#[test]
fn severity_can_be_configured() {
    let row = ROW_A.replace("継続", "見直し");
    let mut relaxed = context();
    relaxed.rules.severity_overrides = vec![(Code::UnknownStatus, Some(Severity::Warning))];
    let parsed = read_with(&table(&row), &relaxed);
    assert!(!parsed.report.has_errors());
    assert_eq!(parsed.report.warning_count(), 1);
}

#[test]
fn malformed_strategy_code() {
    let row = ROW_A.replace("Ⅲ(4)", "Ⅲ(x)");
    let parsed = read(&table(&row));
    assert_eq!(errors(&parsed), [(Code::BadStrategyCode, Some(FIRST_ROW))]);
    assert_eq!(
        parsed.report.diagnostics[0].position,
        Position::at(FIRST_ROW, 9)
    );
}

#[test]
fn policy_without_projects() {
    let text = format!(
        "{HEAD}{HEADER}{ROW_A}{FOOT}\n施策 1-2 事業のない施策\n\n【めざすまちの姿】\n\n姿。\n"
    );
    let parsed = read(&text);
    let line = u32::try_from(
        text.lines()
            .position(|l| l.starts_with("施策 1-2"))
            .expect("line")
            + 1,
    )
    .expect("small");
    assert_eq!(errors(&parsed), [(Code::EmptyPolicy, Some(line))]);
}

#[test]
fn file_cut_inside_a_project_is_truncated() {
    // Ends after the total line: the funding lines are missing.
    let text = format!("{HEAD}{HEADER}1\t事業A\t概要A\t100\t\t\t\t継続\tⅢ(4)\t企画政策課\n");
    assert_eq!(errors(&read(&text)), [(Code::Truncated, Some(FIRST_ROW))]);
    // Ends in the middle of a row.
    let text = format!("{HEAD}{HEADER}{ROW_A}2\t事業B\t概要の途中で");
    assert!(
        errors(&read(&text)).contains(&(Code::Truncated, Some(FIRST_ROW + 3))),
        "{:?}",
        errors(&read(&text))
    );
}

#[test]
fn shift_jis_is_refused_with_advice_and_read_with_encoding() {
    let text = table(ROW_A);
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    let source = Source {
        name: "sjis.txt",
        bytes: &bytes,
    };
    let parsed = import::read(&source, None, &context());
    assert_eq!(errors(&parsed), [(Code::Encoding, Some(1))]);
    let advice = parsed.report.diagnostics[0].render("sjis.txt", Lang::En);
    assert!(
        advice.contains("Shift_JIS") && advice.contains("--encoding sjis"),
        "{advice}"
    );

    let mut sjis = context();
    sjis.encoding = encoding_by_name("sjis");
    let parsed = import::read(&source, None, &sjis);
    assert!(problems(&parsed).is_empty(), "{:?}", problems(&parsed));
    assert_eq!(projects(&parsed)[0].name, "事業A");
}

#[test]
fn empty_file_and_not_a_plan() {
    let empty = import::read(
        &Source {
            name: "e.txt",
            bytes: b"",
        },
        None,
        &context(),
    );
    assert_eq!(errors(&empty), [(Code::EmptyFile, None)]);
    let prose = "これは議事録です。\n実施計画ではありません。\n";
    let parsed = import::read(
        &Source {
            name: "p.txt",
            bytes: prose.as_bytes(),
        },
        None,
        &context(),
    );
    assert_eq!(errors(&parsed), [(Code::NotAPlan, None)]);
    let header_only = format!("{HEAD}{HEADER}");
    assert_eq!(errors(&read(&header_only)), [(Code::NotAPlan, None)]);
}

#[test]
fn edition_given_on_the_command_line_must_match() {
    let mut wrong = context();
    wrong.span = EditionSpan::parse("R3-R5");
    let parsed = read_with(&table(ROW_A), &wrong);
    assert_eq!(errors(&parsed), [(Code::EditionMismatch, Some(9))]);
}

#[test]
fn policy_under_the_wrong_goal() {
    let text = table(ROW_A).replace("施策 1-1", "施策 2-1");
    assert!(errors(&read(&text)).contains(&(Code::PolicyGoalMismatch, Some(3))));
}

#[test]
fn unexpected_lines_and_cells_are_warnings() {
    let row = ROW_A.replace("\t\t\t\t継続", "\t→\t\t\t継続");
    let parsed = read(&table(&row));
    assert!(!parsed.report.has_errors());
    assert_eq!(problems(&parsed), [(Code::IgnoredCell, Some(FIRST_ROW))]);
}

#[test]
fn a_file_mostly_of_stray_lines_is_not_a_plan() {
    // The row is lines 11–13, the footnote line 15 (HEAD, HEADER, ROW_A, FOOT); stray
    // lines start at 16.
    let with = |stray: usize| {
        let mut text = table(ROW_A);
        for i in 0..stray {
            text.push_str(&format!("ログ {i}\n"));
        }
        read(&text)
    };
    // A few stray lines are warnings; the plan is read.
    let some = with(99);
    assert!(!some.report.has_errors(), "{:?}", errors(&some));
    assert_eq!(some.report.warning_count(), 99);
    assert_eq!(projects(&some).len(), 1);
    // When they are at least 100 and outnumber the plan's lines, the file is refused at the
    // first of them; a hundred are shown and the rest summarised.
    let most = with(1_000);
    let first = 16;
    assert_eq!(errors(&most), [(Code::NotAPlan, Some(first))]);
    assert_eq!(most.report.warning_count(), 1_000);
    let shown: Vec<&crate::diagnostic::Diagnostic> = most
        .report
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::IgnoredLine)
        .collect();
    assert_eq!(shown.len(), 101);
    assert_eq!(shown[100].left_out(), 900);
    assert_eq!(shown[100].position, Position::line(first + 100));
}
