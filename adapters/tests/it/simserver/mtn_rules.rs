//! MTN MoMo rules: sandbox numbers, currency and environment, amounts, the float, account
//! holders, the per-credential status limit, and bodies that match MTN's Swagger schemas.

use std::collections::BTreeMap;
use std::time::Duration;

use payrail_adapters::simserver::SimServerProfile;
use payrail_engine::money::{Amount, Currency};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{SUBSCRIPTION_KEY, TRANSFER, TestSim, eventually, transfer_body};

#[tokio::test]
async fn sandbox_numbers_behave_as_mtn_documents() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let expected = [
        ("46733123450", "FAILED", Some("INTERNAL_PROCESSING_ERROR")),
        ("46733123453", "PENDING", None),
        ("46733123454", "PENDING", None),
        ("46733123455", "FAILED", Some("NOT_ENOUGH_FUNDS")),
        ("46733123456", "FAILED", Some("PAYER_LIMIT_REACHED")),
        ("46733123457", "FAILED", Some("PAYEE_NOT_FOUND")),
        ("46733123460", "SUCCESSFUL", None),
    ];
    let mut delayed = None;
    for (number, status, reason) in expected {
        let reference = Uuid::new_v4();
        let response = sim
            .mtn_post(
                TRANSFER,
                &token,
                reference,
                &transfer_body(number, json!("10")),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{number}");
        let body = sim.mtn_status(TRANSFER, &token, reference).await;
        assert_eq!(body["status"], status, "{number}");
        assert_eq!(body["reason"]["code"].as_str(), reason, "{number}");
        if number == "46733123454" {
            delayed = Some(reference);
        }
    }
    let delayed = delayed.expect("…454 was sent");
    let done = eventually(Duration::from_secs(3), || async {
        sim.mtn_status(TRANSFER, &token, delayed).await["status"] == "SUCCESSFUL"
    })
    .await;
    assert!(done, "…454 is delayed, then successful");
    let executed: Vec<u32> = sim
        .handle
        .transfers()
        .iter()
        .map(|t| t.executions)
        .collect();
    assert_eq!(
        executed,
        [0, 0, 1, 0, 0, 0, 1],
        "only the successful ones moved money"
    );
}

#[tokio::test]
async fn currency_and_environment_must_match() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let mut euros = transfer_body("250788123456", json!("100"));
    euros["currency"] = json!("EUR");
    let response = sim.mtn_post(TRANSFER, &token, Uuid::new_v4(), &euros).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["code"], "INVALID_CURRENCY");
    let elsewhere = sim
        .http
        .post(sim.url(TRANSFER))
        .bearer_auth(&token)
        .header("X-Reference-Id", Uuid::new_v4().to_string())
        .header("X-Target-Environment", "mtnuganda")
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .json(&transfer_body("250788123456", json!("100")))
        .send()
        .await
        .expect("answered");
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    let body: Value = elsewhere.json().await.expect("JSON");
    assert_eq!(body["code"], "NOT_ALLOWED_TARGET_ENVIRONMENT");
    let sandbox = sim
        .http
        .post(sim.url(TRANSFER))
        .bearer_auth(&token)
        .header("X-Reference-Id", Uuid::new_v4().to_string())
        .header("X-Target-Environment", "sandbox")
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .json(&euros)
        .send()
        .await
        .expect("answered");
    assert_eq!(
        sandbox.status(),
        StatusCode::ACCEPTED,
        "EUR is the sandbox's currency"
    );
}

#[tokio::test]
async fn amounts_may_be_numbers_but_never_fractions_of_a_franc_or_zero() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    for (amount, expected) in [
        (json!(250), StatusCode::ACCEPTED),
        (json!("250"), StatusCode::ACCEPTED),
        (json!("10.5"), StatusCode::BAD_REQUEST),
        (json!("0"), StatusCode::BAD_REQUEST),
        (json!("-5"), StatusCode::BAD_REQUEST),
    ] {
        let response = sim
            .mtn_post(
                TRANSFER,
                &token,
                Uuid::new_v4(),
                &transfer_body("250788123456", amount.clone()),
            )
            .await;
        assert_eq!(response.status(), expected, "amount {amount}");
    }
}

#[tokio::test]
async fn the_float_runs_out_with_not_enough_funds() {
    let sim = TestSim::start(SimServerProfile {
        float: BTreeMap::from([(Currency::Rwf, Amount::from_minor(1_000).expect("an amount"))]),
        ..SimServerProfile::default()
    })
    .await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    for reference in [first, second] {
        let response = sim
            .mtn_post(
                TRANSFER,
                &token,
                reference,
                &transfer_body("250788123456", json!("600")),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    assert_eq!(
        sim.mtn_status(TRANSFER, &token, first).await["status"],
        "SUCCESSFUL"
    );
    let refused = sim.mtn_status(TRANSFER, &token, second).await;
    assert_eq!(refused["status"], "FAILED");
    assert_eq!(refused["reason"]["code"], "NOT_ENOUGH_FUNDS");
    let balance: Value = sim
        .mtn_get("/disbursement/v1_0/account/balance", &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        balance,
        json!({"availableBalance": "400", "currency": "RWF"})
    );
}

#[tokio::test]
async fn account_holders_are_active_except_sandbox_457() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let holder = |number: &str, what: &str| {
        format!("/disbursement/v1_0/accountholder/msisdn/{number}/{what}")
    };
    let active: Value = sim
        .mtn_get(&holder("250788123456", "active"), &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(active, json!({"result": true}));
    let missing: Value = sim
        .mtn_get(&holder("46733123457", "active"), &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(missing, json!({"result": false}));
    let info: Value = sim
        .mtn_get(&holder("250788123456", "basicuserinfo"), &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(info["given_name"], "Test");
    assert_eq!(info["family_name"], "Payee 3456");
    assert_eq!(info["name"], "Test Payee 3456");
    let unknown = sim
        .mtn_get(&holder("46733123457", "basicuserinfo"), &token)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn status_queries_are_limited_per_credential() {
    let sim = TestSim::start(SimServerProfile {
        status_queries_per_second: 2,
        ..SimServerProfile::default()
    })
    .await;
    let busy = sim.mtn_token("disbursement", "busy").await;
    let calm = sim.mtn_token("disbursement", "calm").await;
    let path = format!("{TRANSFER}/{}", Uuid::new_v4());
    for _ in 0..2 {
        assert_eq!(
            sim.mtn_get(&path, &busy).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let limited = sim.mtn_get(&path, &busy).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("whole seconds");
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    let body: Value = limited.json().await.expect("JSON");
    assert_eq!(body["code"], "TOO_MANY_REQUESTS");
    assert_eq!(
        sim.mtn_get(&path, &calm).await.status(),
        StatusCode::NOT_FOUND,
        "another credential is unaffected"
    );
    assert_eq!(sim.handle.stats().status_rate_limited, 1);
}

/// A schema from MTN's Swagger file with every definition in reach.
fn swagger_schema(definition: &str) -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/specs/mtn-momo/disbursements.json"
    );
    let text = std::fs::read_to_string(path).expect("MTN's Swagger file");
    let document: Value = serde_json::from_str(&text).expect("JSON");
    let schema = json!({
        "$ref": format!("#/definitions/{definition}"),
        "definitions": document["definitions"],
    });
    jsonschema::draft4::new(&schema).expect("a valid schema")
}

#[tokio::test]
async fn replies_match_mtns_swagger_schemas() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let (ok, failed) = (Uuid::new_v4(), Uuid::new_v4());
    sim.mtn_post(
        TRANSFER,
        &token,
        ok,
        &transfer_body("250788123456", json!("5")),
    )
    .await;
    sim.mtn_post(
        TRANSFER,
        &token,
        failed,
        &transfer_body("46733123456", json!("5")),
    )
    .await;
    let transfer_result = swagger_schema("TransferResult");
    for reference in [ok, failed] {
        let body = sim.mtn_status(TRANSFER, &token, reference).await;
        let errors: Vec<String> = transfer_result
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{body}: {errors:?}");
    }
    let balance: Value = sim
        .mtn_get("/disbursement/v1_0/account/balance", &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert!(swagger_schema("Balance").is_valid(&balance), "{balance}");
    let not_found: Value = sim
        .mtn_get(&format!("{TRANSFER}/{}", Uuid::new_v4()), &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert!(
        swagger_schema("ErrorReason").is_valid(&not_found),
        "{not_found}"
    );
}
