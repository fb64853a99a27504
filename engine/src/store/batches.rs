//! Batches: created in `received`, moved by their state machine behind a
//! `WHERE state = $expected` guard, read with their counts and totals.

use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;

use super::StoreError;
use crate::ids::{ApiKeyId, BatchId, MerchantId, NodeId};
use crate::money::{Amount, Currency};
use crate::state::batch::{BatchEvent, BatchState};
use crate::state::payout::PayoutState;

/// What a batch is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchKind {
    /// A payroll: many lines, from a file or a JSON list.
    Batch,
    /// One payout made through `POST /v1/payouts`.
    Single,
}

impl BatchKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            BatchKind::Batch => "batch",
            BatchKind::Single => "single",
        }
    }
}

/// A batch to create.
#[derive(Clone, Debug)]
pub struct NewBatch {
    pub id: BatchId,
    pub merchant: MerchantId,
    pub currency: Currency,
    pub kind: BatchKind,
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
            kind: BatchKind::Batch,
            created_by: None,
            file_sha256: None,
        }
    }
}

/// A batch as stored: its state, counts and totals, and who made, approved or cancelled it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Batch {
    pub id: BatchId,
    pub merchant: MerchantId,
    pub kind: BatchKind,
    pub state: BatchState,
    pub currency: Currency,
    pub line_count: i32,
    pub total_amount: Amount,
    pub total_fee: Amount,
    /// Lines that failed validation (an `invalid` batch).
    pub error_count: i32,
    pub created_by: Option<ApiKeyId>,
    pub approved_by: Option<ApiKeyId>,
    pub approved_at: Option<Timestamp>,
    pub cancelled_by: Option<ApiKeyId>,
    pub cancelled_at: Option<Timestamp>,
    /// The checker's note on their approval or rejection.
    pub decision_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const INSERT: &str = "
    INSERT INTO batches (id, merchant_id, state, currency, created_by, file_sha256, kind)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

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
                &batch.kind.as_str(),
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
              FROM payout_lines WHERE batch_id = $1 AND merchant_id = $2) AS total
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
    SELECT id, merchant_id, state, currency, line_count, total_amount, total_fee, created_at,
           updated_at, kind, error_count, created_by, approved_by, approved_at, cancelled_by,
           cancelled_at, decision_note
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
    from_row(&row)
}

fn from_row(row: &tokio_postgres::Row) -> Result<Batch, StoreError> {
    let currency: &str = row.try_get(3)?;
    let kind = match row.try_get::<_, &str>(9)? {
        "single" => BatchKind::Single,
        "batch" => BatchKind::Batch,
        other => return Err(StoreError::Corrupt(format!("batch kind {other}"))),
    };
    Ok(Batch {
        id: row.try_get(0)?,
        merchant: row.try_get(1)?,
        kind,
        state: row.try_get(2)?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency}")))?,
        line_count: row.try_get(4)?,
        total_amount: row.try_get(5)?,
        total_fee: row.try_get(6)?,
        error_count: row.try_get(10)?,
        created_by: row.try_get(11)?,
        approved_by: row.try_get(12)?,
        approved_at: row.try_get(13)?,
        cancelled_by: row.try_get(14)?,
        cancelled_at: row.try_get(15)?,
        decision_note: row.try_get(16)?,
        created_at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
    })
}

const LIST: &str = "
    SELECT id, merchant_id, state, currency, line_count, total_amount, total_fee, created_at,
           updated_at, kind, error_count, created_by, approved_by, approved_at, cancelled_by,
           cancelled_at, decision_note
      FROM batches
     WHERE merchant_id = $1 AND kind = 'batch' AND ($2::uuid IS NULL OR id > $2)
       AND ($3::text IS NULL OR state = $3)
     ORDER BY id LIMIT $4";

/// A merchant's payroll batches after `after`, oldest first, optionally in one state.
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
    after: Option<uuid::Uuid>,
    state: Option<BatchState>,
    limit: i64,
) -> Result<Vec<Batch>, StoreError> {
    let state = state.map(BatchState::as_str);
    let rows = client
        .query(LIST, &[&merchant, &after, &state, &limit])
        .await?;
    rows.iter().map(from_row).collect()
}

const NEWEST: &str = "
    SELECT id, merchant_id, state, currency, line_count, total_amount, total_fee, created_at,
           updated_at, kind, error_count, created_by, approved_by, approved_at, cancelled_by,
           cancelled_at, decision_note
      FROM batches
     WHERE merchant_id = $1 AND kind = 'batch' AND ($2::uuid IS NULL OR id < $2)
       AND (cardinality($3::text[]) = 0 OR state = ANY($3))
     ORDER BY id DESC LIMIT $4";

/// A merchant's payroll batches before `before`, newest first, in any of `states` (all
/// when empty): what a person looks for first.
pub async fn newest(
    client: &impl GenericClient,
    merchant: MerchantId,
    before: Option<uuid::Uuid>,
    states: &[&str],
    limit: i64,
) -> Result<Vec<Batch>, StoreError> {
    let rows = client
        .query(NEWEST, &[&merchant, &before, &states, &limit])
        .await?;
    rows.iter().map(from_row).collect()
}

/// Keeps a checker's note on their decision.
pub async fn record_note(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    note: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE batches SET decision_note = $3 WHERE id = $1 AND merchant_id = $2",
            &[&batch, &merchant, &note],
        )
        .await?;
    Ok(())
}

const SAME_FILE: &str = "
    SELECT id FROM batches
     WHERE merchant_id = $1 AND file_sha256 = $2 AND id <> $3 AND state <> 'invalid'
       AND created_at > now() - interval '30 days'
     ORDER BY created_at LIMIT 1";

/// The first batch of the last 30 days made from the same file, if any.
pub async fn same_file(
    client: &impl GenericClient,
    merchant: MerchantId,
    file_sha256: &[u8; 32],
    except: BatchId,
) -> Result<Option<BatchId>, StoreError> {
    let row = client
        .query_opt(SAME_FILE, &[&merchant, &file_sha256.as_slice(), &except])
        .await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

const RECORD_FILE: &str = "UPDATE batches SET file_sha256 = $3 WHERE id = $1 AND merchant_id = $2";

/// Records the SHA-256 of the file a batch was uploaded from, once it has been read.
pub async fn record_file(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    file_sha256: &[u8; 32],
) -> Result<(), StoreError> {
    client
        .execute(RECORD_FILE, &[&batch, &merchant, &file_sha256.as_slice()])
        .await?;
    Ok(())
}

const RECORD_APPROVAL: &str =
    "UPDATE batches SET approved_by = $3, approved_at = now() WHERE id = $1 AND merchant_id = $2";
const RECORD_CANCELLATION: &str =
    "UPDATE batches SET cancelled_by = $3, cancelled_at = now() WHERE id = $1 AND merchant_id = $2";

/// Records who approved a batch (in the transaction that approves it).
pub async fn record_approval(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    by: ApiKeyId,
) -> Result<(), StoreError> {
    client
        .execute(RECORD_APPROVAL, &[&batch, &merchant, &by])
        .await?;
    Ok(())
}

/// Records who cancelled a batch (in the transaction that cancels it).
pub async fn record_cancellation(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    by: ApiKeyId,
) -> Result<(), StoreError> {
    client
        .execute(RECORD_CANCELLATION, &[&batch, &merchant, &by])
        .await?;
    Ok(())
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

/// Takes a batch for `node` (unless another node owns it) and locks it.
const TAKE_FOR_UPDATE: &str = "
    UPDATE batches SET owner_node = $3
     WHERE id = $1 AND merchant_id = $2 AND (owner_node IS NULL OR owner_node = $3)
       AND payrail_lease_holds($3)
    RETURNING state";

/// Takes the batch for `node`, then reserves its whole total (amounts and fees) in one
/// ledger entry and moves it to `running`; without the funds, moves it to
/// `awaiting_funds`. Runs in the caller's transaction; a batch already `running` is left
/// as it is. `NotOwner` when another node owns the batch, or this node's lease expired.
pub async fn start(
    tx: &Transaction<'_>,
    node: NodeId,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Started, StoreError> {
    let Some(row) = tx
        .query_opt(TAKE_FOR_UPDATE, &[&batch, &merchant, &node])
        .await?
    else {
        tx.query_opt(LOCK_FOR_UPDATE, &[&batch, &merchant])
            .await?
            .ok_or(StoreError::NotFound { what: "batch" })?;
        return Err(StoreError::NotOwner);
    };
    let state: BatchState = row.try_get(0)?;
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

const COMPLETE_ENDED: &str = "
    UPDATE batches AS batch
       SET state = CASE WHEN lines.failed THEN $5 ELSE $4 END, updated_at = now()
      FROM (SELECT batch_id, bool_or(state = ANY($3)) AS failed, bool_and(state = ANY($2)) AS ended
              FROM payout_lines WHERE batch_id = ANY($1) GROUP BY batch_id) AS lines
     WHERE batch.id = lines.batch_id AND batch.state = $6 AND lines.ended
    RETURNING batch.id, batch.state";

/// Ends, in one statement, each of these running batches whose every line is final (or
/// awaits review), as `complete` would; returns the batches ended, each with its new state.
/// The others are left as they are.
pub async fn complete_ended(
    client: &impl GenericClient,
    batches: &[BatchId],
) -> Result<Vec<(BatchId, BatchState)>, StoreError> {
    let ended: Vec<&str> = PayoutState::ALL
        .iter()
        .filter(|state| state.is_final() || **state == PayoutState::RequiresReview)
        .map(|state| state.as_str())
        .collect();
    let failed = [
        PayoutState::Failed.as_str(),
        PayoutState::RequiresReview.as_str(),
    ];
    let running = BatchState::Running;
    let completed = running.apply(&BatchEvent::Complete)?;
    let with_failures = running.apply(&BatchEvent::CompleteWithFailures)?;
    let statement = client.prepare_cached(COMPLETE_ENDED).await?;
    let rows = client
        .query(
            &statement,
            &[
                &batches,
                &ended,
                &failed.as_slice(),
                &completed.as_str(),
                &with_failures.as_str(),
                &running.as_str(),
            ],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

// A running batch of single payouts is left alone while it is young: the node that wrote
// it runs it without a batch actor (the singles runner) from the moment it is committed.
const TO_RUN: &str = "
    WITH taken AS (
        UPDATE batches SET owner_node = $3
         WHERE id IN (SELECT id FROM batches
                       WHERE state = ANY($1) AND owner_node IS NULL
                       ORDER BY created_at, id
                       LIMIT (SELECT greatest(0, ceil(count(*)::numeric
                                                      / greatest(1, payrail_live_nodes()))::bigint
                                                 - count(*) FILTER (WHERE owner_node = $3))
                                FROM batches WHERE state = ANY($1))
                       FOR UPDATE SKIP LOCKED)
           AND payrail_lease_holds($3)
        RETURNING merchant_id, id, created_at)
    SELECT merchant_id, id FROM (
        SELECT merchant_id, id, created_at FROM batches
         WHERE state = ANY($1) AND owner_node = $3
           AND NOT (kind = 'single' AND state = 'running'
                    AND created_at > now() - $2::text::interval)
        UNION ALL
        SELECT merchant_id, id, created_at FROM taken) AS batch
     ORDER BY created_at, id";

/// How long a running batch of single payouts its node wrote is left to that node's
/// singles runner before the node's sweep resumes it with a batch actor: the runner claims
/// it within milliseconds.
pub const SINGLES_YOUNG_FOR: &str = "10 seconds";

/// The batches in any of these states that `node` runs, oldest first: those it owns (but
/// not a batch of single payouts younger than `SINGLES_YOUNG_FOR`) and, of those nobody
/// owns (left by a node that died, or not started yet), as many as bring it up to its
/// share of all of them split between the live nodes (counted on the database, now), which
/// it takes. While any is free, the node that owns the fewest is below its share, so every
/// free batch is taken. What a node resumes (`running`), runs (`scheduled`) or
/// retries (`awaiting_funds`).
pub async fn to_run(
    client: &impl GenericClient,
    node: NodeId,
    states: &[BatchState],
) -> Result<Vec<(MerchantId, BatchId)>, StoreError> {
    let names: Vec<&str> = states.iter().map(|state| state.as_str()).collect();
    let rows = client
        .query(TO_RUN, &[&names, &SINGLES_YOUNG_FOR, &node])
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}
