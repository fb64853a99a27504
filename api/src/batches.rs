//! Payroll batches: `POST /v1/batches` (a CSV file or a JSON list, streamed to the
//! application layer, which reads and checks it line by line), `GET /v1/batches` and
//! `/v1/batches/{id}`; the report and lines (`reports`) and four-eyes approval and
//! cancellation (`decisions`) in child modules.
//!
//! - `body`: the upload's body as a capped reader
//! - `schema`: the JSON batch, as the OpenAPI document describes it

mod body;
mod decisions;
mod reports;
mod schema;
mod statement;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payrail_engine::app::AppError;
use payrail_engine::app::batches::BatchSummary;
use payrail_engine::app::idempotency::Answer;
use payrail_engine::app::uploads::{Payroll, PayrollFormat, Submitted, Submitter};
use payrail_engine::ids::BatchId;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use self::schema::JsonBatch;
use crate::AppState;
use crate::extract::Authenticated;
use crate::idempotency::{self, required_key};
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::{ApiError, PROBLEM_BASE};
use crate::query::ApiQuery;
use crate::views::{BatchView, LineErrorView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show))
        .merge(reports::router())
        .merge(statement::router())
        .merge(decisions::router())
}

/// The upload's format, from its media type.
fn format_of(headers: &HeaderMap) -> Result<PayrollFormat, ApiError> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match media.as_str() {
        "text/csv" => Ok(PayrollFormat::Csv),
        "application/json" => Ok(PayrollFormat::Json),
        _ => Err(ApiError::UnsupportedMediaType(
            "send a payroll as `Content-Type: text/csv` (a file with a header row) or `application/json` ({\"lines\": [...]})".into(),
        )),
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Accept a file already uploaded in the last 30 days (it is refused otherwise).
    #[serde(default)]
    pub allow_duplicate: bool,
}

/// Uploads a payroll batch.
///
/// A CSV file (`text/csv`; columns `msisdn`, `amount`, optional `name`, `reference`,
/// `note`; the header is line 1) or a JSON list (`application/json`). Every line is
/// checked; when any is bad the batch is `invalid`, nothing is reserved or sent, and the
/// answer is 422 with the first errors (all of them at `/v1/batches/{id}/errors`).
/// A good batch waits for approval when the merchant's setting asks for it, and is
/// scheduled otherwise. The same file uploaded again within 30 days is refused (409)
/// unless `?allow_duplicate=true`.
#[utoipa::path(post, path = "/v1/batches", operation_id = "upload_batch", tag = "batches", params(UploadQuery, ("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", description = "A key of yours, unique per request (a UUID is a good one): a retry with the same key and body gets the first answer, never a second payment")),
    request_body(content(
        (String = "text/csv", example = "msisdn,amount,name,reference\n0788123456,1500,Alice,jan-001\n"),
        (JsonBatch = "application/json"))),
    responses(
        (status = 201, description = "Created: scheduled or awaiting approval", body = BatchView),
        (status = 400, description = "No Idempotency-Key, a file that is not UTF-8, unreadable"),
        (status = 409, description = "The same file was uploaded in the last 30 days (`link` names that batch)"),
        (status = 413, description = "Larger than 512 MiB"),
        (status = 415, description = "Neither text/csv nor application/json"),
        (status = 422, description = "Some lines are invalid (`errors`, `batch_id`); nothing will be paid")))]
async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let payroll = Payroll {
        format: format_of(&headers)?,
        allow_duplicate: query.allow_duplicate,
        key: Some(required_key(&headers)?),
    };
    let answered = state
        .app
        .submit_payroll(
            Submitter::Caller(caller),
            &payroll,
            body::reader(body),
            submitted,
        )
        .await?;
    idempotency::respond(answered)
}

/// 201 with a valid batch; 422 `batch-invalid` with the first errors of an invalid one.
fn submitted(submitted: &Submitted) -> Result<Answer, AppError> {
    let (status, body) = match submitted {
        Submitted::Valid(summary) => (
            StatusCode::CREATED,
            serde_json::to_value(BatchView::new(summary)).map_err(AppError::internal)?,
        ),
        Submitted::Invalid { batch, errors } => {
            let first = errors
                .first()
                .map(|e| format!(" The first is line {}: {}: {}.", e.line, e.field, e.reason))
                .unwrap_or_default();
            let errors: Vec<LineErrorView> =
                errors.iter().cloned().map(LineErrorView::from).collect();
            let detail = format!(
                "{} of {} lines are invalid; nothing was reserved and nothing will be paid.{first}",
                batch.error_count, batch.line_count
            );
            let body: Value = json!({
                "type": format!("{PROBLEM_BASE}batch-invalid"),
                "title": "Unprocessable Entity",
                "status": 422,
                "detail": detail,
                "batch_id": batch.id,
                "error_count": batch.error_count,
                "errors": errors,
                "link": format!("/v1/batches/{}/errors", batch.id),
            });
            (StatusCode::UNPROCESSABLE_ENTITY, body)
        }
    };
    Ok(Answer {
        status: status.as_u16(),
        body,
    })
}

/// A batch id from the path; anything that is not one is simply not found.
fn batch_id(text: &str) -> Result<BatchId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound("no such batch".into()))
}

/// A batch as answers show it.
fn view(summary: &BatchSummary) -> Result<Answer, AppError> {
    Ok(Answer {
        status: StatusCode::OK.as_u16(),
        body: serde_json::to_value(BatchView::new(summary)).map_err(AppError::internal)?,
    })
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only batches in this state.
    pub state: Option<String>,
}

/// Lists the merchant's payroll batches, oldest first.
#[utoipa::path(get, path = "/v1/batches", operation_id = "list_batches", tag = "batches", params(ListQuery, PageQuery),
    responses((status = 200, description = "A page of batches (`data`, `next_cursor`)")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<BatchView>>, ApiError> {
    let bounds = page.bounds()?;
    let summaries = state
        .app
        .batches(
            &caller,
            query.state.as_deref(),
            bounds.after_id()?,
            bounds.limit + 1,
        )
        .await?;
    let views = summaries.iter().map(BatchView::new).collect();
    Ok(Json(Page::from_rows(views, &bounds, |view| {
        Key::Id(view.id)
    })))
}

/// Reads a batch: its state, who created, approved or cancelled it, and its lines' counts
/// and totals per state.
#[utoipa::path(get, path = "/v1/batches/{id}", operation_id = "get_batch", tag = "batches",
    params(("id" = String, Path, description = "The batch's id")),
    responses((status = 200, description = "The batch", body = BatchView), (status = 404, description = "No such batch")))]
async fn show(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<BatchView>, ApiError> {
    let summary = state.app.batch(&caller, batch_id(&id)?).await?;
    Ok(Json(BatchView::new(&summary)))
}
