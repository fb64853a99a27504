//! Group commit for single payouts. Each request hands its checked payout to one writer
//! task per node and waits for its answer; the writer takes every payout waiting, splits
//! them by merchant and key, and writes each group in one transaction (payouts, their
//! answers under their Idempotency-Keys, one reservation), then starts each group's batch.
//! Under load the groups grow by themselves: what arrives while one round is written goes
//! in the next. A merchant's balance lock is then taken once per group, not per payout.

use std::collections::HashMap;

use deadpool_postgres::Pool;
use futures_util::future::join_all;
use payrail_actors::BatchRunner;
use payrail_engine::ids::{ApiKeyId, MerchantId};
use payrail_engine::money::Currency;
use payrail_engine::store::payout_lines::NewPayoutLine;
use payrail_engine::store::payouts::Payout;
use payrail_engine::store::single_payouts::{Funding, Group};
use tokio::sync::{mpsc, oneshot};

use crate::idempotency::{self, Answer, Claim};
use crate::problem::ApiError;

/// The most payouts one round takes; the rest wait for the next.
const MAX_ROUND: usize = 1_000;

/// How many times a group is written again when another node spent the balance between
/// the attempt that came up short and the next; after that, every payout of the group is
/// written as unfunded.
const MAX_REFITS: usize = 4;

/// A single payout, checked, whose Idempotency-Key its request holds.
#[derive(Debug)]
pub struct SinglePayout {
    pub merchant: MerchantId,
    pub currency: Currency,
    pub created_by: ApiKeyId,
    pub line: NewPayoutLine,
    pub claim: Claim,
    pub request_sha256: [u8; 32],
}

#[derive(Debug)]
struct Request {
    payout: SinglePayout,
    reply: oneshot::Sender<Result<Payout, ApiError>>,
}

/// The handle requests write through. Cheap to clone; the task ends with the last handle.
#[derive(Clone, Debug)]
pub struct GroupWriter {
    requests: mpsc::UnboundedSender<Request>,
}

impl GroupWriter {
    /// Starts the writer task; the funded payouts' batches go to `runner` (without one,
    /// the engine's sweep finds them).
    pub fn start(pool: Pool, runner: Option<BatchRunner>) -> GroupWriter {
        let (requests, received) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, runner, received));
        GroupWriter { requests }
    }

    /// Writes the payout, funded or failed for want of funds, with its answer; returns it
    /// as stored once committed.
    pub async fn write(&self, payout: SinglePayout) -> Result<Payout, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { payout, reply })
            .map_err(|_| ApiError::internal("the payout writer has stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the payout writer dropped the request"))?
    }
}

async fn run(
    pool: Pool,
    runner: Option<BatchRunner>,
    mut received: mpsc::UnboundedReceiver<Request>,
) {
    let mut round = Vec::new();
    while received.recv_many(&mut round, MAX_ROUND).await > 0 {
        let mut groups: HashMap<(MerchantId, ApiKeyId), Vec<Request>> = HashMap::new();
        for request in round.drain(..) {
            let key = (request.payout.merchant, request.payout.created_by);
            groups.entry(key).or_default().push(request);
        }
        join_all(
            groups
                .into_values()
                .map(|group| write_group(&pool, runner.as_ref(), group)),
        )
        .await;
    }
}

/// Writes one merchant's and key's payouts, answers each request and starts their batch.
async fn write_group(pool: &Pool, runner: Option<&BatchRunner>, requests: Vec<Request>) {
    let written = async {
        let first = &requests
            .first()
            .ok_or_else(|| ApiError::internal("an empty group"))?
            .payout;
        let lines = requests.iter().map(|r| r.payout.line.clone()).collect();
        let group = Group::new(first.merchant, first.currency, first.created_by, lines)
            .map_err(ApiError::internal)?;
        let payouts = commit(pool, &group, &requests).await?;
        Ok::<_, ApiError>((first.merchant, group, payouts))
    };
    match written.await {
        Ok((merchant, group, payouts)) => {
            if payouts.iter().any(|p| p.batch == group.batch())
                && let Some(runner) = runner
                && let Err(error) = runner.run_batch(merchant, group.batch())
            {
                // The engine's sweep runs it within a second anyway.
                tracing::warn!(%error, batch_id = %group.batch(), "the engine did not take the payouts at once");
            }
            for (request, payout) in requests.into_iter().zip(payouts) {
                let _ = request.reply.send(Ok(payout));
            }
        }
        Err(error) => {
            let reason = error.to_string();
            for request in requests {
                let _ = request.reply.send(Err(ApiError::internal(reason.clone())));
            }
        }
    }
}

/// Writes the group and its answers, fits it to the balance until funded, and commits.
async fn commit(pool: &Pool, group: &Group, requests: &[Request]) -> Result<Vec<Payout>, ApiError> {
    let mut client = pool.get().await.map_err(ApiError::internal)?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let mut funded = group.all_funded();
    let mut refits = 0;
    loop {
        let payouts = group
            .write(&tx, &funded)
            .await
            .map_err(ApiError::internal)?;
        let answers = requests
            .iter()
            .zip(&payouts)
            .map(|(request, payout)| {
                let (status, body) = super::answer(payout)?;
                Ok(Answer {
                    claim: &request.payout.claim,
                    request_sha256: &request.payout.request_sha256,
                    status,
                    body,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        idempotency::finish_all(&tx, &answers).await?;
        match group.fund(&tx, &funded).await.map_err(ApiError::internal)? {
            Funding::Reserved => {
                tx.commit().await.map_err(ApiError::internal)?;
                return Ok(payouts);
            }
            // Funding nothing always succeeds, so this ends.
            Funding::Short { available } => {
                refits += 1;
                funded = if refits <= MAX_REFITS {
                    group.fit(available)
                } else {
                    vec![false; funded.len()]
                };
            }
        }
    }
}
