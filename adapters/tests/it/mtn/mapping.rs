//! One test per row of the MTN answer mapping (docs/operators.md).

use payrail_adapters::mtn::MtnMomo;
use payrail_engine::operator::{Operator, OperatorError, PaymentStatus, PayoutStatus};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{REQUEST_MS, config, mock_mtn, payment, payout, status_body};

const TRANSFER: &str = "/disbursement/v1_0/transfer";

async fn transfer_answers(template: ResponseTemplate) -> Result<PayoutStatus, OperatorError> {
    let (server, adapter) = mock_mtn().await;
    Mock::given(method("POST"))
        .and(path(TRANSFER))
        .respond_with(template)
        .mount(&server)
        .await;
    adapter.send_payout(&payout()).await
}

async fn status_answers(template: ResponseTemplate) -> Result<Option<PayoutStatus>, OperatorError> {
    let (server, adapter) = mock_mtn().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/disbursement/v1_0/transfer/[0-9a-f-]{36}$"))
        .respond_with(template)
        .mount(&server)
        .await;
    adapter.query_payout(payout().reference).await
}

fn is_unknown<T: std::fmt::Debug>(result: &Result<T, OperatorError>) -> bool {
    matches!(result, Err(OperatorError::OutcomeUnknown { .. }))
}

#[tokio::test]
async fn accepted_202_is_submitted_not_success() {
    assert_eq!(
        transfer_answers(ResponseTemplate::new(202)).await,
        Ok(PayoutStatus::Pending)
    );
}

#[tokio::test]
async fn conflict_409_already_exists_is_unknown_so_it_is_queried() {
    let reply = ResponseTemplate::new(409).set_body_json(serde_json::json!({
        "code": "RESOURCE_ALREADY_EXIST",
        "message": "Duplicated reference id. Creation of resource failed."
    }));
    assert!(is_unknown(&transfer_answers(reply).await));
}

#[tokio::test]
async fn bad_request_400_is_rejected_with_the_reason() {
    let reply = ResponseTemplate::new(400)
        .set_body_json(serde_json::json!({"code": "PAYEE_NOT_FOUND", "message": "no payee"}));
    assert_eq!(
        transfer_answers(reply).await,
        Err(OperatorError::Rejected {
            code: "PAYEE_NOT_FOUND".into()
        })
    );
}

#[tokio::test]
async fn unauthorized_401_refreshes_the_token_and_resends_with_the_same_reference() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/disbursement/token/"))
        .respond_with(super::support::token_reply("disbursement", 3_600))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TRANSFER))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TRANSFER))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = MtnMomo::new(config(&server.uri())).expect("an adapter");
    let request = payout();
    assert_eq!(
        adapter.send_payout(&request).await,
        Ok(PayoutStatus::Pending)
    );
    let references: Vec<String> = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|received| received.url.path() == TRANSFER)
        .map(|received| {
            received.headers["X-Reference-Id"]
                .to_str()
                .expect("text")
                .to_owned()
        })
        .collect();
    assert_eq!(references, vec![request.reference.to_string(); 2]);
}

#[tokio::test]
async fn forbidden_403_is_not_sent() {
    assert!(matches!(
        transfer_answers(ResponseTemplate::new(403)).await,
        Err(OperatorError::NotSent { .. })
    ));
}

#[tokio::test]
async fn too_many_requests_429_is_not_sent_after_retry_after() {
    let reply = ResponseTemplate::new(429).insert_header("Retry-After", "7");
    assert!(matches!(
        transfer_answers(reply).await,
        Err(OperatorError::NotSent {
            retry_after_ms: Some(7_000),
            ..
        })
    ));
}

#[tokio::test]
async fn connection_refused_is_not_sent() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let base = format!("http://{}", closed.local_addr().expect("an address"));
    drop(closed);
    let adapter = MtnMomo::new(config(&base)).expect("an adapter");
    // The token request is refused first: nothing could have been sent.
    assert!(matches!(
        adapter.send_payout(&payout()).await,
        Err(OperatorError::NotSent { .. })
    ));
}

#[tokio::test]
async fn connection_refused_after_the_token_is_not_sent() {
    // A server that issues one token and then stops listening.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    let token_served = tokio::spawn(async move {
        if let Ok((mut socket, _)) = listener.accept().await {
            answer_token_request(&mut socket).await;
        }
    });
    let adapter = MtnMomo::new(config(&format!("http://{address}"))).expect("an adapter");
    let request = payout();
    let (sent, _) = tokio::join!(adapter.send_payout(&request), token_served);
    assert!(
        matches!(sent, Err(OperatorError::NotSent { .. })),
        "{sent:?}"
    );
}

#[tokio::test]
async fn timeout_is_unknown() {
    let slow =
        ResponseTemplate::new(202).set_delay(std::time::Duration::from_millis(REQUEST_MS * 3));
    assert!(is_unknown(&transfer_answers(slow).await));
}

#[tokio::test]
async fn connection_reset_is_unknown() {
    // A server that issues tokens, but reads a transfer and hangs up without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            answer_token_request(&mut socket).await;
        }
    });
    let adapter = MtnMomo::new(config(&format!("http://{address}"))).expect("an adapter");
    assert!(is_unknown(&adapter.send_payout(&payout()).await));
}

#[tokio::test]
async fn server_error_500_is_unknown() {
    assert!(is_unknown(
        &transfer_answers(ResponseTemplate::new(500)).await
    ));
    assert!(is_unknown(
        &transfer_answers(ResponseTemplate::new(503)).await
    ));
}

#[tokio::test]
async fn a_status_reply_past_the_size_cap_is_cut_and_read_as_unknown() {
    // A SUCCESSFUL answer that would parse whole, padded past the 64 KiB the adapter reads.
    let mut body = serde_json::to_string(&status_body("SUCCESSFUL")).expect("JSON");
    body.insert_str(1, &" ".repeat(payrail_adapters::http::REPLY_BYTES_MAX));
    let reply = ResponseTemplate::new(200).set_body_raw(body, "application/json");
    assert!(is_unknown(&status_answers(reply).await));
}

#[tokio::test]
async fn status_successful_is_final_with_the_transaction_id() {
    let mut body = status_body("SUCCESSFUL");
    body["financialTransactionId"] = serde_json::json!(23_503_452);
    assert_eq!(
        status_answers(ResponseTemplate::new(200).set_body_json(body)).await,
        Ok(Some(PayoutStatus::Succeeded {
            operator_transaction_id: Some("23503452".into())
        }))
    );
}

#[tokio::test]
async fn status_failed_is_final_with_the_reason() {
    let mut body = status_body("FAILED");
    body["reason"] = serde_json::json!({"code": "NOT_ENOUGH_FUNDS", "message": "low"});
    assert_eq!(
        status_answers(ResponseTemplate::new(200).set_body_json(body)).await,
        Ok(Some(PayoutStatus::Failed {
            code: "NOT_ENOUGH_FUNDS".into()
        }))
    );
}

#[tokio::test]
async fn status_pending_is_polled_again() {
    assert_eq!(
        status_answers(ResponseTemplate::new(200).set_body_json(status_body("PENDING"))).await,
        Ok(Some(PayoutStatus::Pending))
    );
}

#[tokio::test]
async fn status_not_found_404_means_never_created() {
    let reply = ResponseTemplate::new(404).set_body_json(serde_json::json!({
        "code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."
    }));
    assert_eq!(status_answers(reply).await, Ok(None));
}

#[tokio::test]
async fn status_that_mtn_never_documented_is_unknown() {
    let reply = ResponseTemplate::new(200).set_body_json(status_body("ONGOING"));
    assert!(is_unknown(&status_answers(reply).await));
}

#[tokio::test]
async fn status_body_that_does_not_parse_is_unknown() {
    let reply = ResponseTemplate::new(200).set_body_string("<html>gateway</html>");
    assert!(is_unknown(&status_answers(reply).await));
}

#[tokio::test]
async fn status_over_the_query_quota_429_is_asked_again_after_retry_after() {
    let reply = ResponseTemplate::new(429).insert_header("Retry-After", "1");
    assert!(matches!(
        status_answers(reply).await,
        Err(OperatorError::NotSent {
            retry_after_ms: Some(1_000),
            ..
        })
    ));
}

#[tokio::test]
async fn status_server_error_is_unknown() {
    assert!(is_unknown(
        &status_answers(ResponseTemplate::new(500)).await
    ));
}

#[tokio::test]
async fn request_to_pay_expired_is_its_own_end() {
    let (server, adapter) = mock_mtn().await;
    let mut body = status_body("FAILED");
    body["reason"] = serde_json::json!("EXPIRED");
    Mock::given(method("POST"))
        .and(path("/collection/v1_0/requesttopay"))
        .and(header("Authorization", "Bearer token-collection"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/collection/v1_0/requesttopay/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let request = payment();
    assert_eq!(
        adapter.request_payment(&request).await,
        Ok(PaymentStatus::Pending)
    );
    assert_eq!(
        adapter.query_payment(request.reference).await,
        Ok(Some(PaymentStatus::Expired))
    );
}

#[tokio::test]
async fn account_holder_is_active_with_a_name_and_balance_is_read() {
    let (server, adapter) = mock_mtn().await;
    Mock::given(method("GET"))
        .and(path(
            "/disbursement/v1_0/accountholder/msisdn/250788123456/active",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"result": true})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/disbursement/v1_0/accountholder/msisdn/250788123456/basicuserinfo",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"given_name": "Aline", "family_name": "Uwase"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/disbursement/v1_0/account/balance"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"availableBalance": 125000, "currency": "RWF"})),
        )
        .mount(&server)
        .await;
    let holder = adapter
        .account_holder(&payout().msisdn)
        .await
        .expect("an answer");
    assert!(holder.active);
    assert_eq!(holder.name.as_deref(), Some("Aline Uwase"));
    let (amount, currency) = adapter.balance().await.expect("a balance");
    assert_eq!((i64::from(amount), currency.code()), (125_000, "RWF"));
}

/// Reads one request; answers it with a token if it asks for one, else hangs up.
async fn answer_token_request(socket: &mut tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = [0u8; 4096];
    let read = socket.read(&mut buffer).await.unwrap_or(0);
    if buffer[..read].starts_with(b"POST /disbursement/token/") {
        let body = r#"{"access_token":"t","token_type":"access_token","expires_in":3600}"#;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(reply.as_bytes()).await;
    }
}
