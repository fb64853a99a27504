//! Signing in and out, setting a password from a one-time link, and choosing the
//! language. Before there is a session, forms carry a double-submit token (the same random
//! value in a cookie and in the form); the sign-in is limited per email and per address,
//! and answers the same, in the same time, for an unknown email and a wrong password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use payrail_engine::app::AppError;
use serde::Deserialize;

use super::error::{PortalError, encode};
use super::i18n::Language;
use super::session::{
    ClientAddress, LANGUAGE_COOKIE, SIGN_IN_COOKIE, cookie_value, request_language,
};
use crate::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "portal/login.html")]
struct LoginPage {
    language: Language,
    languages: Vec<(String, String)>,
    csrf: String,
    next: String,
    next_encoded: String,
    email: String,
    problem: Option<String>,
    notice: Option<String>,
}

impl LoginPage {
    fn t(&self, id: &str) -> String {
        self.language.text(id)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/setup.html")]
struct SetupPage {
    language: Language,
    csrf: String,
    token: String,
    lede: String,
    problem: Option<String>,
}

impl SetupPage {
    fn t(&self, id: &str) -> String {
        self.language.text(id)
    }
}

/// The pre-session token: the request's own, or a new one with the cookie that sets it.
fn anonymous_token(
    state: &AppState,
    headers: &HeaderMap,
) -> (String, Option<axum::http::HeaderValue>) {
    match cookie_value(headers, SIGN_IN_COOKIE) {
        Some(token) if token.len() >= 32 => (token, None),
        _ => {
            let token = uuid::Uuid::new_v4().simple().to_string()
                + &uuid::Uuid::new_v4().simple().to_string();
            let cookie = state.portal.cookie(SIGN_IN_COOKIE, Some(&token));
            (token, Some(cookie))
        }
    }
}

fn check_anonymous(headers: &HeaderMap, sent: &str) -> Result<(), PortalError> {
    use subtle::ConstantTimeEq;
    let kept = cookie_value(headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !kept.is_empty() && bool::from(kept.as_bytes().ct_eq(sent.as_bytes())) {
        Ok(())
    } else {
        Err(PortalError::CrossSite)
    }
}

/// Only a path of ours: never another site (`//host`, `https://…`).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    ready: Option<String>,
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    email: &str,
    problem: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let language = request_language(headers);
    let (csrf, cookie) = anonymous_token(state, headers);
    let page = LoginPage {
        languages: Language::all(),
        csrf,
        next: next.to_owned(),
        next_encoded: encode(next),
        email: email.to_owned(),
        problem: problem.map(|id| language.text(id)),
        notice: notice.map(|id| language.text(id)),
        language,
    };
    match cookie {
        Some(cookie) => ([(SET_COOKIE, cookie)], page).into_response(),
        None => page.into_response(),
    }
}

/// `GET /login`
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref().unwrap_or("/")).to_owned();
    let notice = query.ready.is_some().then_some("setup-done");
    login_page(&state, &headers, &next, "", None, notice)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: String,
    #[serde(default)]
    next: String,
    email: String,
    password: String,
}

/// `POST /login`
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PortalError> {
    check_anonymous(&headers, &form.csrf)?;
    let next = safe_next(&form.next).to_owned();
    let email = form.email.trim().to_lowercase();
    let limited = state.portal.per_email.check_key(&email).is_err()
        || address.is_some_and(|address| state.portal.per_address.check_key(&address).is_err());
    if limited {
        let mut page = login_page(
            &state,
            &headers,
            &next,
            &email,
            Some("sign-in-too-many"),
            None,
        );
        *page.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return Ok(page);
    }
    match state
        .app
        .sign_in(&email, &form.password, state.portal.timeouts)
        .await?
    {
        Ok(session) => {
            if let Some(old) = cookie_value(&headers, state.portal.cookie_name()) {
                state.app.sign_out(&old).await?;
            }
            let cookie = state
                .portal
                .cookie(state.portal.cookie_name(), Some(&session.token));
            let spent = state.portal.cookie(SIGN_IN_COOKIE, None);
            Ok((
                AppendHeaders([(SET_COOKIE, cookie), (SET_COOKIE, spent)]),
                Redirect::to(&next),
            )
                .into_response())
        }
        Err(_) => Ok(login_page(
            &state,
            &headers,
            &next,
            &email,
            Some("sign-in-wrong"),
            None,
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /logout`
pub async fn sign_out(
    State(state): State<AppState>,
    session: super::session::Session,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    state.app.sign_out(&session.token).await?;
    let cookie = state.portal.cookie(state.portal.cookie_name(), None);
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

/// `GET /setup/{token}`
pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PortalError> {
    let user = state.app.setup_link_user(&token).await?;
    Ok(setup_page(&state, &headers, token, &user.email, None))
}

fn setup_page(
    state: &AppState,
    headers: &HeaderMap,
    token: String,
    email: &str,
    problem: Option<String>,
) -> Response {
    let language = request_language(headers);
    let (csrf, cookie) = anonymous_token(state, headers);
    let page = SetupPage {
        lede: language.text_with("setup-lede", &[("email", email.to_owned())]),
        language,
        csrf,
        token,
        problem,
    };
    match cookie {
        Some(cookie) => ([(SET_COOKIE, cookie)], page).into_response(),
        None => page.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    csrf: String,
    password: String,
}

/// `POST /setup/{token}`
pub async fn set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, PortalError> {
    check_anonymous(&headers, &form.csrf)?;
    match state.app.set_password_by_link(&token, &form.password).await {
        Ok(_) => Ok(Redirect::to("/login?ready=1").into_response()),
        Err(AppError::Invalid { errors, .. }) => {
            let user = state.app.setup_link_user(&token).await?;
            let language = request_language(&headers);
            let reason = errors
                .first()
                .map(|error| error.reason.clone())
                .unwrap_or_default();
            let problem = language.text_with("setup-password-refused", &[("reason", reason)]);
            Ok(setup_page(
                &state,
                &headers,
                token,
                &user.email,
                Some(problem),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    csrf: String,
    language: String,
    #[serde(default)]
    back: String,
}

/// `POST /language`: the signed-in user's choice is kept on their user; before sign-in,
/// in a cookie (set in both cases, so error pages use it too).
pub async fn choose_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LanguageForm>,
) -> Result<Response, PortalError> {
    let language = Language::known(&form.language)
        .ok_or_else(|| AppError::invalid_field("language", "no such language"))?;
    let signed_in = match cookie_value(&headers, state.portal.cookie_name()) {
        Some(token) => state.app.signed_in(&token, state.portal.timeouts).await?,
        None => None,
    };
    match signed_in {
        Some(signed_in) => {
            use subtle::ConstantTimeEq;
            if !bool::from(signed_in.csrf_token.as_bytes().ct_eq(form.csrf.as_bytes())) {
                return Err(PortalError::CrossSite);
            }
            state
                .app
                .set_language(&signed_in.caller, &language.tag())
                .await?;
        }
        None => check_anonymous(&headers, &form.csrf)?,
    }
    let cookie = state.portal.cookie(LANGUAGE_COOKIE, Some(&language.tag()));
    Ok(([(SET_COOKIE, cookie)], Redirect::to(safe_next(&form.back))).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_our_own_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/batches/1?x=2"), "/batches/1?x=2");
        for elsewhere in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "",
            "evil",
        ] {
            assert_eq!(safe_next(elsewhere), "/", "{elsewhere}");
        }
    }
}
