//! Initialises, starts, attaches to and stops one private PostgreSQL server.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::distr::{Alphanumeric, SampleString};
use tokio::sync::watch;

use super::SUPERUSER;
use super::binaries::Binaries;
use super::os_user::ServerUser;

/// How long a starting server may take to accept connections.
const START_TIMEOUT_MS: u64 = 60_000;
/// How long a fast shutdown may take before the server is told to quit at once.
const STOP_TIMEOUT_MS: u64 = 60_000;
/// How often a starting server is asked whether it accepts connections yet.
const READY_POLL_MS: u64 = 25;
/// Ports tried when another program takes the chosen one before the server binds it.
const BIND_ATTEMPTS_MAX: u32 = 3;
/// Length of the generated superuser password (alphanumeric: ~190 bits).
const PASSWORD_LEN: usize = 32;

/// Server settings for throughput that keep every durability guarantee.
const PERFORMANCE_SETTINGS: [&str; 3] = [
    "shared_buffers=256MB",
    "wal_buffers=16MB",
    "max_wal_size=4GB",
];
/// Settings for throwaway test servers: committed data may be lost in a crash.
const FAST_SETTINGS: [&str; 4] = [
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=400",
];

/// How hard the server works to keep committed data across a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// PostgreSQL's defaults: what a node keeps its ledger on.
    Durable,
    /// fsync and synchronous commit off: for throwaway test databases only.
    Fast,
}

/// Why a private server could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(
        "no PostgreSQL server binaries found (initdb and postgres, on PATH or in \
         /usr/lib/postgresql/<version>/bin): install them, e.g. `apt-get install postgresql` \
         on Debian or Ubuntu, or set DATABASE_URL to use a server you already run"
    )]
    NoBinaries,
    #[error("{0}")]
    Account(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} failed ({status}); its output:\n{output}")]
    Program {
        what: String,
        status: ExitStatus,
        output: String,
    },
    #[error("PostgreSQL did not start; the end of {log}:\n{tail}")]
    NotStarted { log: String, tail: String },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LaunchError {
    let what = what.into();
    move |source| LaunchError::Io { what, source }
}

/// A server process this launcher started, watched by a thread of its own.
#[derive(Debug)]
struct OwnedProcess {
    pid: Pid,
    exit: watch::Receiver<Option<ExitStatus>>,
}

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
    /// server is at least told to shut down.
    fn drop(&mut self) {
        if let Some(process) = self.process.as_ref().filter(|p| p.exit.borrow().is_none()) {
            let _ = kill(process.pid, Signal::SIGINT);
        }
    }
}

fn password_file(root: &Path) -> PathBuf {
    root.join("postgres.password")
}

fn log_file(root: &Path) -> PathBuf {
    root.join("postgres.log")
}

async fn initdb(
    binaries: &Binaries,
    user: &ServerUser,
    root: &Path,
    data: &Path,
) -> Result<(), LaunchError> {
    std::fs::create_dir_all(data).map_err(io_error("creating the data directory"))?;
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))
        .map_err(io_error("restricting the data directory"))?;
    user.give(data).map_err(io_error(
        "handing the data directory to the postgres account",
    ))?;
    let password = Alphanumeric.sample_string(&mut rand::rng(), PASSWORD_LEN);
    let initdb_password = root.join("initdb.password");
    write_private(&initdb_password, &password)?;
    user.give(&initdb_password).map_err(io_error(
        "handing the password file to the postgres account",
    ))?;
    let mut command = tokio::process::Command::new(binaries.program("initdb"));
    command
        .arg("--pgdata")
        .arg(data)
        .arg(format!("--username={SUPERUSER}"))
        .arg("--auth=scram-sha-256")
        .arg(format!("--pwfile={}", initdb_password.display()))
        .args(["--encoding=UTF8", "--locale=C", "--no-instructions"])
        .current_dir(root);
    if let Some((uid, gid)) = user.ids() {
        command.uid(uid).gid(gid);
    }
    tracing::info!(data = %data.display(), "initialising a private PostgreSQL data directory");
    let output = command.output().await.map_err(io_error("running initdb"));
    let _ = std::fs::remove_file(&initdb_password);
    let output = output?;
    if !output.status.success() {
        return Err(LaunchError::Program {
            what: "initdb".into(),
            status: output.status,
            output: String::from_utf8_lossy(&[output.stdout, output.stderr].concat()).into_owned(),
        });
    }
    write_private(&password_file(root), &password)
}

fn write_private(path: &Path, contents: &str) -> Result<(), LaunchError> {
    let what = format!("writing {}", path.display());
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(what.clone()))?;
    file.write_all(contents.as_bytes()).map_err(io_error(what))
}

/// The port of a live server recorded in `postmaster.pid` (its first line is the pid, its
/// fourth the port), or `None` when there is none or it is stale.
fn running_server_port(data: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let mut lines = text.lines();
    let pid: i32 = lines.next()?.trim().parse().ok()?;
    let port: u16 = lines.nth(2)?.trim().parse().ok()?;
    let alive = match kill(Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(errno) => errno == nix::errno::Errno::EPERM,
    };
    alive.then_some(port)
}

fn free_port() -> Result<u16, LaunchError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(io_error("finding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_error("finding a free port"))?
        .port();
    Ok(port)
}

/// Starts `postgres` from a thread that lives exactly as long as the server, because a
/// parent-death signal fires when the thread that forked the child ends.
fn spawn_server(
    binaries: &Binaries,
    user: &ServerUser,
    root: &Path,
    port: u16,
    durability: Durability,
) -> Result<OwnedProcess, LaunchError> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(root))
        .map_err(io_error("opening the server log"))?;
    let log_err = log
        .try_clone()
        .map_err(io_error("opening the server log"))?;
    let mut command = Command::new(binaries.program("postgres"));
    command
        .arg("-D")
        .arg(root.join("postgres"))
        .args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
        ])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0);
    // Bigger WAL buffers and rarer checkpoints keep a 100,000-line payroll upload from
    // stalling on WAL writes; neither changes what a commit guarantees.
    for setting in PERFORMANCE_SETTINGS {
        command.args(["-c", setting]);
    }
    if durability == Durability::Fast {
        for setting in FAST_SETTINGS {
            command.args(["-c", setting]);
        }
    }
    if let Some((uid, gid)) = user.ids() {
        command.uid(uid).gid(gid);
    }
    shut_down_with_parent(&mut command);
    let (exit_sender, exit) = watch::channel(None);
    let (pid_sender, pid_receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-server".into())
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = pid_sender.send(Ok(child.id()));
                let status = child.wait().unwrap_or_else(|_| ExitStatus::from_raw(-1));
                let _ = exit_sender.send(Some(status));
            }
            Err(error) => {
                let _ = pid_sender.send(Err(error));
            }
        })
        .map_err(io_error("starting the server's watch thread"))?;
    let pid = pid_receiver
        .recv()
        .map_err(|_| LaunchError::Io {
            what: "starting postgres".into(),
            source: std::io::Error::other("the watch thread ended early"),
        })?
        .map_err(io_error("starting postgres"))?;
    let pid = Pid::from_raw(i32::try_from(pid).expect("process ids fit in i32"));
    Ok(OwnedProcess { pid, exit })
}

/// Asks the kernel to send the server SIGINT (a fast shutdown) when its parent thread ends,
/// so that even a killed node leaves no server behind.
#[expect(
    unsafe_code,
    reason = "pre_exec runs between fork and exec; prctl is async-signal-safe"
)]
fn shut_down_with_parent(command: &mut Command) {
    // SAFETY: the closure makes one prctl system call and allocates nothing.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from)
        });
    }
}
