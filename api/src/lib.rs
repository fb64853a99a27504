//! Payrail's HTTP API and the `payrail` command line.
//!
//! # Layout
//! - `cli`: the command line (clap)
//! - `config`: layered configuration (file < environment < flags)
//! - `commands`: what each command does (`serve`, `simulate`, `migrate`, `merchant …`, `batch …`)
//! - `database`: the configured database or the private PostgreSQL server
//! - `health`: `/healthz` and `/readyz`
//! - `shutdown`: the signals that start a graceful shutdown
//! - `telemetry`: logging to stderr

pub mod cli;
pub mod commands;
pub mod config;
pub mod database;
mod health;
mod shutdown;
pub mod telemetry;

use axum::Router;
use deadpool_postgres::Pool;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: Pool,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new().merge(health::router()).with_state(state)
}
