//! One MTN MoMo product (disbursement or collection): its token, fetched with the product's
//! Basic credentials and cached, and the headers every call carries. A 401 drops the token
//! and resends once: MTN refused the call before running it.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::Request;
use http::header::AUTHORIZATION;
use http::request::Builder;
use payrail_engine::operator::OperatorError;
use tokio::time::Instant;

use super::config::ProductCredentials;
use super::mapping::{Reply, Verdict};
use super::wire::TokenReply;
use crate::http::{Body, OperatorClient, bearer, transport_failure, unbuildable};
use crate::token::{IssuedToken, TokenCache};

const SUBSCRIPTION_KEY: &str = "Ocp-Apim-Subscription-Key";
const TARGET_ENVIRONMENT: &str = "X-Target-Environment";

/// A product's client.
#[derive(Debug)]
pub(super) struct Product {
    /// `{base_url}/disbursement` or `{base_url}/collection`.
    base: String,
    credentials: ProductCredentials,
    environment: String,
    client: OperatorClient,
    tokens: TokenCache,
}

impl Product {
    pub(super) fn new(
        base_url: &str,
        name: &str,
        credentials: ProductCredentials,
        environment: &str,
        client: OperatorClient,
    ) -> Product {
        Product {
            base: format!("{}/{name}", base_url.trim_end_matches('/')),
            credentials,
            environment: environment.into(),
            client,
            tokens: TokenCache::default(),
        }
    }

    /// `{base}/{path}` for this product.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// Sends the request `request` begins, with `body`, the token and MTN's headers, and
    /// reads the answer with `read`.
    pub(super) async fn call<T>(
        &self,
        request: impl Fn() -> Builder,
        body: Bytes,
        read: impl Fn(&Reply<'_>) -> Verdict<T>,
    ) -> Result<T, OperatorError> {
        for _ in 0..2 {
            let token = self.token().await?;
            let started = Instant::now();
            let request = request()
                .header(AUTHORIZATION, bearer(&token)?)
                .header(SUBSCRIPTION_KEY, self.credentials.subscription_key.expose())
                .header(TARGET_ENVIRONMENT, &self.environment)
                .body(Body::new(body.clone()))
                .map_err(|error| unbuildable(&error))?;
            let answer = self
                .client
                .exchange(request)
                .await
                .map_err(|error| transport_failure(&error, started))?;
            let reply = Reply {
                status: answer.status,
                headers: &answer.headers,
                body: &answer.body,
                started,
            };
            match read(&reply) {
                Verdict::Answer(answer) => return Ok(answer),
                Verdict::Error(error) => return Err(error),
                Verdict::RefreshToken => self.tokens.refused(&token),
            }
        }
        Err(OperatorError::NotSent {
            detail: "MTN refused a freshly issued token".into(),
            retry_after_ms: None,
        })
    }

    /// The cached token, or a new one; a token that cannot be had means nothing was sent.
    async fn token(&self) -> Result<Arc<str>, OperatorError> {
        self.tokens.get(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<IssuedToken, OperatorError> {
        let not_sent = |detail: String| OperatorError::NotSent {
            detail: format!("no MTN token: {detail}"),
            retry_after_ms: None,
        };
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.credentials.api_user,
            self.credentials.api_key.expose()
        ));
        let request = Request::post(self.url("token/"))
            .header(AUTHORIZATION, format!("Basic {basic}"))
            .header(SUBSCRIPTION_KEY, self.credentials.subscription_key.expose())
            .body(Body::default())
            .map_err(|error| not_sent(error.to_string()))?;
        let answer = self
            .client
            .exchange(request)
            .await
            .map_err(|error| not_sent(error.to_string()))?;
        let status = answer.status;
        if !status.is_success() {
            tracing::warn!(%status, product = %self.base, "MTN refused the token request");
            return Err(not_sent(format!("the token request was answered {status}")));
        }
        let reply: TokenReply = serde_json::from_slice(&answer.body)
            .map_err(|error| not_sent(format!("unreadable token reply: {error}")))?;
        let seconds = reply
            .expires_in
            .parse()
            .map_err(|_| not_sent(format!("expires_in `{}` is not seconds", reply.expires_in)))?;
        Ok(IssuedToken {
            access_token: reply.access_token,
            expires_in: Duration::from_secs(seconds),
        })
    }
}
