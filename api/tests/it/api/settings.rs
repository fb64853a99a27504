//! `GET /v1/settings` and `PUT /v1/settings/approval`: an admin sets the four-eyes rule,
//! and the next upload follows it.

use payrail_engine::api_key::Role;
use reqwest::Method;
use serde_json::{Value, json};

use super::harness::{Node, NodeOptions};

async fn put(node: &Node, key: &str, body: &Value) -> super::harness::Answer {
    node.call(
        Method::PUT,
        "/v1/settings/approval",
        Some(key),
        &[("content-type", "application/json")],
        Some(body.to_string().into()),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_the_approval_rule_and_uploads_follow_it() {
    let node = Node::with(NodeOptions {
        engine: false,
        ..Default::default()
    })
    .await;
    let merchant = node.merchant("1000000").await;
    let admin = merchant.key(Role::Admin);
    let shown = node.get("/v1/settings", merchant.key(Role::Viewer)).await;
    assert_eq!(
        shown.body["approval"]["required"], "never",
        "{}",
        shown.text
    );
    assert_eq!(shown.body["payout_fee"], "100");
    let by_maker = put(
        &node,
        merchant.key(Role::Maker),
        &json!({"required": "always"}),
    )
    .await;
    assert_eq!(by_maker.status, 403);
    let set = put(&node, admin, &json!({"required": "above", "above": "5000"})).await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(
        set.body["approval"],
        json!({"required": "above", "above": "5000"})
    );
    for (body, field) in [
        (json!({"required": "above"}), "above"),
        (json!({"required": "above", "above": "-1"}), "above"),
        (json!({"required": "never", "above": "10"}), "above"),
        (json!({"required": "sometimes"}), "required"),
    ] {
        let refused = put(&node, admin, &body).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.text);
        assert!(refused.text.contains(field), "{body}: {}", refused.text);
    }
    let maker = merchant.key(Role::Maker);
    let upload = async |csv: &'static str, key: &'static str| {
        node.call(
            Method::POST,
            "/v1/batches",
            Some(maker),
            &[("content-type", "text/csv"), ("idempotency-key", key)],
            Some(csv.into()),
        )
        .await
    };
    let small = upload("msisdn,amount\n0788123456,5000\n", "small").await;
    assert_eq!(small.body["state"], "scheduled", "{}", small.text);
    let large = upload("msisdn,amount\n0788123456,5001\n", "large").await;
    assert_eq!(large.body["state"], "awaiting_approval", "{}", large.text);
}
