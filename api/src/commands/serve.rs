//! `payrail serve`: the node. Opens the database, starts the metrics' upkeep, the actor
//! engine (which joins the cluster; each route on its configured operator, else the
//! in-process simulator), the webhook deliverer and the sweep of expired idempotency keys,
//! serves HTTP (and `/metrics`) until SIGINT or SIGTERM, drains in-flight requests, stops
//! the deliverer and the engine, then the private PostgreSQL server if it started one.
//! A node another node fenced (docs/cluster.md) stops the same way and exits with an
//! error, for its service manager to start it again.

use std::num::NonZeroU32;
use std::sync::Arc;

use anyhow::Context;
use payrail_actors::route::RouteConfig;
use payrail_actors::{ClusterSettings, Engine, EngineSettings};
use payrail_engine::app::App;
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::operator::Operator;
use payrail_engine::route::RouteName;
use tokio::net::TcpListener;

use crate::config::{Config, OperatorConfig, RouteOperator};
use crate::database::{Database, Migrate};
use crate::portal::PortalSettings;
use crate::webhooks::Deliverer;
use crate::{AppState, OperatorRoutes, app, idempotency, shutdown};

pub async fn run(config: Config) -> anyhow::Result<()> {
    let database = Database::open(&config, Migrate::Always).await?;
    database.warm().await?;
    let keys = callback_keys(&config, &database).await?;
    let settings = config.app_settings(keys.clone())?;
    let upkeep = payrail_engine::metrics::start_upkeep(database.pool.clone());
    let key_refresh = keys.map(|keys| refresh_callback_keys(keys, database.pool.clone()));
    let engine = start_engine(&config, &database, settings.callback_keys.as_ref()).await?;
    let use_cases = App::new(database.pool.clone(), settings, Arc::new(engine.handle()))
        .with_bulk_pool(database.bulk_pool.clone());
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, version = env!("CARGO_PKG_VERSION"), "payrail is serving");
    let deliverer = Deliverer::start(use_cases.clone(), &config.webhooks.retry_schedule_seconds)
        .context("starting the webhook deliverer")?;
    let sweeper = idempotency::Sweeper::start(database.pool.clone());
    let exports = crate::exports::runner::Runner::start(use_cases.clone());
    let state = AppState::new(use_cases)
        .with_limits(&config.api)
        .with_operator_routes(operator_routes(&config)?)
        .with_callback_limit(config.callbacks.max_per_second)
        .with_portal(PortalSettings::new(&config.portal));
    tracing::info!(portal = %config.portal_url(), "the portal is at this address");
    let lease = engine.lease();
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        tokio::select! {
            () = shutdown::signal() => {}
            () = lease.fenced() => {}
        }
    })
    .await
    .context("serving HTTP");
    let fenced = engine.lease().is_fenced();
    tracing::info!("draining done; stopping");
    sweeper.stop();
    upkeep.abort();
    if let Some(refresh) = key_refresh {
        refresh.abort();
    }
    deliverer.stop().await;
    exports.stop().await;
    engine.stop().await;
    database.close().await?;
    if fenced {
        anyhow::bail!(
            "another node took this node's work over (its lease expired): start it again to rejoin the cluster"
        );
    }
    served
}

/// The keys that sign and check MTN callback URLs, unless callbacks are not trusted.
async fn callback_keys(
    config: &Config,
    database: &Database,
) -> anyhow::Result<Option<CallbackKeys>> {
    if !config.callbacks.trusted {
        return Ok(None);
    }
    let client = database.pool.get().await?;
    let keys = CallbackKeys::load(&client)
        .await
        .context("reading the callback secrets")?;
    Ok(Some(keys))
}

/// Reads the callback secrets again every `KEY_REFRESH`, so a rotation made on any node
/// (or a secret whose overlap ends) reaches this one.
fn refresh_callback_keys(
    keys: CallbackKeys,
    pool: deadpool_postgres::Pool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(KEY_REFRESH);
        every.tick().await;
        loop {
            every.tick().await;
            let refreshed = match pool.get().await {
                Ok(client) => keys.refresh(&client).await.map_err(anyhow::Error::from),
                Err(error) => Err(error.into()),
            };
            if let Err(error) = refreshed {
                tracing::warn!(%error, "could not read the callback secrets again");
            }
        }
    })
}

/// How often a node reads the callback secrets again.
const KEY_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

async fn start_engine(
    config: &Config,
    database: &Database,
    keys: Option<&CallbackKeys>,
) -> anyhow::Result<Engine> {
    let limit = |n: u32| NonZeroU32::new(n).context("engine limits are positive");
    let mut routes: Vec<(RouteConfig, Arc<dyn Operator>)> = Vec::new();
    for RouteOperator {
        route,
        operator,
        kind,
        trusts_callbacks,
    } in config.operators(keys)?
    {
        let route_config = RouteConfig {
            name: route.clone(),
            sends_per_second: limit(config.engine.sends_per_second)?,
            queries_per_second: limit(config.engine.queries_per_second)?,
            max_in_flight: config.engine.max_in_flight,
            callback_deadline: trusts_callbacks.then(|| config.callbacks.deadline()),
        };
        tracing::info!(route = %route, operator = kind, trusts_callbacks, "route is ready");
        routes.push((route_config, operator));
    }
    let settings = EngineSettings {
        bulk_pool: Some(database.bulk_pool.clone()),
        cluster: ClusterSettings {
            node_name: config.cluster.node_name(),
            lease: config.cluster.lease(),
        },
        ..EngineSettings::default()
    };
    Ok(Engine::start(database.pool.clone(), routes, settings).await?)
}

/// The routes configured on each operator whose callbacks the node takes.
fn operator_routes(config: &Config) -> anyhow::Result<OperatorRoutes> {
    let routes_on = |wanted: fn(&OperatorConfig) -> bool| -> anyhow::Result<Vec<RouteName>> {
        config
            .operators
            .iter()
            .filter(|(_, operator)| wanted(operator))
            .map(|(route, _)| RouteName::new(route.clone()).context("an operator's route"))
            .collect()
    };
    Ok(OperatorRoutes {
        mtn: routes_on(|operator| matches!(operator, OperatorConfig::MtnMomo(_)))?,
        airtel: routes_on(|operator| matches!(operator, OperatorConfig::AirtelMoney(_)))?,
    })
}
