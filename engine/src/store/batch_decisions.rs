//! What people decide about a batch: refusing it as `invalid` with its report, approving
//! it (four eyes: never by the key that created it), and cancelling it, which stops the
//! lines not yet sent and returns their reserved funds in the same transaction; and
//! cancelling one single payout not yet sent, the same way.

use deadpool_postgres::Transaction;

use super::StoreError;
use super::batches::{self, Batch};
use crate::ids::{ApiKeyId, BatchId, MerchantId, PayoutId};
use crate::ledger::{self, Release};
use crate::money::Amount;
use crate::state::batch::{BatchEvent, BatchState};
use crate::state::payout::{PayoutEvent, PayoutState};

const LOCK: &str =
    "SELECT state, created_by FROM batches WHERE id = $1 AND merchant_id = $2 FOR UPDATE";

async fn lock(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<(BatchState, Option<ApiKeyId>), StoreError> {
    let row = tx
        .query_opt(LOCK, &[&batch, &merchant])
        .await?
        .ok_or(StoreError::NotFound { what: "batch" })?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

const RECORD_INVALID: &str = "
    UPDATE batches SET line_count = $3, error_count = $4, total_amount = 0, total_fee = 0
     WHERE id = $1 AND merchant_id = $2";

/// Refuses a batch being validated: `invalid`, with how many lines it had and how many
/// were bad (the report itself is written by `line_errors::ErrorWriter`). Nothing is
/// reserved or sent.
pub async fn invalidate(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
    line_count: i32,
    error_count: i32,
) -> Result<(), StoreError> {
    batches::transition(
        tx,
        merchant,
        batch,
        BatchState::Validating,
        BatchEvent::Invalidate,
    )
    .await?;
    tx.execute(
        RECORD_INVALID,
        &[&batch, &merchant, &line_count, &error_count],
    )
    .await?;
    Ok(())
}

/// Why a batch could not be approved.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("the key that created a batch may not approve it; a second person must")]
    OwnBatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Approves a batch awaiting approval (`scheduled` next) and records who did.
pub async fn approve(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
    by: ApiKeyId,
) -> Result<Batch, ApprovalError> {
    let (state, created_by) = lock(tx, merchant, batch).await?;
    if created_by == Some(by) {
        return Err(ApprovalError::OwnBatch);
    }
    if state != BatchState::AwaitingApproval {
        return Err(StoreError::StaleState {
            what: "batch",
            expected: BatchState::AwaitingApproval.as_str(),
        }
        .into());
    }
    batches::transition(tx, merchant, batch, state, BatchEvent::Approve).await?;
    batches::record_approval(tx, merchant, batch, by).await?;
    Ok(batches::get(tx, merchant, batch).await?)
}

// One row of two arrays rather than a row per line: a 200,000-line batch comes back as
// two values.
const CANCEL_UNSENT: &str = "
    WITH cancelled AS (
        UPDATE payout_lines SET state = 'cancelled', updated_at = now()
         WHERE batch_id = $1 AND merchant_id = $2 AND state IN ('validated', 'queued')
        RETURNING id, amount + fee AS amount_with_fee)
    SELECT coalesce(array_agg(id), '{}'), coalesce(array_agg(amount_with_fee), '{}')
      FROM cancelled";

const RESERVED: &str = "
    SELECT 1 FROM journal_entries WHERE batch_id = $1 AND merchant_id = $2 AND kind = 'reservation'";

/// What cancelling did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancelled {
    pub batch: Batch,
    /// Lines stopped before they were sent.
    pub lines: usize,
    /// Funds returned to the available balance (amounts and fees of those lines).
    pub released: Amount,
}

/// Cancels a batch not yet finished: lines not yet sent are cancelled and, when the batch
/// had reserved its total, their amounts and fees are released; lines already sent still
/// resolve. Records who cancelled it.
pub async fn cancel(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
    by: ApiKeyId,
) -> Result<Cancelled, StoreError> {
    let (state, _) = lock(tx, merchant, batch).await?;
    state.apply(&BatchEvent::Cancel)?;
    let row = tx.query_one(CANCEL_UNSENT, &[&batch, &merchant]).await?;
    let (payouts, amounts): (Vec<PayoutId>, Vec<Amount>) = (row.try_get(0)?, row.try_get(1)?);
    let mut releases = Vec::with_capacity(payouts.len());
    let mut released = Amount::ZERO;
    for (payout, amount_with_fee) in payouts.into_iter().zip(amounts) {
        released = released
            .checked_add(amount_with_fee)
            .ok_or_else(|| StoreError::Corrupt("the released total overflows".into()))?;
        releases.push(Release {
            payout,
            amount_with_fee,
        });
    }
    if tx
        .query_opt(RESERVED, &[&batch, &merchant])
        .await?
        .is_some()
    {
        ledger::release(tx, merchant, &releases).await?;
    } else {
        released = Amount::ZERO;
    }
    batches::transition(tx, merchant, batch, state, BatchEvent::Cancel).await?;
    batches::record_cancellation(tx, merchant, batch, by).await?;
    Ok(Cancelled {
        batch: batches::get(tx, merchant, batch).await?,
        lines: releases.len(),
        released,
    })
}

/// Why a single payout could not be cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelSingleError {
    /// It is a line of a payroll batch, cancelled only with its batch.
    #[error("a payroll line is cancelled with its batch")]
    NotSingle,
    /// It was sent already (or has ended): its outcome is the operator's now.
    #[error("the payout is {0}")]
    Sent(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const LOCK_PAYOUT: &str = "
    SELECT state, single, batch_id, amount + fee FROM payout_lines
     WHERE id = $1 AND merchant_id = $2 FOR UPDATE";

const CANCEL_ONE: &str = "
    UPDATE payout_lines SET state = $3, updated_at = now()
     WHERE id = $1 AND merchant_id = $2";

/// Cancels one single payout not yet sent: `cancelled`, and its amount and fee released
/// if its batch had reserved them. Its row is locked first, so the engine cannot claim it
/// in between (claiming skips locked rows).
pub async fn cancel_single(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    payout: PayoutId,
) -> Result<Amount, CancelSingleError> {
    let row = tx
        .query_opt(LOCK_PAYOUT, &[&payout, &merchant])
        .await
        .map_err(StoreError::from)?
        .ok_or(StoreError::NotFound { what: "payout" })?;
    let (state, single, batch, amount_with_fee): (PayoutState, bool, BatchId, Amount) = (
        row.try_get(0).map_err(StoreError::from)?,
        row.try_get(1).map_err(StoreError::from)?,
        row.try_get(2).map_err(StoreError::from)?,
        row.try_get(3).map_err(StoreError::from)?,
    );
    if !single {
        return Err(CancelSingleError::NotSingle);
    }
    let cancelled = state
        .apply(&PayoutEvent::Cancel)
        .map_err(|_| CancelSingleError::Sent(state.as_str()))?;
    tx.execute(CANCEL_ONE, &[&payout, &merchant, &cancelled.as_str()])
        .await
        .map_err(StoreError::from)?;
    if tx
        .query_opt(RESERVED, &[&batch, &merchant])
        .await
        .map_err(StoreError::from)?
        .is_none()
    {
        return Ok(Amount::ZERO);
    }
    let release = Release {
        payout,
        amount_with_fee,
    };
    ledger::release(tx, merchant, &[release])
        .await
        .map_err(StoreError::from)?;
    Ok(amount_with_fee)
}
