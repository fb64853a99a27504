//! A merchant's latest payouts and collections, newest first, for the portal's dashboard:
//! each read from the newest end of its (merchant, id) index, ids being time-ordered.

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
