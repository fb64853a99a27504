//! The engine handle: starts the supervision tree on a database and a set of routes, runs
//! batches and collections, and stops.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_engine::ids::{BatchId, MerchantId, Reference};
use payrail_engine::operator::Operator;
use ractor::{Actor, ActorRef};

use crate::batch::BatchSettings;
use crate::collector::{CollectionSettings, Collector};
use crate::route::{RetryPolicy, RouteConfig};
use crate::supervisor::{Supervisor, SupervisorArgs, SupervisorMsg};

/// How the engine runs, apart from its routes.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    pub batch: BatchSettings,
    pub retry: RetryPolicy,
    /// How often the database is swept for batches to run (scheduled by another process,
    /// or awaiting funds that may have come).
    pub sweep_interval: Duration,
    /// How collections (requests to pay) are polled.
    pub collection: CollectionSettings,
}

impl Default for EngineSettings {
    fn default() -> EngineSettings {
        EngineSettings {
            batch: BatchSettings {
                chunk_lines: 500,
                max_outstanding: 5_000,
                completion_check: Duration::from_secs(1),
                merchant_max_outstanding: 10_000,
            },
            retry: RetryPolicy::default(),
            sweep_interval: Duration::from_secs(1),
            collection: CollectionSettings::default(),
        }
    }
}

/// Why the engine could not start or take work.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("starting the engine: {0}")]
    Spawn(#[from] ractor::SpawnErr),
    #[error("the engine is stopped")]
    Stopped,
}

/// Brings a line's status query forward when its operator calls back. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Nudger(ActorRef<SupervisorMsg>);

impl Nudger {
    /// Asks `route` about `reference` now rather than when its backoff ends. Only the
    /// query's answer settles anything; a reference the route is not waiting to ask about
    /// (unknown to it, in flight, final) is left alone.
    pub fn nudge(&self, route: &str, reference: Reference) -> Result<(), EngineError> {
        self.0
            .send_message(SupervisorMsg::Nudge(route.to_owned(), reference))
            .map_err(|_| EngineError::Stopped)
    }
}

/// Hands batches to the engine from anywhere (the HTTP API). Cheap to clone.
#[derive(Clone, Debug)]
pub struct BatchRunner(ActorRef<SupervisorMsg>);

impl BatchRunner {
    /// Runs a batch (validated, approved or waiting for funds); running it twice is harmless.
    pub fn run_batch(&self, merchant: MerchantId, batch: BatchId) -> Result<(), EngineError> {
        self.0
            .send_message(SupervisorMsg::RunBatch(merchant, batch))
            .map_err(|_| EngineError::Stopped)
    }
}

/// A running engine.
#[derive(Debug)]
pub struct Engine {
    supervisor: ActorRef<SupervisorMsg>,
    done: tokio::task::JoinHandle<()>,
}

impl Engine {
    /// Starts the supervision tree; batches left `running` and collections left `pending`
    /// by an earlier run resume.
    pub async fn start(
        pool: Pool,
        routes: Vec<(RouteConfig, Arc<dyn Operator>)>,
        settings: EngineSettings,
    ) -> Result<Engine, EngineError> {
        // Before any actor takes its metric handles.
        payrail_engine::metrics::install();
        let args = SupervisorArgs {
            pool,
            routes,
            policy: settings.retry,
            settings: settings.batch,
            sweep_interval: settings.sweep_interval,
            collection: settings.collection,
        };
        let (supervisor, done) = Actor::spawn(None, Supervisor, args).await?;
        Ok(Engine { supervisor, done })
    }

    /// Runs a batch (validated, approved or waiting for funds); running it twice is harmless.
    pub fn run_batch(&self, merchant: MerchantId, batch: BatchId) -> Result<(), EngineError> {
        self.supervisor
            .send_message(SupervisorMsg::RunBatch(merchant, batch))
            .map_err(|_| EngineError::Stopped)
    }

    /// A handle that runs batches, for the HTTP API.
    pub fn runner(&self) -> BatchRunner {
        BatchRunner(self.supervisor.clone())
    }

    /// A handle that sends and follows collections, for the HTTP API.
    pub fn collector(&self) -> Collector {
        Collector::new(self.supervisor.clone())
    }

    /// A handle that brings status queries forward, for operator callbacks.
    pub fn nudger(&self) -> Nudger {
        Nudger(self.supervisor.clone())
    }

    /// The root of the supervision tree, to look at it: its children are the journal
    /// writer, the route actors (named `route:<route>:<n>`), the collector (named
    /// `collector:<n>`) and the merchant actors.
    pub fn supervision_tree(&self) -> ractor::ActorCell {
        self.supervisor.get_cell()
    }

    /// Stops every actor; lines in flight stay `sending` and are asked about on the next start.
    pub async fn stop(self) {
        self.supervisor.stop(None);
        let _ = self.done.await;
    }
}
