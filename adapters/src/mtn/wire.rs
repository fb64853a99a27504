//! MTN MoMo's JSON bodies as MTN's Swagger files name them, written strictly and read
//! leniently: numbers where strings belong, a reason as an object or a string, and a
//! status we do not know kept as unknown.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, Reason};

/// `Party`: who is paid (or asked to pay).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Party<'a> {
    pub party_id_type: &'static str,
    pub party_id: &'a str,
}

/// The body of `POST /disbursement/v1_0/transfer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer<'a> {
    pub amount: String,
    pub currency: &'static str,
    pub external_id: String,
    pub payee: Party<'a>,
    pub payer_message: &'a str,
    pub payee_note: &'a str,
}

/// The body of `POST /collection/v1_0/requesttopay`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestToPay<'a> {
    pub amount: String,
    pub currency: &'static str,
    pub external_id: String,
    pub payer: Party<'a>,
    pub payer_message: &'a str,
    pub payee_note: &'a str,
}

/// A transfer's or a request to pay's status as MTN reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Successful,
    Failed,
    /// A status MTN did not document (or one added later): never read as a known one.
    Unknown(String),
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Status, D::Error> {
        let text = lenient::text(deserializer)?;
        Ok(match text.as_str() {
            "PENDING" => Status::Pending,
            "SUCCESSFUL" => Status::Successful,
            "FAILED" => Status::Failed,
            _ => Status::Unknown(text),
        })
    }
}

/// `TransferResult` and `RequestToPayResult`: only what the engine reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReply {
    pub status: Status,
    #[serde(default, deserialize_with = "lenient::optional_text")]
    pub financial_transaction_id: Option<String>,
    #[serde(default)]
    pub reason: Option<Reason>,
}

/// MTN's error body, `{"code": "...", "message": "..."}`.
#[derive(Debug, Deserialize)]
pub struct ErrorReply {
    #[serde(default, deserialize_with = "lenient::optional_text")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient::optional_text")]
    pub message: Option<String>,
}

/// `TokenPost200ApplicationJsonResponse`.
#[derive(Debug, Deserialize)]
pub struct TokenReply {
    pub access_token: String,
    #[serde(deserialize_with = "lenient::text")]
    pub expires_in: String,
}

/// `Balance`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceReply {
    #[serde(deserialize_with = "lenient::text")]
    pub available_balance: String,
    #[serde(deserialize_with = "lenient::text")]
    pub currency: String,
}

/// The reply of `accountholder/msisdn/{id}/active` (the Swagger file has no schema).
#[derive(Debug, Deserialize)]
pub struct ActiveReply {
    pub result: bool,
}

/// The reply of `accountholder/msisdn/{id}/basicuserinfo`: the holder's name.
#[derive(Debug, Deserialize)]
pub struct BasicUserInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
}

impl BasicUserInfo {
    /// The full name, or the given and family names together.
    pub fn full_name(self) -> Option<String> {
        self.name
            .filter(|name| !name.trim().is_empty())
            .or_else(|| {
                let parts: Vec<String> = [self.given_name, self.family_name]
                    .into_iter()
                    .flatten()
                    .filter(|part| !part.trim().is_empty())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undocumented_status_stays_unknown() {
        let reply: StatusReply =
            serde_json::from_str(r#"{"status":"ONGOING"}"#).expect("a lenient reply");
        assert_eq!(reply.status, Status::Unknown("ONGOING".into()));
    }

    #[test]
    fn mtn_examples_with_numbers_are_read() {
        let reply: StatusReply = serde_json::from_str(
            r#"{"amount":100,"currency":"UGX","financialTransactionId":23503452,
                "externalId":947354,"payee":{"partyIdType":"MSISDN","partyId":4656473839},
                "status":"SUCCESSFUL"}"#,
        )
        .expect("MTN's own example");
        assert_eq!(reply.status, Status::Successful);
        assert_eq!(reply.financial_transaction_id.as_deref(), Some("23503452"));
    }

    #[test]
    fn a_failure_reason_may_be_a_plain_string() {
        let reply: StatusReply =
            serde_json::from_str(r#"{"status":"FAILED","reason":"PAYEE_NOT_FOUND"}"#)
                .expect("a lenient reply");
        assert_eq!(
            reply.reason.map(|reason| reason.code).as_deref(),
            Some("PAYEE_NOT_FOUND")
        );
    }

    #[test]
    fn a_name_is_built_from_its_parts_when_missing() {
        let info: BasicUserInfo =
            serde_json::from_str(r#"{"given_name":"Aline","family_name":"Uwase"}"#)
                .expect("user info");
        assert_eq!(info.full_name().as_deref(), Some("Aline Uwase"));
    }
}
