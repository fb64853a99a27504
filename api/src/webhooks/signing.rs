//! Standard Webhooks signatures: `webhook-signature` is `v1,` and the base64 HMAC-SHA256
//! of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes of the merchant's
//! secret (`whsec_` then base64 of 24 random bytes).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use payrail_engine::app::webhooks::SECRET_PREFIX;
use sha2::Sha256;

/// The headers a webhook carries.
pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// A stored secret that is not `whsec_` and base64.
#[derive(Debug, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64")]
pub struct BadSecret;

/// The `webhook-signature` of `body`, sent as `id` at `timestamp` (unix seconds).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .ok_or(BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_implementations_vector_is_reproduced() {
        // From the Standard Webhooks reference libraries' own tests.
        let signature = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .expect("a valid secret");
        assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn a_new_secret_is_24_random_bytes_and_signs() {
        use payrail_engine::app::webhooks::new_secret;
        let secret = new_secret();
        let key = STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).expect("the prefix"))
            .expect("base64");
        assert_eq!(key.len(), 24);
        assert_ne!(secret, new_secret());
        assert!(sign(&secret, "msg_1", 1, b"{}").is_ok());
    }

    #[test]
    fn a_secret_of_another_shape_is_refused() {
        assert!(sign("C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_1", 1, b"{}").is_err());
        assert!(sign("whsec_not base64!", "msg_1", 1, b"{}").is_err());
    }
}
