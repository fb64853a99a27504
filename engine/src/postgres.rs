//! A private PostgreSQL server run from the machine's own binaries: what `payrail serve`
//! uses when no `DATABASE_URL` is configured, and what the tests start for themselves.
//!
//! The server is a child of this process in its own process group (so Ctrl-C reaches the
//! node, which drains and then stops the server) with a parent-death signal (so it shuts
//! down even if the node is killed): no server is ever left behind.

mod binaries;
mod init;
mod os_user;
mod process;
mod server;

pub use binaries::Binaries;
pub use process::Durability;
pub use server::LocalPostgres;

use std::process::ExitStatus;

/// The database role the private server is initialised with.
pub const SUPERUSER: &str = "payrail";
/// The database `payrail serve` keeps its data in on the private server.
pub const DEFAULT_DATABASE: &str = "payrail";

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
