//! Webhooks in the store: a merchant's endpoint and signing secret (columns of `merchants`,
//! with the secret a rotation replaced and until when it still signs events), and the
//! `webhook_events` outbox the database's triggers write: listed and read by the merchant,
//! queued again to resend, claimed by a deliverer with a lease (`FOR UPDATE SKIP LOCKED`,
//! so nodes share the work), and marked delivered, failed (retried later or for good) or
//! stopped.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::StoreError;
use crate::ids::MerchantId;

/// A merchant's endpoint and the secret its events are signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub secret: String,
    /// When the secret was made (unknown only for one written outside Payrail).
    pub secret_created_at: Option<Timestamp>,
    /// Until when the secret the current one replaced still signs events too, while it
    /// does (a rotation's overlap).
    pub previous_secret_expires_at: Option<Timestamp>,
}

/// One event of the outbox and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEvent {
    pub id: Uuid,
    /// `batch.<state>`, `payout.<state>`, `collection.<state>` or `ltgs.payment_status`.
    pub event_type: String,
    /// Where it goes when not to the merchant's endpoint: a collection's Callback_URL.
    pub url: Option<String>,
    pub payload: Value,
    /// `pending`, `delivered`, `failed` or `stopped`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Timestamp,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// The columns an `Endpoint` is read from; the previous secret's end only while it lasts.
const ENDPOINT_COLUMNS: &str = "webhook_url, webhook_secret, webhook_secret_created_at,
    CASE WHEN webhook_previous_until > now() THEN webhook_previous_until END";

fn endpoint_of(row: &Row) -> Result<Option<Endpoint>, StoreError> {
    let (url, secret): (Option<String>, Option<String>) = (row.try_get(0)?, row.try_get(1)?);
    let (secret_created_at, previous_secret_expires_at) = (row.try_get(2)?, row.try_get(3)?);
    Ok(url.zip(secret).map(|(url, secret)| Endpoint {
        url,
        secret,
        secret_created_at,
        previous_secret_expires_at,
    }))
}

/// Sets the merchant's endpoint; `new_secret` becomes its secret unless it has one.
pub async fn set_endpoint(
    client: &impl GenericClient,
    merchant: MerchantId,
    url: &str,
    new_secret: &str,
) -> Result<Endpoint, StoreError> {
    let sql = format!(
        "UPDATE merchants
            SET webhook_url = $2,
                webhook_secret_created_at = CASE WHEN webhook_secret IS NULL THEN now()
                                                 ELSE webhook_secret_created_at END,
                webhook_secret = COALESCE(webhook_secret, $3)
          WHERE id = $1
      RETURNING {ENDPOINT_COLUMNS}"
    );
    let row = client
        .query_opt(&sql, &[&merchant, &url, &new_secret])
        .await?
        .ok_or(StoreError::NotFound { what: "merchant" })?;
    endpoint_of(&row)?.ok_or(StoreError::NotFound {
        what: "webhook endpoint",
    })
}

/// The merchant's endpoint, if one is set.
pub async fn endpoint(
    client: &impl GenericClient,
    merchant: MerchantId,
) -> Result<Option<Endpoint>, StoreError> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM merchants WHERE id = $1");
    let row = client
        .query_opt(&sql, &[&merchant])
        .await?
        .ok_or(StoreError::NotFound { what: "merchant" })?;
    endpoint_of(&row)
}

/// Rotates the signing secret of a set endpoint: `$2` becomes current, made now, and the
/// secret it replaces stays valid `$3` seconds more. (`SET` reads the row as it was, so
/// the previous secret is the one replaced.)
const ROTATE_SECRET: &str = "
    UPDATE merchants
       SET webhook_previous_secret = webhook_secret,
           webhook_previous_until = now() + make_interval(secs => $3::float8),
           webhook_secret = $2,
           webhook_secret_created_at = now()
     WHERE id = $1 AND webhook_url IS NOT NULL AND webhook_secret IS NOT NULL";

/// Makes `new_secret` the endpoint's secret; the one it replaces keeps signing events too
/// for `overlap_seconds`. `None` when the merchant has no endpoint.
pub async fn rotate_secret(
    client: &impl GenericClient,
    merchant: MerchantId,
    new_secret: &str,
    overlap_seconds: f64,
) -> Result<Option<Endpoint>, StoreError> {
    let sql = format!("{ROTATE_SECRET} RETURNING {ENDPOINT_COLUMNS}");
    match client
        .query_opt(&sql, &[&merchant, &new_secret, &overlap_seconds])
        .await?
    {
        Some(row) => endpoint_of(&row),
        None => Ok(None),
    }
}

const REMOVE_ENDPOINT: &str =
    "UPDATE merchants SET webhook_url = NULL WHERE id = $1 AND webhook_url IS NOT NULL";

/// Removes the merchant's endpoint (its secret stays); `false` if none was set.
pub async fn remove_endpoint(
    client: &impl GenericClient,
    merchant: MerchantId,
) -> Result<bool, StoreError> {
    Ok(client.execute(REMOVE_ENDPOINT, &[&merchant]).await? > 0)
}

const EVENT_COLUMNS: &str = "id, event_type, url, payload, state, attempts, next_attempt_at,
    last_status, last_error, created_at, delivered_at";

fn event_of(row: &Row) -> Result<WebhookEvent, StoreError> {
    Ok(WebhookEvent {
        id: row.try_get(0)?,
        event_type: row.try_get(1)?,
        url: row.try_get(2)?,
        payload: row.try_get(3)?,
        state: row.try_get(4)?,
        attempts: row.try_get(5)?,
        next_attempt_at: row.try_get(6)?,
        last_status: row.try_get(7)?,
        last_error: row.try_get(8)?,
        created_at: row.try_get(9)?,
        delivered_at: row.try_get(10)?,
    })
}

/// Up to `limit` of the merchant's events after `after` (creation time and id), oldest
/// first, optionally in one state.
pub async fn events(
    client: &impl GenericClient,
    merchant: MerchantId,
    state: Option<&str>,
    after: Option<(Timestamp, Uuid)>,
    limit: i64,
) -> Result<Vec<WebhookEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM webhook_events
          WHERE merchant_id = $1
            AND ($2::text IS NULL OR state = $2)
            AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
          ORDER BY created_at, id
          LIMIT $5"
    );
    let (after_time, after_id) = after.unzip();
    let rows = client
        .query(&sql, &[&merchant, &state, &after_time, &after_id, &limit])
        .await?;
    rows.iter().map(event_of).collect()
}

/// The merchant's `limit` latest events, newest first.
pub async fn latest_events(
    client: &impl GenericClient,
    merchant: MerchantId,
    limit: i64,
) -> Result<Vec<WebhookEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM webhook_events
          WHERE merchant_id = $1
          ORDER BY created_at DESC, id DESC
          LIMIT $2"
    );
    let rows = client.query(&sql, &[&merchant, &limit]).await?;
    rows.iter().map(event_of).collect()
}

/// One of the merchant's events.
pub async fn event(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: Uuid,
) -> Result<WebhookEvent, StoreError> {
    let sql =
        format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE merchant_id = $1 AND id = $2");
    let row = client
        .query_opt(&sql, &[&merchant, &id])
        .await?
        .ok_or(StoreError::NotFound {
            what: "webhook event",
        })?;
    event_of(&row)
}

/// Whether the event has somewhere to go: its own URL or the merchant's endpoint.
const HAS_DESTINATION: &str = "
    SELECT e.url IS NOT NULL OR m.webhook_url IS NOT NULL
      FROM webhook_events e JOIN merchants m ON m.id = e.merchant_id
     WHERE e.merchant_id = $1 AND e.id = $2";

/// Whether the merchant's event has somewhere to go; `NotFound` if there is no such event.
pub async fn has_destination(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: Uuid,
) -> Result<bool, StoreError> {
    let row = client
        .query_opt(HAS_DESTINATION, &[&merchant, &id])
        .await?
        .ok_or(StoreError::NotFound {
            what: "webhook event",
        })?;
    Ok(row.try_get(0)?)
}

/// Queues one of the merchant's events to be sent now; returns it.
pub async fn requeue(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: Uuid,
) -> Result<WebhookEvent, StoreError> {
    let sql = format!(
        "UPDATE webhook_events SET state = 'pending', next_attempt_at = now()
          WHERE merchant_id = $1 AND id = $2
      RETURNING {EVENT_COLUMNS}"
    );
    let row = client
        .query_opt(&sql, &[&merchant, &id])
        .await?
        .ok_or(StoreError::NotFound {
            what: "webhook event",
        })?;
    event_of(&row)
}

/// A claimed event, with where and how to send it.
#[derive(Clone, Debug, PartialEq)]
pub struct DueEvent {
    pub id: Uuid,
    pub merchant: MerchantId,
    /// Its own URL, else the merchant's endpoint; `None` when it has neither.
    pub url: Option<String>,
    pub secret: Option<String>,
    /// The secret `secret` replaced, while its overlap lasts: events are signed with both.
    pub previous_secret: Option<String>,
    pub payload: Value,
    /// Tries made before this one.
    pub attempts: i32,
}

/// Claims due events: their next attempt moves a lease ahead, well past a request's
/// timeout, so no other node takes them meanwhile.
const CLAIM_DUE: &str = "
    UPDATE webhook_events e
       SET next_attempt_at = now() + interval '1 minute'
      FROM merchants m
     WHERE m.id = e.merchant_id
       AND e.id = ANY(ARRAY(SELECT id FROM webhook_events
                             WHERE state = 'pending' AND next_attempt_at <= now()
                             ORDER BY next_attempt_at
                             LIMIT $1
                             FOR UPDATE SKIP LOCKED))
 RETURNING e.id, e.url, m.webhook_url, m.webhook_secret, e.payload, e.attempts,
           CASE WHEN m.webhook_previous_until > now() THEN m.webhook_previous_secret END,
           e.merchant_id";

/// Claims up to `limit` due events for a minute.
pub async fn claim_due(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<DueEvent>, StoreError> {
    let rows = client.query(CLAIM_DUE, &[&limit]).await?;
    rows.iter()
        .map(|row| {
            Ok(DueEvent {
                id: row.try_get(0)?,
                merchant: row.try_get(7)?,
                url: row.try_get::<_, Option<String>>(1)?.or(row.try_get(2)?),
                secret: row.try_get(3)?,
                previous_secret: row.try_get(6)?,
                payload: row.try_get(4)?,
                attempts: row.try_get(5)?,
            })
        })
        .collect()
}

const DELIVERED: &str = "
    UPDATE webhook_events
       SET state = 'delivered', attempts = attempts + 1, last_status = $2, last_error = NULL,
           delivered_at = now()
     WHERE id = $1 AND merchant_id = $3";

/// The event was delivered with `status`.
pub async fn delivered(
    client: &impl GenericClient,
    event: &DueEvent,
    status: i32,
) -> Result<(), StoreError> {
    client
        .execute(DELIVERED, &[&event.id, &status, &event.merchant])
        .await?;
    Ok(())
}

/// A failed try: retried after `$4` seconds, or failed for good when `$4` is NULL.
const FAILED: &str = "
    UPDATE webhook_events
       SET attempts = attempts + 1, last_status = $2, last_error = $3,
           state = CASE WHEN $4::float8 IS NULL THEN 'failed' ELSE 'pending' END,
           next_attempt_at = COALESCE(now() + make_interval(secs => $4::float8), next_attempt_at)
     WHERE id = $1 AND merchant_id = $5";

/// A try failed: tried again after `retry_in_seconds`, or failed for good without one.
pub async fn failed(
    client: &impl GenericClient,
    event: &DueEvent,
    status: Option<i32>,
    error: &str,
    retry_in_seconds: Option<u32>,
) -> Result<(), StoreError> {
    let retry_in = retry_in_seconds.map(f64::from);
    client
        .execute(
            FAILED,
            &[&event.id, &status, &error, &retry_in, &event.merchant],
        )
        .await?;
    Ok(())
}

/// Not to be tried again: `$2` says whether this try counts (410) or none was made.
const STOPPED: &str = "
    UPDATE webhook_events
       SET state = 'stopped', attempts = attempts + $2, last_status = $3, last_error = $4
     WHERE id = $1 AND merchant_id = $5";

/// The event is not to be tried again; `tried` says whether a try was made.
pub async fn stopped(
    client: &impl GenericClient,
    event: &DueEvent,
    tried: bool,
    status: Option<i32>,
    reason: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            STOPPED,
            &[
                &event.id,
                &i32::from(tried),
                &status,
                &reason,
                &event.merchant,
            ],
        )
        .await?;
    Ok(())
}

const BACKLOG: &str = "SELECT count(*) FROM webhook_events WHERE state = 'pending'";

/// Events waiting to be delivered, across merchants.
pub async fn backlog(client: &impl GenericClient) -> Result<i64, StoreError> {
    Ok(client.query_one(BACKLOG, &[]).await?.try_get(0)?)
}
