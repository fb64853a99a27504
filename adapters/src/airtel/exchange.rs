//! One authenticated call to Airtel: token from the cache, the headers every call carries,
//! one resend with a new token after a 401, and the reply read whole (up to a limit).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use payrail_engine::operator::OperatorError;
use tokio::time::Instant;

use crate::http::{
    Body, OperatorClient, bearer, json_body, retry_after_ms, transport_failure, unbuildable,
};
use crate::secret::Secret;
use crate::token::{IssuedToken, TokenCache};

use super::wire::{TokenReply, TokenRequest};

/// What Airtel answered to one call.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// When the call began (token included): the elapsed time of an unknown outcome.
    pub started: Instant,
}

/// Airtel's API for one account: where it is, who we are, and the token we hold.
#[derive(Debug)]
pub struct AirtelApi {
    pub client: OperatorClient,
    /// Without a trailing '/'.
    pub base_url: String,
    pub country: HeaderValue,
    pub currency: HeaderValue,
    pub client_id: String,
    pub client_secret: Secret,
    pub tokens: TokenCache,
}

impl AirtelApi {
    /// Sends `method path` with `body` (JSON) and returns whatever HTTP answer came back.
    /// A 401 drops the token and sends once more with a new one; the second answer is
    /// returned as it is, so a second 401 reaches the mapping. `Err` means no HTTP answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Answer, OperatorError> {
        let started = Instant::now();
        let token = self.token().await?;
        let answer = self
            .send_once(&method, path, body.clone(), &token, started)
            .await?;
        if answer.status != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        tracing::info!(
            path,
            "Airtel refused the token; fetching a new one and resending once"
        );
        self.tokens.refused(&token);
        let token = self.token().await?;
        self.send_once(&method, path, body, &token, started).await
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        body: Option<Bytes>,
        token: &str,
        started: Instant,
    ) -> Result<Answer, OperatorError> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base_url))
            .header(AUTHORIZATION, bearer(token)?)
            .header("X-Country", self.country.clone())
            .header("X-Currency", self.currency.clone())
            .header(ACCEPT, "*/*");
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Body::new(body.unwrap_or_default()))
            .map_err(|error| unbuildable(&error))?;
        let reply = self
            .client
            .exchange(request)
            .await
            .map_err(|error| transport_failure(&error, started))?;
        Ok(Answer {
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
            started,
        })
    }

    /// The cached token, or a new one. Failing to get one means nothing was sent.
    async fn token(&self) -> Result<Arc<str>, OperatorError> {
        self.tokens.get(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<IssuedToken, OperatorError> {
        let not_sent = |detail: String, retry_after_ms: Option<u64>| OperatorError::NotSent {
            detail: format!("no Airtel token, so nothing was sent: {detail}"),
            retry_after_ms,
        };
        let request = TokenRequest {
            client_id: &self.client_id,
            client_secret: self.client_secret.expose(),
            grant_type: "client_credentials",
        };
        let request = Request::post(format!("{}/auth/oauth2/token", self.base_url))
            .header(ACCEPT, "*/*")
            .header(CONTENT_TYPE, "application/json")
            .body(Body::new(json_body(&request)?))
            .map_err(|error| not_sent(error.to_string(), None))?;
        let reply = self
            .client
            .exchange(request)
            .await
            .map_err(|error| not_sent(error.to_string(), None))?;
        if !reply.status.is_success() {
            return Err(not_sent(
                format!("the token endpoint answered {}", reply.status),
                retry_after_ms(&reply.headers),
            ));
        }
        let body = reply.body;
        let reply: TokenReply = serde_json::from_slice(&body)
            .map_err(|error| not_sent(format!("unreadable token reply: {error}"), None))?;
        let (Some(access_token), Some(expires_in)) = (reply.access_token, reply.expires_in) else {
            return Err(not_sent(
                "the token reply lacks access_token or expires_in".into(),
                None,
            ));
        };
        let seconds = expires_in.trim().parse::<u64>().map_err(|_| {
            not_sent(
                format!("expires_in {expires_in:?} is not whole seconds"),
                None,
            )
        })?;
        Ok(IssuedToken {
            access_token,
            expires_in: Duration::from_secs(seconds),
        })
    }
}
