//! Users: the merchant's people, invited by email with a role (there is no mail server:
//! the answer shows the one-time setup link to send them), their role changed, disabled
//! or enabled again. An admin does not change themselves: the use case refuses it.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::HOST;
use axum::response::{IntoResponse, Response};
use payrail_engine::api_key::Role;
use payrail_engine::app::AppError;
use payrail_engine::app::users::{Inviter, SETUP_LINK_HOURS, User};
use payrail_engine::ids::ApiKeyId;
use serde::Deserialize;

use super::keys::chosen_role;
use super::{Section, SettingsPage, done};
use crate::AppState;
use crate::portal::error::PortalError;
use crate::portal::session::{PortalSettings, Session};

/// A user as the list shows them.
#[derive(Clone, Debug)]
pub struct Row {
    pub user: User,
    /// `active`, `invited` (no password yet) or `disabled`.
    pub state: &'static str,
    /// The signed-in admin themselves, whom they cannot change.
    pub you: bool,
}

impl Row {
    pub fn badge(&self) -> &'static str {
        match self.state {
            "active" => "badge-succeeded",
            "invited" => "badge-pending",
            _ => "badge-cancelled",
        }
    }

    pub fn state_message(&self) -> String {
        format!("settings-user-{}", self.state)
    }
}

/// A setup link just made.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub email: String,
    pub link: String,
    /// How long the link works.
    pub hours: i64,
}

/// The section as shown.
#[derive(Clone, Debug)]
pub struct View {
    pub rows: Vec<Row>,
    /// The invitation form, as typed.
    pub email: String,
    pub role: String,
    pub invited: Option<Invitation>,
}

pub async fn view(state: &AppState, session: &Session) -> Result<View, PortalError> {
    let me = session.caller().key;
    let rows = state
        .app
        .users(session.caller())
        .await?
        .into_iter()
        .map(|user| Row {
            state: if user.disabled_at.is_some() {
                "disabled"
            } else if user.password_hash.is_none() {
                "invited"
            } else {
                "active"
            },
            you: user.id == me,
            user,
        })
        .collect();
    Ok(View {
        rows,
        email: String::new(),
        role: Role::Viewer.as_str().to_owned(),
        invited: None,
    })
}

/// Where people open the portal: the configured address, else this request's host.
fn origin(settings: &PortalSettings, headers: &HeaderMap) -> String {
    if let Some(origin) = &settings.origin {
        return origin.clone();
    }
    let scheme = if settings.https { "https" } else { "http" };
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /settings/users`: invites someone; the answer shows their setup link.
pub async fn invite(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let invited = match chosen_role(&form.role) {
        Ok(role) => {
            state
                .app
                .invite_user(Inviter::Admin(*session.caller()), &form.email, role)
                .await
        }
        Err(error) => Err(error),
    };
    let mut settings = SettingsPage::load(&state, &session).await?;
    match invited {
        Ok(invited) => {
            settings.users.invited = Some(Invitation {
                link: format!(
                    "{}/setup/{}",
                    origin(&state.portal, &headers),
                    invited.setup_token
                ),
                email: invited.user.email,
                hours: SETUP_LINK_HOURS,
            });
            Ok(settings.into_response())
        }
        Err(error) => {
            settings.users.email = form.email;
            settings.users.role = form.role;
            settings.refused(Section::Users, error)
        }
    }
}

/// A change of one user: a new role, or disabled (`true`) or enabled (`false`).
#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    disabled: Option<bool>,
}

/// `POST /settings/users/{id}`: changes what the form names, and keeps the rest as it is
/// now (not as the page showed it).
pub async fn change(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let caller = session.caller();
    let id: ApiKeyId = id.parse().map_err(|_| AppError::NotFound("user"))?;
    let user = state
        .app
        .users(caller)
        .await?
        .into_iter()
        .find(|user| user.id == id)
        .ok_or(AppError::NotFound("user"))?;
    let what = match form.disabled {
        Some(true) => "user-disabled",
        Some(false) => "user-enabled",
        None => "user-role",
    };
    let changed = match form.role.as_deref().map(chosen_role).transpose() {
        Ok(role) => {
            let role = role.unwrap_or(user.role);
            let disabled = form.disabled.unwrap_or(user.disabled_at.is_some());
            state.app.change_user(caller, id, role, disabled).await
        }
        Err(error) => Err(error),
    };
    match changed {
        Ok(_) => Ok(done(what)),
        Err(error) => SettingsPage::load(&state, &session)
            .await?
            .refused(Section::Users, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PortalConfig;

    fn headers(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, host.parse().expect("a header"));
        headers
    }

    #[test]
    fn setup_links_start_with_the_configured_address_else_the_requests_host() {
        let plain = PortalSettings::default();
        assert_eq!(
            origin(&plain, &headers("127.0.0.1:8080")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            origin(&plain, &headers("evil.example/x?")),
            "http://localhost"
        );
        let configured = PortalSettings::new(&PortalConfig {
            public_url: Some("https://pay.example.rw/".into()),
            ..PortalConfig::default()
        });
        assert_eq!(
            origin(&configured, &headers("127.0.0.1:8080")),
            "https://pay.example.rw"
        );
    }
}
