//! What an Airtel Money route is configured with, and what can be wrong with it at startup
//! (a bad URL, a bad key): found when the adapter is built, never on the first payout.

use payrail_engine::money::Currency;
use serde::{Deserialize, Serialize};

use crate::http::{ClientError, HttpTimeouts};
use crate::secret::Secret;

use super::pin::PublicKeyError;

/// One Airtel Money account (one country, one currency) as read from configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AirtelConfig {
    /// Airtel's API root, e.g. `https://openapi.airtel.africa` (a trailing '/' is ignored).
    pub base_url: String,
    /// ISO 3166 code sent as `X-Country` and in collection bodies.
    #[serde(default = "default_country")]
    pub country: String,
    /// Sent as `X-Currency`; payouts and payments in another currency are refused.
    #[serde(default = "default_currency")]
    pub currency: Currency,
    /// The country's calling code: Airtel wants numbers without it ("731234567"), and a
    /// number that does not start with it is not one this account can pay.
    #[serde(default = "default_dialling_code")]
    pub dialling_code: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The disbursement PIN in clear; it is sent only RSA-encrypted.
    pub pin: Secret,
    /// Airtel's RSA public key as its portal gives it: PEM (`-----BEGIN PUBLIC KEY-----`)
    /// or the bare base64 of the DER SubjectPublicKeyInfo.
    pub public_key: String,
    #[serde(default)]
    pub timeouts: HttpTimeouts,
}

fn default_country() -> String {
    "RW".into()
}

fn default_currency() -> Currency {
    Currency::Rwf
}

fn default_dialling_code() -> String {
    "250".into()
}

/// Why an Airtel adapter could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum AirtelSetupError {
    #[error("airtel base_url {base_url:?} is not an absolute http(s) URL")]
    BaseUrl { base_url: String },
    #[error("airtel country {country:?} must be two uppercase letters, e.g. \"RW\"")]
    Country { country: String },
    #[error("airtel dialling_code {dialling_code:?} must be 1 to 3 digits, e.g. \"250\"")]
    DiallingCode { dialling_code: String },
    #[error("airtel public_key: {0}")]
    PublicKey(#[from] PublicKeyError),
    #[error("encrypting the airtel PIN with public_key: {0}")]
    PinEncryption(#[source] rsa::Error),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Longest calling code in the ITU plan ("1" to "998"), in digits.
const DIALLING_CODE_DIGITS_MAX: usize = 3;

impl AirtelConfig {
    /// The checks that need no network: URL, country and dialling code.
    pub(super) fn validate(&self) -> Result<(), AirtelSetupError> {
        let url = reqwest::Url::parse(&self.base_url).ok();
        if !url.is_some_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host()) {
            return Err(AirtelSetupError::BaseUrl {
                base_url: self.base_url.clone(),
            });
        }
        let country_ok = self.country.len() == 2
            && self
                .country
                .bytes()
                .all(|letter| letter.is_ascii_uppercase());
        if !country_ok {
            return Err(AirtelSetupError::Country {
                country: self.country.clone(),
            });
        }
        let code = &self.dialling_code;
        let code_ok = (1..=DIALLING_CODE_DIGITS_MAX).contains(&code.len())
            && code.bytes().all(|digit| digit.is_ascii_digit());
        if !code_ok {
            return Err(AirtelSetupError::DiallingCode {
                dialling_code: code.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        base_url = "https://openapiuat.airtel.africa"
        client_id = "id"
        client_secret = "s3cr3t-value"
        pin = "9876"
        public_key = "MIIB"
    "#;

    #[test]
    fn defaults_are_rwanda() {
        let config: AirtelConfig = toml::from_str(MINIMAL).expect("a minimal config");
        assert_eq!(config.country, "RW");
        assert_eq!(config.currency, Currency::Rwf);
        assert_eq!(config.dialling_code, "250");
        assert_eq!(config.timeouts, HttpTimeouts::default());
        config.validate().expect("valid");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let text = format!("{MINIMAL}\nx_callback_url = \"https://example.com\"");
        let error = toml::from_str::<AirtelConfig>(&text).expect_err("unknown key");
        assert!(error.to_string().contains("x_callback_url"), "{error}");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config: AirtelConfig = toml::from_str(MINIMAL).expect("a minimal config");
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("s3cr3t") && !printed.contains("9876"),
            "{printed}"
        );
    }

    #[test]
    fn a_bad_url_country_or_dialling_code_is_named() {
        let config: AirtelConfig = toml::from_str(MINIMAL).expect("a minimal config");
        let broken = [
            AirtelConfig {
                base_url: "openapi.airtel.africa".into(),
                ..config.clone()
            },
            AirtelConfig {
                country: "rw".into(),
                ..config.clone()
            },
            AirtelConfig {
                dialling_code: "+250".into(),
                ..config
            },
        ];
        let errors: Vec<String> = broken
            .iter()
            .map(|config| config.validate().expect_err("invalid").to_string())
            .collect();
        assert!(errors[0].contains("base_url"), "{}", errors[0]);
        assert!(errors[1].contains("country"), "{}", errors[1]);
        assert!(errors[2].contains("dialling_code"), "{}", errors[2]);
    }
}
