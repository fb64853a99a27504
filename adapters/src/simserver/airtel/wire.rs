//! Airtel Money's JSON: request bodies (amounts and ids as strings or numbers) and the
//! `{data, status}` envelope every reply carries, with its `DP…` response codes.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::lenient::{optional_text, text};
use crate::simserver::book::{Created, Kind, Status};

#[derive(Debug, Deserialize)]
pub(super) struct TokenRequest {
    pub(super) client_id: String,
    pub(super) client_secret: String,
    pub(super) grant_type: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Payee {
    #[serde(deserialize_with = "text")]
    pub(super) msisdn: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Transaction {
    #[serde(deserialize_with = "text")]
    pub(super) amount: String,
    #[serde(deserialize_with = "text")]
    pub(super) id: String,
    #[serde(default, rename = "type")]
    pub(super) kind: Option<String>,
}

/// `POST /standard/v2/disbursements/`.
#[derive(Debug, Deserialize)]
pub(super) struct DisbursementRequest {
    pub(super) payee: Payee,
    #[serde(default, deserialize_with = "optional_text")]
    pub(super) reference: Option<String>,
    pub(super) pin: String,
    pub(super) transaction: Transaction,
}

/// `POST /merchant/v1/payments/`.
#[derive(Debug, Deserialize)]
pub(super) struct PaymentRequest {
    pub(super) subscriber: Payee,
    #[serde(default, deserialize_with = "optional_text")]
    pub(super) reference: Option<String>,
    pub(super) transaction: Transaction,
}

/// The `status` object of every reply.
#[derive(Debug, Serialize)]
pub(super) struct Envelope<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) response_code: Option<String>,
    /// The HTTP status again, as text.
    pub(super) code: Cow<'static, str>,
    pub(super) success: bool,
    pub(super) result_code: &'a str,
    pub(super) message: &'a str,
}

#[derive(Debug, Serialize)]
struct TransactionOut<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_id: Option<String>,
    airtel_money_id: Option<String>,
    status: &'static str,
    message: &'static str,
}

#[derive(Debug, Serialize)]
struct Data<'a> {
    transaction: TransactionOut<'a>,
}

#[derive(Debug, Serialize)]
struct Reply<'a> {
    data: Data<'a>,
    status: Envelope<'a>,
}

/// The operation a reply answers: a POST says "accepted"; an enquiry found the transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Answer {
    Post,
    Enquiry,
}

/// `DP009…` for disbursements, `DP008…` for collections, then the outcome's suffix.
pub(super) fn response_code(kind: Kind, suffix: &str) -> String {
    let product = match kind {
        Kind::Transfer => "DP009",
        Kind::Payment => "DP008",
    };
    format!("{product}000010{suffix}")
}

/// Airtel's transaction status, response-code suffix and message for a status.
pub(super) fn outcome(status: Status) -> (&'static str, &'static str, &'static str) {
    match status {
        Status::Pending => ("TIP", "06", "Transaction in progress"),
        Status::Ambiguous => ("TA", "00", "Transaction is ambiguous"),
        Status::Successful => ("TS", "01", "Transaction is successful"),
        Status::Failed("EXPIRED") => ("TE", "24", "Transaction expired"),
        Status::Failed(reason) => ("TF", failure_suffix(reason), failure_message(reason)),
    }
}

/// An MTN reason as Airtel's code suffix (007 not enough balance, 012 invalid msisdn, …);
/// reasons Airtel has no code for are 008 "refused". Our mapping: Airtel publishes none.
fn failure_suffix(reason: &str) -> &'static str {
    match reason {
        "NOT_ENOUGH_FUNDS" => "07",
        "PAYEE_NOT_FOUND" | "PAYER_NOT_FOUND" => "12",
        "PAYER_LIMIT_REACHED" => "03",
        "PAYEE_NOT_ALLOWED_TO_RECEIVE" => "10",
        _ => "08",
    }
}

fn failure_message(reason: &str) -> &'static str {
    match reason {
        "NOT_ENOUGH_FUNDS" => "Not enough balance",
        "PAYEE_NOT_FOUND" | "PAYER_NOT_FOUND" => "Invalid mobile number",
        "PAYER_LIMIT_REACHED" => "Maximum transaction limit reached",
        "PAYEE_NOT_ALLOWED_TO_RECEIVE" => "Transaction not permitted to payee",
        _ => "Transaction refused",
    }
}

/// The JSON of a POST reply or an enquiry for a created transaction.
pub(super) fn transaction_json(
    id: &str,
    created: &Created,
    status: Status,
    answer: Answer,
) -> Vec<u8> {
    let (status_text, suffix, message) = outcome(status);
    let kind = created.order.kind;
    let failed = matches!(status, Status::Failed(_));
    // A POST that failed is an unsuccessful request; an enquiry that found it succeeded.
    let success = answer == Answer::Enquiry || !failed;
    let reply = Reply {
        data: Data {
            transaction: TransactionOut {
                id,
                reference_id: (answer == Answer::Post).then(|| created.transaction_id.to_string()),
                airtel_money_id: (status == Status::Successful)
                    .then(|| format!("MP{}", created.transaction_id)),
                status: status_text,
                message,
            },
        },
        status: Envelope {
            response_code: Some(response_code(kind, suffix)),
            code: Cow::Borrowed("200"),
            success,
            result_code: if success { "ESB000010" } else { "ESB000001" },
            message: if success { "SUCCESS" } else { message },
        },
    };
    serde_json::to_vec(&reply).expect("a reply serialises")
}

#[derive(Debug, Serialize)]
struct CallbackTransaction<'a> {
    id: &'a str,
    message: &'static str,
    status_code: &'static str,
    airtel_money_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct CallbackBody<'a> {
    transaction: CallbackTransaction<'a>,
}

/// Airtel's callback: `{"transaction":{"id","message","status_code","airtel_money_id"}}`.
pub(super) fn callback_json(id: &str, created: &Created, status: Status) -> Vec<u8> {
    let (status_code, _, message) = outcome(status);
    let body = CallbackBody {
        transaction: CallbackTransaction {
            id,
            message,
            status_code,
            airtel_money_id: (status == Status::Successful)
                .then(|| format!("MP{}", created.transaction_id)),
        },
    };
    serde_json::to_vec(&body).expect("a callback serialises")
}

/// A reply with no transaction: errors, duplicates, unknown ids.
pub(super) fn envelope_json(id: Option<&str>, status: Envelope<'_>) -> Vec<u8> {
    let data = match id {
        Some(id) => serde_json::json!({"transaction": {"id": id}}),
        None => serde_json::json!({}),
    };
    serde_json::to_vec(&serde_json::json!({"data": data, "status": status}))
        .expect("an envelope serialises")
}
