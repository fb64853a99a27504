//! MTN MoMo over HTTP: payouts through the disbursement product (`transfer`), requests to
//! pay through the collection product, each with its own credentials and token.
//! `X-Reference-Id` is the payout's reference on every attempt, so MTN answers a resend
//! of something it already has with 409 rather than paying twice. With callback keys, a
//! transfer's `X-Callback-Url` is a capability: `<callback_url>/<payout id>/<token>`.

mod callback;
mod config;
pub mod mapping;
mod product;
mod wire;

use bytes::Bytes;
use http::Request;
use http::header::CONTENT_TYPE;
use http::request::Builder;
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::ids::{PayoutId, Reference};
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};

pub use callback::{parse_callback, parse_report};
pub use config::{MtnConfig, PRODUCTION_BASE_URL, ProductCredentials};

use crate::http::{ClientError, OperatorClient, json_body};
use product::Product;
use wire::{ActiveReply, BalanceReply, BasicUserInfo, Party, RequestToPay, Transfer};

const REFERENCE_ID: &str = "X-Reference-Id";
const CALLBACK_URL: &str = "X-Callback-Url";

/// One MTN MoMo route.
#[derive(Debug)]
pub struct MtnMomo {
    disbursement: Product,
    collection: Option<Product>,
    currency: Currency,
    callback_url: Option<String>,
    /// Sign each transfer's callback URL with these (see `callback_token`).
    callback_keys: Option<CallbackKeys>,
}

impl MtnMomo {
    pub fn new(config: MtnConfig) -> Result<MtnMomo, ClientError> {
        let client = OperatorClient::new(config.timeouts)?;
        let product = |name: &str, credentials| {
            Product::new(
                &config.base_url,
                name,
                credentials,
                &config.target_environment,
                client.clone(),
            )
        };
        Ok(MtnMomo {
            disbursement: product("disbursement", config.disbursement.clone()),
            collection: config
                .collection
                .clone()
                .map(|credentials| product("collection", credentials)),
            currency: config.currency,
            callback_url: config.callback_url,
            callback_keys: None,
        })
    }

    /// Gives each transfer a capability callback URL signed with `keys` (when a callback
    /// URL is configured): a callback on it can settle the payout.
    pub fn with_callback_keys(mut self, keys: CallbackKeys) -> MtnMomo {
        self.callback_keys = Some(keys);
        self
    }

    /// Whether this route's transfers get callbacks that can be trusted.
    pub fn trusts_callbacks(&self) -> bool {
        self.callback_url.is_some() && self.callback_keys.is_some()
    }

    /// Refuses, before anything is sent, an amount in another currency than the route's.
    fn check_currency(&self, currency: Currency) -> Result<(), OperatorError> {
        if currency == self.currency {
            return Ok(());
        }
        Err(OperatorError::Rejected {
            code: "INVALID_CURRENCY".into(),
        })
    }

    fn collection(&self) -> Result<&Product, OperatorError> {
        self.collection.as_ref().ok_or(OperatorError::Rejected {
            code: "COLLECTION_NOT_CONFIGURED".into(),
        })
    }

    /// A POST of JSON to `url` with `X-Reference-Id` and, when configured,
    /// `X-Callback-Url`: for a transfer (`payout`) with callback keys, the payout's
    /// capability URL.
    fn creating(&self, url: &str, reference: Reference, payout: Option<PayoutId>) -> Builder {
        let request = Request::post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(REFERENCE_ID, reference.to_string());
        let Some(url) = &self.callback_url else {
            return request;
        };
        match (payout, &self.callback_keys) {
            (Some(payout), Some(keys)) => request.header(
                CALLBACK_URL,
                format!(
                    "{}/{payout}/{}",
                    url.trim_end_matches('/'),
                    keys.token(payout)
                ),
            ),
            _ => request.header(CALLBACK_URL, url),
        }
    }
}

fn msisdn_party(msisdn: &Msisdn) -> Party<'_> {
    Party {
        party_id_type: "MSISDN",
        party_id: msisdn.as_str(),
    }
}

#[async_trait::async_trait]
impl Operator for MtnMomo {
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        self.check_currency(request.currency)?;
        let note = request.note.as_deref().unwrap_or_default();
        let transfer = Transfer {
            amount: request.amount.format(request.currency),
            currency: request.currency.code(),
            external_id: request.payout.to_string(),
            payee: msisdn_party(&request.msisdn),
            payer_message: note,
            payee_note: note,
        };
        let url = self.disbursement.url("v1_0/transfer");
        self.disbursement
            .call(
                || self.creating(&url, request.reference, Some(request.payout)),
                json_body(&transfer)?,
                mapping::created,
            )
            .await?;
        Ok(PayoutStatus::Pending)
    }

    async fn query_payout(
        &self,
        reference: Reference,
    ) -> Result<Option<PayoutStatus>, OperatorError> {
        let url = self.disbursement.url(&format!("v1_0/transfer/{reference}"));
        self.disbursement
            .call(|| Request::get(&url), Bytes::new(), mapping::payout_status)
            .await
    }

    async fn request_payment(
        &self,
        request: &PaymentRequest,
    ) -> Result<PaymentStatus, OperatorError> {
        self.check_currency(request.currency)?;
        let collection = self.collection()?;
        let message = request.message.as_deref().unwrap_or_default();
        let body = RequestToPay {
            amount: request.amount.format(request.currency),
            currency: request.currency.code(),
            external_id: request.reference.to_string(),
            payer: msisdn_party(&request.msisdn),
            payer_message: message,
            payee_note: message,
        };
        let url = collection.url("v1_0/requesttopay");
        collection
            .call(
                || self.creating(&url, request.reference, None),
                json_body(&body)?,
                mapping::created,
            )
            .await?;
        Ok(PaymentStatus::Pending)
    }

    async fn query_payment(
        &self,
        reference: Reference,
    ) -> Result<Option<PaymentStatus>, OperatorError> {
        let collection = self.collection()?;
        let url = collection.url(&format!("v1_0/requesttopay/{reference}"));
        collection
            .call(|| Request::get(&url), Bytes::new(), mapping::payment_status)
            .await
    }

    async fn account_holder(&self, msisdn: &Msisdn) -> Result<AccountHolder, OperatorError> {
        let holder = |what: &str| {
            self.disbursement.url(&format!(
                "v1_0/accountholder/msisdn/{}/{what}",
                msisdn.as_str()
            ))
        };
        let active_url = holder("active");
        let active: ActiveReply = self
            .disbursement
            .call(|| Request::get(&active_url), Bytes::new(), mapping::lookup)
            .await?;
        if !active.result {
            return Ok(AccountHolder {
                active: false,
                name: None,
            });
        }
        // The name is a courtesy for a check by eye: without it the number is still active.
        let info_url = holder("basicuserinfo");
        let name = self
            .disbursement
            .call(
                || Request::get(&info_url),
                Bytes::new(),
                mapping::lookup::<BasicUserInfo>,
            )
            .await
            .ok()
            .and_then(BasicUserInfo::full_name);
        Ok(AccountHolder { active: true, name })
    }

    async fn balance(&self) -> Result<(Amount, Currency), OperatorError> {
        let url = self.disbursement.url("v1_0/account/balance");
        let reply: BalanceReply = self
            .disbursement
            .call(|| Request::get(&url), Bytes::new(), mapping::lookup)
            .await?;
        let currency: Currency = reply
            .currency
            .parse()
            .map_err(|_| OperatorError::Rejected {
                code: format!("UNSUPPORTED_CURRENCY {}", reply.currency),
            })?;
        // MTN may print decimals a franc does not have ("1500.00"); `parse` accepts zeros.
        let amount = Amount::parse(&reply.available_balance, currency).map_err(|_| {
            OperatorError::Rejected {
                code: format!("UNREADABLE_BALANCE {}", reply.available_balance),
            }
        })?;
        Ok((amount, currency))
    }
}
