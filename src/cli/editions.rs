//! `keikaku editions`: the stored editions.

use std::process::ExitCode;

use clap::Args;
use keikaku::config::Config;
use serde::Serialize;

use super::open_store;
use super::output::table;

#[derive(Debug, Args)]
pub struct EditionsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct EditionView {
    municipality_code: String,
    municipality_name: String,
    edition: String,
    first_year: i32,
    last_year: i32,
    title: String,
    state: String,
    projects: i64,
    source: String,
    imported_at: String,
}

/// Runs `editions`.
pub async fn run(config: &Config, args: EditionsArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let editions = store.editions().await?;
    if args.json {
        let views: Vec<EditionView> = editions
            .iter()
            .map(|e| EditionView {
                municipality_code: e.municipality.code.to_string(),
                municipality_name: e.municipality.name.clone(),
                edition: e.span.label(),
                first_year: e.span.first().year(),
                last_year: e.span.last().year(),
                title: e.title.clone(),
                state: e.state.clone(),
                projects: e.projects,
                source: e.source.clone(),
                imported_at: e.imported_at.clone(),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(ExitCode::SUCCESS);
    }
    if editions.is_empty() {
        println!("計画はまだありません（keikaku import FILE で取り込みます）。");
        return Ok(ExitCode::SUCCESS);
    }
    let rows = editions
        .iter()
        .map(|e| {
            vec![
                e.municipality.code.to_string(),
                e.municipality.name.clone(),
                e.span.label(),
                e.title.clone(),
                if e.state == "draft" {
                    "作成中".to_owned()
                } else {
                    "公開".to_owned()
                },
                e.projects.to_string(),
                e.source.clone(),
                e.imported_at.clone(),
            ]
        })
        .collect();
    println!(
        "{}",
        table(
            &[
                "団体コード",
                "団体名",
                "計画期間",
                "題名",
                "状態",
                "事業数",
                "元資料",
                "取込日時"
            ],
            &[5],
            rows
        )
    );
    Ok(ExitCode::SUCCESS)
}
