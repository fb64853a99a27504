//! `GET /v1/cluster`: an admin sees the node with its lease, what it owns and its quota
//! shares; other roles are refused.

use payrail_engine::api_key::Role;

use super::harness::{Node, NodeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_the_live_node_its_lease_and_quota_shares() {
    let node = Node::with(NodeOptions {
        engine: true,
        ..Default::default()
    })
    .await;
    let merchant = node.merchant("1000000").await;
    let refused = node.get("/v1/cluster", merchant.key(Role::Checker)).await;
    assert_eq!(
        (refused.status, refused.problem()),
        (403, "role-not-allowed"),
        "{}",
        refused.text
    );
    // The membership actor's first round, at the start, records the quota shares, then
    // takes the verifier role.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let cluster = loop {
        let cluster = node.get("/v1/cluster", merchant.key(Role::Admin)).await;
        assert_eq!(cluster.status, 200, "{}", cluster.text);
        let node = &cluster.body["nodes"][0];
        if node["quota_shares"]["mtn-rw"].is_object() && node["roles"] != serde_json::json!([]) {
            break cluster;
        }
        assert!(std::time::Instant::now() < deadline, "{}", cluster.text);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(cluster.body["live_nodes"], 1, "{}", cluster.text);
    let only = &cluster.body["nodes"][0];
    assert_eq!(only["live"], true);
    assert_eq!(only["roles"], serde_json::json!(["verifier"]));
    assert!(
        only["expires_at"]
            .as_str()
            .is_some_and(|at| at > only["renewed_at"].as_str().unwrap_or(""))
    );
    let shares = &only["quota_shares"]["mtn-rw"];
    assert!(
        shares["sends_per_second"].as_u64().is_some_and(|n| n > 0),
        "{}",
        cluster.text
    );
    assert_eq!(shares["sends_busy"], false, "{}", cluster.text);
}
