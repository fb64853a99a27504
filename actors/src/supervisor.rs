//! The supervisor: the root of the tree. It starts the journal writer and one route actor
//! per route, and merchant actors on first use. At start and then at an interval it sweeps
//! the database for batches to run: `running` ones an earlier run left, `scheduled` ones
//! (approved, or submitted from another process), and `awaiting_funds` ones (a top-up may
//! have come).
//!
//! Parent: none. Children: the journal writer, route actors, merchant actors.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::operator::Operator;
use payrail_engine::state::batch::BatchState;
use payrail_engine::store::batches;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::batch::BatchSettings;
use crate::journal::{JournalMsg, JournalWriter};
use crate::merchant::{MerchantActor, MerchantArgs, MerchantMsg};
use crate::route::{RetryPolicy, RouteActor, RouteArgs, RouteConfig, RouteMsg};

#[derive(Debug)]
pub enum SupervisorMsg {
    RunBatch(MerchantId, BatchId),
    /// Look for batches to resume or retry.
    Sweep,
}

#[derive(Debug)]
pub struct SupervisorArgs {
    pub pool: Pool,
    pub routes: Vec<(RouteConfig, Arc<dyn Operator>)>,
    pub policy: RetryPolicy,
    pub settings: BatchSettings,
    /// How often the database is swept for batches to run.
    pub sweep_interval: Duration,
}

#[derive(Debug)]
pub struct SupervisorState {
    pool: Pool,
    settings: BatchSettings,
    journal: ActorRef<JournalMsg>,
    routes: Arc<HashMap<String, ActorRef<RouteMsg>>>,
    merchants: HashMap<MerchantId, ActorRef<MerchantMsg>>,
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
        let (journal, _) =
            Actor::spawn_linked(None, JournalWriter, args.pool.clone(), myself.get_cell()).await?;
        let mut routes = HashMap::new();
        for (config, operator) in args.routes {
            let name = config.name.as_str().to_owned();
            let route_args = RouteArgs {
                config,
                policy: args.policy.clone(),
                operator,
                journal: journal.clone(),
            };
            let (route, _) =
                Actor::spawn_linked(None, RouteActor, route_args, myself.get_cell()).await?;
            routes.insert(name, route);
        }
        myself.send_interval(args.sweep_interval, || SupervisorMsg::Sweep);
        Ok(SupervisorState {
            pool: args.pool,
            settings: args.settings,
            journal,
            routes: Arc::new(routes),
            merchants: HashMap::new(),
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
            SupervisorMsg::RunBatch(merchant, batch) => {
                let actor = state.merchant(&myself, merchant).await?;
                actor.send_message(MerchantMsg::RunBatch(batch))?;
            }
            SupervisorMsg::Sweep => sweep(&myself, &state.pool),
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, ..)
            | SupervisionEvent::ActorFailed(cell, ..) => {
                let merchant = state
                    .merchants
                    .iter()
                    .find(|(_, m)| m.get_id() == cell.get_id())
                    .map(|(id, _)| *id);
                match merchant {
                    // A new merchant actor starts on the merchant's next batch.
                    Some(merchant) => {
                        state.merchants.remove(&merchant);
                    }
                    None => {
                        tracing::error!(actor = ?cell.get_id(), "a route actor or the journal writer stopped; payouts on it halt until restart");
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl SupervisorState {
    async fn merchant(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        merchant: MerchantId,
    ) -> Result<ActorRef<MerchantMsg>, ActorProcessingErr> {
        if let Some(actor) = self.merchants.get(&merchant) {
            return Ok(actor.clone());
        }
        let args = MerchantArgs {
            merchant,
            pool: self.pool.clone(),
            routes: Arc::clone(&self.routes),
            journal: self.journal.clone(),
            settings: self.settings,
        };
        let (actor, _) = Actor::spawn_linked(None, MerchantActor, args, myself.get_cell()).await?;
        self.merchants.insert(merchant, actor.clone());
        Ok(actor)
    }
}

/// Finds batches to run (`running`, `scheduled`, `awaiting_funds`) and runs them.
fn sweep(myself: &ActorRef<SupervisorMsg>, pool: &Pool) {
    let (pool, myself) = (pool.clone(), myself.clone());
    tokio::spawn(async move {
        let found = async {
            let client = pool.get().await?;
            let mut found = batches::in_state(&client, BatchState::Running).await?;
            found.extend(batches::in_state(&client, BatchState::Scheduled).await?);
            found.extend(batches::in_state(&client, BatchState::AwaitingFunds).await?);
            Ok::<_, payrail_engine::store::StoreError>(found)
        };
        match found.await {
            Ok(found) => {
                for (merchant, batch) in found {
                    let _ = myself.send_message(SupervisorMsg::RunBatch(merchant, batch));
                }
            }
            Err(error) => tracing::warn!(%error, "could not look for batches to resume"),
        }
    });
}
