//! A collection as asked for, in our shape or LTGS's (told apart by `Sale_Reference_ID`),
//! read from the body's text (so that amounts keep their exact digits) and handed to the
//! application layer with each field under the name the request gave it.

use payrail_engine::app::collections::{Named, PaymentRequest, Shape};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::ltgs::{self, LtgsRequest};
use crate::amount_text::AmountText;
use crate::problem::ApiError;

/// A request to pay in our shape.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnRequest {
    /// The payer's number: "+250788123456", "250788123456" or "0788123456".
    pub msisdn: String,
    /// In the currency's major unit: "1500" RWF, "12.50" EUR.
    pub amount: AmountText,
    /// The merchant's currency.
    pub currency: String,
    /// Your own reference for it, unique among your collections (100 characters at most).
    pub reference: Option<String>,
    /// Shown to the payer when asked to approve (160 characters at most).
    pub payer_message: Option<String>,
    /// Where the LTGS-shaped status callback is sent when the collection ends.
    pub callback_url: Option<String>,
}

/// A request to pay, in either shape.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CollectionRequest {
    Own(OwnRequest),
    Ltgs(LtgsRequest),
}

impl CollectionRequest {
    /// Reads a JSON body: the LTGS shape when it has `Sale_Reference_ID`, ours otherwise.
    /// A missing, unknown or mistyped field is a 422 that names it.
    pub fn from_json(body: &RawValue) -> Result<CollectionRequest, ApiError> {
        let text = body.get();
        let fields: serde_json::Map<String, Value> =
            serde_json::from_str(text).map_err(|_| ApiError::Invalid {
                detail: "the body must be a JSON object".into(),
                errors: Vec::new(),
            })?;
        let (read, shape) = if fields.contains_key(ltgs::MARKER) {
            (
                serde_json::from_str(text).map(CollectionRequest::Ltgs),
                "LTGS",
            )
        } else {
            (
                serde_json::from_str(text).map(CollectionRequest::Own),
                "collection",
            )
        };
        read.map_err(|error| ApiError::Invalid {
            detail: format!("not a {shape} request: {error}"),
            errors: Vec::new(),
        })
    }

    /// The request as the application layer takes it.
    pub fn to_payment_request(&self) -> PaymentRequest {
        let named = |name: &'static str, value| Named { name, value };
        match self {
            CollectionRequest::Own(own) => PaymentRequest {
                shape: Shape::Own {
                    currency: own.currency.clone(),
                    payer_message: own.payer_message.clone(),
                },
                msisdn: named("msisdn", own.msisdn.clone()),
                amount: named("amount", own.amount.text().to_owned()),
                reference: Named {
                    name: "reference",
                    value: own.reference.clone(),
                },
                callback_url: Named {
                    name: "callback_url",
                    value: own.callback_url.clone(),
                },
            },
            CollectionRequest::Ltgs(request) => PaymentRequest {
                shape: Shape::Ltgs {
                    services_name: request.services_name.clone(),
                    texts: request
                        .texts()
                        .into_iter()
                        .map(|(name, value)| Named {
                            name,
                            value: value.map(str::to_owned),
                        })
                        .collect(),
                },
                msisdn: named("Phone_Number", request.phone_number.clone()),
                amount: named(
                    "Total_Amount_to_Pay",
                    request.total_amount_to_pay.text().to_owned(),
                ),
                reference: Named {
                    name: "Sale_Reference_ID",
                    value: Some(request.sale_reference_id.clone()),
                },
                callback_url: Named {
                    name: "Callback_URL",
                    value: Some(request.callback_url.clone()),
                },
            },
        }
    }
}
