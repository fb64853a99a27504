//! Access tokens: issued per credential and audience (an MTN product or Airtel), looked up
//! in one map on every call, refused once expired.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use super::profile::Product;

/// Tokens held before expired ones are swept out on the next issue.
const TOKENS_SWEEP_AT: usize = 10_000;
/// Most live tokens: a client asking for one per request gets refused past this.
const TOKENS_MAX: usize = 1_000_000;

/// Who a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Audience {
    Mtn(Product),
    Airtel,
}

/// What a valid token grants.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) audience: Audience,
    /// The credential: `mtn:<apiUser>` or `airtel:<client_id>`. Transfers and status
    /// limits belong to it.
    pub(crate) owner: Arc<str>,
    /// With pinned credentials, the subscription key every MTN call must carry.
    pub(crate) subscription_key: Option<Arc<str>>,
    expires: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct Tokens {
    grants: RwLock<HashMap<Box<str>, Grant>>,
}

impl Tokens {
    /// A new token, or `None` when too many live tokens exist.
    pub(crate) fn issue(
        &self,
        audience: Audience,
        owner: Arc<str>,
        subscription_key: Option<Arc<str>>,
        ttl: Duration,
    ) -> Option<String> {
        let now = Instant::now();
        let token = format!("sim{}", Uuid::new_v4().simple());
        let mut grants = self.grants.write().unwrap_or_else(PoisonError::into_inner);
        if grants.len() >= TOKENS_SWEEP_AT {
            grants.retain(|_, grant| grant.expires > now);
        }
        if grants.len() >= TOKENS_MAX {
            return None;
        }
        let grant = Grant {
            audience,
            owner,
            subscription_key,
            expires: now + ttl,
        };
        grants.insert(token.clone().into_boxed_str(), grant);
        Some(token)
    }

    /// The grant of a live token for this audience.
    pub(crate) fn check(&self, token: &str, audience: Audience) -> Option<Grant> {
        let grants = self.grants.read().unwrap_or_else(PoisonError::into_inner);
        grants
            .get(token)
            .filter(|grant| grant.audience == audience && grant.expires > Instant::now())
            .cloned()
    }
}

/// The token of an `Authorization: Bearer …` header value.
pub(crate) fn bearer(value: Option<&str>) -> Option<&str> {
    let (scheme, token) = value?.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_token_works_for_its_audience_until_it_expires() {
        let tokens = Tokens::default();
        let audience = Audience::Mtn(Product::Disbursement);
        let token = tokens
            .issue(audience, "mtn:user".into(), None, Duration::from_secs(60))
            .expect("room for a token");
        assert!(tokens.check(&token, audience).is_some());
        assert!(
            tokens
                .check(&token, Audience::Mtn(Product::Collection))
                .is_none()
        );
        assert!(tokens.check("sim-unknown", audience).is_none());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(tokens.check(&token, audience).is_none());
    }

    #[test]
    fn bearer_reads_the_token_only() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(None), None);
    }
}
