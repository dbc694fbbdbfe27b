//! `keikaku history 7-3-5`: one project through every edition of its municipality, followed
//! by its stable id (or, between editions read from separate documents, by its name).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::diff;
use keikaku_core::EditionSpan;
use serde::Serialize;

use super::output::table;
use super::{open_store, parse_span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// One line per edition.
    Table,
    /// JSON: one object per edition, the project as in `projects --format json` or null.
    Json,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The project: policy code and number (7-3-5) or stable id.
    pub project: String,
    /// The edition where the reference is read (default: the latest that has it).
    #[arg(long, value_parser = parse_span)]
    pub edition: Option<EditionSpan>,
    /// Municipality code or name (needed when the database holds several).
    #[arg(long, value_name = "CODE")]
    pub municipality: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: HistoryFormat,
}

#[derive(Serialize)]
struct EntryView {
    edition: String,
    state: String,
    policy: Option<String>,
    #[serde(flatten)]
    project: Option<keikaku_core::canonical::ProjectRecord>,
}

/// Runs `history`.
pub async fn run(config: &Config, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let trail = diff::history(&store, args.municipality, &args.project, args.edition).await?;
    match args.format {
        HistoryFormat::Json => {
            let entries: Vec<EntryView> = trail
                .iter()
                .map(|(info, found)| EntryView {
                    edition: info.span.label(),
                    state: info.state.clone(),
                    policy: found.as_ref().map(|(p, _)| p.code.to_string()),
                    project: found
                        .as_ref()
                        .map(|(_, j)| keikaku_core::canonical::project_record(j)),
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&entries)?);
        }
        HistoryFormat::Table => {
            let rows = trail
                .iter()
                .map(|(info, found)| match found {
                    Some((policy, project)) => vec![
                        info.span.label(),
                        format!("{}-{}", policy.code, project.number),
                        project.name.clone(),
                        project.status.label().to_owned(),
                        project.departments.join("、"),
                        project
                            .costs
                            .iter()
                            .map(|c| {
                                format!(
                                    "{} {}",
                                    c.year.short(),
                                    c.total.map_or_else(|| "-".to_owned(), |m| m.grouped())
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(" / "),
                    ],
                    None => vec![
                        info.span.label(),
                        "-".into(),
                        "（この計画期間にはありません）".into(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ],
                })
                .collect();
            println!(
                "{}",
                table(
                    &[
                        "計画期間",
                        "事業",
                        "事業名",
                        "区分",
                        "担当課",
                        "事業費（千円）"
                    ],
                    &[],
                    rows
                )
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
