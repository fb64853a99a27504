//! The journal writer: group-commits the outcomes of lines (state changes and ledger
//! postings together), and marks `submitted` the lines the operator has had for a while.
//! It has two lanes that flush independently: single payouts on the main pool, and payroll
//! lines on bulk work's pool, whose server processes run at a lower priority, so a payroll
//! settling at full speed neither holds single payouts back on the CPU nor delays their
//! flushes. Each lane flushes as soon as it is idle, so a lone payout is written at once,
//! and everything that arrives during a flush goes into the lane's next one, so flushes
//! grow with the load: never one round trip per line, never a fixed delay.
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

/// One of the journal's two lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Single payouts, on the main pool.
    Singles,
    /// Payroll lines, on bulk work's pool.
    Payrolls,
}

impl Lane {
    /// The lane of a single payout (`true`) or a payroll line.
    pub fn of(single: bool) -> Lane {
        if single {
            Lane::Singles
        } else {
            Lane::Payrolls
        }
    }
}

#[derive(Debug)]
pub enum JournalMsg {
    Record(Box<Outcome>),
    /// The operator has this line and has not finished it: write it `submitted`.
    Submitted(Lane, MerchantId, PayoutId),
    Flushed(Lane, Vec<MerchantFlush>),
    /// A lane's failed flush's delay is over.
    Retry(Lane),
}

/// What the journal writer starts with.
#[derive(Debug)]
pub struct JournalArgs {
    /// Single payouts' pool (the main one).
    pub pool: Pool,
    /// Payroll lines' pool (bulk work's).
    pub bulk_pool: Pool,
    /// The configured routes: their payout series are served at 0 from the start.
    pub routes: Vec<RouteName>,
}

/// What waits in one lane, and whether its flush is under way.
#[derive(Debug)]
struct LaneState {
    pool: Pool,
    waiting: Vec<Outcome>,
    submitted: Vec<(MerchantId, PayoutId)>,
    flushing: bool,
}

impl LaneState {
    fn new(pool: Pool) -> LaneState {
        LaneState {
            pool,
            waiting: Vec::new(),
            submitted: Vec::new(),
            flushing: false,
        }
    }

    fn has_work(&self) -> bool {
        !self.waiting.is_empty() || !self.submitted.is_empty()
    }
}

#[derive(Debug)]
pub struct JournalState {
    singles: LaneState,
    payrolls: LaneState,
    metrics: JournalMetrics,
}

impl JournalState {
    fn lane(&mut self, lane: Lane) -> &mut LaneState {
        match lane {
            Lane::Singles => &mut self.singles,
            Lane::Payrolls => &mut self.payrolls,
        }
    }
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
        args: JournalArgs,
    ) -> Result<JournalState, ActorProcessingErr> {
        Ok(JournalState {
            singles: LaneState::new(args.pool),
            payrolls: LaneState::new(args.bulk_pool),
            metrics: JournalMetrics::new(&args.routes),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<JournalMsg>,
        message: JournalMsg,
        state: &mut JournalState,
    ) -> Result<(), ActorProcessingErr> {
        let lane = match message {
            JournalMsg::Record(outcome) => {
                let lane = Lane::of(outcome.job.single);
                state.lane(lane).waiting.push(*outcome);
                lane
            }
            JournalMsg::Submitted(lane, merchant, payout) => {
                state.lane(lane).submitted.push((merchant, payout));
                lane
            }
            JournalMsg::Flushed(lane, results) => {
                state.lane(lane).flushing = false;
                written(&myself, state, lane, results);
                lane
            }
            JournalMsg::Retry(lane) => {
                state.lane(lane).flushing = false;
                lane
            }
        };
        if !state.lane(lane).flushing && state.lane(lane).has_work() {
            start_flush(&myself, state, lane);
        }
        let waiting = state.singles.waiting.len() + state.payrolls.waiting.len();
        state.metrics.waiting(waiting);
        Ok(())
    }
}

fn start_flush(myself: &ActorRef<JournalMsg>, state: &mut JournalState, lane: Lane) {
    let (rows, duration) = state.metrics.flush_handles();
    let lane_state = state.lane(lane);
    lane_state.flushing = true;
    let outcomes = std::mem::take(&mut lane_state.waiting);
    let submitted = std::mem::take(&mut lane_state.submitted);
    let (pool, myself) = (lane_state.pool.clone(), myself.clone());
    tokio::spawn(async move {
        let (count, started) = (outcomes.len(), tokio::time::Instant::now());
        let results = flush::flush(&pool, outcomes, submitted).await;
        telemetry::flushed(&rows, &duration, count, started.elapsed());
        let _ = myself.send_message(JournalMsg::Flushed(lane, results));
    });
}

/// Tells each batch how many of its lines are now final, and keeps what failed for later.
fn written(
    myself: &ActorRef<JournalMsg>,
    state: &mut JournalState,
    lane: Lane,
    results: Vec<MerchantFlush>,
) {
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
                state.lane(lane).waiting.extend(outcomes);
                state.lane(lane).submitted.extend(submitted);
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
        state.lane(lane).flushing = true;
        myself.send_after(Duration::from_millis(RETRY_DELAY_MS), move || {
            JournalMsg::Retry(lane)
        });
    }
}
