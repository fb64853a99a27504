//! A payroll CSV read as a stream by `payroll_csv`'s strict rules: a line that cannot be
//! split into the header's columns is that line's error, and a file that is not UTF-8 or
//! has a bad header is refused as a whole.

use tokio::io::{AsyncRead, BufReader};

use super::read_error;
use super::writer::Upload;
use crate::app::AppError;
use crate::app::lines::RawLine;
use crate::payroll_csv::{FileFault, PayrollCsv};

/// How much of the file is read ahead.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Reads every line of the CSV into `upload`.
pub async fn read(
    file: impl AsyncRead + Unpin,
    upload: &mut Upload<'_, '_>,
) -> Result<(), AppError> {
    let reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
    let mut csv = PayrollCsv::open(reader).await.map_err(refusal)?;
    while let Some(row) = csv.next().await.map_err(refusal)? {
        match row {
            Ok(row) => upload.line(row.line, RawLine::from_row(&row)).await?,
            Err(fault) => upload.unreadable_line(fault.line, fault.reason).await?,
        }
    }
    Ok(())
}

/// The refusal of a file refused as a whole.
fn refusal(fault: FileFault) -> AppError {
    match fault {
        FileFault::Read(error) => read_error(error),
        FileFault::Utf16 | FileFault::NotUtf8 { .. } | FileFault::Nul { .. } => {
            AppError::malformed("csv-not-utf8", fault.to_string())
        }
        FileFault::Header { .. }
        | FileFault::HeaderTooLong { .. }
        | FileFault::HeaderFields { .. } => AppError::invalid_field("header", fault.to_string()),
        FileFault::Empty | FileFault::TooManyLines => {
            AppError::invalid_field("file", fault.to_string())
        }
    }
}
