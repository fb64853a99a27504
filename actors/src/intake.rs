//! The intake: single payouts written by group commit, in groups of one merchant and key.
//! Each group is written in one transaction by `app::singles::write_group`; requests of a
//! merchant and key that arrive while its group is being written wait for its next group,
//! which takes them all (up to `GROUP_MAX`). Groups of different merchants and keys are
//! written side by side, so a merchant whose balance is busy (a payroll's settlement holds
//! it) delays only its own payouts. Every request is answered, and each group's funded
//! payouts are handed on to be paid (by the singles runner). Like the journal, a lone
//! payout is written at once and groups grow with the load.
//!
//! Parent: the supervisor. Children: none; groups are written in tasks that report back.

use std::collections::HashSet;

use deadpool_postgres::Pool;
use payrail_engine::app::AppError;
use payrail_engine::app::singles::{self, SinglePayout, Written};
use payrail_engine::ids::{ApiKeyId, MerchantId, NodeId, PayoutId};
use ractor::{Actor, ActorProcessingErr, ActorRef, DerivedActorRef, RpcReplyPort};

use crate::singles::RunSingles;

/// The most payouts one group takes; the rest wait for the next.
const GROUP_MAX: usize = 1_000;

/// Whose payouts a group holds: one merchant's, sent with one key.
type GroupKey = (MerchantId, ApiKeyId);

#[derive(Debug)]
pub enum IntakeMsg {
    /// Write this payout; answer with it as stored.
    Write(Box<SinglePayout>, RpcReplyPort<Result<Written, AppError>>),
    /// A group is written: that merchant and key's next group may start.
    Written(GroupKey),
}

#[derive(Debug)]
pub struct IntakeArgs {
    pub pool: Pool,
    /// Where written groups' funded payouts go.
    pub run: DerivedActorRef<RunSingles>,
    /// This node: the batches it writes are its own, for its singles runner to pay.
    pub node: NodeId,
}

type Waiting = (SinglePayout, RpcReplyPort<Result<Written, AppError>>);

#[derive(Debug)]
pub struct IntakeState {
    args: IntakeArgs,
    waiting: Vec<Waiting>,
    /// The merchants and keys whose group is being written.
    writing: HashSet<GroupKey>,
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
            writing: HashSet::new(),
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
            IntakeMsg::Written(key) => {
                state.writing.remove(&key);
            }
        }
        state.write_ready(&myself);
        Ok(())
    }
}

fn group_key((single, _): &Waiting) -> GroupKey {
    (single.merchant, single.created_by)
}

impl IntakeState {
    /// Starts a group, each in its own task, for every merchant and key with payouts
    /// waiting and no group being written.
    fn write_ready(&mut self, myself: &ActorRef<IntakeMsg>) {
        if self.waiting.is_empty() {
            return;
        }
        let (ready, held): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|waiting| !self.writing.contains(&group_key(waiting)));
        self.waiting = held;
        for mut group in singles::groups(ready, group_key) {
            if group.len() > GROUP_MAX {
                self.waiting.extend(group.split_off(GROUP_MAX));
            }
            let key = group_key(&group[0]);
            self.writing.insert(key);
            let (pool, run, node, myself) = (
                self.args.pool.clone(),
                self.args.run.clone(),
                self.args.node,
                myself.clone(),
            );
            tokio::spawn(async move {
                write_group(&pool, &run, node, group).await;
                let _ = myself.send_message(IntakeMsg::Written(key));
            });
        }
    }
}

/// Writes one group, answers each of its requests and hands its batch on.
async fn write_group(
    pool: &Pool,
    run: &DerivedActorRef<RunSingles>,
    node: NodeId,
    group: Vec<Waiting>,
) {
    let (singles, replies): (Vec<SinglePayout>, Vec<_>) = group.into_iter().unzip();
    match singles::write_group(pool, Some(node), &singles).await {
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
