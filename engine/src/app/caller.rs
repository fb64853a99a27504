//! Who asks: a merchant's API key and its role. Every use case takes the caller and checks
//! its role first; the caller's merchant scopes everything it reads, so another merchant's
//! object is only ever "not found".

use super::caches::KnownKey;
use super::{App, AppError};
use crate::api_key::{Role, hash_key, prefix_of};
use crate::ids::{ApiKeyId, MerchantId};
use crate::store::api_keys;

/// A merchant's key, authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub merchant: MerchantId,
    pub key: ApiKeyId,
    pub role: Role,
}

/// Roles that may read everything of their merchant.
pub const READERS: &[Role] = &[Role::Viewer, Role::Maker, Role::Checker];

impl Caller {
    /// Refuses unless the caller's role is one of `allowed` (admin may do anything).
    pub fn require(&self, allowed: &[Role]) -> Result<(), AppError> {
        if self.role == Role::Admin || allowed.contains(&self.role) {
            return Ok(());
        }
        let needed: Vec<&str> = allowed.iter().map(|role| role.as_str()).collect();
        Err(AppError::Forbidden {
            role: self.role,
            needed: needed.join(", "),
        })
    }
}

/// Who reads a merchant's reports: one of its keys, or the node's operator at the command
/// line, who names the merchant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Key(Caller),
    Operator(MerchantId),
}

impl Reader {
    /// The merchant read, once the key's role may read it.
    pub fn merchant(&self) -> Result<MerchantId, AppError> {
        match self {
            Reader::Key(caller) => {
                caller.require(READERS)?;
                Ok(caller.merchant)
            }
            Reader::Operator(merchant) => Ok(*merchant),
        }
    }
}

/// Why a presented key was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this API key is unknown or revoked")]
pub struct UnknownKey;

impl App {
    /// The caller a presented key (`pr_…`) stands for: found by its public prefix among
    /// unrevoked keys and checked against the stored hash. A key found is kept for
    /// `caches::CACHED_FOR`, so one revoked by another node works here that long at most.
    pub async fn authenticate(
        &self,
        presented: &str,
    ) -> Result<Result<Caller, UnknownKey>, AppError> {
        let Some(prefix) = prefix_of(presented) else {
            return Ok(Err(UnknownKey));
        };
        let known = match self.keys.get(prefix) {
            Some(known) => known,
            None => {
                let client = self.pool.get().await?;
                let Some(stored) = api_keys::by_prefix(&client, prefix).await? else {
                    return Ok(Err(UnknownKey));
                };
                let known = KnownKey {
                    hash: stored.hash,
                    caller: Caller {
                        merchant: stored.merchant,
                        key: stored.id,
                        role: stored.role,
                    },
                };
                self.keys.keep(prefix, known.clone());
                known
            }
        };
        if known.hash != hash_key(presented).as_slice() {
            return Ok(Err(UnknownKey));
        }
        Ok(Ok(known.caller))
    }
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
    fn an_admin_may_do_anything() {
        assert!(caller(Role::Admin).require(&[Role::Checker]).is_ok());
    }
}
