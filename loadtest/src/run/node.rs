//! The node `run --spawn` starts in its own process: the HTTP API and the actor engine on
//! the run's database, with a node's pools (its main pool and bulk work's, at a lower
//! priority), each route on a simulated operator (in-process, or the simulator server over
//! HTTP) whose sends are logged for the audit. Over HTTP, MTN calls back to the node on
//! capability URLs, and its routes trust authenticated callbacks.

use std::num::NonZeroU32;
use std::sync::Arc;

use anyhow::Context;
use payrail_actors::route::RouteConfig;
use payrail_actors::{Engine, EngineSettings};
use payrail_api::config::Config;
use payrail_api::{AppState, OperatorRoutes, app};
use payrail_engine::app::{App, AppSettings};
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::route::RouteName;
use payrail_engine::store::pool::{self, Priority};

use super::send_log::{LoggedOperator, SendLog};
use crate::operators::BenchOperators;

/// The pace of the spawned node's routes.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub sends_per_second: NonZeroU32,
    pub queries_per_second: NonZeroU32,
    pub max_in_flight: u32,
}

/// A node serving on loopback.
#[derive(Debug)]
pub struct InProcessNode {
    pub base: String,
    /// Each route's send log.
    pub sends: Vec<(String, Arc<SendLog>)>,
    engine: Engine,
    server: tokio::task::JoinHandle<()>,
}

/// How long an MTN payout waits for its callback before a status query asks (the node's
/// default).
const CALLBACK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

impl InProcessNode {
    /// A listener for the node, bound before the operators are made, so that MTN's
    /// callback URL can name it.
    pub async fn bind() -> anyhow::Result<(tokio::net::TcpListener, String)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        Ok((listener, base))
    }

    /// Serves on `listener`, on the database at `database_url`; with `keys`, MTN routes
    /// trust authenticated callbacks.
    pub async fn start(
        database_url: &str,
        (listener, base): (tokio::net::TcpListener, String),
        operators: &BenchOperators,
        pace: Pace,
        keys: Option<CallbackKeys>,
    ) -> anyhow::Result<InProcessNode> {
        let mut sends = Vec::new();
        let mut routes = Vec::new();
        for (name, operator) in operators.routes() {
            let (operator, log) = LoggedOperator::wrap(operator);
            let trusts_callbacks = keys.is_some() && name.starts_with("mtn");
            let config = RouteConfig {
                name: RouteName::new(name.clone())?,
                sends_per_second: pace.sends_per_second,
                queries_per_second: pace.queries_per_second,
                max_in_flight: pace.max_in_flight,
                callback_deadline: trusts_callbacks.then_some(CALLBACK_DEADLINE),
            };
            routes.push((config, operator));
            sends.push((name, log));
        }
        // The pools' sizes are a node's defaults.
        let sizes = Config::default();
        let pool = pool::connect(database_url, sizes.database_pool_size, Priority::Normal)?;
        let bulk_pool = pool::connect(database_url, sizes.database_bulk_pool_size, Priority::Bulk)?;
        pool::warm(&pool).await?;
        pool::warm(&bulk_pool).await?;
        let engine_settings = EngineSettings {
            bulk_pool: Some(bulk_pool.clone()),
            ..EngineSettings::default()
        };
        let engine = Engine::start(pool.clone(), routes, engine_settings)
            .await
            .context("starting the engine")?;
        let settings = AppSettings {
            callback_keys: keys,
            ..AppSettings::rwanda()
        };
        let use_cases =
            App::new(pool, settings, Arc::new(engine.handle())).with_bulk_pool(bulk_pool);
        let state = AppState::new(use_cases).with_operator_routes(OperatorRoutes {
            mtn: vec![RouteName::new("mtn-rw")?],
            airtel: vec![RouteName::new("airtel-rw")?],
        });
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app(state)).await {
                tracing::error!(%error, "the spawned node stopped serving");
            }
        });
        Ok(InProcessNode {
            base,
            sends,
            engine,
            server,
        })
    }

    pub async fn stop(self) {
        self.server.abort();
        self.engine.stop().await;
    }
}
