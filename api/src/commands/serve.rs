//! `payrail serve`: the node. Opens the database, serves HTTP until SIGINT or SIGTERM,
//! drains in-flight requests, then stops the private PostgreSQL server if it started one.

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::database::{Database, Migrate};
use crate::{AppState, app, shutdown};

pub async fn run(config: Config) -> anyhow::Result<()> {
    let database = Database::open(&config, Migrate::Always).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, version = env!("CARGO_PKG_VERSION"), "payrail is serving");
    let state = AppState {
        pool: database.pool.clone(),
    };
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown::signal())
        .await
        .context("serving HTTP");
    tracing::info!("draining done; stopping");
    database.close().await?;
    served
}
