//! The `payrail` binary: configuration → logging → command.

use clap::Parser;
use payrail_api::cli::Cli;
use payrail_api::commands;
use payrail_api::config::Config;
use payrail_api::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli.config, &cli.flags)?;
    telemetry::init(config.log_format);
    commands::run(cli.command, config).await
}
