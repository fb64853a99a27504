//! Payout lines: bulk insert of a batch's lines with one binary COPY, claiming the next chunk
//! to send, and moving many lines from one state to the next behind a state guard.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::StoreError;
use super::activity::count_ended;
use crate::ids::{BatchId, MerchantId, NodeId, PayoutId, Reference};
use crate::money::Amount;
use crate::msisdn::Msisdn;
use crate::route::RouteName;
use crate::state::batch::BatchState;
use crate::state::payout::{PayoutEvent, PayoutState};

/// A validated line to insert.
#[derive(Clone, Debug)]
pub struct NewPayoutLine {
    /// The line's number in its file (the header is line 1) or in its JSON list.
    pub line_no: i32,
    pub msisdn: Msisdn,
    pub amount: Amount,
    pub fee: Amount,
    pub route: RouteName,
    /// The merchant's own reference for the line, unique within the batch.
    pub client_reference: Option<String>,
    pub name: Option<String>,
    pub note: Option<String>,
}

const LOCK_BATCH: &str = "SELECT state FROM batches WHERE id = $1 AND merchant_id = $2 FOR SHARE";

const COPY_LINES: &str = "
    COPY payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route,
                       client_reference, name, note, state)
    FROM STDIN (FORMAT binary)";

/// The column types of `COPY_LINES`, in its order.
const COPY_TYPES: [Type; 12] = [
    Type::UUID,
    Type::UUID,
    Type::UUID,
    Type::INT4,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

/// Writes lines of a batch that is still `received` (being uploaded) with one binary COPY,
/// in the caller's transaction. Several transactions may write parts of one batch at once:
/// each holds a share lock on the batch row, and `batches::finish_upload` waits for them
/// all before it counts the lines. A batch that is not the merchant's is `NotFound`; one
/// no longer receiving lines is `StaleState`, and nothing is written. Each line gets its
/// operator reference (a UUIDv4) from the database.
pub async fn insert_lines(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
    state: PayoutState,
    lines: &[NewPayoutLine],
) -> Result<u64, StoreError> {
    let mut writer = LineWriter::open(tx, merchant, batch, state).await?;
    for line in lines {
        writer.write(line).await?;
    }
    writer.finish().await
}

/// One binary COPY of a batch's lines kept open while they arrive, so PostgreSQL stores
/// lines while the caller is still reading and checking the next ones. Dropped without
/// `finish`, the COPY is aborted and nothing it sent is kept.
pub struct LineWriter {
    writer: std::pin::Pin<Box<BinaryCopyInWriter>>,
    merchant: MerchantId,
    batch: BatchId,
    state: &'static str,
}

impl std::fmt::Debug for LineWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineWriter")
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl LineWriter {
    /// Starts the COPY, after the same checks as `insert_lines`.
    pub async fn open(
        tx: &Transaction<'_>,
        merchant: MerchantId,
        batch: BatchId,
        state: PayoutState,
    ) -> Result<LineWriter, StoreError> {
        let row = tx.query_opt(LOCK_BATCH, &[&batch, &merchant]).await?;
        let batch_state: BatchState = row
            .ok_or(StoreError::NotFound { what: "batch" })?
            .try_get(0)?;
        if batch_state != BatchState::Received {
            return Err(StoreError::StaleState {
                what: "batch",
                expected: BatchState::Received.as_str(),
            });
        }
        let sink = tx.copy_in(COPY_LINES).await?;
        Ok(LineWriter {
            writer: Box::pin(BinaryCopyInWriter::new(sink, &COPY_TYPES)),
            merchant,
            batch,
            state: state.as_str(),
        })
    }

    pub async fn write(&mut self, line: &NewPayoutLine) -> Result<(), StoreError> {
        let row: [&(dyn ToSql + Sync); 12] = [
            &PayoutId::new(),
            &self.merchant,
            &self.batch,
            &line.line_no,
            &line.msisdn,
            &line.amount,
            &line.fee,
            &line.route.as_str(),
            &line.client_reference,
            &line.name,
            &line.note,
            &self.state,
        ];
        self.writer.as_mut().write(&row).await?;
        Ok(())
    }

    /// Ends the COPY; returns the lines written.
    pub async fn finish(mut self) -> Result<u64, StoreError> {
        Ok(self.writer.as_mut().finish().await?)
    }
}

/// A line claimed for sending: everything a route needs to send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedLine {
    pub id: PayoutId,
    pub line_no: i32,
    pub reference: Reference,
    pub msisdn: Msisdn,
    pub amount: Amount,
    pub fee: Amount,
    pub route: RouteName,
    /// How many times the line has been claimed for sending, this time included.
    pub attempts: i32,
}

const CLAIM_CHUNK: &str = "
    UPDATE payout_lines AS line
       SET state = $4, attempts = line.attempts + 1, updated_at = now(),
           sent_at = coalesce(line.sent_at, now())
      FROM (SELECT id FROM payout_lines
             WHERE batch_id = $1 AND merchant_id = $6 AND line_no > $5 AND state = ANY($3)
               AND payrail_holds_batches($7, ARRAY[$1::uuid])
             ORDER BY line_no LIMIT $2
             FOR UPDATE SKIP LOCKED) AS next
     WHERE line.id = next.id AND line.merchant_id = $6
    RETURNING line.id, line.line_no, line.reference, line.msisdn, line.amount, line.fee,
              line.route, line.attempts";

/// Claims up to `limit` queued (or validated, see below) lines of a batch after line
/// `after_line_no`, in line order,
/// and marks them `sending` in the same statement, so the mark is durable before any
/// request leaves. Lines another transaction holds are skipped, never claimed twice. The
/// caller passes the last line number it claimed (0 at first), so a whole batch is
/// walked once along the (batch, line) index however many chunks it takes.
///
/// The claim is fenced: `NotOwner` unless `node` owns the batch and its lease has not
/// expired on the database's clock, so a node that lost its lease claims nothing.
pub async fn claim_chunk(
    client: &impl GenericClient,
    node: NodeId,
    merchant: MerchantId,
    batch: BatchId,
    after_line_no: i32,
    limit: u32,
) -> Result<Vec<ClaimedLine>, StoreError> {
    // A validated line of a batch that holds its reservation is as good as queued: the
    // batch reserved every line in one entry, so claiming takes both steps in one write.
    let to = PayoutState::Queued.apply(&PayoutEvent::Claim)?;
    let via_queued = PayoutState::Validated
        .apply(&PayoutEvent::Reserve)?
        .apply(&PayoutEvent::Claim)?;
    debug_assert_eq!(to, via_queued);
    let from = [
        PayoutState::Validated.as_str(),
        PayoutState::Queued.as_str(),
    ];
    let statement = client.prepare_cached(CLAIM_CHUNK).await?;
    let rows = client
        .query(
            &statement,
            &[
                &batch,
                &i64::from(limit),
                &from.as_slice(),
                &to.as_str(),
                &after_line_no,
                &merchant,
                &node,
            ],
        )
        .await
        .map_err(super::cluster::fenced)?;
    let mut lines = rows
        .iter()
        .map(claimed_line)
        .collect::<Result<Vec<_>, StoreError>>()?;
    lines.sort_by_key(|line| line.line_no);
    Ok(lines)
}

const IN_FLIGHT: &str = "
    SELECT id, line_no, reference, msisdn, amount, fee, route, attempts
      FROM payout_lines WHERE batch_id = $1 AND merchant_id = $3 AND state = ANY($2)
     ORDER BY line_no";

/// The states of a line sent and not finished: it may or may not have reached the
/// operator (`sending`), or the operator has it (`submitted`).
pub const IN_FLIGHT_STATES: [PayoutState; 2] = [PayoutState::Sending, PayoutState::Submitted];

const CLAIM_SINGLES: &str = "
    UPDATE payout_lines AS line
       SET state = $3, attempts = line.attempts + 1, updated_at = now(),
           sent_at = coalesce(line.sent_at, now())
     WHERE line.id = ANY($1) AND line.state = ANY($2) AND payrail_holds_batches($4, $5)
    RETURNING line.id, line.line_no, line.reference, line.msisdn, line.amount, line.fee,
              line.route, line.attempts, line.batch_id";

/// Claims single payouts just written (validated in a batch that holds their reservation,
/// as `claim_chunk` takes them), by id, across any number of batches in one statement; a
/// payout cancelled meanwhile is not claimed. Returns each claimed line with its batch.
/// Fenced as `claim_chunk` is: `node` must own every one of `batches`, the payouts' batches.
pub async fn claim_singles(
    client: &impl GenericClient,
    node: NodeId,
    batches: &[BatchId],
    payouts: &[PayoutId],
) -> Result<Vec<(BatchId, ClaimedLine)>, StoreError> {
    let to = PayoutState::Validated
        .apply(&PayoutEvent::Reserve)?
        .apply(&PayoutEvent::Claim)?;
    let from = [
        PayoutState::Validated.as_str(),
        PayoutState::Queued.as_str(),
    ];
    let statement = client.prepare_cached(CLAIM_SINGLES).await?;
    let rows = client
        .query(
            &statement,
            &[&payouts, &from.as_slice(), &to.as_str(), &node, &batches],
        )
        .await
        .map_err(super::cluster::fenced)?;
    rows.iter()
        .map(|row| Ok((row.try_get(8)?, claimed_line(row)?)))
        .collect()
}

/// The lines of a batch an earlier run sent and did not finish: each gets a status query
/// before anything else.
pub async fn in_flight(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Vec<ClaimedLine>, StoreError> {
    let states = IN_FLIGHT_STATES.map(PayoutState::as_str);
    let rows = client
        .query(IN_FLIGHT, &[&batch, &states.as_slice(), &merchant])
        .await?;
    rows.iter().map(claimed_line).collect()
}

fn claimed_line(row: &tokio_postgres::Row) -> Result<ClaimedLine, StoreError> {
    Ok(ClaimedLine {
        id: row.try_get(0)?,
        line_no: row.try_get(1)?,
        reference: row.try_get(2)?,
        msisdn: row.try_get(3)?,
        amount: row.try_get(4)?,
        fee: row.try_get(5)?,
        route: {
            let route: &str = row.try_get(6)?;
            RouteName::new(route).map_err(|_| StoreError::Corrupt(format!("route {route}")))?
        },
        attempts: row.try_get(7)?,
    })
}

const TRANSITION_LINES: &str = "
    UPDATE payout_lines SET state = $3, updated_at = now()
     WHERE id = ANY($1) AND merchant_id = $4 AND state = $2
    RETURNING id";

/// Moves lines that are in `from` by `event`; returns the ids that moved. A line no longer
/// in `from` (someone else moved it first) is left alone and not returned.
pub async fn transition_lines(
    client: &impl GenericClient,
    merchant: MerchantId,
    ids: &[PayoutId],
    from: PayoutState,
    event: PayoutEvent,
) -> Result<Vec<PayoutId>, StoreError> {
    let to = from.apply(&event)?;
    let ids: Vec<Uuid> = ids.iter().map(|id| *id.as_uuid()).collect();
    let statement = client.prepare_cached(TRANSITION_LINES).await?;
    let rows = client
        .query(&statement, &[&ids, &from.as_str(), &to.as_str(), &merchant])
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// How many lines of a batch are in one state, and their sums.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StateCount {
    pub state: PayoutState,
    pub lines: i64,
    pub amount: i64,
    pub fee: i64,
}

const COUNT_BY_STATE: &str = "
    SELECT state, count(*), coalesce(sum(amount), 0)::bigint, coalesce(sum(fee), 0)::bigint
      FROM payout_lines WHERE batch_id = $1 AND merchant_id = $2
     GROUP BY state ORDER BY state";

/// Counts a batch's lines per state.
pub async fn count_by_state(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Vec<StateCount>, StoreError> {
    let rows = client.query(COUNT_BY_STATE, &[&batch, &merchant]).await?;
    Ok(rows
        .iter()
        .map(|row| StateCount {
            state: row.get(0),
            lines: row.get(1),
            amount: row.get(2),
            fee: row.get(3),
        })
        .collect())
}

/// The final word on one line, as the journal writer records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishedLine {
    pub id: PayoutId,
    /// `Succeed` or `Fail`.
    pub event: PayoutEvent,
    pub failure_code: Option<String>,
    pub operator_transaction_id: Option<String>,
}

// The lines that moved are counted for analytics in the same statement.
const FINISH_LINES: &str = concat!(
    "WITH finished AS (
        UPDATE payout_lines AS line
           SET state = outcome.state, failure_code = outcome.failure_code,
               operator_transaction_id = outcome.transaction_id, updated_at = now()
          FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
               AS outcome (id, state, failure_code, transaction_id)
         WHERE line.id = outcome.id AND line.merchant_id = $6 AND line.state = ANY($5)
        RETURNING line.id, line.merchant_id, line.route, line.state, line.failure_code,
                  line.amount, line.fee, line.sent_at),
    ended AS (
        SELECT merchant_id, route, state AS outcome, coalesce(failure_code, '') AS failure_code,
               amount, fee,
               (extract(epoch FROM now() - coalesce(sent_at, now())) * 1000)::bigint AS latency_ms
          FROM finished),
    counted AS (",
    count_ended!("ended", "payout"),
    ")
    SELECT id FROM finished"
);

/// Moves many lines sent and not finished (`sending` or `submitted`) to their final state
/// in one statement; returns the ids that moved (a line finished by someone else is left
/// alone).
pub async fn finish_lines(
    client: &impl GenericClient,
    merchant: MerchantId,
    lines: &[FinishedLine],
) -> Result<Vec<PayoutId>, StoreError> {
    let mut ids = Vec::with_capacity(lines.len());
    let mut states = Vec::with_capacity(lines.len());
    for line in lines {
        ids.push(*line.id.as_uuid());
        let to = PayoutState::Sending.apply(&line.event)?;
        debug_assert_eq!(Ok(to), PayoutState::Submitted.apply(&line.event));
        states.push(to.as_str());
    }
    let from = IN_FLIGHT_STATES.map(PayoutState::as_str);
    let codes: Vec<Option<&str>> = lines.iter().map(|l| l.failure_code.as_deref()).collect();
    let transactions: Vec<Option<&str>> = lines
        .iter()
        .map(|l| l.operator_transaction_id.as_deref())
        .collect();
    let statement = client.prepare_cached(FINISH_LINES).await?;
    let rows = client
        .query(
            &statement,
            &[
                &ids,
                &states,
                &codes,
                &transactions,
                &from.as_slice(),
                &merchant,
            ],
        )
        .await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

const MARK_SUBMITTED: &str = "
    UPDATE payout_lines SET state = $2, updated_at = now()
     WHERE id = ANY($1) AND merchant_id = $4 AND state = $3";

/// Marks lines the operator accepted, and has not finished, `submitted`; a line already
/// finished (or marked) is left alone. Returns how many moved.
pub async fn mark_submitted(
    client: &impl GenericClient,
    merchant: MerchantId,
    ids: &[PayoutId],
) -> Result<u64, StoreError> {
    let to = PayoutState::Sending.apply(&PayoutEvent::Accept)?;
    let statement = client.prepare_cached(MARK_SUBMITTED).await?;
    Ok(client
        .execute(
            &statement,
            &[
                &ids,
                &to.as_str(),
                &PayoutState::Sending.as_str(),
                &merchant,
            ],
        )
        .await?)
}

/// Lines, amount and fees paid through one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTotal {
    pub route: String,
    pub lines: i64,
    pub amount: Amount,
    pub fee: Amount,
}

const ROUTE_TOTALS: &str = "
    SELECT route, count(*), sum(amount)::bigint, sum(fee)::bigint FROM payout_lines
     WHERE batch_id = $1 AND merchant_id = $2 GROUP BY route ORDER BY route";

/// A batch's lines, amounts and fees per route.
pub async fn route_totals(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Vec<RouteTotal>, StoreError> {
    let rows = client.query(ROUTE_TOTALS, &[&batch, &merchant]).await?;
    rows.iter()
        .map(|row| {
            Ok(RouteTotal {
                route: row.try_get(0)?,
                lines: row.try_get(1)?,
                amount: row.try_get(2)?,
                fee: row.try_get(3)?,
            })
        })
        .collect()
}
