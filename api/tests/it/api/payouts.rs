//! `POST /v1/payouts` and `GET /v1/payouts/{id}`: paid and seen final with `?wait`, failed
//! at once without funds, paid while bulk work waits for its connections, and every kind
//! of bad request refused with its reason.

use std::time::Duration;

use futures_util::future::Either;
use payrail_engine::api_key::Role;
use payrail_engine::ledger;
use reqwest::Method;
use serde_json::{Value, json};

use super::harness::Node;

fn payout(msisdn: &str, amount: &str) -> Value {
    json!({ "msisdn": msisdn, "amount": amount, "currency": "RWF", "reference": "inv-1", "note": "thanks" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_with_wait_answers_its_final_state_and_settles_once() {
    let node = Node::start().await;
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    let answer = node
        .post_json("/v1/payouts?wait=5", maker, &payout("0788123456", "1500"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["state"], "succeeded");
    assert_eq!(answer.body["amount"], "1500");
    assert_eq!(answer.body["fee"], "100");
    assert_eq!(answer.body["msisdn"], "250788123456");
    assert_eq!(answer.body["reference"], "inv-1");
    let id = answer.body["id"].as_str().expect("an id");
    let read = node
        .get(&format!("/v1/payouts/{id}"), merchant.key(Role::Viewer))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["state"], "succeeded");
    let balance = node.get("/v1/balance", maker).await;
    assert_eq!(balance.body["available"]["minor"], 100_000 - 1_600);
    assert_eq!(balance.body["reserved"]["minor"], 0);
    let report = ledger::audit(&node.db.client().await).await.expect("audit");
    assert!(report.is_sound(), "{report:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_the_payout_is_accepted_and_ends_later() {
    let node = Node::start().await;
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    let answer = node
        .post_json("/v1/payouts", maker, &payout("0722123456", "700"))
        .await;
    assert!(
        answer.status == 202 || answer.status == 200,
        "{}",
        answer.text
    );
    let path = format!("/v1/payouts/{}", answer.body["id"].as_str().expect("an id"));
    let done = node
        .wait_for(&path, maker, Duration::from_secs(10), |body| {
            body["state"] == "succeeded"
        })
        .await;
    assert!(done["operator_transaction_id"].is_string(), "{done}");
    node.stop().await;
}

/// Single payouts never wait for bulk work's connections: with its only one held, a single
/// payout is paid while a payroll's upload waits; let go, the payroll is stored and paid,
/// its claims and its lines' outcomes written on that connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_is_paid_while_a_payroll_waits_for_bulk_work_s_connection() {
    let node = Node::with(super::harness::NodeOptions {
        bulk_pool: true,
        ..super::harness::NodeOptions::default()
    })
    .await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let bulk_pool = node.bulk_pool.as_ref().expect("bulk work's pool");
    let held = bulk_pool.get().await.expect("its only connection");
    let payroll = json!({ "lines": [
        { "msisdn": "0788123456", "amount": "1500", "reference": "p-1" },
        { "msisdn": "0722123456", "amount": "2500", "reference": "p-2" },
    ]});
    // The upload's request borrows the node until it is answered.
    {
        let upload = std::pin::pin!(node.post_json("/v1/batches", maker, &payroll));
        let single = async {
            let answer = node
                .post_json("/v1/payouts?wait=10", maker, &payout("0788654321", "900"))
                .await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            answer.body["state"].clone()
        };
        let (state, upload) =
            match futures_util::future::select(upload, std::pin::pin!(single)).await {
                Either::Left((uploaded, _)) => panic!("the upload did not wait: {}", uploaded.text),
                Either::Right((state, upload)) => (state, upload),
            };
        assert_eq!(state, "succeeded");
        drop(held);
        let created = upload.await;
        assert_eq!(created.status, 201, "{}", created.text);
        let path = format!(
            "/v1/batches/{}",
            created.body["id"].as_str().expect("an id")
        );
        node.wait_for(&path, maker, Duration::from_secs(20), |body| {
            body["state"] == "completed"
        })
        .await;
    }
    let report = ledger::audit(&node.db.client().await).await.expect("audit");
    assert!(report.is_sound(), "{report:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_the_balance_does_not_cover_fails_at_once_and_moves_nothing() {
    let node = Node::start().await;
    let merchant = node.merchant("1000").await;
    let maker = merchant.key(Role::Maker);
    let answer = node
        .post_json("/v1/payouts", maker, &payout("0788123456", "950"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["state"], "failed");
    assert_eq!(answer.body["failure_reason"], "insufficient_balance");
    let balance = node.get("/v1/balance", maker).await;
    assert_eq!(balance.body["available"]["minor"], 1000);
    assert_eq!(balance.body["reserved"]["minor"], 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let simulator = node.simulator.as_ref().expect("a simulator");
    assert_eq!(simulator.executions().payouts, 0, "nothing was sent");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payouts_sent_at_once_are_funded_exactly_as_far_as_the_balance_goes() {
    let node = Node::with(super::harness::NodeOptions {
        engine: false,
        ..Default::default()
    })
    .await;
    // 900 and a 100 fee each: the balance covers ten of thirty.
    let merchant = node.merchant("10000").await;
    let maker = merchant.key(Role::Maker);
    let body = payout("0788123456", "900");
    let answers = futures_util::future::join_all(
        (0..30).map(|_| node.post_json("/v1/payouts", maker, &body)),
    )
    .await;
    let accepted: Vec<&Value> = answers
        .iter()
        .filter(|a| a.status == 202)
        .map(|a| &a.body)
        .collect();
    let refused = answers
        .iter()
        .filter(|a| a.status == 200 && a.body["failure_reason"] == "insufficient_balance")
        .count();
    assert_eq!((accepted.len(), refused), (10, 20), "{answers:?}");
    assert!(accepted.iter().all(|p| p["state"] == "validated"));
    let balance = node.get("/v1/balance", maker).await;
    assert_eq!(balance.body["available"]["minor"], 0);
    assert_eq!(balance.body["reserved"]["minor"], 10_000);
    for answer in &answers {
        let id = answer.body["id"].as_str().expect("an id");
        let stored = node.get(&format!("/v1/payouts/{id}"), maker).await;
        assert_eq!(stored.body["state"], answer.body["state"], "{id}");
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payout_requests_get_problems_with_reasons_and_store_nothing() {
    let node = Node::with(super::harness::NodeOptions {
        engine: false,
        ..Default::default()
    })
    .await;
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    let cases: [(Value, u16, &str, &str); 5] = [
        (payout("0252123456", "10"), 422, "invalid-request", "msisdn"),
        (payout("0788123456", "0"), 422, "invalid-request", "amount"),
        (
            payout("0788123456", "10.5"),
            422,
            "invalid-request",
            "amount",
        ),
        (
            json!({"msisdn": "0788123456", "amount": "10", "currency": "EUR"}),
            422,
            "invalid-request",
            "currency",
        ),
        (
            json!({"msisdn": "0788123456", "amount": "10", "currency": "RWF", "colour": "red"}),
            422,
            "invalid-request",
            "colour",
        ),
    ];
    for (body, status, problem, mentions) in cases {
        let answer = node.post_json("/v1/payouts", maker, &body).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text);
        assert_eq!(answer.problem(), problem, "{}", answer.text);
        assert!(answer.text.contains(mentions), "{body}: {}", answer.text);
        assert!(
            answer
                .header("content-type")
                .is_some_and(|t| t.contains("problem+json")),
            "{:?}",
            answer.headers
        );
    }
    let post = async |headers: &[(&str, &str)], body: &'static str| {
        node.call(
            Method::POST,
            "/v1/payouts",
            Some(maker),
            headers,
            Some(body.into()),
        )
        .await
    };
    let malformed = post(
        &[
            ("content-type", "application/json"),
            ("idempotency-key", "k1"),
        ],
        "{\"msisdn\": ",
    )
    .await;
    assert_eq!(
        (malformed.status, malformed.problem()),
        (400, "malformed-json"),
        "{}",
        malformed.text
    );
    let wrong_type = post(
        &[("content-type", "text/plain"), ("idempotency-key", "k2")],
        "{}",
    )
    .await;
    assert_eq!(
        (wrong_type.status, wrong_type.problem()),
        (415, "unsupported-media-type")
    );
    let no_key = post(
        &[("content-type", "application/json")],
        "{\"msisdn\":\"0788123456\",\"amount\":\"10\",\"currency\":\"RWF\"}",
    )
    .await;
    assert_eq!(
        (no_key.status, no_key.problem()),
        (400, "idempotency-key-missing"),
        "{}",
        no_key.text
    );
    let huge = format!(
        "{{\"msisdn\":\"0788123456\",\"amount\":\"10\",\"currency\":\"RWF\",\"note\":\"{}\"}}",
        "x".repeat(100_000)
    );
    let oversized = node
        .call(
            Method::POST,
            "/v1/payouts",
            Some(maker),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "k3"),
            ],
            Some(huge.into()),
        )
        .await;
    assert_eq!(
        (oversized.status, oversized.problem()),
        (413, "body-too-large"),
        "{}",
        oversized.text
    );
    let stored: i64 = node
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM payout_lines", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let node = Node::start().await;
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    let first = node
        .post_json_with(
            "/v1/payouts",
            maker,
            "pay-42",
            &payout("0788123456", "1500"),
        )
        .await;
    let again = node
        .post_json_with(
            "/v1/payouts",
            maker,
            "pay-42",
            &payout("0788123456", "1500"),
        )
        .await;
    assert_eq!(again.status, first.status);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let other = node
        .post_json_with(
            "/v1/payouts",
            maker,
            "pay-42",
            &payout("0788123456", "1600"),
        )
        .await;
    assert_eq!(
        (other.status, other.problem()),
        (422, "invalid-request"),
        "{}",
        other.text
    );
    let lines: i64 = node
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM payout_lines", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(lines, 1);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_merchants_are_kept_apart_on_payouts() {
    let node = Node::start().await;
    let (a, b) = (node.merchant("100000").await, node.merchant("100000").await);
    let created = node
        .post_json(
            "/v1/payouts",
            a.key(Role::Maker),
            &payout("0788123456", "100"),
        )
        .await;
    let path = format!(
        "/v1/payouts/{}",
        created.body["id"].as_str().expect("an id")
    );
    let other = node.get(&path, b.key(Role::Admin)).await;
    assert_eq!((other.status, other.problem()), (404, "not-found"));
    let garbage = node.get("/v1/payouts/not-an-id", a.key(Role::Viewer)).await;
    assert_eq!(garbage.status, 404);
    let viewer = node
        .post_json(
            "/v1/payouts",
            a.key(Role::Viewer),
            &payout("0788123456", "100"),
        )
        .await;
    assert_eq!((viewer.status, viewer.problem()), (403, "role-not-allowed"));
    let anonymous = node.call(Method::GET, &path, None, &[], None).await;
    assert_eq!(
        (anonymous.status, anonymous.problem()),
        (401, "unauthenticated")
    );
    node.stop().await;
}
