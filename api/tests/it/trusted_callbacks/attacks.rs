//! What must settle nothing: a forged token, the right token with another amount or
//! currency, one payout's callback replayed to another's URL, a callback contradicting a
//! payout already ended, and a flood (refused at once). The simulator keeps every transfer
//! pending for minutes, so no real callback and no status query ends anything meanwhile.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use payrail_adapters::simserver::SimServerProfile;
use payrail_engine::ids::PayoutId;
use tower::ServiceExt;

use super::TrustedNode;

/// MTN's callback body for a 1,000 RWF transfer to the payroll's first number.
fn body(payout: PayoutId, amount: &str, currency: &str, status: &str) -> String {
    format!(
        r#"{{"financialTransactionId":"77","externalId":"{payout}","amount":"{amount}",
            "currency":"{currency}","payee":{{"partyIdType":"MSISDN","partyId":"250788100000"}},
            "status":"{status}","reason":"INTERNAL_PROCESSING_ERROR"}}"#
    )
}

/// Calls the node back on `payout`'s URL with `token`; the status and the verdict.
async fn call_back(
    node: &axum::Router,
    payout: PayoutId,
    token: &str,
    body: String,
) -> (StatusCode, String) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/callbacks/mtn/{payout}/{token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a request");
    let response = node.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("a body");
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    (
        status,
        json["verdict"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_contradicting_and_flooding_callbacks_settle_nothing() {
    let profile = SimServerProfile {
        pending_ms: 600_000,
        status_queries_per_second: 10,
        ..SimServerProfile::default()
    };
    let node = TrustedNode::start(profile, Duration::from_secs(60), 100).await;
    node.payroll(2).await;
    node.wait_until(
        "SELECT count(*) FROM payout_lines WHERE state = 'sending'",
        2,
        Duration::from_secs(10),
        "lines sent",
    )
    .await;
    // Both transfers are with the operator (pending) before anyone calls back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let payouts = node.payouts_in("sending").await;
    let api = payrail_api::app(node.state.clone());
    let (first, second) = (payouts[0], payouts[1]);
    let token = node.keys.token(first);

    let paid = || body(first, "1000", "RWF", "SUCCESSFUL");
    let forged = call_back(&api, first, &node.keys.token(second), paid()).await;
    assert_eq!(
        forged.0,
        StatusCode::FORBIDDEN,
        "a token that is not the payout's"
    );
    for (attack, verdict) in [
        (body(first, "1001", "RWF", "SUCCESSFUL"), "wrong_amount"),
        (body(first, "1000", "EUR", "SUCCESSFUL"), "wrong_currency"),
        (body(second, "1000", "RWF", "SUCCESSFUL"), "replayed"),
    ] {
        assert_eq!(
            call_back(&api, first, &token, attack).await,
            (StatusCode::OK, verdict.to_owned())
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        node.count("SELECT count(*) FROM payout_lines WHERE state IN ('succeeded', 'failed')")
            .await,
        0,
        "no attack settled anything"
    );

    // The real word settles the payout at once; a later contradiction changes nothing.
    assert_eq!(
        call_back(&api, first, &token, paid()).await,
        (StatusCode::OK, "settled".to_owned())
    );
    node.wait_until(
        "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
        1,
        Duration::from_secs(10),
        "the authenticated callback settled its payout",
    )
    .await;
    assert_eq!(
        call_back(&api, first, &token, body(first, "1000", "RWF", "FAILED")).await,
        (StatusCode::OK, "contradicts_final".to_owned())
    );
    assert_eq!(
        call_back(&api, first, &token, paid()).await,
        (StatusCode::OK, "duplicate".to_owned())
    );

    // A flood is refused at once (100 a second here, 10 at once), and settles nothing either.
    let second_token = node.keys.token(second);
    let flood = (0..200).map(|_| {
        call_back(
            &api,
            second,
            &second_token,
            body(second, "999", "RWF", "SUCCESSFUL"),
        )
    });
    let answers = futures_util::future::join_all(flood).await;
    let refused = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(refused >= 100, "only {refused} of 200 refused");
    assert_eq!(node.payouts_in("succeeded").await, vec![first]);
    assert_eq!(
        node.count("SELECT count(*) FROM payout_lines WHERE state = 'failed'")
            .await,
        0
    );
    node.assert_ledger_sound().await;
    node.engine.stop().await;
}
