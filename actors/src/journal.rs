//! The journal writer: group-commits the outcomes of lines (state changes and ledger
//! postings together), and marks `submitted` the lines the operator has had for a while. It flushes as soon as it is idle, so a lone payout is written at
//! once, and everything that arrives during a flush goes into the next one, so flushes grow
//! with the load: never one round trip per line, never a fixed delay.
//!
//! Parent: the supervisor. Children: none; flushes run in tasks and report back.

mod flush;
mod telemetry;

use std::collections::HashMap;
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_engine::ids::{BatchId, MerchantId, PayoutId};
use payrail_engine::route::RouteName;
use ractor::{Actor, ActorProcessingErr, ActorRef, DerivedActorRef};

use crate::job::{Job, LinesFinished};
use flush::MerchantFlush;
use telemetry::JournalMetrics;

/// How long a flush that failed waits before its outcomes are written again.
const RETRY_DELAY_MS: u64 = 200;

/// How a line ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finish {
    Succeeded {
        transaction_id: Option<String>,
    },
    Failed {
        code: String,
    },
    /// Uncertain past its deadline: a person decides; the funds stay reserved.
    RequiresReview,
}

/// One line's outcome, to be written.
#[derive(Debug)]
pub struct Outcome {
    pub job: Job,
    pub finish: Finish,
    /// Ended on an authenticated callback's word: a status query is to verify it.
    pub by_callback: bool,
}

#[derive(Debug)]
pub enum JournalMsg {
    Record(Box<Outcome>),
    /// The operator has this line and has not finished it: write it `submitted`.
    Submitted(MerchantId, PayoutId),
    Flushed(Vec<MerchantFlush>),
    /// A failed flush's delay is over.
    Retry,
}

/// What the journal writer starts with.
#[derive(Debug)]
pub struct JournalArgs {
    pub pool: Pool,
    /// The configured routes: their payout series are served at 0 from the start.
    pub routes: Vec<RouteName>,
}

#[derive(Debug)]
pub struct JournalState {
    pool: Pool,
    waiting: Vec<Outcome>,
    submitted: Vec<(MerchantId, PayoutId)>,
    flushing: bool,
    metrics: JournalMetrics,
}

/// The journal writer actor (dependencies only; its state is `JournalState`).
#[derive(Debug)]
pub struct JournalWriter;

impl Actor for JournalWriter {
    type Msg = JournalMsg;
    type State = JournalState;
    type Arguments = JournalArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<JournalMsg>,
        JournalArgs { pool, routes }: JournalArgs,
    ) -> Result<JournalState, ActorProcessingErr> {
        Ok(JournalState {
            pool,
            waiting: Vec::new(),
            submitted: Vec::new(),
            flushing: false,
            metrics: JournalMetrics::new(&routes),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<JournalMsg>,
        message: JournalMsg,
        state: &mut JournalState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            JournalMsg::Record(outcome) => state.waiting.push(*outcome),
            JournalMsg::Submitted(merchant, payout) => state.submitted.push((merchant, payout)),
            JournalMsg::Flushed(results) => {
                state.flushing = false;
                written(&myself, state, results);
            }
            JournalMsg::Retry => state.flushing = false,
        }
        let has_work = !state.waiting.is_empty() || !state.submitted.is_empty();
        if !state.flushing && has_work {
            start_flush(&myself, state);
        }
        state.metrics.waiting(state.waiting.len());
        Ok(())
    }
}

fn start_flush(myself: &ActorRef<JournalMsg>, state: &mut JournalState) {
    state.flushing = true;
    let outcomes = std::mem::take(&mut state.waiting);
    let submitted = std::mem::take(&mut state.submitted);
    let (pool, myself) = (state.pool.clone(), myself.clone());
    let (rows, duration) = state.metrics.flush_handles();
    tokio::spawn(async move {
        let (count, started) = (outcomes.len(), tokio::time::Instant::now());
        let results = flush::flush(&pool, outcomes, submitted).await;
        telemetry::flushed(&rows, &duration, count, started.elapsed());
        let _ = myself.send_message(JournalMsg::Flushed(results));
    });
}

/// Tells each batch how many of its lines are now final, and keeps what failed for later.
fn written(myself: &ActorRef<JournalMsg>, state: &mut JournalState, results: Vec<MerchantFlush>) {
    let mut finished: HashMap<BatchId, (DerivedActorRef<LinesFinished>, u32)> = HashMap::new();
    let mut retry = false;
    for result in results {
        match result {
            MerchantFlush::Written { moved } => {
                for outcome in moved {
                    state.metrics.ended(&outcome);
                    let entry = finished
                        .entry(outcome.job.batch)
                        .or_insert((outcome.job.reports_to.clone(), 0));
                    entry.1 += 1;
                }
            }
            MerchantFlush::Failed {
                error,
                outcomes,
                submitted,
            } => {
                tracing::error!(%error, lines = outcomes.len(), "journal flush failed; retrying");
                state.waiting.extend(outcomes);
                state.submitted.extend(submitted);
                retry = true;
            }
        }
    }
    for (batch, (actor, lines)) in finished {
        // A batch actor that stopped meanwhile recounts from the database when it restarts.
        let _ = actor.send_message(LinesFinished { batch, lines });
    }
    if retry {
        // Hold the next flush back until the delay is over, so an outage is not hammered.
        state.flushing = true;
        myself.send_after(Duration::from_millis(RETRY_DELAY_MS), || JournalMsg::Retry);
    }
}
