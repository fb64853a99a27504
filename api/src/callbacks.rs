//! `/callbacks/mtn` and `/callbacks/airtel`: operator callbacks, read as hints. A callback
//! that names a payout of ours brings that payout's status query forward; nothing is ever
//! settled from a callback's own word, since callbacks are unsigned and may be forged,
//! repeated or late. MTN sends POST or PUT; both are accepted.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use payrail_actors::Nudger;
use payrail_adapters::callback::{CallbackError, CallbackHint};
use payrail_adapters::{airtel, mtn};
use payrail_engine::ids::{PayoutId, Reference};
use serde_json::json;

use crate::AppState;
use crate::problem::ApiError;

/// Where callbacks go: the engine, and the routes each operator serves.
#[derive(Clone, Debug)]
pub struct OperatorCallbacks {
    pub nudger: Nudger,
    pub mtn_routes: Vec<String>,
    pub airtel_routes: Vec<String>,
}

const PAYOUT_BY_ID: &str = "SELECT reference, route FROM payout_lines WHERE id = $1";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/callbacks/mtn", post(from_mtn).put(from_mtn))
        .route("/callbacks/airtel", post(from_airtel).put(from_airtel))
}

async fn from_mtn(State(state): State<AppState>, body: Bytes) -> Response {
    let routes = |callbacks: &OperatorCallbacks| callbacks.mtn_routes.clone();
    receive(&state, "mtn", mtn::parse_callback(&body), routes)
        .await
        .into_response()
}

async fn from_airtel(State(state): State<AppState>, body: Bytes) -> Response {
    let routes = |callbacks: &OperatorCallbacks| callbacks.airtel_routes.clone();
    receive(&state, "airtel", airtel::parse_callback(&body), routes)
        .await
        .into_response()
}

async fn receive(
    state: &AppState,
    operator: &'static str,
    parsed: Result<CallbackHint, CallbackError>,
    routes: impl Fn(&OperatorCallbacks) -> Vec<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let hint = match parsed {
        Ok(hint) => hint,
        Err(error) => {
            tracing::info!(operator, %error, "refused an operator callback");
            return Err(ApiError::UnreadableCallback(error.to_string()));
        }
    };
    let Some(callbacks) = &state.callbacks else {
        return Err(ApiError::Unavailable(
            "this process does not run the payout engine",
        ));
    };
    tracing::debug!(operator, reference = ?hint.reference, payout = ?hint.payout, claimed = ?hint.claimed_status, "operator callback");
    let targets = match (hint.reference, hint.payout) {
        // The reference alone does not say which route: ask every route of the operator.
        (Some(reference), _) => routes(callbacks)
            .into_iter()
            .map(|route| (route, reference))
            .collect(),
        (None, Some(payout)) => match payout_route(state, payout).await {
            Ok(found) => found.into_iter().collect(),
            Err(error) => return Err(ApiError::internal(error)),
        },
        (None, None) => Vec::new(),
    };
    for (route, reference) in targets {
        if callbacks.nudger.nudge(&route, reference).is_err() {
            return Err(ApiError::Unavailable(
                "the payout engine is stopping; send the callback again later",
            ));
        }
    }
    Ok(axum::Json(json!({"status": "received"})))
}

/// The reference and route of one of our payouts, if it is one.
async fn payout_route(
    state: &AppState,
    payout: PayoutId,
) -> Result<Option<(String, Reference)>, Box<dyn std::error::Error + Send + Sync>> {
    let client = state.pool.get().await?;
    let row = client
        .query_opt(&client.prepare_cached(PAYOUT_BY_ID).await?, &[&payout])
        .await?;
    Ok(row.map(|row| (row.get::<_, String>(1), row.get::<_, Reference>(0))))
}
