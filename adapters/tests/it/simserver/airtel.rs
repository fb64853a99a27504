//! Airtel Money: token, disbursement and enquiry, duplicate and unknown ids, headers and
//! numbers, the float, collections, ambiguous answers and the per-client status limit.

use std::collections::BTreeMap;
use std::time::Duration;

use payrail_adapters::simserver::{AirtelCredential, SimFaults, SimServerProfile};
use payrail_adapters::simulator::PPM;
use payrail_engine::money::{Amount, Currency};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{TestSim, disbursement_body, eventually};

const DISBURSE: &str = "/standard/v2/disbursements/";

async fn enquire(sim: &TestSim, token: &str, id: &str) -> (StatusCode, Value) {
    let response = sim
        .airtel_get(
            &format!("/standard/v2/disbursements/{id}?transactionType=B2C"),
            token,
        )
        .await;
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_token_is_issued_for_client_credentials_only() {
    let sim = TestSim::start(SimServerProfile {
        airtel_credentials: vec![AirtelCredential {
            client_id: "client-1".into(),
            client_secret: "secret".into(),
        }],
        token_ttl_secs: 180,
        ..SimServerProfile::default()
    })
    .await;
    let token = |id: &str, grant: &str| {
        sim.http
            .post(sim.url("/auth/oauth2/token"))
            .json(&json!({"client_id": id, "client_secret": "secret", "grant_type": grant}))
            .send()
    };
    let issued = token("client-1", "client_credentials")
        .await
        .expect("answered");
    assert_eq!(issued.status(), StatusCode::OK);
    let body: Value = issued.json().await.expect("JSON");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], "180");
    let stranger = token("client-2", "client_credentials")
        .await
        .expect("answered");
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let password = token("client-1", "password").await.expect("answered");
    assert_eq!(password.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sim.handle.stats().token_requests.airtel, 3);
}

#[tokio::test]
async fn a_disbursement_succeeds_and_its_enquiry_says_ts() {
    let sim = TestSim::with_defaults().await;
    let token = sim.airtel_token("client-1").await;
    let response = sim
        .airtel_post(
            DISBURSE,
            &token,
            &disbursement_body("tx-1", "781234567", json!("2500")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["status"]["response_code"], "DP00900001001");
    assert_eq!(body["status"]["success"], true);
    assert_eq!(body["status"]["result_code"], "ESB000010");
    assert_eq!(body["data"]["transaction"]["id"], "tx-1");
    assert_eq!(body["data"]["transaction"]["status"], "TS");
    let money_id = body["data"]["transaction"]["airtel_money_id"].clone();
    assert!(money_id.is_string());
    let (status, enquiry) = enquire(&sim, &token, "tx-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(enquiry["data"]["transaction"]["status"], "TS");
    assert_eq!(enquiry["data"]["transaction"]["airtel_money_id"], money_id);
    assert_eq!(enquiry["status"]["response_code"], "DP00900001001");
    let transfers = sim.handle.transfers();
    assert_eq!(
        transfers[0].amount,
        Amount::from_minor(2_500).expect("an amount")
    );
    assert_eq!(transfers[0].msisdn, "781234567");
    assert_eq!(transfers[0].external_id, "payout-1");
}

#[tokio::test]
async fn a_reused_transaction_id_is_a_duplicate_and_executes_nothing_again() {
    let sim = TestSim::with_defaults().await;
    let token = sim.airtel_token("client-1").await;
    let body = disbursement_body("tx-dup", "781234567", json!(100));
    sim.airtel_post(DISBURSE, &token, &body).await;
    let again = sim.airtel_post(DISBURSE, &token, &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    let answer: Value = again.json().await.expect("JSON");
    assert_eq!(answer["status"]["response_code"], "DP00900001011");
    assert_eq!(answer["status"]["success"], false);
    assert!(
        answer["data"]["transaction"].get("status").is_none(),
        "a duplicate says nothing of the outcome"
    );
    let transfers = sim.handle.transfers();
    assert_eq!(
        (
            transfers.len(),
            transfers[0].executions,
            transfers[0].attempts
        ),
        (1, 1, 2)
    );
}

#[tokio::test]
async fn an_unknown_id_is_404_with_dp00900001013() {
    let sim = TestSim::with_defaults().await;
    let token = sim.airtel_token("client-1").await;
    let (status, body) = enquire(&sim, &token, "never-sent").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"]["response_code"], "DP00900001013");
    assert_eq!(body["status"]["success"], false);
}

#[tokio::test]
async fn headers_tokens_and_numbers_are_checked() {
    let sim = TestSim::with_defaults().await;
    let token = sim.airtel_token("client-1").await;
    let no_country = sim
        .http
        .post(sim.url(DISBURSE))
        .bearer_auth(&token)
        .header("X-Currency", "RWF")
        .json(&disbursement_body("tx-h", "781234567", json!(100)))
        .send()
        .await
        .expect("answered");
    assert_eq!(no_country.status(), StatusCode::BAD_REQUEST);
    let bad_token = sim
        .airtel_post(
            DISBURSE,
            "made-up",
            &disbursement_body("tx-h", "781234567", json!(100)),
        )
        .await;
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);
    let mut no_pin = disbursement_body("tx-p", "781234567", json!(100));
    no_pin["pin"] = json!("");
    assert_eq!(
        sim.airtel_post(DISBURSE, &token, &no_pin).await.status(),
        StatusCode::BAD_REQUEST
    );
    let with_country_code = sim
        .airtel_post(
            DISBURSE,
            &token,
            &disbursement_body("tx-cc", "250781234567", json!(100)),
        )
        .await;
    assert_eq!(with_country_code.status(), StatusCode::OK);
    let body: Value = with_country_code.json().await.expect("JSON");
    assert_eq!(body["data"]["transaction"]["status"], "TF");
    assert_eq!(body["status"]["response_code"], "DP00900001012");
    assert_eq!(sim.handle.transfers()[0].executions, 0);
}

#[tokio::test]
async fn a_disbursement_beyond_the_float_fails_with_not_enough_balance() {
    let sim = TestSim::start(SimServerProfile {
        float: BTreeMap::from([(Currency::Rwf, Amount::from_minor(50).expect("an amount"))]),
        ..SimServerProfile::default()
    })
    .await;
    let token = sim.airtel_token("client-1").await;
    let response = sim
        .airtel_post(
            DISBURSE,
            &token,
            &disbursement_body("tx-big", "781234567", json!(100)),
        )
        .await;
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["data"]["transaction"]["status"], "TF");
    assert_eq!(body["status"]["response_code"], "DP00900001007");
}

#[tokio::test]
async fn a_collection_is_in_progress_then_successful() {
    let sim = TestSim::start(SimServerProfile {
        pending_ms: 200,
        ..SimServerProfile::default()
    })
    .await;
    let token = sim.airtel_token("client-1").await;
    let body = json!({
        "reference": "order-7",
        "subscriber": {"country": "RW", "currency": "RWF", "msisdn": 781234567},
        "transaction": {"amount": 300, "country": "RW", "currency": "RWF", "id": "col-1"},
    });
    let response = sim
        .airtel_post("/merchant/v1/payments/", &token, &body)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["status"]["response_code"], "DP00800001006");
    assert_eq!(answer["data"]["transaction"]["status"], "TIP");
    let status = |sim: &TestSim| {
        let token = token.clone();
        let sim_url = sim.url("/standard/v1/payments/col-1");
        let http = sim.http.clone();
        async move {
            let response = http
                .get(sim_url)
                .bearer_auth(token)
                .header("X-Country", "RW")
                .header("X-Currency", "RWF")
                .send()
                .await
                .expect("answered");
            let body: Value = response.json().await.expect("JSON");
            body["data"]["transaction"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    assert_eq!(status(&sim).await, "TIP");
    assert!(
        eventually(Duration::from_secs(2), || async {
            status(&sim).await == "TS"
        })
        .await
    );
    let unknown = sim
        .airtel_get("/standard/v1/payments/col-404", &token)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_ambiguous_answer_is_ta_until_it_settles() {
    let sim = TestSim::start(SimServerProfile {
        faults: SimFaults {
            ambiguous: PPM,
            pending_ms: 300,
            ..SimFaults::default()
        },
        ..SimServerProfile::default()
    })
    .await;
    let token = sim.airtel_token("client-1").await;
    let response = sim
        .airtel_post(
            DISBURSE,
            &token,
            &disbursement_body("tx-ta", "781234567", json!(100)),
        )
        .await;
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["status"]["response_code"], "DP00900001000");
    assert_eq!(body["data"]["transaction"]["status"], "TA");
    assert_eq!(
        enquire(&sim, &token, "tx-ta").await.1["data"]["transaction"]["status"],
        "TA"
    );
    let settled = eventually(Duration::from_secs(2), || async {
        enquire(&sim, &token, "tx-ta").await.1["data"]["transaction"]["status"] == "TS"
    })
    .await;
    assert!(settled);
    assert_eq!(sim.handle.transfers()[0].executions, 1);
}

#[tokio::test]
async fn enquiries_are_limited_per_client() {
    let sim = TestSim::start(SimServerProfile {
        status_queries_per_second: 1,
        ..SimServerProfile::default()
    })
    .await;
    let busy = sim.airtel_token("busy").await;
    let calm = sim.airtel_token("calm").await;
    assert_eq!(enquire(&sim, &busy, "x").await.0, StatusCode::NOT_FOUND);
    let limited = sim.airtel_get("/standard/v2/disbursements/x", &busy).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(enquire(&sim, &calm, "x").await.0, StatusCode::NOT_FOUND);
}
