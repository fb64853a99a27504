//! A single payout: a batch of one, written, funded and started in the request's own
//! transaction, so the answer already says whether it runs or failed for want of funds.
//!
//! Funding locks the merchant's balance rows until the transaction ends, and every payout
//! of the merchant needs them, so the reservation is the last statement before commit:
//! `prepare` writes everything else assuming the funds are there (after a savepoint), the
//! caller records its answer, then `fund` reserves; when the funds are short it rolls back
//! to the savepoint and records the failure instead.

use deadpool_postgres::Transaction;

use super::StoreError;
use super::batches::{self, BatchKind, NewBatch};
use super::payout_lines::{self, NewPayoutLine};
use crate::ids::{ApiKeyId, BatchId, MerchantId, PayoutId};
use crate::ledger::{self, LedgerError};
use crate::money::{Amount, Currency};
use crate::state::batch::{BatchEvent, BatchState};
use crate::state::payout::{PayoutEvent, PayoutState};

/// The failure code of a payout the merchant's balance did not cover.
pub const INSUFFICIENT_BALANCE: &str = "insufficient_balance";

/// A payout written and its batch `running`, its funds not yet reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub merchant: MerchantId,
    pub batch: BatchId,
    pub payout: PayoutId,
    /// Its amount and fee.
    pub needed: Amount,
}

const PAYOUT_OF: &str = "SELECT id FROM payout_lines WHERE batch_id = $1";

const FAIL_UNFUNDED: &str = "
    UPDATE payout_lines SET state = $2, failure_code = $3, updated_at = now()
     WHERE batch_id = $1 AND state = $4";

/// Writes one payout and moves its batch to `running`, in the caller's transaction; the
/// caller then calls `fund` last.
pub async fn prepare(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    currency: Currency,
    created_by: ApiKeyId,
    line: &NewPayoutLine,
) -> Result<Prepared, StoreError> {
    let new = NewBatch {
        kind: BatchKind::Single,
        created_by: Some(created_by),
        ..NewBatch::new(merchant, currency)
    };
    batches::insert(tx, &new).await?;
    payout_lines::insert_lines(
        tx,
        merchant,
        new.id,
        PayoutState::Validated,
        std::slice::from_ref(line),
    )
    .await?;
    let batch = batches::finish_upload(tx, merchant, new.id).await?;
    let payout: PayoutId = tx.query_one(PAYOUT_OF, &[&new.id]).await?.try_get(0)?;
    let needed = batch
        .total_amount
        .checked_add(batch.total_fee)
        .ok_or_else(|| StoreError::Corrupt("the payout and its fee overflow".into()))?;
    tx.batch_execute("SAVEPOINT funding").await?;
    let scheduled = batches::transition(
        tx,
        merchant,
        new.id,
        BatchState::Validating,
        BatchEvent::Schedule,
    )
    .await?;
    batches::transition(tx, merchant, new.id, scheduled, BatchEvent::Start).await?;
    Ok(Prepared {
        merchant,
        batch: new.id,
        payout,
        needed,
    })
}

/// Reserves the payout's amount and fee: `true` when funded. Without the funds, everything
/// since `prepare`'s savepoint (the batch's start, and whatever the caller wrote after
/// it) is rolled back, the payout fails with `insufficient_balance` and its batch is
/// `invalid`; nothing is reserved.
pub async fn fund(tx: &Transaction<'_>, prepared: &Prepared) -> Result<bool, StoreError> {
    let Prepared {
        merchant, batch, ..
    } = *prepared;
    match ledger::reserve(tx, merchant, batch, prepared.needed).await {
        Ok(()) => Ok(true),
        Err(LedgerError::InsufficientFunds { .. }) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT funding").await?;
            let from = PayoutState::Validated;
            let to = from.apply(&PayoutEvent::FundsShort)?;
            tx.execute(
                FAIL_UNFUNDED,
                &[&batch, &to.as_str(), &INSUFFICIENT_BALANCE, &from.as_str()],
            )
            .await?;
            batches::transition(
                tx,
                merchant,
                batch,
                BatchState::Validating,
                BatchEvent::Invalidate,
            )
            .await?;
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}
