//! How reading grows with the size of the input, for good and bad input alike: spreadsheets
//! (xlsx and CSV) of 10,000, 20,000 and 100,000 rows against a stored edition of as many
//! projects, and a plan text followed by 50 MB of lines that are not the plan.
//!
//! `cargo bench -p keikaku-core --bench input` prints one line per case (read + validate,
//! one run each: the cases are too slow to repeat when something is quadratic). Give row
//! counts as arguments to run only those sizes (`-- 10000 20000`), `--no-text` to skip the
//! text case. It asserts nothing; the figures are recorded in `docs/benchmarks.md`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use keikaku_core::import::{self, Base, Context, Layout, sheet::SheetCsv, sheet::SheetXlsx};
use keikaku_core::sheet::grid::{Grid, Value, read_csv};
use keikaku_core::sheet::{PROJECT_SHEET, template};
use keikaku_core::source::Source;
use keikaku_core::synth::Generator;
use keikaku_core::{Edition, EditionSpan, Municipality, MunicipalityCode};

const SEED: &str = include_str!("../../../data/samples/shirakawa-r2-r4-goal7.txt");

fn shirakawa() -> Municipality {
    Municipality {
        code: MunicipalityCode::parse("072052").expect("code"),
        name: "白河市".into(),
    }
}

/// A stored edition of `rows` projects: 100 policies of `rows / 100` projects.
fn edition(rows: u32) -> Edition {
    let span = EditionSpan::parse("R2-R4").expect("span");
    Generator::new(11).edition(&shirakawa(), span, 100, rows / 100, true)
}

/// The sample plan (R2–R4, 6 policies, 33 projects), as stored.
fn seed() -> Edition {
    let context = Context {
        municipality: Some(shirakawa()),
        ..Context::default()
    };
    let mut parsed = import::read(
        &Source {
            name: "seed.txt",
            bytes: SEED.as_bytes(),
        },
        None,
        &context,
    );
    parsed.editions.remove(0).edition
}

/// The sheet of `edition` as a grid, with `change` applied to every project row.
fn grid(edition: &Edition, change: impl Fn(&mut Vec<Value>, &[Value])) -> Grid {
    let mut grid = read_csv(&template::to_csv(edition), None).expect("template");
    let header = grid.rows[0].clone();
    for row in grid.rows.iter_mut().skip(1) {
        change(row, &header);
    }
    grid
}

/// The sample's sheet with `rows` new projects (no 事業ID) added to policy 7-1, numbered
/// from 11 unless `numbered` is false (the cell left empty, an error on every row).
fn with_new_rows(seed: &Edition, rows: u32, numbered: bool) -> Grid {
    let mut grid = grid(seed, |_, _| {});
    let header = grid.rows[0].clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|v| v.text() == name)
            .expect("column")
    };
    let r2_total = column("令和2年度 事業費（千円）");
    let r2_earmarked = column("令和2年度 特定財源（千円）");
    let r2_general = column("令和2年度 一般財源（千円）");
    for n in 0..rows {
        let mut row = vec![Value::Empty; header.len()];
        let text = |t: String| Value::Text(t);
        row[column("施策コード")] = text("7-1".into());
        if numbered {
            row[column("事業番号")] = text((n + 11).to_string());
        }
        row[column("事業名")] = text(format!("地域活動支援事業{n}"));
        row[column("事業概要")] = text(format!("地域の活動 {n} を支援する。"));
        row[column("区分")] = text("新規".into());
        row[column("担当課")] = text("企画政策課".into());
        row[r2_total] = text("1,000".into());
        row[r2_earmarked] = text("400".into());
        row[r2_general] = text("600".into());
        grid.rows.push(row);
    }
    grid
}

fn blank(row: &mut [Value], header: &[Value], name: &str) {
    if let Some(c) = header.iter().position(|v| v.text() == name) {
        row[c] = Value::Empty;
    }
}

fn to_csv(grid: &Grid) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &grid.rows {
        writer
            .write_record(row.iter().map(Value::text))
            .expect("record");
    }
    writer.into_inner().expect("csv")
}

fn to_xlsx(grid: &Grid) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(PROJECT_SHEET).expect("name");
    for (r, row) in grid.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let (r, c) = (
                u32::try_from(r).expect("row"),
                u16::try_from(c).expect("column"),
            );
            // Numbers stay numbers, as Excel keeps what departments type.
            let text = value.text();
            if text.is_empty() {
                continue;
            }
            match text.parse::<f64>() {
                Ok(n) if !text.contains('-') => sheet.write_number(r, c, n),
                _ => sheet.write_string(r, c, &text),
            }
            .expect("write");
        }
    }
    book.save_to_buffer().expect("xlsx")
}

fn run(layout: &dyn Layout, name: &str, bytes: &[u8], context: &Context) -> (Duration, usize) {
    let start = Instant::now();
    let parsed = import::read(&Source { name, bytes }, Some(layout), context);
    (start.elapsed(), parsed.report.error_count())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes: Vec<u32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 20_000, 100_000];
    }
    println!("| rows | sheet | layout | read + validate | errors |");
    println!("|---:|---|---|---:|---:|");
    for rows in sizes {
        let base = edition(rows);
        let updates = Context {
            base: Some(Base {
                edition: base.clone(),
                other_ids: HashMap::new(),
                previous: None,
            }),
            ..Context::default()
        };
        let seed = seed();
        let additions = Context {
            base: Some(Base {
                edition: seed.clone(),
                other_ids: HashMap::new(),
                previous: None,
            }),
            ..Context::default()
        };
        let cases = [
            (
                "update every project of an edition of as many (template as written)",
                grid(&base, |_, _| {}),
                &updates,
            ),
            (
                "update every project, 事業番号 left empty",
                grid(&base, |row, header| blank(row, header, "事業番号")),
                &updates,
            ),
            (
                "new projects added to the sample's policy 7-1",
                with_new_rows(&seed, rows, true),
                &additions,
            ),
            (
                "new projects added to 7-1, 事業番号 left empty",
                with_new_rows(&seed, rows, false),
                &additions,
            ),
        ];
        for (case, grid, context) in cases {
            let xlsx = to_xlsx(&grid);
            let csv = to_csv(&grid);
            for (layout, name, bytes) in [
                (&SheetXlsx as &dyn Layout, "xlsx", &xlsx),
                (&SheetCsv as &dyn Layout, "csv", &csv),
            ] {
                let (time, errors) = run(layout, name, bytes, context);
                println!(
                    "| {rows} | {case} | {name} | {:.2} s | {errors} |",
                    time.as_secs_f64()
                );
            }
        }
    }
    if !args.iter().any(|a| a == "--no-text") {
        // The seed, then lines that belong to no plan, to 50 MB.
        let mut text = SEED.to_owned();
        let junk = "ランダムな行 0123456789\n";
        while text.len() < 50 << 20 {
            text.push_str(junk);
        }
        let context = Context {
            municipality: Some(shirakawa()),
            ..Context::default()
        };
        let start = Instant::now();
        let parsed = import::read(
            &Source {
                name: "junk.txt",
                bytes: text.as_bytes(),
            },
            None,
            &context,
        );
        println!(
            "\n50 MB plan text (seed + {} junk lines): read + validate {:.2} s, {} diagnostics kept, {} errors, {} warnings",
            (text.len() - SEED.len()) / junk.len(),
            start.elapsed().as_secs_f64(),
            parsed.report.diagnostics.len(),
            parsed.report.error_count(),
            parsed.report.warning_count()
        );
    }
}
