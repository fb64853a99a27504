//! Idempotency keys: a use case that creates or moves something runs once per key and
//! merchant. The key is claimed before the work starts (a second request while the first
//! runs is a conflict), and the answer the front end gives for the outcome is stored in the
//! same transaction as what the work created, for 24 hours: a replay gets that answer
//! again, and the same key with another request is refused. A request that fails before it
//! commits gives its key back. Single payouts, the hot path, do not claim first: their
//! keys and answers are inserted in the transaction that writes them (`store_answers`),
//! and a key found held there is answered from its stored row.

use std::collections::HashSet;
use std::sync::Mutex;

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
    Ok(Lookup::Done(held(&client, merchant, key).await?))
}

/// The answer stored under a key another request holds: a conflict while it runs.
pub async fn stored(
    pool: &Pool,
    merchant: MerchantId,
    key: &IdempotencyKey,
) -> Result<Stored, AppError> {
    held(&pool.get().await?, merchant, key).await
}

async fn held(
    client: &impl deadpool_postgres::GenericClient,
    merchant: MerchantId,
    key: &IdempotencyKey,
) -> Result<Stored, AppError> {
    let stored = idempotency_keys::read(client, merchant, key.as_str())
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "idempotency-key-in-use",
                "this Idempotency-Key was just released; retry",
            )
        })?;
    let Some((status, body)) = stored.answer else {
        return Err(in_use());
    };
    Ok(Stored {
        request_sha256: stored.request_sha256,
        answer: Answer { status, body },
    })
}

/// The refusal of a request whose key another request still holds.
pub fn in_use() -> AppError {
    AppError::conflict(
        "idempotency-key-in-use",
        "a request with this Idempotency-Key is still being processed; retry once it has answered",
    )
}

impl Claim {
    /// The key of a request whose transaction stored it with its answer (`store_answers`).
    pub fn stored_with_answer(merchant: MerchantId, key: IdempotencyKey) -> Claim {
        Claim { merchant, key }
    }

    /// Stores the answer in the transaction that made what it describes.
    pub async fn finish(
        &self,
        client: &impl deadpool_postgres::GenericClient,
        request_sha256: &[u8; 32],
        answer: &Answer,
    ) -> Result<(), AppError> {
        let row = KeyAnswer {
            merchant: self.merchant,
            key: self.key.as_str(),
            request_sha256,
            status: answer.status,
            body: &answer.body,
        };
        Ok(idempotency_keys::finish_all(client, &[row]).await?)
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

/// The keys of requests this node is running now, so that a second request with one of
/// them is refused at once (a request on another node finds the key stored instead).
#[derive(Debug, Default)]
pub struct KeysInFlight(Mutex<HashSet<(MerchantId, String)>>);

/// A key held in `KeysInFlight` until it is dropped.
#[derive(Debug)]
pub struct InFlight<'a> {
    keys: &'a KeysInFlight,
    held: (MerchantId, String),
}

impl KeysInFlight {
    /// Holds the key, or refuses (409) while another request of this node holds it.
    pub fn hold(
        &self,
        merchant: MerchantId,
        key: &IdempotencyKey,
    ) -> Result<InFlight<'_>, AppError> {
        let held = (merchant, key.as_str().to_owned());
        let mut keys = self
            .0
            .lock()
            .map_err(|_| AppError::internal("the key set is poisoned"))?;
        if !keys.insert(held.clone()) {
            return Err(in_use());
        }
        Ok(InFlight { keys: self, held })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut keys) = self.keys.0.lock() {
            keys.remove(&self.held);
        }
    }
}

/// An answer to store under a key no request holds yet.
#[derive(Debug)]
pub struct NewAnswer<'a> {
    pub merchant: MerchantId,
    pub key: &'a IdempotencyKey,
    pub request_sha256: &'a [u8; 32],
    pub answer: &'a Answer,
}

/// Stores the answers of requests written together (single payouts in one group) under
/// their keys, in the transaction that made what they describe, without claiming the keys
/// first. Returns, for each, whether its key was held by another request (the caller then
/// rolls back what that request would have made). The keys must be distinct.
pub async fn store_answers(
    client: &impl deadpool_postgres::GenericClient,
    answers: &[NewAnswer<'_>],
) -> Result<Vec<bool>, AppError> {
    let rows: Vec<KeyAnswer<'_>> = answers
        .iter()
        .map(|new| KeyAnswer {
            merchant: new.merchant,
            key: new.key.as_str(),
            request_sha256: new.request_sha256,
            status: new.answer.status,
            body: &new.answer.body,
        })
        .collect();
    let stored: HashSet<String> = idempotency_keys::store_answers(client, &rows, ABANDONED_AFTER)
        .await?
        .into_iter()
        .collect();
    Ok(answers
        .iter()
        .map(|new| !stored.contains(new.key.as_str()))
        .collect())
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
