//! Every error answer of the API: RFC 9457 problem+json with a stable `type`
//! (`https://payrail.dev/problems/<name>`), the status's title and a human `detail`. A 5xx
//! says only "internal error"; its cause goes to the log, under the request's id.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use payrail_engine::api_key::Role;
use problem_details::ProblemDetails;

/// Where problem types live; each `type` is this plus the problem's name.
pub const PROBLEM_BASE: &str = "https://payrail.dev/problems/";

/// Why a request was refused, named for what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No key, a key of the wrong shape, or a key we do not know (or revoked).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The key's role may not do this.
    #[error("a {role} key may not do this; it needs one of: {needed}")]
    Forbidden { role: Role, needed: String },
    #[error("{0}")]
    NotFound(&'static str),
    /// An operator callback that is not JSON or names nothing of ours.
    #[error("{0}")]
    UnreadableCallback(String),
    /// This process cannot do it now (no engine, or the engine is stopping): try later.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Something broke on our side; the cause is logged, not shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError::Internal(error.into())
    }

    fn status_and_name(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "role-not-allowed"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::UnreadableCallback(_) => (StatusCode::BAD_REQUEST, "unreadable-callback"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, name) = self.status_and_name();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let kind: Uri = format!("{PROBLEM_BASE}{name}")
            .parse()
            .expect("a problem name is a URI path segment");
        ProblemDetails::from_status_code(status)
            .with_type(kind)
            .with_detail(self.to_string())
            .into_response()
    }
}
