//! One authenticated call to Airtel: token from the cache, the headers every call carries,
//! one resend with a new token after a 401, and the reply read whole (up to a limit).

use std::sync::Arc;
use std::time::Duration;

use payrail_engine::operator::OperatorError;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;

use crate::http::{read_capped, retry_after_ms, transport_failure};
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
    pub client: reqwest::Client,
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
        body: Option<Vec<u8>>,
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
        body: Option<Vec<u8>>,
        token: &str,
        started: Instant,
    ) -> Result<Answer, OperatorError> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base_url))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header("X-Country", self.country.clone())
            .header("X-Currency", self.currency.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "*/*");
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| transport_failure(&error, started))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_capped(response)
            .await
            .map_err(|error| transport_failure(&error, started))?;
        Ok(Answer {
            status,
            headers,
            body,
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
        let response = self
            .client
            .post(format!("{}/auth/oauth2/token", self.base_url))
            .header(ACCEPT, "*/*")
            .json(&request)
            .send()
            .await
            .map_err(|error| not_sent(error.to_string(), None))?;
        let status = response.status();
        if !status.is_success() {
            return Err(not_sent(
                format!("the token endpoint answered {status}"),
                retry_after_ms(response.headers()),
            ));
        }
        let body = read_capped(response)
            .await
            .map_err(|error| not_sent(error.to_string(), None))?;
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
