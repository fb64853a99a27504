//! The HTTP client the operator adapters send through: hyper's pooled HTTP/1.1 client over
//! rustls (the platform's trust store, as reqwest has it), with a connect timeout, one
//! timeout for the whole exchange, and the reply read whole up to a cap.
//!
//! hyper rather than reqwest because an adapter makes the same few requests thousands of
//! times a second: reqwest parses every request's URL again and runs its redirect layer
//! (which formats and parses the URL once more) even with redirects off, about a tenth of
//! the node's CPU on the HTTP path (docs/benchmarks.md, issue 17).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_platform_verifier::BuilderVerifierExt;

use super::{ClientError, HttpTimeouts, IDLE_CONNECTION_MS, REPLY_BYTES_MAX};

/// What every request carries as its body.
pub type Body = Full<Bytes>;

/// An operator's HTTP client: cheap to clone, the clones share one connection pool.
#[derive(Clone, Debug)]
pub struct OperatorClient {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    request_timeout: Duration,
}

/// An HTTP answer, its body read whole (cut at `REPLY_BYTES_MAX`: a cut reply fails to
/// parse, which reads as "outcome unknown" rather than as an answer).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A request that got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No connection opened, so nothing was sent.
    #[error("could not connect: {0}")]
    Connect(String),
    /// Sent, or maybe sent: a timeout, a reset, a broken reply.
    #[error("no whole answer: {0}")]
    NoAnswer(String),
}

impl OperatorClient {
    pub fn new(timeouts: HttpTimeouts) -> Result<OperatorClient, ClientError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_platform_verifier()?
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(Duration::from_millis(timeouts.connect_ms)));
        http.set_nodelay(true);
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_millis(IDLE_CONNECTION_MS))
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(OperatorClient {
            client,
            request_timeout: Duration::from_millis(timeouts.request_ms),
        })
    }

    /// Sends `request` and reads the reply, all within the request timeout.
    pub async fn exchange(&self, request: Request<Body>) -> Result<Reply, TransportError> {
        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| {
                if error.is_connect() {
                    TransportError::Connect(error.to_string())
                } else {
                    TransportError::NoAnswer(error.to_string())
                }
            })?;
            let (parts, mut body) = response.into_parts();
            let mut read = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|error| TransportError::NoAnswer(error.to_string()))?;
                if let Ok(chunk) = frame.into_data() {
                    let room = REPLY_BYTES_MAX - read.len();
                    read.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if read.len() == REPLY_BYTES_MAX {
                        break;
                    }
                }
            }
            Ok(Reply {
                status: parts.status,
                headers: parts.headers,
                body: read,
            })
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::NoAnswer(format!(
                    "no answer within {} ms",
                    self.request_timeout.as_millis()
                )))
            })
    }
}
