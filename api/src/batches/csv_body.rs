//! A payroll CSV read as a stream: a header row naming the columns (`msisdn`, `amount`,
//! optional `name`, `reference`, `note`, in any order), a UTF-8 byte-order mark and CRLF
//! line ends accepted, quoted fields accepted. A file that is not UTF-8 (Latin-1 from an
//! old spreadsheet, UTF-16 from "Unicode text") is refused as a whole with a clear error.

use std::io;

use axum::body::{Body, Bytes};
use csv_async::{AsyncReaderBuilder, ByteRecord};
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::io::StreamReader;

use super::body::{self, BodyHash};
use super::upload::Upload;
use crate::lines::RawLine;
use crate::problem::ApiError;

const COLUMNS: [&str; 5] = ["msisdn", "amount", "name", "reference", "note"];

/// Where each column is in the file.
#[derive(Clone, Copy, Debug)]
struct Columns {
    msisdn: usize,
    amount: usize,
    name: Option<usize>,
    reference: Option<usize>,
    note: Option<usize>,
}

/// Reads every line of the CSV body into `upload`; returns the body's SHA-256.
pub async fn read(body: Body, upload: &mut Upload<'_>) -> Result<[u8; 32], ApiError> {
    let hash = BodyHash::default();
    let chunks = line_feeds_only(body::chunks(body, hash.clone()));
    let mut reader = BufReader::with_capacity(256 * 1024, StreamReader::new(chunks));
    let start = reader.fill_buf().await.map_err(body::read_error)?;
    if start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]) {
        return Err(not_utf8(
            "the file is UTF-16 (\"Unicode text\"); save it as CSV UTF-8 and upload it again",
        ));
    }
    let mut records = AsyncReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .create_reader(reader)
        .into_byte_records();
    let header = match records.next().await {
        Some(record) => record.map_err(csv_error)?,
        None => return Err(ApiError::invalid_field("file", "the file is empty")),
    };
    let columns = columns(&header)?;
    while let Some(record) = records.next().await {
        let record = record.map_err(csv_error)?;
        // The file's own line number, the header being line 1 (see `line_feeds_only`).
        let line_no = record
            .position()
            .and_then(|position| i32::try_from(position.line()).ok())
            .ok_or_else(|| ApiError::invalid_field("file", "more lines than a batch may have"))?;
        let field = |at: usize| text(&record, at, line_no);
        let optional = |at: Option<usize>| at.map(field).transpose();
        let raw = RawLine {
            msisdn: field(columns.msisdn)?,
            amount: field(columns.amount)?,
            name: optional(columns.name)?,
            reference: optional(columns.reference)?,
            note: optional(columns.note)?,
        };
        upload.line(line_no, raw).await?;
    }
    Ok(hash.finish())
}

/// The stream with every CRLF turned into LF. The CSV reader counts a CRLF line end on
/// the next record, numbering every line after the first one short; with LF alone its
/// numbers are the file's. The file's hash is taken before this, on the bytes as sent.
fn line_feeds_only(
    chunks: impl Stream<Item = io::Result<Bytes>> + Send + Unpin,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin {
    let mut held_return = false;
    chunks.map(move |chunk| {
        let chunk = chunk?;
        let mut out = Vec::with_capacity(chunk.len() + 1);
        if std::mem::take(&mut held_return) && chunk.first() != Some(&b'\n') {
            out.push(b'\r');
        }
        let mut bytes = &chunk[..];
        if let Some((b'\r', rest)) = bytes.split_last() {
            held_return = true;
            bytes = rest;
        }
        let mut at = 0;
        while at < bytes.len() {
            if !(bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n')) {
                out.push(bytes[at]);
            }
            at += 1;
        }
        Ok(Bytes::from(out))
    })
}

fn columns(header: &ByteRecord) -> Result<Columns, ApiError> {
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(at, name)| {
            let name = std::str::from_utf8(name).map_err(|_| not_utf8_on(1))?;
            let name = if at == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                name
            };
            Ok(name.trim().to_ascii_lowercase())
        })
        .collect::<Result<_, ApiError>>()?;
    if let Some(unknown) = names.iter().find(|name| !COLUMNS.contains(&name.as_str())) {
        return Err(ApiError::invalid_field(
            "header",
            format!(
                "unknown column {unknown:?}; the columns are msisdn, amount and optionally name, reference, note"
            ),
        ));
    }
    let at = |wanted: &str| names.iter().position(|name| name == wanted);
    let (Some(msisdn), Some(amount)) = (at("msisdn"), at("amount")) else {
        return Err(ApiError::invalid_field(
            "header",
            "the first line must name the columns, with at least msisdn and amount",
        ));
    };
    Ok(Columns {
        msisdn,
        amount,
        name: at("name"),
        reference: at("reference"),
        note: at("note"),
    })
}

/// A field as text; a missing field (a short line) is empty and fails its own check.
fn text(record: &ByteRecord, at: usize, line_no: i32) -> Result<&str, ApiError> {
    let bytes = record.get(at).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|_| not_utf8_on(line_no))?;
    if text.contains('\0') {
        return Err(not_utf8(
            "the file contains NUL bytes, as UTF-16 files do; save it as CSV UTF-8 and upload it again",
        ));
    }
    Ok(text)
}

fn not_utf8_on(line_no: i32) -> ApiError {
    not_utf8(&format!(
        "line {line_no} is not UTF-8: the file looks like Latin-1 or Windows-1252; save it as CSV UTF-8 and upload it again"
    ))
}

fn not_utf8(detail: &str) -> ApiError {
    ApiError::bad_request("csv-not-utf8", detail)
}

fn csv_error(error: csv_async::Error) -> ApiError {
    let position = error.position().map(|p| p.line());
    match error.into_kind() {
        csv_async::ErrorKind::Io(io) => body::read_error(io),
        csv_async::ErrorKind::Utf8 { .. } => {
            not_utf8_on(position.and_then(|l| i32::try_from(l).ok()).unwrap_or(1))
        }
        other => ApiError::bad_request(
            "unreadable-csv",
            format!(
                "the CSV could not be read{}: {other:?}",
                position
                    .map(|l| format!(" at line {l}"))
                    .unwrap_or_default()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn normalised(chunks: &[&'static [u8]]) -> Vec<u8> {
        let stream = futures_util::stream::iter(
            chunks
                .iter()
                .map(|chunk| Ok(Bytes::from_static(chunk)))
                .collect::<Vec<_>>(),
        );
        let mut out = Vec::new();
        let mut lines = line_feeds_only(stream);
        while let Some(chunk) = lines.next().await {
            out.extend_from_slice(&chunk.expect("a chunk"));
        }
        out
    }

    #[tokio::test]
    async fn crlf_becomes_lf_even_across_chunks_and_a_lone_return_stays() {
        assert_eq!(normalised(&[b"a,1\r\nb,2\r\n"]).await, b"a,1\nb,2\n");
        assert_eq!(normalised(&[b"a,1\r", b"\nb,2"]).await, b"a,1\nb,2");
        assert_eq!(normalised(&[b"a\r", b"b"]).await, b"a\rb");
    }
}
