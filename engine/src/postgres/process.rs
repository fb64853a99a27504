//! The server process: started from a thread of its own with a parent-death signal, in
//! its own process group, on a free port of 127.0.0.1, with its log in `<root>/postgres.log`.

use std::fs::OpenOptions;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::sync::watch;

use super::binaries::Binaries;
use super::os_user::ServerUser;
use super::{LaunchError, io_error};

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

/// A server process this launcher started, watched by a thread of its own.
#[derive(Debug)]
pub struct OwnedProcess {
    pub pid: Pid,
    pub exit: watch::Receiver<Option<ExitStatus>>,
}

pub fn log_file(root: &Path) -> PathBuf {
    root.join("postgres.log")
}

/// The port of a live server recorded in `postmaster.pid` (its first line is the pid, its
/// fourth the port), or `None` when there is none or it is stale.
pub fn running_server_port(data: &Path) -> Option<u16> {
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

pub fn free_port() -> Result<u16, LaunchError> {
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
pub fn spawn_server(
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
