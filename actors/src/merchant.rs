//! The merchant actor: one per merchant with work. It starts one batch actor per batch to
//! run (never two for the same batch) and restarts a batch actor that failed, within a
//! restart budget; a batch whose budget is spent is paused, visibly.
//!
//! It also holds the merchant's in-flight budget, which its batch actors share.
//!
//! Parent: the supervisor. Children: batch actors.

use std::collections::HashMap;
use std::sync::Arc;

use deadpool_postgres::Pool;
use payrail_engine::ids::{BatchId, MerchantId, NodeId};
use payrail_engine::state::batch::{BatchEvent, BatchState};
use payrail_engine::store::batches;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::batch::{BatchActor, BatchArgs, BatchMsg, BatchSettings};
use crate::budget::MerchantBudget;
use crate::directory::RouteDirectory;
use crate::journal::JournalMsg;

/// Restarts of one batch actor before the batch is paused for a person to look at.
pub const BATCH_RESTARTS_MAX: u32 = 3;

#[derive(Debug)]
pub enum MerchantMsg {
    RunBatch(BatchId),
    /// A route restarted: every running batch asks again about its lines in flight.
    Resync,
}

#[derive(Debug)]
pub struct MerchantArgs {
    /// This node: its batch actors claim lines under its lease.
    pub node: NodeId,
    pub merchant: MerchantId,
    pub pool: Pool,
    pub routes: Arc<RouteDirectory>,
    pub journal: ActorRef<JournalMsg>,
    pub settings: BatchSettings,
}

#[derive(Debug)]
pub struct MerchantState {
    args: MerchantArgs,
    budget: Arc<MerchantBudget>,
    running: HashMap<BatchId, ActorRef<BatchMsg>>,
    restarts: HashMap<BatchId, u32>,
}

/// The merchant actor (its state is `MerchantState`).
#[derive(Debug)]
pub struct MerchantActor;

impl Actor for MerchantActor {
    type Msg = MerchantMsg;
    type State = MerchantState;
    type Arguments = MerchantArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<MerchantMsg>,
        args: MerchantArgs,
    ) -> Result<MerchantState, ActorProcessingErr> {
        let budget = Arc::new(MerchantBudget::new(args.settings.merchant_max_outstanding));
        Ok(MerchantState {
            args,
            budget,
            running: HashMap::new(),
            restarts: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<MerchantMsg>,
        message: MerchantMsg,
        state: &mut MerchantState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            MerchantMsg::RunBatch(batch) => {
                if !state.running.contains_key(&batch) {
                    state.spawn_batch(&myself, batch).await?;
                }
            }
            MerchantMsg::Resync => {
                for actor in state.running.values() {
                    let _ = actor.send_message(BatchMsg::Resync);
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<MerchantMsg>,
        event: SupervisionEvent,
        state: &mut MerchantState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, ..) => {
                state.forget(&cell);
            }
            SupervisionEvent::ActorFailed(cell, error) => {
                let Some(batch) = state.forget(&cell) else {
                    return Ok(());
                };
                let restarts = state.restarts.entry(batch).or_insert(0);
                *restarts += 1;
                if *restarts > BATCH_RESTARTS_MAX {
                    tracing::error!(batch_id = %batch, %error, "batch actor failed too often; pausing the batch");
                    state.pause(batch);
                } else {
                    tracing::warn!(batch_id = %batch, %error, restarts = *restarts, "batch actor failed; restarting it");
                    state.spawn_batch(&myself, batch).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl MerchantState {
    async fn spawn_batch(
        &mut self,
        myself: &ActorRef<MerchantMsg>,
        batch: BatchId,
    ) -> Result<(), ActorProcessingErr> {
        let args = BatchArgs {
            node: self.args.node,
            merchant: self.args.merchant,
            batch,
            pool: self.args.pool.clone(),
            routes: Arc::clone(&self.args.routes),
            journal: self.args.journal.clone(),
            settings: self.args.settings,
            budget: Arc::clone(&self.budget),
        };
        let (actor, _) = Actor::spawn_linked(None, BatchActor, args, myself.get_cell()).await?;
        self.running.insert(batch, actor);
        Ok(())
    }

    fn forget(&mut self, cell: &ActorCell) -> Option<BatchId> {
        let batch = self
            .running
            .iter()
            .find(|(_, c)| c.get_id() == cell.get_id())
            .map(|(b, _)| *b)?;
        self.running.remove(&batch);
        Some(batch)
    }

    /// Marks the batch `paused` so it shows, and stops running it.
    fn pause(&self, batch: BatchId) {
        let (pool, merchant) = (self.args.pool.clone(), self.args.merchant);
        tokio::spawn(async move {
            let paused = async {
                let client = pool.get().await?;
                batches::transition(
                    &client,
                    merchant,
                    batch,
                    BatchState::Running,
                    BatchEvent::Pause,
                )
                .await
            };
            if let Err(error) = paused.await {
                tracing::error!(batch_id = %batch, %error, "could not mark the batch paused");
            }
        });
    }
}
