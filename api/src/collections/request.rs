//! A collection as asked for, in our shape or LTGS's (told apart by `Sale_Reference_ID`),
//! and its checks: a routable mobile number, a positive amount at the currency's scale in
//! the merchant's currency, the lengths the schema allows, and a callback URL the URL guard
//! lets us call. Every refused field is listed, under the name the request gave it.

use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::route::{RouteName, RouteTable};
use payrail_engine::store::collections::{CLIENT_REFERENCE_MAX_CHARS, PAYER_MESSAGE_MAX_CHARS};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::ltgs::{self, LtgsRequest};
use crate::amount_text::AmountText;
use crate::problem::ApiError;
use crate::webhooks::UrlPolicy;

/// Longest callback URL, as for a merchant's webhook URL.
pub const CALLBACK_URL_MAX_CHARS: usize = 2_000;

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

/// What the checks are made against.
#[derive(Clone, Copy, Debug)]
pub struct Rules<'a> {
    pub country: Region,
    pub routes: &'a RouteTable,
    /// The merchant's currency: the only one it collects in.
    pub currency: Currency,
    pub urls: &'a UrlPolicy,
}

/// A request that passed every check.
#[derive(Clone, Debug)]
pub struct Checked {
    pub msisdn: Msisdn,
    pub route: RouteName,
    pub amount: Amount,
    pub client_reference: Option<String>,
    pub payer_message: Option<String>,
    pub callback_url: Option<String>,
    pub ltgs: Option<Value>,
}

/// The fields every shape has, under the names that shape gives them.
struct Common<'a> {
    msisdn: (&'static str, &'a str),
    amount: (&'static str, &'a str),
    reference: (&'static str, Option<&'a str>),
    callback_url: (&'static str, Option<&'a str>),
}

impl CollectionRequest {
    /// Reads a JSON body (its text, so that amounts keep their exact digits): the LTGS
    /// shape when it has `Sale_Reference_ID`, ours otherwise. A missing, unknown or
    /// mistyped field is a 422 that names it.
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

    /// Checks every field; the request ready to store, or a 422 listing each refusal.
    pub async fn check(&self, rules: Rules<'_>) -> Result<Checked, ApiError> {
        let mut refusals: Vec<(&'static str, String)> = Vec::new();
        let common = self.common();
        if let CollectionRequest::Own(own) = self
            && own.currency != rules.currency.code()
        {
            let reason = format!("this merchant collects in {}", rules.currency.code());
            refusals.push(("currency", reason));
        }
        let routed = noted(
            &mut refusals,
            common.msisdn.0,
            routed(common.msisdn.1, rules),
        );
        let amount = positive_amount(common.amount.1, rules.currency);
        let amount = noted(&mut refusals, common.amount.0, amount);
        let client_reference = trimmed(common.reference.1);
        let callback_url = trimmed(common.callback_url.1);
        if let CollectionRequest::Ltgs(_) = self {
            for (field, value) in [
                (common.reference.0, &client_reference),
                (common.callback_url.0, &callback_url),
            ] {
                if value.is_none() {
                    refusals.push((field, "must not be empty".into()));
                }
            }
        } else if common.callback_url.1.is_some() && callback_url.is_none() {
            refusals.push((
                common.callback_url.0,
                "must not be empty: leave it out for no callback".into(),
            ));
        }
        let payer_message = match self {
            CollectionRequest::Own(own) => trimmed(own.payer_message.as_deref()),
            CollectionRequest::Ltgs(request) => trimmed(request.services_name.as_deref())
                .map(|name| name.chars().take(PAYER_MESSAGE_MAX_CHARS).collect()),
        };
        let mut lengths = vec![
            (
                common.reference.0,
                client_reference.as_deref(),
                CLIENT_REFERENCE_MAX_CHARS,
            ),
            (
                "payer_message",
                payer_message.as_deref(),
                PAYER_MESSAGE_MAX_CHARS,
            ),
            (
                common.callback_url.0,
                common.callback_url.1,
                CALLBACK_URL_MAX_CHARS,
            ),
        ];
        if let CollectionRequest::Ltgs(request) = self {
            lengths.extend(
                request
                    .texts()
                    .map(|(name, text)| (name, text, ltgs::TEXT_MAX_CHARS)),
            );
        }
        for (field, text, max) in lengths {
            if text.is_some_and(|text| text.chars().count() > max) {
                refusals.push((field, format!("longer than {max} characters")));
            }
        }
        if let Some(url) = &callback_url
            && url.chars().count() <= CALLBACK_URL_MAX_CHARS
            && let Err(refused) = rules.urls.check_field(common.callback_url.0, url).await
        {
            refusals.push((common.callback_url.0, reason_of(refused)));
        }
        match (routed, amount) {
            (Some((msisdn, route)), Some(amount)) if refusals.is_empty() => Ok(Checked {
                msisdn,
                route,
                amount,
                client_reference,
                payer_message,
                callback_url,
                ltgs: match self {
                    CollectionRequest::Own(_) => None,
                    CollectionRequest::Ltgs(request) => Some(request.kept_fields()),
                },
            }),
            _ => Err(refused(&refusals)),
        }
    }

    fn common(&self) -> Common<'_> {
        match self {
            CollectionRequest::Own(own) => Common {
                msisdn: ("msisdn", &own.msisdn),
                amount: ("amount", own.amount.text()),
                reference: ("reference", own.reference.as_deref()),
                callback_url: ("callback_url", own.callback_url.as_deref()),
            },
            CollectionRequest::Ltgs(request) => Common {
                msisdn: ("Phone_Number", &request.phone_number),
                amount: ("Total_Amount_to_Pay", request.total_amount_to_pay.text()),
                reference: ("Sale_Reference_ID", Some(&request.sale_reference_id)),
                callback_url: ("Callback_URL", Some(&request.callback_url)),
            },
        }
    }
}

/// A mobile number and the route that serves it.
fn routed(text: &str, rules: Rules<'_>) -> Result<(Msisdn, RouteName), String> {
    let msisdn = Msisdn::parse(text.trim(), rules.country).map_err(|error| error.to_string())?;
    let route = rules
        .routes
        .route_for(&msisdn)
        .cloned()
        .ok_or_else(|| "no operator route serves this number".to_owned())?;
    Ok((msisdn, route))
}

fn positive_amount(text: &str, currency: Currency) -> Result<Amount, String> {
    match Amount::parse(text.trim(), currency) {
        Err(error) => Err(error.to_string()),
        Ok(amount) if amount.is_zero() => Err("the amount must be positive".into()),
        Ok(amount) => Ok(amount),
    }
}

/// The value, or `None` after noting why the field is refused.
fn noted<T>(
    refusals: &mut Vec<(&'static str, String)>,
    field: &'static str,
    checked: Result<T, String>,
) -> Option<T> {
    checked
        .inspect_err(|reason| refusals.push((field, reason.clone())))
        .ok()
}

fn trimmed(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// The reason the URL guard gave for one field.
fn reason_of(error: ApiError) -> String {
    match error {
        ApiError::Invalid { errors, detail } => errors
            .first()
            .and_then(|error| error["reason"].as_str())
            .map_or(detail, str::to_owned),
        other => other.to_string(),
    }
}

/// One 422 listing every refused field.
fn refused(refusals: &[(&'static str, String)]) -> ApiError {
    let detail = refusals
        .iter()
        .map(|(field, reason)| format!("{field}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::Invalid {
        detail,
        errors: refusals
            .iter()
            .map(|(field, reason)| serde_json::json!({ "field": field, "reason": reason }))
            .collect(),
    }
}
