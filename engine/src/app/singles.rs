//! Single payouts written by group commit: the payouts one merchant's key asked for at the
//! same moment are written in one transaction (the payouts, their answers under their
//! Idempotency-Keys, one reservation). Whoever collects them into groups (the running
//! engine's intake, or a group of one in a process without an engine) writes each group
//! here. When the balance is short the group is fitted to it and written again; another
//! node spending the balance in between is retried a few times, after which the whole
//! group is written unfunded.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::{Pool, Transaction};

use super::AppError;
use super::idempotency::{self, IdempotencyKey, NewAnswer, Render};
use crate::ids::{ApiKeyId, BatchId, MerchantId, NodeId};
use crate::money::Currency;
use crate::store::payout_lines::NewPayoutLine;
use crate::store::payouts::Payout;
use crate::store::single_payouts::{Funding, Group};

/// How many times a group is fitted again when another node spent the balance between
/// the attempt that came up short and the next.
const MAX_REFITS: usize = 4;

/// A single payout, checked, with the Idempotency-Key its request came with.
#[derive(Debug)]
pub struct SinglePayout {
    pub merchant: MerchantId,
    pub currency: Currency,
    pub created_by: ApiKeyId,
    pub line: NewPayoutLine,
    /// Its Idempotency-Key, stored with its answer when it is written.
    pub key: IdempotencyKey,
    pub request_sha256: [u8; 32],
    /// The answer stored under the key, from the payout as written.
    pub render: Render<Payout>,
}

/// Splits waiting payouts into groups of one merchant and key, in arrival order.
pub fn groups<T>(waiting: Vec<T>, key: impl Fn(&T) -> (MerchantId, ApiKeyId)) -> Vec<Vec<T>> {
    let mut order = Vec::new();
    let mut groups: HashMap<(MerchantId, ApiKeyId), Vec<T>> = HashMap::new();
    for item in waiting {
        let group = key(&item);
        if !groups.contains_key(&group) {
            order.push(group);
        }
        groups.entry(group).or_default().push(item);
    }
    order
        .into_iter()
        .filter_map(|group| groups.remove(&group))
        .collect()
}

/// What became of one single payout of a group.
#[derive(Debug)]
pub enum Written {
    /// Written as stored, with its answer under its key.
    Payout(Box<Payout>),
    /// Its Idempotency-Key is held by another request: nothing was written for it.
    KeyHeld,
}

/// Writes one group (all of one merchant and key) and commits; returns the batch that
/// carries the funded payouts and what became of each single, in the group's order. The
/// keys are stored with their answers in the same transaction; when some turn out to be
/// held already, everything is rolled back and the others are written again. The batches
/// belong to `node`, whose singles runner pays them; with none, to the first node whose
/// sweep finds them.
pub async fn write_group(
    pool: &Pool,
    node: Option<NodeId>,
    singles: &[SinglePayout],
) -> Result<(BatchId, Vec<Written>), AppError> {
    let mut held = repeated_keys(singles);
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    loop {
        let free: Vec<&SinglePayout> = singles
            .iter()
            .zip(&held)
            .filter(|(_, held)| !**held)
            .map(|(single, _)| single)
            .collect();
        let Some(first) = free.first() else {
            tx.commit().await?;
            let written = singles.iter().map(|_| Written::KeyHeld).collect();
            return Ok((BatchId::new(), written));
        };
        let lines = free.iter().map(|single| single.line.clone()).collect();
        let group = Group::new(
            node,
            first.merchant,
            first.currency,
            first.created_by,
            lines,
        )
        .map_err(AppError::internal)?;
        match write_funded(&tx, &group, &free).await? {
            Attempt::Written(payouts) => {
                tx.commit().await?;
                let mut payouts = payouts.into_iter();
                let mut written = Vec::with_capacity(singles.len());
                for held in held {
                    written.push(if held {
                        Written::KeyHeld
                    } else {
                        let payout = payouts.next();
                        Written::Payout(Box::new(
                            payout.ok_or_else(|| AppError::internal("a payout was not written"))?,
                        ))
                    });
                }
                return Ok((group.batch(), written));
            }
            Attempt::KeysHeld(now_held) => {
                let mut now_held = now_held.into_iter();
                for held in held.iter_mut().filter(|held| !**held) {
                    *held = now_held.next().unwrap_or(false);
                }
            }
        }
    }
}

/// What one attempt at a group's payouts came to.
enum Attempt {
    /// Written and funded as far as the balance goes, in order.
    Written(Vec<Payout>),
    /// Rolled back: these payouts' keys (`true`) are held by other requests.
    KeysHeld(Vec<bool>),
}

/// Writes the group's payouts and their answers, then reserves their funds; when the
/// balance is short the group is fitted to it and written again.
async fn write_funded(
    tx: &Transaction<'_>,
    group: &Group,
    singles: &[&SinglePayout],
) -> Result<Attempt, AppError> {
    let mut funded = group.all_funded();
    let mut refits = 0;
    loop {
        let payouts = group.write(tx, &funded).await?;
        let answers = singles
            .iter()
            .zip(&payouts)
            .map(|(single, payout)| (single.render)(payout))
            .collect::<Result<Vec<_>, AppError>>()?;
        let new: Vec<NewAnswer<'_>> = singles
            .iter()
            .zip(&answers)
            .map(|(single, answer)| NewAnswer {
                merchant: single.merchant,
                key: &single.key,
                request_sha256: &single.request_sha256,
                answer,
            })
            .collect();
        let held = idempotency::store_answers(tx, &new).await?;
        if held.contains(&true) {
            group.undo(tx).await?;
            return Ok(Attempt::KeysHeld(held));
        }
        match group.fund(tx, &funded).await? {
            Funding::Reserved => return Ok(Attempt::Written(payouts)),
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

/// `true` for each single whose key an earlier one of the group carries.
fn repeated_keys(singles: &[SinglePayout]) -> Vec<bool> {
    let mut seen = HashSet::new();
    singles
        .iter()
        .map(|single| !seen.insert((single.merchant, single.key.as_str())))
        .collect()
}
