//! `keikaku export --format json|csv --out DIR`: the whole database (or one edition) as
//! canonical JSON, or as open-data CSV. File names carry the edition and the date.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::export;

use super::{SelectArgs, open_store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// keikaku's canonical JSON (re-importable; schema in docs/schema/).
    Json,
    /// One row per project per fiscal year, UTF-8 with BOM.
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Folder to write into (created if needed), or `-` for standard output.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Export only this edition (with --municipality when several are stored); default: everything.
    #[command(flatten)]
    pub select: SelectArgs,
}

/// Runs `export`.
pub async fn run(config: &Config, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let one = args.select.municipality.is_some() || args.select.edition.is_some();
    let selector = args.select.selector();
    let editions = export::editions(&store, one.then_some(&selector)).await?;
    let scope = match editions.as_slice() {
        [edition] if one => format!("{}-{}", edition.municipality.code, edition.span.slug()),
        _ => "all".to_owned(),
    };
    let (bytes, extension) = match args.format {
        ExportFormat::Json => (
            keikaku_core::canonical::to_json(&editions).into_bytes(),
            "json",
        ),
        ExportFormat::Csv => (keikaku_core::export::csv::to_csv_utf8_bom(&editions), "csv"),
    };
    if args.out.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(&bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let date = jiff::Zoned::now().date();
    let path = args.out.join(format!("keikaku-{scope}-{date}.{extension}"));
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}
