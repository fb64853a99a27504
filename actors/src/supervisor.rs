//! The supervisor: the root of the tree. It starts the journal writer, one route actor per
//! route, the collector (on the same operators, restarted if it stops), the intake of
//! single payouts and the singles runner that pays them (each restarted if it stops), and
//! merchant actors on first use. At start and then at an interval it sweeps the database
//! for batches to run: `running` ones an earlier run left (but not those the singles
//! runner pays), `scheduled` ones (approved, or submitted from another process), and
//! `awaiting_funds` ones (a top-up may have come); and it indexes the numbers of batches
//! stored since, for the search by last digits. In a cluster it runs only the batches this
//! node owns or takes (store::batches::to_run), and sweeps again as soon as the membership
//! actor freed a dead node's work; fenced, it stops the engine.
//!
//! Parent: none. Children: the membership actor, the journal writer, route actors, the
//! collector, the intake, the singles runner, the verifier, merchant actors.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_engine::app::AppError;
use payrail_engine::app::singles::{SinglePayout, Written};
use payrail_engine::ids::{BatchId, CollectionId, MerchantId, NodeId, Reference};
use payrail_engine::operator::{Operator, PayoutStatus};
use payrail_engine::route::RouteName;
use payrail_engine::state::batch::BatchState;
use payrail_engine::store::{batches, payout_numbers};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::time::Instant;

/// Restarts of one route actor within `RESTART_WINDOW` before it restarts with its circuit
/// open.
pub const ROUTE_RESTARTS_MAX: usize = 5;
const RESTART_WINDOW: Duration = Duration::from_secs(60);

use crate::batch::BatchSettings;
use crate::collector::{CollectionSettings, CollectorActor, CollectorArgs, CollectorMsg};
use crate::derived::message_part;
use crate::directory::RouteDirectory;
use crate::intake::{Intake, IntakeArgs, IntakeMsg};
use crate::journal::{JournalArgs, JournalMsg, JournalWriter};
use crate::lease::NodeLease;
use crate::member::{Member, MemberArgs, MemberMsg, Membership};
use crate::merchant::{MerchantActor, MerchantArgs, MerchantMsg};
use crate::route::share::RouteShare;
use crate::route::{RetryPolicy, RouteActor, RouteArgs, RouteConfig, RouteMsg};
use crate::singles::{RunSingles, SinglesArgs, SinglesMsg, SinglesRunner};
use crate::verifier::{Verifier, VerifierArgs, VerifierMsg};

#[derive(Debug)]
pub enum SupervisorMsg {
    RunBatch(MerchantId, BatchId),
    /// Look for batches to resume or retry.
    Sweep,
    /// Ask the route about a reference now (an operator called back about it).
    Nudge(RouteName, Reference),
    /// The route's operator said, in an authenticated callback, how a reference ended.
    CalledBack(RouteName, Reference, PayoutStatus),
    /// Send a new collection's request to pay and follow it.
    Collect(MerchantId, CollectionId),
    /// Write a single payout by group commit (forwarded to the intake).
    WriteSingle(Box<SinglePayout>, RpcReplyPort<Result<Written, AppError>>),
    /// Pay a group of single payouts the intake wrote (forwarded to the singles runner).
    RunSingles(RunSingles),
    /// What the membership actor saw: takeovers to make, or this node fenced.
    Membership(Membership),
}

message_part!(SupervisorMsg::Membership(Membership));
message_part!(SupervisorMsg::RunSingles(RunSingles));

#[derive(Debug)]
pub struct SupervisorArgs {
    pub pool: Pool,
    /// The pool batch actors use (bulk work); the others use `pool`.
    pub bulk_pool: Pool,
    pub routes: Vec<(RouteConfig, Arc<dyn Operator>)>,
    pub policy: RetryPolicy,
    pub settings: BatchSettings,
    /// How often the database is swept for batches to run.
    pub sweep_interval: Duration,
    pub collection: CollectionSettings,
    /// This node's lease, taken before the engine starts.
    pub lease: Arc<NodeLease>,
}

#[derive(Debug)]
pub struct SupervisorState {
    pool: Pool,
    bulk_pool: Pool,
    settings: BatchSettings,
    lease: Arc<NodeLease>,
    member: ActorRef<MemberMsg>,
    journal: ActorRef<JournalMsg>,
    routes: Arc<RouteDirectory>,
    /// What each route actor was started with, to start it again.
    route_args: HashMap<RouteName, RouteArgs>,
    /// When each route actor was restarted, within the last `RESTART_WINDOW`.
    restarts: HashMap<RouteName, Vec<Instant>>,
    merchants: HashMap<MerchantId, ActorRef<MerchantMsg>>,
    collector: ActorRef<CollectorMsg>,
    /// What the collector was started with, to start it again.
    collector_args: CollectorArgs,
    intake: ActorRef<IntakeMsg>,
    singles: ActorRef<SinglesMsg>,
    /// What the singles runner was started with, to start it again.
    singles_args: SinglesArgs,
    verifier: ActorRef<VerifierMsg>,
    /// What the verifier was started with, to start it again.
    verifier_args: VerifierArgs,
}

/// The supervisor actor (its state is `SupervisorState`).
#[derive(Debug)]
pub struct Supervisor;

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let journal_args = JournalArgs {
            pool: args.pool.clone(),
            bulk_pool: args.bulk_pool.clone(),
            routes: args
                .routes
                .iter()
                .map(|(config, _)| config.name.clone())
                .collect(),
        };
        let (journal, _) =
            Actor::spawn_linked(None, JournalWriter, journal_args, myself.get_cell()).await?;
        let collector_args = CollectorArgs {
            pool: args.pool.clone(),
            operators: Arc::new(
                args.routes
                    .iter()
                    .map(|(config, operator)| (config.name.clone(), Arc::clone(operator)))
                    .collect(),
            ),
            settings: args.collection,
            lease: Arc::clone(&args.lease),
        };
        let collector = spawn_collector(&myself, collector_args.clone()).await?;
        let intake = spawn_intake(&myself, &args.pool, args.lease.node()).await?;
        let routes = Arc::new(RouteDirectory::default());
        let mut route_args = HashMap::new();
        let verifier_args = VerifierArgs {
            pool: args.pool.clone(),
            directory: Arc::clone(&routes),
            lease: Arc::clone(&args.lease),
            routes: args
                .routes
                .iter()
                .filter(|(config, _)| config.callback_deadline.is_some())
                .map(|(config, _)| config.name.clone())
                .collect(),
        };
        for (config, operator) in args.routes {
            let name = config.name.clone();
            let route = RouteArgs {
                policy: args.policy.clone(),
                operator,
                journal: journal.clone(),
                start_open: false,
                lease: Arc::clone(&args.lease),
                share: Arc::new(RouteShare::new(config.clone())),
                config,
            };
            let (actor, _) = Actor::spawn_linked(
                Some(route_actor_name(&name)),
                RouteActor,
                route.clone(),
                myself.get_cell(),
            )
            .await?;
            routes.set(&name, actor);
            route_args.insert(name, route);
        }
        let verifier = spawn_verifier(&myself, verifier_args.clone()).await?;
        let singles_args = SinglesArgs {
            pool: args.pool.clone(),
            routes: Arc::clone(&routes),
            journal: journal.clone(),
            owned: Arc::default(),
            node: args.lease.node(),
        };
        let singles = spawn_singles(&myself, singles_args.clone()).await?;
        let member = spawn_member(&myself, &args.pool, &args.lease, &routes, &route_args).await?;
        myself.send_interval(args.sweep_interval, || SupervisorMsg::Sweep);
        Ok(SupervisorState {
            pool: args.pool,
            bulk_pool: args.bulk_pool,
            settings: args.settings,
            lease: args.lease,
            member,
            journal,
            routes,
            route_args,
            restarts: HashMap::new(),
            merchants: HashMap::new(),
            collector,
            collector_args,
            intake,
            singles,
            singles_args,
            verifier,
            verifier_args,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        _state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let _ = myself.send_message(SupervisorMsg::Sweep);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        message: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            // The singles runner pays its own batches; a batch actor would send them again.
            SupervisorMsg::RunBatch(_, batch) if state.singles_args.owned.holds(batch) => {}
            SupervisorMsg::RunBatch(merchant, batch) => {
                let actor = state.merchant(&myself, merchant).await?;
                actor.send_message(MerchantMsg::RunBatch(batch))?;
            }
            SupervisorMsg::Sweep => {
                sweep(&myself, &state.pool, &state.bulk_pool, state.lease.node())
            }
            SupervisorMsg::Membership(Membership::TakeOver) => {
                sweep(&myself, &state.pool, &state.bulk_pool, state.lease.node());
                let _ = state.collector.send_message(CollectorMsg::Sweep);
            }
            SupervisorMsg::Membership(Membership::Fenced) => {
                myself.stop(Some("another node took this node's work over".into()));
            }
            SupervisorMsg::Nudge(route, reference) => {
                if let Some(actor) = state.routes.get(&route) {
                    let _ = actor.send_message(RouteMsg::Nudge(reference));
                }
            }
            SupervisorMsg::CalledBack(route, reference, outcome) => {
                if let Some(actor) = state.routes.get(&route) {
                    let _ = actor.send_message(RouteMsg::CalledBack(reference, outcome));
                }
            }
            SupervisorMsg::Collect(merchant, collection) => {
                // A collection the collector never gets is found by its next sweep.
                let _ = state
                    .collector
                    .send_message(CollectorMsg::Collect(merchant, collection));
            }
            SupervisorMsg::WriteSingle(single, reply) => {
                // A request the intake never gets is answered as refused when its reply
                // port is dropped; its key is then given back.
                let _ = state.intake.send_message(IntakeMsg::Write(single, reply));
            }
            SupervisorMsg::RunSingles(group) => {
                // Held before the runner sees it, so no sweep starts a batch actor for it.
                state.singles_args.owned.hold(group.batch);
                let _ = state.singles.send_message(SinglesMsg::Run(group));
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let failed = matches!(event, SupervisionEvent::ActorFailed(..));
        let (SupervisionEvent::ActorTerminated(cell, ..) | SupervisionEvent::ActorFailed(cell, ..)) =
            event
        else {
            return Ok(());
        };
        if let Some(merchant) = state
            .merchants
            .iter()
            .find(|(_, m)| m.get_id() == cell.get_id())
            .map(|(id, _)| *id)
        {
            // A new merchant actor starts with the merchant's next batch (the sweep finds it).
            state.merchants.remove(&merchant);
            if failed {
                count_restart("merchant");
            }
        } else if let Some(route) = state.routes.route_of(cell.get_id()) {
            state.restart_route(&myself, &route).await?;
            count_restart("route");
        } else if cell.get_id() == state.collector.get_id() {
            // The new collector picks up every pending collection from the store.
            tracing::warn!("the collector stopped; restarting it");
            state.collector = spawn_collector(&myself, state.collector_args.clone()).await?;
            count_restart("collector");
        } else if cell.get_id() == state.intake.get_id() {
            // Requests it held were refused with it; their keys go back, and clients retry.
            tracing::warn!("the intake stopped; restarting it");
            state.intake = spawn_intake(&myself, &state.pool, state.lease.node()).await?;
            count_restart("intake");
        } else if cell.get_id() == state.singles.get_id() {
            // The batches it was paying are resumed by the sweep, with batch actors.
            tracing::warn!("the singles runner stopped; restarting it");
            state.singles_args.owned.let_go_all();
            state.singles = spawn_singles(&myself, state.singles_args.clone()).await?;
            count_restart("singles");
        } else if cell.get_id() == state.verifier.get_id() {
            // What it had handed out is read from the backlog again.
            tracing::warn!("the verifier stopped; restarting it");
            state.verifier = spawn_verifier(&myself, state.verifier_args.clone()).await?;
            count_restart("verifier");
        } else if cell.get_id() == state.member.get_id() {
            // The lease holds on for its term: the new actor renews it before it runs out.
            tracing::warn!("the membership actor stopped; restarting it");
            state.member = spawn_member(
                &myself,
                &state.pool,
                &state.lease,
                &state.routes,
                &state.route_args,
            )
            .await?;
            count_restart("member");
        } else if cell.get_id() == state.journal.get_id() {
            tracing::error!("the journal writer stopped; outcomes wait until the node restarts");
        }
        Ok(())
    }
}

/// Supervision events are rare: the counter is looked up when one happens.
fn count_restart(actor: &'static str) {
    metrics::counter!(payrail_engine::metrics::ACTOR_RESTARTS, "actor" => actor).increment(1);
}

impl SupervisorState {
    /// Starts a stopped route actor again and has every batch ask about the lines it held.
    /// Past the restart budget the new actor starts with its circuit open: visibly held
    /// back (a warning each time) instead of failing in a tight loop.
    async fn restart_route(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        route: &RouteName,
    ) -> Result<(), ActorProcessingErr> {
        let mut args = self.route_args[route].clone();
        let recent = self.restarts.entry(route.clone()).or_default();
        recent.retain(|at| at.elapsed() < RESTART_WINDOW);
        recent.push(Instant::now());
        args.start_open = recent.len() > ROUTE_RESTARTS_MAX;
        if args.start_open {
            tracing::error!(%route, restarts = recent.len(), "route actor restart budget spent; restarting it with its circuit open");
        } else {
            tracing::warn!(%route, "route actor stopped; restarting it");
        }
        let (actor, _) = Actor::spawn_linked(
            Some(route_actor_name(route)),
            RouteActor,
            args,
            myself.get_cell(),
        )
        .await?;
        self.routes.set(route, actor);
        for merchant in self.merchants.values() {
            let _ = merchant.send_message(MerchantMsg::Resync);
        }
        let _ = self.singles.send_message(SinglesMsg::Resync);
        Ok(())
    }

    async fn merchant(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        merchant: MerchantId,
    ) -> Result<ActorRef<MerchantMsg>, ActorProcessingErr> {
        if let Some(actor) = self.merchants.get(&merchant) {
            return Ok(actor.clone());
        }
        let args = MerchantArgs {
            node: self.lease.node(),
            merchant,
            pool: self.bulk_pool.clone(),
            routes: Arc::clone(&self.routes),
            journal: self.journal.clone(),
            settings: self.settings,
        };
        let (actor, _) = Actor::spawn_linked(None, MerchantActor, args, myself.get_cell()).await?;
        self.merchants.insert(merchant, actor.clone());
        Ok(actor)
    }
}

/// Finds batches to run (`running`, `scheduled`, `awaiting_funds`) that this node owns, or
/// takes its share of those nobody owns, and runs them; then indexes the numbers of batches
/// stored since (store::payout_numbers), as bulk work.
fn sweep(myself: &ActorRef<SupervisorMsg>, pool: &Pool, bulk_pool: &Pool, node: NodeId) {
    let (pool, bulk_pool, myself) = (pool.clone(), bulk_pool.clone(), myself.clone());
    tokio::spawn(async move {
        let found = async {
            let client = pool.get().await?;
            let states = [
                BatchState::Running,
                BatchState::Scheduled,
                BatchState::AwaitingFunds,
            ];
            batches::to_run(&client, node, &states).await
        };
        match found.await {
            Ok(found) => {
                for (merchant, batch) in found {
                    let _ = myself.send_message(SupervisorMsg::RunBatch(merchant, batch));
                }
            }
            Err(error) => tracing::warn!(%error, "could not look for batches to resume"),
        }
        let indexed = async { payout_numbers::index_pending(&mut bulk_pool.get().await?).await };
        if let Err(error) = indexed.await {
            tracing::warn!(%error, "could not index the numbers of new batches");
        }
    });
}

/// Starts the collector under the supervisor.
async fn spawn_collector(
    myself: &ActorRef<SupervisorMsg>,
    args: CollectorArgs,
) -> Result<ActorRef<CollectorMsg>, ActorProcessingErr> {
    let name = numbered("collector");
    let (collector, _) =
        Actor::spawn_linked(Some(name), CollectorActor, args, myself.get_cell()).await?;
    Ok(collector)
}

/// Starts the membership actor under the supervisor.
async fn spawn_member(
    myself: &ActorRef<SupervisorMsg>,
    pool: &Pool,
    lease: &Arc<NodeLease>,
    routes: &Arc<RouteDirectory>,
    route_args: &HashMap<RouteName, RouteArgs>,
) -> Result<ActorRef<MemberMsg>, ActorProcessingErr> {
    let args = MemberArgs {
        pool: pool.clone(),
        lease: Arc::clone(lease),
        routes: Arc::clone(routes),
        shares: route_args
            .values()
            .map(|route| Arc::clone(&route.share))
            .collect(),
        parent: myself.get_derived::<Membership>(),
    };
    let (member, _) =
        Actor::spawn_linked(Some(numbered("member")), Member, args, myself.get_cell()).await?;
    Ok(member)
}

/// Starts the verifier under the supervisor.
async fn spawn_verifier(
    myself: &ActorRef<SupervisorMsg>,
    args: VerifierArgs,
) -> Result<ActorRef<VerifierMsg>, ActorProcessingErr> {
    let name = numbered("verifier");
    let (verifier, _) = Actor::spawn_linked(Some(name), Verifier, args, myself.get_cell()).await?;
    Ok(verifier)
}

/// Starts the singles runner under the supervisor.
async fn spawn_singles(
    myself: &ActorRef<SupervisorMsg>,
    args: SinglesArgs,
) -> Result<ActorRef<SinglesMsg>, ActorProcessingErr> {
    let name = numbered("singles");
    let (singles, _) =
        Actor::spawn_linked(Some(name), SinglesRunner, args, myself.get_cell()).await?;
    Ok(singles)
}

/// Starts the intake under the supervisor; its written groups come back as `RunSingles`.
async fn spawn_intake(
    myself: &ActorRef<SupervisorMsg>,
    pool: &Pool,
    node: NodeId,
) -> Result<ActorRef<IntakeMsg>, ActorProcessingErr> {
    let args = IntakeArgs {
        pool: pool.clone(),
        run: myself.get_derived::<RunSingles>(),
        node,
    };
    let (intake, _) =
        Actor::spawn_linked(Some(numbered("intake")), Intake, args, myself.get_cell()).await?;
    Ok(intake)
}

/// A unique name for a route's actor, `route:<route>:<n>`, so the tree reads well and a
/// restarted actor never collides with the name of the one it replaces.
fn route_actor_name(route: &RouteName) -> String {
    numbered(&format!("route:{route}"))
}

/// `<name>:<n>`, with `n` never used before in this process: actor names are global, and
/// several engines may run in one process (tests).
fn numbered(name: &str) -> String {
    static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{name}:{}",
        STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}
