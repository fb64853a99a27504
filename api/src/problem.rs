//! Every error answer of the API: RFC 9457 problem+json with a stable `type`
//! (`https://payrail.dev/problems/<name>`), the status's title and a human `detail`. A 5xx
//! says only "internal error"; its cause goes to the log, under the request's id.

use std::time::Duration;

use axum::Json;
use axum::extract::Request;
use axum::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use payrail_engine::api_key::Role;
use payrail_engine::app::AppError;
use problem_details::ProblemDetails;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Where problem types live; each `type` is this plus the problem's name.
pub const PROBLEM_BASE: &str = "https://payrail.dev/problems/";

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer, as the OpenAPI document describes it (RFC 9457).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `https://payrail.dev/problems/<name>`: stable, for programs to match on.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's name.
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do, for people.
    pub detail: String,
    /// Each refused field and why (`invalid-request`), or each refused line
    /// (`batch-invalid`: `line`, `field`, `reason`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<Vec<Value>>,
    /// Where the object in question lives (a conflicting batch, a batch's whole report).
    pub link: Option<String>,
    /// An invalid batch's id (`batch-invalid`).
    pub batch_id: Option<uuid::Uuid>,
    /// How many lines of an invalid batch are bad (`batch-invalid`).
    pub error_count: Option<i32>,
}

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
    NotFound(String),
    /// An operator callback that is not JSON or names nothing of ours.
    #[error("{0}")]
    UnreadableCallback(String),
    /// The request itself is malformed: `name` is the problem type, `detail` says why.
    #[error("{detail}")]
    BadRequest { name: &'static str, detail: String },
    /// The request is well-formed but its values are not acceptable; `errors` lists each
    /// field and why (`[{"field": …, "reason": …}]`).
    #[error("{detail}")]
    Invalid { detail: String, errors: Vec<Value> },
    /// The object is not in a state that allows this, or the request repeats another.
    #[error("{detail}")]
    Conflict {
        name: &'static str,
        detail: String,
        /// Where the conflicting object lives, when there is one.
        link: Option<String>,
    },
    /// The body is larger than this endpoint takes.
    #[error("{0}")]
    TooLarge(String),
    /// The body's media type is not one this endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// None of the media types the `Accept` header names is one this endpoint answers in.
    #[error("{0}")]
    NotAcceptable(String),
    /// This key (or, for callbacks, this operator) sent too many requests; try again after
    /// the given time.
    #[error("too many requests from this {who}; retry after {} s", .retry_after.as_secs().max(1))]
    RateLimited {
        who: &'static str,
        retry_after: Duration,
    },
    /// An operator callback on a capability URL whose token is not the payout's.
    #[error("{0}")]
    CallbackRefused(&'static str),
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

    /// A 400 with its problem type and a human reason.
    pub fn bad_request(name: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            name,
            detail: detail.into(),
        }
    }

    /// A 422 about one field.
    pub fn invalid_field(field: &str, reason: impl Into<String>) -> ApiError {
        let reason = reason.into();
        ApiError::Invalid {
            detail: format!("{field}: {reason}"),
            errors: vec![serde_json::json!({ "field": field, "reason": reason })],
        }
    }

    /// A 409 about the object's state.
    pub fn conflict(name: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            name,
            detail: detail.into(),
            link: None,
        }
    }

    fn status_and_name(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "role-not-allowed"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::UnreadableCallback(_) => (StatusCode::BAD_REQUEST, "unreadable-callback"),
            ApiError::BadRequest { name, .. } => (StatusCode::BAD_REQUEST, name),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
            ApiError::Conflict { name, .. } => (StatusCode::CONFLICT, name),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            ApiError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "not-acceptable"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
            ApiError::CallbackRefused(_) => (StatusCode::FORBIDDEN, "callback-refused"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// Every refusal of a use case, as HTTP: the one place an `AppError` becomes a status.
impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        match error {
            AppError::Forbidden { role, needed } => ApiError::Forbidden { role, needed },
            AppError::NotFound(what) => ApiError::NotFound(format!("no such {what}")),
            AppError::Malformed { name, detail } => ApiError::BadRequest { name, detail },
            AppError::Invalid { detail, errors } => ApiError::Invalid {
                detail,
                errors: errors
                    .into_iter()
                    .map(|e| serde_json::json!({ "field": e.field, "reason": e.reason }))
                    .collect(),
            },
            AppError::Conflict { name, detail, link } => ApiError::Conflict { name, detail, link },
            AppError::TooLarge(detail) => ApiError::TooLarge(detail),
            AppError::Unavailable(detail) => ApiError::Unavailable(detail),
            AppError::Internal(cause) => ApiError::Internal(cause),
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
        let mut extensions = serde_json::Map::new();
        match &self {
            ApiError::Invalid { errors, .. } => {
                extensions.insert("errors".into(), Value::from(errors.clone()));
            }
            ApiError::Conflict {
                link: Some(link), ..
            } => {
                extensions.insert("link".into(), Value::from(link.clone()));
            }
            _ => {}
        }
        let mut response = ProblemDetails::from_status_code(status)
            .with_type(kind)
            .with_detail(self.to_string())
            .with_extensions(extensions)
            .into_response();
        if let ApiError::RateLimited { retry_after, .. } = &self {
            let seconds = retry_after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        response
    }
}

/// A stored answer (an idempotent replay, an invalid upload's report) with the media type
/// its status calls for: JSON for a success, problem+json for a refusal.
pub fn stored_answer(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    if status.is_client_error() || status.is_server_error() {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    }
    response
}

/// The largest body of a refusal from outside our handlers (axum's own) that is read
/// into the problem's `detail`.
const FOREIGN_DETAIL_MAX_BYTES: usize = 1024;

/// Middleware: any refusal whose body is not JSON (axum's own: an empty 405, a plain-text
/// rejection) becomes problem+json with the same status, so that every error answer has the
/// same shape. JSON refusals are left alone: ours are problem+json already, and `/readyz`
/// says in JSON why the node is not ready.
pub async fn every_refusal_a_problem(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|media| media.starts_with("application/") && media.contains("json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let allow = response.headers().get(ALLOW).cloned();
    let text = axum::body::to_bytes(response.into_body(), FOREIGN_DETAIL_MAX_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let detail = match (status, &allow) {
        (StatusCode::METHOD_NOT_ALLOWED, Some(allow)) => format!(
            "this endpoint does not take {method}; it takes {}",
            allow.to_str().unwrap_or("another method")
        ),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("refused").to_owned(),
        _ => text,
    };
    let name = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::NOT_FOUND => "not-found",
        status if status.is_server_error() => "internal",
        _ => "bad-request",
    };
    let kind: Uri = format!("{PROBLEM_BASE}{name}")
        .parse()
        .expect("a problem name is a URI path segment");
    let mut problem = ProblemDetails::from_status_code(status)
        .with_type(kind)
        .with_detail(detail)
        .into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(ALLOW, allow);
    }
    problem
}
