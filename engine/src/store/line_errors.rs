//! The per-line validation report of a batch refused as `invalid`: each line's number in
//! its file, the field and the reason. Every error is kept, written with one binary COPY as
//! the upload is read, and read back in (line, field) order, a page or the whole report.

use std::pin::Pin;

use deadpool_postgres::{GenericClient, Transaction};
use futures_util::{Stream, TryStreamExt};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::StoreError;
use crate::ids::{BatchId, MerchantId};

/// Why one line of an upload was refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineError {
    /// The line's number in its file (the header is line 1), or its index in a JSON list.
    pub line: i32,
    /// The column at fault, or `line` for a line that could not be split into columns.
    pub field: String,
    pub reason: String,
}

const COPY_ERRORS: &str = "
    COPY batch_line_errors (batch_id, merchant_id, line_no, field, reason)
    FROM STDIN (FORMAT binary)";

const COPY_TYPES: [Type; 5] = [Type::UUID, Type::UUID, Type::INT4, Type::TEXT, Type::TEXT];

/// One binary COPY of a batch's report, kept open while the upload is read. At most one
/// error per line and field.
pub struct ErrorWriter {
    writer: Pin<Box<BinaryCopyInWriter>>,
    merchant: MerchantId,
    batch: BatchId,
}

impl std::fmt::Debug for ErrorWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorWriter")
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl ErrorWriter {
    pub async fn open(
        tx: &Transaction<'_>,
        merchant: MerchantId,
        batch: BatchId,
    ) -> Result<ErrorWriter, StoreError> {
        let sink = tx.copy_in(COPY_ERRORS).await?;
        Ok(ErrorWriter {
            writer: Box::pin(BinaryCopyInWriter::new(sink, &COPY_TYPES)),
            merchant,
            batch,
        })
    }

    pub async fn write(&mut self, error: &LineError) -> Result<(), StoreError> {
        let row: [&(dyn ToSql + Sync); 5] = [
            &self.batch,
            &self.merchant,
            &error.line,
            &error.field,
            &error.reason,
        ];
        self.writer.as_mut().write(&row).await?;
        Ok(())
    }

    /// Ends the COPY; returns the errors written.
    pub async fn finish(mut self) -> Result<u64, StoreError> {
        Ok(self.writer.as_mut().finish().await?)
    }
}

/// Where a page of the report starts: after this line and field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorCursor {
    pub line: i32,
    pub field: String,
}

const PAGE: &str = "
    SELECT line_no, field, reason FROM batch_line_errors
     WHERE batch_id = $1 AND merchant_id = $2 AND (line_no, field) > ($3, $4)
     ORDER BY line_no, field LIMIT $5";

/// Up to `limit` errors after `after`, in (line, field) order.
pub async fn page(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    after: &ErrorCursor,
    limit: i64,
) -> Result<Vec<LineError>, StoreError> {
    let rows = client
        .query(
            PAGE,
            &[&batch, &merchant, &after.line, &after.field, &limit],
        )
        .await?;
    rows.iter().map(error_of).collect()
}

const ALL: &str = "
    SELECT line_no, field, reason FROM batch_line_errors
     WHERE batch_id = $1 AND merchant_id = $2 ORDER BY line_no, field";

/// The whole report, in (line, field) order, as the database sends it: a report of a
/// million lines is never held in memory.
pub async fn stream_all<C: GenericClient>(
    client: &C,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<impl Stream<Item = Result<LineError, StoreError>> + Send + 'static + use<C>, StoreError>
{
    let params: [&(dyn ToSql + Sync); 2] = [&batch, &merchant];
    let rows = client.query_raw(ALL, params).await?;
    Ok(rows
        .map_err(StoreError::from)
        .and_then(|row| async move { error_of(&row) }))
}

fn error_of(row: &tokio_postgres::Row) -> Result<LineError, StoreError> {
    Ok(LineError {
        line: row.try_get(0)?,
        field: row.try_get(1)?,
        reason: row.try_get(2)?,
    })
}
