//! Requesting a payment the customer approves on the phone: the request (our shape or
//! LTGS's, each field under the name its shape gives it) is checked, stored `pending` with
//! the fee of the merchant's agreement, and handed to the engine's collector, which sends
//! it, follows it and records it paid (crediting amount − fee), failed or expired.
//! Collections are read by id and listed.
//!
//! - `channels`: the payment channel ("MTN MoMo") of each route

mod channels;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

pub use self::channels::{AIRTEL_MONEY, MTN_MOMO, PaymentChannels};
use super::caller::{Caller, READERS};
use super::idempotency::{self, Answered, IdempotencyKey, Render};
use super::{App, AppError};
use crate::api_key::Role;
use crate::ids::CollectionId;
use crate::money::{Amount, Currency};
use crate::msisdn::Msisdn;
use crate::route::RouteName;
use crate::store::StoreError;
pub use crate::store::collections::Collection;
use crate::store::collections::{
    self, CLIENT_REFERENCE_MAX_CHARS, CreateCollectionError, NewCollection, PAYER_MESSAGE_MAX_CHARS,
};
use crate::store::merchants;

/// How long a payer has to approve before a collection still pending expires.
const APPROVAL_WINDOW: SignedDuration = SignedDuration::from_mins(10);

/// Longest callback URL, as for a merchant's webhook URL.
pub const CALLBACK_URL_MAX_CHARS: usize = 2_000;

/// Longest `Customer_KYC_ID`, `Email_Address` and `Services_Name` kept from LTGS.
pub const LTGS_TEXT_MAX_CHARS: usize = 200;

/// A value and the name its request shape gives it.
#[derive(Clone, Debug)]
pub struct Named<T> {
    pub name: &'static str,
    pub value: T,
}

/// What only one shape has.
#[derive(Clone, Debug)]
pub enum Shape {
    /// Ours: the currency is stated, and a message for the payer may be given.
    Own {
        currency: String,
        payer_message: Option<String>,
    },
    /// LTGS's: the reference and callback are required, `Services_Name` is shown to the
    /// payer, and some fields are kept as given.
    Ltgs {
        services_name: Option<String>,
        /// Each optional text with its name, as given.
        texts: Vec<Named<Option<String>>>,
    },
}

/// A request to pay, as a front end received it.
#[derive(Clone, Debug)]
pub struct PaymentRequest {
    pub shape: Shape,
    pub msisdn: Named<String>,
    /// In the currency's major unit, as written.
    pub amount: Named<String>,
    pub reference: Named<Option<String>>,
    pub callback_url: Named<Option<String>>,
}

/// A request that passed every check.
struct Checked {
    msisdn: Msisdn,
    route: RouteName,
    amount: Amount,
    client_reference: Option<String>,
    payer_message: Option<String>,
    callback_url: Option<String>,
    ltgs: Option<Value>,
}

impl App {
    /// Asks a customer to approve a payment; the answer (`render` of the collection as
    /// stored) is kept under the key. The collector takes it at once.
    pub async fn request_payment(
        &self,
        caller: &Caller,
        request: &PaymentRequest,
        key: Option<&IdempotencyKey>,
        request_sha256: [u8; 32],
        render: Render<Collection>,
    ) -> Result<Answered, AppError> {
        caller.require(&[Role::Maker])?;
        let merchant = merchants::get(&self.pool.get().await?, caller.merchant).await?;
        let checked = self.check(request, merchant.currency).await?;
        let new = NewCollection {
            id: CollectionId::new(),
            merchant: merchant.id,
            payment_channel: self.settings.channels.of(&checked.route),
            currency: merchant.currency,
            created_by: Some(caller.key),
            expires_at: Timestamp::now() + APPROVAL_WINDOW,
            msisdn: checked.msisdn,
            route: checked.route,
            amount: checked.amount,
            client_reference: checked.client_reference,
            payer_message: checked.payer_message,
            callback_url: checked.callback_url,
            ltgs: checked.ltgs,
        };
        let (stored, answered) = idempotency::once(
            &self.pool,
            merchant.id,
            key,
            request_sha256,
            render,
            async |tx| store(tx, &new).await,
        )
        .await?;
        if stored.is_some() {
            self.engine.collect(merchant.id, new.id);
        }
        Ok(answered)
    }

    /// One of the caller's merchant's collections.
    pub async fn collection(
        &self,
        caller: &Caller,
        id: CollectionId,
    ) -> Result<Collection, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        collections::get(&client, caller.merchant, id)
            .await
            .map_err(|error| match error {
                StoreError::NotFound { .. } => AppError::NotFound("collection"),
                other => other.into(),
            })
    }

    /// Up to `limit` of the merchant's collections after `after`, oldest first.
    pub async fn collections(
        &self,
        caller: &Caller,
        after: Option<CollectionId>,
        limit: i64,
    ) -> Result<Vec<Collection>, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        Ok(collections::list(&client, caller.merchant, after, limit).await?)
    }

    /// Checks every field; the request ready to store, or every refusal under its name.
    async fn check(
        &self,
        request: &PaymentRequest,
        currency: Currency,
    ) -> Result<Checked, AppError> {
        let mut refusals: Vec<(String, String)> = Vec::new();
        let mut refuse = |field: &str, reason: String| refusals.push((field.to_owned(), reason));
        if let Shape::Own {
            currency: asked, ..
        } = &request.shape
            && asked != currency.code()
        {
            refuse(
                "currency",
                format!("this merchant collects in {}", currency.code()),
            );
        }
        let routed = self
            .routed(&request.msisdn.value)
            .inspect_err(|reason| refuse(request.msisdn.name, reason.clone()))
            .ok();
        let amount = positive_amount(&request.amount.value, currency)
            .inspect_err(|reason| refuse(request.amount.name, reason.clone()))
            .ok();
        let client_reference = trimmed(request.reference.value.as_deref());
        let callback_url = trimmed(request.callback_url.value.as_deref());
        match &request.shape {
            Shape::Ltgs { .. } => {
                if client_reference.is_none() {
                    refuse(request.reference.name, "must not be empty".into());
                }
                if callback_url.is_none() {
                    refuse(request.callback_url.name, "must not be empty".into());
                }
            }
            Shape::Own { .. } => {
                if request.callback_url.value.is_some() && callback_url.is_none() {
                    refuse(
                        request.callback_url.name,
                        "must not be empty: leave it out for no callback".into(),
                    );
                }
            }
        }
        let payer_message = match &request.shape {
            Shape::Own { payer_message, .. } => trimmed(payer_message.as_deref()),
            Shape::Ltgs { services_name, .. } => trimmed(services_name.as_deref())
                .map(|name| name.chars().take(PAYER_MESSAGE_MAX_CHARS).collect()),
        };
        let mut lengths = vec![
            (
                request.reference.name,
                client_reference.clone(),
                CLIENT_REFERENCE_MAX_CHARS,
            ),
            (
                "payer_message",
                payer_message.clone(),
                PAYER_MESSAGE_MAX_CHARS,
            ),
            (
                request.callback_url.name,
                request.callback_url.value.clone(),
                CALLBACK_URL_MAX_CHARS,
            ),
        ];
        if let Shape::Ltgs { texts, .. } = &request.shape {
            lengths.extend(
                texts
                    .iter()
                    .map(|text| (text.name, text.value.clone(), LTGS_TEXT_MAX_CHARS)),
            );
        }
        for (field, text, max) in lengths {
            if text.is_some_and(|text| text.chars().count() > max) {
                refuse(field, format!("longer than {max} characters"));
            }
        }
        if let Some(url) = &callback_url
            && url.chars().count() <= CALLBACK_URL_MAX_CHARS
            && let Err(refused) = self.settings.urls.check(url).await
        {
            refuse(request.callback_url.name, refused.to_string());
        }
        AppError::fields(refusals)?;
        let ((msisdn, route), amount) = routed
            .zip(amount)
            .ok_or_else(|| AppError::internal("a refused field without its refusal"))?;
        Ok(Checked {
            msisdn,
            route,
            amount,
            client_reference,
            payer_message,
            callback_url,
            ltgs: match &request.shape {
                Shape::Own { .. } => None,
                Shape::Ltgs { texts, .. } => Some(Value::Object(
                    texts
                        .iter()
                        .map(|text| (text.name.to_owned(), Value::from(text.value.clone())))
                        .collect(),
                )),
            },
        })
    }

    /// A mobile number and the route that serves it.
    fn routed(&self, text: &str) -> Result<(Msisdn, RouteName), String> {
        let msisdn =
            Msisdn::parse(text.trim(), self.settings.country).map_err(|error| error.to_string())?;
        let route = self
            .settings
            .routes
            .route_for(&msisdn)
            .cloned()
            .ok_or_else(|| "no operator route serves this number".to_owned())?;
        Ok((msisdn, route))
    }
}

/// Stores a checked collection in the request's transaction.
async fn store(
    tx: &deadpool_postgres::Transaction<'_>,
    new: &NewCollection,
) -> Result<Collection, AppError> {
    if let Some(reference) = &new.client_reference {
        match collections::by_client_reference(tx, new.merchant, reference).await {
            Ok(existing) => return Err(reference_in_use(reference, Some(existing.id))),
            Err(StoreError::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    collections::insert(tx, new)
        .await
        .map_err(|error| match error {
            CreateCollectionError::DuplicateReference(reference) => {
                reference_in_use(&reference, None)
            }
            CreateCollectionError::WrongCurrency { merchant, .. } => AppError::invalid_field(
                "currency",
                format!("this merchant collects in {}", merchant.code()),
            ),
            CreateCollectionError::ZeroAmount => {
                AppError::invalid_field("amount", "the amount must be positive")
            }
            CreateCollectionError::Store(error) => error.into(),
        })
}

fn reference_in_use(reference: &str, existing: Option<CollectionId>) -> AppError {
    AppError::Conflict {
        name: "reference-in-use",
        detail: format!(
            "the reference {reference:?} is already used by another collection; use a new reference for a new collection"
        ),
        link: existing.map(|id| format!("/v1/collections/{id}")),
    }
}

fn positive_amount(text: &str, currency: Currency) -> Result<Amount, String> {
    match Amount::parse(text.trim(), currency) {
        Err(error) => Err(error.to_string()),
        Ok(amount) if amount.is_zero() => Err("the amount must be positive".into()),
        Ok(amount) => Ok(amount),
    }
}

fn trimmed(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}
