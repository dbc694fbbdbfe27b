//! `keikaku serve`: the public portal, the JSON API and the open-data downloads. Loads the
//! bundled sample plan when the database is empty, so a new installation shows a real plan.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use keikaku::config::Config;
use keikaku::ops;
use keikaku::web::{self, AppState};

use super::open_store;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080, or `server.addr` in keikaku.toml).
    #[arg(long, env = "KEIKAKU_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Do not load the bundled sample plan into an empty database.
    #[arg(long)]
    pub no_sample: bool,
}

/// Runs `serve` until Ctrl-C or SIGTERM.
pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let text = args.addr.clone().unwrap_or_else(|| config.addr.clone());
    let addr: SocketAddr = text
        .parse()
        .with_context(|| format!("--addr {text:?} is not HOST:PORT (e.g. 127.0.0.1:8080)"))?;
    let store = open_store(config).await?;
    if !args.no_sample && ops::sample::load_if_empty(&store).await? {
        println!(
            "The database was empty: loaded the bundled sample plan ({} 実施計画 R2-R4).",
            ops::sample::MUNICIPALITY
        );
    }
    let state = AppState::load(store.clone()).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    println!(
        "keikaku is serving http://{bound}/ from {} (Ctrl-C to stop)",
        config.database_url
    );
    web::serve_on(state, listener).await?;
    store.close().await;
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}
