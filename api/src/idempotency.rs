//! `Idempotency-Key` over HTTP: the header read and checked, and a stored answer sent
//! back (with `idempotent-replayed: true` when it is a replay). What a key means, and its
//! storage, are the application layer's (`payrail_engine::app::idempotency`); a node also
//! sweeps keys past their 24 hours away (`Sweeper`).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use deadpool_postgres::Pool;
use payrail_engine::app::idempotency::{self, Answered, IdempotencyKey};

use crate::problem::{ApiError, stored_answer};

/// The request header, and the header marking a replayed answer.
pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// Whether a money-moving endpoint insists on a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRule {
    Required,
    Optional,
}

/// The key a request sent, checked.
pub fn key_of(headers: &HeaderMap, rule: KeyRule) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return match rule {
            KeyRule::Required => Err(ApiError::bad_request(
                "idempotency-key-missing",
                "this request moves money: send an `Idempotency-Key` header (a UUID is a good key) so a retry cannot repeat it",
            )),
            KeyRule::Optional => Ok(None),
        };
    };
    let text = value.to_str().unwrap_or("\u{0}");
    Ok(Some(IdempotencyKey::parse(text)?))
}

/// The key of an endpoint that requires one.
pub fn required_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    key_of(headers, KeyRule::Required)?
        .ok_or_else(|| ApiError::internal("a required key was not read"))
}

/// The answer a use case gave (or gave before, under the same key).
pub fn respond(answered: Answered) -> Result<Response, ApiError> {
    let status = StatusCode::from_u16(answered.answer.status).map_err(ApiError::internal)?;
    let mut response = stored_answer(status, answered.answer.body);
    if answered.replayed {
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// How often a node deletes expired keys.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Sweeps expired keys every ten minutes while the node runs.
#[derive(Debug)]
pub struct Sweeper(tokio::task::JoinHandle<()>);

impl Sweeper {
    pub fn start(pool: Pool) -> Sweeper {
        Sweeper(tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                match idempotency::sweep_expired(&pool).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "expired idempotency keys swept"),
                    Err(error) => {
                        tracing::warn!(%error, "sweeping idempotency keys failed; next time")
                    }
                }
            }
        }))
    }

    /// Stops sweeping; a sweep under way is abandoned (its statement rolls back).
    pub fn stop(self) {
        self.0.abort();
    }
}
