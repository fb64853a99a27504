//! What every endpoint shares: a request id on every answer, a per-key rate limit that
//! answers 429 with `Retry-After`, and problem+json for an unknown endpoint.

use payrail_api::REQUEST_ID;
use payrail_api::config::ApiConfig;
use payrail_engine::api_key::Role;
use reqwest::Method;

use super::harness::{Node, NodeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_rate_gets_429_with_retry_after_and_another_key_does_not() {
    let node = Node::with(NodeOptions {
        engine: false,
        state: |state| {
            let limits = ApiConfig {
                requests_per_second: 1,
                burst: 3,
            };
            state.with_limits(&limits)
        },
        ..Default::default()
    })
    .await;
    let merchant = node.merchant("0").await;
    let viewer = merchant.key(Role::Viewer);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(node.get("/v1/balance", viewer).await);
    }
    assert!(statuses[..3].iter().all(|a| a.status == 200));
    let limited = &statuses[4];
    assert_eq!(
        (limited.status, limited.problem()),
        (429, "rate-limited"),
        "{}",
        limited.text
    );
    let retry_after: u64 = limited
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let other = node.get("/v1/balance", merchant.key(Role::Checker)).await;
    assert_eq!(other.status, 200, "each key has its own budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_and_unknown_paths_are_problems() {
    let node = Node::with(NodeOptions {
        engine: false,
        ..Default::default()
    })
    .await;
    let merchant = node.merchant("0").await;
    let ok = node.get("/v1/balance", merchant.key(Role::Viewer)).await;
    let refused = node.call(Method::GET, "/v1/balance", None, &[], None).await;
    let unknown = node
        .get("/v1/nothing-here", merchant.key(Role::Viewer))
        .await;
    for answer in [&ok, &refused, &unknown] {
        assert!(
            answer.header(REQUEST_ID).is_some_and(|id| !id.is_empty()),
            "{:?}",
            answer.headers
        );
    }
    assert_eq!((unknown.status, unknown.problem()), (404, "not-found"));
    let echoed = node
        .call(
            Method::GET,
            "/v1/balance",
            Some(merchant.key(Role::Viewer)),
            &[(REQUEST_ID, "trace-me-42")],
            None,
        )
        .await;
    assert_eq!(echoed.header(REQUEST_ID), Some("trace-me-42"));
}
