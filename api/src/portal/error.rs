//! What the portal answers when it does not show the page asked for: the sign-in page
//! (for a request without a live session, coming back afterwards), or a page that says
//! what went wrong in the reader's language (rendered by `localized`, which knows the
//! request).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use payrail_engine::app::AppError;

use super::i18n::Language;
use super::session::request_language;

/// Why a portal request was not answered with its page.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No live session: sign in, then come back to `back_to`.
    #[error("sign in first")]
    SignIn { back_to: String, htmx: bool },
    /// The form's token is missing or wrong, or the request came from another site.
    #[error("cross-site request")]
    CrossSite,
    #[error(transparent)]
    App(#[from] AppError),
}

/// What an error page says, left in the response for `localized` to render.
#[derive(Clone, Debug)]
struct Unrendered {
    title: &'static str,
    detail: Option<String>,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match self {
            PortalError::SignIn { back_to, htmx } => {
                let to = format!("/login?next={}", encode(&back_to));
                if htmx {
                    let mut response = StatusCode::NO_CONTENT.into_response();
                    if let Ok(value) = HeaderValue::from_str(&to) {
                        response.headers_mut().insert("hx-redirect", value);
                    }
                    return response;
                }
                return Redirect::to(&to).into_response();
            }
            PortalError::CrossSite => (StatusCode::FORBIDDEN, "error-cross-site", None),
            PortalError::App(error) => match error {
                AppError::NotFound(_) => (StatusCode::NOT_FOUND, "error-not-found", None),
                AppError::Forbidden { .. } => (
                    StatusCode::FORBIDDEN,
                    "error-forbidden",
                    Some(error.to_string()),
                ),
                AppError::Unavailable(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "error-unavailable", None)
                }
                AppError::Internal(ref cause) => {
                    tracing::error!(error = %cause, "a portal page failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, "error-internal", None)
                }
                AppError::Conflict { .. } => (
                    StatusCode::CONFLICT,
                    "error-conflict",
                    Some(error.to_string()),
                ),
                AppError::TooLarge(_) => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "error-bad-request",
                    Some(error.to_string()),
                ),
                AppError::Malformed { .. } | AppError::Invalid { .. } => (
                    StatusCode::BAD_REQUEST,
                    "error-bad-request",
                    Some(error.to_string()),
                ),
            },
        };
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(Unrendered { title, detail });
        response
    }
}

/// `text` for a query string value.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    language: Language,
    title: String,
    detail: Option<String>,
    status: u16,
}

impl ErrorPage {
    fn t(&self, id: &str) -> String {
        self.language.text(id)
    }
}

/// Middleware: renders the error pages left by `PortalError` in the request's language.
pub async fn localized(request: Request, next: Next) -> Response {
    let language = request_language(request.headers());
    let response = next.run(request).await;
    let Some(unrendered) = response.extensions().get::<Unrendered>().cloned() else {
        return response;
    };
    let status = response.status();
    let page = ErrorPage {
        title: language.text(unrendered.title),
        detail: unrendered.detail,
        status: status.as_u16(),
        language,
    };
    (status, page).into_response()
}
