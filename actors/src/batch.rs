//! The batch actor: one per running batch. It reserves the batch total (or leaves the batch
//! `awaiting_funds`, nothing sent), asks first about lines an earlier run left `sending`,
//! then claims lines in chunks (marked `sending` before they leave) and hands them to their
//! routes, keeping a bounded number outstanding; when every line is final it completes the
//! batch and stops. All database work runs in tasks that answer as messages.
//!
//! Parent: the merchant actor. Children: none.

mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_engine::ids::{BatchId, MerchantId, NodeId};
use payrail_engine::money::Currency;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batches::{self, Started};
use payrail_engine::store::payout_lines::{self, ClaimedLine};
use payrail_engine::store::{StoreError, merchants};
use ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::budget::MerchantBudget;
use crate::directory::RouteDirectory;
use crate::job::{Call, Job, LinesFinished};
use crate::journal::JournalMsg;
use telemetry::BatchMetrics;

/// How a batch paces itself.
#[derive(Clone, Copy, Debug)]
pub struct BatchSettings {
    /// Lines claimed per database round trip.
    pub chunk_lines: u32,
    /// Lines handed to routes and not yet final, at most: the admission bound that keeps
    /// route mailboxes small.
    pub max_outstanding: u32,
    /// How often an exhausted batch checks the database for its last lines.
    pub completion_check: Duration,
    /// Lines of one merchant handed out and not final, across all its batches.
    pub merchant_max_outstanding: u32,
}

/// How long a batch held back by its merchant's budget waits before trying again.
const BUDGET_RETRY: Duration = Duration::from_millis(20);

#[derive(Debug)]
pub enum BatchMsg {
    Started(Result<Box<Start>, StoreError>),
    Claimed(Result<Vec<ClaimedLine>, StoreError>),
    /// The journal wrote `lines` of this batch final.
    Finished {
        batch: BatchId,
        lines: u32,
    },
    /// Time to ask the database whether every line is final.
    Check,
    /// Lines of the batch not final yet (and whether any failed), from the database.
    Counted(Result<(i64, bool), StoreError>),
    /// The batch was written complete; whether any of its lines failed.
    Completed(Result<bool, StoreError>),
    /// A route restarted and lost the lines it held: ask again about every line in flight.
    Resync,
    Resynced(Result<Vec<ClaimedLine>, StoreError>),
}

impl From<LinesFinished> for BatchMsg {
    fn from(finished: LinesFinished) -> BatchMsg {
        BatchMsg::Finished {
            batch: finished.batch,
            lines: finished.lines,
        }
    }
}

impl TryFrom<BatchMsg> for LinesFinished {
    type Error = BatchMsg;

    fn try_from(message: BatchMsg) -> Result<LinesFinished, BatchMsg> {
        match message {
            BatchMsg::Finished { batch, lines } => Ok(LinesFinished { batch, lines }),
            other => Err(other),
        }
    }
}

/// What starting found.
#[derive(Debug)]
pub struct Start {
    started: Started,
    currency: Currency,
    in_flight: Vec<ClaimedLine>,
}

#[derive(Debug)]
pub struct BatchArgs {
    /// This node: the batch is taken for it, and every claim is fenced by its lease.
    pub node: NodeId,
    pub merchant: MerchantId,
    pub batch: BatchId,
    pub pool: Pool,
    pub routes: Arc<RouteDirectory>,
    pub journal: ActorRef<JournalMsg>,
    pub settings: BatchSettings,
    /// The merchant's in-flight budget, shared by its batches.
    pub budget: Arc<MerchantBudget>,
}

#[derive(Debug)]
pub struct BatchState {
    args: BatchArgs,
    currency: Currency,
    /// The line number of the last claimed line.
    cursor: i32,
    outstanding: u32,
    /// The batch holds its reservation and runs: until then no line may be claimed.
    running: bool,
    claiming: bool,
    exhausted: bool,
    completing: bool,
    /// A line reported final since the last timed check: the batch is making progress.
    finished_since_check: bool,
    /// A retry is scheduled for when the merchant's budget may have room.
    budget_retry: bool,
    metrics: BatchMetrics,
}

/// The batch actor (its state is `BatchState`).
#[derive(Debug)]
pub struct BatchActor;

impl Actor for BatchActor {
    type Msg = BatchMsg;
    type State = BatchState;
    type Arguments = BatchArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<BatchMsg>,
        args: BatchArgs,
    ) -> Result<BatchState, ActorProcessingErr> {
        Ok(BatchState {
            args,
            currency: Currency::Rwf,
            cursor: 0,
            outstanding: 0,
            running: false,
            claiming: false,
            exhausted: false,
            completing: false,
            finished_since_check: false,
            budget_retry: false,
            metrics: BatchMetrics::start(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<BatchMsg>,
        state: &mut BatchState,
    ) -> Result<(), ActorProcessingErr> {
        let (pool, node, merchant, batch) = (
            state.args.pool.clone(),
            state.args.node,
            state.args.merchant,
            state.args.batch,
        );
        tokio::spawn(async move {
            let _ = myself.send_message(BatchMsg::Started(
                start(&pool, node, merchant, batch).await.map(Box::new),
            ));
        });
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<BatchMsg>,
        state: &mut BatchState,
    ) -> Result<(), ActorProcessingErr> {
        // Lines still out belong to no batch actor now; a restarted one takes them again.
        state.args.budget.give_back(state.outstanding);
        state.metrics.stop();
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<BatchMsg>,
        message: BatchMsg,
        state: &mut BatchState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            // Another node runs the batch, or this node's lease ran out: leave it alone.
            BatchMsg::Started(Err(StoreError::NotOwner))
            | BatchMsg::Claimed(Err(StoreError::NotOwner)) => {
                tracing::info!(batch_id = %state.args.batch, "the batch is another node's; leaving it");
                myself.stop(Some("owned by another node".into()));
                return Ok(());
            }
            BatchMsg::Started(start) => state.started(&myself, *start?),
            BatchMsg::Claimed(lines) => state.claimed(&myself, lines?),
            BatchMsg::Finished { lines, .. } => {
                state.args.budget.give_back(lines.min(state.outstanding));
                state.outstanding = state.outstanding.saturating_sub(lines);
                state.finished_since_check = true;
                if state.outstanding == 0 {
                    state.check(&myself);
                }
            }
            BatchMsg::Check => {
                state.budget_retry = false;
                // While lines keep reporting, the last report brings the count (a count
                // reads every line of the batch). The timer counts only a batch whose
                // lines stopped reporting: one that ended without a report.
                let progressing = std::mem::take(&mut state.finished_since_check);
                if state.outstanding == 0 || !progressing {
                    state.check(&myself);
                }
            }
            BatchMsg::Resync => state.resync(&myself),
            BatchMsg::Resynced(lines) => {
                // Every line still `sending` is asked about again; the journal tells this
                // batch once per line that it finished, whichever copy of it got there.
                state.args.budget.give_back(state.outstanding);
                state.outstanding = 0;
                state.dispatch(&myself, lines?, Call::Query);
            }
            BatchMsg::Counted(counted) => state.counted(&myself, counted?),
            BatchMsg::Completed(done) => {
                match done {
                    // Cancelled while its last sent lines resolved: it stays cancelled.
                    Err(StoreError::StaleState { .. }) => {
                        tracing::info!(batch_id = %state.args.batch, "batch ended by another hand");
                    }
                    done => {
                        BatchMetrics::completed(done?);
                        tracing::info!(batch_id = %state.args.batch, "batch completed");
                    }
                }
                myself.stop(None);
                return Ok(());
            }
        }
        state.claim(&myself);
        state.metrics.outstanding(state.outstanding);
        Ok(())
    }
}

async fn start(
    pool: &Pool,
    node: NodeId,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Start, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let started = batches::start(&tx, node, merchant, batch).await?;
    tx.commit().await?;
    let currency = merchants::get(&client, merchant).await?.currency;
    let in_flight = match started {
        Started::Running => payout_lines::in_flight(&client, merchant, batch).await?,
        Started::AwaitingFunds { .. } => Vec::new(),
    };
    Ok(Start {
        started,
        currency,
        in_flight,
    })
}

impl BatchState {
    fn started(&mut self, myself: &ActorRef<BatchMsg>, start: Start) {
        self.currency = start.currency;
        if let Started::AwaitingFunds { available, needed } = start.started {
            tracing::info!(batch_id = %self.args.batch, available = available.minor(), needed = needed.minor(), "batch awaits funds");
            myself.stop(Some("awaiting funds".into()));
            return;
        }
        self.running = true;
        // Lines an earlier run marked `sending` may have reached the operator: ask first.
        self.dispatch(myself, start.in_flight, Call::Query);
    }

    fn claim(&mut self, myself: &ActorRef<BatchMsg>) {
        let settings = self.args.settings;
        if !self.running
            || self.claiming
            || self.exhausted
            || self.outstanding + settings.chunk_lines > settings.max_outstanding
        {
            return;
        }
        if !self.args.budget.has_room(settings.chunk_lines) {
            // Other batches of the merchant hold the budget; no message of this batch may
            // come to wake it, so it wakes itself.
            if !self.budget_retry {
                self.budget_retry = true;
                myself.send_after(BUDGET_RETRY, || BatchMsg::Check);
            }
            return;
        }
        self.claiming = true;
        let (pool, node, merchant, batch, cursor, myself) = (
            self.args.pool.clone(),
            self.args.node,
            self.args.merchant,
            self.args.batch,
            self.cursor,
            myself.clone(),
        );
        tokio::spawn(async move {
            let claimed = async {
                let client = pool.get().await?;
                payout_lines::claim_chunk(
                    &client,
                    node,
                    merchant,
                    batch,
                    cursor,
                    settings.chunk_lines,
                )
                .await
            };
            let _ = myself.send_message(BatchMsg::Claimed(claimed.await));
        });
    }

    fn claimed(&mut self, myself: &ActorRef<BatchMsg>, lines: Vec<ClaimedLine>) {
        self.claiming = false;
        match lines.last() {
            Some(last) => self.cursor = last.line_no,
            None => {
                self.exhausted = true;
                self.check(myself);
                myself.send_interval(self.args.settings.completion_check, || BatchMsg::Check);
            }
        }
        self.dispatch(myself, lines, Call::Send);
    }

    /// Hands lines to their routes.
    fn dispatch(&mut self, myself: &ActorRef<BatchMsg>, lines: Vec<ClaimedLine>, call: Call) {
        let reports_to = myself.get_derived::<LinesFinished>();
        let jobs = lines
            .into_iter()
            .map(|line| {
                self.outstanding += 1;
                self.args.budget.take(1);
                let job = Job::new(
                    self.args.merchant,
                    self.args.batch,
                    self.currency,
                    line,
                    reports_to.clone(),
                );
                (job, call)
            })
            .collect();
        self.args.routes.hand_out(jobs, &self.args.journal);
    }

    fn resync(&self, myself: &ActorRef<BatchMsg>) {
        let (pool, merchant, batch, myself) = (
            self.args.pool.clone(),
            self.args.merchant,
            self.args.batch,
            myself.clone(),
        );
        tokio::spawn(async move {
            let lines =
                async { payout_lines::in_flight(&pool.get().await?, merchant, batch).await };
            let _ = myself.send_message(BatchMsg::Resynced(lines.await));
        });
    }

    fn check(&mut self, myself: &ActorRef<BatchMsg>) {
        if self.completing || !self.exhausted {
            return;
        }
        let (pool, merchant, batch, myself) = (
            self.args.pool.clone(),
            self.args.merchant,
            self.args.batch,
            myself.clone(),
        );
        tokio::spawn(async move {
            let counted = async {
                let client = pool.get().await?;
                let counts = payout_lines::count_by_state(&client, merchant, batch).await?;
                let open = counts
                    .iter()
                    .filter(|c| !c.state.is_final() && c.state != PayoutState::RequiresReview)
                    .map(|c| c.lines)
                    .sum();
                let failed = counts
                    .iter()
                    .any(|c| matches!(c.state, PayoutState::Failed | PayoutState::RequiresReview));
                Ok((open, failed))
            };
            let _ = myself.send_message(BatchMsg::Counted(counted.await));
        });
    }

    fn counted(&mut self, myself: &ActorRef<BatchMsg>, (open, failed): (i64, bool)) {
        if open > 0 || self.completing {
            return;
        }
        self.completing = true;
        let (pool, merchant, batch, myself) = (
            self.args.pool.clone(),
            self.args.merchant,
            self.args.batch,
            myself.clone(),
        );
        tokio::spawn(async move {
            let completed = async {
                let client = pool.get().await?;
                batches::complete(&client, merchant, batch, failed)
                    .await
                    .map(|_| failed)
            };
            let _ = myself.send_message(BatchMsg::Completed(completed.await));
        });
    }
}
