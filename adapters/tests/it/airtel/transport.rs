//! What happens around Airtel's answers: tokens (shared, refreshed after a 401, failing),
//! timeouts and refused connections.

use std::sync::Arc;
use std::time::Duration;

use payrail_adapters::airtel::AirtelMoney;
use payrail_adapters::http::HttpTimeouts;
use payrail_engine::operator::{Operator, OperatorError, PayoutStatus};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use super::harness::{Airtel, config, ok, payout, reply, tokens};

const DISBURSEMENTS: &str = "/standard/v2/disbursements/";
/// Short enough for a fast test, long enough for a local round trip.
const SHORT_REQUEST_MS: u64 = 300;

fn transaction_id(request: &wiremock::Request) -> Value {
    let body: Value = request.body_json().expect("a JSON body");
    body["transaction"]["id"].clone()
}

#[tokio::test]
async fn fifty_concurrent_sends_without_a_token_fetch_exactly_one() {
    let airtel = Airtel::without_tokens(HttpTimeouts::default()).await;
    let slow_token = ResponseTemplate::new(200)
        .set_body_json(
            json!({"access_token": "shared", "expires_in": 3600, "token_type": "Bearer"}),
        )
        .set_delay(Duration::from_millis(100));
    Mock::given(method("POST"))
        .and(path("/auth/oauth2/token"))
        .respond_with(slow_token)
        .expect(1)
        .mount(&airtel.server)
        .await;
    Mock::given(method("POST"))
        .and(path(DISBURSEMENTS))
        .and(header("authorization", "Bearer shared"))
        .respond_with(ok(reply("DP00900001006", "TIP", true)))
        .expect(50)
        .mount(&airtel.server)
        .await;
    let operator = Arc::new(airtel.operator);
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let operator = Arc::clone(&operator);
        sends.spawn(async move { operator.send_payout(&payout()).await });
    }
    while let Some(sent) = sends.join_next().await {
        assert_eq!(sent.expect("no panic"), Ok(PayoutStatus::Pending));
    }
    airtel.server.verify().await;
}

#[tokio::test]
async fn a_401_fetches_one_new_token_and_resends_the_same_transaction_once() {
    let airtel = Airtel::start().await;
    Mock::given(method("POST"))
        .and(path(DISBURSEMENTS))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&airtel.server)
        .await;
    Mock::given(method("POST"))
        .and(path(DISBURSEMENTS))
        .and(header("authorization", "Bearer token-2"))
        .respond_with(ok(reply("DP00900001001", "TS", true)))
        .expect(2)
        .mount(&airtel.server)
        .await;
    let request = payout();
    let result = airtel.operator.send_payout(&request).await;
    assert!(
        matches!(result, Ok(PayoutStatus::Succeeded { .. })),
        "{result:?}"
    );
    assert_eq!(airtel.received("/auth/oauth2/token").await.len(), 2);
    let sends = airtel.received(DISBURSEMENTS).await;
    let ids: Vec<Value> = sends.iter().map(transaction_id).collect();
    assert_eq!(ids, vec![json!(request.reference.to_string()); 2]);
    // The new token is kept: the next call fetches none.
    airtel.operator.send_payout(&payout()).await.expect("sent");
    assert_eq!(airtel.received("/auth/oauth2/token").await.len(), 2);
}

#[tokio::test]
async fn a_second_401_is_not_sent_and_nothing_more_is_tried() {
    let airtel = Airtel::answering("POST", DISBURSEMENTS, ResponseTemplate::new(401)).await;
    let result = airtel.operator.send_payout(&payout()).await;
    assert!(
        matches!(result, Err(OperatorError::NotSent { .. })),
        "{result:?}"
    );
    assert_eq!(airtel.received(DISBURSEMENTS).await.len(), 2);
    assert_eq!(airtel.received("/auth/oauth2/token").await.len(), 2);
}

#[tokio::test]
async fn a_failed_token_fetch_is_not_sent_and_sends_nothing() {
    let airtel = Airtel::without_tokens(HttpTimeouts::default()).await;
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "2");
    Mock::given(method("POST"))
        .and(path("/auth/oauth2/token"))
        .respond_with(throttled)
        .mount(&airtel.server)
        .await;
    let result = airtel.operator.send_payout(&payout()).await;
    match result {
        Err(OperatorError::NotSent {
            retry_after_ms,
            detail,
        }) => {
            assert_eq!(retry_after_ms, Some(2_000));
            assert!(detail.contains("token"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert!(airtel.received(DISBURSEMENTS).await.is_empty());
}

#[tokio::test]
async fn a_token_reply_without_expiry_is_not_sent() {
    let airtel = Airtel::without_tokens(HttpTimeouts::default()).await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth2/token"))
        .respond_with(ok(json!({"access_token": "t", "token_type": "Bearer"})))
        .mount(&airtel.server)
        .await;
    let result = airtel.operator.send_payout(&payout()).await;
    assert!(
        matches!(result, Err(OperatorError::NotSent { .. })),
        "{result:?}"
    );
    assert!(airtel.received(DISBURSEMENTS).await.is_empty());
}

#[tokio::test]
async fn a_reply_slower_than_the_request_timeout_is_unknown() {
    let timeouts = HttpTimeouts {
        request_ms: SHORT_REQUEST_MS,
        ..HttpTimeouts::default()
    };
    let airtel = Airtel::without_tokens(timeouts).await;
    tokens().mount(&airtel.server).await;
    let slow = ok(reply("DP00900001001", "TS", true)).set_delay(Duration::from_secs(3));
    Mock::given(method("POST"))
        .and(path(DISBURSEMENTS))
        .respond_with(slow)
        .mount(&airtel.server)
        .await;
    let result = airtel.operator.send_payout(&payout()).await;
    match result {
        Err(OperatorError::OutcomeUnknown { elapsed_ms }) => {
            assert!(elapsed_ms >= SHORT_REQUEST_MS, "{elapsed_ms}");
        }
        other => panic!("{other:?}"),
    }
}

/// Serves one token with `Connection: close`, then closes its port: the disbursement that
/// follows meets a refused connection.
async fn token_then_closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base_url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("the token request");
        drop(listener);
        let mut request = [0_u8; 4096];
        let _ = stream.read(&mut request).await;
        let body = r#"{"access_token":"t","expires_in":"3600","token_type":"Bearer"}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(response.as_bytes())
            .await
            .expect("the token reply");
        stream.shutdown().await.expect("closed");
    });
    base_url
}

#[tokio::test]
async fn a_refused_connection_is_not_sent() {
    let base_url = token_then_closed_port().await;
    let operator =
        AirtelMoney::new(config(&base_url, HttpTimeouts::default())).expect("an adapter");
    let result = operator.send_payout(&payout()).await;
    match result {
        Err(OperatorError::NotSent {
            detail,
            retry_after_ms,
        }) => {
            assert!(detail.starts_with("could not connect"), "{detail}");
            assert_eq!(retry_after_ms, None);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_not_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base_url = format!("http://{}", listener.local_addr().expect("an address"));
    drop(listener);
    let operator =
        AirtelMoney::new(config(&base_url, HttpTimeouts::default())).expect("an adapter");
    let result = operator.send_payout(&payout()).await;
    assert!(
        matches!(result, Err(OperatorError::NotSent { .. })),
        "{result:?}"
    );
}
