//! `keikaku publish --edition R3-R5`: make an edition public (or, with `--draft`, take it back
//! to draft). One atomic change, recorded in the audit log; the portal follows within seconds.

use std::process::ExitCode;

use clap::Args;
use keikaku::config::Config;
use keikaku::ops::editions;
use keikaku_core::EditionState;

use super::{SelectArgs, open_store};

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Take the edition back to draft (not public) instead.
    #[arg(long)]
    pub draft: bool,
}

/// Runs `publish`.
pub async fn run(config: &Config, args: PublishArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let state = if args.draft {
        EditionState::Draft
    } else {
        EditionState::Published
    };
    let before = editions::set_state(&store, &args.select.selector(), state, "cli").await?;
    println!(
        "{} {} {}: {} → {}",
        before.municipality.code,
        before.municipality.name,
        before.span,
        before.state,
        state.as_str()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
