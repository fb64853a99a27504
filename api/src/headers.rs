//! Headers every answer carries for safety: `X-Content-Type-Options: nosniff` everywhere,
//! `Cache-Control: no-store` on answers that hold a secret, a content security policy and
//! frame protection on the docs page, and request ids that are short and plain (a client's
//! id that is neither is replaced by one of ours).

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::REQUEST_ID;

/// The longest request id kept from a client.
pub const REQUEST_ID_MAX_CHARS: usize = 64;

/// An answer that must not be stored by any cache: it carries a secret.
#[derive(Debug)]
pub struct NoStore<T>(pub T);

impl<T: IntoResponse> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// `nosniff` on every answer.
pub fn nosniff() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))
}

/// The docs page's policy: its own scripts and styles only (Swagger UI inlines some
/// styles), no framing.
pub fn docs_policy() -> [SetResponseHeaderLayer<HeaderValue>; 2] {
    [
        SetResponseHeaderLayer::overriding(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ),
        SetResponseHeaderLayer::overriding(X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

/// Drops a client's request id that is too long or not plain ASCII letters, digits and
/// `-._:`, so that the one made in its place goes into the logs and the answer instead.
pub async fn plain_request_id(mut request: Request) -> Request {
    let name = HeaderName::from_static(REQUEST_ID);
    let plain = request.headers().get(&name).is_none_or(|value| {
        let id = value.as_bytes();
        (1..=REQUEST_ID_MAX_CHARS).contains(&id.len())
            && id
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-._:".contains(byte))
    });
    if !plain {
        request.headers_mut().remove(&name);
    }
    request
}
