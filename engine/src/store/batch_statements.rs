//! A batch's reconciliation rows: each line with its payout id, what the operator knows
//! it by, its outcome and when it was sent and ended, in line order, as PostgreSQL sends
//! them (a 100,000-line batch is never held whole).

use deadpool_postgres::GenericClient;
use futures_util::{Stream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use uuid::Uuid;

use super::StoreError;
use crate::ids::{BatchId, MerchantId};
use crate::state::payout::PayoutState;

/// One line of a batch, reconciled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconciledLine {
    pub line_no: i32,
    pub reference: Option<String>,
    pub msisdn: String,
    pub name: Option<String>,
    pub amount: i64,
    pub fee: i64,
    pub state: PayoutState,
    pub failure_code: Option<String>,
    pub payout_id: Uuid,
    /// The id the operator knows the payout by.
    pub operator_reference: Uuid,
    pub operator_transaction_id: Option<String>,
    pub sent_at: Option<Timestamp>,
    /// When it ended (none while it is not final).
    pub final_at: Option<Timestamp>,
}

const LINES: &str = "
    SELECT line_no, client_reference, msisdn, name, amount, fee, state, failure_code, id,
           reference, operator_transaction_id, sent_at, updated_at
      FROM payout_lines WHERE batch_id = $1 AND merchant_id = $4 AND line_no > $2
     ORDER BY line_no LIMIT $3";

/// The lines of the merchant's batch after line `after`, at most `limit`, in line order.
pub async fn lines<C: GenericClient>(
    client: &C,
    merchant: MerchantId,
    batch: BatchId,
    after: i32,
    limit: i64,
) -> Result<impl Stream<Item = Result<ReconciledLine, StoreError>> + Send + use<C>, StoreError> {
    let statement = client.prepare_cached(LINES).await?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&batch, &after, &limit, &merchant];
    let rows = client.query_raw(&statement, params).await?;
    Ok(rows.map_err(StoreError::from).map(|row| {
        let row = row?;
        let state: PayoutState = row.try_get(6)?;
        let updated_at: Timestamp = row.try_get(12)?;
        Ok(ReconciledLine {
            line_no: row.try_get(0)?,
            reference: row.try_get(1)?,
            msisdn: row.try_get(2)?,
            name: row.try_get(3)?,
            amount: row.try_get(4)?,
            fee: row.try_get(5)?,
            failure_code: row.try_get(7)?,
            payout_id: row.try_get(8)?,
            operator_reference: row.try_get(9)?,
            operator_transaction_id: row.try_get(10)?,
            sent_at: row.try_get(11)?,
            final_at: state.is_final().then_some(updated_at),
            state,
        })
    }))
}
