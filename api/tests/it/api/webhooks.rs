//! Webhooks: the endpoint a merchant sets (and the URLs refused), events delivered signed
//! to a listener on loopback (allow-listed for the test), retries with the same id, 410,
//! the deliverer refusing at call time a stored URL that leads to loopback, events kept
//! to their merchant, and the secret rotated: events signed with the new secret and, for
//! the overlap, the old one too.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use payrail_api::AppState;
use payrail_api::config::WebhookConfig;
use payrail_api::webhooks::Deliverer;
use payrail_engine::api_key::Role;
use payrail_engine::app::AppSettings;
use payrail_engine::app::webhooks::PREVIOUS_SECRET_OVERLAP;
use payrail_engine::url_policy::UrlPolicy;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::harness::{Node, NodeOptions, TestMerchant};

/// `[webhooks]` for tests: loopback allowed, three quick retries.
pub(super) fn loopback_allowed() -> WebhookConfig {
    WebhookConfig {
        allow: vec!["127.0.0.0/8".into()],
        retry_schedule_seconds: vec![0, 0, 0],
    }
}

/// Rwanda's settings with the URLs `config` allows.
pub(super) fn settings_allowing(config: &WebhookConfig) -> AppSettings {
    AppSettings {
        urls: UrlPolicy::allowing(&config.allow).expect("valid networks"),
        ..AppSettings::rwanda()
    }
}

/// The node's settings with `loopback_allowed`.
pub(super) fn allow_loopback(mut state: AppState) -> AppState {
    state.app = state
        .app
        .with_settings(settings_allowing(&loopback_allowed()));
    state
}

/// A node without an engine (events come from direct state changes) that lets merchants
/// set loopback URLs.
async fn node() -> Node {
    Node::with(NodeOptions {
        engine: false,
        state: allow_loopback,
        ..NodeOptions::default()
    })
    .await
}

fn deliverer(node: &Node, config: &WebhookConfig) -> Deliverer {
    let app = node.app.with_settings(settings_allowing(config));
    Deliverer::start(app, &config.retry_schedule_seconds).expect("the deliverer starts")
}

async fn put_endpoint(node: &Node, key: &str, url: &str) -> super::harness::Answer {
    node.call(
        Method::PUT,
        "/v1/webhook-endpoint",
        Some(key),
        &[("content-type", "application/json")],
        Some(json!({ "url": url }).to_string().into()),
    )
    .await
}

/// Sets the merchant's endpoint through the API; returns its secret.
async fn set_endpoint(node: &Node, merchant: &TestMerchant, url: &str) -> String {
    let answer = put_endpoint(node, merchant.key(Role::Admin), url).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["secret"].as_str().expect("a secret").to_owned()
}

/// A payroll batch of the merchant's changes state, which writes a `batch.cancelled` event.
async fn batch_event(node: &Node, merchant: &TestMerchant) -> Uuid {
    let batch = Uuid::now_v7();
    let client = node.db.client().await;
    client
        .execute(
            "INSERT INTO batches (id, merchant_id, state, currency) VALUES ($1, $2, 'received', 'RWF')",
            &[&batch, &merchant.id],
        )
        .await
        .expect("a batch");
    client
        .execute(
            "UPDATE batches SET state = 'cancelled' WHERE id = $1",
            &[&batch],
        )
        .await
        .expect("a change of state");
    batch
}

/// Waits until every event of the merchant is in `state`; returns them (from the API).
async fn events_in(node: &Node, merchant: &TestMerchant, state: &str) -> Vec<Value> {
    let body = node
        .wait_for(
            "/v1/webhooks",
            merchant.key(Role::Viewer),
            Duration::from_secs(15),
            |body| {
                body["data"].as_array().is_some_and(|events| {
                    !events.is_empty() && events.iter().all(|e| e["state"] == state)
                })
            },
        )
        .await;
    body["data"].as_array().cloned().unwrap_or_default()
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .expect("requests are recorded")
}

#[tokio::test]
async fn a_webhook_is_signed_so_that_a_standard_webhooks_library_verifies_it() {
    let node = node().await;
    let merchant = node.merchant("1000000").await;
    let listener = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&listener)
        .await;
    let secret = set_endpoint(&node, &merchant, &format!("{}/hook", listener.uri())).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let deliverer = deliverer(&node, &loopback_allowed());
    let batch = batch_event(&node, &merchant).await;

    let events = events_in(&node, &merchant, "delivered").await;
    deliverer.stop().await;
    let received = requests(&listener).await;
    assert_eq!(received.len(), 1);
    let request = &received[0];
    standardwebhooks::Webhook::new(&secret)
        .expect("the secret reads")
        .verify(&request.body, &request.headers)
        .expect("the signature verifies");
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(
        request.headers["webhook-id"],
        events[0]["webhook_id"].as_str().expect("an id")
    );
    let payload: Value = serde_json::from_slice(&request.body).expect("JSON");
    assert_eq!(payload["type"], "batch.cancelled");
    assert_eq!(payload["data"]["id"], batch.to_string());
    assert_eq!(events[0]["type"], "batch.cancelled");
    assert_eq!(events[0]["attempts"], 1);
    assert_eq!(events[0]["last_status"], 204);
    assert!(events[0]["delivered_at"].is_string());

    let tampered = [request.body.as_slice(), b" "].concat();
    assert!(
        standardwebhooks::Webhook::new(&secret)
            .expect("the secret reads")
            .verify(&tampered, &request.headers)
            .is_err()
    );
    node.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_three_times_gets_the_event_on_the_fourth_try_with_the_same_id() {
    let node = node().await;
    let merchant = node.merchant("1000000").await;
    let listener = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .mount(&listener)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&listener)
        .await;
    let secret = set_endpoint(&node, &merchant, &listener.uri()).await;
    let deliverer = deliverer(&node, &loopback_allowed());
    batch_event(&node, &merchant).await;

    let events = events_in(&node, &merchant, "delivered").await;
    deliverer.stop().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["attempts"], 4);
    assert_eq!(events[0]["last_status"], 200);
    let received = requests(&listener).await;
    assert_eq!(received.len(), 4);
    let webhook_id = events[0]["webhook_id"].as_str().expect("an id");
    for request in &received {
        assert_eq!(request.headers["webhook-id"], webhook_id);
        standardwebhooks::Webhook::new(&secret)
            .expect("the secret reads")
            .verify(&request.body, &request.headers)
            .expect("every try is signed");
    }
    node.stop().await;
}

#[tokio::test]
async fn retries_end_in_failed_and_410_gone_stops_them_at_once() {
    let node = node().await;
    let failing = node.merchant("1000000").await;
    let gone = node.merchant("1000000").await;
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let removed = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&removed)
        .await;
    set_endpoint(&node, &failing, &down.uri()).await;
    set_endpoint(&node, &gone, &removed.uri()).await;
    let deliverer = deliverer(&node, &loopback_allowed());
    batch_event(&node, &failing).await;
    batch_event(&node, &gone).await;

    let failed = events_in(&node, &failing, "failed").await;
    let stopped = events_in(&node, &gone, "stopped").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    deliverer.stop().await;
    assert_eq!(failed[0]["attempts"], 4, "one try and three retries");
    assert_eq!(failed[0]["last_status"], 503);
    assert_eq!(requests(&down).await.len(), 4);
    assert_eq!(stopped[0]["attempts"], 1);
    assert_eq!(stopped[0]["last_status"], 410);
    assert_eq!(requests(&removed).await.len(), 1, "410 is not retried");
    node.stop().await;
}

#[tokio::test]
async fn urls_leading_to_loopback_private_or_link_local_addresses_are_refused_when_set() {
    let node = Node::with(NodeOptions {
        engine: false,
        ..NodeOptions::default()
    })
    .await;
    let merchant = node.merchant("1000000").await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://localhost:8080/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let answer = put_endpoint(&node, merchant.key(Role::Admin), url).await;
        assert_eq!(answer.status, 422, "{url}: {}", answer.text);
        assert_eq!(answer.problem(), "invalid-request", "{url}");
        assert_eq!(answer.body["errors"][0]["field"], "url", "{url}");
    }
    let answer = put_endpoint(&node, merchant.key(Role::Admin), "http://2130706433/hook").await;
    assert!(
        answer.text.contains("127.0.0.1"),
        "the reason names the address: {}",
        answer.text
    );
    let none = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(none.status, 404, "nothing was stored: {}", none.text);
    node.stop().await;
}

#[tokio::test]
async fn a_stored_url_leading_to_loopback_is_not_called_unless_allowed() {
    let node = node().await;
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = trap.local_addr().expect("an address").port();
    let urls = [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://2130706433:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
    ];
    let mut merchants = Vec::new();
    for url in &urls {
        let merchant = node.merchant("1000000").await;
        // Written around the API's check, as if the allow-list had changed since.
        node.db
            .client()
            .await
            .execute(
                "UPDATE merchants SET webhook_url = $2, webhook_secret = $3 WHERE id = $1",
                &[&merchant.id, url, &"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"],
            )
            .await
            .expect("a stored URL");
        batch_event(&node, &merchant).await;
        merchants.push(merchant);
    }
    let deliverer = deliverer(
        &node,
        &WebhookConfig {
            allow: Vec::new(),
            retry_schedule_seconds: vec![0],
        },
    );
    for (merchant, url) in merchants.iter().zip(&urls) {
        let events = events_in(&node, merchant, "failed").await;
        assert_eq!(events[0]["attempts"], 2, "{url}");
        let error = events[0]["last_error"].as_str().unwrap_or_default();
        assert!(error.contains("loopback"), "{url}: {error}");
    }
    deliverer.stop().await;
    let connection = tokio::time::timeout(Duration::from_millis(200), trap.accept()).await;
    assert!(connection.is_err(), "the listener on loopback was called");
    node.stop().await;
}

#[tokio::test]
async fn the_endpoint_is_set_by_an_admin_read_and_removed() {
    let node = node().await;
    let merchant = node.merchant("1000000").await;
    let url = "http://127.0.0.1:9/first";
    let none = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(none.status, 404);

    let secret = set_endpoint(&node, &merchant, url).await;
    let read = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    let made = read.body["secret_created_at"].clone();
    assert!(made.is_string(), "{}", read.text);
    assert_eq!(
        read.body,
        json!({
            "url": url,
            "secret": secret,
            "secret_created_at": made,
            "previous_secret_expires_at": null,
        })
    );
    let moved = put_endpoint(
        &node,
        merchant.key(Role::Admin),
        "http://127.0.0.1:9/second",
    )
    .await;
    assert_eq!(moved.body["secret"], secret.as_str(), "the secret stays");
    assert_eq!(moved.body["secret_created_at"], made, "and so does its age");

    let viewer = put_endpoint(&node, merchant.key(Role::Viewer), url).await;
    assert_eq!(viewer.status, 403);
    let maker = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Maker))
        .await;
    assert_eq!(maker.status, 403);
    let anonymous = node
        .call(
            Method::PUT,
            "/v1/webhook-endpoint",
            None,
            &[("content-type", "application/json")],
            Some(json!({ "url": url }).to_string().into()),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    let unknown_field = node
        .call(
            Method::PUT,
            "/v1/webhook-endpoint",
            Some(merchant.key(Role::Admin)),
            &[("content-type", "application/json")],
            Some(json!({ "url": url, "events": ["*"] }).to_string().into()),
        )
        .await;
    assert_eq!(unknown_field.status, 422);

    let removed = node
        .call(
            Method::DELETE,
            "/v1/webhook-endpoint",
            Some(merchant.key(Role::Admin)),
            &[],
            None,
        )
        .await;
    assert_eq!(removed.status, 204);
    let gone = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(gone.status, 404);
    batch_event(&node, &merchant).await;
    let listed = node.get("/v1/webhooks", merchant.key(Role::Viewer)).await;
    assert_eq!(listed.body["data"], json!([]), "no endpoint, no event");
    node.stop().await;
}

#[tokio::test]
async fn events_are_listed_in_pages_kept_to_their_merchant_and_resent_with_the_same_id() {
    let node = node().await;
    let owner = node.merchant("1000000").await;
    let other = node.merchant("1000000").await;
    set_endpoint(&node, &owner, "http://127.0.0.1:9/hook").await;
    set_endpoint(&node, &other, "http://127.0.0.1:9/hook").await;
    let first = batch_event(&node, &owner).await;
    let second = batch_event(&node, &owner).await;

    let page = node
        .get("/v1/webhooks?limit=1", owner.key(Role::Viewer))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        page.body["data"][0]["payload"]["data"]["id"],
        first.to_string()
    );
    let cursor = page.body["next_cursor"].as_str().expect("another page");
    let next = node
        .get(
            &format!("/v1/webhooks?limit=1&cursor={cursor}"),
            owner.key(Role::Viewer),
        )
        .await;
    assert_eq!(
        next.body["data"][0]["payload"]["data"]["id"],
        second.to_string()
    );
    assert_eq!(next.body["next_cursor"], Value::Null);
    let pending = node
        .get("/v1/webhooks?state=pending", owner.key(Role::Viewer))
        .await;
    assert_eq!(pending.body["data"].as_array().map(Vec::len), Some(2));
    let delivered = node
        .get("/v1/webhooks?state=delivered", owner.key(Role::Viewer))
        .await;
    assert_eq!(delivered.body["data"], json!([]));
    for bad in [
        "/v1/webhooks?state=lost",
        "/v1/webhooks?cursor=forged",
        "/v1/webhooks?limit=0",
    ] {
        assert_eq!(
            node.get(bad, owner.key(Role::Viewer)).await.status,
            422,
            "{bad}"
        );
    }
    let others = node.get("/v1/webhooks", other.key(Role::Viewer)).await;
    assert_eq!(others.body["data"], json!([]));

    let event = &page.body["data"][0];
    let id = event["id"].as_str().expect("an id");
    let path = format!("/v1/webhooks/{id}");
    let shown = node.get(&path, owner.key(Role::Viewer)).await;
    assert_eq!(shown.status, 200);
    assert_eq!(&shown.body, event);
    assert_eq!(node.get(&path, other.key(Role::Viewer)).await.status, 404);
    let by_webhook_id = node
        .get(
            &format!(
                "/v1/webhooks/{}",
                event["webhook_id"].as_str().expect("an id")
            ),
            owner.key(Role::Viewer),
        )
        .await;
    assert_eq!(by_webhook_id.status, 200);
    assert_eq!(
        node.get("/v1/webhooks/not-an-id", owner.key(Role::Viewer))
            .await
            .status,
        404
    );

    let resend = format!("{path}/resend");
    let stolen = node
        .post_json(&resend, other.key(Role::Maker), &json!(null))
        .await;
    assert_eq!(stolen.status, 404, "{}", stolen.text);
    let viewer = node
        .post_json(&resend, owner.key(Role::Viewer), &json!(null))
        .await;
    assert_eq!(viewer.status, 403);
    let anonymous = node.call(Method::POST, &resend, None, &[], None).await;
    assert_eq!(anonymous.status, 401);

    node.db
        .client()
        .await
        .execute(
            "UPDATE webhook_events SET state = 'failed', attempts = 4, last_status = 500 WHERE id = $1",
            &[&Uuid::parse_str(id).expect("a uuid")],
        )
        .await
        .expect("a failed event");
    let resent = node
        .post_json_with(&resend, owner.key(Role::Maker), "resend-1", &json!(null))
        .await;
    assert_eq!(resent.status, 202, "{}", resent.text);
    assert_eq!(resent.body["state"], "pending");
    assert_eq!(resent.body["webhook_id"], event["webhook_id"]);
    assert_eq!(resent.body["attempts"], 4, "the tries made are kept");
    let replayed = node
        .post_json_with(&resend, owner.key(Role::Maker), "resend-1", &json!(null))
        .await;
    assert_eq!(replayed.status, 202);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    let without_key = node
        .call(
            Method::POST,
            &resend,
            Some(owner.key(Role::Maker)),
            &[],
            None,
        )
        .await;
    assert_eq!(without_key.status, 202, "{}", without_key.text);

    let removed = node
        .call(
            Method::DELETE,
            "/v1/webhook-endpoint",
            Some(owner.key(Role::Admin)),
            &[],
            None,
        )
        .await;
    assert_eq!(removed.status, 204);
    let nowhere = node
        .call(
            Method::POST,
            &resend,
            Some(owner.key(Role::Maker)),
            &[],
            None,
        )
        .await;
    assert_eq!(nowhere.status, 409, "{}", nowhere.text);
    assert_eq!(nowhere.problem(), "no-webhook-endpoint");
    node.stop().await;
}

/// `POST /v1/webhook-endpoint/rotate-secret` with the key `key`.
async fn rotate(node: &Node, key: Option<&str>) -> super::harness::Answer {
    node.call(
        Method::POST,
        "/v1/webhook-endpoint/rotate-secret",
        key,
        &[],
        None,
    )
    .await
}

/// Rotates the merchant's secret through the API; returns the new one.
async fn rotate_secret(node: &Node, merchant: &TestMerchant) -> String {
    let answer = rotate(node, Some(merchant.key(Role::Admin))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["secret"].as_str().expect("a secret").to_owned()
}

fn time_of(value: &Value) -> Timestamp {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

/// Whether a receiver holding only `secret` accepts the request.
fn verifies(secret: &str, request: &wiremock::Request) -> bool {
    standardwebhooks::Webhook::new(secret)
        .expect("the secret reads")
        .verify(&request.body, &request.headers)
        .is_ok()
}

/// The `v1,` signatures of a request.
fn signatures(request: &wiremock::Request) -> Vec<String> {
    request.headers["webhook-signature"]
        .to_str()
        .expect("ASCII")
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_secret_is_rotated_by_an_admin_and_the_old_one_is_kept_for_the_overlap() {
    let node = node().await;
    let merchant = node.merchant("1000000").await;
    let url = "http://127.0.0.1:9/hook";
    let none = rotate(&node, Some(merchant.key(Role::Admin))).await;
    assert_eq!(none.status, 404, "{}", none.text);
    let old = set_endpoint(&node, &merchant, url).await;
    let before = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;

    let asked = Timestamp::now();
    let rotated = rotate(&node, Some(merchant.key(Role::Admin))).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
    let new = rotated.body["secret"].as_str().expect("a secret");
    assert!(new.starts_with("whsec_"), "{new}");
    assert_ne!(new, old);
    assert_eq!(rotated.body["url"], url);
    let made = time_of(&rotated.body["secret_created_at"]);
    assert!(made > time_of(&before.body["secret_created_at"]));
    let until = time_of(&rotated.body["previous_secret_expires_at"]);
    let overlap = until.duration_since(asked);
    assert!(
        (overlap - PREVIOUS_SECRET_OVERLAP).abs() < SignedDuration::from_mins(1),
        "the old secret is kept for {overlap:?}"
    );
    let read = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(read.body, rotated.body, "the new secret is the endpoint's");
    let moved = put_endpoint(&node, merchant.key(Role::Admin), "http://127.0.0.1:9/moved").await;
    assert_eq!(
        moved.body["secret"], new,
        "changing the URL keeps the new secret"
    );
    assert_eq!(
        moved.body["previous_secret_expires_at"],
        rotated.body["previous_secret_expires_at"]
    );

    for role in [Role::Viewer, Role::Maker, Role::Checker] {
        let refused = rotate(&node, Some(merchant.key(role))).await;
        assert_eq!(refused.status, 403, "{role:?}: {}", refused.text);
    }
    assert_eq!(rotate(&node, None).await.status, 401);
    let other = node.merchant("1000000").await;
    assert_eq!(
        rotate(&node, Some(other.key(Role::Admin))).await.status,
        404,
        "another merchant's endpoint is not this one's"
    );
    let unchanged = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(
        unchanged.body["secret"], new,
        "refused rotations change nothing"
    );

    let removed = node
        .call(
            Method::DELETE,
            "/v1/webhook-endpoint",
            Some(merchant.key(Role::Admin)),
            &[],
            None,
        )
        .await;
    assert_eq!(removed.status, 204);
    let gone = rotate(&node, Some(merchant.key(Role::Admin))).await;
    assert_eq!(gone.status, 404, "{}", gone.text);
    node.stop().await;
}

#[tokio::test]
async fn after_a_rotation_events_are_signed_with_the_new_secret_and_the_old_one_until_the_overlap_ends()
 {
    let node = node().await;
    let merchant = node.merchant("1000000").await;
    let listener = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&listener)
        .await;
    let old = set_endpoint(&node, &merchant, &format!("{}/hook", listener.uri())).await;
    let deliverer = deliverer(&node, &loopback_allowed());

    // During the overlap: a receiver with either secret accepts the event.
    let new = rotate_secret(&node, &merchant).await;
    batch_event(&node, &merchant).await;
    events_in(&node, &merchant, "delivered").await;
    let received = requests(&listener).await;
    assert_eq!(received.len(), 1);
    assert_eq!(signatures(&received[0]).len(), 2, "the new and the old");
    assert!(
        signatures(&received[0])
            .iter()
            .all(|s| s.starts_with("v1,"))
    );
    assert!(
        verifies(&new, &received[0]),
        "a receiver with the new secret"
    );
    assert!(
        verifies(&old, &received[0]),
        "a receiver that still holds only the old secret"
    );
    let stranger = payrail_engine::app::webhooks::new_secret();
    assert!(!verifies(&stranger, &received[0]));

    // A second rotation within the overlap: the secret just replaced is the one kept.
    let newer = rotate_secret(&node, &merchant).await;
    batch_event(&node, &merchant).await;
    events_in(&node, &merchant, "delivered").await;
    let received = requests(&listener).await;
    assert_eq!(received.len(), 2);
    assert!(verifies(&newer, &received[1]));
    assert!(verifies(&new, &received[1]));
    assert!(
        !verifies(&old, &received[1]),
        "the first secret is done with"
    );

    // Once the overlap is over (as if 24 hours had passed), the new secret alone signs.
    node.db
        .client()
        .await
        .execute(
            "UPDATE merchants SET webhook_previous_until = now() - interval '1 second' WHERE id = $1",
            &[&merchant.id],
        )
        .await
        .expect("the overlap ends");
    let read = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(read.body["previous_secret_expires_at"], Value::Null);
    batch_event(&node, &merchant).await;
    events_in(&node, &merchant, "delivered").await;
    deliverer.stop().await;
    let received = requests(&listener).await;
    assert_eq!(received.len(), 3);
    assert_eq!(signatures(&received[2]).len(), 1);
    assert!(verifies(&newer, &received[2]));
    assert!(
        !verifies(&new, &received[2]),
        "the replaced secret no longer signs"
    );
    node.stop().await;
}

/// A person signed in to the portal over plain HTTP, the cookies kept by hand.
struct PortalVisitor {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl PortalVisitor {
    /// Signs in as a new user of `role` of the merchant.
    async fn sign_in(node: &Node, merchant: &TestMerchant, role: Role) -> PortalVisitor {
        let email = format!("{}-{}@example.rw", role.as_str(), Uuid::new_v4().simple());
        let password = "correct horse battery staple";
        let invited = node
            .app
            .invite_user(
                payrail_engine::app::users::Inviter::Operator(merchant.id),
                &email,
                role,
            )
            .await
            .expect("invited");
        node.app
            .set_password_by_link(&invited.setup_token, password)
            .await
            .expect("password set");
        let mut visitor = PortalVisitor {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            base: node.base.clone(),
            cookies: Vec::new(),
        };
        let (_, login) = visitor.get("/login").await;
        let csrf = csrf_of(&login);
        let (status, _) = visitor
            .post(
                "/login",
                &[("csrf", &csrf), ("email", &email), ("password", password)],
            )
            .await;
        assert_eq!(status, 303, "signed in");
        visitor
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, String) {
        let cookie = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request
            .header("cookie", cookie)
            .send()
            .await
            .expect("the node answers");
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().expect("ASCII").split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(kept, _)| kept != name);
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }
}

/// The CSRF token of a page's first form.
fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a form with a token") + marker.len();
    html[start..].split('"').next().expect("a token").to_owned()
}

/// The text of the element with `id` (up to the next tag).
fn element_text<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!(r#"id="{id}""#))?;
    let text = &html[at..];
    let start = text.find('>')? + 1;
    let end = text[start..].find('<')?;
    Some(&text[start..start + end])
}

#[tokio::test]
async fn the_portal_rotates_the_secret_and_shows_it_once_with_until_when_the_old_one_works() {
    let node = node().await;
    let merchant = node.merchant("1000000").await;
    let old = set_endpoint(&node, &merchant, "http://127.0.0.1:9/hook").await;
    let mut admin = PortalVisitor::sign_in(&node, &merchant, Role::Admin).await;
    let (status, settings) = admin.get("/settings").await;
    assert_eq!(status, 200);
    assert!(settings.contains(r#"action="/settings/webhook/rotate#webhook""#));
    assert!(element_text(&settings, "webhook-secret-made").is_some());
    assert!(element_text(&settings, "webhook-previous-until").is_none());

    let (status, _) = admin
        .post("/settings/webhook/rotate", &[("csrf", "forged")])
        .await;
    assert_eq!(status, 403, "a forged token is refused");
    let unchanged = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(unchanged.body["secret"], old.as_str());

    let (status, rotated) = admin
        .post("/settings/webhook/rotate", &[("csrf", &csrf_of(&settings))])
        .await;
    assert_eq!(status, 200, "{rotated}");
    let endpoint = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    let new = endpoint.body["secret"].as_str().expect("a secret");
    assert_ne!(new, old);
    assert_eq!(
        element_text(&rotated, "webhook-secret"),
        Some(new),
        "shown in full"
    );
    assert!(!rotated.contains(&old), "the old secret is not shown");
    let until = element_text(&rotated, "webhook-rotated-until").expect("until when");
    assert!(
        until.starts_with("The old secret keeps working until "),
        "{until}"
    );
    assert!(element_text(&rotated, "webhook-previous-until").is_some());

    let (_, again) = admin.get("/settings").await;
    assert!(!again.contains(new), "shown once only");
    let previous = element_text(&again, "webhook-previous-until").expect("the overlap");
    assert!(previous.contains(" until "), "{previous}");
    assert!(element_text(&again, "webhook-secret-made").is_some());

    let mut maker = PortalVisitor::sign_in(&node, &merchant, Role::Maker).await;
    let (_, dashboard) = maker.get("/").await;
    let (status, _) = maker
        .post(
            "/settings/webhook/rotate",
            &[("csrf", &csrf_of(&dashboard))],
        )
        .await;
    assert_eq!(status, 403, "admins only");
    let still = node
        .get("/v1/webhook-endpoint", merchant.key(Role::Admin))
        .await;
    assert_eq!(still.body["secret"], new);

    // The endpoint removed meanwhile (another tab, another admin): said on the form.
    let removed = node
        .call(
            Method::DELETE,
            "/v1/webhook-endpoint",
            Some(merchant.key(Role::Admin)),
            &[],
            None,
        )
        .await;
    assert_eq!(removed.status, 204);
    let (status, refused) = admin
        .post("/settings/webhook/rotate", &[("csrf", &csrf_of(&again))])
        .await;
    assert_eq!(status, 422, "{refused}");
    let said = element_text(&refused, "webhook-form").expect("the refusal");
    assert!(said.contains("no secret to rotate"), "{said}");
    node.stop().await;
}
