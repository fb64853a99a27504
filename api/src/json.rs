//! `ApiJson<T>`: a JSON body whose every refusal is problem+json — a wrong content type
//! (415), malformed JSON (400), a field unknown or of the wrong type (422) and a body over
//! the endpoint's limit (413) each say what to fix.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// The largest JSON body most endpoints take; batch uploads have their own limit.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body, deserialized into `T` (which should deny unknown fields).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(refusal(&rejection)),
        }
    }
}

/// The problem for a JSON body axum could not read.
pub fn refusal(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "this endpoint reads JSON: send `Content-Type: application/json`".into(),
        ),
        JsonRejection::JsonSyntaxError(error) => {
            ApiError::bad_request("malformed-json", error.body_text())
        }
        JsonRejection::JsonDataError(error) => ApiError::Invalid {
            detail: error.body_text(),
            errors: Vec::new(),
        },
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge("the request body is larger than this endpoint accepts".into())
        }
        other => ApiError::bad_request("unreadable-body", other.body_text()),
    }
}
