//! Single payouts written by group commit: the payouts one merchant's key asked for at the
//! same moment are written in one transaction (the payouts, their answers under their
//! Idempotency-Keys, one reservation). Whoever collects them into groups (the running
//! engine's intake, or a group of one in a process without an engine) writes each group
//! here. When the balance is short the group is fitted to it and written again; another
//! node spending the balance in between is retried a few times, after which the whole
//! group is written unfunded.

use std::collections::HashMap;

use deadpool_postgres::Pool;

use super::AppError;
use super::idempotency::{self, Claim, Render};
use crate::ids::{ApiKeyId, BatchId, MerchantId};
use crate::money::Currency;
use crate::store::payout_lines::NewPayoutLine;
use crate::store::payouts::Payout;
use crate::store::single_payouts::{Funding, Group};

/// How many times a group is fitted again when another node spent the balance between
/// the attempt that came up short and the next.
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

/// Writes one group (all of one merchant and key) and commits; returns the batch that
/// carries the funded payouts and every payout as stored, in the group's order.
pub async fn write_group(
    pool: &Pool,
    singles: &[SinglePayout],
) -> Result<(BatchId, Vec<Payout>), AppError> {
    let first = singles
        .first()
        .ok_or_else(|| AppError::internal("an empty group"))?;
    let lines = singles.iter().map(|s| s.line.clone()).collect();
    let group = Group::new(first.merchant, first.currency, first.created_by, lines)
        .map_err(AppError::internal)?;
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let mut funded = group.all_funded();
    let mut refits = 0;
    loop {
        let payouts = group.write(&tx, &funded).await?;
        let answers = singles
            .iter()
            .zip(&payouts)
            .map(|(single, payout)| (single.render)(payout))
            .collect::<Result<Vec<_>, AppError>>()?;
        let stored: Vec<_> = singles
            .iter()
            .zip(&answers)
            .map(|(single, answer)| (&single.claim, &single.request_sha256, answer))
            .collect();
        idempotency::finish_all(&tx, &stored).await?;
        match group.fund(&tx, &funded).await? {
            Funding::Reserved => {
                tx.commit().await?;
                return Ok((group.batch(), payouts));
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
