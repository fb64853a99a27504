//! `/callbacks/mtn` and `/callbacks/airtel`: operator callbacks, read as hints. A callback
//! that names a payout of ours brings that payout's status query forward; nothing is ever
//! settled from a callback's own word, since callbacks are unsigned and may be forged,
//! repeated or late. MTN sends POST or PUT; both are accepted.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use payrail_adapters::callback::{CallbackError, CallbackHint};
use payrail_adapters::{airtel, mtn};
use payrail_engine::app::callbacks::CallbackHint as Hint;
use payrail_engine::route::RouteName;
use serde_json::json;

use crate::AppState;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/callbacks/mtn", post(from_mtn).put(from_mtn))
        .route("/callbacks/airtel", post(from_airtel).put(from_airtel))
}

async fn from_mtn(State(state): State<AppState>, body: Bytes) -> Response {
    let routes = &state.operator_routes.mtn;
    receive(&state, "mtn", mtn::parse_callback(&body), routes)
        .await
        .into_response()
}

async fn from_airtel(State(state): State<AppState>, body: Bytes) -> Response {
    let routes = &state.operator_routes.airtel;
    receive(&state, "airtel", airtel::parse_callback(&body), routes)
        .await
        .into_response()
}

async fn receive(
    state: &AppState,
    operator: &'static str,
    parsed: Result<CallbackHint, CallbackError>,
    routes: &[RouteName],
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let hint = parsed.map_err(|error| {
        tracing::info!(operator, %error, "refused an operator callback");
        ApiError::UnreadableCallback(error.to_string())
    })?;
    tracing::debug!(operator, reference = ?hint.reference, payout = ?hint.payout, claimed = ?hint.claimed_status, "operator callback");
    let hint = Hint {
        reference: hint.reference,
        payout: hint.payout,
    };
    state.app.operator_called_back(routes, hint).await?;
    Ok(axum::Json(json!({"status": "received"})))
}
