//! A collection requested in the LTGS shape ends with its callback delivered, in the LTGS
//! shape, to the `Callback_URL` it named: through the outbox and the webhook deliverer,
//! to a listener on loopback (allow-listed for the test).

use std::time::Duration;

use payrail_api::webhooks::Deliverer;
use payrail_engine::api_key::Role;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::harness::{Node, NodeOptions};
use super::webhooks::{allow_loopback, loopback_allowed, settings_allowing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ltgs_collection_ends_with_its_ltgs_callback_delivered() {
    let node = Node::with(NodeOptions {
        state: allow_loopback,
        ..NodeOptions::default()
    })
    .await;
    let listener = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ltgs/payment-status"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&listener)
        .await;
    let app = node
        .app
        .with_settings(settings_allowing(&loopback_allowed()));
    let deliverer = Deliverer::start(app, &[0, 0, 0]).expect("started");
    let merchant = node.merchant("0").await;
    let callback_url = format!("{}/ltgs/payment-status", listener.uri());
    let request = json!({
        "Sale_Reference_ID": "INV-2026-0042",
        "Customer_KYC_ID": "1199880012345678",
        "Phone_Number": "0788123457",
        "Email_Address": "payer@example.rw",
        "Services_Name": "Water bill November",
        "Total_Amount_to_Pay": 12500,
        "Callback_URL": callback_url,
    });
    let answer = node
        .post_json("/v1/collections", merchant.key(Role::Maker), &request)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let received = loop {
        let requests = listener.received_requests().await.unwrap_or_default();
        if let Some(first) = requests.first() {
            break first.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no callback arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let body: Value = serde_json::from_slice(&received.body).expect("a JSON callback");
    assert_eq!(body["Sale_Reference_ID"], "INV-2026-0042");
    assert_eq!(body["Payment_Status"], "PAID");
    assert_eq!(body["Payment_Channel"], "MTN MoMo");
    assert_eq!(body["Total_Amount_Paid"], "12500");
    assert!(
        body["Payment_Ref_ID"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{body}"
    );
    assert!(
        body["Paid_On"]
            .as_str()
            .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
        "{body}"
    );
    let collection = node
        .get(
            &format!(
                "/v1/collections/{}",
                answer.body["id"].as_str().expect("an id")
            ),
            merchant.key(Role::Viewer),
        )
        .await;
    assert_eq!(
        body["Payment_Ref_ID"],
        collection.body["operator_transaction_id"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        listener.received_requests().await.map(|r| r.len()),
        Some(1),
        "delivered once"
    );
    deliverer.stop().await;
    node.stop().await;
}
