//! Capability tokens for operator callbacks. Each MTN payout's `X-Callback-Url` ends in
//! `/<payout id>/<token>`, the token an HMAC-SHA256 of the payout id under a node secret
//! (the first 128 bits, base64url). Whoever calls that URL back knows the token, which only
//! MTN was told: so a callback on it can be believed, once its body agrees with the payout.
//! The secrets live in the database (`store::callback_secrets`): every node signs and checks
//! with the same ones, the newest signs, and a replaced one is accepted for an overlap.

use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deadpool_postgres::GenericClient;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::ids::PayoutId;
use crate::store::{StoreError, callback_secrets};

/// Bytes of the MAC a token carries.
const TOKEN_BYTES: usize = 16;
/// What the MAC covers besides the payout id, so the key signs nothing else by accident.
const CONTEXT: &[u8] = b"payrail callback v1:";

/// The secrets accepted now, newest first; shared by the adapters that sign and the use
/// case that checks, and refreshed from the database.
#[derive(Clone)]
pub struct CallbackKeys {
    secrets: Arc<RwLock<Vec<[u8; 32]>>>,
}

impl std::fmt::Debug for CallbackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackKeys").finish_non_exhaustive()
    }
}

impl CallbackKeys {
    /// Keys from these secrets, newest first (at least one).
    pub fn new(secrets: Vec<[u8; 32]>) -> CallbackKeys {
        assert!(!secrets.is_empty(), "a callback keyring needs a secret");
        CallbackKeys {
            secrets: Arc::new(RwLock::new(secrets)),
        }
    }

    /// The secrets the database accepts now.
    pub async fn load(client: &impl GenericClient) -> Result<CallbackKeys, StoreError> {
        let secrets = callback_secrets::accepted(client).await?;
        if secrets.is_empty() {
            return Err(StoreError::Corrupt("no callback secret is accepted".into()));
        }
        Ok(CallbackKeys::new(secrets))
    }

    /// Reads the accepted secrets again (after a rotation, or as one expires).
    pub async fn refresh(&self, client: &impl GenericClient) -> Result<(), StoreError> {
        let secrets = callback_secrets::accepted(client).await?;
        if !secrets.is_empty() {
            *self.secrets.write().expect("the keyring lock") = secrets;
        }
        Ok(())
    }

    /// The token of `payout`'s callback URL, under the newest secret.
    pub fn token(&self, payout: PayoutId) -> String {
        let secrets = self.secrets.read().expect("the keyring lock");
        let tag = mac(&secrets[0], payout).finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&tag[..TOKEN_BYTES])
    }

    /// Whether `token` is `payout`'s under any accepted secret (in constant time each).
    pub fn verify(&self, payout: PayoutId, token: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        if tag.len() != TOKEN_BYTES {
            return false;
        }
        let secrets = self.secrets.read().expect("the keyring lock");
        secrets
            .iter()
            .any(|secret| mac(secret, payout).verify_truncated_left(&tag).is_ok())
    }
}

fn mac(secret: &[u8; 32], payout: PayoutId) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(CONTEXT);
    mac.update(payout.as_uuid().as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_for_its_payout_only() {
        let keys = CallbackKeys::new(vec![[7; 32]]);
        let (one, other) = (PayoutId::new(), PayoutId::new());
        let token = keys.token(one);
        assert_eq!(token.len(), 22);
        assert!(keys.verify(one, &token));
        assert!(!keys.verify(other, &token));
        assert!(!keys.verify(one, &keys.token(other)));
        assert!(!keys.verify(one, "not-a-token"));
        assert!(!keys.verify(one, &token[..21]));
    }

    #[test]
    fn a_replaced_secret_verifies_while_accepted_and_the_newest_signs() {
        let payout = PayoutId::new();
        let old = CallbackKeys::new(vec![[1; 32]]);
        let rotated = CallbackKeys::new(vec![[2; 32], [1; 32]]);
        assert!(rotated.verify(payout, &old.token(payout)));
        assert_ne!(rotated.token(payout), old.token(payout));
        let expired = CallbackKeys::new(vec![[2; 32]]);
        assert!(!expired.verify(payout, &old.token(payout)));
    }
}
