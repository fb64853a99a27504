//! A payroll as JSON: `{"lines": [{"msisdn", "amount", "name"?, "reference"?, "note"?}]}`.
//! Each line's number in reports is its position in the list, from 1.

use axum::body::Body;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{self, BodyHash};
use super::upload::Upload;
use crate::amount_text::AmountText;
use crate::lines::RawLine;
use crate::problem::ApiError;

/// A payroll batch written as JSON.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonBatch {
    pub lines: Vec<JsonLine>,
}

/// One payout of a JSON batch.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonLine {
    pub msisdn: String,
    pub amount: AmountText,
    pub name: Option<String>,
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// Reads the whole JSON body into `upload`; returns the body's SHA-256.
pub async fn read(body: Body, upload: &mut Upload<'_>) -> Result<[u8; 32], ApiError> {
    let hash = BodyHash::default();
    let mut bytes = Vec::new();
    let mut chunks = body::chunks(body, hash.clone());
    while let Some(chunk) = chunks.next().await {
        bytes.extend_from_slice(&chunk.map_err(body::read_error)?);
    }
    let batch: JsonBatch = serde_json::from_slice(&bytes).map_err(|error| {
        if error.is_data() {
            ApiError::Invalid {
                detail: error.to_string(),
                errors: Vec::new(),
            }
        } else {
            ApiError::bad_request("malformed-json", error.to_string())
        }
    })?;
    drop(bytes);
    for (index, line) in batch.lines.iter().enumerate() {
        let line_no = i32::try_from(index + 1)
            .map_err(|_| ApiError::invalid_field("lines", "more lines than a batch may have"))?;
        let amount = line.amount.text();
        let raw = RawLine {
            msisdn: &line.msisdn,
            amount: &amount,
            name: line.name.as_deref(),
            reference: line.reference.as_deref(),
            note: line.note.as_deref(),
        };
        upload.line(line_no, raw).await?;
    }
    Ok(hash.finish())
}
