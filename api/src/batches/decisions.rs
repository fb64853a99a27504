//! Four eyes and second thoughts: `POST /v1/batches/{id}/approve` (a checker, never the
//! key that created the batch) and `POST /v1/batches/{id}/cancel` (lines not yet sent
//! stop and their funds return). Who did it is recorded on the batch.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{batch_id, view};
use crate::AppState;
use crate::extract::Authenticated;
use crate::idempotency::{self, KeyRule};
use crate::problem::ApiError;
use crate::views::BatchView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(approve))
        .routes(routes!(cancel))
}

/// Approves a batch awaiting approval; it is then scheduled.
///
/// Needs a `checker` key other than the one that created the batch.
#[utoipa::path(post, path = "/v1/batches/{id}/approve", operation_id = "approve_batch", tag = "batches",
    params(("id" = String, Path, description = "The batch's id"), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "A key of yours, unique per request: a retry with the same key gets the first answer")),
    responses(
        (status = 200, description = "Approved and scheduled", body = BatchView),
        (status = 403, description = "Not a checker key, or the key that created the batch"),
        (status = 404, description = "No such batch"),
        (status = 409, description = "The batch is not awaiting approval")))]
async fn approve(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = batch_id(&id)?;
    let key = idempotency::key_of(&headers, KeyRule::Optional)?;
    let answered = state
        .app
        .approve_batch(&caller, id, None, key.as_ref(), view)
        .await?;
    idempotency::respond(answered)
}

/// Cancels a batch: lines not yet sent are cancelled and their funds released; lines
/// already sent still end as the operator decides.
#[utoipa::path(post, path = "/v1/batches/{id}/cancel", operation_id = "cancel_batch", tag = "batches",
    params(("id" = String, Path, description = "The batch's id"), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "A key of yours, unique per request: a retry with the same key gets the first answer")),
    responses(
        (status = 200, description = "Cancelled", body = BatchView),
        (status = 404, description = "No such batch"),
        (status = 409, description = "The batch already ended, or it carries single payouts (cancel each)")))]
async fn cancel(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = batch_id(&id)?;
    let key = idempotency::key_of(&headers, KeyRule::Optional)?;
    let answered = state
        .app
        .cancel_batch(&caller, id, key.as_ref(), view)
        .await?;
    idempotency::respond(answered)
}
