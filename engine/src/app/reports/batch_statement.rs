//! A batch's reconciliation statement: every line tied to its payout id, the operator's
//! reference and transaction id, its fee and outcome, with the totals per state.

use deadpool_postgres::GenericClient;
use futures_util::{Stream, StreamExt};
use jiff::Timestamp;

use crate::app::caller::Reader;
use crate::app::{App, AppError};
use crate::ids::{BatchId, MerchantId};
use crate::store::batch_statements;
pub use crate::store::batch_statements::ReconciledLine;
use crate::store::batches::{self, Batch};
use crate::store::merchants::{self, Merchant};
use crate::store::payout_lines::{self, StateCount};

/// The statement's header and totals.
#[derive(Clone, Debug)]
pub struct BatchStatementHead {
    pub merchant: Merchant,
    pub batch: Batch,
    /// Lines, amounts and fees per state.
    pub counts: Vec<StateCount>,
    pub generated_at: Timestamp,
}

impl App {
    /// The reconciliation of one of the merchant's batches (another merchant's is not
    /// found).
    pub async fn batch_statement_head(
        &self,
        reader: Reader,
        batch: BatchId,
    ) -> Result<BatchStatementHead, AppError> {
        let merchant = reader.merchant()?;
        head(&self.pool.get().await?, merchant, batch).await
    }

    /// Up to `limit` lines of the batch after line `after`.
    pub async fn batch_statement_page(
        &self,
        head: &BatchStatementHead,
        after: i32,
        limit: i64,
    ) -> Result<Vec<ReconciledLine>, AppError> {
        let client = self.pool.get().await?;
        lines(&client, head, after, limit)
            .await?
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }
}

/// The head, read on `client`.
pub(super) async fn head(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<BatchStatementHead, AppError> {
    let merchant = merchants::get(client, merchant).await?;
    let batch = batches::get(client, merchant.id, batch).await?;
    let counts = payout_lines::count_by_state(client, merchant.id, batch.id).await?;
    Ok(BatchStatementHead {
        merchant,
        batch,
        counts,
        generated_at: Timestamp::now(),
    })
}

/// The lines of the batch after line `after`, at most `limit`, read on `client`.
pub(super) async fn lines<C: GenericClient>(
    client: &C,
    head: &BatchStatementHead,
    after: i32,
    limit: i64,
) -> Result<impl Stream<Item = Result<ReconciledLine, AppError>> + Send + use<C>, AppError> {
    let lines =
        batch_statements::lines(client, head.batch.merchant, head.batch.id, after, limit).await?;
    Ok(lines.map(|line| Ok(line?)))
}
