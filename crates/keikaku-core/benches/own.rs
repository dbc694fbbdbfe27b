//! Reading a town's own workbook of 2,000 projects (and larger, to see how it grows): the
//! layout `own` finding its headings, mapping, converting 円 and validating, as `keikaku
//! import town.xlsx` does before storing.
//!
//! `cargo bench -p keikaku-core --bench own` prints one line per size (`-- 2000 20000` to
//! choose sizes), best of three runs. It asserts nothing; the figures are recorded in
//! `docs/benchmarks.md`.

use std::time::{Duration, Instant};

use keikaku_core::import::{self, Context, own::OwnPlan};
use keikaku_core::source::Source;
use keikaku_core::{Municipality, MunicipalityCode};
use rust_xlsxwriter::{Format, Workbook};

/// A workbook like a town's: title, `（単位：円）`, a two-row heading with three years of
/// 事業費・特定財源・一般財源, goals merged down their rows, `projects` projects in policies
/// of 20.
fn workbook(projects: u32) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let f = Format::new();
    sheet
        .merge_range(0, 0, 0, 15, "町実施計画（令和6年度～令和8年度）", &f)
        .expect("title");
    sheet.write_string(1, 14, "（単位：円）").expect("unit");
    for (column, text) in [
        (0, "基本目標"),
        (1, "施策"),
        (2, "事務事業名"),
        (3, "事業内容"),
        (4, "担当課"),
        (5, "区分"),
        (6, "総合戦略"),
    ] {
        sheet
            .merge_range(2, column, 3, column, text, &f)
            .expect("heading");
    }
    for (i, year) in ["令和6年度", "令和7年度", "令和8年度"].iter().enumerate() {
        let first = 7 + 3 * i as u16;
        sheet
            .merge_range(2, first, 2, first + 2, year, &f)
            .expect("year");
        for (j, field) in ["事業費", "特定財源", "一般財源"].iter().enumerate() {
            sheet
                .write_string(3, first + j as u16, *field)
                .expect("field");
        }
    }
    let per_goal = 200;
    for p in 0..projects {
        let row = 4 + p;
        if p % per_goal == 0 {
            let last = (row + per_goal - 1).min(4 + projects - 1);
            let goal = p / per_goal + 1;
            let title = format!("{goal} 目標{goal}");
            if last > row {
                sheet
                    .merge_range(row, 0, last, 0, &title, &f)
                    .expect("goal");
            } else {
                sheet.write_string(row, 0, &title).expect("goal");
            }
        }
        let goal = p / per_goal + 1;
        let policy = (p % per_goal) / 20 + 1;
        sheet
            .write_string(row, 1, format!("{goal}-{policy} 施策{goal}-{policy}"))
            .expect("policy");
        sheet
            .write_string(row, 2, format!("事業{p}"))
            .expect("name");
        sheet.write_string(row, 3, "事業の内容").expect("summary");
        sheet
            .write_string(row, 4, "企画課・財政課")
            .expect("department");
        sheet.write_string(row, 5, "継続").expect("status");
        sheet.write_string(row, 6, "Ⅰ-2").expect("strategy");
        for i in 0..3u16 {
            let total = f64::from(1_000 * (p % 997 + 10));
            let earmarked = f64::from(1_000 * (p % 7));
            let first = 7 + 3 * i;
            sheet.write_number(row, first, total).expect("total");
            sheet
                .write_number(row, first + 1, earmarked)
                .expect("earmarked");
            sheet
                .write_number(row, first + 2, total - earmarked)
                .expect("general");
        }
    }
    book.save_to_buffer().expect("xlsx")
}

fn main() {
    let mut sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![2_000, 20_000];
    }
    let context = Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("073423").expect("code"),
            name: "鏡石町".into(),
        }),
        ..Context::default()
    };
    println!("| projects | xlsx size | read + map + validate (best of 3) | errors |");
    println!("|---:|---:|---:|---:|");
    for projects in sizes {
        let bytes = workbook(projects);
        let mut best = Duration::MAX;
        let mut errors = 0;
        for _ in 0..3 {
            let start = Instant::now();
            let parsed = import::read(
                &Source {
                    name: "town.xlsx",
                    bytes: &bytes,
                },
                Some(&OwnPlan),
                &context,
            );
            best = best.min(start.elapsed());
            errors = parsed.report.error_count();
            assert_eq!(
                parsed.editions[0].edition.projects().count(),
                projects as usize
            );
        }
        println!(
            "| {projects} | {} KB | {:.3} s | {errors} |",
            bytes.len() / 1024,
            best.as_secs_f64()
        );
    }
}
