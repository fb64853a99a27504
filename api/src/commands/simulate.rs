//! `payrail simulate`: the operator simulator server (MTN MoMo and Airtel Money over HTTP,
//! with a profile's faults) until SIGINT or SIGTERM. No database.

use anyhow::Context;
use payrail_adapters::simserver::{self, SimServerProfile};
use tokio::net::TcpListener;

use crate::cli::SimulateArgs;
use crate::shutdown;

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let profile = match &args.profile {
        Some(path) => {
            let text = tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("reading the profile {}", path.display()))?;
            SimServerProfile::from_toml(&text)
                .with_context(|| format!("loading the profile {}", path.display()))?
        }
        None => SimServerProfile::default(),
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let handle = simserver::spawn(listener, profile)
        .await
        .context("starting the simulator")?;
    tracing::info!(address = %handle.address(), "the operator simulator is serving");
    shutdown::signal().await;
    let stats = handle.stats();
    handle.shutdown().await;
    tracing::info!(
        transfer_posts = stats.transfer_posts,
        executions = stats.executions,
        status_queries = stats.status_queries,
        "the operator simulator stopped"
    );
    Ok(())
}
