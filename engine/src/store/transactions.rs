//! A merchant's money movements in one list: payouts (single and payroll lines) and
//! collections, oldest first by id (UUIDv7, so by creation), filtered by time, type and
//! state. Statements and exports build on this later.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use uuid::Uuid;

use super::StoreError;
use crate::ids::MerchantId;
use crate::money::{Amount, Currency};

/// What kind of movement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    Payout,
    Collection,
}

impl TransactionType {
    pub const fn as_str(self) -> &'static str {
        match self {
            TransactionType::Payout => "payout",
            TransactionType::Collection => "collection",
        }
    }
}

/// One payout or collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub kind: TransactionType,
    pub id: Uuid,
    /// The payout's state or the collection's.
    pub state: String,
    pub msisdn: String,
    pub amount: Amount,
    pub fee: Amount,
    pub currency: Currency,
    pub reference: Option<String>,
    pub failure_code: Option<String>,
    pub operator_transaction_id: Option<String>,
    /// The batch a payout belongs to.
    pub batch: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which movements to list.
#[derive(Clone, Debug, Default)]
pub struct TransactionFilter {
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub kind: Option<TransactionType>,
    pub state: Option<String>,
}

// Each half reads one merchant's rows in id order through its (merchant_id, id) index and
// stops at the page's size, so a page costs what it returns, whatever other merchants hold.
// A payout line is written in its batch's transaction, so its `created_at` is its batch's.
const LIST: &str = "
    SELECT * FROM (
        (SELECT 'payout' AS kind, l.id, l.state, l.msisdn, l.amount, l.fee, b.currency,
                l.client_reference, l.failure_code, l.operator_transaction_id, l.batch_id,
                l.created_at, l.updated_at
           FROM payout_lines l JOIN batches b ON b.id = l.batch_id
          WHERE l.merchant_id = $1 AND ($2::text IS NULL OR $2 = 'payout')
            AND ($3::timestamptz IS NULL OR l.created_at >= $3)
            AND ($4::timestamptz IS NULL OR l.created_at < $4)
            AND ($5::text IS NULL OR l.state = $5) AND ($6::uuid IS NULL OR l.id > $6)
          ORDER BY l.id LIMIT $7)
        UNION ALL
        (SELECT 'collection', c.id, c.state, c.msisdn, c.amount, c.fee, c.currency,
                c.client_reference, c.failure_code, c.operator_transaction_id, NULL,
                c.created_at, c.updated_at
           FROM collections c
          WHERE c.merchant_id = $1 AND ($2::text IS NULL OR $2 = 'collection')
            AND ($3::timestamptz IS NULL OR c.created_at >= $3)
            AND ($4::timestamptz IS NULL OR c.created_at < $4)
            AND ($5::text IS NULL OR c.state = $5) AND ($6::uuid IS NULL OR c.id > $6)
          ORDER BY c.id LIMIT $7)
    ) AS movement
     ORDER BY id LIMIT $7";

/// Up to `limit` movements after id `after`.
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
    filter: &TransactionFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Transaction>, StoreError> {
    let kind = filter.kind.map(TransactionType::as_str);
    let rows = client
        .query(
            LIST,
            &[
                &merchant,
                &kind,
                &filter.from,
                &filter.until,
                &filter.state,
                &after,
                &limit,
            ],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let kind = match row.try_get::<_, &str>(0)? {
                "payout" => TransactionType::Payout,
                _ => TransactionType::Collection,
            };
            let currency: &str = row.try_get(6)?;
            Ok(Transaction {
                kind,
                id: row.try_get(1)?,
                state: row.try_get(2)?,
                msisdn: row.try_get(3)?,
                amount: row.try_get(4)?,
                fee: row.try_get(5)?,
                currency: currency
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("currency {currency}")))?,
                reference: row.try_get(7)?,
                failure_code: row.try_get(8)?,
                operator_transaction_id: row.try_get(9)?,
                batch: row.try_get(10)?,
                created_at: row.try_get(11)?,
                updated_at: row.try_get(12)?,
            })
        })
        .collect()
}

/// The plan PostgreSQL chooses for a merchant's first page, one line a row of EXPLAIN's
/// text (with `analyze`, run and timed): what benchmarks print and tests hold to.
pub async fn explain_first_page(
    client: &impl GenericClient,
    merchant: MerchantId,
    analyze: bool,
) -> Result<Vec<String>, StoreError> {
    let options = if analyze {
        "ANALYZE, COSTS OFF"
    } else {
        "COSTS OFF"
    };
    let rows = client
        .query(
            &format!("EXPLAIN ({options}) {LIST}"),
            &[
                &merchant,
                &None::<&str>,
                &None::<Timestamp>,
                &None::<Timestamp>,
                &None::<&str>,
                &None::<Uuid>,
                &51_i64,
            ],
        )
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<_, String>(0)?))
        .collect()
}
