//! `keikaku export --format json|csv|csv-sjis|xlsx|datapackage --out DIR`: the whole database
//! (or one edition) in an open-data format, the same files the portal offers. File names
//! carry the edition and the date of the data.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::export::{self, Format};

use super::{SelectArgs, open_store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// keikaku's canonical JSON (re-importable; schema in docs/schema/).
    Json,
    /// 事業 table, one row per project per fiscal year, UTF-8 with BOM.
    Csv,
    /// The same CSV in Shift_JIS (CP932).
    CsvSjis,
    /// Excel workbook: 事業, 施策 and 基本目標 sheets.
    Xlsx,
    /// Frictionless Data Package: the tables as CSV with datapackage.json, zipped.
    Datapackage,
}

impl From<ExportFormat> for Format {
    fn from(format: ExportFormat) -> Format {
        match format {
            ExportFormat::Json => Format::Json,
            ExportFormat::Csv => Format::Csv,
            ExportFormat::CsvSjis => Format::CsvSjis,
            ExportFormat::Xlsx => Format::Xlsx,
            ExportFormat::Datapackage => Format::DataPackage,
        }
    }
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
    if !one
        && matches!(
            args.format,
            ExportFormat::Csv | ExportFormat::CsvSjis | ExportFormat::Json
        )
    {
        let result = stream_all(&store, &args).await;
        store.close().await;
        return result;
    }
    let selector = args.select.selector();
    let download = export::download(&store, one.then_some(&selector), args.format.into()).await?;
    warn_replaced(download.replaced_characters);
    if args.out.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(&download.bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let path = args.out.join(&download.file_name);
    std::fs::write(&path, &download.bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The CSV or JSON of every edition, written a batch of editions at a time (a national
/// database's CSV is hundreds of megabytes) by the same encoder as the portal's downloads:
/// into a temporary file beside the target, renamed into place when complete.
async fn stream_all(
    store: &keikaku::storage::Store,
    args: &ExportArgs,
) -> anyhow::Result<ExitCode> {
    let format: Format = args.format.into();
    let streamed = if args.out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        export::stream_all(store, format, export::STREAM_BATCH, &mut out).await?
    } else {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        let partial = tempfile::NamedTempFile::new_in(&args.out)
            .with_context(|| format!("cannot write in {}", args.out.display()))?;
        let mut out = std::io::BufWriter::new(partial.reopen()?);
        let streamed = export::stream_all(store, format, export::STREAM_BATCH, &mut out).await?;
        drop(out);
        // Open data: readable like any file the export writes (temporary files start 0600).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            partial
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        let path = args.out.join(&streamed.file_name);
        partial
            .persist(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
        streamed
    };
    warn_replaced(streamed.replaced_characters);
    Ok(ExitCode::SUCCESS)
}

/// Says how many characters Shift_JIS could not hold, if any.
fn warn_replaced(count: usize) {
    if count > 0 {
        eprintln!(
            "warning: {count} character(s) that Shift_JIS cannot hold were replaced (〜 → ～, others → 〓); use --format csv for the exact text"
        );
    }
}
