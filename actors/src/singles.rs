//! The singles runner: pays the single payouts the intake wrote, without a batch actor per
//! group. Groups written while a claim is on its way are claimed together in the next one
//! (one statement marks them `sending`, so the mark is durable before any request leaves);
//! their lines go to their routes, and each group's batch is completed once the journal
//! has written all of its lines final, again many batches per statement. A batch it cannot
//! claim or complete is let go: the supervisor's sweep resumes it with a batch actor, as
//! after a crash.
//!
//! Parent: the supervisor. Children: none; database work runs in tasks that answer as
//! messages.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_engine::ids::{BatchId, MerchantId, NodeId, PayoutId};
use payrail_engine::metrics::BatchOutcome;
use payrail_engine::money::Currency;
use payrail_engine::state::batch::BatchState;
use payrail_engine::store::payout_lines::{self, ClaimedLine};
use payrail_engine::store::{StoreError, batches};
use ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::derived::message_part;
use crate::directory::RouteDirectory;
use crate::job::{Call, Job, LinesFinished};
use crate::journal::JournalMsg;

/// How long a batch that could not be completed waits before it is tried again.
const COMPLETE_RETRY: Duration = Duration::from_secs(1);

/// A group of single payouts written and committed, funded in `batch`: pay them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSingles {
    pub merchant: MerchantId,
    pub batch: BatchId,
    pub currency: Currency,
    pub payouts: Vec<PayoutId>,
}

/// The batches of single payouts this node's runner pays, which the sweep must leave to it.
#[derive(Debug, Default)]
pub struct SinglesOwned(Mutex<HashSet<BatchId>>);

impl SinglesOwned {
    pub fn hold(&self, batch: BatchId) {
        if let Ok(mut owned) = self.0.lock() {
            owned.insert(batch);
        }
    }

    pub fn holds(&self, batch: BatchId) -> bool {
        self.0.lock().is_ok_and(|owned| owned.contains(&batch))
    }

    fn let_go(&self, batch: BatchId) {
        if let Ok(mut owned) = self.0.lock() {
            owned.remove(&batch);
        }
    }

    /// Lets every batch go (the runner stopped; the sweep resumes them).
    pub fn let_go_all(&self) {
        if let Ok(mut owned) = self.0.lock() {
            owned.clear();
        }
    }
}

#[derive(Debug)]
pub enum SinglesMsg {
    Run(RunSingles),
    Claimed(
        Vec<RunSingles>,
        Result<Vec<(BatchId, ClaimedLine)>, StoreError>,
    ),
    /// The journal wrote lines of a batch final.
    Finished(LinesFinished),
    Completed(Vec<BatchId>, Result<Vec<(BatchId, BatchState)>, StoreError>),
    /// Time to try completing again.
    Complete,
    /// A route restarted and lost the lines it held: ask again about every line in flight.
    Resync,
    Resynced(Result<Vec<(BatchId, Vec<ClaimedLine>)>, StoreError>),
}

message_part!(SinglesMsg::Finished(LinesFinished));

#[derive(Clone, Debug)]
pub struct SinglesArgs {
    pub pool: Pool,
    pub routes: Arc<RouteDirectory>,
    pub journal: ActorRef<JournalMsg>,
    pub owned: Arc<SinglesOwned>,
    /// This node: the intake wrote the groups' batches as its own, and every claim is
    /// fenced by its lease.
    pub node: NodeId,
}

/// A batch being paid: its lines handed out and not yet written final.
#[derive(Debug)]
struct Paying {
    merchant: MerchantId,
    currency: Currency,
    outstanding: u32,
}

#[derive(Debug)]
pub struct SinglesState {
    args: SinglesArgs,
    to_claim: Vec<RunSingles>,
    claiming: bool,
    paying: HashMap<BatchId, Paying>,
    to_complete: Vec<BatchId>,
    completing: bool,
}

/// The singles runner (its state is `SinglesState`).
#[derive(Debug)]
pub struct SinglesRunner;

impl Actor for SinglesRunner {
    type Msg = SinglesMsg;
    type State = SinglesState;
    type Arguments = SinglesArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<SinglesMsg>,
        args: SinglesArgs,
    ) -> Result<SinglesState, ActorProcessingErr> {
        Ok(SinglesState {
            args,
            to_claim: Vec::new(),
            claiming: false,
            paying: HashMap::new(),
            to_complete: Vec::new(),
            completing: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SinglesMsg>,
        message: SinglesMsg,
        state: &mut SinglesState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SinglesMsg::Run(group) => state.to_claim.push(group),
            SinglesMsg::Claimed(groups, claimed) => state.claimed(&myself, groups, claimed),
            SinglesMsg::Finished(LinesFinished { batch, lines }) => state.finished(batch, lines),
            SinglesMsg::Completed(asked, completed) => state.completed(&myself, asked, completed),
            SinglesMsg::Complete => {}
            SinglesMsg::Resync => state.resync(&myself),
            SinglesMsg::Resynced(lines) => state.resynced(&myself, lines?),
        }
        state.claim(&myself);
        state.complete(&myself);
        Ok(())
    }
}

impl SinglesState {
    /// Claims every group waiting, in one statement, in a task.
    fn claim(&mut self, myself: &ActorRef<SinglesMsg>) {
        if self.claiming || self.to_claim.is_empty() {
            return;
        }
        self.claiming = true;
        let groups = std::mem::take(&mut self.to_claim);
        let payouts: Vec<PayoutId> = groups
            .iter()
            .flat_map(|group| group.payouts.iter().copied())
            .collect();
        let batches: Vec<BatchId> = groups.iter().map(|group| group.batch).collect();
        let (pool, node, myself) = (self.args.pool.clone(), self.args.node, myself.clone());
        tokio::spawn(async move {
            let claimed = async {
                let client = pool.get().await?;
                payout_lines::claim_singles(&client, node, &batches, &payouts).await
            };
            let _ = myself.send_message(SinglesMsg::Claimed(groups, claimed.await));
        });
    }

    fn claimed(
        &mut self,
        myself: &ActorRef<SinglesMsg>,
        groups: Vec<RunSingles>,
        claimed: Result<Vec<(BatchId, ClaimedLine)>, StoreError>,
    ) {
        self.claiming = false;
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(error) => {
                // Nothing was marked: the sweep resumes these batches with batch actors.
                tracing::warn!(%error, groups = groups.len(), "single payouts could not be claimed; the sweep resumes them");
                for group in groups {
                    self.args.owned.let_go(group.batch);
                }
                return;
            }
        };
        for group in &groups {
            self.paying.insert(
                group.batch,
                Paying {
                    merchant: group.merchant,
                    currency: group.currency,
                    outstanding: 0,
                },
            );
        }
        let mut by_batch: HashMap<BatchId, Vec<ClaimedLine>> = HashMap::new();
        for (batch, line) in claimed {
            by_batch.entry(batch).or_default().push(line);
        }
        for group in groups {
            match by_batch.remove(&group.batch) {
                Some(lines) => self.dispatch(myself, group.batch, lines, Call::Send),
                // Every payout of it was cancelled before it could be claimed.
                None => self.to_complete.push(group.batch),
            }
        }
    }

    /// Hands a batch's lines to their routes.
    fn dispatch(
        &mut self,
        myself: &ActorRef<SinglesMsg>,
        batch: BatchId,
        lines: Vec<ClaimedLine>,
        call: Call,
    ) {
        let Some(paying) = self.paying.get_mut(&batch) else {
            return;
        };
        let reports_to = myself.get_derived::<LinesFinished>();
        let jobs = lines
            .into_iter()
            .map(|line| {
                paying.outstanding += 1;
                let job = Job::new(
                    paying.merchant,
                    batch,
                    paying.currency,
                    line,
                    reports_to.clone(),
                );
                (job.single(), call)
            })
            .collect();
        self.args.routes.hand_out(jobs, &self.args.journal);
    }

    fn finished(&mut self, batch: BatchId, lines: u32) {
        if let Some(paying) = self.paying.get_mut(&batch) {
            paying.outstanding = paying.outstanding.saturating_sub(lines);
            if paying.outstanding == 0 {
                self.to_complete.push(batch);
            }
        }
    }

    /// Completes every batch whose lines are all final, in one statement, in a task.
    fn complete(&mut self, myself: &ActorRef<SinglesMsg>) {
        if self.completing || self.to_complete.is_empty() {
            return;
        }
        self.completing = true;
        let asked = std::mem::take(&mut self.to_complete);
        let (pool, myself) = (self.args.pool.clone(), myself.clone());
        tokio::spawn(async move {
            let completed = async {
                let client = pool.get().await?;
                batches::complete_ended(&client, &asked).await
            };
            let completed = completed.await;
            let _ = myself.send_message(SinglesMsg::Completed(asked, completed));
        });
    }

    fn completed(
        &mut self,
        myself: &ActorRef<SinglesMsg>,
        asked: Vec<BatchId>,
        completed: Result<Vec<(BatchId, BatchState)>, StoreError>,
    ) {
        self.completing = false;
        let completed = match completed {
            Ok(completed) => completed,
            Err(error) => {
                tracing::warn!(%error, batches = asked.len(), "batches of single payouts could not be completed; retrying");
                self.to_complete.extend(asked);
                myself.send_after(COMPLETE_RETRY, || SinglesMsg::Complete);
                return;
            }
        };
        let ended: HashMap<BatchId, BatchState> = completed.into_iter().collect();
        for batch in asked {
            match ended.get(&batch) {
                Some(BatchState::CompletedWithFailures) => {
                    BatchOutcome::CompletedWithFailures.count();
                }
                Some(_) => BatchOutcome::Completed.count(),
                // Not every line is final in the database (or another hand ended it): the
                // sweep's batch actor recounts and completes it.
                None => {
                    tracing::info!(batch_id = %batch, "batch of single payouts left to the sweep")
                }
            }
            self.paying.remove(&batch);
            self.args.owned.let_go(batch);
        }
    }

    /// Reads every line in flight of the batches being paid again, in a task.
    fn resync(&self, myself: &ActorRef<SinglesMsg>) {
        let batches: Vec<(BatchId, MerchantId)> = self
            .paying
            .iter()
            .map(|(batch, paying)| (*batch, paying.merchant))
            .collect();
        let (pool, myself) = (self.args.pool.clone(), myself.clone());
        tokio::spawn(async move {
            let lines = async {
                let client = pool.get().await?;
                let mut lines = Vec::with_capacity(batches.len());
                for (batch, merchant) in batches {
                    let in_flight = payout_lines::in_flight(&client, merchant, batch).await?;
                    lines.push((batch, in_flight));
                }
                Ok(lines)
            };
            let _ = myself.send_message(SinglesMsg::Resynced(lines.await));
        });
    }

    /// Every line still `sending` is asked about again; the journal tells the runner once
    /// per line that it finished, whichever copy of it got there.
    fn resynced(&mut self, myself: &ActorRef<SinglesMsg>, lines: Vec<(BatchId, Vec<ClaimedLine>)>) {
        for (batch, lines) in lines {
            if let Some(paying) = self.paying.get_mut(&batch) {
                paying.outstanding = 0;
            }
            if lines.is_empty() {
                self.to_complete.push(batch);
            }
            self.dispatch(myself, batch, lines, Call::Query);
        }
    }
}
