//! The settings page (admins): the approval rule, the webhook endpoint and its recent
//! deliveries, the API keys, and the people who use the portal, as four sections of
//! `GET /settings`, each changed by its own forms (one submodule per section).
//!
//! A change that succeeds redirects (303) back to its section, which says what was done; a
//! refused one shows the page again (422) with the refusal next to its field. A change that
//! makes a secret (an API key, a setup link, the webhook signing secret, made or rotated)
//! shows it in its own answer, once: it is never put in a URL.

mod approval;
mod keys;
mod users;
mod webhook;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use payrail_engine::api_key::Role;
use payrail_engine::app::{AppError, FieldError};
use serde::Deserialize;

use super::error::PortalError;
use super::form::FormErrors;
use super::page::Page;
use super::session::Session;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings", get(show))
        .route("/settings/approval", post(approval::set))
        .route("/settings/webhook", post(webhook::set))
        .route("/settings/webhook/rotate", post(webhook::rotate))
        .route("/settings/webhook/remove", post(webhook::remove))
        .route(
            "/settings/webhook/events/{id}/resend",
            post(webhook::resend),
        )
        .route("/settings/keys", post(keys::issue))
        .route(
            "/settings/keys/{id}/revoke",
            get(keys::confirm_revoke).post(keys::revoke),
        )
        .route("/settings/users", post(users::invite))
        .route("/settings/users/{id}", post(users::change))
}

/// A section of the page: its element id, which also prefixes its fields' ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Approval,
    Webhook,
    Keys,
    Users,
}

impl Section {
    pub fn id(self) -> &'static str {
        match self {
            Section::Approval => "approval",
            Section::Webhook => "webhook",
            Section::Keys => "keys",
            Section::Users => "users",
        }
    }
}

/// What a change that succeeded did: its `?done=` name, its section and its message.
const DONE: [(&str, Section, &str); 7] = [
    ("approval", Section::Approval, "settings-done-approval"),
    (
        "endpoint-removed",
        Section::Webhook,
        "settings-done-endpoint-removed",
    ),
    (
        "event-resent",
        Section::Webhook,
        "settings-done-event-resent",
    ),
    ("key-revoked", Section::Keys, "settings-done-key-revoked"),
    ("user-role", Section::Users, "settings-done-user-role"),
    (
        "user-disabled",
        Section::Users,
        "settings-done-user-disabled",
    ),
    ("user-enabled", Section::Users, "settings-done-user-enabled"),
];

/// Back to the page, at the section of what was done (303).
pub fn done(what: &str) -> Response {
    let section = DONE
        .iter()
        .find(|(name, _, _)| *name == what)
        .map_or("", |(_, section, _)| section.id());
    Redirect::to(&format!("/settings?done={what}#{section}")).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/settings.html")]
pub struct SettingsPage {
    page: Page,
    approval: approval::View,
    webhook: webhook::View,
    keys: keys::View,
    users: users::View,
    /// Every role, as (value, name), for the forms' choices.
    roles: Vec<(&'static str, String)>,
    /// The refusals of the form just sent, their fields' ids prefixed by its section.
    errors: FormErrors,
    /// The section whose form was refused (empty: none).
    refused: &'static str,
    /// The section where something was just done, and what (empty: none).
    done_in: &'static str,
    done: String,
}

impl SettingsPage {
    /// The page as stored now, with its forms empty.
    pub async fn load(state: &AppState, session: &Session) -> Result<SettingsPage, PortalError> {
        let page = Page::new(session, "settings", "settings-title");
        Ok(SettingsPage {
            approval: approval::view(state, session, &page).await?,
            webhook: webhook::view(state, session).await?,
            keys: keys::view(state, session).await?,
            users: users::view(state, session).await?,
            roles: Role::ALL
                .iter()
                .map(|role| (role.as_str(), role_name(&page, role)))
                .collect(),
            page,
            errors: FormErrors::default(),
            refused: "",
            done_in: "",
            done: String::new(),
        })
    }

    /// The page again (422), with why `section`'s form was refused next to its fields. A
    /// conflict the catalogue knows by name is said in the reader's language.
    pub fn refused(mut self, section: Section, error: AppError) -> Result<Response, PortalError> {
        let error = match error {
            AppError::Conflict { name, detail, link } => {
                let id = format!("settings-conflict-{name}");
                let said = self.page.t(&id);
                let detail = if said == id { detail } else { said };
                AppError::Conflict { name, detail, link }
            }
            other => other,
        };
        let FormErrors(errors) = FormErrors::from_app(error)?;
        self.errors = FormErrors(
            errors
                .into_iter()
                .map(|error| FieldError {
                    field: format!("{}-{}", section.id(), error.field),
                    reason: error.reason,
                })
                .collect(),
        );
        self.refused = section.id();
        Ok((StatusCode::UNPROCESSABLE_ENTITY, self).into_response())
    }

    fn role_name(&self, role: &Role) -> String {
        role_name(&self.page, role)
    }
}

/// A role's name in the reader's language.
pub fn role_name(page: &Page, role: &Role) -> String {
    page.t(&format!("role-{}", role.as_str()))
}

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /settings`
async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ShowQuery>,
) -> Result<SettingsPage, PortalError> {
    let mut settings = SettingsPage::load(&state, &session).await?;
    if let Some((_, section, message)) = DONE
        .iter()
        .find(|(name, _, _)| query.done.as_deref() == Some(*name))
    {
        settings.done_in = section.id();
        settings.done = settings.page.t(message);
    }
    Ok(settings)
}

/// A form that only carries the session's token.
#[derive(Debug, Deserialize)]
pub struct TokenOnly {
    #[serde(default)]
    csrf: String,
}
