//! What every Airtel test starts from: a wiremock Airtel that issues tokens, an adapter
//! whose PIN is encrypted with the public half of a key the tests hold, and requests.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};

use payrail_adapters::airtel::{AirtelConfig, AirtelMoney};
use payrail_adapters::http::HttpTimeouts;
use payrail_engine::ids::{PayoutId, Reference};
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{PaymentRequest, PayoutRequest};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Small enough to generate fast in a debug build; PKCS#1 v1.5 works the same at 2048.
const TEST_KEY_BITS: usize = 1024;
/// The PIN in clear, as configured.
pub const PIN: &str = "2468";
/// A Rwandan Airtel number, E.164 without '+', and as Airtel wants it.
pub const PAYEE: &str = "250731234567";
pub const PAYEE_LOCAL: &str = "731234567";

/// The key whose public half is configured as Airtel's; the tests decrypt the PIN with it.
pub static AIRTEL_KEY: LazyLock<RsaPrivateKey> = LazyLock::new(|| {
    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, TEST_KEY_BITS).expect("a test key")
});

/// A wiremock Airtel and an adapter pointed at it.
pub struct Airtel {
    pub server: MockServer,
    pub operator: AirtelMoney,
}

impl Airtel {
    /// Airtel issuing `token-1`, `token-2`, … on every token request.
    pub async fn start() -> Airtel {
        let airtel = Airtel::without_tokens(HttpTimeouts::default()).await;
        tokens().mount(&airtel.server).await;
        airtel
    }

    /// Airtel with nothing mounted: the test mounts its own token mock.
    pub async fn without_tokens(timeouts: HttpTimeouts) -> Airtel {
        let server = MockServer::start().await;
        let operator = AirtelMoney::new(config(&server.uri(), timeouts)).expect("an adapter");
        Airtel { server, operator }
    }

    /// Airtel answering `reply` to `verb path` after issuing tokens.
    pub async fn answering(verb: &str, at: &str, reply: ResponseTemplate) -> Airtel {
        let airtel = Airtel::start().await;
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(reply)
            .mount(&airtel.server)
            .await;
        airtel
    }

    /// The requests Airtel received at `at`, in order.
    pub async fn received(&self, at: &str) -> Vec<Request> {
        let all = self
            .server
            .received_requests()
            .await
            .expect("recording is on");
        all.into_iter()
            .filter(|request| request.url.path() == at)
            .collect()
    }
}

/// The configuration of a test adapter.
pub fn config(base_url: &str, timeouts: HttpTimeouts) -> AirtelConfig {
    let public_key = AIRTEL_KEY
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("a PEM public key");
    let text = format!(
        r#"
        base_url = "{base_url}/"
        client_id = "client-7"
        client_secret = "secret-7"
        pin = "{PIN}"
        public_key = """{public_key}"""
        "#
    );
    let mut config: AirtelConfig = toml::from_str(&text).expect("a test config");
    config.timeouts = timeouts;
    config
}

/// A token endpoint issuing `token-1`, `token-2`, … (as strings of seconds, as Airtel does).
pub fn tokens() -> Mock {
    Mock::given(method("POST"))
        .and(path("/auth/oauth2/token"))
        .respond_with(NumberedTokens::default())
}

/// Issues a new token on every request.
#[derive(Default)]
pub struct NumberedTokens(AtomicU32);

impl Respond for NumberedTokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": format!("token-{n}"),
            "expires_in": "3600",
            "token_type": "Bearer",
        }))
    }
}

/// Airtel's usual reply: `{"data":{"transaction":{…}},"status":{…}}`.
pub fn reply(response_code: &str, status: &str, success: bool) -> Value {
    json!({
        "data": {"transaction": {
            "reference_id": "18****354", "airtel_money_id": "MP210603.1234.L06941",
            "id": "ignored", "status": status, "message": "Transaction message",
        }},
        "status": {
            "response_code": response_code, "code": "200", "success": success,
            "result_code": "ESB000010", "message": "SUCCESS",
        },
    })
}

pub fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

pub fn payout() -> PayoutRequest {
    PayoutRequest {
        reference: Reference::new(),
        payout: PayoutId::new(),
        msisdn: Msisdn::from_e164(PAYEE).expect("a Rwandan mobile number"),
        amount: Amount::from_minor(1_500).expect("an amount"),
        currency: Currency::Rwf,
        note: Some("March salary".into()),
    }
}

pub fn payment() -> PaymentRequest {
    PaymentRequest {
        reference: Reference::new(),
        msisdn: Msisdn::from_e164(PAYEE).expect("a Rwandan mobile number"),
        amount: Amount::from_minor(2_500).expect("an amount"),
        currency: Currency::Rwf,
        message: Some("Order 42".into()),
    }
}

/// The PIN as Airtel would read it with its private key.
pub fn decrypt_pin(encrypted: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encrypted)
        .expect("the PIN is base64");
    let clear = AIRTEL_KEY
        .decrypt(rsa::Pkcs1v15Encrypt, &bytes)
        .expect("the PIN decrypts with Airtel's private key");
    String::from_utf8(clear).expect("a UTF-8 PIN")
}
