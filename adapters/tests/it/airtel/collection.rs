//! Collections: `POST /merchant/v1/payments/` and `GET /standard/v1/payments/{reference}`,
//! one test per row of `mapping::payment_request` and `mapping::payment_enquiry`.

use payrail_engine::ids::Reference;
use payrail_engine::operator::{Operator, OperatorError, PaymentStatus};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use super::harness::{Airtel, PAYEE_LOCAL, ok, payment, reply};

const PAYMENTS: &str = "/merchant/v1/payments/";

async fn request(answer: ResponseTemplate) -> Result<PaymentStatus, OperatorError> {
    let airtel = Airtel::answering("POST", PAYMENTS, answer).await;
    airtel.operator.request_payment(&payment()).await
}

async fn enquire(answer: ResponseTemplate) -> Result<Option<PaymentStatus>, OperatorError> {
    let reference = Reference::new();
    let at = format!("/standard/v1/payments/{reference}");
    let airtel = Airtel::answering("GET", &at, answer).await;
    airtel.operator.query_payment(reference).await
}

fn is_unknown<T>(result: &Result<T, OperatorError>) -> bool {
    matches!(result, Err(OperatorError::OutcomeUnknown { .. }))
}

#[tokio::test]
async fn a_request_in_progress_is_pending() {
    let result = request(ok(reply("DP00800001006", "TIP", true))).await;
    assert_eq!(result, Ok(PaymentStatus::Pending));
}

#[tokio::test]
async fn a_request_paid_at_once_is_paid() {
    let result = request(ok(reply("DP00800001001", "TS", true))).await;
    assert_eq!(
        result,
        Ok(PaymentStatus::Paid {
            operator_transaction_id: Some("MP210603.1234.L06941".into())
        })
    );
}

#[tokio::test]
async fn an_ambiguous_request_is_unknown() {
    assert!(is_unknown(
        &request(ok(reply("DP00800001000", "TA", true))).await
    ));
    assert!(is_unknown(
        &request(ok(reply("DP00800001006", "TA", true))).await
    ));
}

#[tokio::test]
async fn a_refused_request_is_rejected_with_its_code() {
    let result = request(ok(reply("DP00800001010", "TF", false))).await;
    assert_eq!(
        result,
        Err(OperatorError::Rejected {
            code: "DP00800001010".into()
        })
    );
}

#[tokio::test]
async fn a_request_with_disagreeing_signals_or_garbage_is_unknown() {
    assert!(is_unknown(
        &request(ok(reply("DP00800001001", "TIP", true))).await
    ));
    assert!(is_unknown(
        &request(ok(reply("DP00800001006", "TE", true))).await
    ));
    assert!(is_unknown(
        &request(ResponseTemplate::new(200).set_body_string("ok")).await
    ));
    assert!(is_unknown(&request(ResponseTemplate::new(502)).await));
}

#[tokio::test]
async fn a_request_answered_400_is_rejected() {
    let body = json!({"status": {"response_code": "DP00800001004", "success": false}});
    let result = request(ResponseTemplate::new(400).set_body_json(body)).await;
    assert_eq!(
        result,
        Err(OperatorError::Rejected {
            code: "DP00800001004".into()
        })
    );
}

#[tokio::test]
async fn a_throttled_request_is_not_sent() {
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "1");
    let result = request(throttled).await;
    assert!(
        matches!(
            result,
            Err(OperatorError::NotSent {
                retry_after_ms: Some(1_000),
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_payment_request_is_airtels_exactly() {
    let airtel = Airtel::answering("POST", PAYMENTS, ok(reply("DP00800001006", "TIP", true))).await;
    let sent = payment();
    airtel
        .operator
        .request_payment(&sent)
        .await
        .expect("requested");
    let received = airtel.received(PAYMENTS).await;
    assert_eq!(received.len(), 1);
    let body: Value = received[0].body_json().expect("a JSON body");
    assert_eq!(
        body,
        json!({
            "reference": sent.reference.as_uuid().simple().to_string(),
            "subscriber": {"country": "RW", "currency": "RWF", "msisdn": PAYEE_LOCAL},
            "transaction": {"amount": 2500, "country": "RW", "currency": "RWF",
                "id": sent.reference.to_string()},
        })
    );
    let country = received[0]
        .headers
        .get("x-country")
        .map(|value| value.as_bytes());
    assert_eq!(country, Some(&b"RW"[..]));
}

#[tokio::test]
async fn an_enquiry_ts_is_paid() {
    let result = enquire(ok(reply("DP00800001001", "TS", true))).await;
    assert_eq!(
        result,
        Ok(Some(PaymentStatus::Paid {
            operator_transaction_id: Some("MP210603.1234.L06941".into())
        }))
    );
}

#[tokio::test]
async fn an_enquiry_tf_is_failed_with_its_code() {
    let result = enquire(ok(reply("DP00800001007", "TF", true))).await;
    assert_eq!(
        result,
        Ok(Some(PaymentStatus::Failed {
            code: "DP00800001007".into()
        }))
    );
}

#[tokio::test]
async fn an_enquiry_te_is_expired() {
    let result = enquire(ok(reply("DP00800001024", "TE", true))).await;
    assert_eq!(result, Ok(Some(PaymentStatus::Expired)));
}

#[tokio::test]
async fn an_enquiry_tip_is_pending() {
    let result = enquire(ok(reply("DP00800001006", "TIP", true))).await;
    assert_eq!(result, Ok(Some(PaymentStatus::Pending)));
}

#[tokio::test]
async fn an_enquiry_ta_or_unknown_status_is_unknown() {
    assert!(is_unknown(
        &enquire(ok(reply("DP00800001000", "TA", true))).await
    ));
    assert!(is_unknown(
        &enquire(ok(reply("DP00800001001", "DONE", true))).await
    ));
    assert!(is_unknown(&enquire(ResponseTemplate::new(500)).await));
}

#[tokio::test]
async fn an_enquiry_404_means_never_created() {
    let not_found = json!({"status": {"response_code": "DP00800001013", "success": false}});
    let result = enquire(ResponseTemplate::new(404).set_body_json(not_found)).await;
    assert_eq!(result, Ok(None));
}

#[tokio::test]
async fn an_enquiry_throttled_is_not_sent() {
    let result = enquire(ResponseTemplate::new(429).insert_header("Retry-After", "3")).await;
    assert!(
        matches!(
            result,
            Err(OperatorError::NotSent {
                retry_after_ms: Some(3_000),
                ..
            })
        ),
        "{result:?}"
    );
}
