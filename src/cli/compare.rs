//! `keikaku compare`: municipalities side by side in one fiscal year, by policy field,
//! strategy code or 区分, with yen per inhabitant where a population is recorded; or, with
//! `--national` (the default when none are named), every municipality together.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::compare::{self, Selection};
use keikaku::web::api::{compare_body, figures_body};
use keikaku_core::FiscalYear;
use keikaku_core::aggregate::GroupBy;
use keikaku_core::money::group_thousands;

use super::open_store;
use super::output::table;

/// Parses `--by`: field, strategy, status or total.
fn parse_by(text: &str) -> Result<GroupBy, String> {
    match text {
        "total" => Ok(GroupBy::Year),
        _ => compare::DIMENSIONS
            .into_iter()
            .find(|d| d.as_str() == text)
            .ok_or_else(|| {
                format!("{text:?} is not a grouping; use field, strategy, status or total")
            }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// One line per municipality and group.
    Table,
    /// JSON, the same as `/api/v1/compare`.
    Json,
    /// CSV, UTF-8 with BOM.
    Csv,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Municipalities: codes or names.
    pub municipalities: Vec<String>,
    /// Every municipality of a prefecture as well (number or name, e.g. 7 or 福島県).
    #[arg(long, value_name = "PREF")]
    pub prefecture: Option<String>,
    /// The totals of all municipalities together (of the prefecture, with --prefecture).
    #[arg(long)]
    pub national: bool,
    /// Grouping: field (分野), strategy (地方創生事業), status (区分) or total.
    #[arg(long, value_parser = parse_by, default_value = "field")]
    pub by: GroupBy,
    /// Fiscal year (2024, R6, 令和6年度); default: the latest first year of the editions.
    #[arg(long, value_name = "YEAR", value_parser = parse_year)]
    pub year: Option<FiscalYear>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
}

fn parse_year(text: &str) -> Result<FiscalYear, String> {
    FiscalYear::parse(text)
        .ok_or_else(|| format!("{text:?} is not a fiscal year (e.g. R6, 令和6年度, 2024)"))
}

/// The column heading of the groups.
fn group_heading(by: GroupBy) -> &'static str {
    if compare::DIMENSIONS.contains(&by) {
        by.label()
    } else {
        "合計"
    }
}

/// The JSON name of the grouping.
fn by_name(by: GroupBy) -> &'static str {
    if compare::DIMENSIONS.contains(&by) {
        by.as_str()
    } else {
        "total"
    }
}

/// Runs `compare`.
pub async fn run(config: &Config, args: CompareArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let by = args.by;
    if args.national || (args.municipalities.is_empty() && args.prefecture.is_none()) {
        let totals = compare::national(&store, args.prefecture.as_deref(), by, args.year).await?;
        store.close().await;
        print_national(&totals, args.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let selection = Selection {
        municipalities: args.municipalities.clone(),
        prefecture: args.prefecture.clone(),
    };
    let comparison = compare::compare(&store, &selection, by, args.year).await?;
    store.close().await;
    match args.format {
        CompareFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&compare_body(&comparison))?
        ),
        CompareFormat::Table | CompareFormat::Csv => {
            let mut rows = Vec::new();
            for m in &comparison.municipalities {
                for f in std::iter::once(&m.total).chain(&m.groups) {
                    let mut row = vec![
                        m.code.to_string(),
                        m.name.clone(),
                        m.edition.clone(),
                        f.name.clone(),
                    ];
                    row.extend(figure_cells(f));
                    row.extend([
                        m.population
                            .map(|p| p.count.to_string())
                            .unwrap_or_default(),
                        m.population
                            .map(|p| p.as_of.to_string())
                            .unwrap_or_default(),
                    ]);
                    rows.push(row);
                }
            }
            let header = [
                "団体コード",
                "団体名",
                "計画期間",
                group_heading(by),
                "事業数",
                "事業費（千円）",
                "特定財源（千円）",
                "一般財源（千円）",
                "1人あたり事業費（円）",
                "人口",
                "人口の基準日",
            ];
            if args.format == CompareFormat::Csv {
                print_csv(&header, rows, 4)?;
            } else {
                println!("{}の比較（{}）", comparison.year.label(), group_heading(by));
                let pretty = rows
                    .into_iter()
                    .map(|mut r| {
                        for i in [5, 6, 7, 8, 9] {
                            if let Ok(n) = r[i].parse::<i64>() {
                                r[i] = group_thousands(n);
                            }
                        }
                        r
                    })
                    .collect();
                println!("{}", table(&header, &[4, 5, 6, 7, 8, 9], pretty));
            }
        }
    }
    if !comparison.missing.is_empty() {
        eprintln!(
            "no published edition covering {} for: {}",
            comparison.year.label(),
            comparison.missing.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Projects, 事業費, 特定財源, 一般財源 and per inhabitant, as plain numbers; empty for no
/// amount (not 0), as in the open-data CSV.
fn figure_cells(f: &compare::Figures) -> [String; 5] {
    let stated = |which| {
        f.amount(which)
            .map(|m| m.thousand_yen().to_string())
            .unwrap_or_default()
    };
    [
        f.projects.to_string(),
        stated(keikaku_core::aggregate::Sum::Cost),
        stated(keikaku_core::aggregate::Sum::Earmarked),
        stated(keikaku_core::aggregate::Sum::General),
        f.per_capita_yen.map(|y| y.to_string()).unwrap_or_default(),
    ]
}

/// Prints CSV (UTF-8 with BOM): the first `text_columns` cells of a row are text (neutralised
/// against formula injection by the writer), the rest numbers.
fn print_csv(header: &[&str], rows: Vec<Vec<String>>, text_columns: usize) -> anyhow::Result<()> {
    use keikaku_core::export::csv::{Field, Writer};
    let mut writer = Writer::new();
    writer.header(header.iter().copied());
    for row in &rows {
        writer.row(row.iter().enumerate().map(|(i, cell)| {
            if i < text_columns {
                Field::text(cell.as_str())
            } else {
                Field::number(cell.as_str())
            }
        }));
    }
    print!("{}", writer.into_string_with_bom());
    Ok(())
}

fn print_national(totals: &compare::NationalTotals, format: CompareFormat) -> anyhow::Result<()> {
    let header = [
        group_heading(totals.by),
        "事業数",
        "事業費（千円）",
        "特定財源（千円）",
        "一般財源（千円）",
        "1人あたり事業費（円）",
    ];
    let rows: Vec<Vec<String>> = std::iter::once(&totals.total)
        .chain(&totals.groups)
        .map(|f| {
            let mut row = vec![f.name.clone()];
            row.extend(figure_cells(f));
            row
        })
        .collect();
    match format {
        CompareFormat::Json => {
            let groups: Vec<serde_json::Value> = std::iter::once(&totals.total)
                .chain(&totals.groups)
                .map(|f| serde_json::to_value(figures_body(f)))
                .collect::<Result<_, _>>()?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "year": totals.year.year(),
                    "by": by_name(totals.by),
                    "municipalities": totals.municipalities,
                    "population": {"count": totals.population.0, "municipalities": totals.population.1},
                    "rows": groups,
                }))?
            );
        }
        CompareFormat::Csv => print_csv(&header, rows, 1)?,
        CompareFormat::Table => {
            println!(
                "{} {} 団体の合計（{}）",
                totals.year.label(),
                totals.municipalities,
                group_heading(totals.by)
            );
            let pretty = rows
                .into_iter()
                .map(|mut r| {
                    for cell in r.iter_mut().skip(1) {
                        if let Ok(n) = cell.parse::<i64>() {
                            *cell = group_thousands(n);
                        }
                    }
                    r
                })
                .collect();
            println!("{}", table(&header, &[1, 2, 3, 4, 5], pretty));
        }
    }
    Ok(())
}
