//! `keikaku projects`: projects of an edition with their fields, optionally filtered by
//! policy, department, 区分 or strategy code (the filter rules of keikaku-core, as the API
//! and the portal apply them: a value that names nothing is an error, not an empty list).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::query::{self, ProjectsError};
use keikaku_core::Lang;
use keikaku_core::canonical;
use keikaku_core::filter::{Field, FilterError, ProjectFilter};
use keikaku_core::money::Money;
use serde::Serialize;

use super::output::table;
use super::{SelectArgs, open_store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProjectsFormat {
    /// Every field, one block per project.
    Text,
    /// One line per project.
    Table,
    /// JSON: the canonical project records with their policy code.
    Json,
}

#[derive(Debug, Args)]
pub struct ProjectsArgs {
    /// Only this policy, e.g. 7-3.
    #[arg(long, value_name = "CODE")]
    pub policy: Option<String>,
    /// Only projects of this department.
    #[arg(long, value_name = "NAME")]
    pub department: Option<String>,
    /// Only this 区分, e.g. 新規.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Only projects linked to this strategy code, e.g. Ⅲ(4) or III(4).
    #[arg(long, value_name = "CODE")]
    pub strategy: Option<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ProjectsFormat,
}

#[derive(Serialize)]
struct ProjectView {
    policy: String,
    #[serde(flatten)]
    project: canonical::ProjectRecord,
}

/// The project's strategy codes in their normalised form (`Ⅰ(4) Ⅲ(4)`, whatever the document
/// wrote), as every other listing shows them.
fn strategy_codes(project: &keikaku_core::Project) -> String {
    project
        .strategies
        .iter()
        .map(|s| s.code.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn amount(money: Option<Money>) -> String {
    money.map_or_else(|| "-".to_owned(), |m| m.grouped())
}

/// Prints why a filter cannot be answered, in the configured language, and returns the
/// exit status: 2 for a malformed value (wrong usage), 1 for a value that names nothing.
fn refuse(lang: Lang, error: &FilterError, edition: Option<&str>) -> ExitCode {
    let message = error.message(lang);
    let by = error.field.group_by().as_str();
    if !error.is_not_found() {
        match lang {
            Lang::Ja => eprintln!("エラー: --{}: {message}", error.field.key()),
            Lang::En => eprintln!("error: --{}: {message}", error.field.key()),
        }
        return ExitCode::from(2);
    }
    let place = edition.map(|e| match lang {
        Lang::Ja => format!("（{e}）"),
        Lang::En => format!(" ({e})"),
    });
    let place = place.unwrap_or_default();
    match lang {
        Lang::Ja => eprintln!(
            "エラー: {message}{place}\n{}の一覧は keikaku report --by {by} で表示できます。",
            error.field.label()
        ),
        Lang::En => eprintln!("error: {message}{place}; `keikaku report --by {by}` lists them"),
    }
    ExitCode::FAILURE
}

/// Runs `projects`.
pub async fn run(config: &Config, args: ProjectsArgs) -> anyhow::Result<ExitCode> {
    let filter = [
        (Field::Policy, &args.policy),
        (Field::Department, &args.department),
        (Field::Status, &args.status),
        (Field::Strategy, &args.strategy),
    ]
    .into_iter()
    .try_fold(ProjectFilter::default(), |filter, (field, text)| {
        filter.with(field, text.as_deref())
    });
    let filter = match filter {
        Ok(filter) => filter,
        Err(err) => return Ok(refuse(config.lang, &err, None)),
    };
    let store = open_store(config).await?;
    let (edition, projects) = match query::projects(&store, &args.select.selector(), &filter).await
    {
        Ok(found) => found,
        Err(ProjectsError::Filter { error, edition }) => {
            return Ok(refuse(config.lang, &error, Some(&edition)));
        }
        Err(ProjectsError::Ops(err)) => return Err(err.into()),
    };
    match args.format {
        ProjectsFormat::Json => {
            let records: Vec<ProjectView> = projects
                .iter()
                .map(|(policy, project)| ProjectView {
                    policy: policy.code.to_string(),
                    project: canonical::project_record(project),
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&records)?);
        }
        ProjectsFormat::Table => {
            let rows = projects
                .iter()
                .map(|(policy, project)| {
                    let first = project.costs.first();
                    vec![
                        format!("{}-{}", policy.code, project.number),
                        project.name.clone(),
                        project.status.label().to_owned(),
                        strategy_codes(project),
                        project.departments.join(" "),
                        first.map(|c| c.year.short()).unwrap_or_default(),
                        amount(first.and_then(|c| c.total)),
                        amount(first.and_then(|c| c.earmarked)),
                        amount(first.and_then(|c| c.general)),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(
                    &[
                        "事業",
                        "事業名",
                        "区分",
                        "地方創生事業",
                        "担当課",
                        "年度",
                        "事業費",
                        "特定財源",
                        "一般財源"
                    ],
                    &[6, 7, 8],
                    rows
                )
            );
        }
        ProjectsFormat::Text => {
            for (policy, project) in &projects {
                println!(
                    "{}-{} {}［{}］",
                    policy.code, project.number, project.name, project.status
                );
                println!("  施策: {} {}", policy.code, policy.title);
                println!("  事業概要: {}", project.summary);
                println!("  担当課: {}", project.departments.join("、"));
                let strategies = strategy_codes(project);
                println!(
                    "  地方創生事業: {}",
                    if strategies.is_empty() {
                        "-"
                    } else {
                        &strategies
                    }
                );
                for cost in &project.costs {
                    println!(
                        "  {}: 事業費 {} 千円（特定財源 {} ／ 一般財源 {}）",
                        cost.year.label(),
                        amount(cost.total),
                        amount(cost.earmarked),
                        amount(cost.general)
                    );
                }
                println!("  事業ID: {}", project.id);
                println!();
            }
            println!(
                "{} 件（{} {}）",
                projects.len(),
                edition.municipality.name,
                edition.span.long_label()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
