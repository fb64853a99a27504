//! API keys: the merchant's keys, a new one of a chosen role (its secret shown in the
//! answer, once), and revoking one after a page that asks to confirm.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use payrail_engine::api_key::Role;
use payrail_engine::app::AppError;
use payrail_engine::app::merchants::{ApiKey, IssuedApiKey};
use payrail_engine::ids::ApiKeyId;
use serde::Deserialize;

use super::{Section, SettingsPage, TokenOnly, done};
use crate::AppState;
use crate::portal::error::PortalError;
use crate::portal::page::Page;
use crate::portal::session::Session;

/// The section as shown.
#[derive(Debug)]
pub struct View {
    pub keys: Vec<ApiKey>,
    /// The role chosen for a new key.
    pub role: String,
    /// The key just made, with its secret.
    pub issued: Option<IssuedApiKey>,
}

pub async fn view(state: &AppState, session: &Session) -> Result<View, PortalError> {
    Ok(View {
        keys: state.app.api_keys(session.caller()).await?,
        role: Role::Viewer.as_str().to_owned(),
        issued: None,
    })
}

/// A role chosen in a form.
pub fn chosen_role(text: &str) -> Result<Role, AppError> {
    text.parse()
        .map_err(|_| AppError::invalid_field("role", "choose a role"))
}

#[derive(Debug, Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

/// `POST /settings/keys`: makes a key; the answer shows its secret.
pub async fn issue(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<IssueForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let issued = match chosen_role(&form.role) {
        Ok(role) => state.app.issue_api_key(session.caller(), role).await,
        Err(error) => Err(error),
    };
    let mut settings = SettingsPage::load(&state, &session).await?;
    settings.keys.role = form.role;
    match issued {
        Ok(issued) => {
            settings.keys.issued = Some(issued);
            Ok(settings.into_response())
        }
        Err(error) => settings.refused(Section::Keys, error),
    }
}

/// The page that asks before a key is revoked.
#[derive(Template, WebTemplate)]
#[template(path = "portal/settings_revoke.html")]
pub struct RevokePage {
    page: Page,
    key: ApiKey,
}

impl RevokePage {
    fn role_name(&self, role: &Role) -> String {
        super::role_name(&self.page, role)
    }
}

/// One of the merchant's keys still in use.
async fn live_key(state: &AppState, session: &Session, id: &str) -> Result<ApiKey, PortalError> {
    let id: ApiKeyId = id.parse().map_err(|_| AppError::NotFound("API key"))?;
    state
        .app
        .api_keys(session.caller())
        .await?
        .into_iter()
        .find(|key| key.id == id && key.revoked_at.is_none())
        .ok_or(PortalError::App(AppError::NotFound("API key")))
}

/// `GET /settings/keys/{id}/revoke`: "Revoke this key?"
pub async fn confirm_revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<RevokePage, PortalError> {
    let key = live_key(&state, &session, &id).await?;
    Ok(RevokePage {
        page: Page::new(&session, "settings", "settings-revoke-title"),
        key,
    })
}

/// `POST /settings/keys/{id}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<TokenOnly>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let id: ApiKeyId = id.parse().map_err(|_| AppError::NotFound("API key"))?;
    match state.app.revoke_api_key(session.caller(), id).await {
        Ok(()) => Ok(done("key-revoked")),
        Err(error) => SettingsPage::load(&state, &session)
            .await?
            .refused(Section::Keys, error),
    }
}
