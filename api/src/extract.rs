//! What handlers take from a request: the authenticated caller, from
//! `Authorization: Bearer` with one of our keys, found by its public prefix and checked
//! against the stored hash, and held to its key's request rate (429 with `Retry-After`).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use payrail_engine::api_key::{Role, hash_key, prefix_of};
use payrail_engine::ids::{ApiKeyId, MerchantId};

use crate::AppState;
use crate::problem::ApiError;

const KEY_BY_PREFIX: &str =
    "SELECT id, merchant_id, hash, role FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL";

/// Who is calling: a merchant's key and its role.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub merchant: MerchantId,
    pub key: ApiKeyId,
    pub role: Role,
}

impl Caller {
    /// Refuses the call unless the key's role is one of `allowed` (admin may do anything).
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || allowed.contains(&self.role) {
            return Ok(());
        }
        let needed: Vec<&str> = allowed.iter().map(|role| role.as_str()).collect();
        Err(ApiError::Forbidden {
            role: self.role,
            needed: needed.join(", "),
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
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
        let unknown = ApiError::Unauthenticated("this API key is unknown or revoked");
        let Some(prefix) = prefix_of(presented) else {
            return Err(unknown);
        };
        let client = state.pool.get().await.map_err(ApiError::internal)?;
        let statement = client
            .prepare_cached(KEY_BY_PREFIX)
            .await
            .map_err(ApiError::internal)?;
        let row = client
            .query_opt(&statement, &[&prefix])
            .await
            .map_err(ApiError::internal)?
            .ok_or(unknown)?;
        let stored: &[u8] = row.get(2);
        if stored != hash_key(presented).as_slice() {
            return Err(ApiError::Unauthenticated(
                "this API key is unknown or revoked",
            ));
        }
        let role: &str = row.get(3);
        let caller = Caller {
            key: row.get(0),
            merchant: row.get(1),
            role: role.parse().map_err(ApiError::internal)?,
        };
        if let Err(not_until) = state.settings.limiter.check_key(&caller.key) {
            let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
            return Err(ApiError::RateLimited {
                retry_after: not_until.wait_time_from(now),
            });
        }
        Ok(caller)
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

    fn caller(role: Role) -> Caller {
        Caller {
            merchant: MerchantId::new(),
            key: ApiKeyId::new(),
            role,
        }
    }

    #[test]
    fn a_role_not_listed_is_forbidden_and_told_what_is_needed() {
        let refused = caller(Role::Viewer)
            .require(&[Role::Maker])
            .expect_err("a viewer may not create");
        assert_eq!(
            refused.to_string(),
            "a viewer key may not do this; it needs one of: maker"
        );
        assert!(caller(Role::Maker).require(&[Role::Maker]).is_ok());
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(bearer_token("Bearer pr_a_b"), Some("pr_a_b"));
        assert_eq!(bearer_token("bearer  pr_a_b "), Some("pr_a_b"));
        assert_eq!(bearer_token("BEARER pr_a_b"), Some("pr_a_b"));
        assert_eq!(bearer_token("Basic pr_a_b"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }

    #[test]
    fn an_admin_may_do_anything() {
        assert!(caller(Role::Admin).require(&[Role::Checker]).is_ok());
    }
}
