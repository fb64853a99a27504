//! A report as a file over HTTP: the format from `?format=` or the `Accept` header, a file
//! of up to `DIRECT_ROWS_MAX` rows written and sent at once, a larger one refused with the
//! way to a background export (`POST /v1/exports`).

use axum::body::Body;
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use payrail_engine::app::AppError;
use payrail_engine::app::caller::{Caller, Reader};
use payrail_engine::app::reports::{DIRECT_ROWS_MAX, ReportRequest};
use payrail_engine::export::Format;
use tokio_util::io::ReaderStream;

use crate::AppState;
use crate::problem::ApiError;

/// What the client asked to receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    Json,
    File(Format),
}

/// The format `?format=` names, or else the first the `Accept` header names that we
/// answer in (JSON when it names none, or anything).
pub fn wanted(format: Option<&str>, headers: &HeaderMap) -> Result<Wanted, ApiError> {
    if let Some(name) = format {
        if name.eq_ignore_ascii_case("json") {
            return Ok(Wanted::Json);
        }
        return name.parse().map(Wanted::File).map_err(|_| {
            ApiError::invalid_field(
                "format",
                format!("{name:?} is not a format; formats: json, csv, xlsx, pdf"),
            )
        });
    }
    let Some(accept) = headers.get(ACCEPT).and_then(|value| value.to_str().ok()) else {
        return Ok(Wanted::Json);
    };
    for media in accept.split(',') {
        let media = media.split(';').next().unwrap_or_default().trim();
        let wanted = match media {
            "application/json" | "*/*" | "application/*" => Some(Wanted::Json),
            "text/csv" | "text/*" => Some(Wanted::File(Format::Csv)),
            "application/pdf" => Some(Wanted::File(Format::Pdf)),
            other if other == Format::Xlsx.content_type() => Some(Wanted::File(Format::Xlsx)),
            _ => None,
        };
        if let Some(wanted) = wanted {
            return Ok(wanted);
        }
    }
    Err(ApiError::NotAcceptable(format!(
        "this report is answered as application/json, text/csv, application/pdf or {}; or name one with ?format=json|csv|xlsx|pdf",
        Format::Xlsx.content_type()
    )))
}

/// Writes the report and sends it as an attachment, if it is small enough to answer now.
pub async fn send(
    state: &AppState,
    caller: &Caller,
    request: &ReportRequest,
    format: Format,
) -> Result<Response, ApiError> {
    let reader = Reader::Key(*caller);
    let rows = state.app.report_rows(reader, request).await?;
    if rows > DIRECT_ROWS_MAX {
        return Err(ApiError::Invalid {
            detail: format!(
                "this report has {rows} rows; a file of more than {DIRECT_ROWS_MAX} rows is made in the background: POST /v1/exports"
            ),
            errors: vec![serde_json::json!({
                "field": "format",
                "reason": format!("more than {DIRECT_ROWS_MAX} rows: ask for it with POST /v1/exports"),
            })],
        });
    }
    let file = tempfile::tempfile().map_err(ApiError::internal)?;
    let out = file.try_clone().map_err(ApiError::internal)?;
    let written = state
        .app
        .write_report(reader, request, format, out, &|_| {})
        .await?;
    let mut file = tokio::fs::File::from_std(file);
    tokio::io::AsyncSeekExt::rewind(&mut file)
        .await
        .map_err(ApiError::internal)?;
    attachment(
        format,
        &written.file_name,
        Body::from_stream(ReaderStream::new(file)),
    )
}

/// A file answer: its type, and offered for download under `name`.
pub fn attachment(format: Format, name: &str, body: Body) -> Result<Response, ApiError> {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(ApiError::internal)?;
    Response::builder()
        .header(CONTENT_TYPE, format.content_type())
        .header(CONTENT_DISPOSITION, disposition)
        .body(body)
        .map_err(ApiError::internal)
}

/// A ready background export's file, streamed chunk by chunk as it was stored; an export
/// not ready is a conflict.
pub async fn ready_export(
    state: &AppState,
    caller: &Caller,
    id: payrail_engine::ids::ExportId,
) -> Result<Response, AppError> {
    let export = state.app.export(caller, id).await?;
    if export.state != "ready" {
        return Err(AppError::conflict(
            "export-state",
            format!(
                "this export is {}: only a ready export has a file",
                export.state
            ),
        ));
    }
    let format: Format = export.format.parse().map_err(AppError::internal)?;
    let name = export
        .file_name
        .clone()
        .unwrap_or_else(|| format!("export.{format}"));
    let app = state.app.clone();
    let chunks = futures_util::stream::try_unfold(0_i32, move |seq| {
        let (app, export) = (app.clone(), export.clone());
        async move {
            let chunk = app.export_chunk(&export, seq).await?;
            Ok::<_, AppError>(chunk.map(|chunk| (axum::body::Bytes::from(chunk), seq + 1)))
        }
    });
    attachment(format, &name, Body::from_stream(chunks)).map_err(AppError::internal)
}
