//! The disbursement PIN as Airtel wants it: RSA PKCS#1 v1.5 encrypted with Airtel's public
//! key, then base64. Done once at startup, so a bad key stops the route from starting.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, RsaPublicKey};

use crate::secret::Secret;

/// Airtel's public key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PublicKeyError {
    #[error("the PEM text is not an RSA public key (SubjectPublicKeyInfo): {0}")]
    Pem(#[source] rsa::pkcs8::spki::Error),
    #[error("the key is neither PEM nor base64: {0}")]
    NotBase64(#[source] base64::DecodeError),
    #[error("the base64 text is not the DER of an RSA SubjectPublicKeyInfo: {0}")]
    Der(#[source] rsa::pkcs8::spki::Error),
}

/// Reads the key as Airtel's portal gives it: PEM, or the bare base64 of its DER (the PEM
/// body without its armour lines, possibly wrapped over several lines).
pub fn read_public_key(text: &str) -> Result<RsaPublicKey, PublicKeyError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return RsaPublicKey::from_public_key_pem(text).map_err(PublicKeyError::Pem);
    }
    let compact: String = text.split_whitespace().collect();
    let der = STANDARD
        .decode(compact)
        .map_err(PublicKeyError::NotBase64)?;
    RsaPublicKey::from_public_key_der(&der).map_err(PublicKeyError::Der)
}

/// The PIN encrypted for Airtel, base64. PKCS#1 v1.5 padding is random, so two calls give
/// different texts; Airtel accepts any of them, and the adapter keeps the first.
pub fn encrypt_pin(key: &RsaPublicKey, pin: &Secret) -> Result<Secret, rsa::Error> {
    let mut rng = rsa::rand_core::OsRng;
    let encrypted = key.encrypt(&mut rng, Pkcs1v15Encrypt, pin.expose().as_bytes())?;
    Ok(Secret::new(STANDARD.encode(encrypted)))
}

#[cfg(test)]
mod tests {
    use rsa::RsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};

    use super::*;

    /// Small enough to generate fast in a debug build; the padding works the same.
    const TEST_KEY_BITS: usize = 1024;

    fn private_key() -> RsaPrivateKey {
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, TEST_KEY_BITS).expect("a test key")
    }

    fn decrypt(key: &RsaPrivateKey, encrypted: &Secret) -> String {
        let bytes = STANDARD.decode(encrypted.expose()).expect("base64");
        let clear = key.decrypt(Pkcs1v15Encrypt, &bytes).expect("decryptable");
        String::from_utf8(clear).expect("utf-8")
    }

    #[test]
    fn the_pin_decrypts_with_the_private_key_from_pem_or_bare_base64() {
        let private = private_key();
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("a PEM");
        let der = private.to_public_key().to_public_key_der().expect("a DER");
        let bare = STANDARD.encode(der.as_bytes());
        for text in [pem.as_str(), bare.as_str()] {
            let key = read_public_key(text).expect("a readable key");
            let encrypted = encrypt_pin(&key, &Secret::new("4321")).expect("encrypted");
            assert_eq!(decrypt(&private, &encrypted), "4321");
        }
    }

    #[test]
    fn a_wrapped_base64_key_is_read() {
        let der = private_key()
            .to_public_key()
            .to_public_key_der()
            .expect("a DER");
        let wrapped = STANDARD
            .encode(der.as_bytes())
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("ascii"))
            .collect::<Vec<_>>()
            .join("\n");
        read_public_key(&wrapped).expect("a readable key");
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        assert!(matches!(
            read_public_key("not a key!"),
            Err(PublicKeyError::NotBase64(_))
        ));
        assert!(matches!(
            read_public_key("aGVsbG8="),
            Err(PublicKeyError::Der(_))
        ));
        assert!(matches!(
            read_public_key("-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----"),
            Err(PublicKeyError::Pem(_))
        ));
    }
}
