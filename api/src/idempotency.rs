//! `Idempotency-Key`: a POST that creates or moves something runs once per key and
//! merchant. The key is claimed before the work starts (a second request while the first
//! runs gets 409), and the response is stored in the same transaction as what the request
//! created, for 24 hours: a replay gets the first status and body, and the same key with
//! another body gets 422. A request that fails before it commits releases its key, and a
//! node sweeps keys past their 24 hours away (`Sweeper`).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use deadpool_postgres::{GenericClient, Pool, Transaction};
use payrail_engine::ids::MerchantId;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// The request header, and the header marking a replayed answer.
pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// A claim left unfinished this long (its node died mid-request) may be taken over.
const ABANDONED_AFTER: &str = "5 minutes";

/// The longest key. The OpenAPI document states the rule as `^[!-~]{1,255}$`.
pub const KEY_MAX_CHARS: usize = 255;

/// Whether a money-moving endpoint insists on a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRule {
    Required,
    Optional,
}

/// The key a request sent, checked: 1 to 255 visible ASCII characters (no spaces).
pub fn key_of(headers: &HeaderMap, rule: KeyRule) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return match rule {
            KeyRule::Required => Err(ApiError::bad_request(
                "idempotency-key-missing",
                "this request moves money: send an `Idempotency-Key` header (a UUID is a good key) so a retry cannot repeat it",
            )),
            KeyRule::Optional => Ok(None),
        };
    };
    let key = value
        .to_str()
        .ok()
        .filter(|key| (1..=KEY_MAX_CHARS).contains(&key.len()))
        .filter(|key| key.bytes().all(|byte| byte.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "idempotency-key-invalid",
                "an `Idempotency-Key` is 1 to 255 visible ASCII characters, without spaces",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// The fingerprint of a request: what "the same body" means for a replay.
pub fn fingerprint(route: &str, body: &impl Serialize) -> Result<[u8; 32], ApiError> {
    let mut hash = Sha256::new();
    hash.update(route.as_bytes());
    hash.update([0]);
    hash.update(serde_json::to_vec(body).map_err(ApiError::internal)?);
    Ok(hash.finalize().into())
}

/// What a key came to.
#[derive(Debug)]
pub enum Lookup {
    /// This request holds the key: do the work, then `finish` in its transaction.
    Claimed(Claim),
    /// An earlier request with this key finished: answer as it did.
    Done(Stored),
}

/// A key held by the running request.
#[derive(Clone, Debug)]
pub struct Claim {
    merchant: MerchantId,
    key: String,
}

/// The first answer given under a key.
#[derive(Debug)]
pub struct Stored {
    request_sha256: Vec<u8>,
    status: u16,
    body: Value,
}

const RELEASE_STALE: &str = "
    DELETE FROM idempotency_keys
     WHERE merchant_id = $1 AND key = $2
       AND (expires_at < now()
            OR (response_status IS NULL AND created_at < now() - $3::text::interval))";

const CLAIM: &str = "
    INSERT INTO idempotency_keys (merchant_id, key, request_sha256)
    VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1";

const READ: &str = "
    SELECT request_sha256, response_status, response_body
      FROM idempotency_keys WHERE merchant_id = $1 AND key = $2";

/// Claims `key` for this merchant; 409 while another request holds it.
pub async fn claim(pool: &Pool, merchant: MerchantId, key: &str) -> Result<Lookup, ApiError> {
    let client = pool.get().await.map_err(ApiError::internal)?;
    let release = client.prepare_cached(RELEASE_STALE).await;
    client
        .execute(
            &release.map_err(ApiError::internal)?,
            &[&merchant, &key, &ABANDONED_AFTER],
        )
        .await
        .map_err(ApiError::internal)?;
    let unset = [0_u8; 32].to_vec();
    let insert = client
        .prepare_cached(CLAIM)
        .await
        .map_err(ApiError::internal)?;
    let claimed = client
        .query_opt(&insert, &[&merchant, &key, &unset])
        .await
        .map_err(ApiError::internal)?;
    if claimed.is_some() {
        return Ok(Lookup::Claimed(Claim {
            merchant,
            key: key.to_owned(),
        }));
    }
    let row = client
        .query_opt(READ, &[&merchant, &key])
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::conflict(
                "idempotency-key-in-use",
                "this Idempotency-Key was just released; retry",
            )
        })?;
    let status: Option<i32> = row.get(1);
    let Some(status) = status else {
        return Err(ApiError::conflict(
            "idempotency-key-in-use",
            "a request with this Idempotency-Key is still being processed; retry once it has answered",
        ));
    };
    Ok(Lookup::Done(Stored {
        request_sha256: row.get(0),
        status: u16::try_from(status).map_err(ApiError::internal)?,
        body: row.get(2),
    }))
}

const RELEASE: &str = "
    DELETE FROM idempotency_keys
     WHERE merchant_id = $1 AND key = $2 AND response_status IS NULL";

impl Claim {
    /// Stores the answer in the transaction that made what it describes.
    pub async fn finish(
        &self,
        tx: &Transaction<'_>,
        request_sha256: &[u8; 32],
        status: StatusCode,
        body: &Value,
    ) -> Result<(), ApiError> {
        self.update(tx, request_sha256, status, body).await
    }

    /// Replaces the stored answer with the one actually given (a `?wait` that saw the end).
    pub async fn update(
        &self,
        client: &impl GenericClient,
        request_sha256: &[u8; 32],
        status: StatusCode,
        body: &Value,
    ) -> Result<(), ApiError> {
        let answer = Answer {
            claim: self,
            request_sha256,
            status,
            body: body.clone(),
        };
        finish_all(client, &[answer]).await
    }

    /// Gives the key back after a failure, so a retry runs afresh.
    pub async fn release(self, pool: &Pool) {
        let released = async {
            let client = pool.get().await.map_err(ApiError::internal)?;
            client
                .execute(RELEASE, &[&self.merchant, &self.key])
                .await
                .map_err(ApiError::internal)
        };
        if let Err(error) = released.await {
            tracing::warn!(%error, "an idempotency key could not be released; it frees itself in minutes");
        }
    }
}

const FINISH_ALL: &str = "
    UPDATE idempotency_keys AS k
       SET request_sha256 = a.request_sha256, response_status = a.status, response_body = a.body
      FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::int[], $5::jsonb[])
           AS a (merchant_id, key, request_sha256, status, body)
     WHERE k.merchant_id = a.merchant_id AND k.key = a.key";

/// One request's answer, to store under its claim.
#[derive(Debug)]
pub struct Answer<'a> {
    pub claim: &'a Claim,
    pub request_sha256: &'a [u8; 32],
    pub status: StatusCode,
    pub body: Value,
}

/// Stores the answers of requests written together, in the transaction that made what
/// they describe: `Claim::finish` for many at once.
pub async fn finish_all(
    client: &impl GenericClient,
    answers: &[Answer<'_>],
) -> Result<(), ApiError> {
    let merchants: Vec<MerchantId> = answers.iter().map(|a| a.claim.merchant).collect();
    let keys: Vec<&str> = answers.iter().map(|a| a.claim.key.as_str()).collect();
    let hashes: Vec<&[u8]> = answers
        .iter()
        .map(|a| a.request_sha256.as_slice())
        .collect();
    let statuses: Vec<i32> = answers
        .iter()
        .map(|a| i32::from(a.status.as_u16()))
        .collect();
    let bodies: Vec<&Value> = answers.iter().map(|a| &a.body).collect();
    let statement = client
        .prepare_cached(FINISH_ALL)
        .await
        .map_err(ApiError::internal)?;
    client
        .execute(
            &statement,
            &[&merchants, &keys, &hashes, &statuses, &bodies],
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}

impl Stored {
    /// The first answer again, if this request is the same as the first; 422 otherwise.
    pub fn replay(self, request_sha256: &[u8; 32]) -> Result<Response, ApiError> {
        if self.request_sha256 != request_sha256 {
            return Err(ApiError::Invalid {
                detail: "this Idempotency-Key was used with a different request; use a new key for a new request".into(),
                errors: Vec::new(),
            });
        }
        let status = StatusCode::from_u16(self.status).map_err(ApiError::internal)?;
        let mut response = crate::problem::stored_answer(status, self.body);
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
        Ok(response)
    }
}

/// Runs `work` once per key: in a transaction that also stores its answer. Without a key
/// (where one is optional) the work simply runs in a transaction.
pub async fn once(
    pool: &Pool,
    merchant: MerchantId,
    key: Option<String>,
    request_sha256: [u8; 32],
    work: impl AsyncFnOnce(&Transaction<'_>) -> Result<(StatusCode, Value), ApiError>,
) -> Result<Response, ApiError> {
    let claim = match key {
        None => None,
        Some(key) => match claim(pool, merchant, &key).await? {
            Lookup::Done(stored) => return stored.replay(&request_sha256),
            Lookup::Claimed(claim) => Some(claim),
        },
    };
    let outcome = async {
        let mut client = pool.get().await.map_err(ApiError::internal)?;
        let tx = client.transaction().await.map_err(ApiError::internal)?;
        let (status, body) = work(&tx).await?;
        if let Some(claim) = &claim {
            claim.finish(&tx, &request_sha256, status, &body).await?;
        }
        tx.commit().await.map_err(ApiError::internal)?;
        Ok::<_, ApiError>((status, body))
    }
    .await;
    match outcome {
        Ok((status, body)) => Ok(crate::problem::stored_answer(status, body)),
        Err(error) => {
            if let Some(claim) = claim {
                claim.release(pool).await;
            }
            Err(error)
        }
    }
}

/// How often a node deletes expired keys, and at most how many per statement.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
const SWEEP_ROWS: i64 = 10_000;

const SWEEP: &str = "
    DELETE FROM idempotency_keys
     WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT $1)";

/// Deletes every key past its 24 hours, a slice at a time; returns how many went.
pub async fn sweep_expired(pool: &Pool) -> Result<u64, ApiError> {
    let client = pool.get().await.map_err(ApiError::internal)?;
    let mut deleted = 0;
    loop {
        let slice = client
            .execute(SWEEP, &[&SWEEP_ROWS])
            .await
            .map_err(ApiError::internal)?;
        deleted += slice;
        if slice < SWEEP_ROWS.unsigned_abs() {
            return Ok(deleted);
        }
    }
}

/// Sweeps expired keys every ten minutes while the node runs.
#[derive(Debug)]
pub struct Sweeper(tokio::task::JoinHandle<()>);

impl Sweeper {
    pub fn start(pool: Pool) -> Sweeper {
        Sweeper(tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                match sweep_expired(&pool).await {
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
