//! `keikaku import` and `keikaku validate`: read documents, report every problem with its
//! place (`FILE:LINE: error[CODE]: message`), and store them only when nothing is wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use keikaku::config::Config;
use keikaku::ops::import::{self, ImportError, ImportRequest};
use keikaku::storage::{DatabaseUrl, Store};
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
    /// For a town's own workbook or CSV: a mapping file (TOML, see docs/import.md) that
    /// overrides the columns, heading rows, sheet or unit keikaku detects.
    #[arg(long, value_name = "MAP.toml")]
    pub map: Option<PathBuf>,
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
    /// Files checked and stored at the same time (default: one per processor core, up to 4;
    /// SQLite stores one file at a time).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Check only: print the column mapping of a town's own workbook (列の対応) and the
    /// problems, and store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: write the column mapping of a town's own workbook as a mapping file to
    /// edit and pass back with --map.
    #[arg(long, value_name = "MAP.toml", requires = "dry_run")]
    pub write_map: Option<PathBuf>,
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
            mapping: match &read.map {
                Some(path) => Some(read_map(path, config.lang)?),
                None => None,
            },
            limits: Default::default(),
            // The command line is the planning office's: it may change the structure.
            structure_edits: true,
        },
        layout,
    ))
}

/// Reads a mapping file (`--map`).
fn read_map(path: &PathBuf, lang: Lang) -> anyhow::Result<keikaku_core::import::own::Overrides> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the mapping file {}", path.display()))?;
    keikaku_core::import::own::Overrides::parse(&text)
        .map_err(|err| anyhow::anyhow!("{}: {}", path.display(), err.message(lang)))
}

/// Prints the column mapping (列の対応) of each file in a town's own layout, and writes it as
/// a mapping file when asked. Files whose mapping cannot be found are reported by the check.
fn show_mappings(
    config: &Config,
    files: &[PathBuf],
    context: &Context,
    layout: Option<&'static dyn Layout>,
    write_map: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let mut written = false;
    for path in files {
        let name = path.display().to_string();
        let bytes = read_file(path)?;
        if let Some(Ok(mapping)) = import::column_mapping(&name, &bytes, layout, context) {
            print!("{}", mapping.render(&name, config.lang));
            if let Some(out) = write_map {
                std::fs::write(out, mapping.to_toml())
                    .with_context(|| format!("cannot write {}", out.display()))?;
                eprintln!(
                    "{}",
                    match config.lang {
                        Lang::Ja => format!("列の対応を {} に書きました。", out.display()),
                        Lang::En => format!("column mapping written to {}", out.display()),
                    }
                );
                written = true;
            }
        }
    }
    if write_map.is_some() && !written {
        bail!(match config.lang {
            Lang::Ja =>
                "--write-map は町の独自の表（xlsx・CSV・TSV）で列の対応が見つかったときに使えます。",
            Lang::En =>
                "--write-map needs a town's own workbook or CSV/TSV whose column mapping was found",
        });
    }
    Ok(())
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

/// The database a filled-in sheet is checked against, opened only if it exists: `validate`
/// writes nothing, and opening an SQLite file that does not exist would create it.
async fn open_existing_store(config: &Config, file: &str) -> anyhow::Result<Store> {
    if let DatabaseUrl::Sqlite(path) = &config.database_url
        && !path.exists()
    {
        let path = path.display();
        bail!(match config.lang {
            Lang::Ja => format!(
                "{file} は記入済みのシートです。保存されている版と照らして検査しますが、\
                 データベース {path} がありません（--db で指定するか、先にその版を import \
                 または roll してください）。何も作成していません。"
            ),
            Lang::En => format!(
                "{file} is a filled-in sheet, checked against the stored edition it updates, \
                 but there is no database at {path} (give --db, or import or roll the edition \
                 first); nothing was created"
            ),
        });
    }
    open_store(config).await
}

/// `keikaku validate FILE`: opens the database only for a spreadsheet, which is checked
/// against the edition it updates, and only if the database exists.
pub async fn validate(config: &Config, args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (context, layout) = context(config, &args.read)?;
    let bytes = read_file(&args.file)?;
    let name = args.file.display().to_string();
    let store = if import::needs_store(&name, &bytes, layout, &context) {
        Some(open_existing_store(config, &name).await?)
    } else {
        None
    };
    let actor = super::audit_actor();
    let request = ImportRequest {
        name: &name,
        bytes: &bytes,
        layout,
        context: context.clone(),
        replace: false,
        actor: &actor,
    };
    let parsed = check(store.as_ref(), &request).await?;
    if args.format == DiagnosticFormat::Text {
        show_mappings(
            config,
            std::slice::from_ref(&args.file),
            &context,
            layout,
            None,
        )?;
    }
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

/// Extensions of the files `import DIR` takes from a folder.
const PLAN_EXTENSIONS: [&str; 5] = ["json", "txt", "csv", "tsv", "xlsx"];

/// The files to import: each file as given, and for each folder the plan files in it (by
/// name; hidden files skipped).
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read the folder {}", path.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| PLAN_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            })
            .collect();
        if found.is_empty() {
            bail!(
                "{} has no plan files ({})",
                path.display(),
                PLAN_EXTENSIONS.map(|e| format!(".{e}")).join(", ")
            );
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Project-year rows of parsed editions (one per project per fiscal year of its edition):
/// the unit of the progress bar.
fn rows_of(parsed: &Parsed) -> u64 {
    parsed
        .editions
        .iter()
        .map(|e| {
            let years = e.edition.span.years().count() as u64;
            e.edition.projects().count() as u64 * years
        })
        .sum()
}

/// What checking one file found.
struct Checked {
    /// Project-year rows it holds.
    rows: u64,
    /// The problems, when there is an error, or every problem for a dry run.
    errors: Option<Report>,
}

/// Everything the import workers share.
struct Shared {
    files: Vec<PathBuf>,
    context: Context,
    layout: Option<&'static dyn Layout>,
    replace: bool,
    /// Who the audit log records.
    actor: String,
    /// Checking only: keep the warnings too, to print them.
    dry_run: bool,
    next: std::sync::atomic::AtomicUsize,
    stop: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// The next file to work on, unless the work is done or was stopped.
    fn take(&self) -> Option<usize> {
        use std::sync::atomic::Ordering;
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.files.len()).then_some(i)
    }

    fn request<'a>(&'a self, name: &'a str, bytes: &'a [u8]) -> ImportRequest<'a> {
        ImportRequest {
            name,
            bytes,
            layout: self.layout,
            context: self.context.clone(),
            replace: self.replace,
            actor: &self.actor,
        }
    }
}

/// Files worked on at once: one per processor core, at most four.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Checks every file (`jobs` at a time), in memory one file per worker. A spreadsheet is
/// checked against the stored edition it updates, so the database is opened for it.
async fn check_all(
    config: &Config,
    shared: &std::sync::Arc<Shared>,
    jobs: usize,
) -> anyhow::Result<(Vec<Checked>, Option<keikaku::storage::Store>)> {
    let store: std::sync::Arc<tokio::sync::OnceCell<keikaku::storage::Store>> =
        std::sync::Arc::default();
    let bar = super::progress::bar(shared.files.len() as u64, "files checked");
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..jobs {
        let (shared, store, bar, config) = (
            std::sync::Arc::clone(shared),
            std::sync::Arc::clone(&store),
            bar.clone(),
            config.clone(),
        );
        workers.spawn(async move {
            let mut done = Vec::new();
            while let Some(i) = shared.take() {
                let name = shared.files[i].display().to_string();
                let bytes = read_file(&shared.files[i])?;
                let request = shared.request(&name, &bytes);
                let needs = import::needs_store(&name, &bytes, shared.layout, &shared.context);
                let parsed = if needs {
                    let store = store.get_or_try_init(|| open_store(&config)).await?;
                    check(Some(store), &request).await?
                } else {
                    check(None, &request).await?
                };
                let keep = parsed.report.has_errors()
                    || (shared.dry_run && !parsed.report.diagnostics.is_empty());
                let errors = keep.then(|| parsed.report.clone());
                done.push((
                    i,
                    Checked {
                        rows: rows_of(&parsed),
                        errors,
                    },
                ));
                bar.inc(1);
            }
            anyhow::Ok(done)
        });
    }
    let mut results: Vec<Option<Checked>> = (0..shared.files.len()).map(|_| None).collect();
    while let Some(outcome) = workers.join_next().await {
        for (i, checked) in outcome.map_err(|e| anyhow::anyhow!("a check failed: {e}"))?? {
            results[i] = Some(checked);
        }
    }
    bar.finish_and_clear();
    let store = std::sync::Arc::try_unwrap(store)
        .ok()
        .and_then(tokio::sync::OnceCell::into_inner);
    Ok((results.into_iter().flatten().collect(), store))
}

/// `keikaku import FILE|DIR...`: every file is checked before anything is stored; then each
/// file is stored in its own transaction (all its editions or none), `--jobs` files at a
/// time, with a progress bar in project-year rows.
pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (context, layout) = context(config, &args.read)?;
    let files = expand(&args.files)?;
    if args.report.is_some() && files.len() > 1 {
        bail!("--report takes one input file at a time");
    }
    if args.write_map.is_some() && files.len() > 1 {
        bail!("--write-map takes one input file at a time");
    }
    show_mappings(config, &files, &context, layout, args.write_map.as_ref())?;
    let jobs = args
        .jobs
        .unwrap_or_else(default_jobs)
        .clamp(1, files.len().max(1));
    let shared = std::sync::Arc::new(Shared {
        files,
        context: context.clone(),
        layout,
        replace: args.replace,
        actor: super::audit_actor(),
        dry_run: args.dry_run,
        next: std::sync::atomic::AtomicUsize::new(0),
        stop: std::sync::atomic::AtomicBool::new(false),
    });
    let (checked, early) = check_all(config, &shared, jobs).await?;
    let mut invalid = false;
    for (path, result) in shared.files.iter().zip(&checked) {
        if let Some(report) = result.errors.as_ref().filter(|r| r.has_errors()) {
            let name = path.display().to_string();
            print_report(&name, report, config.lang, args.format, true);
            if let Some(out) = &args.report {
                write_report(out, &name, &read_file(path)?, &context, report)?;
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
    if args.dry_run {
        for (path, result) in shared.files.iter().zip(&checked) {
            if let Some(report) = &result.errors {
                print_report(
                    &path.display().to_string(),
                    report,
                    config.lang,
                    args.format,
                    true,
                );
            }
        }
        if let Some(store) = early {
            store.close().await;
        }
        eprintln!(
            "{}",
            match config.lang {
                Lang::Ja => "--dry-run のため、何も保存していません。",
                Lang::En => "nothing was stored (--dry-run)",
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = match early {
        Some(store) => store,
        None => open_store(config).await?,
    };
    // SQLite takes one writer at a time: more workers would only wait for its lock.
    let jobs = match (args.jobs, store.backend()) {
        (None, keikaku::storage::Backend::Sqlite) => 1,
        _ => jobs,
    };
    let total: u64 = checked.iter().map(|c| c.rows).sum();
    let rows: std::sync::Arc<Vec<u64>> =
        std::sync::Arc::new(checked.iter().map(|c| c.rows).collect());
    shared.next.store(0, std::sync::atomic::Ordering::Relaxed);
    let started = std::time::Instant::now();
    let bar = super::progress::bar(total, "rows");
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..jobs {
        let (shared, store, bar, rows, lang, format, report_path, context) = (
            std::sync::Arc::clone(&shared),
            store.clone(),
            bar.clone(),
            std::sync::Arc::clone(&rows),
            config.lang,
            args.format,
            args.report.clone(),
            context.clone(),
        );
        workers.spawn(async move {
            let (mut editions, mut projects) = (0usize, 0usize);
            while let Some(i) = shared.take() {
                let name = shared.files[i].display().to_string();
                let bytes = read_file(&shared.files[i])?;
                let request = shared.request(file_name(&name), &bytes);
                match import::import(&store, request).await {
                    Ok(outcome) => {
                        bar.suspend(|| {
                            print_report(&name, &outcome.report, lang, format, true);
                            for e in &outcome.editions {
                                println!("{}", stored_line(lang, e, &outcome.report));
                                if let Some(changes) = &e.changes {
                                    for line in change_lines(lang, changes) {
                                        println!("{line}");
                                    }
                                }
                            }
                        });
                        if let Some(path) = &report_path
                            && !outcome.report.diagnostics.is_empty()
                        {
                            write_report(path, &name, &bytes, &context, &outcome.report)?;
                        }
                        editions += outcome.editions.len();
                        projects += outcome.editions.iter().map(|e| e.projects).sum::<usize>();
                        bar.inc(rows[i]);
                    }
                    Err(err) => {
                        shared
                            .stop
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                        bar.suspend(|| match err {
                            ImportError::Invalid(report) => {
                                print_report(&name, &report, lang, format, true);
                            }
                            other => eprintln!("error: {name}: {other}"),
                        });
                        return anyhow::Ok((editions, projects, false));
                    }
                }
            }
            anyhow::Ok((editions, projects, true))
        });
    }
    let (mut editions, mut projects, mut complete) = (0usize, 0usize, true);
    while let Some(outcome) = workers.join_next().await {
        let (e, p, ok) = outcome.map_err(|e| anyhow::anyhow!("an import failed: {e}"))??;
        editions += e;
        projects += p;
        complete &= ok;
    }
    bar.finish_and_clear();
    if shared.files.len() > 1
        && editions > 0
        && let Err(err) = store.analyze().await
    {
        tracing::warn!(error = %err, "cannot refresh the planner statistics");
    }
    store.close().await;
    if !complete {
        if shared.files.len() > 1 {
            eprintln!(
                "{}",
                match config.lang {
                    Lang::Ja => format!(
                        "ほかのファイルの計画期間 {editions} 件は保存済みです（ファイルごとに全部か無しか）。"
                    ),
                    Lang::En => format!(
                        "{editions} edition(s) of the other files are stored (each file entirely or not at all)"
                    ),
                }
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    if shared.files.len() > 1 {
        let seconds = started.elapsed().as_secs_f64();
        // Display only: a rate with no decimals.
        let rate = total as f64 / seconds.max(1e-9);
        match config.lang {
            Lang::Ja => println!(
                "{} ファイル・計画期間 {editions} 件・事業 {projects} 件（{total} 事業年度行）を {seconds:.1} 秒で保存しました（{rate:.0} 行/秒）",
                shared.files.len()
            ),
            Lang::En => println!(
                "stored {} files: {editions} editions, {projects} projects ({total} project-year rows) in {seconds:.1} s ({rate:.0} rows/s)",
                shared.files.len()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `stored 072052 白河市 R2-R4: 33 projects (0 error(s), 1 warning(s))`.
fn stored_line(lang: Lang, e: &import::ImportedEdition, report: &Report) -> String {
    // A sheet updates its edition: say what it changed, not that the edition was replaced.
    if let Some(changes) = &e.changes {
        let (added, updated, removed) = (
            changes.added.len(),
            changes.updated.len(),
            changes.removed.len(),
        );
        return match lang {
            Lang::Ja => format!(
                "{} {}: 更新しました（追加 {added} 件・変更 {updated} 件・計画から外す {removed} 件、事業は全部で {} 件）（{}）",
                e.municipality,
                e.edition,
                e.projects,
                counts(report, lang)
            ),
            Lang::En => format!(
                "updated {} {}: {added} added, {updated} changed, {removed} taken out; {} projects in all ({})",
                e.municipality,
                e.edition,
                e.projects,
                counts(report, lang)
            ),
        };
    }
    let verb = match (lang, e.stored.replaced) {
        (Lang::Ja, false) => "保存しました",
        (Lang::Ja, true) => "置き換えました",
        (Lang::En, false) => "stored",
        (Lang::En, true) => "replaced",
    };
    match lang {
        Lang::Ja => format!(
            "{} {}: 事業 {} 件を{verb}（{}）",
            e.municipality,
            e.edition,
            e.projects,
            counts(report, lang)
        ),
        Lang::En => format!(
            "{verb} {} {}: {} projects ({})",
            e.municipality,
            e.edition,
            e.projects,
            counts(report, lang)
        ),
    }
}

/// What a spreadsheet changed, one line per project after a summary line.
fn change_lines(lang: Lang, changes: &keikaku_core::import::sheet::SheetChanges) -> Vec<String> {
    let (updated, added, removed) = (
        changes.updated.len(),
        changes.added.len(),
        changes.removed.len(),
    );
    let mut lines = vec![match lang {
        Lang::Ja if changes.is_empty() => format!(
            "  シートに変更はありません（何も保存していません）。シートにない事業 {} 件はそのままです。",
            changes.not_in_sheet
        ),
        Lang::Ja => format!(
            "  シートで変更: 更新 {updated} 件・追加 {added} 件・除外 {removed} 件（変更のない行 {} 件とシートにない事業 {} 件はそのまま）",
            changes.unchanged, changes.not_in_sheet
        ),
        Lang::En if changes.is_empty() => format!(
            "  the sheet changes nothing (nothing was stored); {} projects not in the sheet are kept",
            changes.not_in_sheet
        ),
        Lang::En => format!(
            "  changed by the sheet: {updated} updated, {added} added, {removed} taken out ({} unchanged rows and {} projects not in the sheet are kept)",
            changes.unchanged, changes.not_in_sheet
        ),
    }];
    let (s, u, a, r, g) = match lang {
        Lang::Ja => (
            "施策体系",
            "更新",
            "追加",
            "除外",
            "ほかの取り込みで外された事業の行（無視）",
        ),
        Lang::En => (
            "structure",
            "updated",
            "added",
            "taken out",
            "row of a project taken out by another import (ignored)",
        ),
    };
    for (label, list) in [
        (s, &changes.structure),
        (u, &changes.updated),
        (a, &changes.added),
        (r, &changes.removed),
        (g, &changes.gone),
    ] {
        lines.extend(list.iter().map(|name| format!("    {label}: {name}")));
    }
    lines
}

/// The file name without folders, recorded as the edition's source.
fn file_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}
