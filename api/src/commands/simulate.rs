//! `payrail simulate`: the operator simulator server (MTN MoMo and Airtel Money over HTTP,
//! with a profile's faults) until SIGINT or SIGTERM. No database. The profile is a TOML
//! file or the name of a built-in one.

use std::path::Path;

use anyhow::Context;
use payrail_adapters::simserver::{self, SimServerProfile};
use tokio::net::TcpListener;

use crate::cli::SimulateArgs;
use crate::shutdown;

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let profile = match &args.profile {
        Some(choice) => load(choice).await?,
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

/// The profile `choice` names: a file if one exists at that path, else a built-in profile.
async fn load(choice: &Path) -> anyhow::Result<SimServerProfile> {
    if tokio::fs::metadata(choice).await.is_ok() {
        let text = tokio::fs::read_to_string(choice)
            .await
            .with_context(|| format!("reading the profile {}", choice.display()))?;
        return SimServerProfile::from_toml(&text)
            .with_context(|| format!("loading the profile {}", choice.display()));
    }
    choice
        .to_str()
        .and_then(SimServerProfile::named)
        .with_context(|| {
            let names: Vec<_> = SimServerProfile::names().collect();
            format!(
                "no profile file {} and no built-in profile of that name (built in: {})",
                choice.display(),
                names.join(", ")
            )
        })
}
