//! Batches: created in `received`, moved by their state machine behind a
//! `WHERE state = $expected` guard, read with their counts and totals.

use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;

use super::StoreError;
use crate::ids::{ApiKeyId, BatchId, MerchantId};
use crate::money::{Amount, Currency};
use crate::state::batch::{BatchEvent, BatchState};

/// A batch to create.
#[derive(Clone, Debug)]
pub struct NewBatch {
    pub id: BatchId,
    pub merchant: MerchantId,
    pub currency: Currency,
    /// The key that created it (`None` from the command line).
    pub created_by: Option<ApiKeyId>,
    /// SHA-256 of the uploaded file, to refuse the same payroll uploaded twice.
    pub file_sha256: Option<[u8; 32]>,
}

impl NewBatch {
    /// A new batch with a fresh id, created from the command line (no key, no file).
    pub fn new(merchant: MerchantId, currency: Currency) -> NewBatch {
        NewBatch {
            id: BatchId::new(),
            merchant,
            currency,
            created_by: None,
            file_sha256: None,
        }
    }
}

/// A batch as stored: its state, counts and totals.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Batch {
    pub id: BatchId,
    pub merchant: MerchantId,
    pub state: BatchState,
    pub currency: Currency,
    pub line_count: i32,
    pub total_amount: Amount,
    pub total_fee: Amount,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const INSERT: &str = "
    INSERT INTO batches (id, merchant_id, state, currency, created_by, file_sha256)
    VALUES ($1, $2, $3, $4, $5, $6)";

/// Creates a batch in `received`, with no lines yet.
pub async fn insert(client: &impl GenericClient, batch: &NewBatch) -> Result<(), StoreError> {
    let file = batch.file_sha256.as_ref().map(|hash| hash.as_slice());
    client
        .execute(
            INSERT,
            &[
                &batch.id,
                &batch.merchant,
                &BatchState::Received.as_str(),
                &batch.currency.code(),
                &batch.created_by,
                &file,
            ],
        )
        .await?;
    Ok(())
}

const TRANSITION: &str = "
    UPDATE batches SET state = $4, updated_at = now()
     WHERE id = $1 AND merchant_id = $2 AND state = $3";

/// Moves a batch from `from` by `event`; `StaleState` when it was no longer in `from`.
pub async fn transition(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    from: BatchState,
    event: BatchEvent,
) -> Result<BatchState, StoreError> {
    let to = from.apply(&event)?;
    let moved = client
        .execute(
            TRANSITION,
            &[&batch, &merchant, &from.as_str(), &to.as_str()],
        )
        .await?;
    if moved == 0 {
        return Err(StoreError::StaleState {
            what: "batch",
            expected: from.as_str(),
        });
    }
    Ok(to)
}

const LOCK_FOR_UPDATE: &str =
    "SELECT state FROM batches WHERE id = $1 AND merchant_id = $2 FOR UPDATE";

const FINISH_UPLOAD: &str = "
    UPDATE batches
       SET state = $3, line_count = total.lines, total_amount = total.amount,
           total_fee = total.fee, updated_at = now()
      FROM (SELECT count(*)::int AS lines, coalesce(sum(amount), 0)::bigint AS amount,
                   coalesce(sum(fee), 0)::bigint AS fee
              FROM payout_lines WHERE batch_id = $1) AS total
     WHERE id = $1 AND merchant_id = $2";

/// Ends a batch's upload: waits for every transaction still writing its lines, counts and
/// sums them, and moves the batch from `received` to `validating`, so no line can be
/// added any more. Runs in the caller's transaction.
pub async fn finish_upload(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Batch, StoreError> {
    // The lock comes first, in its own statement: the count below then runs on a snapshot
    // taken after every writer has committed.
    let row = tx.query_opt(LOCK_FOR_UPDATE, &[&batch, &merchant]).await?;
    let state: BatchState = row
        .ok_or(StoreError::NotFound { what: "batch" })?
        .try_get(0)?;
    if state != BatchState::Received {
        return Err(StoreError::StaleState {
            what: "batch",
            expected: BatchState::Received.as_str(),
        });
    }
    let next = state.apply(&BatchEvent::StartValidation)?;
    tx.execute(FINISH_UPLOAD, &[&batch, &merchant, &next.as_str()])
        .await?;
    get(tx, merchant, batch).await
}

const GET: &str = "
    SELECT id, merchant_id, state, currency, line_count, total_amount, total_fee, created_at, updated_at
      FROM batches WHERE id = $1 AND merchant_id = $2";

const MERCHANT_OF: &str = "SELECT merchant_id FROM batches WHERE id = $1";

/// The merchant a batch belongs to: for the operator's command line, which sees every
/// merchant (the API never looks a batch up without its merchant).
pub async fn merchant_of(
    client: &impl GenericClient,
    batch: BatchId,
) -> Result<MerchantId, StoreError> {
    let row = client
        .query_opt(MERCHANT_OF, &[&batch])
        .await?
        .ok_or(StoreError::NotFound { what: "batch" })?;
    Ok(row.try_get(0)?)
}

/// Reads one of a merchant's batches; another merchant's batch is `NotFound`.
pub async fn get(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Batch, StoreError> {
    let row = client
        .query_opt(GET, &[&batch, &merchant])
        .await?
        .ok_or(StoreError::NotFound { what: "batch" })?;
    let currency: &str = row.try_get(3)?;
    Ok(Batch {
        id: row.try_get(0)?,
        merchant: row.try_get(1)?,
        state: row.try_get(2)?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency}")))?,
        line_count: row.try_get(4)?,
        total_amount: row.try_get(5)?,
        total_fee: row.try_get(6)?,
        created_at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
    })
}

/// What starting a batch came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Started {
    /// The total is reserved and the batch is `running`.
    Running,
    /// The available balance does not cover the total: the batch waits in `awaiting_funds`,
    /// nothing is reserved and nothing will be sent.
    AwaitingFunds { available: Amount, needed: Amount },
}

/// Reserves a batch's whole total (amounts and fees) in one ledger entry and moves it to
/// `running`; without the funds, moves it to `awaiting_funds`. Runs in the caller's
/// transaction; a batch already `running` is left as it is.
pub async fn start(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Started, StoreError> {
    let row = tx.query_opt(LOCK_FOR_UPDATE, &[&batch, &merchant]).await?;
    let state: BatchState = row
        .ok_or(StoreError::NotFound { what: "batch" })?
        .try_get(0)?;
    if state == BatchState::Running {
        return Ok(Started::Running);
    }
    let stored = get(tx, merchant, batch).await?;
    let needed = stored
        .total_amount
        .checked_add(stored.total_fee)
        .ok_or_else(|| StoreError::Corrupt("the batch total exceeds the largest amount".into()))?;
    match crate::ledger::reserve(tx, merchant, batch, needed).await {
        Ok(()) => {
            transition(tx, merchant, batch, state, BatchEvent::Start).await?;
            Ok(Started::Running)
        }
        Err(crate::ledger::LedgerError::InsufficientFunds { available, needed }) => {
            if state != BatchState::AwaitingFunds {
                transition(tx, merchant, batch, state, BatchEvent::FundsShort).await?;
            }
            Ok(Started::AwaitingFunds { available, needed })
        }
        Err(error) => Err(StoreError::Ledger(error)),
    }
}

/// Ends a running batch once every line is final: `completed`, or
/// `completed_with_failures` when any line failed or awaits review.
pub async fn complete(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    any_failed: bool,
) -> Result<BatchState, StoreError> {
    let event = if any_failed {
        BatchEvent::CompleteWithFailures
    } else {
        BatchEvent::Complete
    };
    transition(client, merchant, batch, BatchState::Running, event).await
}

const IN_STATES: &str =
    "SELECT merchant_id, id FROM batches WHERE state = ANY($1) ORDER BY created_at, id";

/// The batches in any of these states, oldest first, in one query: what a starting engine
/// resumes (`running`), runs (`scheduled`) or retries (`awaiting_funds`).
pub async fn in_states(
    client: &impl GenericClient,
    states: &[BatchState],
) -> Result<Vec<(MerchantId, BatchId)>, StoreError> {
    let names: Vec<&str> = states.iter().map(|state| state.as_str()).collect();
    let rows = client.query(IN_STATES, &[&names]).await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}
