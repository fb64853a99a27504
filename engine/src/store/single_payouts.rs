//! A single payout: a batch of one, written, funded and started in the request's own
//! transaction, so the answer already says whether it runs or failed for want of funds.
//!
//! Its line was checked before it gets here, so the batch and the line are written in one
//! prepared statement directly in their states after validation (`running` and
//! `validated`), not walked through the upload's states. Funding locks the merchant's
//! balance rows until the transaction ends, and every payout of the merchant needs them, so
//! the reservation is the last statement before commit: `prepare` writes the payout (after
//! a savepoint), the caller records its answer, then `fund` reserves; when the funds are
//! short it rolls back to the savepoint and writes the payout again as failed
//! (`insufficient_balance`) in an `invalid` batch.

use deadpool_postgres::Transaction;
use jiff::Timestamp;

use super::StoreError;
use super::payout_lines::NewPayoutLine;
use super::payouts::Payout;
use crate::ids::{ApiKeyId, BatchId, MerchantId, PayoutId, Reference};
use crate::ledger::{self, LedgerError};
use crate::money::{Amount, Currency};
use crate::state::batch::{BatchEvent, BatchState};
use crate::state::payout::{PayoutEvent, PayoutState};

/// The failure code of a payout the merchant's balance did not cover.
pub const INSUFFICIENT_BALANCE: &str = "insufficient_balance";

/// A payout written, its funds not yet reserved.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub merchant: MerchantId,
    pub currency: Currency,
    pub created_by: ApiKeyId,
    pub line: NewPayoutLine,
    pub batch: BatchId,
    pub payout: PayoutId,
    /// Its amount and fee.
    pub needed: Amount,
}

const WRITE: &str = "
    WITH batch AS (
        INSERT INTO batches (id, merchant_id, state, currency, created_by, kind, line_count,
                             total_amount, total_fee)
        VALUES ($1, $2, $3, $4, $5, 'single', 1, $6, $7)
        RETURNING id)
    INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route,
                              client_reference, name, note, state, failure_code)
    SELECT $8, $2, batch.id, 1, $9, $6, $7, $10, $11, $12, $13, $14, $15 FROM batch
    RETURNING reference, created_at, updated_at";

impl Prepared {
    /// Writes the batch and its line in these states; returns the payout as stored.
    async fn write(
        &self,
        tx: &Transaction<'_>,
        batch_state: BatchState,
        state: PayoutState,
        failure: Option<&str>,
    ) -> Result<Payout, StoreError> {
        let line = &self.line;
        let statement = tx.prepare_cached(WRITE).await?;
        let row = tx
            .query_one(
                &statement,
                &[
                    &self.batch,
                    &self.merchant,
                    &batch_state.as_str(),
                    &self.currency.code(),
                    &self.created_by,
                    &line.amount,
                    &line.fee,
                    &self.payout,
                    &line.msisdn,
                    &line.route.as_str(),
                    &line.client_reference,
                    &line.name,
                    &line.note,
                    &state.as_str(),
                    &failure,
                ],
            )
            .await?;
        let (reference, created_at, updated_at): (Reference, Timestamp, Timestamp) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        Ok(Payout {
            id: self.payout,
            batch: self.batch,
            line_no: 1,
            msisdn: line.msisdn.as_str().to_owned(),
            amount: line.amount,
            fee: line.fee,
            currency: self.currency,
            route: line.route.as_str().to_owned(),
            reference,
            client_reference: line.client_reference.clone(),
            name: line.name.clone(),
            note: line.note.clone(),
            state,
            failure_code: failure.map(str::to_owned),
            operator_transaction_id: None,
            attempts: 0,
            created_at,
            updated_at,
        })
    }
}

/// The batch's state once its line passed validation and its funds are reserved.
fn running() -> Result<BatchState, StoreError> {
    let validating = BatchState::Received.apply(&BatchEvent::StartValidation)?;
    let scheduled = validating.apply(&BatchEvent::Schedule)?;
    Ok(scheduled.apply(&BatchEvent::Start)?)
}

/// Writes one payout, its batch `running`, in the caller's transaction; the caller then
/// records its answer and calls `fund` last.
pub async fn prepare(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    currency: Currency,
    created_by: ApiKeyId,
    line: &NewPayoutLine,
) -> Result<(Prepared, Payout), StoreError> {
    let needed = line
        .amount
        .checked_add(line.fee)
        .ok_or_else(|| StoreError::Corrupt("the payout and its fee overflow".into()))?;
    let prepared = Prepared {
        merchant,
        currency,
        created_by,
        line: line.clone(),
        batch: BatchId::new(),
        payout: PayoutId::new(),
        needed,
    };
    tx.batch_execute("SAVEPOINT funding").await?;
    let payout = prepared
        .write(tx, running()?, PayoutState::Validated, None)
        .await?;
    Ok((prepared, payout))
}

/// Reserves the payout's amount and fee: `None` when funded. Without the funds,
/// everything since `prepare`'s savepoint (the payout, and whatever the caller wrote after
/// it) is rolled back, and the payout is written again as failed with
/// `insufficient_balance` in an `invalid` batch; nothing is reserved. Returns that payout.
pub async fn fund(tx: &Transaction<'_>, prepared: &Prepared) -> Result<Option<Payout>, StoreError> {
    match ledger::reserve(tx, prepared.merchant, prepared.batch, prepared.needed).await {
        Ok(()) => Ok(None),
        Err(LedgerError::InsufficientFunds { .. }) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT funding").await?;
            let failed = PayoutState::Validated.apply(&PayoutEvent::FundsShort)?;
            let invalid = BatchState::Validating.apply(&BatchEvent::Invalidate)?;
            let payout = prepared
                .write(tx, invalid, failed, Some(INSUFFICIENT_BALANCE))
                .await?;
            Ok(Some(payout))
        }
        Err(error) => Err(error.into()),
    }
}
