//! Four eyes and second thoughts: `POST /v1/batches/{id}/approve` (a checker, never the
//! key that created the batch) and `POST /v1/batches/{id}/cancel` (lines not yet sent
//! stop and their funds return). Who did it is recorded on the batch.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payrail_engine::api_key::Role;
use payrail_engine::ids::BatchId;
use payrail_engine::store::StoreError;
use payrail_engine::store::batch_decisions::{self, ApprovalError};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{batch_id, run, view};
use crate::AppState;
use crate::extract::Caller;
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
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Checker])?;
    let id = batch_id(&id)?;
    let key = idempotency::key_of(&headers, KeyRule::Optional)?;
    let request = idempotency::fingerprint("POST /v1/batches/approve", &id)?;
    let merchant = caller.merchant;
    let response = idempotency::once(&state.pool, merchant, key, request, async |tx| {
        batch_decisions::approve(tx, merchant, id, caller.key)
            .await
            .map_err(|error| match error {
                ApprovalError::OwnBatch => ApiError::Forbidden {
                    role: caller.role,
                    needed: "a checker key other than the one that created the batch".into(),
                },
                ApprovalError::Store(store) => decision_error(store, "approved"),
            })?;
        answer(tx, id).await
    })
    .await?;
    if response.status() == StatusCode::OK {
        run(&state, merchant, id);
    }
    Ok(response)
}

/// Cancels a batch: lines not yet sent are cancelled and their funds released; lines
/// already sent still end as the operator decides.
#[utoipa::path(post, path = "/v1/batches/{id}/cancel", operation_id = "cancel_batch", tag = "batches",
    params(("id" = String, Path, description = "The batch's id"), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "A key of yours, unique per request: a retry with the same key gets the first answer")),
    responses(
        (status = 200, description = "Cancelled", body = BatchView),
        (status = 404, description = "No such batch"),
        (status = 409, description = "The batch already ended")))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Maker, Role::Checker])?;
    let id = batch_id(&id)?;
    let key = idempotency::key_of(&headers, KeyRule::Optional)?;
    let request = idempotency::fingerprint("POST /v1/batches/cancel", &id)?;
    let merchant = caller.merchant;
    idempotency::once(&state.pool, merchant, key, request, async |tx| {
        let cancelled = batch_decisions::cancel(tx, merchant, id, caller.key)
            .await
            .map_err(|error| decision_error(error, "cancelled"))?;
        tracing::info!(batch_id = %id, lines = cancelled.lines, released = cancelled.released.minor(), "batch cancelled");
        metrics::counter!(payrail_engine::metrics::BATCHES, "outcome" => "cancelled").increment(1);
        answer(tx, id).await
    })
    .await
}

async fn answer(
    tx: &deadpool_postgres::Transaction<'_>,
    id: BatchId,
) -> Result<(StatusCode, Value), ApiError> {
    let merchant = payrail_engine::store::batches::merchant_of(tx, id)
        .await
        .map_err(ApiError::internal)?;
    let view = view(tx, merchant, id).await?;
    Ok((StatusCode::OK, json!(view)))
}

fn decision_error(error: StoreError, done: &'static str) -> ApiError {
    match error {
        StoreError::NotFound { .. } => ApiError::NotFound("no such batch"),
        StoreError::StaleState { expected, .. } => ApiError::conflict(
            "batch-state",
            format!("only a batch that is {expected} can be {done}"),
        ),
        StoreError::Transition(transition) => ApiError::conflict(
            "batch-state",
            format!("a batch that is {} cannot be {done}", transition.state),
        ),
        other => ApiError::internal(other),
    }
}
