//! `keikaku serve`: the public portal, the JSON API and the open-data downloads. Loads the
//! bundled sample plan when the database is empty, so a new installation shows a real plan.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use keikaku::config::Config;
use keikaku::ops;
use keikaku::web::{self, AppState};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080, or `server.addr` in keikaku.toml).
    #[arg(long, env = "KEIKAKU_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Do not load the bundled sample plan into an empty database.
    #[arg(long)]
    pub no_sample: bool,
    /// The municipality `/` opens (code); without it `/` lists every municipality, or opens
    /// the only one.
    #[arg(long, value_name = "CODE")]
    pub municipality: Option<String>,
    /// Seconds a client has to send a request's head (request line and headers) before the
    /// connection is closed (default 10, or `server.header_timeout_secs`).
    #[arg(long, env = "KEIKAKU_HEADER_TIMEOUT", value_name = "SECS")]
    pub header_timeout: Option<u64>,
    /// Most connections served at once; further ones wait to be accepted (default 1024, or
    /// `server.max_connections`).
    #[arg(long, env = "KEIKAKU_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Most bytes of rendered pages and files kept in memory, e.g. 128MiB (default
    /// `server.cache_bytes` in keikaku.toml, or 128MiB; 0 keeps none).
    #[arg(long, env = "KEIKAKU_CACHE_BYTES", value_name = "SIZE", value_parser = keikaku::config::parse_bytes)]
    pub cache_bytes: Option<usize>,
}

/// Opens the database; while it cannot be reached (a PostgreSQL server still starting),
/// waits and tries again instead of giving up.
async fn open_waiting(config: &Config) -> anyhow::Result<keikaku::storage::Store> {
    let mut waited = 0u64;
    loop {
        match keikaku::storage::Store::open(&config.database_url).await {
            Ok(store) => return Ok(store),
            Err(err) if err.is_unavailable() && waited < 600 => {
                if waited == 0 {
                    eprintln!(
                        "waiting for the database {} ({err}); retrying every 2 s",
                        config.database_url
                    );
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                waited += 2;
            }
            Err(err) => {
                return Err(anyhow::Error::new(err)
                    .context(format!("cannot open the database {}", config.database_url)));
            }
        }
    }
}

/// Runs `serve` until Ctrl-C or SIGTERM.
pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let text = args.addr.clone().unwrap_or_else(|| config.addr.clone());
    let addr: SocketAddr = text
        .parse()
        .with_context(|| format!("--addr {text:?} is not HOST:PORT (e.g. 127.0.0.1:8080)"))?;
    let header_timeout = match args.header_timeout {
        Some(secs) => keikaku::config::header_timeout(secs)
            .map_err(|e| anyhow::anyhow!("--header-timeout: {e}"))?,
        None => config.header_timeout,
    };
    let max_connections = match args.max_connections {
        Some(0) => anyhow::bail!("--max-connections must be at least 1"),
        Some(n) => n,
        None => config.max_connections,
    };
    let settings = web::ServerSettings {
        header_timeout,
        max_connections,
    };
    let store = open_waiting(config).await?;
    if let Some(code) = &args.municipality {
        keikaku_core::MunicipalityCode::parse(code)
            .map_err(|e| anyhow::anyhow!("--municipality: {e}"))?;
    }
    if !args.no_sample && ops::sample::load_if_empty(&store).await? {
        println!(
            "The database was empty: loaded the bundled sample plan ({} 実施計画 R2-R4).",
            ops::sample::MUNICIPALITY
        );
    }
    let state = AppState::starting(store.clone())
        .with_default_municipality(args.municipality)
        .with_cache_bytes(args.cache_bytes.unwrap_or(config.cache_bytes))
        .with_workspace(web::WorkspaceSettings {
            config: config.workspace.clone(),
            rules: config.rules.clone(),
        });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    println!(
        "keikaku is serving http://{bound}/ from {} (Ctrl-C to stop)",
        config.database_url
    );
    web::serve_with(state, listener, settings, web::shutdown_signal()).await?;
    store.close().await;
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}
