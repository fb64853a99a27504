//! What every operator adapter shares on the wire: an HTTP client with explicit timeouts
//! (`client`), and the reading of transport failures and `Retry-After` as what the engine
//! may do next.

mod client;

use bytes::Bytes;
use http::header::RETRY_AFTER;
use http::{HeaderMap, HeaderValue};
use payrail_engine::operator::OperatorError;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

pub use client::{Body, OperatorClient, Reply, TransportError};

/// How long a connection may take to open: an operator that does not accept a connection
/// this fast is treated as unreachable (nothing was sent, so a resend is safe).
pub const CONNECT_TIMEOUT_MS: u64 = 3_000;
/// How long one request may take in all; past it the outcome is unknown.
pub const REQUEST_TIMEOUT_MS: u64 = 15_000;
/// How long an idle keep-alive connection is kept: reused by the next request rather than
/// reopened (a new TCP and TLS handshake per payout would cost more than the payout).
pub const IDLE_CONNECTION_MS: u64 = 60_000;

/// Largest reply read, in bytes: operators' replies are a few hundred bytes, and a reply
/// cut here fails to parse, which reads as "outcome unknown" rather than as an answer.
pub const REPLY_BYTES_MAX: usize = 64 * 1024;

/// The timeouts of one adapter's HTTP client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpTimeouts {
    pub connect_ms: u64,
    pub request_ms: u64,
}

impl Default for HttpTimeouts {
    fn default() -> HttpTimeouts {
        HttpTimeouts {
            connect_ms: CONNECT_TIMEOUT_MS,
            request_ms: REQUEST_TIMEOUT_MS,
        }
    }
}

/// The client could not be built (the platform's trust store or TLS failed to load).
#[derive(Debug, thiserror::Error)]
#[error("building the HTTP client: {0}")]
pub struct ClientError(#[from] rustls::Error);

/// What a request that got no HTTP answer means. A connection that never opened sent
/// nothing; anything later (a timeout, a reset, a broken body) may have been executed.
pub fn transport_failure(error: &TransportError, started: Instant) -> OperatorError {
    match error {
        TransportError::Connect(_) => OperatorError::NotSent {
            detail: error.to_string(),
            retry_after_ms: None,
        },
        TransportError::NoAnswer(_) => unknown_since(started),
    }
}

/// A request that could not be built (a header value from configuration that HTTP does not
/// allow): nothing was sent.
pub fn unbuildable(error: &http::Error) -> OperatorError {
    OperatorError::NotSent {
        detail: format!("the request could not be built: {error}"),
        retry_after_ms: None,
    }
}

/// `Authorization: Bearer <token>`, marked sensitive so that it is never printed. A token
/// that cannot be a header value means nothing was sent.
pub fn bearer(token: &str) -> Result<HeaderValue, OperatorError> {
    let mut value =
        HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| OperatorError::NotSent {
            detail: "the operator issued a token that is not a valid header value".into(),
            retry_after_ms: None,
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// `value` as a JSON body. Our own request types always serialize; if one did not, nothing
/// was sent.
pub fn json_body(value: &impl Serialize) -> Result<Bytes, OperatorError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|error| OperatorError::NotSent {
            detail: format!("the request body could not be written: {error}"),
            retry_after_ms: None,
        })
}

/// "Outcome unknown", with the time the call took.
pub fn unknown_since(started: Instant) -> OperatorError {
    OperatorError::OutcomeUnknown {
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// "Not sent" for a refusal the operator gave before doing anything (403, 429), honouring
/// its `Retry-After`.
pub fn refused_before_executing(status: http::StatusCode, headers: &HeaderMap) -> OperatorError {
    OperatorError::NotSent {
        detail: format!("the operator answered {status} without executing"),
        retry_after_ms: retry_after_ms(headers),
    }
}

/// `Retry-After` in milliseconds: delay-seconds or an HTTP date, as RFC 9110 allows.
pub fn retry_after_ms(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1_000));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(u64::try_from(wait.as_millis()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(value).expect("a header value"),
        );
        headers
    }

    #[test]
    fn retry_after_in_seconds_is_read_as_milliseconds() {
        assert_eq!(retry_after_ms(&headers("3")), Some(3_000));
    }

    #[test]
    fn retry_after_as_a_past_date_means_now() {
        assert_eq!(
            retry_after_ms(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(0)
        );
    }

    #[test]
    fn retry_after_as_a_future_date_is_the_time_until_it() {
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
        let text = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&later)
            .expect("a printable date");
        let wait = retry_after_ms(&headers(&text)).expect("a wait");
        assert!((100_000..=120_000).contains(&wait), "{wait}");
    }

    #[test]
    fn an_unreadable_retry_after_is_ignored() {
        assert_eq!(retry_after_ms(&headers("soon")), None);
        assert_eq!(retry_after_ms(&HeaderMap::new()), None);
    }
}
