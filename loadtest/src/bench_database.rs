//! The database a benchmark runs on: `--database-url`, or a private PostgreSQL server in a
//! temporary directory with production durability (fsync on), removed afterwards.

use anyhow::Context;
use deadpool_postgres::Pool;
use payrail_engine::postgres::{Durability, LocalPostgres};
use payrail_engine::store::{migrations, pool};

/// The database created on a private server.
const DATABASE: &str = "payrail_bench";

/// A migrated database, and the private server behind it when there is one.
pub struct BenchDatabase {
    pub pool: Pool,
    /// Where it is, for a node the benchmark starts.
    pub url: String,
    server: Option<(LocalPostgres, tempfile::TempDir)>,
}

impl BenchDatabase {
    /// Opens a pool of `connections` (at least one) for the benchmark.
    pub async fn open(url: Option<&str>, connections: u32) -> anyhow::Result<BenchDatabase> {
        let (url, server) = match url {
            Some(url) => (url.to_owned(), None),
            None => {
                let dir = tempfile::tempdir().context("a temporary directory")?;
                let server = LocalPostgres::start(dir.path(), Durability::Durable).await?;
                server.ensure_database(DATABASE).await?;
                (server.url(DATABASE), Some((server, dir)))
            }
        };
        let pool = pool::connect(
            &url,
            usize::try_from(connections)?.max(1),
            pool::Priority::Normal,
        )?;
        let url_for_node = url.clone();
        let mut client = pool.get().await.context("connecting to the database")?;
        migrations::run(&mut client).await?;
        drop(client);
        Ok(BenchDatabase {
            pool,
            url: url_for_node,
            server,
        })
    }

    /// What the figures were measured on, e.g. "PostgreSQL 15.18 (private server, fsync on)".
    pub async fn describe(&self) -> anyhow::Result<String> {
        let client = self.pool.get().await?;
        let version: String = client.query_one("SHOW server_version", &[]).await?.get(0);
        let fsync: String = client.query_one("SHOW fsync", &[]).await?.get(0);
        let kind = if self.server.is_some() {
            "private server"
        } else {
            "--database-url"
        };
        Ok(format!("PostgreSQL {version} ({kind}, fsync {fsync})"))
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close();
        if let Some((server, _dir)) = self.server {
            server.stop().await?;
        }
        Ok(())
    }
}
