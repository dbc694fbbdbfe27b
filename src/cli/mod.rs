//! Command-line definitions (clap) and dispatch: one file per subcommand. Each command
//! reads its arguments, calls one `ops` function and prints the result.

mod audit;
mod backup;
mod bench;
mod bench_queries;
mod check;
mod compare;
mod diff;
mod editions;
mod export;
mod history;
mod import;
mod municipality;
mod output;
mod progress;
mod projects;
mod publish;
mod report;
mod roll;
mod serve;
mod synth;
mod template;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use keikaku::config::{Config, Overrides};
use keikaku::ops::EditionSelector;
use keikaku::storage::Store;
use keikaku_core::EditionSpan;

/// keikaku: keep, check and publish a municipality's 実施計画.
#[derive(Debug, Parser)]
#[command(name = "keikaku", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// Database: sqlite://FILE (default sqlite://keikaku.db) or postgres://USER@HOST/DB.
    #[arg(
        long = "db",
        global = true,
        env = "KEIKAKU_DATABASE_URL",
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// Configuration file (default: keikaku.toml in the working folder, if present).
    #[arg(long, global = true, env = "KEIKAKU_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Language of messages: ja or en (default: from LANG).
    #[arg(long, global = true, env = "KEIKAKU_LANG", value_name = "LANG")]
    pub lang: Option<String>,
    /// Log more (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the public portal, the JSON API and open data (loads the sample into an empty database).
    Serve(serve::ServeArgs),
    /// Validate and store plan documents (nothing is stored if any has an error).
    Import(import::ImportArgs),
    /// Check a plan document and list every problem, without storing anything.
    Validate(import::ValidateArgs),
    /// Totals by policy, goal, department, strategy code, 区分 or fiscal year.
    Report(report::ReportArgs),
    /// Write the stored plans as canonical JSON or open-data CSV.
    Export(export::ExportArgs),
    /// List projects with their fields.
    Projects(projects::ProjectsArgs),
    /// List the stored editions.
    Editions(editions::EditionsArgs),
    /// Start the next edition from this one (a draft carrying every project forward).
    Roll(roll::RollArgs),
    /// Write the spreadsheet departments fill in for an edition (xlsx or CSV).
    Template(template::TemplateArgs),
    /// Make an edition public (or, with --draft, take it back to draft).
    Publish(publish::PublishArgs),
    /// What changed between two editions: new, ended, renamed, moved, changed projects.
    Diff(diff::DiffArgs),
    /// One project through all editions.
    History(history::HistoryArgs),
    /// List the document layouts keikaku reads.
    Layouts,
    /// Load the bundled sample plan if the database is empty, then print its policy report.
    Demo,
    /// Measure parsing, validation and storage speed.
    Bench(bench::BenchArgs),
    /// Write a synthetic national dataset (one JSON file per municipality) for benchmarks.
    Synth(synth::SynthArgs),
    /// Compare municipalities by policy field, strategy code or 区分 (totals, per inhabitant).
    Compare(compare::CompareArgs),
    /// List municipalities; record a population (`municipality set CODE --population N --as-of DATE`).
    Municipality(municipality::MunicipalityArgs),
    /// Verify the database: integrity, foreign keys, money rules and stored totals.
    Check,
    /// Write the whole database to one zip (canonical JSON with SHA-256 checksums).
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty database (SQLite or PostgreSQL), verified.
    Restore(backup::RestoreArgs),
    /// The audit log: who changed what, when (JST), through what, old → new.
    Audit(audit::AuditArgs),
    /// Accounts of the staff workspace: add, list, disable, enable, password.
    User(user::UserArgs),
}

/// Which edition to work on.
#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// Municipality code or name (needed when the database holds several).
    #[arg(long, value_name = "CODE")]
    pub municipality: Option<String>,
    /// Edition, e.g. R2-R4 (also 2020-2022, 令和2-4); the latest by default.
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub edition: Option<EditionSpan>,
}

impl SelectArgs {
    fn selector(&self) -> EditionSelector {
        EditionSelector {
            municipality: self.municipality.clone(),
            span: self.edition,
        }
    }
}

/// Who the audit log records for a change made at the command line: `cli:$USER` (the
/// operating system's user), or `cli` when `USER` is not set.
pub fn audit_actor() -> String {
    actor_for(std::env::var("USER").ok().as_deref())
}

fn actor_for(user: Option<&str>) -> String {
    match user.map(str::trim).filter(|u| !u.is_empty()) {
        Some(user) => format!("cli:{user}"),
        None => "cli".to_owned(),
    }
}

/// Parses an edition span for clap.
pub fn parse_span(text: &str) -> Result<EditionSpan, String> {
    EditionSpan::parse(text)
        .ok_or_else(|| format!("{text:?} is not an edition span (e.g. R2-R4, 2020-2022, 令和2-4)"))
}

pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEIKAKU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(global: &Global) -> anyhow::Result<Config> {
    let locale = std::env::var("LC_ALL")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("LANG").ok());
    Ok(Config::load(&Overrides {
        config_file: global.config.clone(),
        database_url: global.database_url.clone(),
        lang: global.lang.clone(),
        locale,
    })?)
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url))
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli.global)?;
    tracing::debug!(?config, "configuration");
    match cli.command {
        Command::Serve(args) => serve::run(&config, args).await,
        Command::Import(args) => import::import(&config, args).await,
        Command::Validate(args) => import::validate(&config, args).await,
        Command::Report(args) => report::run(&config, args).await,
        Command::Export(args) => export::run(&config, args).await,
        Command::Projects(args) => projects::run(&config, args).await,
        Command::Editions(args) => editions::run(&config, args).await,
        Command::Roll(args) => roll::run(&config, args).await,
        Command::Template(args) => template::run(&config, args).await,
        Command::Publish(args) => publish::run(&config, args).await,
        Command::Diff(args) => diff::run(&config, args).await,
        Command::History(args) => history::run(&config, args).await,
        Command::Layouts => {
            for layout in keikaku_core::import::layouts() {
                println!("{:<14} {}", layout.name(), layout.description());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let store = open_store(&config).await?;
            if keikaku::ops::sample::load_if_empty(&store).await? {
                println!(
                    "loaded the bundled sample plan into {}",
                    config.database_url
                );
            }
            store.close().await;
            report::run(&config, report::ReportArgs::default()).await
        }
        Command::Bench(args) => bench::run(&config, args).await,
        Command::Synth(args) => synth::run(&config, &args),
        Command::Compare(args) => compare::run(&config, args).await,
        Command::Municipality(args) => municipality::run(&config, args).await,
        Command::Check => check::run(&config).await,
        Command::Backup(args) => backup::backup(&config, args).await,
        Command::Restore(args) => backup::restore(&config, args).await,
        Command::Audit(args) => audit::run(&config, args).await,
        Command::User(args) => user::run(&config, args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_actor_names_the_user_of_the_machine() {
        assert_eq!(actor_for(Some("tanaka")), "cli:tanaka");
        assert_eq!(actor_for(Some(" ")), "cli");
        assert_eq!(actor_for(None), "cli");
    }
}
