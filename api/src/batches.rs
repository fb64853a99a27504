//! Payroll batches: `POST /v1/batches` (a CSV file or a JSON list, read as a stream and
//! checked line by line), `GET /v1/batches` and `/v1/batches/{id}`; the report and lines
//! (`reports`) and four-eyes approval and cancellation (`decisions`) in child modules.

mod body;
mod csv_body;
mod decisions;
mod json_body;
mod reports;
mod upload;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use deadpool_postgres::GenericClient;
use payrail_engine::api_key::Role;
use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::state::batch::{BatchEvent, BatchState};
use payrail_engine::store::StoreError;
use payrail_engine::store::batches::{self, Batch, BatchKind, NewBatch};
use payrail_engine::store::merchants::{self, Merchant};
use payrail_engine::store::payout_lines;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::upload::{Upload, Uploaded};
use crate::AppState;
use crate::extract::Caller;
use crate::idempotency::{self, Claim, KeyRule, Lookup};
use crate::lines::{LineChecker, LineRules};
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::views::BatchView;

pub use self::json_body::JsonBatch;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show))
        .merge(reports::router())
        .merge(decisions::router())
}

/// How an upload is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

impl Format {
    fn of(headers: &HeaderMap) -> Result<Format, ApiError> {
        let media = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|media| media.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match media.as_str() {
            "text/csv" => Ok(Format::Csv),
            "application/json" => Ok(Format::Json),
            _ => Err(ApiError::UnsupportedMediaType(
                "send a payroll as `Content-Type: text/csv` (a file with a header row) or `application/json` ({\"lines\": [...]})".into(),
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
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
    caller: Caller,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Maker])?;
    let key = idempotency::key_of(&headers, KeyRule::Required)?.unwrap_or_default();
    let format = Format::of(&headers)?;
    let merchant = {
        let client = state.pool.get().await.map_err(ApiError::internal)?;
        merchants::get(&client, caller.merchant)
            .await
            .map_err(ApiError::internal)?
    };
    let claim = match idempotency::claim(&state.pool, caller.merchant, &key).await? {
        Lookup::Done(stored) => {
            let sha = body::hash_only(body).await?;
            return stored.replay(&fingerprint(format, query, &sha));
        }
        Lookup::Claimed(claim) => claim,
    };
    match upload(&state, &caller, &merchant, format, query, body, &claim).await {
        Ok((status, answer, scheduled)) => {
            if let Some(batch) = scheduled {
                run(&state, merchant.id, batch);
            }
            Ok(crate::problem::stored_answer(status, answer))
        }
        Err(error) => {
            claim.release(&state.pool).await;
            Err(error)
        }
    }
}

/// What makes two uploads "the same request" for their idempotency key.
fn fingerprint(format: Format, query: UploadQuery, body_sha256: &[u8; 32]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"POST /v1/batches\0");
    hash.update(format.name());
    hash.update([u8::from(query.allow_duplicate)]);
    hash.update(body_sha256);
    hash.finalize().into()
}

/// Reads, checks and writes the upload in one transaction that also stores the answer.
/// Returns the answer and, when the batch may run now, its id.
async fn upload(
    state: &AppState,
    caller: &Caller,
    merchant: &Merchant,
    format: Format,
    query: UploadQuery,
    body: Body,
    claim: &Claim,
) -> Result<(StatusCode, Value, Option<BatchId>), ApiError> {
    let mut client = state.pool.get().await.map_err(ApiError::internal)?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let new = NewBatch {
        kind: BatchKind::Batch,
        created_by: Some(caller.key),
        ..NewBatch::new(merchant.id, merchant.currency)
    };
    batches::insert(&tx, &new)
        .await
        .map_err(ApiError::internal)?;
    let rules = LineRules {
        country: state.settings.country,
        routes: &state.settings.routes,
        currency: merchant.currency,
        fee: merchant.fees.payout_fee(),
    };
    let mut upload = Upload::start(&tx, merchant.id, new.id, LineChecker::new(rules)).await?;
    let read = match format {
        Format::Csv => csv_body::read(body, &mut upload).await,
        Format::Json => json_body::read(body, &mut upload).await,
    };
    let file_sha256 = match read {
        Ok(sha) => sha,
        Err(refused) => {
            upload.abandon().await;
            return Err(refused);
        }
    };
    let uploaded = upload.finish().await?;
    if !query.allow_duplicate
        && let Some(first) = batches::same_file(&tx, merchant.id, &file_sha256, new.id)
            .await
            .map_err(ApiError::internal)?
    {
        return Err(ApiError::Conflict {
            name: "duplicate-file",
            detail: format!(
                "this file was already uploaded as batch {first} in the last 30 days; upload it again with ?allow_duplicate=true if you mean to pay it twice"
            ),
            link: Some(format!("/v1/batches/{first}")),
        });
    }
    batches::record_file(&tx, merchant.id, new.id, &file_sha256)
        .await
        .map_err(ApiError::internal)?;
    let (status, answer, scheduled) = match uploaded {
        Uploaded::Valid(batch) => {
            let event = if needs_approval(merchant, &batch) {
                BatchEvent::RequireApproval
            } else {
                BatchEvent::Schedule
            };
            let next = batches::transition(&tx, merchant.id, batch.id, batch.state, event)
                .await
                .map_err(ApiError::internal)?;
            let view = view(&tx, merchant.id, batch.id).await?;
            let scheduled = (next == BatchState::Scheduled).then_some(batch.id);
            let answer = serde_json::to_value(view).map_err(ApiError::internal)?;
            (StatusCode::CREATED, answer, scheduled)
        }
        Uploaded::Invalid { batch, errors } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid_answer(&batch, &errors),
            None,
        ),
    };
    let request = fingerprint(format, query, &file_sha256);
    claim.finish(&tx, &request, status, &answer).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!(batch_id = %new.id, %status, "batch uploaded");
    Ok((status, answer, scheduled))
}

/// Four eyes: `approval_threshold` unset never asks; otherwise a total above it does
/// (zero: every batch).
fn needs_approval(merchant: &Merchant, batch: &Batch) -> bool {
    merchant
        .approval_threshold
        .is_some_and(|threshold| batch.total_amount > threshold)
}

/// The 422 problem of an invalid upload: what was wrong, where, and where the rest is.
fn invalid_answer(
    batch: &Batch,
    errors: &[payrail_engine::store::line_errors::LineError],
) -> Value {
    let first = errors
        .first()
        .map(|e| format!(" The first is line {}: {}: {}.", e.line, e.field, e.reason))
        .unwrap_or_default();
    json!({
        "type": format!("{}batch-invalid", crate::problem::PROBLEM_BASE),
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": format!("{} of {} lines are invalid; nothing was reserved and nothing will be paid.{first}", batch.error_count, batch.line_count),
        "batch_id": batch.id,
        "error_count": batch.error_count,
        "errors": errors,
        "link": format!("/v1/batches/{}/errors", batch.id),
    })
}

/// Hands a batch to the engine now; without one, or if it is stopping, the engine's sweep
/// finds it within a second.
fn run(state: &AppState, merchant: MerchantId, batch: BatchId) {
    if let Some(runner) = &state.runner
        && let Err(error) = runner.run_batch(merchant, batch)
    {
        tracing::warn!(%error, batch_id = %batch, "the engine did not take the batch at once");
    }
}

/// A batch with its counts per line state.
async fn view(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: BatchId,
) -> Result<BatchView, ApiError> {
    let batch = batches::get(client, merchant, id)
        .await
        .map_err(not_found)?;
    let counts = payout_lines::count_by_state(client, id)
        .await
        .map_err(ApiError::internal)?;
    Ok(BatchView::new(&batch, &counts))
}

/// 404 for a batch that is not the caller's (or does not exist); 500 for the rest.
fn not_found(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound { .. } => ApiError::NotFound("no such batch"),
        other => ApiError::internal(other),
    }
}

/// A batch id from the path; anything that is not one is simply not found.
fn batch_id(text: &str) -> Result<BatchId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound("no such batch"))
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
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<BatchView>>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let bounds = page.bounds()?;
    let wanted = query
        .state
        .as_deref()
        .map(|name| {
            BatchState::ALL
                .into_iter()
                .find(|state| state.as_str() == name)
                .ok_or_else(|| {
                    ApiError::invalid_field("state", format!("no batch state is called {name:?}"))
                })
        })
        .transpose()?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let rows = batches::list(
        &client,
        caller.merchant,
        bounds.after_id()?,
        wanted,
        bounds.limit + 1,
    )
    .await
    .map_err(ApiError::internal)?;
    let mut views = Vec::with_capacity(rows.len());
    for batch in &rows {
        let counts = payout_lines::count_by_state(&client, batch.id)
            .await
            .map_err(ApiError::internal)?;
        views.push(BatchView::new(batch, &counts));
    }
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
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BatchView>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let id = batch_id(&id)?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    Ok(Json(view(&client, caller.merchant, id).await?))
}
