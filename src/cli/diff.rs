//! `keikaku diff R2-R4 R3-R5`: what changed between two editions, as a table, JSON or CSV.
//! The JSON shape is documented in `docs/cli.md`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::diff;
use keikaku_core::EditionSpan;
use keikaku_core::aggregate::Totals;
use keikaku_core::diff::{AmountChange, Change, EditionDiff, GroupChange, Link, Side};
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

fn cost(t: &Option<Totals>) -> String {
    t.map_or_else(
        || "-".to_owned(),
        |t| group_thousands(t.cost.thousand_yen()),
    )
}

fn delta(g: &GroupChange) -> String {
    let before = g.from.map_or(0, |t| t.cost.thousand_yen());
    let after = g.to.map_or(0, |t| t.cost.thousand_yen());
    let d = after - before;
    if d > 0 {
        format!("+{}", group_thousands(d))
    } else {
        group_thousands(d)
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
        _ = writeln!(out, "\n{heading}の事業費（それぞれの計画期間の計、千円）");
        let rows = groups
            .iter()
            .map(|g| {
                vec![
                    g.key.clone(),
                    g.name.clone(),
                    cost(&g.from),
                    cost(&g.to),
                    delta(g),
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

fn csv_rows(d: &EditionDiff) -> Vec<[String; 9]> {
    let mut rows = Vec::new();
    let blank = String::new;
    let row = |kind: &str,
               from: Option<&Side>,
               to: Option<&Side>,
               field: &str,
               year: Option<FiscalYear>,
               before: String,
               after: String|
     -> [String; 9] {
        let any = to.or(from);
        [
            kind.to_owned(),
            from.map(|s| s.reference.clone()).unwrap_or_default(),
            to.map(|s| s.reference.clone()).unwrap_or_default(),
            any.map(|s| s.id.clone()).unwrap_or_default(),
            any.map(|s| s.name.clone()).unwrap_or_default(),
            field.to_owned(),
            year.map(|y| y.year().to_string()).unwrap_or_default(),
            before,
            after,
        ]
    };
    let plain = |m: Option<Money>| m.map(|m| m.thousand_yen().to_string()).unwrap_or_default();
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
            c.from.name.clone(),
            c.to.name.clone(),
        ));
    }
    for c in &d.moved {
        rows.push(row(
            "moved",
            Some(&c.from),
            Some(&c.to),
            "policy",
            None,
            c.from.policy.clone(),
            c.to.policy.clone(),
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
                s.from.clone(),
                s.to.clone(),
            ));
        }
        if let Some(s) = &c.departments {
            rows.push(row(
                "changed",
                f,
                t,
                "departments",
                None,
                s.from.join(" "),
                s.to.join(" "),
            ));
        }
        if let Some(s) = &c.strategies {
            rows.push(row(
                "changed",
                f,
                t,
                "strategies",
                None,
                s.from.join(" "),
                s.to.join(" "),
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
                plain(a.from),
                plain(a.to),
            ));
        }
    }
    for (kind, groups) in [("goal", &d.goals), ("policy", &d.policies)] {
        for g in groups {
            let values = |t: &Option<Totals>| {
                t.map(|t| {
                    [
                        t.projects.to_string(),
                        t.cost.thousand_yen().to_string(),
                        t.earmarked.thousand_yen().to_string(),
                        t.general.thousand_yen().to_string(),
                    ]
                })
            };
            let (before, after) = (values(&g.from), values(&g.to));
            for (i, field) in ["projects", "cost", "earmarked", "general"]
                .iter()
                .enumerate()
            {
                let pick = |v: &Option<[String; 4]>| v.as_ref().map(|v| v[i].clone());
                rows.push([
                    kind.to_owned(),
                    g.from.map(|_| g.key.clone()).unwrap_or_default(),
                    g.to.map(|_| g.key.clone()).unwrap_or_default(),
                    String::new(),
                    g.name.clone(),
                    (*field).to_owned(),
                    String::new(),
                    pick(&before).unwrap_or_default(),
                    pick(&after).unwrap_or_default(),
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
            u.similarity.to_string(),
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
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            writer.write_record([
                "kind",
                "from_reference",
                "to_reference",
                "id",
                "name",
                "field",
                "year",
                "from",
                "to",
            ])?;
            for row in csv_rows(&d) {
                writer.write_record(&row)?;
            }
            print!("\u{FEFF}{}", String::from_utf8(writer.into_inner()?)?);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
