//! What a batch holds, line by line: `GET /v1/batches/{id}/errors` (the validation report,
//! as JSON pages or one CSV file) and `GET /v1/batches/{id}/payouts` (its lines, filtered).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use payrail_engine::app::AppError;
use payrail_engine::app::batches::{ErrorCursor, LineError, PayoutQuery};
use payrail_engine::ids::BatchId;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::batch_id;
use crate::AppState;
use crate::extract::Authenticated;
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::{ApiError, Problem};
use crate::query::ApiQuery;
use crate::views::{LineErrorView, PayoutView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(errors))
        .routes(routes!(lines))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ErrorsQuery {
    /// `csv` for the whole report as one CSV file (also chosen by `Accept: text/csv`).
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// How the report is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Json,
    Csv,
}

/// The validation report of an invalid batch: each bad line's number in the file (the
/// header is line 1), the field (`line` when the line could not be split into columns)
/// and the reason. Every error is kept: the JSON pages and the CSV file hold all of them.
#[utoipa::path(get, path = "/v1/batches/{id}/errors", tag = "batches", operation_id = "list_batch_errors",
    params(("id" = String, Path, description = "The batch's id"), ErrorsQuery, PageQuery),
    responses(
        (status = 200, description = "A page of errors (`data`, `next_cursor`), or the whole report as a CSV file",
            content((Page<LineErrorView> = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No such batch", body = Problem, content_type = "application/problem+json")))]
async fn errors(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ErrorsQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = batch_id(&id)?;
    // Checked even for the CSV file, which has no pages, so that a bad value is never
    // silently ignored.
    let bounds = page.bounds()?;
    let after = bounds
        .after_line_field()?
        .map(|(line, field)| ErrorCursor {
            line,
            field: field.to_owned(),
        })
        .unwrap_or_default();
    let wants_csv = query.format == Some(ReportFormat::Csv)
        || query.format.is_none()
            && headers
                .get(ACCEPT)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|accept| accept.contains("text/csv"));
    if wants_csv {
        let report = state.app.batch_error_report(&caller, id).await?;
        return Ok(csv_report(id, report));
    }
    let rows = state
        .app
        .batch_errors(&caller, id, &after, bounds.limit + 1)
        .await?;
    let views = rows.into_iter().map(LineErrorView::from).collect();
    Ok(
        Json(Page::from_rows(views, &bounds, |error: &LineErrorView| {
            Key::LineField(error.line, error.field.clone())
        }))
        .into_response(),
    )
}

/// The whole report as a CSV file, streamed from the database as it is read.
fn csv_report(
    batch: BatchId,
    report: impl Stream<Item = Result<LineError, AppError>> + Send + 'static,
) -> Response {
    let header =
        futures_util::stream::once(async { Ok(Bytes::from_static(b"line,field,reason\n")) });
    let rows = report.map(|error| {
        let error = error.map_err(std::io::Error::other)?;
        let mut writer = csv::Writer::from_writer(Vec::with_capacity(128));
        writer
            .write_record([error.line.to_string().as_str(), &error.field, &error.reason])
            .map_err(std::io::Error::other)?;
        writer
            .into_inner()
            .map(Bytes::from)
            .map_err(|error| std::io::Error::other(error.to_string()))
    });
    let disposition = format!("attachment; filename=\"batch-{batch}-errors.csv\"");
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(header.chain(rows)),
    )
        .into_response()
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinesQuery {
    /// Only lines in this state (`succeeded`, `failed`, `queued`, …).
    pub state: Option<String>,
    /// Only lines to this number.
    pub msisdn: Option<String>,
    /// Only the line with this reference of yours.
    pub reference: Option<String>,
}

/// A batch's payouts in line order, optionally filtered.
#[utoipa::path(get, path = "/v1/batches/{id}/payouts", operation_id = "list_batch_payouts", tag = "batches",
    params(("id" = String, Path, description = "The batch's id"), LinesQuery, PageQuery),
    responses(
        (status = 200, description = "A page of payouts (`data`, `next_cursor`)"),
        (status = 404, description = "No such batch")))]
async fn lines(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LinesQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<PayoutView>>, ApiError> {
    let id = batch_id(&id)?;
    let bounds = page.bounds()?;
    let after = i32::try_from(bounds.after_number()?.unwrap_or(0))
        .map_err(|_| ApiError::invalid_field("cursor", "out of range"))?;
    let filter = PayoutQuery {
        state: query.state,
        msisdn: query.msisdn,
        reference: query.reference,
    };
    let rows = state
        .app
        .batch_payouts(&caller, id, &filter, after, bounds.limit + 1)
        .await?;
    let views = rows.iter().map(PayoutView::from).collect();
    Ok(Json(Page::from_rows(
        views,
        &bounds,
        |view: &PayoutView| Key::Number(i64::from(view.line)),
    )))
}
