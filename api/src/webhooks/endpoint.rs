//! `/v1/webhook-endpoint`: where a merchant's events go, and the secret they are signed
//! with. Setting the URL checks it against the URL guard; the first set makes the secret,
//! which stays the same when the URL changes or is removed and set again.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use payrail_engine::api_key::Role;
use serde::{Deserialize, Serialize};

use super::signing;
use crate::AppState;
use crate::extract::Caller;
use crate::headers::NoStore;
use crate::json::ApiJson;
use crate::problem::ApiError;

/// The endpoint to set.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEndpoint {
    /// An http or https URL on a public address (at most 2,000 characters).
    #[schema(example = "https://merchant.example/payrail/webhooks")]
    pub url: String,
}

/// The merchant's endpoint and signing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub url: String,
    /// The Standard Webhooks secret (`whsec_…`) every event is signed with.
    pub secret: String,
}

const SET: &str = "
    UPDATE merchants SET webhook_url = $2, webhook_secret = COALESCE(webhook_secret, $3)
     WHERE id = $1
 RETURNING webhook_url, webhook_secret";

const GET: &str = "SELECT webhook_url, webhook_secret FROM merchants WHERE id = $1";

const REMOVE: &str =
    "UPDATE merchants SET webhook_url = NULL WHERE id = $1 AND webhook_url IS NOT NULL";

/// The longest URL stored.
const MAX_URL: usize = 2_000;

/// Sets where the merchant's events are sent.
#[utoipa::path(put, path = "/v1/webhook-endpoint", operation_id = "set_webhook_endpoint", tag = "webhooks",
    request_body = SetEndpoint,
    responses(
        (status = 200, description = "The endpoint and its signing secret", body = Endpoint),
        (status = 422, description = "The URL is not http(s) or leads to a refused address")))]
pub async fn set_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SetEndpoint>,
) -> Result<NoStore<Json<Endpoint>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let url = state.settings.urls.check(&body.url).await?;
    if url.as_str().len() > MAX_URL {
        return Err(ApiError::invalid_field(
            "url",
            format!("is longer than {MAX_URL} characters"),
        ));
    }
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let row = client
        .query_one(
            SET,
            &[&caller.merchant, &url.as_str(), &signing::new_secret()],
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(NoStore(Json(Endpoint {
        url: row.get(0),
        secret: row.get(1),
    })))
}

/// The merchant's endpoint and signing secret.
#[utoipa::path(get, path = "/v1/webhook-endpoint", operation_id = "get_webhook_endpoint", tag = "webhooks",
    responses(
        (status = 200, description = "The endpoint and its signing secret", body = Endpoint),
        (status = 404, description = "No endpoint is set")))]
pub async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<NoStore<Json<Endpoint>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let row = client
        .query_one(GET, &[&caller.merchant])
        .await
        .map_err(ApiError::internal)?;
    match (row.get(0), row.get(1)) {
        (Some(url), Some(secret)) => Ok(NoStore(Json(Endpoint { url, secret }))),
        _ => Err(ApiError::NotFound("no webhook endpoint is set")),
    }
}

/// Stops sending events: those not yet delivered are stopped when their turn comes.
#[utoipa::path(delete, path = "/v1/webhook-endpoint", operation_id = "remove_webhook_endpoint", tag = "webhooks",
    responses(
        (status = 204, description = "The endpoint is removed"),
        (status = 404, description = "No endpoint is set")))]
pub async fn remove_endpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin])?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let removed = client
        .execute(REMOVE, &[&caller.merchant])
        .await
        .map_err(ApiError::internal)?;
    if removed == 0 {
        return Err(ApiError::NotFound("no webhook endpoint is set"));
    }
    Ok(StatusCode::NO_CONTENT)
}
