//! The schema migrations, compiled into the binary from `engine/migrations/` (refinery).

use deadpool_postgres::GenericClient;

refinery::embed_migrations!("migrations");

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("migrating the schema: {0}")]
    Refinery(#[from] refinery::Error),
    #[error("reading the schema version: {0}")]
    Database(#[from] tokio_postgres::Error),
}

/// Applies every migration not yet applied; returns the versions it applied.
pub async fn run(client: &mut tokio_postgres::Client) -> Result<Vec<i32>, MigrationError> {
    let report = migrations::runner().run_async(client).await?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.version())
        .collect())
}

/// The newest migration compiled into this binary.
pub fn latest_version() -> i32 {
    migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .expect("at least one migration is compiled in")
}

/// The newest migration applied to the database, or `None` before the first.
pub async fn applied_version(client: &impl GenericClient) -> Result<Option<i32>, MigrationError> {
    const SQL: &str = "SELECT max(version) FROM refinery_schema_history";
    const HISTORY_EXISTS: &str = "SELECT to_regclass('refinery_schema_history') IS NOT NULL";
    let exists: bool = client.query_one(HISTORY_EXISTS, &[]).await?.get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client.query_one(SQL, &[]).await?.get(0))
}

/// True when the database has every migration this binary knows.
pub async fn is_current(client: &impl GenericClient) -> Result<bool, MigrationError> {
    Ok(applied_version(client).await? == Some(latest_version()))
}
