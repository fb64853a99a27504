//! `/v1/webhook-endpoint`: where a merchant's events go, and the secret they are signed
//! with. Setting the URL checks it against the URL guard; the first set makes the secret,
//! which stays the same when the URL changes or is removed and set again, until
//! `rotate-secret` replaces it: the secret replaced then signs events too for 24 hours.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use payrail_engine::app::webhooks::Endpoint as StoredEndpoint;
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
    /// When this secret was made (a secret made before rotation existed counts from the
    /// upgrade that brought it).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub secret_created_at: Option<Timestamp>,
    /// After a rotation: until when events are also signed with the secret it replaced
    /// (a second `v1,` signature in `webhook-signature`); null when they are not.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<Timestamp>,
}

impl From<StoredEndpoint> for Endpoint {
    fn from(endpoint: StoredEndpoint) -> Endpoint {
        Endpoint {
            url: endpoint.url,
            secret: endpoint.secret,
            secret_created_at: endpoint.secret_created_at,
            previous_secret_expires_at: endpoint.previous_secret_expires_at,
        }
    }
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
    Ok(NoStore(Json(endpoint.into())))
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
    Ok(NoStore(Json(endpoint.into())))
}

/// Rotates the signing secret.
///
/// A new secret signs every event from now on, and the one it replaces signs them too for
/// 24 hours (`webhook-signature: v1,<new> v1,<old>`), so the receiver can change secrets
/// without refusing an event. A second rotation within those 24 hours ends the first one's
/// overlap: only the secret just replaced is kept.
#[utoipa::path(post, path = "/v1/webhook-endpoint/rotate-secret", operation_id = "rotate_webhook_secret", tag = "webhooks",
    responses(
        (status = 200, description = "The endpoint and its new signing secret, with until when the previous one still signs events", body = Endpoint),
        (status = 404, description = "No endpoint is set")))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<NoStore<Json<Endpoint>>, ApiError> {
    let endpoint = state.app.rotate_webhook_secret(&caller).await?;
    Ok(NoStore(Json(endpoint.into())))
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
