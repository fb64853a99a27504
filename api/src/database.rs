//! Opens the node's database: the configured `DATABASE_URL`, or else the private
//! PostgreSQL server in the data directory, started (or attached to) for as long as the
//! command runs.

use anyhow::{Context, bail};
use deadpool_postgres::Pool;
use payrail_engine::postgres::{self, Durability, LocalPostgres};
use payrail_engine::store::pool::{self, Priority};
use payrail_engine::store::{cluster, migrations};

use crate::config::Config;

/// When a command applies migrations itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Migrate {
    /// `serve` and `migrate`: always.
    Always,
    /// Other commands: on the private server (ours to keep current); a configured database
    /// must already be current, or the command says to run `payrail migrate`.
    PrivateOnly,
}

/// The pools, and the private server when one is in use.
#[derive(Debug)]
pub struct Database {
    pub pool: Pool,
    /// Bulk work's own connections (`database_bulk_pool_size`).
    pub bulk_pool: Pool,
    server: Option<LocalPostgres>,
}

impl Database {
    pub async fn open(config: &Config, migrate: Migrate) -> anyhow::Result<Database> {
        let (url, server) = match &config.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let server = LocalPostgres::start(&config.data_dir, Durability::Durable).await?;
                server
                    .ensure_database(postgres::DEFAULT_DATABASE)
                    .await
                    .context("creating the node's database on the private server")?;
                (server.url(postgres::DEFAULT_DATABASE), Some(server))
            }
        };
        let pool = pool::connect(&url, config.database_pool_size, Priority::Normal)?;
        let bulk_pool = pool::connect(&url, config.database_bulk_pool_size, Priority::Bulk)?;
        let database = Database {
            pool,
            bulk_pool,
            server,
        };
        let mut client = database
            .pool
            .get()
            .await
            .context("connecting to the database")?;
        if migrate == Migrate::Always || database.server.is_some() {
            cluster::refuse_other_versions(&client, migrations::latest_version()).await?;
            let applied = migrations::run(&mut client).await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "applied database migrations");
            }
        } else if !migrations::is_current(&client).await? {
            bail!("the database schema is older than this binary: run `payrail migrate` first");
        }
        drop(client);
        Ok(database)
    }

    /// Opens every connection of both pools, before the node takes its first request.
    pub async fn warm(&self) -> anyhow::Result<()> {
        pool::warm(&self.pool)
            .await
            .context("opening the pool's connections")?;
        pool::warm(&self.bulk_pool)
            .await
            .context("opening bulk work's connections")?;
        Ok(())
    }

    /// Closes the pool and stops the private server if this process started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close();
        if let Some(server) = self.server {
            server.stop().await?;
        }
        Ok(())
    }
}
