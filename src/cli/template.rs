//! `keikaku template --edition R3-R5 --out r3-r5.xlsx`: the spreadsheet departments fill in
//! (xlsx, or `--format csv`), read back by `keikaku import`; with `--department NAME`, only
//! that department's projects.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::sheet::{self, TemplateError};

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
    /// Only this department's projects (those whose 担当課 include it).
    #[arg(long, value_name = "NAME")]
    pub department: Option<String>,
}

/// Runs `template`.
pub async fn run(config: &Config, args: TemplateArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let csv = args.format == TemplateFormat::Csv;
    let selector = args.select.selector();
    let extra = &config.rules.extra_statuses;
    let download = match &args.department {
        None => sheet::template(&store, &selector, csv, extra).await?,
        Some(department) => {
            match sheet::department_template(&store, &selector, department, csv, extra).await {
                Ok(download) => download,
                Err(TemplateError::UnknownDepartment(unknown)) => {
                    store.close().await;
                    eprintln!("error: {}", unknown.message(config.lang));
                    return Ok(ExitCode::FAILURE);
                }
                Err(TemplateError::Ops(e)) => return Err(e.into()),
            }
        }
    };
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
