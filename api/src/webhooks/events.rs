//! `/v1/webhooks`: the merchant's webhook events, oldest first, what became of each, and
//! `resend` to send one again (with the same `webhook-id`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use payrail_engine::app::AppError;
use payrail_engine::app::idempotency::Answer;
use payrail_engine::app::webhooks::{self, WebhookEvent as StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::AppState;
use crate::extract::Authenticated;
use crate::idempotency::{self, KeyRule};
use crate::pagination::{Page, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;

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

impl From<StoredEvent> for WebhookEvent {
    fn from(event: StoredEvent) -> WebhookEvent {
        let next_attempt_at = (event.state == "pending").then_some(event.next_attempt_at);
        WebhookEvent {
            id: event.id,
            webhook_id: webhooks::message_id(event.id),
            event_type: event.event_type,
            url: event.url,
            payload: event.payload,
            state: event.state,
            attempts: event.attempts,
            next_attempt_at,
            last_status: event.last_status,
            last_error: event.last_error,
            created_at: event.created_at,
            delivered_at: event.delivered_at,
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

/// The merchant's webhook events, oldest first.
#[utoipa::path(get, path = "/v1/webhooks", operation_id = "list_webhook_events", tag = "webhooks", params(PageQuery, EventFilter),
    responses(
        (status = 200, description = "A page of events", body = Page<WebhookEvent>),
        (status = 422, description = "A bad limit, cursor or state")))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> Result<Json<Page<WebhookEvent>>, ApiError> {
    let limit = PageQuery {
        cursor: None,
        ..page.clone()
    }
    .bounds()?
    .limit;
    let after = page.cursor.as_deref().map(decode_cursor).transpose()?;
    let events = state
        .app
        .webhook_events(&caller, filter.state.as_deref(), after, limit + 1)
        .await?;
    let mut data: Vec<WebhookEvent> = events.into_iter().map(WebhookEvent::from).collect();
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
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<WebhookEvent>, ApiError> {
    let event = state.app.webhook_event(&caller, event_id(&id)?).await?;
    Ok(Json(WebhookEvent::from(event)))
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
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = event_id(&id)?;
    let key = idempotency::key_of(&headers, KeyRule::Optional)?;
    let answered = state
        .app
        .resend_webhook_event(&caller, id, key.as_ref(), queued)
        .await?;
    idempotency::respond(answered)
}

/// 202 and the event, queued to be sent now.
fn queued(event: &StoredEvent) -> Result<Answer, AppError> {
    Ok(Answer {
        status: StatusCode::ACCEPTED.as_u16(),
        body: serde_json::to_value(WebhookEvent::from(event.clone()))
            .map_err(AppError::internal)?,
    })
}

/// An event named by its id or by its `webhook-id` (`msg_<id>`).
fn event_id(text: &str) -> Result<Uuid, ApiError> {
    let text = text.strip_prefix("msg_").unwrap_or(text);
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound("no such webhook event".into()))
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
            event_id(&webhooks::message_id(id)).expect("a webhook id"),
            id
        );
        assert!(event_id("nope").is_err());
    }
}
