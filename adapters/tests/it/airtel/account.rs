//! `GET /standard/v1/users/{msisdn}` and `GET /standard/v1/users/balance`: the rows of
//! `mapping::account_holder` and `mapping::balance`.

use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{AccountHolder, Operator, OperatorError};
use serde_json::json;
use wiremock::ResponseTemplate;

use super::harness::{Airtel, PAYEE, PAYEE_LOCAL, ok};

const BALANCE: &str = "/standard/v1/users/balance";

async fn holder(answer: ResponseTemplate) -> Result<AccountHolder, OperatorError> {
    let at = format!("/standard/v1/users/{PAYEE_LOCAL}");
    let airtel = Airtel::answering("GET", &at, answer).await;
    let msisdn = Msisdn::from_e164(PAYEE).expect("a Rwandan number");
    airtel.operator.account_holder(&msisdn).await
}

async fn balance(answer: ResponseTemplate) -> Result<(Amount, Currency), OperatorError> {
    let airtel = Airtel::answering("GET", BALANCE, answer).await;
    airtel.operator.balance().await
}

fn user(is_barred: serde_json::Value) -> serde_json::Value {
    json!({
        "data": {"first_name": "Aline", "last_name": "Uwase", "msisdn": PAYEE_LOCAL,
            "grade": "SUBS", "is_barred": is_barred, "is_pin_set": true},
        "status": {"response_code": "DP02200000001", "code": "200", "success": true},
    })
}

#[tokio::test]
async fn a_holder_found_and_not_barred_is_active_with_a_name() {
    let result = holder(ok(user(json!(false)))).await;
    assert_eq!(
        result,
        Ok(AccountHolder {
            active: true,
            name: Some("Aline Uwase".into())
        })
    );
}

#[tokio::test]
async fn a_barred_holder_is_inactive() {
    for barred in [json!(true), json!("true")] {
        let result = holder(ok(user(barred))).await.expect("an answer");
        assert!(!result.active);
    }
}

#[tokio::test]
async fn a_404_is_an_inactive_number() {
    let result = holder(ResponseTemplate::new(404)).await;
    assert_eq!(
        result,
        Ok(AccountHolder {
            active: false,
            name: None
        })
    );
}

#[tokio::test]
async fn success_false_is_an_inactive_number() {
    let body = json!({"status": {"response_code": "DP02200000000", "success": false}});
    let result = holder(ok(body)).await.expect("an answer");
    assert!(!result.active);
}

#[tokio::test]
async fn a_holder_lookup_that_fails_is_an_error() {
    let result = holder(ResponseTemplate::new(500)).await;
    assert!(
        matches!(result, Err(OperatorError::OutcomeUnknown { .. })),
        "{result:?}"
    );
    let result = holder(ok(json!({"status": {"success": true}}))).await;
    assert!(
        matches!(result, Err(OperatorError::OutcomeUnknown { .. })),
        "{result:?}"
    );
    let result = holder(ResponseTemplate::new(429)).await;
    assert!(
        matches!(result, Err(OperatorError::NotSent { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_foreign_number_is_rejected_without_asking() {
    let airtel = Airtel::start().await;
    let msisdn = Msisdn::from_e164("256701234567").expect("a Ugandan number");
    let result = airtel.operator.account_holder(&msisdn).await;
    assert_eq!(
        result,
        Err(OperatorError::Rejected {
            code: "MSISDN_OUTSIDE_COUNTRY".into()
        })
    );
}

#[tokio::test]
async fn the_balance_is_read_as_a_string_or_a_number() {
    for value in [json!("1250000"), json!(1_250_000), json!("1250000.00")] {
        let body = json!({"data": {"balance": value, "currency": "RWF", "account_status": "Active"},
            "status": {"success": true}});
        let result = balance(ok(body)).await;
        let expected = Amount::from_minor(1_250_000).expect("an amount");
        assert_eq!(result, Ok((expected, Currency::Rwf)), "{value}");
    }
}

#[tokio::test]
async fn an_unreadable_balance_is_unknown() {
    for value in [json!("-5"), json!("12.5"), json!(null), json!("lots")] {
        let body = json!({"data": {"balance": value, "currency": "RWF"}});
        let result = balance(ok(body)).await;
        assert!(
            matches!(result, Err(OperatorError::OutcomeUnknown { .. })),
            "{value}: {result:?}"
        );
    }
    let body = json!({"data": {"balance": "100", "currency": "XAF"}});
    assert!(matches!(
        balance(ok(body)).await,
        Err(OperatorError::OutcomeUnknown { .. })
    ));
}

#[tokio::test]
async fn a_throttled_balance_is_not_sent() {
    let result = balance(ResponseTemplate::new(429).insert_header("Retry-After", "4")).await;
    assert!(
        matches!(
            result,
            Err(OperatorError::NotSent {
                retry_after_ms: Some(4_000),
                ..
            })
        ),
        "{result:?}"
    );
}
