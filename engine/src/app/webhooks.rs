//! A merchant's webhooks: where its events go (an endpoint its admins set, checked against
//! the URL policy, and the secret they are signed with, made on the first set and kept when
//! the URL changes, until an admin rotates it: the secret replaced then keeps signing events
//! too for an overlap, so that the receiver can change secrets without refusing any), and
//! the events themselves: listed, read, and queued to be sent again.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use super::caller::{Caller, READERS};
use super::idempotency::{self, Answered, IdempotencyKey, Render};
use super::{App, AppError};
use crate::api_key::Role;
use crate::store::webhooks;
pub use crate::store::webhooks::{Endpoint, WebhookEvent};

/// What every signing secret starts with (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";

/// How long the secret a rotation replaces still signs events, beside the new one.
pub const PREVIOUS_SECRET_OVERLAP: SignedDuration = SignedDuration::from_hours(24);

/// The longest endpoint URL stored.
pub const ENDPOINT_URL_MAX_CHARS: usize = 2_000;

/// The states an event can be in.
pub const EVENT_STATES: [&str; 4] = ["pending", "delivered", "failed", "stopped"];

/// A fresh secret: `whsec_` then base64 of 24 random bytes.
pub fn new_secret() -> String {
    format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(rand::random::<[u8; 24]>())
    )
}

/// The `webhook-id` of an event: the same on every try and every resend.
pub fn message_id(event: Uuid) -> String {
    format!("msg_{event}")
}

impl App {
    /// Sets where the merchant's events are sent (admins only); returns the endpoint and
    /// its signing secret.
    pub async fn set_webhook_endpoint(
        &self,
        caller: &Caller,
        url: &str,
    ) -> Result<Endpoint, AppError> {
        caller.require(&[Role::Admin])?;
        let url = self
            .settings
            .urls
            .check(url)
            .await
            .map_err(|refused| AppError::invalid_field("url", refused.to_string()))?;
        if url.as_str().len() > ENDPOINT_URL_MAX_CHARS {
            return Err(AppError::invalid_field(
                "url",
                format!("is longer than {ENDPOINT_URL_MAX_CHARS} characters"),
            ));
        }
        let client = self.pool.get().await?;
        Ok(webhooks::set_endpoint(&client, caller.merchant, url.as_str(), &new_secret()).await?)
    }

    /// The merchant's endpoint and signing secret (admins only).
    pub async fn webhook_endpoint(&self, caller: &Caller) -> Result<Endpoint, AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        webhooks::endpoint(&client, caller.merchant)
            .await?
            .ok_or(AppError::NotFound("webhook endpoint"))
    }

    /// Rotates the endpoint's signing secret (admins only): a new secret becomes current,
    /// and the one it replaces keeps signing events too for [`PREVIOUS_SECRET_OVERLAP`]
    /// (a second rotation meanwhile ends the first's overlap: only the secret just replaced
    /// is kept). Returns the endpoint with the new secret; `NotFound` without an endpoint.
    pub async fn rotate_webhook_secret(&self, caller: &Caller) -> Result<Endpoint, AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        webhooks::rotate_secret(
            &client,
            caller.merchant,
            &new_secret(),
            PREVIOUS_SECRET_OVERLAP.as_secs_f64(),
        )
        .await?
        .ok_or(AppError::NotFound("webhook endpoint"))
    }

    /// Stops sending events (admins only): those not yet delivered are stopped when their
    /// turn comes.
    pub async fn remove_webhook_endpoint(&self, caller: &Caller) -> Result<(), AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        if webhooks::remove_endpoint(&client, caller.merchant).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("webhook endpoint"))
        }
    }

    /// Up to `limit` of the merchant's events after `after` (creation time and id), oldest
    /// first, optionally in one state.
    pub async fn webhook_events(
        &self,
        caller: &Caller,
        state: Option<&str>,
        after: Option<(Timestamp, Uuid)>,
        limit: i64,
    ) -> Result<Vec<WebhookEvent>, AppError> {
        caller.require(READERS)?;
        if let Some(wanted) = state
            && !EVENT_STATES.contains(&wanted)
        {
            return Err(AppError::invalid_field(
                "state",
                format!("must be one of {}", EVENT_STATES.join(", ")),
            ));
        }
        let client = self.pool.get().await?;
        Ok(webhooks::events(&client, caller.merchant, state, after, limit).await?)
    }

    /// The merchant's `limit` latest events, newest first (the portal's recent deliveries).
    pub async fn latest_webhook_events(
        &self,
        caller: &Caller,
        limit: i64,
    ) -> Result<Vec<WebhookEvent>, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        Ok(webhooks::latest_events(&client, caller.merchant, limit).await?)
    }

    /// One of the merchant's events.
    pub async fn webhook_event(&self, caller: &Caller, id: Uuid) -> Result<WebhookEvent, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        Ok(webhooks::event(&client, caller.merchant, id).await?)
    }

    /// Sends an event again, now, with the same `webhook-id`; its attempts keep counting.
    pub async fn resend_webhook_event(
        &self,
        caller: &Caller,
        id: Uuid,
        key: Option<&IdempotencyKey>,
        render: Render<WebhookEvent>,
    ) -> Result<Answered, AppError> {
        caller.require(&[Role::Maker])?;
        let fingerprint = idempotency::fingerprint(&format!("POST /v1/webhooks/{id}/resend"), &())?;
        let merchant = caller.merchant;
        let (_, answered) =
            idempotency::once(&self.pool, merchant, key, fingerprint, render, async |tx| {
                if !webhooks::has_destination(tx, merchant, id).await? {
                    return Err(AppError::conflict(
                        "no-webhook-endpoint",
                        "there is no webhook endpoint to send this event to: set one with PUT /v1/webhook-endpoint",
                    ));
                }
                Ok(webhooks::requeue(tx, merchant, id).await?)
            })
            .await?;
        Ok(answered)
    }
}

pub use crate::store::webhooks::DueEvent;

/// The deliverer's bookkeeping: which events are due, and what came of each try. These are
/// the node's own work, not a merchant's: no caller.
impl App {
    /// Claims up to `limit` due events for a minute (other nodes skip them meanwhile).
    pub async fn claim_due_webhooks(&self, limit: i64) -> Result<Vec<DueEvent>, AppError> {
        let client = self.pool.get().await?;
        Ok(webhooks::claim_due(&client, limit).await?)
    }

    /// The event was delivered with `status`.
    pub async fn webhook_delivered(&self, event: &DueEvent, status: u16) -> Result<(), AppError> {
        let client = self.pool.get().await?;
        Ok(webhooks::delivered(&client, event, i32::from(status)).await?)
    }

    /// A try failed: tried again after `retry_in_seconds`, or failed for good without one.
    pub async fn webhook_failed(
        &self,
        event: &DueEvent,
        status: Option<u16>,
        error: &str,
        retry_in_seconds: Option<u32>,
    ) -> Result<(), AppError> {
        let client = self.pool.get().await?;
        Ok(webhooks::failed(
            &client,
            event,
            status.map(i32::from),
            error,
            retry_in_seconds,
        )
        .await?)
    }

    /// The event is not to be tried again; `tried` says whether a try was made.
    pub async fn webhook_stopped(
        &self,
        event: &DueEvent,
        tried: bool,
        status: Option<u16>,
        reason: &str,
    ) -> Result<(), AppError> {
        let client = self.pool.get().await?;
        Ok(webhooks::stopped(&client, event, tried, status.map(i32::from), reason).await?)
    }

    /// Events waiting to be delivered, across merchants.
    pub async fn webhook_backlog(&self) -> Result<i64, AppError> {
        let client = self.pool.get().await?;
        Ok(webhooks::backlog(&client).await?)
    }
}
