//! `keikaku backup` and `keikaku restore`: the whole database as one verified zip of
//! canonical JSON with checksums, and back into an empty database of either backend.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use keikaku::config::Config;
use keikaku::ops::backup;

use super::open_store;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The zip file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A zip written by `keikaku backup`.
    pub file: PathBuf,
}

/// Runs `backup`: writes next to the target and renames it into place when complete, so a
/// failed backup never leaves a file that looks whole.
pub async fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<ExitCode> {
    if args.out.exists() && !args.force {
        bail!(
            "{} exists; pass --force to overwrite it",
            args.out.display()
        );
    }
    let folder = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let partial = tempfile::NamedTempFile::new_in(&folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let store = open_store(config).await?;
    let file = partial.reopen()?;
    let manifest = backup::backup(&store, std::io::BufWriter::new(file)).await;
    store.close().await;
    let manifest = manifest?;
    partial
        .persist(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let c = manifest.counts;
    println!(
        "backup {}: {} municipalities, {} editions, {} projects, {} cost rows, {} files with SHA-256",
        args.out.display(),
        c.municipalities,
        c.editions,
        c.projects,
        c.cost_rows,
        manifest.files.len() + 1
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `restore`.
pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let store = open_store(config).await?;
    let restored =
        backup::restore(&store, std::io::BufReader::new(file), &super::audit_actor()).await;
    store.close().await;
    let restored = restored.map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let c = restored.manifest.counts;
    println!(
        "restored {} (made {}): {} municipalities, {} editions, {} projects, {} cost rows; every checksum and every export verified",
        args.file.display(),
        restored.manifest.created_at,
        c.municipalities,
        c.editions,
        c.projects,
        c.cost_rows
    );
    Ok(ExitCode::SUCCESS)
}
