//! API keys: random, shown once, stored as a SHA-256 hash, with a recognisable public
//! prefix (`pr_…`) by which a presented key is found, and a role.
//!
//! A key carries ~190 bits of randomness, so a fast hash is enough: unlike a password it
//! cannot be guessed from a dictionary, and hashing it on every request must stay cheap.

use std::fmt;
use std::str::FromStr;

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

/// Every key starts with this, so secret scanners and people recognise one.
pub const KEY_PREFIX: &str = "pr_";
/// Characters of the public lookup part after `pr_`.
const LOOKUP_LEN: usize = 12;
/// Characters of the secret part (alphanumeric: ~190 bits).
const SECRET_LEN: usize = 32;

/// What a key may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything of its merchant.
    Viewer,
    /// Creates payouts, batches and collections.
    Maker,
    /// Approves batches that need a second person.
    Checker,
    /// Everything, including the merchant's settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Maker, Role::Checker, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Maker => "maker",
            Role::Checker => "checker",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("unknown role `{0}` (expected viewer, maker, checker or admin)")]
pub struct UnknownRole(String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

/// A newly generated key: `secret` is shown once and never stored.
#[derive(Debug)]
pub struct NewApiKey {
    /// The public part, `pr_` + lookup id: stored in clear to find the key.
    pub prefix: String,
    /// The whole key the client presents.
    pub secret: String,
    /// SHA-256 of `secret`: what is stored.
    pub hash: [u8; 32],
}

impl NewApiKey {
    pub fn generate() -> NewApiKey {
        let mut rng = rand::rng();
        let prefix = format!(
            "{KEY_PREFIX}{}",
            Alphanumeric.sample_string(&mut rng, LOOKUP_LEN)
        );
        let secret = format!(
            "{prefix}_{}",
            Alphanumeric.sample_string(&mut rng, SECRET_LEN)
        );
        let hash = hash_key(&secret);
        NewApiKey {
            prefix,
            secret,
            hash,
        }
    }
}

/// The hash stored for a key.
pub fn hash_key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The public prefix of a presented key, or `None` if it is not shaped like one of ours.
pub fn prefix_of(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (lookup, secret) = rest.split_once('_')?;
    let shaped = lookup.len() == LOOKUP_LEN
        && secret.len() == SECRET_LEN
        && lookup
            .bytes()
            .chain(secret.bytes())
            .all(|b| b.is_ascii_alphanumeric());
    shaped.then(|| &presented[..KEY_PREFIX.len() + LOOKUP_LEN])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_recognisable_and_unique() {
        let first = NewApiKey::generate();
        let second = NewApiKey::generate();
        assert!(first.secret.starts_with("pr_"));
        assert_eq!(prefix_of(&first.secret), Some(first.prefix.as_str()));
        assert_ne!(first.secret, second.secret);
        assert_ne!(first.prefix, second.prefix);
    }

    #[test]
    fn the_stored_hash_matches_only_the_presented_key() {
        let key = NewApiKey::generate();
        assert_eq!(hash_key(&key.secret), key.hash);
        let mut tampered = key.secret.clone();
        tampered.pop();
        tampered.push('#');
        assert_ne!(hash_key(&tampered), key.hash);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for text in [
            "",
            "pr_",
            "pr_short_secret",
            "sk_abcdefghijkl_abcdefghijklmnopqrstuvwxyz012345",
        ] {
            assert_eq!(prefix_of(text), None, "{text}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().expect("known role"), role);
        }
        assert!("owner".parse::<Role>().is_err());
    }
}
