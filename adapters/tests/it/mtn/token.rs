//! The MTN token: fetched once for many waiting requests, and replaced when it expires.

use std::sync::Arc;
use std::time::Duration;

use payrail_adapters::mtn::MtnMomo;
use payrail_engine::operator::{Operator, PayoutStatus};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{API_KEY, API_USER, SUBSCRIPTION_KEY, config, payout, token_reply};

#[tokio::test]
async fn fifty_concurrent_payouts_with_an_expired_token_cause_one_token_request() {
    use base64::Engine as _;
    let server = MockServer::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_USER}:{API_KEY}"));
    // A token that lives one second, then one that lives an hour.
    Mock::given(method("POST"))
        .and(path("/disbursement/token/"))
        .and(header("Authorization", format!("Basic {basic}").as_str()))
        .and(header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY))
        .respond_with(token_reply("short", 1))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/disbursement/token/"))
        .respond_with(token_reply("long", 3_600).set_delay(Duration::from_millis(50)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/disbursement/v1_0/transfer"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let adapter = Arc::new(MtnMomo::new(config(&server.uri())).expect("an adapter"));
    assert_eq!(
        adapter.send_payout(&payout()).await,
        Ok(PayoutStatus::Pending)
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    let sends = (0..50).map(|_| {
        let adapter = Arc::clone(&adapter);
        tokio::spawn(async move { adapter.send_payout(&payout()).await })
    });
    for send in sends {
        assert_eq!(send.await.expect("no panic"), Ok(PayoutStatus::Pending));
    }
    let bearers: Vec<String> = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|received| received.url.path() == "/disbursement/v1_0/transfer")
        .map(|received| {
            received.headers["Authorization"]
                .to_str()
                .expect("text")
                .to_owned()
        })
        .collect();
    assert_eq!(bearers.len(), 51);
    assert_eq!(
        bearers
            .iter()
            .filter(|bearer| *bearer == "Bearer token-long")
            .count(),
        50
    );
    // `expect(1)` on each token mock is checked when the server drops.
    server.verify().await;
}
