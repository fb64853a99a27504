//! Background exports: `POST /v1/exports` asks for a report file (202, with the job),
//! `GET /v1/exports/{id}` follows it to `ready` and its download link, `GET /v1/exports`
//! lists them newest first (the portal's history), and `GET /v1/exports/{id}/file`
//! downloads a ready file. The runner that makes them is `runner`.

pub mod runner;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payrail_engine::app::exports::Export;
use payrail_engine::app::reports::ReportRequest;
use payrail_engine::export::Format;
use payrail_engine::ids::ExportId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Authenticated;
use crate::json::ApiJson;
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::report_files;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show))
        .routes(routes!(file))
}

/// What to export: a report with its parameters, and the format.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `{"report": "statement", "from": "2026-11-01", "to": "2026-11-30"}`,
    /// `{"report": "transactions", "filters": {…the query parameters of /v1/transactions…}}`,
    /// `{"report": "batch_statement", "batch": "…"}` or
    /// `{"report": "analytics", "from": …, "to": …, "granularity": "day"}`.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// `csv`, `xlsx` or `pdf`.
    pub format: String,
}

/// An export and where it stands.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExportView {
    pub id: uuid::Uuid,
    pub report: String,
    pub format: String,
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    /// `queued`, `running`, `ready`, `failed` or `expired`.
    pub state: String,
    pub failure: Option<String>,
    pub file_name: Option<String>,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    /// Where to download it, once ready.
    pub download_url: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<jiff::Timestamp>,
    /// When the file is removed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<jiff::Timestamp>,
}

fn view(export: &Export) -> ExportView {
    ExportView {
        id: *export.id.as_uuid(),
        report: export.report.clone(),
        format: export.format.clone(),
        parameters: export.parameters.clone(),
        state: export.state.clone(),
        failure: export.failure.clone(),
        file_name: export.file_name.clone(),
        rows: export.rows,
        bytes: export.bytes,
        download_url: (export.state == "ready").then(|| format!("/v1/exports/{}/file", export.id)),
        created_at: export.created_at,
        finished_at: export.finished_at,
        expires_at: export.expires_at,
    }
}

fn export_id(text: &str) -> Result<ExportId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound("no such export".into()))
}

/// Asks for a report file made in the background.
#[utoipa::path(post, path = "/v1/exports", operation_id = "create_export", tag = "exports",
    request_body = ExportRequest,
    responses(
        (status = 202, description = "The export, queued", body = ExportView),
        (status = 404, description = "The batch named is not this merchant's"),
        (status = 422, description = "The report, its parameters or the format are not acceptable")))]
async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiJson(body): ApiJson<ExportRequest>,
) -> Result<Response, ApiError> {
    let request: ReportRequest = serde_json::from_value(body.report)
        .map_err(|error| ApiError::invalid_field("report", error.to_string()))?;
    let format: Format = body.format.parse().map_err(|_| {
        ApiError::invalid_field(
            "format",
            format!("{:?} is not one of csv, xlsx, pdf", body.format),
        )
    })?;
    let export = state.app.request_export(&caller, &request, format).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&export))).into_response())
}

/// One export.
#[utoipa::path(get, path = "/v1/exports/{id}", operation_id = "get_export", tag = "exports",
    params(("id" = String, Path, description = "The export's id")),
    responses(
        (status = 200, description = "The export", body = ExportView),
        (status = 404, description = "No such export for this merchant")))]
async fn show(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ExportView>, ApiError> {
    let export = state.app.export(&caller, export_id(&id)?).await?;
    Ok(Json(view(&export)))
}

/// The merchant's exports, newest first.
#[utoipa::path(get, path = "/v1/exports", operation_id = "list_exports", tag = "exports",
    params(PageQuery),
    responses((status = 200, description = "A page of exports (`data`, `next_cursor`)")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<ExportView>>, ApiError> {
    let bounds = page.bounds()?;
    let before = bounds.after_id()?.map(ExportId::from_uuid);
    let exports = state.app.exports(&caller, before, bounds.limit + 1).await?;
    let views = exports.iter().map(view).collect();
    Ok(Json(Page::from_rows(
        views,
        &bounds,
        |view: &ExportView| Key::Id(view.id),
    )))
}

/// Downloads a ready export's file.
#[utoipa::path(get, path = "/v1/exports/{id}/file", operation_id = "download_export", tag = "exports",
    params(("id" = String, Path, description = "The export's id")),
    responses(
        (status = 200, description = "The file (CSV, XLSX or PDF)"),
        (status = 404, description = "No such export for this merchant"),
        (status = 409, description = "The export is not ready (queued, running, failed or expired)")))]
async fn file(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(report_files::ready_export(&state, &caller, export_id(&id)?).await?)
}
