//! A private PostgreSQL server run from the machine's own binaries: what `payrail serve`
//! uses when no `DATABASE_URL` is configured, and what the tests start for themselves.
//!
//! The server is a child of this process in its own process group (so Ctrl-C reaches the
//! node, which drains and then stops the server) with a parent-death signal (so it shuts
//! down even if the node is killed): no server is ever left behind.

mod binaries;
mod os_user;
mod server;

pub use binaries::Binaries;
pub use server::{Durability, LaunchError, LocalPostgres};

/// The database role the private server is initialised with.
pub const SUPERUSER: &str = "payrail";
/// The database `payrail serve` keeps its data in on the private server.
pub const DEFAULT_DATABASE: &str = "payrail";
