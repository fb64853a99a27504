//! What handlers take from a request: the authenticated caller, from
//! `Authorization: Bearer` with one of our keys (checked by the application layer), held
//! to its key's request rate (429 with `Retry-After`).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use payrail_engine::app::Caller;

use crate::AppState;
use crate::problem::ApiError;

/// The caller of a request, authenticated by its API key.
#[derive(Clone, Copy, Debug)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Authenticated, ApiError> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated(
                "send your API key as `Authorization: Bearer pr_…`",
            ))?
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or(ApiError::Unauthenticated(
                "the Authorization header must be `Bearer pr_…`",
            ))?;
        let caller = state
            .app
            .authenticate(presented)
            .await?
            .map_err(|_| ApiError::Unauthenticated("this API key is unknown or revoked"))?;
        if let Err(not_until) = state.limiter.check_key(&caller.key) {
            let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
            return Err(ApiError::RateLimited {
                who: "API key",
                retry_after: not_until.wait_time_from(now),
            });
        }
        Ok(Authenticated(caller))
    }
}

/// The token of `Bearer <token>`; the scheme's case does not matter (RFC 9110, 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(bearer_token("Bearer pr_a_b"), Some("pr_a_b"));
        assert_eq!(bearer_token("bearer  pr_a_b "), Some("pr_a_b"));
        assert_eq!(bearer_token("BEARER pr_a_b"), Some("pr_a_b"));
        assert_eq!(bearer_token("Basic pr_a_b"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
