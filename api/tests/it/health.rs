//! `/healthz` and `/readyz` through the app, on a real database.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use payrail_api::{AppState, app};
use payrail_engine::app::{App, AppSettings};
use payrail_engine::store::migrations;
use payrail_engine::testing::TestDb;
use tower::ServiceExt;

use crate::support::forget_newest_migration;

async fn get(state: AppState, path: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::get(path).body(Body::empty()).expect("request");
    let response = app(state).oneshot(request).await.expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&body).expect("JSON body"))
}

#[tokio::test]
async fn a_migrated_database_is_ready() {
    let db = TestDb::new().await;
    let state = AppState::new(App::detached(db.pool.clone(), AppSettings::rwanda()));
    assert_eq!(get(state.clone(), "/healthz").await.0, StatusCode::OK);
    let (status, body) = get(state, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["schema_version"], migrations::latest_version());
}

#[tokio::test]
async fn a_schema_behind_the_binary_is_not_ready_and_says_why() {
    let db = TestDb::new().await;
    forget_newest_migration(&db).await;
    let (status, body) = get(
        AppState::new(App::detached(db.pool.clone(), AppSettings::rwanda())),
        "/readyz",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["reason"]
            .as_str()
            .expect("a reason")
            .contains("schema"),
        "{body}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_not_ready_but_the_process_is_healthy() {
    let pool = payrail_engine::store::pool::connect(
        "postgres://nobody@127.0.0.1:1/none",
        1,
        payrail_engine::store::pool::Priority::Normal,
    )
    .expect("pool");
    let state = AppState::new(App::detached(pool, AppSettings::rwanda()));
    assert_eq!(get(state.clone(), "/healthz").await.0, StatusCode::OK);
    let (status, body) = get(state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["reason"]
            .as_str()
            .expect("a reason")
            .contains("unreachable"),
        "{body}"
    );
}
