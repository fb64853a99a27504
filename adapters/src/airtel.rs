//! Airtel Money over HTTP: disbursements (payouts), collections (requests to pay), the
//! account holder and the balance, every answer read through one table (`mapping`).
//!
//! # Layout
//! - `config`: the route's configuration and what can be wrong with it at startup
//! - `pin`: the disbursement PIN, RSA-encrypted once with Airtel's public key
//! - `exchange`: one authenticated call: token, headers, one resend after a 401
//! - `wire`: Airtel's JSON, written exactly and read leniently
//! - `mapping`: THE table of what Airtel said → what the engine may do
//! - `callback`: Airtel's callback read as a hint

mod callback;
mod config;
mod exchange;
mod mapping;
mod pin;
mod wire;

use ::http::{HeaderValue, Method};
use payrail_engine::ids::Reference;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};

pub use callback::parse_callback;
pub use config::{AirtelConfig, AirtelSetupError};
pub use mapping::{EXPIRED, collection_code, disbursement_code};
pub use pin::PublicKeyError;

use crate::http;
use crate::secret::Secret;
use crate::token::TokenCache;
use exchange::AirtelApi;
use wire::{
    DisbursementBody, DisbursementTransaction, Payee, PaymentBody, PaymentTransaction, Subscriber,
};

/// The code of a payee or customer whose number is not of this account's country.
pub const MSISDN_OUTSIDE_COUNTRY: &str = "MSISDN_OUTSIDE_COUNTRY";
/// The code of a payout or payment in another currency than this account's.
pub const CURRENCY_NOT_SUPPORTED: &str = "CURRENCY_NOT_SUPPORTED";

/// One Airtel Money account as an `Operator`. Cheap to share; calls may run concurrently and
/// share one token.
#[derive(Debug)]
pub struct AirtelMoney {
    api: AirtelApi,
    country: String,
    currency: Currency,
    dialling_code: String,
    /// Encrypted once at startup: a key that does not work stops the route there.
    encrypted_pin: Secret,
}

impl AirtelMoney {
    /// Checks the configuration, reads the key, encrypts the PIN and builds the client.
    pub fn new(config: AirtelConfig) -> Result<AirtelMoney, AirtelSetupError> {
        config.validate()?;
        let key = pin::read_public_key(&config.public_key)?;
        let encrypted_pin =
            pin::encrypt_pin(&key, &config.pin).map_err(AirtelSetupError::PinEncryption)?;
        let api = AirtelApi {
            client: http::OperatorClient::new(config.timeouts)?,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            country: HeaderValue::from_str(&config.country)
                .expect("validated: two uppercase letters are a header value"),
            currency: HeaderValue::from_static(config.currency.code()),
            client_id: config.client_id,
            client_secret: config.client_secret,
            tokens: TokenCache::default(),
        };
        Ok(AirtelMoney {
            api,
            country: config.country,
            currency: config.currency,
            dialling_code: config.dialling_code,
            encrypted_pin,
        })
    }

    /// The number as Airtel wants it, without the dialling code; a number of another
    /// country is refused before anything is sent.
    fn local_number<'a>(&self, msisdn: &'a Msisdn) -> Result<&'a str, OperatorError> {
        msisdn
            .as_str()
            .strip_prefix(self.dialling_code.as_str())
            .filter(|local| !local.is_empty())
            .ok_or_else(|| OperatorError::Rejected {
                code: MSISDN_OUTSIDE_COUNTRY.into(),
            })
    }

    /// Amounts travel in this account's currency only (it is in `X-Currency` too).
    fn check_currency(&self, currency: Currency) -> Result<(), OperatorError> {
        if currency == self.currency {
            return Ok(());
        }
        Err(OperatorError::Rejected {
            code: CURRENCY_NOT_SUPPORTED.into(),
        })
    }

    fn major_units(&self, amount: Amount) -> serde_json::Number {
        amount
            .format(self.currency)
            .parse()
            .expect("a formatted amount is digits with at most one '.', a JSON number")
    }
}

/// Our ids as short text for Airtel's free `reference` field: 32 hex digits, no dashes,
/// since partners report Airtel wants it alphanumeric (4 to 64 characters).
fn reference_text(uuid: &uuid::Uuid) -> String {
    uuid.simple().to_string()
}

#[async_trait::async_trait]
impl Operator for AirtelMoney {
    #[tracing::instrument(skip_all, fields(reference = %request.reference, payout_id = %request.payout))]
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        self.check_currency(request.currency)?;
        let body = DisbursementBody {
            payee: Payee {
                msisdn: self.local_number(&request.msisdn)?,
                wallet_type: "NORMAL",
            },
            reference: &reference_text(request.payout.as_uuid()),
            pin: self.encrypted_pin.expose(),
            transaction: DisbursementTransaction {
                amount: self.major_units(request.amount),
                id: request.reference.to_string(),
                kind: "B2C",
            },
        };
        let path = "/standard/v2/disbursements/";
        let answer = self
            .api
            .call(Method::POST, path, Some(http::json_body(&body)?))
            .await?;
        mapping::disbursement(&answer)
    }

    #[tracing::instrument(skip_all, fields(%reference))]
    async fn query_payout(
        &self,
        reference: Reference,
    ) -> Result<Option<PayoutStatus>, OperatorError> {
        let path = format!("/standard/v2/disbursements/{reference}?transactionType=B2C");
        let answer = self.api.call(Method::GET, &path, None).await?;
        mapping::disbursement_enquiry(&answer)
    }

    #[tracing::instrument(skip_all, fields(reference = %request.reference))]
    async fn request_payment(
        &self,
        request: &PaymentRequest,
    ) -> Result<PaymentStatus, OperatorError> {
        self.check_currency(request.currency)?;
        let currency = self.currency.code();
        let body = PaymentBody {
            reference: &reference_text(request.reference.as_uuid()),
            subscriber: Subscriber {
                country: &self.country,
                currency,
                msisdn: self.local_number(&request.msisdn)?,
            },
            transaction: PaymentTransaction {
                amount: self.major_units(request.amount),
                country: &self.country,
                currency,
                id: request.reference.to_string(),
            },
        };
        let path = "/merchant/v1/payments/";
        let answer = self
            .api
            .call(Method::POST, path, Some(http::json_body(&body)?))
            .await?;
        mapping::payment_request(&answer)
    }

    #[tracing::instrument(skip_all, fields(%reference))]
    async fn query_payment(
        &self,
        reference: Reference,
    ) -> Result<Option<PaymentStatus>, OperatorError> {
        let path = format!("/standard/v1/payments/{reference}");
        let answer = self.api.call(Method::GET, &path, None).await?;
        mapping::payment_enquiry(&answer)
    }

    #[tracing::instrument(skip_all, fields(msisdn = %msisdn.masked()))]
    async fn account_holder(&self, msisdn: &Msisdn) -> Result<AccountHolder, OperatorError> {
        let path = format!("/standard/v1/users/{}", self.local_number(msisdn)?);
        let answer = self.api.call(Method::GET, &path, None).await?;
        mapping::account_holder(&answer)
    }

    #[tracing::instrument(skip_all)]
    async fn balance(&self) -> Result<(Amount, Currency), OperatorError> {
        let answer = self
            .api
            .call(Method::GET, "/standard/v1/users/balance", None)
            .await?;
        mapping::balance(&answer, self.currency)
    }
}
