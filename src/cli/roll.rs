//! `keikaku roll --from R2-R4 --to R3-R5`: start the next edition from the current one, as a
//! draft carrying every project forward with its stable id, except projects whose 区分 is
//! 完了 or 廃止: they end with the edition they finished in, and the summary lists them.

use std::process::ExitCode;

use clap::Args;
use keikaku::config::Config;
use keikaku::ops::editions::{self, Rolled};
use keikaku_core::{EditionSpan, Lang};

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

/// The summary printed after rolling, in the user's language.
fn summary(rolled: &Rolled, from: EditionSpan, lang: Lang) -> String {
    let info = &rolled.info;
    let mut out = match lang {
        Lang::Ja => format!(
            "{} {} の {} を {} から下書きとして作成しました（{} 事業）。`keikaku template --edition {}` で記入用のシートを作り、取り込んだ後に `keikaku publish --edition {}` で公開します。",
            info.municipality.code,
            info.municipality.name,
            info.span,
            from,
            info.projects,
            info.span,
            info.span
        ),
        Lang::En => format!(
            "created {} {} {} ({} projects) from {} as a draft: fill it with `keikaku template --edition {}`, then `keikaku publish --edition {}`",
            info.municipality.code,
            info.municipality.name,
            info.span,
            info.projects,
            from,
            info.span,
            info.span
        ),
    };
    if !rolled.left_behind.is_empty() {
        out.push('\n');
        out.push_str(&match lang {
            Lang::Ja => format!(
                "区分が完了・廃止の {} 事業は {from} で終了したため、{} に引き継いでいません:",
                rolled.left_behind.len(),
                info.span
            ),
            Lang::En => format!(
                "{} project(s) ended in {from} (区分 完了 or 廃止) and were not carried into {}:",
                rolled.left_behind.len(),
                info.span
            ),
        });
        for project in &rolled.left_behind {
            out.push_str(&format!(
                "\n  {} {}（{}）",
                project.reference, project.name, project.status
            ));
        }
    }
    out
}

/// Runs `roll`.
pub async fn run(config: &Config, args: RollArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let rolled = editions::roll(
        &store,
        args.municipality,
        args.from,
        args.to,
        &super::audit_actor(),
    )
    .await?;
    println!("{}", summary(&rolled, args.from, config.lang));
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
