//! `/v1/webhook-endpoint`: where a merchant's events go, and the secret they are signed
//! with. Setting the URL checks it against the URL guard; the first set makes the secret,
//! which stays the same when the URL changes or is removed and set again.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::extract::Authenticated;
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

/// Sets where the merchant's events are sent.
#[utoipa::path(put, path = "/v1/webhook-endpoint", operation_id = "set_webhook_endpoint", tag = "webhooks",
    request_body = SetEndpoint,
    responses(
        (status = 200, description = "The endpoint and its signing secret", body = Endpoint),
        (status = 422, description = "The URL is not http(s) or leads to a refused address")))]
pub async fn set_endpoint(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiJson(body): ApiJson<SetEndpoint>,
) -> Result<NoStore<Json<Endpoint>>, ApiError> {
    let endpoint = state.app.set_webhook_endpoint(&caller, &body.url).await?;
    Ok(NoStore(Json(Endpoint {
        url: endpoint.url,
        secret: endpoint.secret,
    })))
}

/// The merchant's endpoint and signing secret.
#[utoipa::path(get, path = "/v1/webhook-endpoint", operation_id = "get_webhook_endpoint", tag = "webhooks",
    responses(
        (status = 200, description = "The endpoint and its signing secret", body = Endpoint),
        (status = 404, description = "No endpoint is set")))]
pub async fn get_endpoint(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<NoStore<Json<Endpoint>>, ApiError> {
    let endpoint = state.app.webhook_endpoint(&caller).await?;
    Ok(NoStore(Json(Endpoint {
        url: endpoint.url,
        secret: endpoint.secret,
    })))
}

/// Stops sending events: those not yet delivered are stopped when their turn comes.
#[utoipa::path(delete, path = "/v1/webhook-endpoint", operation_id = "remove_webhook_endpoint", tag = "webhooks",
    responses(
        (status = 204, description = "The endpoint is removed"),
        (status = 404, description = "No endpoint is set")))]
pub async fn remove_endpoint(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, ApiError> {
    state.app.remove_webhook_endpoint(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}
