//! Payouts as the API shows them: one line with its batch's currency, read by id, or a
//! batch's lines in line order with filters. Every read is scoped to its merchant.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use tokio_postgres::Row;

use super::StoreError;
use crate::ids::{BatchId, MerchantId, PayoutId, Reference};
use crate::money::{Amount, Currency};
use crate::route::RouteName;
use crate::state::payout::PayoutState;

/// One payout line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    pub id: PayoutId,
    pub batch: BatchId,
    pub line_no: i32,
    pub msisdn: String,
    pub amount: Amount,
    pub fee: Amount,
    pub currency: Currency,
    pub route: String,
    /// The id the operator knows it by.
    pub reference: Reference,
    /// The merchant's own reference.
    pub client_reference: Option<String>,
    pub name: Option<String>,
    pub note: Option<String>,
    pub state: PayoutState,
    pub failure_code: Option<String>,
    pub operator_transaction_id: Option<String>,
    pub attempts: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "
    l.id, l.batch_id, l.line_no, l.msisdn, l.amount, l.fee, b.currency, l.route, l.reference,
    l.client_reference, l.name, l.note, l.state, l.failure_code, l.operator_transaction_id,
    l.attempts, l.created_at, l.updated_at";

fn from_row(row: &Row) -> Result<Payout, StoreError> {
    let currency: &str = row.try_get(6)?;
    Ok(Payout {
        id: row.try_get(0)?,
        batch: row.try_get(1)?,
        line_no: row.try_get(2)?,
        msisdn: row.try_get(3)?,
        amount: row.try_get(4)?,
        fee: row.try_get(5)?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency}")))?,
        route: row.try_get(7)?,
        reference: row.try_get(8)?,
        client_reference: row.try_get(9)?,
        name: row.try_get(10)?,
        note: row.try_get(11)?,
        state: row.try_get(12)?,
        failure_code: row.try_get(13)?,
        operator_transaction_id: row.try_get(14)?,
        attempts: row.try_get(15)?,
        created_at: row.try_get(16)?,
        updated_at: row.try_get(17)?,
    })
}

/// Reads one payout; another merchant's is `NotFound`.
pub async fn get(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: PayoutId,
) -> Result<Payout, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} FROM payout_lines l
          JOIN batches b ON b.id = l.batch_id AND b.merchant_id = l.merchant_id
          WHERE l.id = $1 AND l.merchant_id = $2"
    );
    let row = client
        .query_opt(&query, &[&id, &merchant])
        .await?
        .ok_or(StoreError::NotFound { what: "payout" })?;
    from_row(&row)
}

/// Which lines of a batch to list.
#[derive(Clone, Debug, Default)]
pub struct LineFilter {
    pub state: Option<PayoutState>,
    /// E.164 digits.
    pub msisdn: Option<String>,
    /// The merchant's own reference.
    pub reference: Option<String>,
}

/// Up to `limit` lines of a batch after line `after_line`, in line order.
pub async fn in_batch(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    filter: &LineFilter,
    after_line: i32,
    limit: i64,
) -> Result<Vec<Payout>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} FROM payout_lines l
          JOIN batches b ON b.id = l.batch_id AND b.merchant_id = l.merchant_id
          WHERE l.batch_id = $1 AND l.merchant_id = $2 AND l.line_no > $3
            AND ($4::text IS NULL OR l.state = $4)
            AND ($5::text IS NULL OR l.msisdn = $5)
            AND ($6::text IS NULL OR l.client_reference = $6)
          ORDER BY l.line_no LIMIT $7"
    );
    let state = filter.state.map(PayoutState::as_str);
    let rows = client
        .query(
            &query,
            &[
                &batch,
                &merchant,
                &after_line,
                &state,
                &filter.msisdn,
                &filter.reference,
                &limit,
            ],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

const ROUTE_AND_REFERENCE: &str = "SELECT route, reference FROM payout_lines WHERE id = $1";

/// The route and operator reference of a payout, whoever's it is: what an operator's
/// callback naming it needs to bring its status query forward.
pub async fn route_and_reference(
    client: &impl GenericClient,
    payout: PayoutId,
) -> Result<Option<(RouteName, Reference)>, StoreError> {
    let statement = client.prepare_cached(ROUTE_AND_REFERENCE).await?;
    let Some(row) = client.query_opt(&statement, &[&payout]).await? else {
        return Ok(None);
    };
    let route: &str = row.try_get(0)?;
    let route = RouteName::new(route).map_err(|_| StoreError::Corrupt(format!("route {route}")))?;
    Ok(Some((route, row.try_get(1)?)))
}
