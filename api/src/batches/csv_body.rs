//! A payroll CSV read as a stream by `payroll_csv`'s strict rules: a line that cannot be
//! split into the header's columns is that line's error, and a file that is not UTF-8 or
//! has a bad header is refused as a whole.

use axum::body::Body;
use payrail_engine::payroll_csv::{FileFault, PayrollCsv};
use tokio::io::BufReader;
use tokio_util::io::StreamReader;

use super::body::{self, BodyHash};
use super::upload::Upload;
use crate::lines::RawLine;
use crate::problem::ApiError;

/// How much of the body is read ahead.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Reads every line of the CSV body into `upload`; returns the body's SHA-256.
pub async fn read(body: Body, upload: &mut Upload<'_, '_>) -> Result<[u8; 32], ApiError> {
    let hash = BodyHash::default();
    let reader = BufReader::with_capacity(
        READ_BUFFER_BYTES,
        StreamReader::new(body::chunks(body, hash.clone())),
    );
    let mut csv = PayrollCsv::open(reader).await.map_err(refusal)?;
    while let Some(row) = csv.next().await.map_err(refusal)? {
        match row {
            Ok(row) => upload.line(row.line, RawLine::from_row(&row)).await?,
            Err(fault) => upload.unreadable_line(fault.line, fault.reason).await?,
        }
    }
    Ok(hash.finish())
}

/// The problem for a file refused as a whole.
pub fn refusal(fault: FileFault) -> ApiError {
    match fault {
        FileFault::Read(error) => body::read_error(error),
        FileFault::Utf16 | FileFault::NotUtf8 { .. } | FileFault::Nul { .. } => {
            ApiError::bad_request("csv-not-utf8", fault.to_string())
        }
        FileFault::Header { .. }
        | FileFault::HeaderTooLong { .. }
        | FileFault::HeaderFields { .. } => ApiError::invalid_field("header", fault.to_string()),
        FileFault::Empty | FileFault::TooManyLines => {
            ApiError::invalid_field("file", fault.to_string())
        }
    }
}
