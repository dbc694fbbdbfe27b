//! `keikaku roll --from R2-R4 --to R3-R5`: start the next edition from the current one, as a
//! draft carrying every project forward with its stable id.

use std::process::ExitCode;

use clap::Args;
use keikaku::config::Config;
use keikaku::ops::editions;
use keikaku_core::EditionSpan;

use super::{open_store, parse_span};

#[derive(Debug, Args)]
pub struct RollArgs {
    /// The edition to start from, e.g. R2-R4.
    #[arg(long, value_parser = parse_span)]
    pub from: EditionSpan,
    /// The new edition, e.g. R3-R5 (it must not exist yet).
    #[arg(long, value_parser = parse_span)]
    pub to: EditionSpan,
    /// Municipality code or name (needed when the database holds several).
    #[arg(long, value_name = "CODE")]
    pub municipality: Option<String>,
}

/// Runs `roll`.
pub async fn run(config: &Config, args: RollArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let info = editions::roll(&store, args.municipality, args.from, args.to, "cli").await?;
    println!(
        "created {} {} {} ({} projects) from {} as a draft: fill it with `keikaku template --edition {}`, then `keikaku publish --edition {}`",
        info.municipality.code,
        info.municipality.name,
        info.span,
        info.projects,
        args.from,
        info.span,
        info.span
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
