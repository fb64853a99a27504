//! The webhook endpoint: where the merchant's events go, set, changed or removed; the
//! secret they are signed with, shown in full only in the answer to saving the endpoint or
//! to rotating the secret; and the latest events, with a way to send a failed or stopped
//! one again.
//!
//! The use case makes the secret when an endpoint is first set and keeps it when the URL
//! changes or the endpoint is removed and set again. Rotating it makes a new one; the old
//! one keeps signing events beside it until the overlap ends, which the page states.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use payrail_engine::app::AppError;
use payrail_engine::app::idempotency::Answer;
use payrail_engine::app::webhooks::WebhookEvent;
use serde::Deserialize;
use uuid::Uuid;

use super::{Section, SettingsPage, TokenOnly, done};
use crate::AppState;
use crate::portal::error::PortalError;
use crate::portal::session::Session;

/// Events listed, newest first.
const RECENT_EVENTS: i64 = 20;
/// Characters of the secret shown to tell it apart.
const SECRET_END_CHARS: usize = 4;

/// The endpoint as the page shows it.
#[derive(Clone, Debug)]
pub struct Shown {
    pub url: String,
    /// The secret's last characters.
    pub secret_end: String,
    /// When the secret was made.
    pub secret_created_at: Option<Timestamp>,
    /// Until when the secret a rotation replaced still signs events, while it does.
    pub previous_until: Option<Timestamp>,
}

/// The section as shown.
#[derive(Clone, Debug)]
pub struct View {
    pub endpoint: Option<Shown>,
    /// The URL field: the endpoint's, or what was just refused.
    pub url: String,
    /// The whole secret, in the answer to saving the endpoint or rotating the secret only.
    pub saved_secret: Option<String>,
    /// In the answer to rotating the secret: until when the old one still signs events.
    pub rotated_until: Option<Timestamp>,
    pub events: Vec<WebhookEvent>,
}

impl View {
    /// Whether an event may be sent again from the page.
    pub fn resendable(&self, event: &WebhookEvent) -> bool {
        matches!(event.state.as_str(), "failed" | "stopped")
    }
}

pub async fn view(state: &AppState, session: &Session) -> Result<View, PortalError> {
    let caller = session.caller();
    let endpoint = match state.app.webhook_endpoint(caller).await {
        Ok(endpoint) => Some(endpoint),
        Err(AppError::NotFound(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let events = state
        .app
        .latest_webhook_events(caller, RECENT_EVENTS)
        .await?;
    Ok(View {
        url: endpoint
            .as_ref()
            .map(|endpoint| endpoint.url.clone())
            .unwrap_or_default(),
        endpoint: endpoint.map(|endpoint| Shown {
            secret_end: last_chars(&endpoint.secret, SECRET_END_CHARS),
            url: endpoint.url,
            secret_created_at: endpoint.secret_created_at,
            previous_until: endpoint.previous_secret_expires_at,
        }),
        saved_secret: None,
        rotated_until: None,
        events,
    })
}

fn last_chars(text: &str, count: usize) -> String {
    let skip = text.chars().count().saturating_sub(count);
    text.chars().skip(skip).collect()
}

#[derive(Debug, Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
}

/// `POST /settings/webhook`: sets or changes the URL; the answer shows the secret.
pub async fn set(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<EndpointForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    match state
        .app
        .set_webhook_endpoint(session.caller(), form.url.trim())
        .await
    {
        Ok(endpoint) => {
            let mut settings = SettingsPage::load(&state, &session).await?;
            settings.webhook.saved_secret = Some(endpoint.secret);
            Ok(settings.into_response())
        }
        Err(error) => {
            let mut settings = SettingsPage::load(&state, &session).await?;
            settings.webhook.url = form.url;
            settings.refused(Section::Webhook, error)
        }
    }
}

/// `POST /settings/webhook/rotate`: a new signing secret; the answer shows it, and until
/// when the one it replaced still signs events.
pub async fn rotate(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<TokenOnly>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    match state.app.rotate_webhook_secret(session.caller()).await {
        Ok(endpoint) => {
            let mut settings = SettingsPage::load(&state, &session).await?;
            settings.webhook.rotated_until = endpoint.previous_secret_expires_at;
            settings.webhook.saved_secret = Some(endpoint.secret);
            Ok(settings.into_response())
        }
        // The endpoint was removed meanwhile (in another tab, by another admin).
        Err(AppError::NotFound(_)) => SettingsPage::load(&state, &session).await?.refused(
            Section::Webhook,
            AppError::conflict(
                "no-webhook-endpoint-to-rotate",
                "there is no webhook endpoint whose secret could be rotated",
            ),
        ),
        Err(error) => Err(error.into()),
    }
}

/// `POST /settings/webhook/remove`
pub async fn remove(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<TokenOnly>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    state.app.remove_webhook_endpoint(session.caller()).await?;
    Ok(done("endpoint-removed"))
}

/// What the portal keeps of a resend: nothing but that it was queued.
fn queued(_: &WebhookEvent) -> Result<Answer, AppError> {
    Ok(Answer {
        status: 303,
        body: serde_json::Value::Null,
    })
}

/// `POST /settings/webhook/events/{id}/resend`
pub async fn resend(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<TokenOnly>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound("webhook event"))?;
    match state
        .app
        .resend_webhook_event(session.caller(), id, None, queued)
        .await
    {
        Ok(_) => Ok(done("event-resent")),
        Err(error) => SettingsPage::load(&state, &session)
            .await?
            .refused(Section::Webhook, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_secret_is_its_last_characters() {
        assert_eq!(last_chars("whsec_abcdef", 4), "cdef");
        assert_eq!(last_chars("ab", 4), "ab");
    }
}
