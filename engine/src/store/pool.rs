//! The connection pool (deadpool-postgres) every part of a node shares.

use deadpool_postgres::{Config, ManagerConfig, Pool, PoolConfig, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

/// Why a pool could not be made.
#[derive(Debug, thiserror::Error)]
#[error("invalid database configuration: {0}")]
pub struct PoolSetupError(#[from] deadpool_postgres::CreatePoolError);

/// A pool of at most `size` connections to `url` (a `postgres://` URL or key=value string).
/// Connections are made lazily; recycling skips the health query, since a broken
/// connection fails its next statement and is then dropped.
pub fn connect(url: &str, size: usize) -> Result<Pool, PoolSetupError> {
    let config = Config {
        url: Some(url.to_owned()),
        manager: Some(ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        }),
        pool: Some(PoolConfig::new(size)),
        ..Config::default()
    };
    Ok(config.create_pool(Some(Runtime::Tokio1), NoTls)?)
}
