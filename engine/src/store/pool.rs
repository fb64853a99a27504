//! The connection pools (deadpool-postgres) every part of a node shares: the main pool, and
//! bulk work's own pool (uploads, payroll batches), whose server processes run at a lower
//! CPU priority when the server is on this machine, so single payouts go first.

use deadpool_postgres::{
    Config, Hook, HookError, ManagerConfig, Pool, PoolConfig, RecyclingMethod, Runtime,
};
use tokio_postgres::NoTls;

/// Why a pool could not be made.
#[derive(Debug, thiserror::Error)]
#[error("invalid database configuration: {0}")]
pub struct PoolSetupError(#[from] deadpool_postgres::CreatePoolError);

/// The CPU priority of the server processes behind a pool's connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// The server's own.
    Normal,
    /// Nice 10: the scheduler gives these processes about a tenth of what a normal one
    /// gets while both want the CPU, and all of it when nothing else does.
    Bulk,
}

/// The niceness of bulk work's server processes.
const BULK_NICENESS: i32 = 10;

/// Every connection's server settings. No JIT: Payrail's statements are short, and JIT
/// compiled any whose estimate passed `jit_above_cost` for 20–25 ms, ten times what a
/// search by a number's last digits costs (docs/benchmarks.md). A session idle inside a
/// transaction for 5 s is ended by the server: a node paused or cut off mid-transaction
/// would otherwise hold its row locks, and the node that takes its work over would wait
/// on them for as long (docs/cluster.md). The two transactions that wait on a client's
/// upload or an export's rendering between statements lift it (`LONG_TRANSACTION`).
const SESSION_OPTIONS: &str = "-c jit=off -c idle_in_transaction_session_timeout=5s";

/// Lifts the idle-in-transaction limit for the rest of the transaction it runs in.
pub const LONG_TRANSACTION: &str = "SET LOCAL idle_in_transaction_session_timeout = 0";

/// A pool of at most `size` connections to `url` (a `postgres://` URL or key=value string;
/// its `options`, if any, give way to `SESSION_OPTIONS`). Connections are made lazily;
/// recycling skips the health query, since a broken connection fails its next statement
/// and is then dropped.
pub fn connect(url: &str, size: usize, priority: Priority) -> Result<Pool, PoolSetupError> {
    let config = Config {
        url: Some(url.to_owned()),
        options: Some(SESSION_OPTIONS.to_owned()),
        manager: Some(ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        }),
        pool: Some(PoolConfig::new(size)),
        ..Config::default()
    };
    let mut builder = config
        .builder(NoTls)
        .map_err(|error| PoolSetupError(deadpool_postgres::CreatePoolError::Config(error)))?
        .runtime(Runtime::Tokio1);
    if priority == Priority::Bulk {
        builder = builder.post_create(Hook::async_fn(|client, _| {
            Box::pin(async move {
                let pid: i32 = client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .await
                    .map_err(HookError::Backend)?
                    .get(0);
                lower_priority(pid);
                Ok(())
            })
        }));
    }
    builder
        .build()
        .map_err(|error| PoolSetupError(deadpool_postgres::CreatePoolError::Build(error)))
}

/// Lowers the CPU priority of the server process `pid`: its niceness, and its session's.
/// Where the kernel shares the CPU between sessions first (autogroup), and PostgreSQL
/// starts each server process in a session of its own, the session's niceness is the one
/// that counts. A server on another machine (the pid is not ours to see) or run by a user
/// we may not touch keeps its own priority.
fn lower_priority(pid: i32) {
    let lowered = rustix::process::Pid::from_raw(pid)
        .ok_or(rustix::io::Errno::SRCH)
        .and_then(|pid| rustix::process::setpriority_process(Some(pid), BULK_NICENESS));
    if let Err(error) = lowered {
        tracing::debug!(pid, %error, "bulk work's server process keeps its priority");
    }
    let session = std::fs::write(format!("/proc/{pid}/autogroup"), BULK_NICENESS.to_string());
    if let Err(error) = session {
        tracing::debug!(pid, %error, "bulk work's server process keeps its session's priority");
    }
}

/// Opens every connection the pool may hold, so that the first requests after a start do
/// not pay for making them.
pub async fn warm(pool: &Pool) -> Result<(), deadpool_postgres::PoolError> {
    let size = pool.status().max_size;
    let clients = futures_util::future::try_join_all((0..size).map(|_| pool.get())).await?;
    drop(clients);
    Ok(())
}
