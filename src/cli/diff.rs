//! `keikaku diff R2-R4 R3-R5`: what changed between two editions, as a table, JSON or CSV.
//! The JSON shape is documented in `docs/cli.md`. Totals of policies and goals are compared
//! over the fiscal years both editions cover, and every format says which years those are.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::diff;
use keikaku_core::EditionSpan;
use keikaku_core::aggregate::Totals;
use keikaku_core::diff::{
    AmountChange, Change, EditionDiff, GroupChange, Link, Side, compared_label,
};
use keikaku_core::export::csv::{Field, Writer};
use keikaku_core::money::group_thousands;
use keikaku_core::{FiscalYear, Money};
use serde::Serialize;

use super::output::table;
use super::report::TotalsView;
use super::{open_store, parse_span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Readable sections, in Japanese.
    Table,
    /// JSON (see docs/cli.md).
    Json,
    /// One row per change, UTF-8 with BOM.
    Csv,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier edition, e.g. R2-R4.
    #[arg(value_parser = parse_span)]
    pub from: EditionSpan,
    /// The later edition, e.g. R3-R5.
    #[arg(value_parser = parse_span)]
    pub to: EditionSpan,
    /// Municipality code or name (needed when the database holds several).
    #[arg(long, value_name = "CODE")]
    pub municipality: Option<String>,
    /// Declare a project of the earlier edition the same as one of the later
    /// (reference or id each side), e.g. --link 7-1-3=7-1-4. Repeatable.
    #[arg(long = "link", value_name = "OLD=NEW", value_parser = parse_link)]
    pub links: Vec<Link>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: DiffFormat,
}

fn parse_link(text: &str) -> Result<Link, String> {
    Link::parse(text).ok_or_else(|| format!("{text:?} is not OLD=NEW (e.g. 7-1-3=7-1-4)"))
}

#[derive(Serialize)]
struct SideView {
    id: String,
    reference: String,
    policy: String,
    name: String,
}

impl From<&Side> for SideView {
    fn from(s: &Side) -> Self {
        SideView {
            id: s.id.clone(),
            reference: s.reference.clone(),
            policy: s.policy.clone(),
            name: s.name.clone(),
        }
    }
}

#[derive(Serialize)]
struct PairView {
    from: SideView,
    to: SideView,
}

impl From<&Change<Side>> for PairView {
    fn from(c: &Change<Side>) -> Self {
        PairView {
            from: (&c.from).into(),
            to: (&c.to).into(),
        }
    }
}

#[derive(Serialize)]
struct ChangeView<T> {
    from: T,
    to: T,
}

#[derive(Serialize)]
struct AmountView {
    year: i32,
    field: &'static str,
    from: Option<i64>,
    to: Option<i64>,
}

#[derive(Serialize)]
struct ChangedView {
    from: SideView,
    to: SideView,
    status: Option<ChangeView<String>>,
    departments: Option<ChangeView<Vec<String>>>,
    strategies: Option<ChangeView<Vec<String>>>,
    summary_changed: bool,
    amounts: Vec<AmountView>,
}

#[derive(Serialize)]
struct UncertainView {
    from: SideView,
    to: SideView,
    similarity: u8,
}

#[derive(Serialize)]
struct GroupView {
    key: String,
    name: String,
    from: Option<TotalsView>,
    to: Option<TotalsView>,
}

fn group_view(g: &GroupChange) -> GroupView {
    GroupView {
        key: g.key.clone(),
        name: g.name.clone(),
        from: g.from.map(TotalsView::from),
        to: g.to.map(TotalsView::from),
    }
}

#[derive(Serialize)]
struct DiffView {
    municipality: String,
    from: String,
    to: String,
    /// The fiscal years (Western) both editions cover: the years `policies` and `goals` sum.
    compared_years: Vec<i32>,
    new: Vec<SideView>,
    ended: Vec<SideView>,
    renamed: Vec<PairView>,
    moved: Vec<PairView>,
    changed: Vec<ChangedView>,
    uncertain: Vec<UncertainView>,
    policies: Vec<GroupView>,
    goals: Vec<GroupView>,
}

fn view(municipality: String, from: EditionSpan, to: EditionSpan, d: &EditionDiff) -> DiffView {
    DiffView {
        municipality,
        from: from.label(),
        to: to.label(),
        compared_years: d
            .compared
            .map(|span| span.years().map(|y| y.year()).collect())
            .unwrap_or_default(),
        new: d.new.iter().map(SideView::from).collect(),
        ended: d.ended.iter().map(SideView::from).collect(),
        renamed: d.renamed.iter().map(PairView::from).collect(),
        moved: d.moved.iter().map(PairView::from).collect(),
        changed: d
            .changed
            .iter()
            .map(|c| ChangedView {
                from: (&c.from).into(),
                to: (&c.to).into(),
                status: c.status.as_ref().map(|s| ChangeView {
                    from: s.from.clone(),
                    to: s.to.clone(),
                }),
                departments: c.departments.as_ref().map(|s| ChangeView {
                    from: s.from.clone(),
                    to: s.to.clone(),
                }),
                strategies: c.strategies.as_ref().map(|s| ChangeView {
                    from: s.from.clone(),
                    to: s.to.clone(),
                }),
                summary_changed: c.summary,
                amounts: c
                    .amounts
                    .iter()
                    .map(|a| AmountView {
                        year: a.year.year(),
                        field: a.field,
                        from: a.from.map(Money::thousand_yen),
                        to: a.to.map(Money::thousand_yen),
                    })
                    .collect(),
            })
            .collect(),
        uncertain: d
            .uncertain
            .iter()
            .map(|u| UncertainView {
                from: (&u.from).into(),
                to: (&u.to).into(),
                similarity: u.similarity,
            })
            .collect(),
        policies: d.policies.iter().map(group_view).collect(),
        goals: d.goals.iter().map(group_view).collect(),
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "total" => "事業費",
        "earmarked" => "特定財源",
        "general" => "一般財源",
        other => keikaku_core::FundingKind::from_key(other).map_or(other, |k| k.label()),
    }
}

fn money(m: Option<Money>) -> String {
    m.map_or_else(|| "-".to_owned(), |m| format!("{}千円", m.grouped()))
}

fn amount_line(a: &AmountChange) -> String {
    format!(
        "{} {}: {} → {}",
        a.year.label(),
        field_label(a.field),
        money(a.from),
        money(a.to)
    )
}

/// A group's 事業費 for the table: `-` for no amount (never 0), `（なし）` where the edition
/// has no such group.
fn cost(t: &Option<Totals>) -> String {
    match t {
        None => "（なし）".to_owned(),
        Some(t) => t
            .amount(keikaku_core::aggregate::Sum::Cost)
            .map_or_else(|| "-".to_owned(), |m| group_thousands(m.thousand_yen())),
    }
}

/// Prints the diff for people, with control characters in names shown as escapes.
fn print_table(name: &str, from: EditionSpan, to: EditionSpan, d: &EditionDiff) {
    let text = table_text(name, from, to, d);
    print!("{}", keikaku_core::diagnostic::visible(&text, true));
}

fn table_text(name: &str, from: EditionSpan, to: EditionSpan, d: &EditionDiff) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    _ = writeln!(out, "{name} 実施計画の変更: {from} → {to}\n");
    let side = |s: &Side| format!("{} {}", s.reference, s.name);
    _ = writeln!(out, "新規 {}件", d.new.len());
    for s in &d.new {
        _ = writeln!(out, "  {}", side(s));
    }
    _ = writeln!(out, "終了 {}件", d.ended.len());
    for s in &d.ended {
        _ = writeln!(out, "  {}", side(s));
    }
    _ = writeln!(out, "名称変更 {}件", d.renamed.len());
    for c in &d.renamed {
        _ = writeln!(out, "  {} {} → {}", c.to.reference, c.from.name, c.to.name);
    }
    _ = writeln!(out, "施策の移動 {}件", d.moved.len());
    for c in &d.moved {
        _ = writeln!(
            out,
            "  {} → {} {}（施策 {} → {}）",
            c.from.reference, c.to.reference, c.to.name, c.from.policy, c.to.policy
        );
    }
    _ = writeln!(out, "内容の変更 {}件", d.changed.len());
    for c in &d.changed {
        _ = writeln!(out, "  {}", side(&c.to));
        if let Some(s) = &c.status {
            _ = writeln!(out, "    区分: {} → {}", s.from, s.to);
        }
        if let Some(s) = &c.departments {
            _ = writeln!(
                out,
                "    担当課: {} → {}",
                s.from.join("、"),
                s.to.join("、")
            );
        }
        if let Some(s) = &c.strategies {
            _ = writeln!(
                out,
                "    地方創生事業: {} → {}",
                s.from.join(" "),
                s.to.join(" ")
            );
        }
        if c.summary {
            _ = writeln!(out, "    事業概要が変わりました");
        }
        for a in &c.amounts {
            _ = writeln!(out, "    {}", amount_line(a));
        }
    }
    if !d.uncertain.is_empty() {
        _ = writeln!(
            out,
            "\n同じ事業かもしれない組（確認して --link 旧=新 で指定できます） {}件",
            d.uncertain.len()
        );
        for u in &d.uncertain {
            _ = writeln!(
                out,
                "  {} → {}（名称の類似度 {}%）",
                side(&u.from),
                side(&u.to),
                u.similarity
            );
        }
    }
    for (heading, key, groups) in [
        ("基本目標別", "基本目標", &d.goals),
        ("施策別", "施策", &d.policies),
    ] {
        _ = writeln!(
            out,
            "\n{heading}の事業費（{}、千円）",
            compared_label(d.compared)
        );
        let rows = groups
            .iter()
            .map(|g| {
                vec![
                    g.key.clone(),
                    g.name.clone(),
                    cost(&g.from),
                    cost(&g.to),
                    g.cost_change().text(),
                ]
            })
            .collect();
        _ = writeln!(
            out,
            "{}",
            table(
                &[key, "名称", &from.label(), &to.label(), "増減"],
                &[2, 3, 4],
                rows
            )
        );
    }
    out
}

/// One CSV row: `kind, from_reference, to_reference, id, name, field, year, from, to`.
/// References, ids, names and text values are text (neutralised against formula injection
/// by the writer); years, amounts, counts and similarity are numbers.
type CsvRow = [Field<'static>; 9];

fn csv_rows(d: &EditionDiff) -> Vec<CsvRow> {
    let mut rows = Vec::new();
    let text = |t: &str| Field::text(t.to_owned());
    let blank = || Field::text("");
    let row = |kind: &'static str,
               from: Option<&Side>,
               to: Option<&Side>,
               field: &str,
               year: Option<FiscalYear>,
               before: Field<'static>,
               after: Field<'static>|
     -> CsvRow {
        let any = to.or(from);
        [
            Field::text(kind),
            text(from.map(|s| s.reference.as_str()).unwrap_or_default()),
            text(to.map(|s| s.reference.as_str()).unwrap_or_default()),
            text(any.map(|s| s.id.as_str()).unwrap_or_default()),
            text(any.map(|s| s.name.as_str()).unwrap_or_default()),
            text(field),
            Field::integer(year.map(|y| i64::from(y.year()))),
            before,
            after,
        ]
    };
    let amount = |m: Option<Money>| Field::integer(m.map(Money::thousand_yen));
    for s in &d.new {
        rows.push(row("new", None, Some(s), "", None, blank(), blank()));
    }
    for s in &d.ended {
        rows.push(row("ended", Some(s), None, "", None, blank(), blank()));
    }
    for c in &d.renamed {
        rows.push(row(
            "renamed",
            Some(&c.from),
            Some(&c.to),
            "name",
            None,
            text(&c.from.name),
            text(&c.to.name),
        ));
    }
    for c in &d.moved {
        rows.push(row(
            "moved",
            Some(&c.from),
            Some(&c.to),
            "policy",
            None,
            text(&c.from.policy),
            text(&c.to.policy),
        ));
    }
    for c in &d.changed {
        let (f, t) = (Some(&c.from), Some(&c.to));
        if let Some(s) = &c.status {
            rows.push(row(
                "changed",
                f,
                t,
                "status",
                None,
                text(&s.from),
                text(&s.to),
            ));
        }
        if let Some(s) = &c.departments {
            rows.push(row(
                "changed",
                f,
                t,
                "departments",
                None,
                text(&s.from.join(" ")),
                text(&s.to.join(" ")),
            ));
        }
        if let Some(s) = &c.strategies {
            rows.push(row(
                "changed",
                f,
                t,
                "strategies",
                None,
                text(&s.from.join(" ")),
                text(&s.to.join(" ")),
            ));
        }
        if c.summary {
            rows.push(row("changed", f, t, "summary", None, blank(), blank()));
        }
        for a in &c.amounts {
            rows.push(row(
                "changed",
                f,
                t,
                a.field,
                Some(a.year),
                amount(a.from),
                amount(a.to),
            ));
        }
    }
    // Rows of totals carry the compared years in the year column (`2021-2022`): the totals
    // sum those years only. No amount is an empty cell, never 0.
    let years = match d.compared {
        Some(span) if span.first() == span.last() => span.first().year().to_string(),
        Some(span) => format!("{}-{}", span.first().year(), span.last().year()),
        None => String::new(),
    };
    for (kind, groups) in [("goal", &d.goals), ("policy", &d.policies)] {
        for g in groups {
            let values = |t: &Option<Totals>| {
                t.map(|t| {
                    [
                        i64::try_from(t.projects).ok(),
                        t.amount(keikaku_core::aggregate::Sum::Cost)
                            .map(Money::thousand_yen),
                        t.amount(keikaku_core::aggregate::Sum::Earmarked)
                            .map(Money::thousand_yen),
                        t.amount(keikaku_core::aggregate::Sum::General)
                            .map(Money::thousand_yen),
                    ]
                })
            };
            let (before, after) = (values(&g.from), values(&g.to));
            for (i, field) in ["projects", "cost", "earmarked", "general"]
                .iter()
                .enumerate()
            {
                let pick = |v: &Option<[Option<i64>; 4]>| Field::integer(v.and_then(|v| v[i]));
                rows.push([
                    Field::text(kind),
                    text(g.from.map(|_| g.key.as_str()).unwrap_or_default()),
                    text(g.to.map(|_| g.key.as_str()).unwrap_or_default()),
                    blank(),
                    text(&g.name),
                    Field::text(*field),
                    text(&years),
                    pick(&before),
                    pick(&after),
                ]);
            }
        }
    }
    for u in &d.uncertain {
        rows.push(row(
            "uncertain",
            Some(&u.from),
            Some(&u.to),
            "similarity",
            None,
            blank(),
            Field::integer(Some(i64::from(u.similarity))),
        ));
    }
    rows
}

/// Runs `diff`.
pub async fn run(config: &Config, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let (a, b, d) = diff::diff(&store, args.municipality, args.from, args.to, &args.links).await?;
    let municipality = format!("{} {}", a.municipality.code, a.municipality.name);
    match args.format {
        DiffFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&view(municipality, a.span, b.span, &d))?
        ),
        DiffFormat::Table => print_table(&a.municipality.name, a.span, b.span, &d),
        DiffFormat::Csv => {
            let mut writer = Writer::new();
            writer.header([
                "kind",
                "from_reference",
                "to_reference",
                "id",
                "name",
                "field",
                "year",
                "from",
                "to",
            ]);
            for row in csv_rows(&d) {
                writer.row(row);
            }
            print!("{}", writer.into_string_with_bom());
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
