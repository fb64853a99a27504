//! Payrail's HTTP API and the `payrail` command line.
//!
//! # Layout
//! - `callbacks`: `/callbacks/mtn` and `/callbacks/airtel`, hints that bring a status query forward
//! - `cli`: the command line (clap)
//! - `config`: layered configuration (file < environment < flags)
//! - `commands`: what each command does (`serve`, `simulate`, `migrate`, `merchant …`, `batch …`)
//! - `database`: the configured database or the private PostgreSQL server
//! - `health`: `/healthz` and `/readyz`
//! - `shutdown`: the signals that start a graceful shutdown
//! - `telemetry`: logging to stderr

pub mod callbacks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod database;
mod health;
mod shutdown;
pub mod telemetry;

use axum::Router;
use deadpool_postgres::Pool;

use crate::callbacks::OperatorCallbacks;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: Pool,
    /// Where operator callbacks go; `None` where no engine runs in this process.
    pub callbacks: Option<OperatorCallbacks>,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(callbacks::router())
        .with_state(state)
}
