//! `/healthz` (the process answers) and `/readyz` (the database answers and has every
//! migration this binary knows).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use payrail_engine::store::migrations;
use serde_json::{Value, json};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let not_ready = |reason: String| {
        tracing::warn!(%reason, "not ready");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "reason": reason })),
        )
    };
    let client = match state.pool.get().await {
        Ok(client) => client,
        Err(error) => return not_ready(format!("database unreachable: {error}")),
    };
    match migrations::applied_version(&client).await {
        Ok(Some(version)) if version == migrations::latest_version() => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "schema_version": version })),
        ),
        Ok(applied) => not_ready(format!(
            "database schema at {applied:?}, this binary needs {}",
            migrations::latest_version()
        )),
        Err(error) => not_ready(format!("database: {error}")),
    }
}
