//! `GET /standard/v2/disbursements/{reference}?transactionType=B2C`: one test per row of
//! `mapping::disbursement_enquiry`.

use payrail_engine::ids::Reference;
use payrail_engine::operator::{Operator, OperatorError, PayoutStatus};
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

use super::harness::{Airtel, ok, reply};

type Enquired = Result<Option<PayoutStatus>, OperatorError>;

async fn enquire(answer: ResponseTemplate) -> Enquired {
    let airtel = Airtel::start().await;
    let reference = Reference::new();
    mount(&airtel.server, reference, answer).await;
    airtel.operator.query_payout(reference).await
}

async fn mount(server: &MockServer, reference: Reference, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("/standard/v2/disbursements/{reference}")))
        .and(query_param("transactionType", "B2C"))
        .respond_with(answer)
        .mount(server)
        .await;
}

fn assert_unknown(result: Enquired) {
    assert!(
        matches!(result, Err(OperatorError::OutcomeUnknown { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn ts_is_succeeded_with_the_airtel_money_id() {
    let result = enquire(ok(reply("DP00900001001", "TS", true))).await;
    assert_eq!(
        result,
        Ok(Some(PayoutStatus::Succeeded {
            operator_transaction_id: Some("MP210603.1234.L06941".into())
        }))
    );
}

#[tokio::test]
async fn tf_is_failed_with_the_failure_code() {
    let result = enquire(ok(reply("DP00900001007", "TF", true))).await;
    assert_eq!(
        result,
        Ok(Some(PayoutStatus::Failed {
            code: "DP00900001007".into()
        }))
    );
}

#[tokio::test]
async fn tf_under_the_success_code_is_failed_with_the_transaction_message() {
    let result = enquire(ok(reply("DP00900001001", "TF", true))).await;
    assert_eq!(
        result,
        Ok(Some(PayoutStatus::Failed {
            code: "Transaction message".into()
        }))
    );
}

#[tokio::test]
async fn te_is_failed_as_expired() {
    let result = enquire(ok(reply("DP00900001024", "TE", true))).await;
    assert_eq!(
        result,
        Ok(Some(PayoutStatus::Failed {
            code: "EXPIRED".into()
        }))
    );
}

#[tokio::test]
async fn tip_is_pending() {
    let result = enquire(ok(reply("DP00900001006", "TIP", true))).await;
    assert_eq!(result, Ok(Some(PayoutStatus::Pending)));
}

#[tokio::test]
async fn ta_is_unknown() {
    assert_unknown(enquire(ok(reply("DP00900001000", "TA", true))).await);
}

#[tokio::test]
async fn an_unknown_or_missing_status_is_unknown() {
    assert_unknown(enquire(ok(reply("DP00900001001", "PENDING", true))).await);
    assert_unknown(enquire(ok(reply("DP00900001001", "ts", true))).await);
    assert_unknown(enquire(ok(json!({"status": {"response_code": "DP00900001001"}}))).await);
}

#[tokio::test]
async fn ts_with_success_false_is_unknown() {
    assert_unknown(enquire(ok(reply("DP00900001001", "TS", false))).await);
}

#[tokio::test]
async fn http_404_means_never_created() {
    let not_found = json!({"data": {}, "status": {"response_code": "DP00900001013",
        "code": "404", "success": false, "message": "Transaction not found"}});
    let result = enquire(ResponseTemplate::new(404).set_body_json(not_found)).await;
    assert_eq!(result, Ok(None));
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_asks_once_more() {
    let airtel = Airtel::start().await;
    let reference = Reference::new();
    Mock::given(method("GET"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer token-1",
        ))
        .respond_with(ResponseTemplate::new(401))
        .mount(&airtel.server)
        .await;
    mount(
        &airtel.server,
        reference,
        ok(reply("DP00900001006", "TIP", true)),
    )
    .await;
    let result = airtel.operator.query_payout(reference).await;
    assert_eq!(result, Ok(Some(PayoutStatus::Pending)));
    assert_eq!(airtel.received("/auth/oauth2/token").await.len(), 2);
}

#[tokio::test]
async fn a_second_401_is_not_sent() {
    let result = enquire(ResponseTemplate::new(401)).await;
    assert!(
        matches!(result, Err(OperatorError::NotSent { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn http_403_and_429_are_not_sent_honouring_retry_after() {
    for status in [403, 429] {
        let refused = ResponseTemplate::new(status).insert_header("Retry-After", "5");
        match enquire(refused).await {
            Err(OperatorError::NotSent { retry_after_ms, .. }) => {
                assert_eq!(retry_after_ms, Some(5_000), "{status}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn http_5xx_400_and_garbage_are_unknown() {
    assert_unknown(enquire(ResponseTemplate::new(500)).await);
    assert_unknown(enquire(ResponseTemplate::new(503)).await);
    assert_unknown(enquire(ResponseTemplate::new(400)).await);
    assert_unknown(enquire(ResponseTemplate::new(200).set_body_string("{\"data\":")).await);
}

#[tokio::test]
async fn the_enquiry_carries_airtels_headers() {
    let airtel = Airtel::start().await;
    let reference = Reference::new();
    mount(
        &airtel.server,
        reference,
        ok(reply("DP00900001006", "TIP", true)),
    )
    .await;
    airtel
        .operator
        .query_payout(reference)
        .await
        .expect("asked");
    let received = airtel
        .received(&format!("/standard/v2/disbursements/{reference}"))
        .await;
    assert_eq!(received.len(), 1);
    let header = |name: &str| {
        received[0]
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("authorization").as_deref(), Some("Bearer token-1"));
    assert_eq!(header("x-country").as_deref(), Some("RW"));
    assert_eq!(header("x-currency").as_deref(), Some("RWF"));
    assert_eq!(header("accept").as_deref(), Some("*/*"));
    assert_eq!(received[0].url.query(), Some("transactionType=B2C"));
}
