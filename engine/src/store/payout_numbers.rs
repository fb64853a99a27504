//! Payout lines' numbers, reversed, for a search by their last digits (V12): written for
//! whole batches once they are stored, sorted, so that neither an upload nor a single
//! payout's commit pays for them. A batch not yet indexed is searched through its lines.

use deadpool_postgres::Client;
use uuid::Uuid;

use super::StoreError;
use crate::ids::MerchantId;

/// Batches indexed per round: `index_pending` repeats until none is left.
const BATCHES_PER_ROUND: i64 = 200;

/// Stored batches not yet indexed (a batch still `received` may gain lines), by merchant.
/// Read without a lock: two nodes indexing one batch at once write its numbers once (the
/// second waits for the first's rows, then skips them).
const PENDING: &str = "
    SELECT merchant_id, id FROM batches
     WHERE NOT numbers_indexed AND state <> 'received'
     ORDER BY merchant_id, id
     LIMIT $1";

const WRITE_NUMBERS: &str = "
    INSERT INTO payout_line_numbers (merchant_id, reversed_msisdn, payout_id)
    SELECT merchant_id, reverse(msisdn), id FROM payout_lines
     WHERE batch_id = ANY($1) AND merchant_id = $2
     ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING";

/// Marks the batches, those whose row is free only: a batch's own updates (its run, its
/// completion) never wait for its numbers, and a mark never waits for them, so the two
/// cannot deadlock. A batch left unmarked is indexed again (to no effect) next time.
const MARK_INDEXED: &str = "
    WITH free AS (SELECT id FROM batches
                   WHERE id = ANY($1) AND merchant_id = $2 FOR UPDATE SKIP LOCKED)
    UPDATE batches SET numbers_indexed = true
      FROM free WHERE batches.id = free.id AND batches.merchant_id = $2";

/// Indexes the numbers of every stored batch not yet indexed, one transaction per
/// merchant in each round (a merchant's numbers and marks commit together, and no
/// transaction spans two merchants); returns how many batches it marked.
pub async fn index_pending(client: &mut Client) -> Result<u64, StoreError> {
    let mut batches = 0;
    loop {
        let pending: Vec<(MerchantId, Uuid)> = client
            .query(PENDING, &[&BATCHES_PER_ROUND])
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, StoreError>>()?;
        if pending.is_empty() {
            return Ok(batches);
        }
        let mut marked = 0;
        for merchants_batches in pending.chunk_by(|a, b| a.0 == b.0) {
            let merchant = merchants_batches[0].0;
            let ids: Vec<Uuid> = merchants_batches.iter().map(|(_, id)| *id).collect();
            let tx = client.transaction().await?;
            tx.execute(WRITE_NUMBERS, &[&ids, &merchant]).await?;
            marked += tx.execute(MARK_INDEXED, &[&ids, &merchant]).await?;
            tx.commit().await?;
        }
        batches += marked;
        let full = pending.len() == usize::try_from(BATCHES_PER_ROUND).unwrap_or(usize::MAX);
        if !full || marked == 0 {
            return Ok(batches);
        }
    }
}
