//! Payrail's HTTP API and the `payrail` command line.
//!
//! # Layout
//! - `balance`: `GET /v1/balance`
//! - `callbacks`: `/callbacks/mtn` and `/callbacks/airtel`, hints that bring a status query forward
//! - `cli`: the command line (clap)
//! - `config`: layered configuration (file < environment < flags)
//! - `commands`: what each command does (`serve`, `simulate`, `migrate`, `merchant …`, `batch …`)
//! - `database`: the configured database or the private PostgreSQL server
//! - `extract`: the authenticated caller (a merchant's API key and its role)
//! - `health`: `/healthz` and `/readyz`
//! - `problem`: every error answer, as problem+json
//! - `shutdown`: the signals that start a graceful shutdown
//! - `telemetry`: logging to stderr

mod balance;
pub mod callbacks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod database;
pub mod extract;
mod health;
pub mod problem;
mod shutdown;
pub mod telemetry;

use axum::Router;
use axum::http::{HeaderName, Request};
use deadpool_postgres::Pool;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::callbacks::OperatorCallbacks;
use crate::problem::ApiError;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: Pool,
    /// Where operator callbacks go; `None` where no engine runs in this process.
    pub callbacks: Option<OperatorCallbacks>,
}

/// The header that carries a request's id: taken from the client when it sends one,
/// made up otherwise, returned on every response and recorded on every log line.
pub const REQUEST_ID: &str = "x-request-id";

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    let traced = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
    });
    Router::new()
        .merge(health::router())
        .merge(callbacks::router())
        .merge(balance::router())
        .fallback(|| async { ApiError::NotFound("no such endpoint") })
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(traced)
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
}
