//! The operator simulator server over real HTTP: MTN and Airtel clients' requests, faults,
//! callbacks and the admin endpoints, against a server spawned on 127.0.0.1:0.

mod admin;
mod airtel;
mod callbacks;
mod faults;
mod mtn;
mod mtn_rules;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use payrail_adapters::simserver::{SimServerHandle, SimServerProfile, spawn};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use uuid::Uuid;

pub const SUBSCRIPTION_KEY: &str = "subscription-key-1";
pub const ENVIRONMENT: &str = "mtnrwanda";
pub const TRANSFER: &str = "/disbursement/v1_0/transfer";
pub const REQUEST_TO_PAY: &str = "/collection/v1_0/requesttopay";

/// A spawned simulator and a client with a short timeout.
#[derive(Debug)]
pub struct TestSim {
    pub handle: SimServerHandle,
    pub http: reqwest::Client,
}

impl TestSim {
    pub async fn start(profile: SimServerProfile) -> TestSim {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let handle = spawn(listener, profile)
            .await
            .expect("the simulator starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a client");
        TestSim { handle, http }
    }

    pub async fn with_defaults() -> TestSim {
        TestSim::start(SimServerProfile::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    /// An MTN token for `user` of `product` ("disbursement" or "collection").
    pub async fn mtn_token(&self, product: &str, user: &str) -> String {
        let response = self
            .http
            .post(self.url(&format!("/{product}/token/")))
            .header("Authorization", basic(user, "api-key"))
            .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
            .send()
            .await
            .expect("the token request is answered");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("a JSON token");
        body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// A transfer or request to pay POST with MTN's headers.
    pub async fn mtn_post(
        &self,
        path: &str,
        token: &str,
        reference: Uuid,
        body: &Value,
    ) -> Response {
        self.mtn_post_with(path, token, &reference.to_string(), body, &[])
            .await
            .expect("the POST is answered")
    }

    pub async fn mtn_post_with(
        &self,
        path: &str,
        token: &str,
        reference: &str,
        body: &Value,
        extra: &[(&str, &str)],
    ) -> reqwest::Result<Response> {
        let mut request = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .header("X-Reference-Id", reference)
            .header("X-Target-Environment", ENVIRONMENT)
            .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
            .json(body);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().await
    }

    /// A transfer POST by a client that gives up after `timeout`.
    pub async fn mtn_post_impatiently(
        &self,
        token: &str,
        reference: Uuid,
        body: &Value,
        timeout: Duration,
    ) -> reqwest::Result<Response> {
        self.http
            .post(self.url(TRANSFER))
            .timeout(timeout)
            .bearer_auth(token)
            .header("X-Reference-Id", reference.to_string())
            .header("X-Target-Environment", ENVIRONMENT)
            .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
            .json(body)
            .send()
            .await
    }

    /// A GET with MTN's headers.
    pub async fn mtn_get(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .header("X-Target-Environment", ENVIRONMENT)
            .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
            .send()
            .await
            .expect("the GET is answered")
    }

    /// The status body of a transfer (`path` is TRANSFER or REQUEST_TO_PAY).
    pub async fn mtn_status(&self, path: &str, token: &str, reference: Uuid) -> Value {
        let response = self.mtn_get(&format!("{path}/{reference}"), token).await;
        assert_eq!(response.status(), StatusCode::OK, "status of {reference}");
        response.json().await.expect("a JSON status")
    }

    pub async fn airtel_token(&self, client_id: &str) -> String {
        let response = self
            .http
            .post(self.url("/auth/oauth2/token"))
            .json(&json!({"client_id": client_id, "client_secret": "secret", "grant_type": "client_credentials"}))
            .send()
            .await
            .expect("the token request is answered");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("a JSON token");
        body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    pub async fn airtel_post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .header("X-Country", "RW")
            .header("X-Currency", "RWF")
            .json(body)
            .send()
            .await
            .expect("the POST is answered")
    }

    pub async fn airtel_get(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .header("X-Country", "RW")
            .header("X-Currency", "RWF")
            .send()
            .await
            .expect("the GET is answered")
    }
}

pub fn basic(user: &str, key: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{key}")))
}

/// A transfer body for MTN (RWF).
pub fn transfer_body(msisdn: &str, amount: Value) -> Value {
    json!({
        "amount": amount,
        "currency": "RWF",
        "externalId": "payout-1",
        "payee": {"partyIdType": "MSISDN", "partyId": msisdn},
        "payerMessage": "salary",
        "payeeNote": "thanks",
    })
}

/// A request-to-pay body for MTN (RWF).
pub fn request_to_pay_body(msisdn: &str, amount: &str) -> Value {
    json!({
        "amount": amount,
        "currency": "RWF",
        "externalId": "order-1",
        "payer": {"partyIdType": "MSISDN", "partyId": msisdn},
        "payerMessage": "pay",
        "payeeNote": "order",
    })
}

/// An Airtel disbursement body.
pub fn disbursement_body(id: &str, msisdn: &str, amount: Value) -> Value {
    json!({
        "payee": {"msisdn": msisdn, "wallet_type": "NORMAL"},
        "reference": "payout-1",
        "pin": BASE64.encode(b"rsa-encrypted-pin"),
        "transaction": {"amount": amount, "id": id, "type": "B2C"},
    })
}

/// Polls `condition` until it holds or `limit` passes, slowly enough (every 110 ms) to
/// stay under the default 10 status queries per second.
pub async fn eventually<F, Fut>(limit: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(110)).await;
    }
}
