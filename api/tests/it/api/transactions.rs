//! `GET /v1/transactions`: payouts (single and payroll) in one list, filtered by type,
//! state and time, paged with a cursor, and only the caller's own.

use std::time::Duration;

use payrail_engine::api_key::Role;
use serde_json::json;

use super::harness::Node;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_filtered_paged_and_kept_to_their_merchant() {
    let node = Node::start().await;
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    for amount in ["100", "200", "300"] {
        let body = json!({"msisdn": "0788123456", "amount": amount, "currency": "RWF"});
        let answer = node.post_json("/v1/payouts?wait=5", maker, &body).await;
        assert_eq!(answer.body["state"], "succeeded", "{}", answer.text);
    }
    let poor = json!({"msisdn": "0788123456", "amount": "500000", "currency": "RWF"});
    let failed = node.post_json("/v1/payouts", maker, &poor).await;
    assert_eq!(failed.body["state"], "failed");
    let viewer = merchant.key(Role::Viewer);
    let all = node.get("/v1/transactions?type=payout", viewer).await;
    assert_eq!(
        all.body["data"].as_array().map(Vec::len),
        Some(4),
        "{}",
        all.text
    );
    assert_eq!(all.body["data"][0]["amount"], "100");
    let succeeded = node
        .get("/v1/transactions?state=succeeded&limit=2", viewer)
        .await;
    assert_eq!(succeeded.body["data"].as_array().map(Vec::len), Some(2));
    let cursor = succeeded.body["next_cursor"].as_str().expect("a next page");
    let rest = node
        .get(
            &format!("/v1/transactions?state=succeeded&limit=2&cursor={cursor}"),
            viewer,
        )
        .await;
    assert_eq!(rest.body["data"][0]["amount"], "300", "{}", rest.text);
    assert!(rest.body["next_cursor"].is_null());
    // Two UTC days on: after today in the merchant's time zone (Kigali, UTC+2) at any hour.
    let after_today = (jiff::Timestamp::now() + Duration::from_secs(2 * 86_400)).to_string();
    let none = node
        .get(
            &format!("/v1/transactions?from={}", &after_today[..10]),
            viewer,
        )
        .await;
    assert_eq!(none.body["data"], json!([]), "{}", none.text);
    for bad in [
        "type=refund",
        "state=lost",
        "from=yesterday",
        "from=2026-11-02&until=2026-11-01",
    ] {
        let refused = node.get(&format!("/v1/transactions?{bad}"), viewer).await;
        assert_eq!(refused.status, 422, "{bad}: {}", refused.text);
    }
    let other = node.merchant("0").await;
    let theirs = node.get("/v1/transactions", other.key(Role::Viewer)).await;
    assert_eq!(theirs.body["data"], json!([]));
    node.stop().await;
}
