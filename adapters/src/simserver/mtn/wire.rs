//! MTN MoMo's JSON: request bodies read leniently (amounts, ids and numbers as strings or
//! numbers, as MTN's own examples send them) and the bodies the simulator answers with.

use serde::{Deserialize, Serialize};

use crate::lenient::{optional_text, text};
use crate::simserver::book::{Created, Kind, Status};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Party {
    pub(super) party_id_type: String,
    #[serde(deserialize_with = "text")]
    pub(super) party_id: String,
}

/// The body of `POST transfer` (with `payee`) and `POST requesttopay` (with `payer`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateRequest {
    #[serde(deserialize_with = "text")]
    pub(super) amount: String,
    pub(super) currency: String,
    #[serde(default, deserialize_with = "optional_text")]
    pub(super) external_id: Option<String>,
    #[serde(default)]
    pub(super) payee: Option<Party>,
    #[serde(default)]
    pub(super) payer: Option<Party>,
    #[serde(default)]
    pub(super) payer_message: Option<String>,
    #[serde(default)]
    pub(super) payee_note: Option<String>,
}

/// `{"code": …, "message": …}`: every MTN error body, and a failure's `reason`.
#[derive(Debug, Serialize)]
pub(super) struct ErrorReason<'a> {
    pub(super) code: &'a str,
    pub(super) message: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PartyOut<'a> {
    party_id_type: &'static str,
    party_id: &'a str,
}

/// A failure's reason: an object in status replies, sometimes a bare code in callbacks.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ReasonOut<'a> {
    Object(ErrorReason<'a>),
    Code(&'a str),
}

/// A transfer's or request to pay's status, as `GET` answers and callbacks carry it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_id: Option<&'a str>,
    amount: String,
    currency: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    financial_transaction_id: Option<String>,
    external_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payee: Option<PartyOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payer: Option<PartyOut<'a>>,
    payer_message: &'a str,
    payee_note: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<ReasonOut<'a>>,
}

/// How a status body is written.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Shape<'a> {
    /// Callbacks carry the reference id (unless a fault omits it); GET replies do not.
    pub(crate) reference_id: Option<&'a str>,
    pub(crate) reason_as_code: bool,
}

/// The JSON of a status body.
pub(crate) fn status_json(created: &Created, status: Status, shape: Shape<'_>) -> Vec<u8> {
    let order = &created.order;
    let party = Some(PartyOut {
        party_id_type: "MSISDN",
        party_id: &order.msisdn,
    });
    let (payee, payer) = match order.kind {
        Kind::Transfer => (party, None),
        Kind::Payment => (None, party),
    };
    let (status_text, reason) = match status {
        Status::Pending | Status::Ambiguous => ("PENDING", None),
        Status::Successful => ("SUCCESSFUL", None),
        Status::Failed(code) if shape.reason_as_code => ("FAILED", Some(ReasonOut::Code(code))),
        Status::Failed(code) => (
            "FAILED",
            Some(ReasonOut::Object(ErrorReason {
                code,
                message: reason_message(code),
            })),
        ),
    };
    let body = StatusBody {
        reference_id: shape.reference_id,
        amount: order.amount.format(order.currency),
        currency: order.currency.code(),
        financial_transaction_id: (status == Status::Successful)
            .then(|| created.transaction_id.to_string()),
        external_id: &order.external_id,
        payee,
        payer,
        payer_message: &order.payer_message,
        payee_note: &order.payee_note,
        status: status_text,
        reason,
    };
    serde_json::to_vec(&body).expect("a status body serialises")
}

/// MTN's message for a reason code.
pub(super) fn reason_message(code: &str) -> &'static str {
    match code {
        "PAYEE_NOT_FOUND" => "Payee does not exist.",
        "PAYER_NOT_FOUND" => "Payer does not exist.",
        "NOT_ALLOWED" => "Authorization failed. Insufficient permissions.",
        "NOT_ALLOWED_TARGET_ENVIRONMENT" => "Access to target environment is forbidden.",
        "INVALID_CALLBACK_URL_HOST" => "Callback URL with the given host is not allowed.",
        "INVALID_CURRENCY" => "Currency not supported.",
        "SERVICE_UNAVAILABLE" => "Service is unavailable.",
        "NOT_ENOUGH_FUNDS" => "The payer does not have enough funds.",
        "PAYER_LIMIT_REACHED" => "The payer's limit has been breached.",
        "PAYEE_NOT_ALLOWED_TO_RECEIVE" => "The payee is not allowed to receive.",
        "PAYMENT_NOT_APPROVED" => "The payment was not approved.",
        "RESOURCE_NOT_FOUND" => "Requested resource was not found.",
        "RESOURCE_ALREADY_EXIST" => "Duplicated reference id. Creation of resource failed.",
        "APPROVAL_REJECTED" => "The approval was rejected.",
        "EXPIRED" => "The request has expired.",
        "TRANSACTION_CANCELED" => "The transaction was cancelled.",
        _ => "An internal error occurred while processing.",
    }
}
