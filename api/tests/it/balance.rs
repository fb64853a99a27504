//! `GET /v1/balance` behind a merchant's API key, and what every answer carries: a request
//! id, and problem+json for every refusal (no key, a bad or revoked key, no such endpoint).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use payrail_api::{AppState, REQUEST_ID, app};
use payrail_engine::app::{App, AppSettings};
use payrail_engine::testing::TestDb;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::run_json;

struct Answer {
    status: StatusCode,
    content_type: String,
    request_id: Option<String>,
    body: Value,
}

async fn get(db: &TestDb, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let state = AppState::new(App::detached(db.pool.clone(), AppSettings::rwanda()));
    let response = app(state)
        .oneshot(request.body(Body::empty()).expect("a request"))
        .await
        .expect("a response");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let (status, content_type, request_id) = (
        response.status(),
        header("content-type").unwrap_or_default(),
        header(REQUEST_ID),
    );
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    Answer {
        status,
        content_type,
        request_id,
        body: serde_json::from_slice(&bytes).expect("a JSON body"),
    }
}

/// A merchant funded with `amount`; returns its keys by role.
async fn merchant(db: &TestDb, name: &str, amount: &str) -> Value {
    let (url, name, amount) = (db.url.clone(), name.to_owned(), amount.to_owned());
    tokio::task::spawn_blocking(move || {
        let created = run_json(&url, &["merchant", "create", "--name", &name]);
        let id = created["merchant"]["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        run_json(
            &url,
            &["merchant", "fund", "--merchant", &id, "--amount", &amount],
        );
        created["api_keys"].clone()
    })
    .await
    .expect("setup")
}

fn bearer(keys: &Value, role: &str) -> String {
    let key = keys
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["role"] == role)
        .expect("a key of that role");
    format!("Bearer {}", key["secret"].as_str().expect("a secret"))
}

fn assert_problem(answer: &Answer, status: StatusCode, name: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.content_type, "application/problem+json");
    assert_eq!(
        answer.body["type"],
        format!("https://payrail.dev/problems/{name}")
    );
    assert_eq!(answer.body["status"], status.as_u16());
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(answer.request_id.is_some(), "every answer has a request id");
}

#[tokio::test]
async fn each_merchant_sees_its_own_balance_with_any_of_its_keys() {
    let db = TestDb::new().await;
    let tea = merchant(&db, "Kigali Tea", "2500000").await;
    let coffee = merchant(&db, "Huye Coffee", "700").await;
    for role in ["viewer", "maker", "checker", "admin"] {
        let answer = get(
            &db,
            "/v1/balance",
            &[("authorization", &bearer(&tea, role))],
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{role}: {}", answer.body);
        assert_eq!(answer.body["currency"], "RWF");
        assert_eq!(answer.body["available"]["minor"], 2_500_000);
        assert_eq!(answer.body["available"]["text"], "2500000");
        assert_eq!(answer.body["reserved"]["minor"], 0);
    }
    let answer = get(
        &db,
        "/v1/balance",
        &[("authorization", &bearer(&coffee, "viewer"))],
    )
    .await;
    assert_eq!(answer.body["available"]["minor"], 700);
}

#[tokio::test]
async fn a_missing_malformed_unknown_or_revoked_key_is_401_problem_json() {
    let db = TestDb::new().await;
    let keys = merchant(&db, "Rubavu Fish", "100").await;
    let viewer = bearer(&keys, "viewer");
    let last = if viewer.ends_with('x') { "y" } else { "x" };
    let tampered = format!("{}{last}", &viewer[..viewer.len() - 1]);
    for headers in [
        vec![],
        vec![("authorization", "Basic dXNlcjpwYXNz")],
        vec![("authorization", "Bearer not-a-key")],
        vec![("authorization", tampered.as_str())],
    ] {
        let answer = get(&db, "/v1/balance", &headers).await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    db.client()
        .await
        .execute("UPDATE api_keys SET revoked_at = now()", &[])
        .await
        .expect("revoke");
    let answer = get(&db, "/v1/balance", &[("authorization", viewer.as_str())]).await;
    assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_request_id_is_kept_from_the_client_or_made_up() {
    let db = TestDb::new().await;
    let given = get(&db, "/healthz", &[(REQUEST_ID, "trace-me-42")]).await;
    assert_eq!(given.request_id.as_deref(), Some("trace-me-42"));
    let made = get(&db, "/healthz", &[]).await;
    let made = made.request_id.expect("a request id");
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
}

#[tokio::test]
async fn an_unknown_endpoint_is_a_404_problem() {
    let db = TestDb::new().await;
    let answer = get(&db, "/v1/nothing-here", &[]).await;
    assert_problem(&answer, StatusCode::NOT_FOUND, "not-found");
}
