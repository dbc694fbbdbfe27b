//! `keikaku template --edition R3-R5 --out r3-r5.xlsx`: the spreadsheet departments fill in
//! (xlsx, or `--format csv`), read back by `keikaku import`; with `--department NAME`, only
//! that department's projects.
//!
//! `keikaku template --blank --municipality 073423 --municipality-name 鏡石町 --edition R6-R8
//! --out FILE`: the same workbook for a town with nothing stored yet, its structure sheet
//! (goals and policies) and projects sheet empty; importing it creates the edition as a draft.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::export as sheet_download;
use keikaku::ops::sheet::{self, TemplateError};
use keikaku_core::municipality::{Municipality, MunicipalityCode};

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
    #[arg(long, value_name = "NAME", conflicts_with = "blank")]
    pub department: Option<String>,
    /// A blank workbook for an edition not stored yet (needs --municipality CODE,
    /// --municipality-name and --edition).
    #[arg(long)]
    pub blank: bool,
    /// The municipality's name, for --blank (e.g. 鏡石町).
    #[arg(long, value_name = "NAME", requires = "blank")]
    pub municipality_name: Option<String>,
}

/// Runs `template`.
pub async fn run(config: &Config, args: TemplateArgs) -> anyhow::Result<ExitCode> {
    // A blank workbook is for an edition not stored yet: no database is opened (or made).
    if args.blank {
        return run_blank(config, &args);
    }
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
    write_out(&args, &download)?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Writes the file where `--out` says and prints its path.
fn write_out(args: &TemplateArgs, download: &sheet_download::Download) -> anyhow::Result<()> {
    let path = if args.out.is_dir() {
        args.out.join(&download.file_name)
    } else {
        args.out.clone()
    };
    std::fs::write(&path, &download.bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}

/// `template --blank`: needs no database.
fn run_blank(config: &Config, args: &TemplateArgs) -> anyhow::Result<ExitCode> {
    let (Some(code), Some(name), Some(span)) = (
        &args.select.municipality,
        &args.municipality_name,
        args.select.edition,
    ) else {
        bail!(
            "--blank needs --municipality CODE, --municipality-name NAME and --edition SPAN \
             (e.g. --municipality 073423 --municipality-name 鏡石町 --edition R6-R8)"
        );
    };
    let code =
        MunicipalityCode::parse(code).map_err(|e| anyhow::anyhow!("--municipality {code}: {e}"))?;
    let municipality = Municipality {
        code,
        name: name.trim().to_owned(),
    };
    let csv = args.format == TemplateFormat::Csv;
    let download = sheet::blank_template(municipality, span, csv, &config.rules.extra_statuses)?;
    write_out(args, &download)?;
    Ok(ExitCode::SUCCESS)
}
