//! Each fault over HTTP: the client sees what a real outage looks like, and the simulator
//! never executes a reference twice.

use std::time::{Duration, Instant};

use payrail_adapters::simserver::{SimFaults, SimServerProfile};
use payrail_adapters::simulator::{Latency, PPM};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{TRANSFER, TestSim, eventually, transfer_body};

fn faulty(faults: SimFaults) -> SimServerProfile {
    SimServerProfile {
        faults,
        hang_ms: 400,
        ..SimServerProfile::default()
    }
}

/// Long before `hang_ms`.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(100);

#[tokio::test]
async fn accept_then_timeout_executes_once_and_the_client_times_out() {
    let sim = TestSim::start(faulty(SimFaults {
        accept_then_timeout: PPM,
        ..SimFaults::default()
    }))
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    let body = transfer_body("250788123456", json!("100"));
    let sent = sim
        .mtn_post_impatiently(&token, reference, &body, CLIENT_TIMEOUT)
        .await;
    assert!(
        sent.is_err_and(|error| error.is_timeout()),
        "the reply is held"
    );
    assert_eq!(
        sim.mtn_status(TRANSFER, &token, reference).await["status"],
        "SUCCESSFUL"
    );
    let resent = sim.mtn_post(TRANSFER, &token, reference, &body).await;
    assert_eq!(resent.status(), StatusCode::CONFLICT);
    let transfers = sim.handle.transfers();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].executions, 1);
    assert_eq!(sim.handle.stats().faults.accept_then_timeout, 1);
}

#[tokio::test]
async fn accepted_then_lost_is_not_found_and_a_resend_executes_exactly_once() {
    let sim = TestSim::start(faulty(SimFaults {
        accepted_then_lost: PPM,
        ..SimFaults::default()
    }))
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    let body = transfer_body("250788123456", json!("100"));
    let sent = sim
        .mtn_post_impatiently(&token, reference, &body, CLIENT_TIMEOUT)
        .await;
    assert!(sent.is_err_and(|error| error.is_timeout()));
    let lookup = sim
        .mtn_get(&format!("{TRANSFER}/{reference}"), &token)
        .await;
    assert_eq!(
        lookup.status(),
        StatusCode::NOT_FOUND,
        "nothing was created"
    );
    sim.handle
        .set_profile(SimServerProfile::default())
        .expect("a valid profile");
    let resent = sim.mtn_post(TRANSFER, &token, reference, &body).await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    assert_eq!(
        sim.mtn_status(TRANSFER, &token, reference).await["status"],
        "SUCCESSFUL"
    );
    let transfers = sim.handle.transfers();
    assert_eq!(transfers.len(), 1);
    assert_eq!((transfers[0].executions, transfers[0].attempts), (1, 2));
}

#[tokio::test]
async fn error_after_executing_is_a_500_for_a_paid_transfer() {
    let sim = TestSim::start(faulty(SimFaults {
        error_after_executing: PPM,
        ..SimFaults::default()
    }))
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    let response = sim
        .mtn_post(
            TRANSFER,
            &token,
            reference,
            &transfer_body("250788123456", json!("100")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["code"], "INTERNAL_PROCESSING_ERROR");
    assert_eq!(
        sim.mtn_status(TRANSFER, &token, reference).await["status"],
        "SUCCESSFUL"
    );
    assert_eq!(sim.handle.transfers()[0].executions, 1);
}

#[tokio::test]
async fn rate_limited_posts_come_in_bursts_and_execute_nothing() {
    let sim = TestSim::start(faulty(SimFaults {
        rate_limited: PPM,
        burst_ms: 300,
        ..SimFaults::default()
    }))
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let body = transfer_body("250788123456", json!("100"));
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let refused = sim.mtn_post(TRANSFER, &token, first, &body).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    sim.handle
        .set_profile(SimServerProfile::default())
        .expect("a valid profile");
    let in_burst = sim.mtn_post(TRANSFER, &token, second, &body).await;
    assert_eq!(
        in_burst.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the burst outlives the draw"
    );
    assert!(sim.handle.transfers().is_empty());
    let through = eventually(Duration::from_secs(2), || async {
        sim.mtn_post(TRANSFER, &token, first, &body).await.status() == StatusCode::ACCEPTED
    })
    .await;
    assert!(through, "accepted once the burst is over");
    assert_eq!(sim.handle.transfers()[0].executions, 1);
    assert!(sim.handle.stats().faults.rate_limited >= 2);
}

#[tokio::test]
async fn rejected_posts_carry_an_mtn_reason_and_create_nothing() {
    let sim = TestSim::start(faulty(SimFaults {
        rejected: PPM,
        ..SimFaults::default()
    }))
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    let response = sim
        .mtn_post(
            TRANSFER,
            &token,
            reference,
            &transfer_body("250788123456", json!("100")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    let code = body["code"].as_str().expect("a code");
    assert!(
        [
            "PAYEE_NOT_FOUND",
            "NOT_ALLOWED",
            "PAYER_LIMIT_REACHED",
            "PAYEE_NOT_ALLOWED_TO_RECEIVE",
            "INVALID_CURRENCY"
        ]
        .contains(&code),
        "{code}"
    );
    let lookup = sim
        .mtn_get(&format!("{TRANSFER}/{reference}"), &token)
        .await;
    assert_eq!(lookup.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn garbage_status_is_a_200_that_is_not_json() {
    let sim = TestSim::start(faulty(SimFaults {
        garbage_status: PPM,
        ..SimFaults::default()
    }))
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    sim.mtn_post(
        TRANSFER,
        &token,
        reference,
        &transfer_body("250788123456", json!("100")),
    )
    .await;
    let response = sim
        .mtn_get(&format!("{TRANSFER}/{reference}"), &token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("a body");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[tokio::test]
async fn the_pending_fault_holds_a_transfer_pending_for_its_own_delay() {
    let sim = TestSim::start(faulty(SimFaults {
        pending: PPM,
        pending_ms: 300,
        ..SimFaults::default()
    }))
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    sim.mtn_post(
        TRANSFER,
        &token,
        reference,
        &transfer_body("250788123456", json!("100")),
    )
    .await;
    assert_eq!(
        sim.mtn_status(TRANSFER, &token, reference).await["status"],
        "PENDING"
    );
    let done = eventually(Duration::from_secs(2), || async {
        sim.mtn_status(TRANSFER, &token, reference).await["status"] == "SUCCESSFUL"
    })
    .await;
    assert!(done);
    assert_eq!(sim.handle.stats().faults.pending, 1);
}

#[tokio::test]
async fn latency_slows_every_reply() {
    let sim = TestSim::start(SimServerProfile {
        latency: Latency::Fixed { ms: 150 },
        ..SimServerProfile::default()
    })
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let started = Instant::now();
    let response = sim
        .mtn_post(
            TRANSFER,
            &token,
            Uuid::new_v4(),
            &transfer_body("250788123456", json!("100")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(started.elapsed() >= Duration::from_millis(150));
}
