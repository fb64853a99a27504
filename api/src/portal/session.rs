//! Who is signed in: the session cookie (`HttpOnly`, `SameSite=Lax`; `Secure` with the
//! `__Host-` prefix when the portal is served over HTTPS), found again through the
//! application layer on every request. A request without a live session is sent to the
//! sign-in page, which brings the person back where they were.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use payrail_engine::app::Caller;
use payrail_engine::app::sessions::{SessionTimeouts, SignedIn};

use super::error::PortalError;
use super::i18n::Language;
use crate::AppState;
use crate::config::PortalConfig;

/// The cookie that keeps the language chosen before signing in.
pub const LANGUAGE_COOKIE: &str = "payrail_lang";
/// The cookie that carries the sign-in form's own token (a double-submit token: there is
/// no session yet to keep one).
pub const SIGN_IN_COOKIE: &str = "payrail_signin";

/// What the portal runs with.
#[derive(Debug)]
pub struct PortalSettings {
    pub timeouts: SessionTimeouts,
    /// Served over HTTPS: cookies are `Secure` and `__Host-` prefixed.
    pub https: bool,
    /// The origin people open (`https://pay.example.rw`), when configured.
    pub origin: Option<String>,
    /// Sign-in attempts per email.
    pub per_email: DefaultKeyedRateLimiter<String>,
    /// Sign-in attempts per client address.
    pub per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl PortalSettings {
    pub fn new(config: &PortalConfig) -> PortalSettings {
        let origin = config
            .public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned());
        let per_minute =
            NonZeroU32::new(config.sign_in_attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        let per_address = per_minute.saturating_mul(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN));
        PortalSettings {
            timeouts: SessionTimeouts {
                idle: std::time::Duration::from_secs(config.idle_timeout_minutes.max(1) * 60),
                absolute: std::time::Duration::from_secs(
                    config.absolute_timeout_hours.max(1) * 3600,
                ),
            },
            https: origin
                .as_deref()
                .is_some_and(|url| url.starts_with("https://")),
            origin,
            per_email: RateLimiter::keyed(Quota::per_minute(per_minute)),
            per_address: RateLimiter::keyed(Quota::per_minute(per_address)),
        }
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        if self.https {
            "__Host-payrail_session"
        } else {
            "payrail_session"
        }
    }

    /// A `Set-Cookie` value for a cookie of the portal (`None`: remove it).
    pub fn cookie(&self, name: &str, value: Option<&str>) -> HeaderValue {
        let mut cookie = Cookie::build((name.to_owned(), value.unwrap_or("").to_owned()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.https);
        if value.is_none() {
            cookie = cookie.max_age(cookie::time::Duration::ZERO);
        }
        HeaderValue::from_str(&cookie.build().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

impl Default for PortalSettings {
    fn default() -> PortalSettings {
        PortalSettings::new(&PortalConfig::default())
    }
}

/// A cookie the request carries.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// The client's address, when the server was given it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<ClientAddress, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
        ))
    }
}

/// The language of a request: the cookie's choice, else `Accept-Language`.
pub fn request_language(headers: &HeaderMap) -> Language {
    cookie_value(headers, LANGUAGE_COOKIE)
        .and_then(|tag| Language::known(&tag))
        .unwrap_or_else(|| {
            Language::negotiate(
                headers
                    .get(axum::http::header::ACCEPT_LANGUAGE)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or(""),
            )
        })
}

/// A signed-in person and their session's token.
#[derive(Clone, Debug)]
pub struct Session {
    pub signed_in: Arc<SignedIn>,
    pub language: Language,
    /// The cookie's token, to end the session.
    pub token: String,
    /// The page asked for (path and query), to come back to after changing the language.
    pub back: String,
}

impl Session {
    pub fn caller(&self) -> &Caller {
        &self.signed_in.caller
    }

    /// Refuses a form whose synchronizer token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PortalError> {
        use subtle::ConstantTimeEq;
        let expected = self.signed_in.csrf_token.as_bytes();
        if bool::from(expected.ct_eq(sent.as_bytes())) {
            Ok(())
        } else {
            Err(PortalError::CrossSite)
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PortalError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Session, PortalError> {
        let settings = &state.portal;
        let htmx = parts.headers.contains_key("hx-request");
        let back_to = if htmx {
            parts
                .headers
                .get("hx-current-url")
                .and_then(|value| value.to_str().ok())
                .and_then(|url| url.parse::<axum::http::Uri>().ok())
                .and_then(|uri| uri.path_and_query().map(|path| path.as_str().to_owned()))
        } else {
            parts
                .uri
                .path_and_query()
                .map(|path| path.as_str().to_owned())
        }
        .unwrap_or_else(|| "/".into());
        let sign_in = || PortalError::SignIn {
            back_to: back_to.clone(),
            htmx,
        };
        let token = cookie_value(&parts.headers, settings.cookie_name()).ok_or_else(sign_in)?;
        let signed_in = state
            .app
            .signed_in(&token, settings.timeouts)
            .await?
            .ok_or_else(sign_in)?;
        let language = Language::known(&signed_in.user.locale).unwrap_or_else(Language::english);
        Ok(Session {
            signed_in: Arc::new(signed_in),
            language,
            token,
            back: back_to,
        })
    }
}
