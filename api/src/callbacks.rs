//! Operator callbacks. `/callbacks/mtn/{payout}/{token}` is a payout's capability URL (the
//! one MTN was given for that transfer): the application layer judges the callback, and an
//! authenticated final word settles or fails the payout at once. `/callbacks/mtn` and
//! `/callbacks/airtel` (no token) only bring a status query forward. Every callback counts
//! against `[callbacks] max_per_second`: a flood is answered 429 at once, before any work.
//! MTN sends POST or PUT; both are accepted.

use std::num::NonZeroU32;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use payrail_adapters::callback::{CallbackError, CallbackHint};
use payrail_adapters::{airtel, mtn};
use payrail_engine::app::callbacks::{CallbackHint as Hint, CallbackVerdict};
use payrail_engine::ids::PayoutId;
use payrail_engine::metrics::CALLBACKS;
use payrail_engine::route::RouteName;
use serde_json::json;

use crate::AppState;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/callbacks/mtn", post(from_mtn).put(from_mtn))
        .route(
            "/callbacks/mtn/{payout}/{token}",
            post(mtn_capability).put(mtn_capability),
        )
        .route("/callbacks/airtel", post(from_airtel).put(from_airtel))
}

/// The limiter of operator callbacks: `per_second`, with a burst of a tenth of a second.
pub fn limiter(per_second: u32) -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(per_second / 10).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
}

/// Refuses a callback over the node's limit, counting it.
fn within_limit(state: &AppState, operator: &'static str) -> Result<(), ApiError> {
    state.callback_limiter.check().map_err(|not_until| {
        metrics::counter!(CALLBACKS, "operator" => operator, "verdict" => "rate_limited")
            .increment(1);
        let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
        ApiError::RateLimited {
            who: "operator",
            retry_after: not_until.wait_time_from(now),
        }
    })
}

async fn mtn_capability(
    State(state): State<AppState>,
    Path((payout, token)): Path<(String, String)>,
    body: Bytes,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    within_limit(&state, "mtn")?;
    let payout: PayoutId = payout
        .parse()
        .map_err(|_| ApiError::NotFound("no payout has this callback URL".into()))?;
    let report = mtn::parse_report(&body).map_err(unreadable("mtn"))?;
    let verdict = state
        .app
        .operator_reported("mtn", payout, &token, &report)
        .await?;
    match verdict {
        CallbackVerdict::BadToken => Err(ApiError::CallbackRefused(
            "this callback URL's token is not the payout's",
        )),
        CallbackVerdict::UnknownPayout => {
            Err(ApiError::NotFound("no payout has this callback URL".into()))
        }
        verdict => Ok(axum::Json(
            json!({"status": "received", "verdict": verdict.as_str()}),
        )),
    }
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

fn unreadable(operator: &'static str) -> impl Fn(CallbackError) -> ApiError {
    move |error| {
        tracing::info!(operator, %error, "refused an operator callback");
        ApiError::UnreadableCallback(error.to_string())
    }
}

async fn receive(
    state: &AppState,
    operator: &'static str,
    parsed: Result<CallbackHint, CallbackError>,
    routes: &[RouteName],
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    within_limit(state, operator)?;
    let hint = parsed.map_err(unreadable(operator))?;
    tracing::debug!(operator, reference = ?hint.reference, payout = ?hint.payout, claimed = ?hint.claimed_status, "operator callback");
    let hint = Hint {
        reference: hint.reference,
        payout: hint.payout,
    };
    state.app.operator_called_back(routes, hint).await?;
    Ok(axum::Json(json!({"status": "received"})))
}
