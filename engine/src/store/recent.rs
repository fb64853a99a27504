//! For the portal's dashboard: a merchant's latest payouts and collections, newest first,
//! each read from the newest end of its (merchant, id) index (ids are time-ordered); and
//! the counts of what needs attention.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use uuid::Uuid;

use super::StoreError;
use crate::ids::MerchantId;
use crate::money::Amount;

/// A payout or collection, as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentItem {
    /// `payout` or `collection`.
    pub kind: String,
    pub id: Uuid,
    pub state: String,
    pub msisdn: String,
    pub amount: Amount,
    pub fee: Amount,
    pub batch: Option<Uuid>,
    pub created_at: Timestamp,
}

const RECENT: &str = "
    SELECT * FROM (
        (SELECT 'payout' AS kind, id, state, msisdn, amount, fee, batch_id, created_at
           FROM payout_lines WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2)
        UNION ALL
        (SELECT 'collection', id, state, msisdn, amount, fee, NULL::uuid, created_at
           FROM collections WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2)
    ) AS recent ORDER BY created_at DESC, id DESC LIMIT $2";

/// The merchant's `limit` latest payouts and collections.
pub async fn items(
    client: &impl GenericClient,
    merchant: MerchantId,
    limit: i64,
) -> Result<Vec<RecentItem>, StoreError> {
    let rows = client.query(RECENT, &[&merchant, &limit]).await?;
    rows.iter()
        .map(|row| {
            Ok(RecentItem {
                kind: row.try_get(0)?,
                id: row.try_get(1)?,
                state: row.try_get(2)?,
                msisdn: row.try_get(3)?,
                amount: row.try_get(4)?,
                fee: row.try_get(5)?,
                batch: row.try_get(6)?,
                created_at: row.try_get(7)?,
            })
        })
        .collect()
}

/// What needs someone's attention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attention {
    pub awaiting_approval: i64,
    pub awaiting_funds: i64,
    pub paused: i64,
    /// Payouts whose outcome a person must settle.
    pub in_review: i64,
    /// Webhook events that were never delivered.
    pub failed_webhooks: i64,
}

const ATTENTION: &str = "
    SELECT (SELECT count(*) FROM batches WHERE merchant_id = $1 AND kind = 'batch'
               AND state = 'awaiting_approval'),
           (SELECT count(*) FROM batches WHERE merchant_id = $1 AND kind = 'batch'
               AND state = 'awaiting_funds'),
           (SELECT count(*) FROM batches WHERE merchant_id = $1 AND kind = 'batch'
               AND state = 'paused'),
           (SELECT count(*) FROM payout_lines WHERE merchant_id = $1
               AND state = 'requires_review'),
           (SELECT count(*) FROM webhook_events WHERE merchant_id = $1 AND state = 'failed')";

/// What needs attention at the merchant, counted now.
pub async fn attention(
    client: &impl GenericClient,
    merchant: MerchantId,
) -> Result<Attention, StoreError> {
    let statement = client.prepare_cached(ATTENTION).await?;
    let row = client.query_one(&statement, &[&merchant]).await?;
    Ok(Attention {
        awaiting_approval: row.try_get(0)?,
        awaiting_funds: row.try_get(1)?,
        paused: row.try_get(2)?,
        in_review: row.try_get(3)?,
        failed_webhooks: row.try_get(4)?,
    })
}
