//! Standard Webhooks signatures: `webhook-signature` is `v1,` and the base64 HMAC-SHA256
//! of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes of the merchant's
//! secret (`whsec_` then base64 of 24 random bytes). While a rotated secret's overlap
//! lasts, the header carries one signature per secret, space-separated, the current one
//! first (`v1,<new> v1,<old>`): a receiver accepts the event if any of them verifies.

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

/// The `webhook-signature` of `body` signed with `secret` and, while its overlap lasts,
/// with the `previous` secret it replaced: `v1,<current> v1,<previous>`.
pub fn sign_all(
    secret: &str,
    previous: Option<&str>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, BadSecret> {
    let current = sign(secret, id, timestamp, body)?;
    match previous {
        Some(previous) => Ok(format!(
            "{current} {}",
            sign(previous, id, timestamp, body)?
        )),
        None => Ok(current),
    }
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
    fn during_an_overlap_the_header_carries_the_current_signature_then_the_previous() {
        let (current, previous) = (
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        );
        let (id, timestamp, body) = ("msg_1", 1_649_367_553, br#"{"type":"batch.paid"}"#);
        let header = sign_all(current, Some(previous), id, timestamp, body).expect("valid secrets");
        let signatures: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            signatures,
            [
                sign(current, id, timestamp, body).expect("valid").as_str(),
                sign(previous, id, timestamp, body).expect("valid").as_str(),
            ]
        );
        assert_ne!(signatures[0], signatures[1]);
        assert!(
            signatures
                .iter()
                .all(|signature| signature.starts_with("v1,"))
        );
        assert_eq!(
            sign_all(current, None, id, timestamp, body).expect("valid"),
            signatures[0],
            "without an overlap, one signature"
        );
        assert!(sign_all(current, Some("whsec_not base64!"), id, timestamp, body).is_err());
    }

    #[test]
    fn a_standard_webhooks_receiver_with_either_secret_verifies_both_signatures() {
        let (current, previous) = (
            payrail_engine::app::webhooks::new_secret(),
            payrail_engine::app::webhooks::new_secret(),
        );
        let (id, body) = ("msg_2", br#"{"type":"payout.succeeded"}"#);
        let timestamp = jiff::Timestamp::now().as_second();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(ID_HEADER, id.parse().expect("a header"));
        headers.insert(
            TIMESTAMP_HEADER,
            timestamp.to_string().parse().expect("a header"),
        );
        let signature =
            sign_all(&current, Some(&previous), id, timestamp, body).expect("valid secrets");
        headers.insert(SIGNATURE_HEADER, signature.parse().expect("a header"));
        for secret in [&current, &previous] {
            standardwebhooks::Webhook::new(secret)
                .expect("the secret reads")
                .verify(body, &headers)
                .expect("verifies with either secret");
        }
        let stranger = payrail_engine::app::webhooks::new_secret();
        assert!(
            standardwebhooks::Webhook::new(&stranger)
                .expect("the secret reads")
                .verify(body, &headers)
                .is_err()
        );
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
