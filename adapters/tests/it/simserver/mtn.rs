//! MTN MoMo: tokens, transfers (202, 409, 404, another credential's, pending → final) and
//! requests to pay.

use std::time::Duration;

use payrail_adapters::simserver::{MtnCredential, Product, SimServerProfile};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    REQUEST_TO_PAY, SUBSCRIPTION_KEY, TRANSFER, TestSim, basic, eventually, request_to_pay_body,
    transfer_body,
};

#[tokio::test]
async fn a_token_needs_basic_credentials_and_a_subscription_key() {
    let sim = TestSim::with_defaults().await;
    let token = sim.http.post(sim.url("/disbursement/token/"));
    let issued = token
        .try_clone()
        .expect("no body")
        .header("Authorization", basic("user-1", "key-1"))
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .send()
        .await
        .expect("answered");
    assert_eq!(issued.status(), StatusCode::OK);
    let body: Value = issued.json().await.expect("JSON");
    assert_eq!(body["token_type"], "access_token");
    assert_eq!(body["expires_in"], 3600);
    let no_basic = token
        .try_clone()
        .expect("no body")
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .send()
        .await
        .expect("answered");
    assert_eq!(no_basic.status(), StatusCode::UNAUTHORIZED);
    let body: Value = no_basic.json().await.expect("JSON");
    assert_eq!(body["error"], "login_failed");
    let no_key = token
        .header("Authorization", basic("user-1", "key-1"))
        .send()
        .await
        .expect("answered");
    assert_eq!(no_key.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sim.handle.stats().token_requests.mtn_disbursement, 3);
}

#[tokio::test]
async fn an_expired_or_unknown_token_is_refused() {
    let sim = TestSim::start(SimServerProfile {
        token_ttl_secs: 1,
        ..SimServerProfile::default()
    })
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let balance = "/disbursement/v1_0/account/balance";
    assert_eq!(sim.mtn_get(balance, &token).await.status(), StatusCode::OK);
    assert_eq!(
        sim.mtn_get(balance, "made-up").await.status(),
        StatusCode::UNAUTHORIZED
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let expired = sim.mtn_get(balance, &token).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_is_for_its_own_product_only() {
    let sim = TestSim::with_defaults().await;
    let collection = sim.mtn_token("collection", "user-1").await;
    let response = sim
        .mtn_post(
            TRANSFER,
            &collection,
            Uuid::new_v4(),
            &transfer_body("250788123456", json!("100")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pinned_credentials_are_the_only_ones_accepted() {
    let sim = TestSim::start(SimServerProfile {
        mtn_credentials: vec![MtnCredential {
            product: Product::Disbursement,
            api_user: "pinned".into(),
            api_key: "api-key".into(),
            subscription_key: SUBSCRIPTION_KEY.into(),
        }],
        ..SimServerProfile::default()
    })
    .await;
    sim.mtn_token("disbursement", "pinned").await;
    let stranger = sim
        .http
        .post(sim.url("/disbursement/token/"))
        .header("Authorization", basic("stranger", "api-key"))
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .send()
        .await
        .expect("answered");
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_transfer_is_accepted_with_an_empty_202_then_successful() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    let response = sim
        .mtn_post(
            TRANSFER,
            &token,
            reference,
            &transfer_body("250788123456", json!("1500")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(
        response.bytes().await.expect("a body").is_empty(),
        "202 has no body"
    );
    let status = sim.mtn_status(TRANSFER, &token, reference).await;
    assert_eq!(status["status"], "SUCCESSFUL");
    assert_eq!(status["amount"], "1500");
    assert_eq!(status["currency"], "RWF");
    assert_eq!(status["externalId"], "payout-1");
    assert_eq!(status["payee"]["partyId"], "250788123456");
    assert!(status["financialTransactionId"].is_string());
    assert!(status.get("reason").is_none());
    assert!(status.get("referenceId").is_none());
}

#[tokio::test]
async fn a_reused_reference_is_409_and_executes_once() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let reference = Uuid::new_v4();
    let body = transfer_body("250788123456", json!("100"));
    assert_eq!(
        sim.mtn_post(TRANSFER, &token, reference, &body)
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let again = sim.mtn_post(TRANSFER, &token, reference, &body).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let error: Value = again.json().await.expect("JSON");
    assert_eq!(
        error,
        json!({"code": "RESOURCE_ALREADY_EXIST", "message": "Duplicated reference id. Creation of resource failed."})
    );
    let transfers = sim.handle.transfers();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].executions, 1);
    assert_eq!(transfers[0].attempts, 2);
    assert_eq!(sim.handle.stats().duplicates, 1);
}

#[tokio::test]
async fn an_unknown_reference_is_404_and_a_malformed_one_400() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let unknown = sim
        .mtn_get(&format!("{TRANSFER}/{}", Uuid::new_v4()), &token)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.expect("JSON");
    assert_eq!(body["code"], "RESOURCE_NOT_FOUND");
    let malformed = sim.mtn_get(&format!("{TRANSFER}/not-a-uuid"), &token).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let v7 = Uuid::now_v7().to_string();
    let posted = sim
        .mtn_post_with(
            TRANSFER,
            &token,
            &v7,
            &transfer_body("250788123456", json!("1")),
            &[],
        )
        .await
        .expect("answered");
    assert_eq!(
        posted.status(),
        StatusCode::BAD_REQUEST,
        "X-Reference-Id must be a UUIDv4"
    );
}

#[tokio::test]
async fn another_credentials_transfer_is_not_found() {
    let sim = TestSim::with_defaults().await;
    let owner = sim.mtn_token("disbursement", "owner").await;
    let other = sim.mtn_token("disbursement", "other").await;
    let reference = Uuid::new_v4();
    sim.mtn_post(
        TRANSFER,
        &owner,
        reference,
        &transfer_body("250788123456", json!("1")),
    )
    .await;
    let response = sim
        .mtn_get(&format!("{TRANSFER}/{reference}"), &other)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_transfer_stays_pending_for_pending_ms_then_turns_final() {
    let sim = TestSim::start(SimServerProfile {
        pending_ms: 300,
        ..SimServerProfile::default()
    })
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
    let first = sim.mtn_status(TRANSFER, &token, reference).await;
    assert_eq!(first["status"], "PENDING");
    assert!(first.get("financialTransactionId").is_none());
    let done = eventually(Duration::from_secs(2), || async {
        sim.mtn_status(TRANSFER, &token, reference).await["status"] == "SUCCESSFUL"
    })
    .await;
    assert!(done, "SUCCESSFUL after pending_ms");
}

#[tokio::test]
async fn a_request_to_pay_is_paid_and_sandbox_452_expires() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("collection", "collector").await;
    let (paid, expired) = (Uuid::new_v4(), Uuid::new_v4());
    let ok = sim
        .mtn_post(
            REQUEST_TO_PAY,
            &token,
            paid,
            &request_to_pay_body("250788123456", "700"),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    let late = sim
        .mtn_post(
            REQUEST_TO_PAY,
            &token,
            expired,
            &request_to_pay_body("46733123452", "700"),
        )
        .await;
    assert_eq!(late.status(), StatusCode::ACCEPTED);
    let body = sim.mtn_status(REQUEST_TO_PAY, &token, paid).await;
    assert_eq!(body["status"], "SUCCESSFUL");
    assert_eq!(body["payer"]["partyId"], "250788123456");
    assert!(body.get("payee").is_none());
    let body = sim.mtn_status(REQUEST_TO_PAY, &token, expired).await;
    assert_eq!(body["status"], "FAILED");
    assert_eq!(body["reason"]["code"], "EXPIRED");
    let again = sim
        .mtn_post(
            REQUEST_TO_PAY,
            &token,
            paid,
            &request_to_pay_body("250788123456", "700"),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}
