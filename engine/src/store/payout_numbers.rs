//! Payout lines' numbers, reversed, for a search by their last digits (V12): written for
//! whole batches once they are stored, sorted, so that neither an upload nor a single
//! payout's commit pays for them. A batch not yet indexed is searched through its lines.

use deadpool_postgres::Client;
use uuid::Uuid;

use super::StoreError;

/// Batches indexed per transaction: `index_pending` repeats until none is left.
const BATCHES_PER_ROUND: i64 = 200;

/// Stored batches not yet indexed (a batch still `received` may gain lines). Read without
/// a lock: two nodes indexing one batch at once write its numbers once (the second waits
/// for the first's rows, then skips them).
const PENDING: &str = "
    SELECT id FROM batches
     WHERE NOT numbers_indexed AND state <> 'received'
     ORDER BY merchant_id, id
     LIMIT $1";

const WRITE_NUMBERS: &str = "
    INSERT INTO payout_line_numbers (merchant_id, reversed_msisdn, payout_id)
    SELECT merchant_id, reverse(msisdn), id FROM payout_lines
     WHERE batch_id = ANY($1)
     ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING";

/// Marks the batches, those whose row is free only: a batch's own updates (its run, its
/// completion) never wait for its numbers, and a mark never waits for them, so the two
/// cannot deadlock. A batch left unmarked is indexed again (to no effect) next time.
const MARK_INDEXED: &str = "
    WITH free AS (SELECT id FROM batches WHERE id = ANY($1) FOR UPDATE SKIP LOCKED)
    UPDATE batches SET numbers_indexed = true FROM free WHERE batches.id = free.id";

/// Indexes the numbers of every stored batch not yet indexed, a round of batches to a
/// transaction (numbers and marks commit together); returns how many batches it marked.
pub async fn index_pending(client: &mut Client) -> Result<u64, StoreError> {
    let mut batches = 0;
    loop {
        let tx = client.transaction().await?;
        let pending: Vec<Uuid> = tx
            .query(PENDING, &[&BATCHES_PER_ROUND])
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        if pending.is_empty() {
            return Ok(batches);
        }
        tx.execute(WRITE_NUMBERS, &[&pending]).await?;
        let marked = tx.execute(MARK_INDEXED, &[&pending]).await?;
        tx.commit().await?;
        batches += marked;
        let full = pending.len() == usize::try_from(BATCHES_PER_ROUND).unwrap_or(usize::MAX);
        if !full || marked == 0 {
            return Ok(batches);
        }
    }
}
