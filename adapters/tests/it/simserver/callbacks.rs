//! Callbacks to a wiremock receiver: delivered once, retried after a failure, dropped,
//! duplicated, shaped badly on purpose, and Airtel's to the profile's URL.

use std::time::Duration;

use payrail_adapters::simserver::{CallbackProfile, SimServerProfile};
use payrail_adapters::simulator::PPM;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{
    REQUEST_TO_PAY, TRANSFER, TestSim, disbursement_body, eventually, request_to_pay_body,
    transfer_body,
};

/// A receiver answering 200 on /cb, after `failures` answers of 500.
async fn receiver(failures: u64) -> MockServer {
    let server = MockServer::start().await;
    if failures > 0 {
        Mock::given(path("/cb"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(failures)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(path("/cb"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn received(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

async fn wait_for(server: &MockServer, count: usize) -> Vec<wiremock::Request> {
    eventually(Duration::from_secs(3), || async {
        received(server).await.len() >= count
    })
    .await;
    // A little longer, to catch any callback that should not come.
    tokio::time::sleep(Duration::from_millis(150)).await;
    received(server).await
}

fn with_callbacks(callbacks: CallbackProfile) -> SimServerProfile {
    SimServerProfile {
        callbacks: CallbackProfile {
            retry_scale: 0.01,
            ..callbacks
        },
        ..SimServerProfile::default()
    }
}

/// Sends a transfer with `X-Callback-Url` to the receiver.
async fn transfer_with_callback(sim: &TestSim, server: &MockServer, msisdn: &str) -> Uuid {
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    let url = format!("{}/cb", server.uri());
    let response = sim
        .mtn_post_with(
            TRANSFER,
            &token,
            &reference.to_string(),
            &transfer_body(msisdn, json!("100")),
            &[("X-Callback-Url", &url)],
        )
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    reference
}

#[tokio::test]
async fn a_final_transfer_is_called_back_once_with_its_status() {
    let server = receiver(0).await;
    let sim = TestSim::start(SimServerProfile {
        pending_ms: 100,
        ..with_callbacks(CallbackProfile::default())
    })
    .await;
    let reference = transfer_with_callback(&sim, &server, "250788123456").await;
    let requests = wait_for(&server, 1).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method.as_str(), "POST");
    let body: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(body["referenceId"], reference.to_string());
    assert_eq!(body["externalId"], "payout-1");
    assert_eq!(body["status"], "SUCCESSFUL");
    assert!(body["financialTransactionId"].is_string());
    let stats = sim.handle.stats();
    assert_eq!((stats.callbacks_sent, stats.callbacks_delivered), (1, 1));
}

#[tokio::test]
async fn a_failed_delivery_is_retried() {
    let server = receiver(2).await;
    let sim = TestSim::start(with_callbacks(CallbackProfile::default())).await;
    transfer_with_callback(&sim, &server, "250788123456").await;
    let requests = wait_for(&server, 3).await;
    assert_eq!(requests.len(), 3, "two failures, then delivered");
    let stats = sim.handle.stats();
    assert_eq!((stats.callbacks_failed, stats.callbacks_delivered), (2, 1));
}

#[tokio::test]
async fn retries_stop_after_retries_max() {
    let server = receiver(100).await;
    let sim = TestSim::start(with_callbacks(CallbackProfile {
        retries_max: 2,
        ..CallbackProfile::default()
    }))
    .await;
    transfer_with_callback(&sim, &server, "250788123456").await;
    let requests = wait_for(&server, 3).await;
    assert_eq!(requests.len(), 3, "one attempt and two retries");
    assert!(
        eventually(Duration::from_secs(1), || async {
            sim.handle.stats().callbacks_given_up == 1
        })
        .await
    );
}

#[tokio::test]
async fn a_dropped_callback_never_comes() {
    let server = receiver(0).await;
    let sim = TestSim::start(with_callbacks(CallbackProfile {
        drop_ppm: PPM,
        ..CallbackProfile::default()
    }))
    .await;
    transfer_with_callback(&sim, &server, "250788123456").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(received(&server).await.is_empty());
    assert_eq!(sim.handle.stats().callbacks_dropped, 1);
}

#[tokio::test]
async fn a_duplicated_callback_comes_twice_alike() {
    let server = receiver(0).await;
    let sim = TestSim::start(with_callbacks(CallbackProfile {
        duplicate_ppm: PPM,
        ..CallbackProfile::default()
    }))
    .await;
    transfer_with_callback(&sim, &server, "250788123456").await;
    let requests = wait_for(&server, 2).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn a_callback_may_omit_the_reference_and_give_the_reason_as_a_string() {
    let server = receiver(0).await;
    let sim = TestSim::start(with_callbacks(CallbackProfile {
        omit_reference_id_ppm: PPM,
        reason_as_string_ppm: PPM,
        ..CallbackProfile::default()
    }))
    .await;
    transfer_with_callback(&sim, &server, "46733123455").await;
    let requests = wait_for(&server, 1).await;
    let body: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert!(body.get("referenceId").is_none(), "{body}");
    assert_eq!(body["externalId"], "payout-1");
    assert_eq!(body["status"], "FAILED");
    assert_eq!(body["reason"], "NOT_ENOUGH_FUNDS");
}

#[tokio::test]
async fn a_request_to_pay_is_called_back_with_put_after_the_delay() {
    let server = receiver(0).await;
    let sim = TestSim::start(with_callbacks(CallbackProfile {
        delay_ms: 200,
        ..CallbackProfile::default()
    }))
    .await;
    let token = sim.mtn_token("collection", "collector").await;
    let url = format!("{}/cb", server.uri());
    let reference = Uuid::new_v4().to_string();
    let body = request_to_pay_body("250788123456", "500");
    sim.mtn_post_with(
        REQUEST_TO_PAY,
        &token,
        &reference,
        &body,
        &[("X-Callback-Url", &url)],
    )
    .await
    .expect("answered");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(received(&server).await.is_empty(), "not before delay_ms");
    let requests = wait_for(&server, 1).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method.as_str(), "PUT");
    let body: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(body["payer"]["partyId"], "250788123456");
}

#[tokio::test]
async fn airtel_results_are_posted_to_the_profiles_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/airtel"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let sim = TestSim::start(SimServerProfile {
        airtel_callback_url: Some(format!("{}/airtel", server.uri())),
        ..with_callbacks(CallbackProfile::default())
    })
    .await;
    let token = sim.airtel_token("client-1").await;
    let response = sim
        .airtel_post(
            "/standard/v2/disbursements/",
            &token,
            &disbursement_body("tx-cb-1", "781234567", json!(100)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let requests = wait_for(&server, 1).await;
    assert_eq!(requests.len(), 1);
    let body: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(body["transaction"]["id"], "tx-cb-1");
    assert_eq!(body["transaction"]["status_code"], "TS");
    assert!(body["transaction"]["airtel_money_id"].is_string());
}
