//! `keikaku synth`: writes a synthetic national dataset (one canonical JSON file per
//! municipality, with its population and consecutive editions) for benchmarks and load
//! tests. Reproducible from `--seed`; generated one municipality at a time.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Args;
use keikaku::config::Config;
use keikaku_core::EditionSpan;
use keikaku_core::canonical::{self, Populations};
use keikaku_core::synth::national::{self, NationalConfig};

use super::parse_span;

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of municipalities (Japan has 1,741).
    #[arg(long, default_value_t = 1_741, value_parser = clap::value_parser!(u32).range(1..=1_741))]
    pub municipalities: u32,
    /// Consecutive editions per municipality.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub editions: u32,
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Span of each municipality's first edition.
    #[arg(long, value_name = "SPAN", default_value = "R4-R6", value_parser = parse_span)]
    pub first: EditionSpan,
    /// Folder to write into (created; must be empty unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into a folder that already has files (files of the same name are overwritten).
    #[arg(long)]
    pub force: bool,
}

/// Runs `synth`.
pub fn run(_config: &Config, args: &SynthArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let occupied = std::fs::read_dir(&args.out)
        .with_context(|| format!("cannot read {}", args.out.display()))?
        .next()
        .is_some();
    if occupied && !args.force {
        bail!(
            "{} is not empty; choose an empty folder or pass --force",
            args.out.display()
        );
    }
    let config = NationalConfig {
        municipalities: args.municipalities,
        editions: args.editions,
        first_span: args.first,
        seed: args.seed,
    };
    let started = Instant::now();
    let roster = national::roster(&config);
    let bar = super::progress::bar(roster.len() as u64, "municipalities");
    let (mut editions, mut projects, mut rows, mut bytes) = (0usize, 0usize, 0usize, 0u64);
    for entry in &roster {
        let generated = national::municipality(&config, entry);
        editions += generated.editions.len();
        for edition in &generated.editions {
            for (_, project) in edition.projects() {
                projects += 1;
                rows += edition.span.years().count().max(project.costs.len());
            }
        }
        let populations = Populations::from([(entry.municipality.code.clone(), entry.population)]);
        let json = canonical::to_json_with(&generated.editions, &populations);
        let path = args.out.join(format!("{}.json", entry.municipality.code));
        std::fs::write(&path, &json).with_context(|| format!("cannot write {}", path.display()))?;
        bytes += json.len() as u64;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "wrote {} municipalities ({editions} editions, {projects} projects, {rows} project-year rows, {:.1} MB) to {} in {:.1} s (seed {})",
        roster.len(),
        // Display only: megabytes with one decimal.
        bytes as f64 / 1e6,
        args.out.display(),
        started.elapsed().as_secs_f64(),
        args.seed
    );
    Ok(ExitCode::SUCCESS)
}
