//! The application layer: every use case a front end offers (the HTTP API, the portal, the
//! command line, the load tester), each taking typed input and answering typed output or
//! an `AppError`. Front ends parse, call one of these, and render; none of them reaches the
//! store or the engine by another way. The running engine is reached through `EnginePort`,
//! which `payrail-actors` implements; a process without an engine uses `Detached`.
//!
//! # Layout
//! - `error`: `AppError`, what a use case answers when it refuses
//! - `caller`: who asks (a merchant's API key and its role), and finding them by their key
//! - `caches`: keys and merchants kept in memory for a few seconds, for the payout path
//! - `port`: `EnginePort`, the running engine as the use cases see it, and `Detached`
//! - `idempotency`: a use case run once per Idempotency-Key, its answer stored with it
//! - `lines`: the checks every payout line passes, however it arrives
//! - `singles`: single payouts written by group commit
//! - `payouts`: pay one person, read a payout, cancel one not yet sent
//! - `batches`: read, list, approve, reject or cancel a batch; its lines and error report
//! - `uploads`: submit a payroll (CSV or JSON, streamed), checked line by line into its batch
//! - `collections`: request a payment (our shape or LTGS's), read and list
//! - `reports`: the statement, the transaction report, analytics, batch reconciliation,
//!   as data or as CSV, XLSX and PDF files
//! - `exports`: report files made in the background, listed, kept seven days
//! - `balances`: what a merchant may pay out and what is set aside
//! - `merchants`: create and fund merchants, read their settings and set the approval rule
//! - `webhooks`: the merchant's endpoint and its events
//! - `callbacks`: an operator's word about a payout or collection
//! - `progress`: a batch's counts per state as people watch its page
//! - `overview`: the latest payouts and collections, and batches newest first
//! - `users`, `sessions`: the portal's people, invited with a setup link, and signing in
//! - `cluster`: the nodes, their leases and what each owns (admins)
//! - `verification`: the status queries that confirm (or contradict) what callbacks ended

pub mod balances;
pub mod batches;
pub mod caches;
pub mod callbacks;
pub mod caller;
pub mod cluster;
pub mod collections;
pub mod error;
pub mod exports;
pub mod idempotency;
pub mod lines;
pub mod merchants;
pub mod overview;
pub mod payouts;
pub mod port;
pub mod progress;
pub mod reports;
pub mod sessions;
pub mod singles;
pub mod uploads;
pub mod users;
pub mod verification;
pub mod webhooks;

use std::sync::Arc;

use deadpool_postgres::Pool;

pub use self::caller::Caller;
pub use self::error::{AppError, FieldError};
pub use self::port::{Detached, EnginePort};
use crate::callback_token::CallbackKeys;
use crate::msisdn::Region;
use crate::route::RouteTable;
use crate::store::migrations;
use crate::url_policy::UrlPolicy;

/// What the use cases check requests against.
#[derive(Debug)]
pub struct AppSettings {
    /// The country a number without its country code is read in.
    pub country: Region,
    /// Number prefix → route.
    pub routes: RouteTable,
    /// Where webhooks and callbacks may go.
    pub urls: UrlPolicy,
    /// The payment channel ("MTN MoMo") of each route.
    pub channels: collections::PaymentChannels,
    /// The keys that check callbacks' capability tokens; without them every callback is
    /// a hint.
    pub callback_keys: Option<CallbackKeys>,
}

impl AppSettings {
    /// Rwanda's routes, public URLs only: what tests and tools start from.
    pub fn rwanda() -> AppSettings {
        AppSettings {
            country: Region::RW,
            routes: RouteTable::rwanda(),
            urls: UrlPolicy::default(),
            channels: collections::PaymentChannels::default(),
            callback_keys: None,
        }
    }
}

/// The use cases, on a database and an engine. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    pub(crate) pool: Pool,
    /// Connections for bulk work (payroll uploads), apart so that it never makes a single
    /// payout wait; the same pool as `pool` unless `with_bulk_pool` gives another.
    pub(crate) bulk_pool: Pool,
    pub(crate) settings: Arc<AppSettings>,
    pub(crate) engine: Arc<dyn EnginePort>,
    /// Woken when this process asks for an export, so that its runner starts at once
    /// (other nodes' runners find it when they next look).
    pub(crate) export_asked: Arc<tokio::sync::Notify>,
    /// Each merchant's "needs attention" counts, read again after a few seconds.
    pub(crate) attention: Arc<overview::AttentionCache>,
    /// Batches' counts per state, as their pages show them.
    pub(crate) progress: Arc<progress::ProgressCache>,
    /// API keys by prefix, read again after a few seconds.
    pub(crate) keys: Arc<caches::KeyCache>,
    /// Merchants for the payout path, read again after a few seconds.
    pub(crate) merchants: Arc<caches::MerchantCache>,
    /// The Idempotency-Keys of single payouts this node is writing now.
    pub(crate) singles_in_flight: Arc<idempotency::KeysInFlight>,
}

impl App {
    /// The use cases with the running engine behind `engine`.
    pub fn new(pool: Pool, settings: AppSettings, engine: Arc<dyn EnginePort>) -> App {
        App {
            bulk_pool: pool.clone(),
            pool,
            settings: Arc::new(settings),
            engine,
            export_asked: Arc::new(tokio::sync::Notify::new()),
            attention: Arc::default(),
            progress: Arc::default(),
            keys: Arc::default(),
            merchants: Arc::default(),
            singles_in_flight: Arc::default(),
        }
    }

    /// The use cases in a process without an engine: work waits for a node's sweep.
    pub fn detached(pool: Pool, settings: AppSettings) -> App {
        let engine = Arc::new(Detached::new(pool.clone()));
        App::new(pool, settings, engine)
    }

    /// The same use cases with bulk work (payroll uploads) on its own pool.
    #[must_use]
    pub fn with_bulk_pool(mut self, bulk_pool: Pool) -> App {
        self.bulk_pool = bulk_pool;
        self
    }

    /// The same use cases on another engine (a process that starts its engine after the
    /// use cases were configured).
    pub fn with_engine(&self, engine: Arc<dyn EnginePort>) -> App {
        App {
            engine,
            ..self.clone()
        }
    }

    /// The same use cases checking requests against other settings.
    pub fn with_settings(&self, settings: AppSettings) -> App {
        App {
            settings: Arc::new(settings),
            ..self.clone()
        }
    }

    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    /// The database the use cases run on, for what sits beside them (the sweep of expired
    /// keys, metrics of the pool).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Whether the node can serve: its database answers, is a primary (writable, not a
    /// standby a failover has not promoted yet) and has every migration this binary
    /// knows. The schema version, or why not.
    pub async fn readiness(&self) -> Result<i32, String> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|error| format!("database unreachable: {error}"))?;
        let writable = client
            .query_one("SELECT NOT pg_is_in_recovery()", &[])
            .await
            .map_err(|error| format!("database: {error}"))?;
        if !writable.get::<_, bool>(0) {
            return Err("the database is a standby (read-only): waiting for a primary".into());
        }
        let latest = migrations::latest_version();
        match migrations::applied_version(&client).await {
            Ok(Some(version)) if version == latest => Ok(version),
            Ok(applied) => Err(format!(
                "database schema at {applied:?}, this binary needs {latest}"
            )),
            Err(error) => Err(format!("database: {error}")),
        }
    }
}
