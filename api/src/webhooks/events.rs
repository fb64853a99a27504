//! `/v1/webhooks`: the merchant's webhook events, oldest first, what became of each, and
//! `resend` to send one again (with the same `webhook-id`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use payrail_engine::api_key::Role;
use payrail_engine::ids::MerchantId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::signing;
use crate::AppState;
use crate::extract::Caller;
use crate::idempotency::{self, KeyRule};
use crate::pagination::{Page, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;

/// The states an event can be in.
/// The states an event can be in.
pub const STATES: [&str; 4] = ["pending", "delivered", "failed", "stopped"];

/// One event and what became of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookEvent {
    pub id: Uuid,
    /// The `webhook-id` header it is sent with, on every try.
    #[schema(example = "msg_0b8e4d1c-5f2a-4c3e-9d7b-1a2b3c4d5e6f")]
    pub webhook_id: String,
    /// `batch.<state>`, `payout.<state>`, `collection.<state>` or `ltgs.payment_status`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Where it goes when not to the merchant's endpoint: a collection's Callback_URL.
    pub url: Option<String>,
    /// The body sent.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `pending`, `delivered`, `failed` (every retry failed) or `stopped` (410 Gone, or no
    /// endpoint any more).
    pub state: String,
    /// Tries made so far.
    pub attempts: i32,
    /// When the next try is due, while `pending`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last try, when it got an answer.
    pub last_status: Option<i32>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
}

impl WebhookEvent {
    fn from_row(row: &Row) -> WebhookEvent {
        let id: Uuid = row.get(0);
        let state: String = row.get(4);
        let next_attempt_at = (state == "pending").then(|| row.get(6));
        WebhookEvent {
            id,
            webhook_id: signing::message_id(id),
            event_type: row.get(1),
            url: row.get(2),
            payload: row.get(3),
            state,
            attempts: row.get(5),
            next_attempt_at,
            last_status: row.get(7),
            last_error: row.get(8),
            created_at: row.get(9),
            delivered_at: row.get(10),
        }
    }
}

/// A list's own filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// Only events in this state: `pending`, `delivered`, `failed` or `stopped`.
    pub state: Option<String>,
}

const LIST: &str = "
    SELECT id, event_type, url, payload, state, attempts, next_attempt_at, last_status,
           last_error, created_at, delivered_at
      FROM webhook_events
     WHERE merchant_id = $1
       AND ($2::text IS NULL OR state = $2)
       AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
     ORDER BY created_at, id
     LIMIT $5";

const GET: &str = "
    SELECT id, event_type, url, payload, state, attempts, next_attempt_at, last_status,
           last_error, created_at, delivered_at
      FROM webhook_events
     WHERE merchant_id = $1 AND id = $2";

/// Whether the event has somewhere to go: its own URL or the merchant's endpoint.
const HAS_DESTINATION: &str = "
    SELECT e.url IS NOT NULL OR m.webhook_url IS NOT NULL
      FROM webhook_events e JOIN merchants m ON m.id = e.merchant_id
     WHERE e.merchant_id = $1 AND e.id = $2";

const RESEND: &str = "
    UPDATE webhook_events SET state = 'pending', next_attempt_at = now()
     WHERE merchant_id = $1 AND id = $2
 RETURNING id, event_type, url, payload, state, attempts, next_attempt_at, last_status,
           last_error, created_at, delivered_at";

/// The merchant's webhook events, oldest first.
#[utoipa::path(get, path = "/v1/webhooks", operation_id = "list_webhook_events", tag = "webhooks", params(PageQuery, EventFilter),
    responses(
        (status = 200, description = "A page of events", body = Page<WebhookEvent>),
        (status = 422, description = "A bad limit, cursor or state")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> Result<Json<Page<WebhookEvent>>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let limit = PageQuery {
        cursor: None,
        ..page.clone()
    }
    .bounds()?
    .limit;
    let after = page.cursor.as_deref().map(decode_cursor).transpose()?;
    if let Some(wanted) = &filter.state
        && !STATES.contains(&wanted.as_str())
    {
        return Err(ApiError::invalid_field(
            "state",
            format!("must be one of {}", STATES.join(", ")),
        ));
    }
    let (after_time, after_id) = after.unzip();
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let rows = client
        .query(
            LIST,
            &[
                &caller.merchant,
                &filter.state,
                &after_time,
                &after_id,
                &(limit + 1),
            ],
        )
        .await
        .map_err(ApiError::internal)?;
    let mut data: Vec<WebhookEvent> = rows.iter().map(WebhookEvent::from_row).collect();
    let more = data.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    data.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = data
        .last()
        .filter(|_| more)
        .map(|last| encode_cursor(last.created_at, last.id));
    Ok(Json(Page { data, next_cursor }))
}

/// One event.
#[utoipa::path(get, path = "/v1/webhooks/{id}", operation_id = "get_webhook_event", tag = "webhooks",
    params(("id" = String, Path, description = "The event's id (or its `webhook-id`)")),
    responses(
        (status = 200, description = "The event and its delivery", body = WebhookEvent),
        (status = 404, description = "No such event")))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookEvent>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let id = event_id(&id)?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let row = client
        .query_opt(GET, &[&caller.merchant, &id])
        .await
        .map_err(ApiError::internal)?
        .ok_or(NO_SUCH_EVENT)?;
    Ok(Json(WebhookEvent::from_row(&row)))
}

/// Sends an event again, now, with the same `webhook-id`.
///
/// Its `attempts` keep counting: a resend is one more try, and retries follow it only
/// while the retry schedule has turns left for that many attempts.
#[utoipa::path(post, path = "/v1/webhooks/{id}/resend", operation_id = "resend_webhook_event", tag = "webhooks",
    params(
        ("id" = String, Path, description = "The event's id (or its `webhook-id`)"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retried request resend once")),
    responses(
        (status = 202, description = "Queued to be sent now", body = WebhookEvent),
        (status = 404, description = "No such event"),
        (status = 409, description = "The merchant has no webhook endpoint to send it to")))]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Maker])?;
    let id = event_id(&id)?;
    let key = idempotency::key_of(&headers, KeyRule::Optional)?;
    let fingerprint = idempotency::fingerprint(&format!("POST /v1/webhooks/{id}/resend"), &())?;
    let merchant = caller.merchant;
    idempotency::once(&state.pool, merchant, key, fingerprint, async move |tx| {
        requeue(tx, merchant, id).await
    })
    .await
}

async fn requeue(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: Uuid,
) -> Result<(StatusCode, Value), ApiError> {
    let destination = client
        .query_opt(HAS_DESTINATION, &[&merchant, &id])
        .await
        .map_err(ApiError::internal)?
        .ok_or(NO_SUCH_EVENT)?;
    if !destination.get::<_, bool>(0) {
        return Err(ApiError::conflict(
            "no-webhook-endpoint",
            "there is no webhook endpoint to send this event to: set one with PUT /v1/webhook-endpoint",
        ));
    }
    let row = client
        .query_one(RESEND, &[&merchant, &id])
        .await
        .map_err(ApiError::internal)?;
    let event = serde_json::to_value(WebhookEvent::from_row(&row)).map_err(ApiError::internal)?;
    Ok((StatusCode::ACCEPTED, event))
}

const NO_SUCH_EVENT: ApiError = ApiError::NotFound("no such webhook event");

/// An event named by its id or by its `webhook-id` (`msg_<id>`).
fn event_id(text: &str) -> Result<Uuid, ApiError> {
    let text = text.strip_prefix("msg_").unwrap_or(text);
    Uuid::parse_str(text).map_err(|_| NO_SUCH_EVENT)
}

/// A cursor: the last event's creation time (microseconds) and id, which order events.
fn encode_cursor(created_at: Timestamp, id: Uuid) -> String {
    let mut bytes = created_at.as_microsecond().to_be_bytes().to_vec();
    bytes.extend_from_slice(id.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_cursor(cursor: &str) -> Result<(Timestamp, Uuid), ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .filter(|bytes| bytes.len() == 24)
        .and_then(|bytes| {
            let (time, id) = bytes.split_at(8);
            let micros = i64::from_be_bytes(time.try_into().ok()?);
            Some((
                Timestamp::from_microsecond(micros).ok()?,
                Uuid::from_slice(id).ok()?,
            ))
        })
        .ok_or_else(|| {
            ApiError::invalid_field(
                "cursor",
                "not a cursor this API gave out; start again without it",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_a_forged_one_is_refused() {
        let at = Timestamp::from_microsecond(1_700_000_000_123_456).expect("a time");
        let id = Uuid::new_v4();
        let cursor = encode_cursor(at, id);
        assert_eq!(decode_cursor(&cursor).expect("ours"), (at, id));
        assert!(decode_cursor("not-ours").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode(id.as_bytes())).is_err());
    }

    #[test]
    fn an_event_is_named_by_its_id_or_its_webhook_id() {
        let id = Uuid::new_v4();
        assert_eq!(event_id(&id.to_string()).expect("an id"), id);
        assert_eq!(
            event_id(&signing::message_id(id)).expect("a webhook id"),
            id
        );
        assert!(event_id("nope").is_err());
    }
}
