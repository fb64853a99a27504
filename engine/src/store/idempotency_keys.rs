//! Idempotency-Key records: a key is claimed by inserting its row (the insert commits at
//! once, so a second request with the key finds it), and the answer is written into the
//! row in the transaction that made what it describes. A row whose answer is still empty
//! belongs to a request in progress. Single payouts skip the claim: their keys are
//! inserted with their answers in the transaction that writes them (`store_answers`).

use deadpool_postgres::GenericClient;
use serde_json::Value;

use super::StoreError;
use crate::ids::MerchantId;

/// A key's row as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub request_sha256: Vec<u8>,
    /// `None` while the request that claimed the key is still running.
    pub answer: Option<(u16, Value)>,
}

/// One answer to store under its key.
#[derive(Debug)]
pub struct KeyAnswer<'a> {
    pub merchant: MerchantId,
    pub key: &'a str,
    pub request_sha256: &'a [u8; 32],
    pub status: u16,
    pub body: &'a Value,
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

/// Claims `key`: first removes it if it expired or its request was abandoned longer than
/// `abandoned_after` (an interval such as "5 minutes") ago, then inserts it. `true` when
/// this call holds the key now.
pub async fn claim(
    client: &impl GenericClient,
    merchant: MerchantId,
    key: &str,
    abandoned_after: &str,
) -> Result<bool, StoreError> {
    let release = client.prepare_cached(RELEASE_STALE).await?;
    client
        .execute(&release, &[&merchant, &key, &abandoned_after])
        .await?;
    let unset = [0_u8; 32].to_vec();
    let insert = client.prepare_cached(CLAIM).await?;
    Ok(client
        .query_opt(&insert, &[&merchant, &key, &unset])
        .await?
        .is_some())
}

/// The key's row, if there is one.
pub async fn read(
    client: &impl GenericClient,
    merchant: MerchantId,
    key: &str,
) -> Result<Option<StoredKey>, StoreError> {
    let Some(row) = client.query_opt(READ, &[&merchant, &key]).await? else {
        return Ok(None);
    };
    let status: Option<i32> = row.try_get(1)?;
    let answer = match status {
        None => None,
        Some(status) => Some((
            u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?,
            row.try_get(2)?,
        )),
    };
    Ok(Some(StoredKey {
        request_sha256: row.try_get(0)?,
        answer,
    }))
}

const RELEASE: &str = "
    DELETE FROM idempotency_keys
     WHERE merchant_id = $1 AND key = $2 AND response_status IS NULL";

/// Gives back a key whose request failed before it answered.
pub async fn release(
    client: &impl GenericClient,
    merchant: MerchantId,
    key: &str,
) -> Result<(), StoreError> {
    client.execute(RELEASE, &[&merchant, &key]).await?;
    Ok(())
}

const FINISH_ALL: &str = "
    UPDATE idempotency_keys AS k
       SET request_sha256 = a.request_sha256, response_status = a.status, response_body = a.body
      FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::int[], $5::jsonb[])
           AS a (merchant_id, key, request_sha256, status, body)
     WHERE k.merchant_id = a.merchant_id AND k.key = a.key";

// A key whose row expired, or whose request was abandoned, is taken over as `claim` does.
const STORE_ANSWERS: &str = "
    INSERT INTO idempotency_keys AS k (merchant_id, key, request_sha256, response_status,
                                       response_body)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::int[], $5::jsonb[])
    ON CONFLICT (merchant_id, key) DO UPDATE
       SET request_sha256 = excluded.request_sha256, response_status = excluded.response_status,
           response_body = excluded.response_body, created_at = now(),
           expires_at = now() + interval '24 hours'
     WHERE k.expires_at < now()
        OR (k.response_status IS NULL AND k.created_at < now() - $6::text::interval)
    RETURNING key";

/// Inserts keys that no request holds yet, each with its answer, in one statement; returns
/// the keys stored. A key missing from them is held by another request (answered or not).
/// The keys must be distinct.
pub async fn store_answers(
    client: &impl GenericClient,
    answers: &[KeyAnswer<'_>],
    abandoned_after: &str,
) -> Result<Vec<String>, StoreError> {
    let columns = AnswerColumns::of(answers);
    let statement = client.prepare_cached(STORE_ANSWERS).await?;
    let rows = client
        .query(
            &statement,
            &[
                &columns.merchants,
                &columns.keys,
                &columns.hashes,
                &columns.statuses,
                &columns.bodies,
                &abandoned_after,
            ],
        )
        .await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

/// Answers as the arrays a statement takes.
struct AnswerColumns<'a> {
    merchants: Vec<MerchantId>,
    keys: Vec<&'a str>,
    hashes: Vec<&'a [u8]>,
    statuses: Vec<i32>,
    bodies: Vec<&'a Value>,
}

impl<'a> AnswerColumns<'a> {
    fn of(answers: &[KeyAnswer<'a>]) -> AnswerColumns<'a> {
        AnswerColumns {
            merchants: answers.iter().map(|a| a.merchant).collect(),
            keys: answers.iter().map(|a| a.key).collect(),
            hashes: answers
                .iter()
                .map(|a| a.request_sha256.as_slice())
                .collect(),
            statuses: answers.iter().map(|a| i32::from(a.status)).collect(),
            bodies: answers.iter().map(|a| a.body).collect(),
        }
    }
}

/// Stores the answers of requests written together, in one statement.
pub async fn finish_all(
    client: &impl GenericClient,
    answers: &[KeyAnswer<'_>],
) -> Result<(), StoreError> {
    let columns = AnswerColumns::of(answers);
    let statement = client.prepare_cached(FINISH_ALL).await?;
    client
        .execute(
            &statement,
            &[
                &columns.merchants,
                &columns.keys,
                &columns.hashes,
                &columns.statuses,
                &columns.bodies,
            ],
        )
        .await?;
    Ok(())
}

/// By key, not by `ctid`, which is not unique across shards (docs/cluster.md).
const SWEEP: &str = "
    DELETE FROM idempotency_keys
     WHERE (merchant_id, key) IN
           (SELECT merchant_id, key FROM idempotency_keys WHERE expires_at < now() LIMIT $1)";

/// Deletes up to `rows` keys past their expiry; returns how many went.
pub async fn sweep_expired(client: &impl GenericClient, rows: i64) -> Result<u64, StoreError> {
    Ok(client.execute(SWEEP, &[&rows]).await?)
}
