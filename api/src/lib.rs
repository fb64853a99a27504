//! Payrail's HTTP API and the `payrail` command line: front ends over the application
//! layer (`payrail_engine::app`). Handlers parse the request, call one use case, and render
//! its answer; `problem` turns every refusal into problem+json.
//!
//! # Layout
//! - `amount_text`: amounts as requests write them
//! - `analytics`: `GET /v1/analytics`, per day, week or month
//! - `balance`: `GET /v1/balance`
//! - `cluster`: `GET /v1/cluster`, the nodes and their leases (admins)
//! - `batches`: payroll uploads (CSV or JSON), their reports and reconciliation statement,
//!   approval and cancellation
//! - `callbacks`: `/callbacks/mtn` and `/callbacks/airtel`, hints that bring a status query forward
//! - `cli`: the command line (clap)
//! - `collections`: requests to pay (our shape or LTGS's), read and listed
//! - `config`: layered configuration (file < environment < flags)
//! - `commands`: what each command does (`serve`, `simulate`, `migrate`, `merchant …`, `batch …`)
//! - `database`: the configured database or the private PostgreSQL server
//! - `exports`: `POST`/`GET /v1/exports`, background report files, and their runner
//! - `extract`: the authenticated caller (a merchant's API key, checked by the application
//!   layer, and its rate limit)
//! - `headers`: nosniff, no-store on secrets, the docs page's policy, plain request ids
//! - `health`: `/healthz` and `/readyz`
//! - `http_metrics`: requests counted and timed by their route template
//! - `idempotency`: the `Idempotency-Key` header, and stored answers sent back
//! - `json`: JSON bodies whose every refusal is problem+json
//! - `openapi`: the OpenAPI document (`/openapi.json`) and the docs page (`/docs`)
//! - `pagination`: keyset pages with an opaque cursor
//! - `portal`: the web portal at `/`, for people, over the same use cases
//! - `payouts`: `POST /v1/payouts`, `GET /v1/payouts/{id}`, `POST /v1/payouts/{id}/cancel`
//! - `problem`: every error answer, as problem+json
//! - `query`: query strings whose every refusal is problem+json
//! - `report_files`: a report as a file: the format asked for, sent at once when small
//! - `settings`: `GET /v1/settings`, `PUT /v1/settings/approval` (the four-eyes rule)
//! - `shutdown`: the signals that start a graceful shutdown
//! - `statements`: `GET /v1/statements`, the account statement
//! - `telemetry`: logging to stderr
//! - `transactions`: `GET /v1/transactions`, the transaction report with its totals
//! - `views`: payouts and batches as answers show them
//! - `webhooks`: signed webhooks to merchants: their deliverer, its guarded client, and the
//!   endpoints that set where they go and show them

mod amount_text;
mod analytics;
mod balance;
mod batches;
pub mod callbacks;
pub mod cli;
mod cluster;
mod collections;
pub mod commands;
pub mod config;
pub mod database;
pub mod exports;
pub mod extract;
mod headers;
mod health;
mod http_metrics;
pub mod idempotency;
pub mod json;
mod openapi;
pub mod pagination;
mod payouts;
pub mod portal;
pub mod problem;
mod query;
mod report_files;
mod settings;
mod shutdown;
mod statements;
pub mod telemetry;
mod transactions;
mod views;
pub mod webhooks;

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use payrail_engine::app::App;
use payrail_engine::ids::ApiKeyId;
use payrail_engine::route::RouteName;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::config::{ApiConfig, CallbacksConfig};
use crate::problem::ApiError;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases, on the node's database and engine.
    pub app: App,
    /// Requests per API key.
    pub limiter: Arc<DefaultKeyedRateLimiter<ApiKeyId>>,
    /// The routes each operator's callbacks may be about.
    pub operator_routes: Arc<OperatorRoutes>,
    /// The portal's sessions and sign-in limits.
    pub portal: Arc<portal::PortalSettings>,
    /// Operator callbacks taken per second (`[callbacks] max_per_second`).
    pub callback_limiter: Arc<DefaultDirectRateLimiter>,
}

/// The routes configured on each operator whose callbacks the node takes.
#[derive(Clone, Debug, Default)]
pub struct OperatorRoutes {
    pub mtn: Vec<RouteName>,
    pub airtel: Vec<RouteName>,
}

impl AppState {
    /// The API over `app`, with the default request limits and no operator routes.
    pub fn new(app: App) -> AppState {
        AppState {
            app,
            limiter: Arc::new(limiter(&ApiConfig::default())),
            operator_routes: Arc::default(),
            portal: Arc::default(),
            callback_limiter: Arc::new(callbacks::limiter(
                CallbacksConfig::default().max_per_second,
            )),
        }
    }

    /// The same, taking at most `per_second` operator callbacks a second.
    pub fn with_callback_limit(self, per_second: u32) -> AppState {
        AppState {
            callback_limiter: Arc::new(callbacks::limiter(per_second)),
            ..self
        }
    }

    /// The same, with `[portal]`'s settings.
    pub fn with_portal(self, portal: portal::PortalSettings) -> AppState {
        AppState {
            portal: Arc::new(portal),
            ..self
        }
    }

    /// The same, with `[api]`'s request limits.
    pub fn with_limits(self, limits: &ApiConfig) -> AppState {
        AppState {
            limiter: Arc::new(limiter(limits)),
            ..self
        }
    }

    /// The same, taking callbacks about `routes`.
    pub fn with_operator_routes(self, routes: OperatorRoutes) -> AppState {
        AppState {
            operator_routes: Arc::new(routes),
            ..self
        }
    }
}

fn limiter(limits: &ApiConfig) -> DefaultKeyedRateLimiter<ApiKeyId> {
    let per_second = NonZeroU32::new(limits.requests_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
}

/// The header that carries a request's id: taken from the client when it sends one,
/// made up otherwise, returned on every response and recorded on every log line.
pub const REQUEST_ID: &str = "x-request-id";

/// Every `/v1` endpoint, each documented in the OpenAPI document.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(balance::router())
        .merge(payouts::router())
        .merge(batches::router())
        .merge(settings::router())
        .merge(transactions::router())
        .merge(statements::router())
        .merge(analytics::router())
        .merge(exports::router())
        .merge(webhooks::router())
        .merge(collections::router())
        .merge(cluster::router())
}

/// Routes outside the OpenAPI document.
const UNDOCUMENTED_ROUTES: [&str; 6] = [
    "/healthz",
    "/readyz",
    "/callbacks/mtn",
    "/callbacks/airtel",
    "/openapi.json",
    "/metrics",
];

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    payrail_engine::metrics::install();
    let request_id = HeaderName::from_static(REQUEST_ID);
    let traced = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
    });
    let (api, document) = api_routes().split_for_parts();
    let document = openapi::complete(document);
    let metrics = http_metrics::HttpMetrics::for_routes(
        document
            .paths
            .paths
            .keys()
            .map(String::as_str)
            .chain(UNDOCUMENTED_ROUTES),
    );
    let [csp, frames] = headers::docs_policy();
    let portal = portal::router(&state);
    Router::new()
        .merge(health::router())
        .merge(callbacks::router())
        .merge(api)
        .merge(openapi::router(document).layer(csp).layer(frames))
        .merge(http_metrics::router())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(axum::middleware::from_fn(problem::every_refusal_a_problem))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            http_metrics::record,
        ))
        .layer(DefaultBodyLimit::max(json::JSON_BODY_LIMIT))
        .merge(portal)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(headers::nosniff())
                .layer(axum::middleware::map_request(headers::plain_request_id))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(traced)
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
}
