//! A mock MTN with a token endpoint, and the adapter configured against it.

use payrail_adapters::http::HttpTimeouts;
use payrail_adapters::mtn::{MtnConfig, MtnMomo, ProductCredentials};
use payrail_adapters::secret::Secret;
use payrail_engine::ids::{PayoutId, Reference};
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::operator::{PaymentRequest, PayoutRequest};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const API_USER: &str = "4b9f0e31-0c5e-4c02-9f5e-2f8a8b1f0d11";
pub const API_KEY: &str = "f1db798c98df4bcf83b538175893bbf0";
pub const SUBSCRIPTION_KEY: &str = "c2f7a1e0b4d84e9b8a0d5c6e7f8a9b0c";
pub const CALLBACK_URL: &str = "https://payrail.example/callbacks/mtn";
/// What the adapter's client waits for one answer, kept short so timeouts test fast.
pub const REQUEST_MS: u64 = 400;

pub fn config(base_url: &str) -> MtnConfig {
    let credentials = ProductCredentials {
        subscription_key: Secret::new(SUBSCRIPTION_KEY),
        api_user: API_USER.into(),
        api_key: Secret::new(API_KEY),
    };
    MtnConfig {
        base_url: base_url.into(),
        target_environment: "mtnrwanda".into(),
        currency: Currency::Rwf,
        callback_url: Some(CALLBACK_URL.into()),
        disbursement: credentials.clone(),
        collection: Some(credentials),
        timeouts: HttpTimeouts {
            connect_ms: 500,
            request_ms: REQUEST_MS,
        },
    }
}

/// A mock MTN that issues tokens for both products, and the adapter pointed at it.
pub async fn mock_mtn() -> (MockServer, MtnMomo) {
    let server = MockServer::start().await;
    mount_tokens(&server, 3_600).await;
    let adapter = MtnMomo::new(config(&server.uri())).expect("an adapter");
    (server, adapter)
}

pub async fn mount_tokens(server: &MockServer, expires_in: u64) {
    for product in ["disbursement", "collection"] {
        Mock::given(method("POST"))
            .and(path(format!("/{product}/token/")))
            .respond_with(token_reply(product, expires_in))
            .mount(server)
            .await;
    }
}

pub fn token_reply(name: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": format!("token-{name}"),
        "token_type": "access_token",
        "expires_in": expires_in,
    }))
}

pub fn payout() -> PayoutRequest {
    PayoutRequest {
        reference: Reference::new(),
        payout: PayoutId::new(),
        msisdn: Msisdn::parse("250788123456", Region::RW).expect("a number"),
        amount: Amount::from_minor(1_500).expect("an amount"),
        currency: Currency::Rwf,
        note: Some("Salary November".into()),
    }
}

pub fn payment() -> PaymentRequest {
    PaymentRequest {
        reference: Reference::new(),
        msisdn: Msisdn::parse("250788654321", Region::RW).expect("a number"),
        amount: Amount::from_minor(2_000).expect("an amount"),
        currency: Currency::Rwf,
        message: Some("Invoice 42".into()),
    }
}

/// A status body as MTN sends it.
pub fn status_body(status: &str) -> serde_json::Value {
    serde_json::json!({
        "amount": "1500", "currency": "RWF", "externalId": "x",
        "payee": {"partyIdType": "MSISDN", "partyId": "250788123456"},
        "status": status,
    })
}
