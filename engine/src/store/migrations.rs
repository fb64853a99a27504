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

/// The advisory lock migrations run under, so that nodes starting together on a new
/// database migrate one after the other (the second finds nothing left to apply).
const MIGRATION_LOCK: i64 = 0x7061_7972_6169_6c00; // "payrail\0"

/// Applies every migration not yet applied, under `MIGRATION_LOCK`; returns the versions
/// it applied.
pub async fn run(client: &mut tokio_postgres::Client) -> Result<Vec<i32>, MigrationError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let report = migrations::runner().run_async(client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    Ok(report?
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
