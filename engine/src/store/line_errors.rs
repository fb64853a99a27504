//! The per-line validation report of a batch refused as `invalid`: each line's number in
//! its file, the field and the reason, written in one statement and read in line order.

use deadpool_postgres::GenericClient;

use super::StoreError;
use crate::ids::{BatchId, MerchantId};

/// Why one line of an upload was refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineError {
    /// The line's number in its file (the header is line 1), or its index in a JSON list.
    pub line: i32,
    pub field: String,
    pub reason: String,
}

const INSERT: &str = "
    INSERT INTO batch_line_errors (batch_id, merchant_id, line_no, field, reason)
    SELECT $1, $2, line_no, field, reason
      FROM unnest($3::int[], $4::text[], $5::text[]) AS error (line_no, field, reason)
    ON CONFLICT DO NOTHING";

/// Writes a batch's report.
pub async fn insert(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    errors: &[LineError],
) -> Result<(), StoreError> {
    let lines: Vec<i32> = errors.iter().map(|e| e.line).collect();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    let reasons: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
    client
        .execute(INSERT, &[&batch, &merchant, &lines, &fields, &reasons])
        .await?;
    Ok(())
}

const LIST: &str = "
    SELECT line_no, field, reason FROM batch_line_errors
     WHERE batch_id = $1 AND merchant_id = $2 AND line_no > $3
     ORDER BY line_no, field LIMIT $4";

/// Up to `limit` errors of lines after `after_line`, in line order.
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
    after_line: i32,
    limit: i64,
) -> Result<Vec<LineError>, StoreError> {
    let rows = client
        .query(LIST, &[&batch, &merchant, &after_line, &limit])
        .await?;
    rows.iter()
        .map(|row| {
            Ok(LineError {
                line: row.try_get(0)?,
                field: row.try_get(1)?,
                reason: row.try_get(2)?,
            })
        })
        .collect()
}
