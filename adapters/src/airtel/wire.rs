//! Airtel's JSON as it travels: request bodies we write exactly, replies we read leniently
//! (every field optional, numbers accepted for strings), keeping an unknown status unknown.

use serde::{Deserialize, Deserializer, Serialize};

use crate::lenient::optional_text;

/// `POST /auth/oauth2/token`.
#[derive(Debug, Serialize)]
pub struct TokenRequest<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub grant_type: &'static str,
}

/// The token reply; `expires_in` is seconds, as a string or a number.
#[derive(Debug, Deserialize)]
pub struct TokenReply {
    #[serde(default, deserialize_with = "optional_text")]
    pub access_token: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub expires_in: Option<String>,
}

/// `POST /standard/v2/disbursements/`.
#[derive(Debug, Serialize)]
pub struct DisbursementBody<'a> {
    pub payee: Payee<'a>,
    /// Free text Airtel shows with the transaction; we send the payout id.
    pub reference: &'a str,
    /// The encrypted PIN, base64.
    pub pin: &'a str,
    pub transaction: DisbursementTransaction,
}

#[derive(Debug, Serialize)]
pub struct Payee<'a> {
    /// The number without the country's dialling code.
    pub msisdn: &'a str,
    pub wallet_type: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DisbursementTransaction {
    /// Major units, as a JSON number.
    pub amount: serde_json::Number,
    /// Our reference: Airtel's idempotency key and the key of the enquiry.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `POST /merchant/v1/payments/`.
#[derive(Debug, Serialize)]
pub struct PaymentBody<'a> {
    pub reference: &'a str,
    pub subscriber: Subscriber<'a>,
    pub transaction: PaymentTransaction<'a>,
}

#[derive(Debug, Serialize)]
pub struct Subscriber<'a> {
    pub country: &'a str,
    pub currency: &'a str,
    pub msisdn: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PaymentTransaction<'a> {
    pub amount: serde_json::Number,
    pub country: &'a str,
    pub currency: &'a str,
    pub id: String,
}

/// Every Airtel reply: `{"data": …, "status": {…}}`.
#[derive(Debug, Deserialize)]
pub struct Reply<D> {
    pub data: Option<D>,
    pub status: Option<ReplyStatus>,
}

/// The `status` block: what Airtel says of the call (and, for a send, of the transaction).
#[derive(Debug, Default, Deserialize)]
pub struct ReplyStatus {
    #[serde(default, deserialize_with = "optional_text")]
    pub response_code: Option<String>,
    #[serde(default, deserialize_with = "optional_flag")]
    pub success: Option<bool>,
    #[serde(default, deserialize_with = "optional_text")]
    pub message: Option<String>,
}

/// `data` of a disbursement, a payment, or their enquiries.
#[derive(Debug, Deserialize)]
pub struct TransactionData {
    pub transaction: Option<Transaction>,
}

#[derive(Debug, Deserialize)]
pub struct Transaction {
    /// Airtel's id of the money movement: what the payee sees on the SMS.
    #[serde(default, deserialize_with = "optional_text")]
    pub airtel_money_id: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub message: Option<String>,
    pub status: Option<TransactionStatus>,
}

/// Airtel's transaction status. A code we do not know is kept as it came, never taken for
/// one we know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactionStatus {
    /// `TS`: done.
    Succeeded,
    /// `TF`: failed, nothing moved.
    Failed,
    /// `TA`: ambiguous; Airtel itself does not know yet.
    Ambiguous,
    /// `TIP`: in progress.
    InProgress,
    /// `TE`: expired before it was done.
    Expired,
    Unrecognised(String),
}

impl TransactionStatus {
    pub fn from_code(code: &str) -> TransactionStatus {
        match code {
            "TS" => TransactionStatus::Succeeded,
            "TF" => TransactionStatus::Failed,
            "TA" => TransactionStatus::Ambiguous,
            "TIP" => TransactionStatus::InProgress,
            "TE" => TransactionStatus::Expired,
            other => TransactionStatus::Unrecognised(other.into()),
        }
    }
}

impl<'de> Deserialize<'de> for TransactionStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TransactionStatus, D::Error> {
        crate::lenient::text(deserializer).map(|code| TransactionStatus::from_code(&code))
    }
}

/// `data` of `GET /standard/v1/users/{msisdn}`.
#[derive(Debug, Deserialize)]
pub struct UserData {
    #[serde(default, deserialize_with = "optional_text")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "optional_flag")]
    pub is_barred: Option<bool>,
}

/// `data` of `GET /standard/v1/users/balance`.
#[derive(Debug, Deserialize)]
pub struct BalanceData {
    #[serde(default, deserialize_with = "optional_text")]
    pub balance: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub currency: Option<String>,
}

/// An Airtel callback: `{"transaction": {"id", "message", "status_code", "airtel_money_id"}}`.
#[derive(Debug, Deserialize)]
pub struct CallbackBody {
    pub transaction: Option<CallbackTransaction>,
}

#[derive(Debug, Deserialize)]
pub struct CallbackTransaction {
    #[serde(default, deserialize_with = "optional_text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub status_code: Option<String>,
}

/// A flag as `true` or `"true"` (any case); missing or null is `None`, anything else an
/// error, so a reply that says something we cannot read is not read as "no".
fn optional_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    match optional_text(deserializer)? {
        None => Ok(None),
        Some(text) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(text) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(text) => Err(serde::de::Error::custom(format!(
            "expected true or false, found {text:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Reply<TransactionData> {
        serde_json::from_str(json).expect("a lenient reply")
    }

    fn status_of(reply: &Reply<TransactionData>) -> Option<TransactionStatus> {
        reply
            .data
            .as_ref()
            .and_then(|data| data.transaction.as_ref())
            .and_then(|transaction| transaction.status.clone())
    }

    #[test]
    fn a_full_reply_is_read() {
        let reply = read(
            r#"{"data":{"transaction":{"reference_id":"18****7","airtel_money_id":"C36*****4",
            "id":"t1","status":"TS","message":"done"}},"status":{"response_code":"DP00900001001",
            "code":"200","success":true,"result_code":"ESB000010","message":"SUCCESS"}}"#,
        );
        assert_eq!(status_of(&reply), Some(TransactionStatus::Succeeded));
        let status = reply.status.expect("a status block");
        assert_eq!(status.response_code.as_deref(), Some("DP00900001001"));
        assert_eq!(status.success, Some(true));
    }

    #[test]
    fn numbers_strings_and_missing_fields_are_accepted() {
        let reply = read(
            r#"{"data":{"transaction":{"airtel_money_id":123}},"status":{"success":"false","code":200}}"#,
        );
        assert_eq!(status_of(&reply), None);
        assert_eq!(reply.status.and_then(|status| status.success), Some(false));
        assert!(read("{}").data.is_none());
    }

    #[test]
    fn an_unknown_status_stays_unknown() {
        let reply = read(r#"{"data":{"transaction":{"status":"TX"}}}"#);
        assert_eq!(
            status_of(&reply),
            Some(TransactionStatus::Unrecognised("TX".into()))
        );
        assert_eq!(
            TransactionStatus::from_code("ts"),
            TransactionStatus::Unrecognised("ts".into())
        );
    }

    #[test]
    fn an_unreadable_success_flag_fails_the_reply() {
        let result =
            serde_json::from_str::<Reply<TransactionData>>(r#"{"status":{"success":"maybe"}}"#);
        assert!(result.is_err());
    }
}
