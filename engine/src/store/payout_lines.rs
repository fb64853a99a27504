//! Payout lines: bulk insert of a batch's lines in one statement, claiming the next chunk
//! to send, and moving many lines from one state to the next behind a state guard.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::StoreError;
use crate::ids::{BatchId, MerchantId, PayoutId, Reference};
use crate::money::Amount;
use crate::msisdn::Msisdn;
use crate::route::RouteName;
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

const INSERT_LINES: &str = "
    WITH inserted AS (
        INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route,
                                  client_reference, name, note, state)
        SELECT id, $1, $2, line_no, msisdn, amount, fee, route, client_reference, name, note, $3
          FROM unnest($4::uuid[], $5::int[], $6::text[], $7::bigint[], $8::bigint[], $9::text[],
                      $10::text[], $11::text[], $12::text[])
            AS line (id, line_no, msisdn, amount, fee, route, client_reference, name, note)
        RETURNING amount, fee),
    total AS (
        SELECT count(*)::int AS lines, coalesce(sum(amount), 0)::bigint AS amount,
               coalesce(sum(fee), 0)::bigint AS fee
          FROM inserted)
    UPDATE batches
       SET line_count = line_count + total.lines, total_amount = total_amount + total.amount,
           total_fee = total_fee + total.fee, updated_at = now()
      FROM total
     WHERE batches.id = $2 AND batches.merchant_id = $1
    RETURNING total.lines";

/// Inserts many lines of one batch in one statement and adds them to the batch's counts
/// and totals. Each line gets its operator reference (a UUIDv4) from the database.
pub async fn insert_lines(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    state: PayoutState,
    lines: &[NewPayoutLine],
) -> Result<u64, StoreError> {
    let ids: Vec<Uuid> = lines.iter().map(|_| *PayoutId::new().as_uuid()).collect();
    let line_nos: Vec<i32> = lines.iter().map(|l| l.line_no).collect();
    let msisdns: Vec<&str> = lines.iter().map(|l| l.msisdn.as_str()).collect();
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount.minor()).collect();
    let fees: Vec<i64> = lines.iter().map(|l| l.fee.minor()).collect();
    let routes: Vec<&str> = lines.iter().map(|l| l.route.as_str()).collect();
    let client_refs: Vec<Option<&str>> = lines
        .iter()
        .map(|l| l.client_reference.as_deref())
        .collect();
    let names: Vec<Option<&str>> = lines.iter().map(|l| l.name.as_deref()).collect();
    let notes: Vec<Option<&str>> = lines.iter().map(|l| l.note.as_deref()).collect();
    let statement = client.prepare_cached(INSERT_LINES).await?;
    let row = client
        .query_opt(
            &statement,
            &[
                &merchant,
                &batch,
                &state.as_str(),
                &ids,
                &line_nos,
                &msisdns,
                &amounts,
                &fees,
                &routes,
                &client_refs,
                &names,
                &notes,
            ],
        )
        .await?
        .ok_or(StoreError::NotFound { what: "batch" })?;
    let inserted: i32 = row.get(0);
    Ok(u64::try_from(inserted).expect("a count is never negative"))
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
    pub route: String,
    /// How many times the line has been claimed for sending, this time included.
    pub attempts: i32,
}

const CLAIM_CHUNK: &str = "
    UPDATE payout_lines AS line
       SET state = $4, attempts = line.attempts + 1, updated_at = now()
      FROM (SELECT id FROM payout_lines
             WHERE batch_id = $1 AND state = $3
             ORDER BY line_no LIMIT $2
             FOR UPDATE SKIP LOCKED) AS next
     WHERE line.id = next.id
    RETURNING line.id, line.line_no, line.reference, line.msisdn, line.amount, line.fee,
              line.route, line.attempts";

/// Claims up to `limit` queued lines of a batch, in line order, and marks them `sending`
/// in the same statement, so the mark is durable before any request leaves. Lines another
/// transaction holds are skipped, never claimed twice.
pub async fn claim_chunk(
    client: &impl GenericClient,
    batch: BatchId,
    limit: u32,
) -> Result<Vec<ClaimedLine>, StoreError> {
    let from = PayoutState::Queued;
    let to = from.apply(&PayoutEvent::Claim)?;
    let statement = client.prepare_cached(CLAIM_CHUNK).await?;
    let rows = client
        .query(
            &statement,
            &[&batch, &i64::from(limit), &from.as_str(), &to.as_str()],
        )
        .await?;
    let mut lines = rows
        .iter()
        .map(|row| {
            Ok(ClaimedLine {
                id: row.try_get(0)?,
                line_no: row.try_get(1)?,
                reference: row.try_get(2)?,
                msisdn: row.try_get(3)?,
                amount: row.try_get(4)?,
                fee: row.try_get(5)?,
                route: row.try_get(6)?,
                attempts: row.try_get(7)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    lines.sort_by_key(|line| line.line_no);
    Ok(lines)
}

const TRANSITION_LINES: &str = "
    UPDATE payout_lines SET state = $3, updated_at = now()
     WHERE id = ANY($1) AND state = $2
    RETURNING id";

/// Moves lines that are in `from` by `event`; returns the ids that moved. A line no longer
/// in `from` (someone else moved it first) is left alone and not returned.
pub async fn transition_lines(
    client: &impl GenericClient,
    ids: &[PayoutId],
    from: PayoutState,
    event: PayoutEvent,
) -> Result<Vec<PayoutId>, StoreError> {
    let to = from.apply(&event)?;
    let ids: Vec<Uuid> = ids.iter().map(|id| *id.as_uuid()).collect();
    let statement = client.prepare_cached(TRANSITION_LINES).await?;
    let rows = client
        .query(&statement, &[&ids, &from.as_str(), &to.as_str()])
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
      FROM payout_lines WHERE batch_id = $1 GROUP BY state ORDER BY state";

/// Counts a batch's lines per state.
pub async fn count_by_state(
    client: &impl GenericClient,
    batch: BatchId,
) -> Result<Vec<StateCount>, StoreError> {
    let rows = client.query(COUNT_BY_STATE, &[&batch]).await?;
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
