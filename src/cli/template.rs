//! `keikaku template --edition R3-R5 --out r3-r5.xlsx`: the spreadsheet departments fill in
//! (xlsx, or `--format csv`), read back by `keikaku import`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::sheet;

use super::{SelectArgs, open_store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    /// Excel workbook with drop-downs, locked ids and instructions.
    Xlsx,
    /// The same columns as CSV, UTF-8 with BOM.
    Csv,
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Where to write (a file, or a folder for the default name).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub out: PathBuf,
    /// Format.
    #[arg(long, value_enum, default_value = "xlsx")]
    pub format: TemplateFormat,
}

/// Runs `template`.
pub async fn run(config: &Config, args: TemplateArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let download = sheet::template(
        &store,
        &args.select.selector(),
        args.format == TemplateFormat::Csv,
        &config.rules.extra_statuses,
    )
    .await?;
    let path = if args.out.is_dir() {
        args.out.join(&download.file_name)
    } else {
        args.out.clone()
    };
    std::fs::write(&path, &download.bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
