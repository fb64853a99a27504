//! `/_sim/*`: the executed transfers (the audit's ground truth), the counters, and the
//! profile, which `PUT` replaces at run time (validated; 400 problem+json if invalid).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::profile::SimServerProfile;
use super::{Sim, json};

pub(crate) fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/transfers", get(transfers))
        .route("/_sim/stats", get(stats))
        .route("/_sim/profile", get(profile).put(set_profile))
}

fn to_json(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json(StatusCode::OK, body),
        Err(_) => problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

async fn transfers(State(sim): State<Arc<Sim>>) -> Response {
    to_json(&sim.book.report())
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    to_json(&sim.counters.snapshot())
}

async fn profile(State(sim): State<Arc<Sim>>) -> Response {
    to_json(&sim.live().profile)
}

async fn set_profile(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let profile: SimServerProfile = match serde_json::from_slice(&body) {
        Ok(profile) => profile,
        Err(error) => return problem(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    match sim.set_profile(profile) {
        Ok(()) => to_json(&sim.live().profile),
        Err(error) => problem(StatusCode::BAD_REQUEST, &error.to_string()),
    }
}

/// An RFC 9457 problem.
fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}
