//! `POST /standard/v2/disbursements/`: one test per row of `mapping::disbursement`, and
//! the exact request Airtel receives.

use payrail_engine::operator::{Operator, OperatorError, PayoutStatus};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use super::harness::{Airtel, PAYEE_LOCAL, PIN, decrypt_pin, ok, payout, reply};

const DISBURSEMENTS: &str = "/standard/v2/disbursements/";

async fn send(answer: ResponseTemplate) -> Result<PayoutStatus, OperatorError> {
    let airtel = Airtel::answering("POST", DISBURSEMENTS, answer).await;
    airtel.operator.send_payout(&payout()).await
}

fn assert_unknown(result: Result<PayoutStatus, OperatorError>) {
    assert!(
        matches!(result, Err(OperatorError::OutcomeUnknown { .. })),
        "{result:?}"
    );
}

fn assert_rejected(result: Result<PayoutStatus, OperatorError>, code: &str) {
    assert_eq!(result, Err(OperatorError::Rejected { code: code.into() }));
}

#[tokio::test]
async fn ts_with_the_success_code_is_succeeded_with_the_airtel_money_id() {
    let result = send(ok(reply("DP00900001001", "TS", true))).await;
    assert_eq!(
        result,
        Ok(PayoutStatus::Succeeded {
            operator_transaction_id: Some("MP210603.1234.L06941".into())
        })
    );
}

#[tokio::test]
async fn tip_with_the_in_progress_code_is_pending() {
    let result = send(ok(reply("DP00900001006", "TIP", true))).await;
    assert_eq!(result, Ok(PayoutStatus::Pending));
}

#[tokio::test]
async fn ta_with_the_ambiguous_code_is_unknown() {
    assert_unknown(send(ok(reply("DP00900001000", "TA", true))).await);
    assert_unknown(send(ok(reply("DP00900001000", "TIP", true))).await);
}

#[tokio::test]
async fn a_duplicate_transaction_id_is_unknown_so_the_engine_asks() {
    let duplicate = json!({"data": {"transaction": {"id": "x"}},
        "status": {"response_code": "DP00900001011", "success": false, "message": "Duplicate"}});
    assert_unknown(send(ok(duplicate)).await);
}

#[tokio::test]
async fn tf_with_a_failure_code_is_rejected_with_that_code() {
    let result = send(ok(reply("DP00900001007", "TF", false))).await;
    assert_rejected(result, "DP00900001007");
}

#[tokio::test]
async fn success_false_without_a_transaction_is_rejected_with_its_code() {
    let body = json!({"status": {"response_code": "DP00900001012", "success": false}});
    assert_rejected(send(ok(body)).await, "DP00900001012");
}

#[tokio::test]
async fn tf_without_a_code_is_rejected_with_the_transaction_message() {
    let body = json!({"data": {"transaction": {"status": "TF", "message": "Invalid payee"}}});
    assert_rejected(send(ok(body)).await, "Invalid payee");
}

#[tokio::test]
async fn a_code_and_status_that_disagree_are_unknown() {
    assert_unknown(send(ok(reply("DP00900001001", "TF", true))).await);
    assert_unknown(send(ok(reply("DP00900001006", "TS", true))).await);
    assert_unknown(send(ok(reply("DP00900001001", "TS", false))).await);
    assert_unknown(send(ok(reply("DP00900001007", "TS", true))).await);
}

#[tokio::test]
async fn te_an_unknown_status_or_no_status_is_unknown() {
    assert_unknown(send(ok(reply("DP00900001024", "TE", false))).await);
    assert_unknown(send(ok(reply("DP00900001001", "TX", true))).await);
    assert_unknown(send(ok(json!({"status": {"success": true}}))).await);
    assert_unknown(send(ok(json!({}))).await);
}

#[tokio::test]
async fn a_200_body_that_does_not_parse_is_unknown() {
    let html = ResponseTemplate::new(200).set_body_string("<html>gateway</html>");
    assert_unknown(send(html).await);
    assert_unknown(send(ResponseTemplate::new(200)).await);
    let bad_flag = json!({"status": {"response_code": "DP00900001007", "success": "perhaps"}});
    assert_unknown(send(ok(bad_flag)).await);
}

#[tokio::test]
async fn http_400_is_rejected_with_the_response_code_or_message() {
    let coded = json!({"status": {"response_code": "DP00900001004", "message": "Invalid amount"}});
    let result = send(ResponseTemplate::new(400).set_body_json(coded)).await;
    assert_rejected(result, "DP00900001004");
    let message_only = json!({"status": {"message": "Invalid amount"}});
    let result = send(ResponseTemplate::new(400).set_body_json(message_only)).await;
    assert_rejected(result, "Invalid amount");
    assert_rejected(send(ResponseTemplate::new(400)).await, "HTTP_400");
}

#[tokio::test]
async fn http_5xx_is_unknown() {
    for status in [500, 502, 503, 504] {
        assert_unknown(send(ResponseTemplate::new(status)).await);
    }
}

#[tokio::test]
async fn other_4xx_are_unknown() {
    for status in [404, 409, 422] {
        assert_unknown(send(ResponseTemplate::new(status)).await);
    }
}

#[tokio::test]
async fn http_403_and_429_are_not_sent_honouring_retry_after() {
    for status in [403, 429] {
        let refused = ResponseTemplate::new(status).insert_header("Retry-After", "7");
        match send(refused).await {
            Err(OperatorError::NotSent { retry_after_ms, .. }) => {
                assert_eq!(retry_after_ms, Some(7_000), "{status}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_request_is_airtels_exactly() {
    let airtel = Airtel::answering(
        "POST",
        DISBURSEMENTS,
        ok(reply("DP00900001001", "TS", true)),
    )
    .await;
    let request = payout();
    airtel.operator.send_payout(&request).await.expect("sent");

    let received = airtel.received(DISBURSEMENTS).await;
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    let header = |name: &str| sent.headers.get(name).and_then(|value| value.to_str().ok());
    assert_eq!(header("authorization"), Some("Bearer token-1"));
    assert_eq!(header("x-country"), Some("RW"));
    assert_eq!(header("x-currency"), Some("RWF"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("accept"), Some("*/*"));

    let mut body: Value = sent.body_json().expect("a JSON body");
    let pin = body["pin"].take();
    assert_eq!(decrypt_pin(pin.as_str().expect("a text PIN")), PIN);
    assert_ne!(pin, json!(PIN), "the PIN never travels in clear");
    assert_eq!(
        body,
        json!({
            "payee": {"msisdn": PAYEE_LOCAL, "wallet_type": "NORMAL"},
            "reference": request.payout.as_uuid().simple().to_string(),
            "pin": null,
            "transaction": {"amount": 1500, "id": request.reference.to_string(), "type": "B2C"},
        })
    );
}

#[tokio::test]
async fn the_token_request_carries_the_client_credentials() {
    let airtel = Airtel::answering(
        "POST",
        DISBURSEMENTS,
        ok(reply("DP00900001006", "TIP", true)),
    )
    .await;
    airtel.operator.send_payout(&payout()).await.expect("sent");
    let received = airtel.received("/auth/oauth2/token").await;
    assert_eq!(received.len(), 1);
    let body: Value = received[0].body_json().expect("a JSON body");
    assert_eq!(
        body,
        json!({"client_id": "client-7", "client_secret": "secret-7", "grant_type": "client_credentials"})
    );
}

#[tokio::test]
async fn a_number_of_another_country_is_rejected_before_anything_is_sent() {
    let airtel = Airtel::start().await;
    let mut request = payout();
    request.msisdn =
        payrail_engine::msisdn::Msisdn::from_e164("256701234567").expect("a Ugandan number");
    let result = airtel.operator.send_payout(&request).await;
    assert_rejected(result, "MSISDN_OUTSIDE_COUNTRY");
    let all = airtel
        .server
        .received_requests()
        .await
        .expect("recording is on");
    assert!(all.is_empty(), "{} requests were made", all.len());
}

#[tokio::test]
async fn another_currency_is_rejected_before_anything_is_sent() {
    let airtel = Airtel::start().await;
    let mut request = payout();
    request.currency = payrail_engine::money::Currency::Eur;
    let result = airtel.operator.send_payout(&request).await;
    assert_rejected(result, "CURRENCY_NOT_SUPPORTED");
    assert!(airtel.received(DISBURSEMENTS).await.is_empty());
}
