//! The commands of the `payrail` binary.

mod batch;
mod callbacks;
mod merchant;
mod report;
mod serve;
mod simulate;
mod user;

use payrail_engine::app::App;

use crate::cli::Command;
use crate::config::Config;
use crate::database::{Database, Migrate};

/// Runs one command to completion.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve::run(config).await,
        Command::Migrate => {
            let database = Database::open(&config, Migrate::Always).await?;
            database.close().await
        }
        Command::Merchant(command) => {
            let database = Database::open(&config, Migrate::PrivateOnly).await?;
            let app = App::detached(database.pool.clone(), config.app_settings(None)?);
            let result = merchant::run(command, &app).await;
            database.close().await?;
            result
        }
        Command::User(command) => {
            let database = Database::open(&config, Migrate::PrivateOnly).await?;
            let app = App::detached(database.pool.clone(), config.app_settings(None)?);
            let result = user::run(command, &app, &config.portal_url()).await;
            database.close().await?;
            result
        }
        Command::Batch(command) => {
            let database = Database::open(&config, Migrate::PrivateOnly).await?;
            let app = App::detached(database.pool.clone(), config.app_settings(None)?);
            let result = batch::run(command, &app).await;
            database.close().await?;
            result
        }
        Command::Report(command) => {
            let database = Database::open(&config, Migrate::PrivateOnly).await?;
            let app = App::detached(database.pool.clone(), config.app_settings(None)?);
            let result = report::run(command, &app).await;
            database.close().await?;
            result
        }
        Command::Simulate(args) => simulate::run(args).await,
        Command::Callbacks(command) => {
            let database = Database::open(&config, Migrate::PrivateOnly).await?;
            let app = App::detached(database.pool.clone(), config.app_settings(None)?);
            let result = callbacks::run(command, &app, &config.callbacks).await;
            database.close().await?;
            result
        }
    }
}
