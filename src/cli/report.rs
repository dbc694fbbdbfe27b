//! `keikaku report --by policy|goal|department|strategy|status|year`: totals of an edition.
//!
//! The JSON shape is fixed (documented in `docs/cli.md`):
//! `{"edition": "R2-R4", "by": "policy", "rows": [{"key", "name", "projects", "cost",
//! "earmarked", "general"}], "total": {"projects", "cost", "earmarked", "general"}}`, amounts
//! in 千円.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::query;
use keikaku_core::FiscalYear;
use keikaku_core::aggregate::{Aggregate, GroupBy, Totals};
use keikaku_core::export::csv::{Field, Writer};
use keikaku_core::money::group_thousands;
use serde::Serialize;

use super::output::table;
use super::{SelectArgs, open_store};

/// Parses `--by` into the core grouping.
fn parse_by(text: &str) -> Result<GroupBy, String> {
    GroupBy::parse(text).ok_or_else(|| {
        let names: Vec<&str> = GroupBy::ALL.iter().map(|g| g.as_str()).collect();
        format!(
            "{text:?} is not a grouping; use one of {}",
            names.join(", ")
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned table with thousands separators and Japanese labels.
    Table,
    /// JSON (see docs/cli.md).
    Json,
    /// CSV, UTF-8 with BOM.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sort {
    /// The grouping's natural order (policy code, goal number, …).
    Key,
    /// Largest cost first.
    Cost,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// How to group: policy, goal, department, strategy, status or year.
    #[arg(long, value_parser = parse_by, default_value = "policy")]
    pub by: GroupBy,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Sum only this fiscal year (e.g. R2, 2020); default: every year of the edition.
    #[arg(long, value_name = "YEAR", value_parser = parse_year)]
    pub year: Option<FiscalYear>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Row order.
    #[arg(long, value_enum, default_value = "key")]
    pub sort: Sort,
}

fn parse_year(text: &str) -> Result<FiscalYear, String> {
    FiscalYear::parse(text)
        .ok_or_else(|| format!("{text:?} is not a fiscal year (e.g. R2, 令和2年度, 2020)"))
}

#[derive(Serialize)]
struct ReportView {
    edition: String,
    by: &'static str,
    rows: Vec<RowView>,
    total: TotalsView,
}

#[derive(Serialize)]
struct RowView {
    key: String,
    name: String,
    #[serde(flatten)]
    totals: TotalsView,
}

/// Totals as JSON numbers of 千円.
#[derive(Serialize)]
pub(super) struct TotalsView {
    projects: u64,
    cost: Option<i64>,
    earmarked: Option<i64>,
    general: Option<i64>,
}

impl From<Totals> for TotalsView {
    /// Amounts are `null` when no project of the group states a 事業費 (not 0).
    fn from(t: Totals) -> Self {
        TotalsView {
            projects: t.projects,
            cost: t
                .amount(keikaku_core::aggregate::Sum::Cost)
                .map(|m| m.thousand_yen()),
            earmarked: t
                .amount(keikaku_core::aggregate::Sum::Earmarked)
                .map(|m| m.thousand_yen()),
            general: t
                .amount(keikaku_core::aggregate::Sum::General)
                .map(|m| m.thousand_yen()),
        }
    }
}

impl Default for ReportArgs {
    /// The policy report of the latest edition, as a table.
    fn default() -> Self {
        ReportArgs {
            by: GroupBy::Policy,
            select: SelectArgs {
                municipality: None,
                edition: None,
            },
            year: None,
            format: ReportFormat::Table,
            sort: Sort::Key,
        }
    }
}

/// Runs `report`.
pub async fn run(config: &Config, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let (info, mut aggregate) =
        query::report(&store, &args.select.selector(), args.by, args.year).await?;
    if args.sort == Sort::Cost {
        aggregate.sort_by_cost();
    }
    match args.format {
        ReportFormat::Json => {
            let view = ReportView {
                edition: info.span.label(),
                by: aggregate.by.as_str(),
                rows: aggregate
                    .rows
                    .iter()
                    .map(|r| RowView {
                        key: r.key.clone(),
                        name: r.name.clone(),
                        totals: r.totals.into(),
                    })
                    .collect(),
                total: aggregate.total.into(),
            };
            println!("{}", serde_json::to_string_pretty(&view)?);
        }
        ReportFormat::Csv => print!("{}", csv(&aggregate)),
        ReportFormat::Table => {
            let scope = match aggregate.year {
                Some(year) => year.label(),
                None => format!("{}の計", info.span.long_label()),
            };
            println!(
                "{} {}別集計（{scope}、単位: 千円）",
                info.title,
                aggregate.by.label()
            );
            println!("{}", render_table(&aggregate));
            for note in notes(&aggregate) {
                println!("{note}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn money_cells(t: &Totals) -> [String; 4] {
    [
        t.projects.to_string(),
        t.amount(keikaku_core::aggregate::Sum::Cost)
            .map_or_else(|| "-".to_owned(), |m| group_thousands(m.thousand_yen())),
        t.amount(keikaku_core::aggregate::Sum::Earmarked)
            .map_or_else(|| "-".to_owned(), |m| group_thousands(m.thousand_yen())),
        t.amount(keikaku_core::aggregate::Sum::General)
            .map_or_else(|| "-".to_owned(), |m| group_thousands(m.thousand_yen())),
    ]
}

fn render_table(aggregate: &Aggregate) -> String {
    let key_label = aggregate.by.label();
    let show_name = !matches!(
        aggregate.by,
        GroupBy::Department | GroupBy::Strategy | GroupBy::Status
    );
    let mut header = vec![key_label];
    if show_name {
        header.push("名称");
    }
    header.extend(["事業数", "事業費", "特定財源", "一般財源"]);
    let first_number = if show_name { 2 } else { 1 };
    let mut rows: Vec<Vec<String>> = aggregate
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.key.clone()];
            if show_name {
                row.push(r.name.clone());
            } else if r.key != r.name {
                row[0] = r.name.clone();
            }
            row.extend(money_cells(&r.totals));
            row
        })
        .collect();
    let mut total = vec!["合計".to_owned()];
    if show_name {
        total.push(String::new());
    }
    total.extend(money_cells(&aggregate.total));
    rows.push(total);
    table(
        &header,
        &(first_number..first_number + 4).collect::<Vec<_>>(),
        rows,
    )
}

fn notes(aggregate: &Aggregate) -> Vec<String> {
    let mut notes = vec![
        "注: 金額が「-」（計上なし）の事業は事業数に含め、金額には加えていません。".to_owned(),
    ];
    if aggregate.counted_more_than_once > 0 {
        let what = match aggregate.by {
            GroupBy::Department => "担当課が複数ある",
            _ => "地方創生事業の番号が複数ある",
        };
        notes.push(format!(
            "注: {what}事業（{} 件）はそれぞれに計上しているため、各行の和は合計行と一致しません。合計行は各事業を1回だけ数えています。",
            aggregate.counted_more_than_once
        ));
    }
    notes
}

/// The report as CSV (UTF-8 with BOM). Group names are text (neutralised against formula
/// injection by the writer); counts and amounts are numbers.
fn csv(aggregate: &Aggregate) -> String {
    let mut writer = Writer::new();
    writer.header([
        aggregate.by.label(),
        "名称",
        "事業数",
        "事業費（千円）",
        "特定財源（千円）",
        "一般財源（千円）",
    ]);
    // An empty cell is no amount, as in the open-data CSV.
    let numbers = |t: &Totals| {
        [
            Field::integer(i64::try_from(t.projects).ok()),
            Field::integer(
                t.amount(keikaku_core::aggregate::Sum::Cost)
                    .map(|m| m.thousand_yen()),
            ),
            Field::integer(
                t.amount(keikaku_core::aggregate::Sum::Earmarked)
                    .map(|m| m.thousand_yen()),
            ),
            Field::integer(
                t.amount(keikaku_core::aggregate::Sum::General)
                    .map(|m| m.thousand_yen()),
            ),
        ]
    };
    for r in &aggregate.rows {
        writer.row(
            [Field::text(r.key.as_str()), Field::text(r.name.as_str())]
                .into_iter()
                .chain(numbers(&r.totals)),
        );
    }
    writer.row(
        [Field::text("合計"), Field::text("")]
            .into_iter()
            .chain(numbers(&aggregate.total)),
    );
    writer.into_string_with_bom()
}
