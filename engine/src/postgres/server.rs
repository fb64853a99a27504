//! One private PostgreSQL server: initialised on first use, started (or attached to when
//! another process runs it), and stopped by whoever started it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};

use super::binaries::Binaries;
use super::init::{initdb, password_file};
use super::os_user::ServerUser;
use super::process::{
    Durability, OwnedProcess, free_port, log_file, running_server_port, spawn_server,
};
use super::{LaunchError, SUPERUSER, io_error};

/// How long a starting server may take to accept connections.
const START_TIMEOUT_MS: u64 = 60_000;
/// How long a fast shutdown may take before the server is told to quit at once.
const STOP_TIMEOUT_MS: u64 = 60_000;
/// How long dropping a running server (without `stop`) waits for it to exit.
const DROP_WAIT_MS: u64 = 10_000;
/// How often a starting server is asked whether it accepts connections yet.
const READY_POLL_MS: u64 = 25;
/// Ports tried when another program takes the chosen one before the server binds it.
const BIND_ATTEMPTS_MAX: u32 = 3;

/// A private PostgreSQL server in `<root>/postgres`, reachable on 127.0.0.1 only.
#[derive(Debug)]
pub struct LocalPostgres {
    root: PathBuf,
    port: u16,
    password: String,
    /// `None` when another Payrail process started the server and this one attached to it.
    process: Option<OwnedProcess>,
}

impl LocalPostgres {
    /// Starts the server kept in `<root>/postgres`, initialising it on first use, or attaches
    /// to it when another process already runs it.
    pub async fn start(root: &Path, durability: Durability) -> Result<LocalPostgres, LaunchError> {
        let binaries = Binaries::find().ok_or(LaunchError::NoBinaries)?;
        let user = ServerUser::detect().map_err(LaunchError::Account)?;
        std::fs::create_dir_all(root).map_err(io_error(format!("creating {}", root.display())))?;
        let root = std::fs::canonicalize(root).map_err(io_error("resolving the data root"))?;
        let data = root.join("postgres");
        user.ensure_reachable(&data)
            .map_err(io_error("opening the way to the data directory"))?;
        if !data.join("PG_VERSION").exists() {
            initdb(&binaries, &user, &root, &data).await?;
        }
        let password = std::fs::read_to_string(password_file(&root))
            .map_err(io_error("reading the server's password file"))?;
        if let Some(port) = running_server_port(&data) {
            tracing::info!(port, data = %data.display(), "using the PostgreSQL server already running");
            let server = LocalPostgres {
                root,
                port,
                password,
                process: None,
            };
            server.wait_until_ready(None).await?;
            return Ok(server);
        }
        let mut attempts = 0;
        loop {
            attempts += 1;
            let port = free_port()?;
            let process = spawn_server(&binaries, &user, &root, port, durability)?;
            let server = LocalPostgres {
                root: root.clone(),
                port,
                password: password.clone(),
                process: Some(process),
            };
            match server.wait_until_ready(server.process.as_ref()).await {
                Ok(()) => {
                    tracing::info!(port, data = %data.display(), "started a private PostgreSQL server");
                    return Ok(server);
                }
                Err(LaunchError::NotStarted { tail, .. })
                    if tail.contains("could not bind") && attempts < BIND_ATTEMPTS_MAX =>
                {
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// A connection URL for one database on this server.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// The TCP port the server listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True when this launcher started the server and so will stop it.
    pub fn owns_server(&self) -> bool {
        self.process.is_some()
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> Result<(), tokio_postgres::Error> {
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls).await?;
        let connection = tokio::spawn(connection);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
            .await?
            .is_some();
        if !exists {
            // Identifiers cannot be bound as parameters; quote it as PostgreSQL would.
            let quoted = database.replace('"', "\"\"");
            client
                .batch_execute(&format!("CREATE DATABASE \"{quoted}\""))
                .await?;
        }
        drop(client);
        let _ = connection.await;
        Ok(())
    }

    /// Stops the server if this launcher started it (a fast shutdown: open transactions are
    /// rolled back, committed data is flushed), and waits until it has exited.
    pub async fn stop(mut self) -> Result<(), LaunchError> {
        let Some(mut process) = self.process.take() else {
            return Ok(());
        };
        let _ = kill(process.pid, Signal::SIGINT);
        let stopped = tokio::time::timeout(
            Duration::from_millis(STOP_TIMEOUT_MS),
            process.exit.wait_for(Option::is_some),
        )
        .await
        .is_ok();
        if !stopped {
            tracing::warn!(
                pid = process.pid.as_raw(),
                "PostgreSQL did not stop in time; telling it to quit now"
            );
            let _ = kill(process.pid, Signal::SIGQUIT);
            let _ = process.exit.wait_for(Option::is_some).await;
        }
        tracing::info!("stopped the private PostgreSQL server");
        Ok(())
    }

    async fn wait_until_ready(&self, process: Option<&OwnedProcess>) -> Result<(), LaunchError> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(START_TIMEOUT_MS);
        let mut poll = tokio::time::interval(Duration::from_millis(READY_POLL_MS));
        loop {
            poll.tick().await;
            if process.is_some_and(|process| process.exit.borrow().is_some()) {
                return Err(self.not_started());
            }
            if tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .is_ok()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(self.not_started());
            }
        }
    }

    /// Where the server writes its log.
    pub fn log_path(&self) -> std::path::PathBuf {
        log_file(&self.root)
    }

    fn not_started(&self) -> LaunchError {
        let log = log_file(&self.root);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        LaunchError::NotStarted {
            log: log.display().to_string(),
            tail,
        }
    }
}

impl Drop for LocalPostgres {
    /// A server this launcher started never outlives it: if `stop` was not awaited, the
    /// server is told to shut down, and waited for (a while) so that whoever removes its
    /// directory next does not race its last writes.
    fn drop(&mut self) {
        let Some(process) = self.process.as_ref().filter(|p| p.exit.borrow().is_none()) else {
            return;
        };
        let _ = kill(process.pid, Signal::SIGINT);
        // The exit is reported by the process's own thread, not by the async runtime.
        let deadline = std::time::Instant::now() + Duration::from_millis(DROP_WAIT_MS);
        while process.exit.borrow().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
