//! The engine: joins the cluster (docs/cluster.md), starts the supervision tree on a
//! database and a set of routes, and stops it, leaving the cluster. `EngineHandle` is how
//! the use cases reach it: `payrail_engine::app::EnginePort`, the port this crate
//! implements.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_engine::app::singles::{SinglePayout, Written};
use payrail_engine::app::{AppError, EnginePort};
use payrail_engine::ids::{BatchId, CollectionId, MerchantId, Reference};
use payrail_engine::operator::{Operator, PayoutStatus};
use payrail_engine::route::RouteName;
use ractor::{Actor, ActorRef};
use tokio::sync::Semaphore;

use payrail_engine::ids::NodeId;
use payrail_engine::store::cluster;
use payrail_engine::store::{StoreError, migrations};

use crate::batch::BatchSettings;
use crate::collector::CollectionSettings;
use crate::lease::NodeLease;
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
    /// The pool batch actors claim and count payroll lines on, so that bulk work never
    /// makes single payouts wait for a connection; without one they share the engine's.
    pub bulk_pool: Option<Pool>,
    pub cluster: ClusterSettings,
}

/// How the node takes part in the cluster (docs/cluster.md).
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// The node's name: one process per name. A node started under the name of one that
    /// died takes its work over at once, without waiting for its lease to expire.
    pub node_name: String,
    /// How long a renewal leases the node for: the longest its work waits after it dies.
    pub lease: Duration,
}

impl Default for ClusterSettings {
    /// A name no other process has, and a 15-second lease.
    fn default() -> ClusterSettings {
        ClusterSettings {
            node_name: format!("engine-{}", NodeId::new()),
            lease: Duration::from_secs(15),
        }
    }
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
            bulk_pool: None,
            cluster: ClusterSettings::default(),
        }
    }
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("starting the engine: {0}")]
    Spawn(#[from] ractor::SpawnErr),
    #[error("joining the cluster: {0}")]
    Join(#[from] StoreError),
}

/// Single payouts waiting to be written, at most: past this a request is refused with a
/// "retry" rather than queued without bound (actor mailboxes have none).
pub const SINGLES_WAITING_MAX: usize = 10_000;

/// The running engine, as the use cases reach it (`EnginePort`). Cheap to clone.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    supervisor: ActorRef<SupervisorMsg>,
    waiting: Arc<Semaphore>,
}

#[async_trait::async_trait]
impl EnginePort for EngineHandle {
    fn run_batch(&self, merchant: MerchantId, batch: BatchId) {
        if self
            .supervisor
            .send_message(SupervisorMsg::RunBatch(merchant, batch))
            .is_err()
        {
            // The engine is stopping; the next node's sweep finds the batch.
            tracing::warn!(batch_id = %batch, "the engine did not take the batch");
        }
    }

    fn collect(&self, merchant: MerchantId, collection: CollectionId) {
        if self
            .supervisor
            .send_message(SupervisorMsg::Collect(merchant, collection))
            .is_err()
        {
            // The collector's sweep picks it up.
            tracing::warn!(collection_id = %collection, "the engine did not take the collection");
        }
    }

    fn nudge(&self, route: &RouteName, reference: Reference) -> Result<(), AppError> {
        self.supervisor
            .send_message(SupervisorMsg::Nudge(route.clone(), reference))
            .map_err(|_| {
                AppError::Unavailable(
                    "the payout engine is stopping; send the callback again later",
                )
            })
    }

    fn called_back(
        &self,
        route: &RouteName,
        reference: Reference,
        outcome: PayoutStatus,
    ) -> Result<(), AppError> {
        self.supervisor
            .send_message(SupervisorMsg::CalledBack(route.clone(), reference, outcome))
            .map_err(|_| {
                AppError::Unavailable(
                    "the payout engine is stopping; send the callback again later",
                )
            })
    }

    async fn write_single(&self, single: SinglePayout) -> Result<Written, AppError> {
        let _waiting = Arc::clone(&self.waiting).try_acquire_owned().map_err(|_| {
            AppError::Unavailable(
                "too many single payouts are waiting to be written; retry in a moment",
            )
        })?;
        ractor::call!(
            self.supervisor,
            SupervisorMsg::WriteSingle,
            Box::new(single)
        )
        .map_err(|_| AppError::Unavailable("the payout engine is stopping; retry later"))?
    }
}

/// A running engine.
#[derive(Debug)]
pub struct Engine {
    supervisor: ActorRef<SupervisorMsg>,
    waiting: Arc<Semaphore>,
    done: tokio::task::JoinHandle<()>,
    lease: Arc<NodeLease>,
    pool: Pool,
}

impl Engine {
    /// Joins the cluster, then starts the supervision tree; batches left `running` and
    /// collections left `pending` by an earlier run (of this node, or of one whose lease
    /// expired) resume. Refused when live nodes run another schema version.
    pub async fn start(
        pool: Pool,
        routes: Vec<(RouteConfig, Arc<dyn Operator>)>,
        settings: EngineSettings,
    ) -> Result<Engine, EngineError> {
        // Before any actor takes its metric handles.
        payrail_engine::metrics::install();
        let lease = Arc::new(join(&pool, &settings.cluster).await?);
        let args = SupervisorArgs {
            bulk_pool: settings.bulk_pool.unwrap_or_else(|| pool.clone()),
            pool: pool.clone(),
            routes,
            policy: settings.retry,
            settings: settings.batch,
            sweep_interval: settings.sweep_interval,
            collection: settings.collection,
            lease: Arc::clone(&lease),
        };
        let (supervisor, done) = Actor::spawn(None, Supervisor, args).await?;
        Ok(Engine {
            supervisor,
            waiting: Arc::new(Semaphore::new(SINGLES_WAITING_MAX)),
            done,
            lease,
            pool,
        })
    }

    /// This node's lease: its id and name, and whether another node fenced it.
    pub fn lease(&self) -> Arc<NodeLease> {
        Arc::clone(&self.lease)
    }

    /// Pays a batch now (scheduled, approved or awaiting funds); harmless twice.
    pub fn run_batch(&self, merchant: MerchantId, batch: BatchId) {
        self.handle().run_batch(merchant, batch);
    }

    /// The handle the use cases reach this engine by.
    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            supervisor: self.supervisor.clone(),
            waiting: Arc::clone(&self.waiting),
        }
    }

    /// The root of the supervision tree, to look at it: its children are the journal
    /// writer, the route actors (named `route:<route>:<n>`), the collector (named
    /// `collector:<n>`), the intake (`intake:<n>`) and the merchant actors.
    pub fn supervision_tree(&self) -> ractor::ActorCell {
        self.supervisor.get_cell()
    }

    /// Stops every actor, then leaves the cluster, so that another node takes this one's
    /// work at once; lines in flight stay `sending` and are asked about before anything is
    /// sent again.
    pub async fn stop(self) {
        self.supervisor.stop(None);
        let _ = self.done.await;
        let left = async { cluster::leave(&self.pool.get().await?, self.lease.node()).await };
        if let Err(error) = left.await {
            tracing::warn!(%error, "could not leave the cluster; the node's work moves when its lease expires");
        }
    }
}

/// Takes this node's lease, unless live nodes run another schema version. It holds from
/// now; the routes send nothing until the membership actor's first round grants them a
/// share of their quotas.
async fn join(pool: &Pool, settings: &ClusterSettings) -> Result<NodeLease, EngineError> {
    let ours = migrations::latest_version();
    let mut client = pool.get().await.map_err(StoreError::from)?;
    cluster::refuse_other_versions(&client, ours).await?;
    let node = NodeId::new();
    let asked_at = tokio::time::Instant::now();
    let earlier =
        cluster::join(&mut client, node, &settings.node_name, ours, settings.lease).await?;
    if let Some(earlier) = earlier {
        tracing::info!(name = earlier.name, earlier = %earlier.id, batches = earlier.batches, collections = earlier.collections, "an earlier run of this node left work; taking it over");
    }
    let live = cluster::live_count(&client).await?;
    let lease = NodeLease::new(node, settings.node_name.clone(), settings.lease, asked_at);
    let live = u32::try_from(live).unwrap_or(u32::MAX).max(1);
    lease.set_live_nodes(live);
    lease.renewed(asked_at);
    tracing::info!(%node, name = settings.node_name, live_nodes = live, "joined the cluster");
    Ok(lease)
}
