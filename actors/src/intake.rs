//! The intake: single payouts written by group commit. Requests that arrive while a round
//! is being written wait for the next one, which takes them all (up to `ROUND_MAX`), split
//! into groups of one merchant and key, each written in one transaction by
//! `app::singles::write_group`; every request is answered, and each group's funded payouts
//! are handed on to be paid (by the singles runner). Like the journal, a lone payout is written at once and rounds grow with
//! the load.
//!
//! Parent: the supervisor. Children: none; rounds run in tasks and report back.

use deadpool_postgres::Pool;
use futures_util::future::join_all;
use payrail_engine::app::AppError;
use payrail_engine::app::singles::{self, SinglePayout, Written};
use payrail_engine::ids::PayoutId;
use ractor::{Actor, ActorProcessingErr, ActorRef, DerivedActorRef, RpcReplyPort};

use crate::singles::RunSingles;

/// The most payouts one round takes; the rest wait for the next.
const ROUND_MAX: usize = 1_000;

#[derive(Debug)]
pub enum IntakeMsg {
    /// Write this payout; answer with it as stored.
    Write(Box<SinglePayout>, RpcReplyPort<Result<Written, AppError>>),
    /// A round is written.
    Written,
}

#[derive(Debug)]
pub struct IntakeArgs {
    pub pool: Pool,
    /// Where written groups' funded payouts go.
    pub run: DerivedActorRef<RunSingles>,
}

type Waiting = (SinglePayout, RpcReplyPort<Result<Written, AppError>>);

#[derive(Debug)]
pub struct IntakeState {
    args: IntakeArgs,
    waiting: Vec<Waiting>,
    writing: bool,
}

/// The intake actor (its state is `IntakeState`).
#[derive(Debug)]
pub struct Intake;

impl Actor for Intake {
    type Msg = IntakeMsg;
    type State = IntakeState;
    type Arguments = IntakeArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<IntakeMsg>,
        args: IntakeArgs,
    ) -> Result<IntakeState, ActorProcessingErr> {
        Ok(IntakeState {
            args,
            waiting: Vec::new(),
            writing: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<IntakeMsg>,
        message: IntakeMsg,
        state: &mut IntakeState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            IntakeMsg::Write(single, reply) => state.waiting.push((*single, reply)),
            IntakeMsg::Written => state.writing = false,
        }
        if !state.writing && !state.waiting.is_empty() {
            state.write_round(&myself);
        }
        Ok(())
    }
}

impl IntakeState {
    /// Writes what waits (up to a round's worth) in a task, every group at once.
    fn write_round(&mut self, myself: &ActorRef<IntakeMsg>) {
        self.writing = true;
        let take = self.waiting.len().min(ROUND_MAX);
        let round: Vec<Waiting> = self.waiting.drain(..take).collect();
        let groups = singles::groups(round, |(single, _)| (single.merchant, single.created_by));
        let (pool, run, myself) = (
            self.args.pool.clone(),
            self.args.run.clone(),
            myself.clone(),
        );
        tokio::spawn(async move {
            join_all(
                groups
                    .into_iter()
                    .map(|group| write_group(&pool, &run, group)),
            )
            .await;
            let _ = myself.send_message(IntakeMsg::Written);
        });
    }
}

/// Writes one group, answers each of its requests and hands its batch on.
async fn write_group(pool: &Pool, run: &DerivedActorRef<RunSingles>, group: Vec<Waiting>) {
    let (singles, replies): (Vec<SinglePayout>, Vec<_>) = group.into_iter().unzip();
    match singles::write_group(pool, &singles).await {
        Ok((batch, written)) => {
            let funded: Vec<PayoutId> = written
                .iter()
                .filter_map(|written| match written {
                    Written::Payout(payout) if payout.batch == batch => Some(payout.id),
                    _ => None,
                })
                .collect();
            if let Some(first) = singles.first()
                && !funded.is_empty()
            {
                let group = RunSingles {
                    merchant: first.merchant,
                    batch,
                    currency: first.currency,
                    payouts: funded,
                };
                if run.send_message(group).is_err() {
                    // The engine's sweep runs it within seconds anyway.
                    tracing::warn!(batch_id = %batch, "the engine did not take the payouts at once");
                }
            }
            for (reply, written) in replies.into_iter().zip(written) {
                let _ = reply.send(Ok(written));
            }
        }
        Err(error) => {
            let reason = error.to_string();
            for reply in replies {
                let _ = reply.send(Err(AppError::internal(reason.clone())));
            }
        }
    }
}
