//! `keikaku publish --edition R3-R5`: make an edition public (or, with `--draft`, take it back
//! to draft). One atomic change, recorded in the audit log; the portal follows within seconds.
//! An edition whose projects have no 事業費 for a year it covers is not published unless
//! `--allow-incomplete` is given; the refusal counts them by department and year.

use std::process::ExitCode;

use clap::Args;
use keikaku::config::Config;
use keikaku::ops::editions::{self, StateError};
use keikaku_core::EditionState;

use super::{SelectArgs, open_store};

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Take the edition back to draft (not public) instead.
    #[arg(long)]
    pub draft: bool,
    /// Publish even though projects have no amount (事業費) for a year the edition covers.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Publish even though departments' parts are not approved in the workspace (recorded in
    /// the audit log with the parts passed over).
    #[arg(long)]
    pub force: bool,
}

/// Runs `publish`.
pub async fn run(config: &Config, args: PublishArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let state = if args.draft {
        EditionState::Draft
    } else {
        EditionState::Published
    };
    let result = editions::set_state(
        &store,
        &args.select.selector(),
        state,
        editions::PublishOverrides {
            allow_incomplete: args.allow_incomplete,
            force: args.force,
        },
        &super::audit_actor(),
    )
    .await;
    store.close().await;
    let before = match result {
        Ok(before) => before,
        Err(e @ (StateError::Incomplete(_) | StateError::Unapproved(_))) => {
            eprintln!("{}", e.message(config.lang));
            if matches!(e, StateError::Unapproved(_)) {
                eprintln!(
                    "{}",
                    match config.lang {
                        keikaku_core::Lang::Ja =>
                            "（企画担当の判断で公開するときは --force。記録されます）",
                        keikaku_core::Lang::En =>
                            "(to publish anyway, as the planning office, add --force; it is recorded)",
                    }
                );
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(StateError::Ops(e)) => return Err(e.into()),
    };
    println!(
        "{} {} {}: {} → {}",
        before.municipality.code,
        before.municipality.name,
        before.span,
        before.state,
        state.as_str()
    );
    Ok(ExitCode::SUCCESS)
}
