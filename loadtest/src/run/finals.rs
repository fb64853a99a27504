//! The end of a run, read from the database: waiting (with a progress bar) until every
//! payout line and collection of the run's merchants is final, then when each became so.

use std::time::Duration;

use anyhow::bail;
use deadpool_postgres::Pool;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use payrail_engine::ids::MerchantId;
use uuid::Uuid;

/// A payout line's or a collection's end.
#[derive(Debug)]
pub struct Ended {
    pub id: Uuid,
    /// The batch of a payout line; `None` for a collection.
    pub batch: Option<Uuid>,
    pub state: String,
    pub at: Timestamp,
}

const OPEN: &str = "
    SELECT (SELECT count(*) FROM payout_lines
             WHERE merchant_id = ANY($1)
               AND state NOT IN ('succeeded', 'failed', 'rejected', 'cancelled', 'requires_review'))
         + (SELECT count(*) FROM collections
             WHERE merchant_id = ANY($1) AND state = 'pending')";

const ENDED: &str = "
    SELECT id, batch_id, state, updated_at FROM payout_lines WHERE merchant_id = ANY($1)
    UNION ALL
    SELECT id, NULL, state, updated_at FROM collections WHERE merchant_id = ANY($1)";

/// Waits until nothing of the merchants' is open, showing how much of `offered` is done;
/// gives up after `patience`.
pub async fn wait(
    pool: &Pool,
    merchants: &[MerchantId],
    offered: u64,
    patience: Duration,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(offered).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} final {msg}")?
            .progress_chars("=> "),
    );
    let client = pool.get().await?;
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let open: i64 = client.query_one(OPEN, &[&merchants]).await?.get(0);
        bar.set_position(offered.saturating_sub(u64::try_from(open)?));
        if open == 0 {
            bar.finish();
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bar.abandon_with_message("(gave up)");
            bail!("{open} payouts or collections were still open after {patience:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every payout line and collection of the merchants, with its state and when it got there.
pub async fn ended(pool: &Pool, merchants: &[MerchantId]) -> anyhow::Result<Vec<Ended>> {
    let client = pool.get().await?;
    let rows = client.query(ENDED, &[&merchants]).await?;
    rows.iter()
        .map(|row| {
            Ok(Ended {
                id: row.try_get(0)?,
                batch: row.try_get(1)?,
                state: row.try_get(2)?,
                at: row.try_get(3)?,
            })
        })
        .collect()
}

const BY_CALLBACK: &str = "
    SELECT count(*) FROM callback_settlements WHERE merchant_id = ANY($1)";

/// How many of the merchants' payouts an authenticated callback ended (the others ended on
/// the operator's own answer to a send or a status query).
pub async fn ended_by_callback(pool: &Pool, merchants: &[MerchantId]) -> anyhow::Result<u64> {
    let ids: Vec<Uuid> = merchants.iter().map(|m| *m.as_uuid()).collect();
    let count: i64 = pool
        .get()
        .await?
        .query_one(BY_CALLBACK, &[&ids])
        .await?
        .get(0);
    Ok(u64::try_from(count)?)
}
