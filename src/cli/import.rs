//! `keikaku import` and `keikaku validate`: read documents, report every problem with its
//! place (`FILE:LINE: error[CODE]: message`), and store them only when nothing is wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::import::{self, ImportError, ImportRequest};
use keikaku_core::diagnostic::Report;
use keikaku_core::import::{Context, Layout, Parsed, layout_by_name, layouts};
use keikaku_core::source::encoding_by_name;
use keikaku_core::{EditionSpan, Lang, Municipality, MunicipalityCode};

use super::output::diagnostics_json;
use super::{open_store, parse_span};

/// How to read documents.
#[derive(Debug, Args, Clone)]
pub struct ReadArgs {
    /// Municipality code (全国地方公共団体コード, 6 digits) for documents that do not name it.
    #[arg(long, value_name = "CODE")]
    pub municipality: Option<String>,
    /// Municipality name, e.g. 白河市.
    #[arg(long, value_name = "NAME")]
    pub municipality_name: Option<String>,
    /// The edition the document should be, e.g. R2-R4; checked against what it says.
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub edition: Option<EditionSpan>,
    /// Document layout (see `keikaku layouts`); detected when absent.
    #[arg(long, value_name = "NAME")]
    pub layout: Option<String>,
    /// Text encoding when not UTF-8, e.g. sjis (Shift_JIS / CP932), euc-jp.
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<String>,
    /// Title of the edition (default: 〈municipality〉実施計画（〈years〉）).
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// One line per problem: FILE:LINE: error[CODE]: message.
    Text,
    /// A JSON document.
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The document to check (a spreadsheet is checked against the stored edition it updates).
    pub file: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Also write the problems as a workbook (see `import --report`).
    #[arg(long, value_name = "FILE.xlsx")]
    pub report: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiagnosticFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Documents to import: plan text, keikaku JSON, or a filled-in spreadsheet (xlsx, CSV)
    /// which updates the stored edition named by --edition (or by the workbook).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Replace editions that are already stored (atomically); for a spreadsheet, allow
    /// changing a published edition.
    #[arg(long)]
    pub replace: bool,
    /// Also write the problems as a workbook: a copy of the sheet with each problem cell
    /// highlighted and commented, and a list (one input file only).
    #[arg(long, value_name = "FILE.xlsx")]
    pub report: Option<PathBuf>,
    /// Output format of problems.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiagnosticFormat,
}

fn context(
    config: &Config,
    read: &ReadArgs,
) -> anyhow::Result<(Context, Option<&'static dyn Layout>)> {
    let municipality = match (&read.municipality, &read.municipality_name) {
        (Some(code), name) => {
            let code = MunicipalityCode::parse(code)
                .map_err(|e| anyhow::anyhow!("--municipality: {e}"))?;
            let name = match (name, &config.municipality) {
                (Some(name), _) => name.clone(),
                (None, Some(known)) if known.code == code => known.name.clone(),
                (None, _) => bail!("--municipality {code} needs --municipality-name (e.g. 白河市)"),
            };
            Some(Municipality { code, name })
        }
        (None, Some(_)) => bail!("--municipality-name needs --municipality CODE"),
        (None, None) => config.municipality.clone(),
    };
    let encoding = match &read.encoding {
        Some(name) => Some(encoding_by_name(name).ok_or_else(|| {
            anyhow::anyhow!(
                "--encoding {name:?} is not an encoding keikaku knows (try sjis, euc-jp, utf-8)"
            )
        })?),
        None => None,
    };
    let layout = match &read.layout {
        Some(name) => Some(layout_by_name(name).ok_or_else(|| {
            let names: Vec<&str> = layouts().iter().map(|l| l.name()).collect();
            anyhow::anyhow!(
                "--layout {name:?} is unknown; layouts: {}",
                names.join(", ")
            )
        })?),
        None => None,
    };
    Ok((
        Context {
            municipality,
            span: read.edition,
            encoding,
            title: read.title.clone(),
            rules: config.rules.clone(),
            base: None,
        },
        layout,
    ))
}

fn read_file(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn print_report(
    file: &str,
    report: &Report,
    lang: Lang,
    format: DiagnosticFormat,
    to_stderr: bool,
) {
    match format {
        DiagnosticFormat::Text => {
            for d in &report.diagnostics {
                let line = d.render(file, lang);
                if to_stderr {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
        }
        DiagnosticFormat::Json => println!("{}", diagnostics_json(file, report, lang)),
    }
}

fn counts(report: &Report, lang: Lang) -> String {
    let (e, w) = (report.error_count(), report.warning_count());
    match lang {
        Lang::Ja => format!("エラー {e} 件、警告 {w} 件"),
        Lang::En => format!("{e} error(s), {w} warning(s)"),
    }
}

fn write_report(
    path: &PathBuf,
    name: &str,
    bytes: &[u8],
    context: &Context,
    report: &Report,
) -> anyhow::Result<()> {
    let grid = keikaku_core::sheet::report::grid_of(bytes, context.encoding);
    let workbook = keikaku_core::sheet::report::to_xlsx(name, &grid, report)
        .map_err(|e| anyhow::anyhow!("cannot write the report workbook: {e}"))?;
    std::fs::write(path, workbook).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("problems written to {}", path.display());
    Ok(())
}

/// Reads and checks one document, with the database when the document needs it.
async fn check(
    store: Option<&keikaku::storage::Store>,
    request: &ImportRequest<'_>,
) -> anyhow::Result<Parsed> {
    match store {
        Some(store) => import::read(store, request)
            .await
            .map_err(|err| anyhow::anyhow!("{}: {err}", request.name)),
        None => Ok(import::validate(
            request.name,
            request.bytes,
            request.layout,
            &request.context,
        )),
    }
}

/// `keikaku validate FILE`: opens the database only for a spreadsheet, which is checked
/// against the edition it updates.
pub async fn validate(config: &Config, args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (context, layout) = context(config, &args.read)?;
    let bytes = read_file(&args.file)?;
    let name = args.file.display().to_string();
    let store = if import::needs_store(&name, &bytes, layout, &context) {
        Some(open_store(config).await?)
    } else {
        None
    };
    let request = ImportRequest {
        name: &name,
        bytes: &bytes,
        layout,
        context: context.clone(),
        replace: false,
        actor: "cli",
    };
    let parsed = check(store.as_ref(), &request).await?;
    print_report(&name, &parsed.report, config.lang, args.format, false);
    if args.format == DiagnosticFormat::Text {
        let summary = counts(&parsed.report, config.lang);
        match parsed.editions.first().map(|e| &e.edition) {
            Some(edition) => {
                let (span, policies, projects) = (
                    edition.span.label(),
                    edition.policies().count(),
                    edition.projects().count(),
                );
                match config.lang {
                    Lang::Ja => {
                        println!("{name}: {summary}（{span} 施策 {policies}・事業 {projects}）")
                    }
                    Lang::En => println!(
                        "{name}: {summary} ({span}: {policies} policies, {projects} projects)"
                    ),
                }
            }
            None => println!("{name}: {summary}"),
        }
    }
    if let Some(path) = &args.report
        && !parsed.report.diagnostics.is_empty()
    {
        write_report(path, &name, &bytes, &context, &parsed.report)?;
    }
    Ok(if parsed.report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `keikaku import FILE...`: every file is validated before anything is stored.
pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (context, layout) = context(config, &args.read)?;
    if args.report.is_some() && args.files.len() > 1 {
        bail!("--report takes one input file at a time");
    }
    let mut documents = Vec::new();
    for path in &args.files {
        documents.push((path.display().to_string(), read_file(path)?));
    }
    // Open the database before checking only if a document needs it (a spreadsheet is checked
    // against the edition it updates); otherwise a rejected import does not even create it.
    let needs_store = documents
        .iter()
        .any(|(name, bytes)| import::needs_store(name, bytes, layout, &context));
    let early = if needs_store {
        Some(open_store(config).await?)
    } else {
        None
    };
    let mut invalid = false;
    for (name, bytes) in &documents {
        let request = ImportRequest {
            name,
            bytes,
            layout,
            context: context.clone(),
            replace: args.replace,
            actor: "cli",
        };
        let parsed = check(early.as_ref(), &request).await?;
        if parsed.report.has_errors() {
            print_report(name, &parsed.report, config.lang, args.format, true);
            if let Some(path) = &args.report {
                write_report(path, name, bytes, &context, &parsed.report)?;
            }
            invalid = true;
        }
    }
    if invalid {
        eprintln!(
            "{}",
            match config.lang {
                Lang::Ja => "エラーがあるため、何も保存していません。",
                Lang::En => "nothing was stored because of the errors above",
            }
        );
        return Ok(ExitCode::FAILURE);
    }
    let store = match early {
        Some(store) => store,
        None => open_store(config).await?,
    };
    for (name, bytes) in &documents {
        let request = ImportRequest {
            name: file_name(name),
            bytes,
            layout,
            context: context.clone(),
            replace: args.replace,
            actor: "cli",
        };
        match import::import(&store, request).await {
            Ok(outcome) => {
                print_report(name, &outcome.report, config.lang, args.format, true);
                if let Some(path) = &args.report
                    && !outcome.report.diagnostics.is_empty()
                {
                    write_report(path, name, bytes, &context, &outcome.report)?;
                }
                for e in &outcome.editions {
                    let verb = match (config.lang, e.stored.replaced) {
                        (Lang::Ja, false) => "保存しました",
                        (Lang::Ja, true) => "置き換えました",
                        (Lang::En, false) => "stored",
                        (Lang::En, true) => "replaced",
                    };
                    match config.lang {
                        Lang::Ja => println!(
                            "{} {}: 事業 {} 件を{verb}（{}）",
                            e.municipality,
                            e.edition,
                            e.projects,
                            counts(&outcome.report, config.lang)
                        ),
                        Lang::En => println!(
                            "{verb} {} {}: {} projects ({})",
                            e.municipality,
                            e.edition,
                            e.projects,
                            counts(&outcome.report, config.lang)
                        ),
                    }
                }
            }
            Err(ImportError::Invalid(report)) => {
                print_report(name, &report, config.lang, args.format, true);
                return Ok(ExitCode::FAILURE);
            }
            Err(err) => {
                eprintln!("error: {name}: {err}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The file name without folders, recorded as the edition's source.
fn file_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}
