//! Keys past their 24 hours are swept away; keys still within them stay.

use payrail_engine::app::idempotency::sweep_expired;

use super::harness::{Node, NodeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_keys_are_swept_and_live_ones_kept() {
    let node = Node::with(NodeOptions {
        engine: false,
        ..Default::default()
    })
    .await;
    let merchant = node.merchant("0").await;
    let client = node.db.client().await;
    for (key, expires) in [
        ("old", "now() - interval '1 minute'"),
        ("live", "now() + interval '23 hours'"),
    ] {
        let insert = format!(
            "INSERT INTO idempotency_keys (merchant_id, key, request_sha256, response_status, response_body, expires_at)
             VALUES ($1, $2, $3, 201, '{{}}', {expires})"
        );
        client
            .execute(&insert, &[&merchant.id, &key, &vec![0_u8; 32]])
            .await
            .expect("a key");
    }
    assert_eq!(sweep_expired(&node.db.pool).await.expect("swept"), 1);
    let left: Vec<String> = client
        .query("SELECT key FROM idempotency_keys", &[])
        .await
        .expect("keys")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(left, ["live"]);
}
