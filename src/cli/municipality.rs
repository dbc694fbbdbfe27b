//! `keikaku municipality`: the municipalities in the database, and their recorded
//! populations (for amounts per inhabitant in comparisons).

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use keikaku::config::Config;
use keikaku_core::{Date, MunicipalityCode, Population};

use super::open_store;
use super::output::table;

#[derive(Debug, Args)]
pub struct MunicipalityArgs {
    #[command(subcommand)]
    pub command: MunicipalityCommand,
}

#[derive(Debug, Subcommand)]
pub enum MunicipalityCommand {
    /// List the municipalities with their prefecture, population and editions.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record a municipality's population, e.g. `set 072052 --population 59491 --as-of 2020-10-01`.
    Set {
        /// 全国地方公共団体コード.
        code: String,
        /// Inhabitants.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        population: u64,
        /// The date the count refers to (YYYY-MM-DD), e.g. the census of 2020-10-01.
        #[arg(long, value_name = "DATE")]
        as_of: String,
        /// The municipality's name, to add it when the database does not hold it yet.
        #[arg(long)]
        name: Option<String>,
    },
}

/// Runs `municipality`.
pub async fn run(config: &Config, args: MunicipalityArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    match args.command {
        MunicipalityCommand::Set {
            code,
            population,
            as_of,
            name,
        } => {
            let code = MunicipalityCode::parse(&code).map_err(|e| anyhow::anyhow!("{e}"))?;
            let Some(as_of) = Date::parse(&as_of) else {
                bail!("--as-of {as_of:?} is not a date in the form YYYY-MM-DD");
            };
            let population = Population {
                count: population,
                as_of,
            };
            let mut tx = store.begin_write(&super::audit_actor()).await?;
            tx.set_population(&code, name.as_deref(), population)
                .await?;
            tx.commit().await?;
            println!(
                "{code}: population {} as of {}",
                population.count, population.as_of
            );
        }
        MunicipalityCommand::List { json } => {
            let municipalities = store.municipalities().await?;
            let populations = store.populations().await?;
            let editions = store.editions().await?;
            let rows: Vec<serde_json::Value> = municipalities
                .iter()
                .map(|m| {
                    let population = populations.get(&m.code);
                    let spans: Vec<String> = editions
                        .iter()
                        .filter(|e| e.municipality.code == m.code)
                        .map(|e| e.span.label())
                        .collect();
                    serde_json::json!({
                        "code": m.code.as_str(),
                        "name": m.name,
                        "prefecture": m.code.prefecture_name(),
                        "population": population.map(|p| serde_json::json!({"count": p.count, "as_of": p.as_of.to_string()})),
                        "editions": spans,
                    })
                })
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                let table_rows = municipalities
                    .iter()
                    .zip(&rows)
                    .map(|(m, row)| {
                        let population = populations.get(&m.code);
                        vec![
                            m.code.to_string(),
                            m.name.clone(),
                            m.code.prefecture_name().to_owned(),
                            population.map_or_else(String::new, |p| {
                                keikaku_core::money::group_thousands(
                                    i64::try_from(p.count).unwrap_or(i64::MAX),
                                )
                            }),
                            population.map_or_else(String::new, |p| p.as_of.to_string()),
                            row["editions"]
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|v| v.as_str())
                                        .collect::<Vec<_>>()
                                        .join(" ")
                                })
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                println!(
                    "{}",
                    table(
                        &[
                            "団体コード",
                            "団体名",
                            "都道府県",
                            "人口",
                            "基準日",
                            "計画期間"
                        ],
                        &[3],
                        table_rows
                    )
                );
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
