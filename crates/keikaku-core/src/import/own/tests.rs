//! Towns' own workbooks and CSV/TSV files, made here in the shapes towns use, read through
//! [`crate::import::read`] (so the common checks run too), with totals per policy worked out
//! by hand from the cells below.

use std::io::Write;

use rust_xlsxwriter::{Format, Formula, Workbook};

use super::heading::Target;
use super::{Mapping, Overrides, describe};
use crate::diagnostic::{Code, Lang, Report, Severity};
use crate::import::{Context, Parsed, detect, read};
use crate::model::{Edition, EditionState};
use crate::municipality::{Municipality, MunicipalityCode};
use crate::source::Source;
use crate::strategy::StrategyCode;

fn kagamiishi() -> Context {
    Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("073423").expect("code"),
            name: "鏡石町".into(),
        }),
        ..Context::default()
    }
}

fn parse(name: &str, bytes: &[u8], context: &Context) -> Parsed {
    read(&Source { name, bytes }, None, context)
}

/// Per policy: (code, projects, [(year, 事業費, 特定財源, 一般財源)]) in 千円, `None` = no
/// amount in any project.
type Totals = Vec<(
    String,
    usize,
    Vec<(i32, Option<i64>, Option<i64>, Option<i64>)>,
)>;

fn totals(edition: &Edition) -> Totals {
    edition
        .policies()
        .map(|policy| {
            let years = edition
                .span
                .years()
                .map(|year| {
                    let sum = |pick: fn(&crate::model::YearCost) -> Option<crate::money::Money>| {
                        let amounts: Vec<i64> = policy
                            .projects
                            .iter()
                            .filter_map(|p| p.cost(year).and_then(pick))
                            .map(|m| m.thousand_yen())
                            .collect();
                        (!amounts.is_empty()).then(|| amounts.iter().sum())
                    };
                    (
                        year.year(),
                        sum(|c| c.total),
                        sum(|c| c.earmarked),
                        sum(|c| c.general),
                    )
                })
                .collect();
            (policy.code.to_string(), policy.projects.len(), years)
        })
        .collect()
}

fn errors(report: &Report, file: &str) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.render(file, Lang::Ja))
        .collect()
}

/// The 鏡石町-like workbook: a title row, `（単位：円）`, a two-row heading with the years on
/// top of 事業費・特定財源・一般財源, the goal merged down its rows, a policy merged over two
/// rows, a cached formula, a total row and a 備考 column.
pub(crate) fn kagamiishi_xlsx() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("実施計画").expect("name");
    let f = Format::new();
    sheet
        .merge_range(0, 0, 0, 14, "鏡石町実施計画（令和6年度～令和7年度）", &f)
        .expect("title");
    sheet.write_string(1, 12, "（単位：円）").expect("unit");
    for (column, text) in [
        (0, "基本目標"),
        (1, "施策"),
        (2, "No"),
        (3, "事務事業名"),
        (4, "事業内容"),
        (5, "担当課"),
        (6, "新規・継続"),
        (7, "総合戦略"),
        (14, "備考"),
    ] {
        sheet
            .merge_range(2, column, 3, column, text, &f)
            .expect("heading");
    }
    sheet.merge_range(2, 8, 2, 10, "令和6年度", &f).expect("R6");
    sheet
        .merge_range(2, 11, 2, 13, "令和7年度", &f)
        .expect("R7");
    for (column, text) in [
        (8, "事業費"),
        (9, "特定財源"),
        (10, "一般財源"),
        (11, "事業費"),
        (12, "特定財源"),
        (13, "一般財源"),
    ] {
        sheet.write_string(3, column, text).expect("sub-heading");
    }
    sheet
        .merge_range(4, 0, 6, 0, "1 子育て・教育【子育て・教育分野】", &f)
        .expect("goal 1");
    sheet
        .merge_range(4, 1, 5, 1, "1-1 子育て支援の充実", &f)
        .expect("policy 1-1");
    let row =
        |sheet: &mut rust_xlsxwriter::Worksheet, r: u32, texts: [&str; 5], amounts: [&str; 6]| {
            for (i, text) in texts.iter().enumerate() {
                if !text.is_empty() {
                    sheet.write_string(r, 3 + i as u16, *text).expect("text");
                }
            }
            for (i, amount) in amounts.iter().enumerate() {
                match amount.parse::<f64>() {
                    Ok(n) => sheet.write_number(r, 8 + i as u16, n).expect("number"),
                    Err(_) if amount.is_empty() => sheet,
                    Err(_) => sheet.write_string(r, 8 + i as u16, *amount).expect("text"),
                };
            }
        };
    sheet.write_number(4, 2, 1).expect("no");
    row(
        sheet,
        4,
        [
            "子ども医療費助成事業",
            "18歳までの医療費を助成する",
            "健康福祉課",
            "継続",
            "Ⅰ-2",
        ],
        [
            "12345000", "2000000", "10345000", "12500000", "2000000", "10500000",
        ],
    );
    sheet.write_number(5, 2, 2).expect("no");
    row(
        sheet,
        5,
        [
            "放課後児童クラブ運営事業",
            "放課後の居場所をつくる",
            "健康福祉課・教育課",
            "拡充",
            "1(2)、Ⅱ-1",
        ],
        ["8000000", "4000000", "4000000", "－", "－", "－"],
    );
    sheet
        .write_string(6, 1, "1-2 学校教育の充実")
        .expect("policy 1-2");
    sheet.write_number(6, 2, 1).expect("no");
    row(
        sheet,
        6,
        ["ICT教育推進事業", "端末を更新する", "教育課", "新規", ""],
        ["", "1000000", "2000000", "0", "0", "0"],
    );
    sheet
        .write_formula(6, 8, Formula::new("=J7+K7").set_result("3000000"))
        .expect("formula");
    sheet.write_string(7, 0, "2 まちづくり").expect("goal 2");
    sheet
        .write_string(7, 1, "2-1 道路の整備")
        .expect("policy 2-1");
    sheet.write_number(7, 2, 1).expect("no");
    row(
        sheet,
        7,
        ["町道改良事業", "町道を改良する", "建設課", "継続", ""],
        [
            "50000000", "40000000", "10000000", "30000000", "20000000", "10000000",
        ],
    );
    sheet.write_string(7, 14, "国補助").expect("remark");
    sheet.write_string(8, 3, "合計").expect("total");
    sheet.write_number(8, 8, 73_345_000.0).expect("sum");
    workbook.save_to_buffer().expect("xlsx")
}

#[test]
fn a_kagamiishi_workbook_reads_with_its_totals() {
    let bytes = kagamiishi_xlsx();
    let parsed = parse("kagamiishi.xlsx", &bytes, &kagamiishi());
    assert_eq!(
        errors(&parsed.report, "kagamiishi.xlsx"),
        Vec::<String>::new()
    );
    let edition = &parsed.editions[0].edition;
    assert_eq!(edition.span.label(), "R6-R7");
    assert_eq!(edition.state, EditionState::Draft);
    assert_eq!(edition.goals.len(), 2);
    assert_eq!(edition.goals[0].title, "子育て・教育");
    assert_eq!(edition.goals[0].field, "子育て・教育分野");
    // By hand, in 千円 (円 ÷ 1,000): 1-1 R6 12,345 + 8,000; R7 only the first project.
    assert_eq!(
        totals(edition),
        vec![
            (
                "1-1".to_owned(),
                2,
                vec![
                    (2024, Some(20_345), Some(6_000), Some(14_345)),
                    (2025, Some(12_500), Some(2_000), Some(10_500)),
                ]
            ),
            (
                "1-2".to_owned(),
                1,
                vec![
                    (2024, Some(3_000), Some(1_000), Some(2_000)),
                    (2025, Some(0), Some(0), Some(0)),
                ]
            ),
            (
                "2-1".to_owned(),
                1,
                vec![
                    (2024, Some(50_000), Some(40_000), Some(10_000)),
                    (2025, Some(30_000), Some(20_000), Some(10_000)),
                ]
            ),
        ]
    );
    let second = &edition.goals[0].policies[0].projects[1];
    assert_eq!(second.departments, ["健康福祉課", "教育課"]);
    let codes: Vec<StrategyCode> = second.strategies.iter().map(|s| s.code).collect();
    assert_eq!(
        codes,
        [
            StrategyCode::new(1, 2).expect("code"),
            StrategyCode::new(2, 1).expect("code")
        ]
    );
    assert_eq!(second.strategies[0].raw, "1(2)");
    // The dashes of R7 are no amount, not 0.
    let r7 = second
        .costs
        .iter()
        .find(|c| c.year.year() == 2025)
        .expect("R7");
    assert!(r7.is_empty());
    // The total row is skipped and said so.
    assert!(
        parsed
            .report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::IgnoredLine
                && d.render("k.xlsx", Lang::Ja).contains("実施計画!D9")),
        "{:?}",
        parsed.report
    );
}

#[test]
fn the_mapping_says_what_it_did() {
    let bytes = kagamiishi_xlsx();
    let source = Source {
        name: "kagamiishi.xlsx",
        bytes: &bytes,
    };
    let mapping = describe(&source, &kagamiishi()).expect("mapping");
    assert_eq!(mapping.header_rows, [2, 3]);
    let text = mapping.render("kagamiishi.xlsx", Lang::Ja);
    for expected in [
        "列の対応（kagamiishi.xlsx:実施計画、見出し行 3, 4）",
        "D   事務事業名  → 事業名",
        "I   令和6年度 / 事業費  → R6 事業費",
        "N   令和7年度 / 一般財源  → R7 一般財源",
        "O   備考  → 備考（保存しません）",
        "単位: 円（実施計画!M2 の記載による）",
        "年度: 令和6年度～令和7年度",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    // The written mapping file, read back and applied, gives the same mapping.
    let overrides = Overrides::parse(&mapping.to_toml()).expect("map file");
    let context = Context {
        mapping: Some(overrides),
        ..kagamiishi()
    };
    let again: Mapping = describe(&source, &context).expect("mapping");
    let targets = |m: &Mapping| {
        m.columns
            .iter()
            .map(|c| (c.index, c.target))
            .collect::<Vec<_>>()
    };
    assert_eq!(targets(&again), targets(&mapping));
    assert_eq!(again.unit, mapping.unit);
}

/// A Shift_JIS CSV with title rows, goals and policies as section rows, the unit in a line of
/// its own, the year in the title, and 特定財源 only as its parts.
fn sjis_csv() -> Vec<u8> {
    let text = "令和6年度 主要事業一覧,,,,,,,,,,\r\n\
単位：千円,,,,,,,,,,\r\n\
No,事業名,事業概要,所管課,区分,地方創生,令和6年度事業費,国県支出金,地方債,その他,一般財源\r\n\
基本目標1 子育て・教育,,,,,,,,,,\r\n\
施策 1-1 子育て支援,,,,,,,,,,\r\n\
1,子ども医療費助成,医療費を助成する,健康福祉課,継続,１－２,\"12,345\",\"2,000\",-,―,\"10,345\"\r\n\
2,放課後児童クラブ,居場所をつくる,\"健康福祉課\n教育課\",拡充,Ⅰ(2) Ⅱ(1),8000,4000,,,4000\r\n\
施策 1-2 学校教育,,,,,,,,,,\r\n\
1,ICT教育推進,端末を更新する,教育課、学校教育課,新規,,5000,1000,3000,500,500\r\n\
※地方創生欄は総合戦略の番号,,,,,,,,,,\r\n";
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[test]
fn a_shift_jis_csv_with_section_rows() {
    let parsed = parse("town.csv", &sjis_csv(), &kagamiishi());
    assert_eq!(errors(&parsed.report, "town.csv"), Vec::<String>::new());
    let edition = &parsed.editions[0].edition;
    assert_eq!(edition.span.label(), "R6-R6");
    // By hand: 1-1 12,345 + 8,000; 特定財源 = parts 2,000 + 4,000; 1-2 1,000 + 3,000 + 500.
    assert_eq!(
        totals(edition),
        vec![
            (
                "1-1".to_owned(),
                2,
                vec![(2024, Some(20_345), Some(6_000), Some(14_345))]
            ),
            (
                "1-2".to_owned(),
                1,
                vec![(2024, Some(5_000), Some(4_500), Some(500))]
            ),
        ]
    );
    let projects: Vec<_> = edition.projects().map(|(_, p)| p).collect();
    assert_eq!(projects[1].departments, ["健康福祉課", "教育課"]);
    assert_eq!(projects[2].departments, ["教育課", "学校教育課"]);
    assert_eq!(projects[2].costs[0].earmarked_breakdown.len(), 3);
    let mapping = describe(
        &Source {
            name: "town.csv",
            bytes: &sjis_csv(),
        },
        &kagamiishi(),
    )
    .expect("mapping");
    let text = mapping.render("town.csv", Lang::Ja);
    assert!(text.contains("Shift_JIS"), "{text}");
    assert!(text.contains("内訳の合計を特定財源"), "{text}");
    assert!(text.contains("表題の 令和6年度"), "{text}");
}

/// A TSV in 万円 with 令和 headings only, policy codes in a column, no goal column.
fn tsv() -> Vec<u8> {
    "実施計画一覧（単位：万円）\n\
施策コード\t施策名\t事業名\t概要\t担当課\t区分\t令和6年度\t令和7年度\t令和8年度\t備考\n\
3-1\t観光の振興\t観光PR事業\t町の魅力を発信\t商工観光課\t継続\t120\t130.5\t-\t\n\
3-1\t観光の振興\t移住定住促進事業\t移住を支援\t企画課\t新規\t45.2\t50\t50\t新規\n\
3-2\t農業の振興\t農地集積事業\t農地を集める\t農政課\t継続\t0\t1,000\t2,000\t\n"
        .as_bytes()
        .to_vec()
}

#[test]
fn a_tsv_in_ten_thousand_yen_with_policy_codes() {
    let parsed = parse("town.tsv", &tsv(), &kagamiishi());
    assert_eq!(errors(&parsed.report, "town.tsv"), Vec::<String>::new());
    let edition = &parsed.editions[0].edition;
    assert_eq!(edition.span.label(), "R6-R8");
    assert_eq!(edition.goals.len(), 1);
    assert_eq!(edition.goals[0].number, 3);
    // By hand, 万円 × 10 = 千円: 3-1 R6 1,200 + 452; R7 1,305 + 500; R8 500.
    assert_eq!(
        totals(edition),
        vec![
            (
                "3-1".to_owned(),
                2,
                vec![
                    (2024, Some(1_652), None, None),
                    (2025, Some(1_805), None, None),
                    (2026, Some(500), None, None),
                ]
            ),
            (
                "3-2".to_owned(),
                1,
                vec![
                    (2024, Some(0), None, None),
                    (2025, Some(10_000), None, None),
                    (2026, Some(20_000), None, None),
                ]
            ),
        ]
    );
}

#[test]
fn field_on_top_and_heisei_and_western_years_below() {
    // 計画事業費 over H30, 平成31年度 and 2020 (= 令和2年度); 百万円 with decimals.
    let text = "（単位：百万円）\n\
施策,事業名,区分,計画事業費,計画事業費,計画事業費\n\
,,,H30,平成31年度,2020\n\
1-1 子育て,事業A,継続,1.5,2,0.25\n\
1-1 子育て,事業B,新規,-,0.001,3\n";
    let parsed = parse("h.csv", text.as_bytes(), &kagamiishi());
    assert_eq!(errors(&parsed.report, "h.csv"), Vec::<String>::new());
    let edition = &parsed.editions[0].edition;
    assert_eq!(edition.span.label(), "H30-R2");
    // By hand, 百万円 × 1,000: A 1,500 / 2,000 / 250; B - / 1 / 3,000.
    assert_eq!(
        totals(edition),
        vec![(
            "1-1".to_owned(),
            2,
            vec![
                (2018, Some(1_500), None, None),
                (2019, Some(2_001), None, None),
                (2020, Some(3_250), None, None),
            ]
        )]
    );
}

#[test]
fn merged_section_rows_and_a_department_merged_down() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("計画").expect("name");
    let f = Format::new();
    for (column, text) in ["事業名", "担当課", "区分", "R6事業費", "R6一般財源"]
        .iter()
        .enumerate()
    {
        sheet
            .write_string(0, column as u16, *text)
            .expect("heading");
    }
    sheet
        .merge_range(1, 0, 1, 4, "基本目標2 まちづくり【都市基盤分野】", &f)
        .expect("goal row");
    sheet
        .merge_range(2, 0, 2, 4, "施策 2-3 公共交通の確保", &f)
        .expect("policy row");
    sheet
        .merge_range(3, 1, 4, 1, "企画課", &f)
        .expect("department");
    for (row, name, amount) in [
        (3, "デマンド交通運行事業", 4_200.0),
        (4, "路線バス維持事業", 800.0),
    ] {
        sheet.write_string(row, 0, name).expect("name");
        sheet.write_string(row, 2, "継続").expect("status");
        sheet.write_number(row, 3, amount).expect("total");
        sheet.write_number(row, 4, amount).expect("general");
    }
    let bytes = workbook.save_to_buffer().expect("xlsx");
    let parsed = parse("s.xlsx", &bytes, &kagamiishi());
    assert_eq!(errors(&parsed.report, "s.xlsx"), Vec::<String>::new());
    let edition = &parsed.editions[0].edition;
    assert_eq!(
        (edition.goals[0].number, edition.goals[0].field.as_str()),
        (2, "都市基盤分野")
    );
    assert_eq!(
        totals(edition),
        vec![(
            "2-3".to_owned(),
            2,
            vec![(2024, Some(5_000), None, Some(5_000))]
        )]
    );
    let departments: Vec<&Vec<String>> = edition.projects().map(|(_, p)| &p.departments).collect();
    assert_eq!(
        departments,
        [&vec!["企画課".to_owned()], &vec!["企画課".to_owned()]]
    );
}

/// A change column (増減, 対前年度増減) is a difference, not a plan amount: its △ negatives
/// are no error, while the same △ in a plan amount column is (see
/// `bad_inputs_are_refused_at_their_cell`).
#[test]
fn change_columns_are_recognised_and_their_negatives_are_no_error() {
    let text = "施策,事業名,担当課,区分,R6事業費,R6特定財源,R6一般財源,R5事業費,対前年度増減\n\
                1-1 子育て,事業A,健康課,継続,100,0,100,120,△20\n\
                1-1 子育て,事業B,健康課,継続,50,10,40,40,10\n";
    let source = Source {
        name: "c.csv",
        bytes: text.as_bytes(),
    };
    let parsed = parse("c.csv", text.as_bytes(), &kagamiishi());
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report);
    let mapping = describe(&source, &kagamiishi()).expect("mapping");
    assert_eq!(mapping.column(Target::Change), Some(8));
    assert!(
        mapping
            .render("c.csv", Lang::Ja)
            .contains("増減（計画額ではない"),
        "{}",
        mapping.render("c.csv", Lang::Ja)
    );
    // R6: 100 + 50 = 150 (10 + 40 特定財源 … 0 + 10 = 10; 一般財源 100 + 40 = 140); R5: 160.
    let edition = &parsed.editions[0].edition;
    assert_eq!(
        totals(edition),
        [(
            "1-1".to_owned(),
            2,
            vec![
                (2023, Some(160), None, None),
                (2024, Some(150), Some(10), Some(140))
            ]
        )]
    );
}

/// `rows` as a CSV (in 千円) under a one-row heading.
fn csv(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from("施策,事業名,担当課,区分,R6事業費,R6特定財源,R6一般財源\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text.into_bytes()
}

fn first_error(bytes: &[u8], name: &str) -> (Code, String) {
    let parsed = parse(name, bytes, &kagamiishi());
    let d = parsed
        .report
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap_or_else(|| panic!("an error in {:?}", parsed.report));
    (d.code, d.render(name, Lang::Ja))
}

#[test]
fn bad_inputs_are_refused_at_their_cell() {
    let (code, line) = first_error(&csv(&["1-1 子育て,事業A,健康課,検討中,100,0,100"]), "a.csv");
    assert_eq!(code, Code::UnknownStatus);
    assert!(
        line.starts_with("a.csv:2:4: error[unknown-status]"),
        "{line}"
    );

    let (code, line) = first_error(&csv(&["1-1 子育て,事業A,健康課,継続,100,20,70"]), "a.csv");
    assert_eq!(code, Code::SumMismatch);
    assert!(line.starts_with("a.csv:2:5: error[sum-mismatch]"), "{line}");

    let (code, line) = first_error(&csv(&["1-1 子育て,事業A,健康課,継続,△100,0,△100"]), "a.csv");
    assert_eq!(code, Code::NegativeAmount);
    assert!(
        line.starts_with("a.csv:2:5: error[negative-amount]"),
        "{line}"
    );

    let yen = "（単位：円）\n施策,事業名,担当課,区分,R6事業費,R6特定財源,R6一般財源\n1-1 子育て,事業A,健康課,継続,\"1,234,567\",0,\"1,234,567\"\n";
    let (code, line) = first_error(yen.as_bytes(), "yen.csv");
    assert_eq!(code, Code::NotANumber);
    assert!(
        line.starts_with("yen.csv:3:5: error[not-a-number]"),
        "{line}"
    );
    assert!(line.contains("千円の整数になりません"), "{line}");

    let (code, line) = first_error(
        &csv(&[
            "1-1 子育て,事業A,健康課,継続,100,0,100",
            "1-1 子育て,事業A,健康課,継続,100,0,100",
        ]),
        "a.csv",
    );
    assert_eq!(code, Code::DuplicateRow);
    assert!(line.starts_with("a.csv:3:2:"), "{line}");

    let (code, line) = first_error(
        "施策,事業名,区分,総合戦略,R6事業費\n1-1 子育て,事業A,継続,Ⅸ-(2,100\n".as_bytes(),
        "s.csv",
    );
    assert_eq!(code, Code::BadStrategyCode);
    assert!(line.starts_with("s.csv:2:4:"), "{line}");
}

#[test]
fn year_headings_that_disagree_are_flagged() {
    // R4 over a column whose own heading says R5.
    let text =
        "施策,事業名,区分,令和4年度,令和4年度\n,,,R4事業費,R5事業費\n1-1 子育て,事業A,継続,1,2\n";
    let (code, line) = first_error(text.as_bytes(), "y.csv");
    assert_eq!(code, Code::EditionMismatch);
    assert!(
        line.starts_with("y.csv:2:5: error[edition-mismatch]"),
        "{line}"
    );
}

#[test]
fn nothing_fits_says_what_is_missing() {
    let (code, line) = first_error("番号,名称,金額\n1,事業A,100\n".as_bytes(), "n.csv");
    assert_eq!(code, Code::BadHeader);
    assert!(line.contains("事業名 に当たる列がありません"), "{line}");
    assert!(line.contains("名称"), "{line}");
}

/// A workbook written part by part: cell C2 has a formula without a stored result.
fn uncached_formula_xlsx() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let ns = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let mut put = |name: &str, text: String| {
        zip.start_file(name, options).expect("start");
        zip.write_all(text.as_bytes()).expect("write");
    };
    let cell = |r: &str, t: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#);
    let data = format!(
        "<sheetData><row r=\"1\">{}{}{}{}</row><row r=\"2\">{}{}{}<c r=\"D2\"><f>1+1</f></c></row></sheetData>",
        cell("A1", "施策"),
        cell("B1", "事業名"),
        cell("C1", "区分"),
        cell("D1", "R6事業費"),
        cell("A2", "1-1 子育て"),
        cell("B2", "事業A"),
        cell("C2", "継続"),
    );
    put(
        "xl/worksheets/sheet1.xml",
        format!(r#"<?xml version="1.0"?><worksheet {ns}>{data}</worksheet>"#),
    );
    put(
        "xl/workbook.xml",
        format!(
            r#"<?xml version="1.0"?><workbook {ns}><sheets><sheet name="計画" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        ),
    );
    put(
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned(),
    );
    zip.finish().expect("finish").into_inner()
}

#[test]
fn a_formula_without_its_result_is_flagged() {
    let (code, line) = first_error(&uncached_formula_xlsx(), "f.xlsx");
    assert_eq!(code, Code::FormulaError);
    assert!(
        line.starts_with("f.xlsx:計画!D2: error[formula-error]"),
        "{line}"
    );
}

#[test]
fn own_files_are_told_from_keikaku_sheets() {
    let own = kagamiishi_xlsx();
    let layout = detect(
        &Source {
            name: "k.xlsx",
            bytes: &own,
        },
        &Context::default(),
    );
    assert_eq!(layout.map(|l| l.name()), Some("own"));
    let template = "施策コード,事業番号,事業ID,事業名\n";
    let layout = detect(
        &Source {
            name: "t.csv",
            bytes: template.as_bytes(),
        },
        &Context::default(),
    );
    assert_eq!(layout.map(|l| l.name()), Some("sheet-csv"));
    // Grown beyond what keikaku reads, the template is still the template (whose layout says
    // where it is too large): only its first line tells.
    let wide = format!("{template}{}\n", ",x".repeat(5_000));
    let layout = detect(
        &Source {
            name: "t.csv",
            bytes: wide.as_bytes(),
        },
        &Context::default(),
    );
    assert_eq!(layout.map(|l| l.name()), Some("sheet-csv"));
    let layout = detect(
        &Source {
            name: "t.tsv",
            bytes: &tsv(),
        },
        &Context::default(),
    );
    assert_eq!(layout.map(|l| l.name()), Some("own"));
}

#[test]
fn strategy_codes_in_every_notation() {
    let code = StrategyCode::new(1, 2).expect("code");
    for text in ["1-2", "Ⅰ-2", "Ⅰ(2)", "1(2)", "１－２", "Ⅰ（２）", "I-2"] {
        assert_eq!(StrategyCode::read(text), Some(code), "{text}");
    }
    for text in ["1", "Ⅰ", "1-", "-2", "Ⅸ-(2", "a-b"] {
        assert_eq!(StrategyCode::read(text), None, "{text}");
    }
}

#[test]
fn status_comes_from_the_mapping_file_when_the_sheet_has_none() {
    let text = "施策,事業名,R6事業費\n1-1 子育て,事業A,100\n";
    let (code, _) = first_error(text.as_bytes(), "s.csv");
    assert_eq!(code, Code::BadHeader);
    let context = Context {
        mapping: Some(Overrides::parse("[defaults]\nstatus = \"継続\"").expect("map")),
        ..kagamiishi()
    };
    let parsed = parse("s.csv", text.as_bytes(), &context);
    assert_eq!(errors(&parsed.report, "s.csv"), Vec::<String>::new());
}

#[test]
fn arbitrary_bytes_never_panic() {
    for bytes in [
        &b""[..],
        b"\xff\xfe\x00",
        b"PK\x03\x04garbage",
        "事業名\n".as_bytes(),
        "事業名,R6事業費\n,\n,,,,,\n".as_bytes(),
    ] {
        let _ = parse("x.csv", bytes, &kagamiishi());
        let _ = parse("x.xlsx", bytes, &kagamiishi());
    }
}

/// Writes the fixtures the command-line tests import (`tests/fixtures/own/`) from the builders
/// above, so that both read the same files: `cargo test -p keikaku-core write_own_fixtures --
/// --ignored` after changing a builder.
#[test]
#[ignore = "writes tests/fixtures/own; run by hand after changing a builder"]
fn write_own_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/own");
    std::fs::create_dir_all(&dir).expect("dir");
    for (name, bytes) in [
        ("kagamiishi.xlsx", kagamiishi_xlsx()),
        ("town-sjis.csv", sjis_csv()),
        ("town.tsv", tsv()),
    ] {
        std::fs::write(dir.join(name), bytes).expect("write");
    }
}

proptest::proptest! {
    /// Text made of headings, years, amounts, separators and junk never makes the layout
    /// panic, as CSV or TSV.
    #[test]
    fn arbitrary_tables_never_panic(
        cells in proptest::collection::vec(
            proptest::sample::select(vec![
                "事業名", "事業費", "特定財源", "一般財源", "区分", "施策", "基本目標", "R6",
                "令和7年度", "H30", "2024", "単位：円", "単位：万円", "1-1 子育て",
                "基本目標1", "施策 1-2 x", "継続", "△5", "1,234,567", "12.5", "-", "",
                "合計", "※", "Ⅰ(2)", "1-2", "\"", ",", "\t", "\n", "x",
            ]),
            0..120,
        )
    ) {
        let text: String = cells.concat();
        let _ = parse("p.csv", text.as_bytes(), &kagamiishi());
        let _ = parse("p.tsv", text.as_bytes(), &kagamiishi());
    }
}

/// A table with a 施策 column only: goals come from the codes' first numbers, so codes of two
/// goals make two goals (not a policy "standing under" the previous code's goal).
#[test]
fn policy_codes_alone_make_as_many_goals_as_they_name() {
    let text = "施策,事業名,担当課,区分,R6事業費,R6特定財源,R6一般財源\n\
                1-1 子育て,事業A,健康課,継続,100,0,100\n\
                2-1 道路,事業B,建設課,継続,200,0,200\n\
                1-2 高齢者,事業C,健康課,継続,50,0,50\n";
    let parsed = parse("two.csv", text.as_bytes(), &kagamiishi());
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report);
    let edition = &parsed.editions[0].edition;
    let goals: Vec<(u32, Vec<String>)> = edition
        .goals
        .iter()
        .map(|g| {
            (
                g.number,
                g.policies.iter().map(|p| p.code.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        goals,
        [
            (1, vec!["1-1".to_owned(), "1-2".to_owned()]),
            (2, vec!["2-1".to_owned()])
        ]
    );
}

/// A table without a 事業名 column is refused at its first row, naming the headings it saw
/// and not the amounts below them.
#[test]
fn a_table_without_a_name_column_is_refused_at_its_first_row() {
    let (code, line) = first_error("番号,名称,金額\n1,道路,\"30,000\"\n".as_bytes(), "x.csv");
    assert_eq!(code, Code::BadHeader);
    assert!(line.starts_with("x.csv:1:1: error[bad-header]"), "{line}");
    assert!(line.contains("番号、名称、金額"), "{line}");
    assert!(!line.contains("30,000"), "{line}");
}
