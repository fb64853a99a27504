//! Idempotency keys: a use case that creates or moves something runs once per key and
//! merchant. The key is claimed before the work starts (a second request while the first
//! runs is a conflict), and the answer the front end gives for the outcome is stored in the
//! same transaction as what the work created, for 24 hours: a replay gets that answer
//! again, and the same key with another request is refused. A request that fails before it
//! commits gives its key back.

use deadpool_postgres::{Pool, Transaction};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::AppError;
use crate::ids::MerchantId;
use crate::store::idempotency_keys::{self, KeyAnswer};

/// A claim left unfinished this long (its node died mid-request) may be taken over.
const ABANDONED_AFTER: &str = "5 minutes";

/// The longest key.
pub const KEY_MAX_CHARS: usize = 255;

/// A key as a client sent it, checked: 1 to 255 visible ASCII characters, no spaces (the
/// OpenAPI document states it as `^[!-~]{1,255}$`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<IdempotencyKey, AppError> {
        if (1..=KEY_MAX_CHARS).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic()) {
            return Ok(IdempotencyKey(text.to_owned()));
        }
        Err(AppError::malformed(
            "idempotency-key-invalid",
            "an `Idempotency-Key` is 1 to 255 visible ASCII characters, without spaces",
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two requests "the same" for their key: the use case and its input.
pub fn fingerprint(use_case: &str, input: &impl Serialize) -> Result<[u8; 32], AppError> {
    let mut hash = Sha256::new();
    hash.update(use_case.as_bytes());
    hash.update([0]);
    hash.update(serde_json::to_vec(input).map_err(AppError::internal)?);
    Ok(hash.finalize().into())
}

/// The answer a front end gave for an outcome, stored under the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// How a front end answers an outcome; stored with the key so that a replay gets exactly
/// the first answer.
pub type Render<T> = fn(&T) -> Result<Answer, AppError>;

/// An answer, and whether it is a replay of one given before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub answer: Answer,
    pub replayed: bool,
}

/// What a key came to.
#[derive(Debug)]
pub enum Lookup {
    /// This request holds the key: do the work, then `finish` in its transaction.
    Claimed(Claim),
    /// An earlier request with this key answered: answer as it did.
    Done(Stored),
}

/// A key held by the running request.
#[derive(Clone, Debug)]
pub struct Claim {
    merchant: MerchantId,
    key: IdempotencyKey,
}

/// The first answer given under a key.
#[derive(Debug)]
pub struct Stored {
    request_sha256: Vec<u8>,
    answer: Answer,
}

/// Claims `key` for this merchant; a conflict while another request holds it.
pub async fn claim(
    pool: &Pool,
    merchant: MerchantId,
    key: &IdempotencyKey,
) -> Result<Lookup, AppError> {
    let client = pool.get().await?;
    if idempotency_keys::claim(&client, merchant, key.as_str(), ABANDONED_AFTER).await? {
        return Ok(Lookup::Claimed(Claim {
            merchant,
            key: key.clone(),
        }));
    }
    let stored = idempotency_keys::read(&client, merchant, key.as_str())
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "idempotency-key-in-use",
                "this Idempotency-Key was just released; retry",
            )
        })?;
    let Some((status, body)) = stored.answer else {
        return Err(AppError::conflict(
            "idempotency-key-in-use",
            "a request with this Idempotency-Key is still being processed; retry once it has answered",
        ));
    };
    Ok(Lookup::Done(Stored {
        request_sha256: stored.request_sha256,
        answer: Answer { status, body },
    }))
}

impl Claim {
    /// Stores the answer in the transaction that made what it describes.
    pub async fn finish(
        &self,
        client: &impl deadpool_postgres::GenericClient,
        request_sha256: &[u8; 32],
        answer: &Answer,
    ) -> Result<(), AppError> {
        finish_all(client, &[(self, request_sha256, answer)]).await
    }

    /// Gives the key back after a failure, so a retry runs afresh.
    pub async fn release(self, pool: &Pool) {
        let released = async {
            let client = pool.get().await?;
            idempotency_keys::release(&client, self.merchant, self.key.as_str()).await?;
            Ok::<_, AppError>(())
        };
        if let Err(error) = released.await {
            tracing::warn!(%error, "an idempotency key could not be released; it frees itself in minutes");
        }
    }
}

/// Stores the answers of requests written together (single payouts in one group), in the
/// transaction that made what they describe.
pub async fn finish_all(
    client: &impl deadpool_postgres::GenericClient,
    answers: &[(&Claim, &[u8; 32], &Answer)],
) -> Result<(), AppError> {
    let rows: Vec<KeyAnswer<'_>> = answers
        .iter()
        .map(|(claim, request_sha256, answer)| KeyAnswer {
            merchant: claim.merchant,
            key: claim.key.as_str(),
            request_sha256,
            status: answer.status,
            body: &answer.body,
        })
        .collect();
    Ok(idempotency_keys::finish_all(client, &rows).await?)
}

impl Stored {
    /// The first answer again, if this request is the same as the first; refused otherwise.
    pub fn replay(self, request_sha256: &[u8; 32]) -> Result<Answered, AppError> {
        if self.request_sha256 != request_sha256 {
            return Err(AppError::Invalid {
                detail: "this Idempotency-Key was used with a different request; use a new key for a new request".into(),
                errors: Vec::new(),
            });
        }
        Ok(Answered {
            answer: self.answer,
            replayed: true,
        })
    }
}

/// Runs `work` once per key, in a transaction that also stores its answer (`render` of its
/// outcome). Without a key (where one is optional) the work simply runs in a transaction.
pub async fn once<T>(
    pool: &Pool,
    merchant: MerchantId,
    key: Option<&IdempotencyKey>,
    request_sha256: [u8; 32],
    render: Render<T>,
    work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, AppError>,
) -> Result<(Option<T>, Answered), AppError> {
    let claim = match key {
        None => None,
        Some(key) => match claim(pool, merchant, key).await? {
            Lookup::Done(stored) => return Ok((None, stored.replay(&request_sha256)?)),
            Lookup::Claimed(claim) => Some(claim),
        },
    };
    let outcome = async {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let outcome = work(&tx).await?;
        let answer = render(&outcome)?;
        if let Some(claim) = &claim {
            claim.finish(&tx, &request_sha256, &answer).await?;
        }
        tx.commit().await?;
        Ok::<_, AppError>((outcome, answer))
    }
    .await;
    match outcome {
        Ok((outcome, answer)) => Ok((
            Some(outcome),
            Answered {
                answer,
                replayed: false,
            },
        )),
        Err(error) => {
            if let Some(claim) = claim {
                claim.release(pool).await;
            }
            Err(error)
        }
    }
}

/// Keys deleted per statement when sweeping.
const SWEEP_ROWS: i64 = 10_000;

/// Deletes every key past its 24 hours, a slice at a time; returns how many went.
pub async fn sweep_expired(pool: &Pool) -> Result<u64, AppError> {
    let client = pool.get().await?;
    let mut deleted = 0;
    loop {
        let slice = idempotency_keys::sweep_expired(&client, SWEEP_ROWS).await?;
        deleted += slice;
        if slice < SWEEP_ROWS.unsigned_abs() {
            return Ok(deleted);
        }
    }
}
