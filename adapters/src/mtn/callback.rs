//! MTN MoMo's callbacks: POST or PUT, unsigned, every field optional, `referenceId` often
//! missing (then `externalId`, which we set to our payout id, names the payout), `reason` an
//! object or a plain string. On the plain callback URL one is read into a hint that brings
//! a status query forward; on a payout's capability URL into a report of what it claims
//! (status, amount, currency, payee), which the application layer judges.

use payrail_engine::app::callbacks::CallbackReport;
use payrail_engine::ids::{PayoutId, Reference};
use payrail_engine::operator::PayoutStatus;
use serde::Deserialize;

use super::wire::Status;
use crate::callback::{CallbackError, CallbackHint};
use crate::lenient::{self, Reason};

/// A transfer's callback body (`TransferResult`), as far as a report needs it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    #[serde(default, deserialize_with = "lenient::optional_text")]
    external_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::optional_text")]
    amount: Option<String>,
    #[serde(default, deserialize_with = "lenient::optional_text")]
    currency: Option<String>,
    #[serde(default)]
    payee: Option<Payee>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default, deserialize_with = "lenient::optional_text")]
    financial_transaction_id: Option<String>,
    #[serde(default)]
    reason: Option<Reason>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payee {
    #[serde(default, deserialize_with = "lenient::optional_text")]
    party_id: Option<String>,
}

/// Reads a transfer callback that arrived on a payout's capability URL: what it claims,
/// the status read as a status query's answer would be.
pub fn parse_report(body: &[u8]) -> Result<CallbackReport, CallbackError> {
    let report: Report =
        serde_json::from_slice(body).map_err(|error| CallbackError::NotJson(error.to_string()))?;
    let claimed = report.status.and_then(|status| match status {
        Status::Pending => Some(PayoutStatus::Pending),
        Status::Successful => Some(PayoutStatus::Succeeded {
            operator_transaction_id: report.financial_transaction_id,
        }),
        Status::Failed => Some(PayoutStatus::Failed {
            code: report
                .reason
                .map_or_else(|| "FAILED".into(), |reason| reason.code),
        }),
        Status::Unknown(_) => None,
    });
    Ok(CallbackReport {
        payout: report.external_id.and_then(|id| id.parse().ok()),
        claimed,
        amount: report.amount,
        currency: report.currency,
        payee: report.payee.and_then(|payee| payee.party_id),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default, deserialize_with = "lenient::optional_text")]
    reference_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::optional_text")]
    external_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::optional_text")]
    status: Option<String>,
}

/// Reads an MTN callback body.
pub fn parse_callback(body: &[u8]) -> Result<CallbackHint, CallbackError> {
    let wire: Wire =
        serde_json::from_slice(body).map_err(|error| CallbackError::NotJson(error.to_string()))?;
    CallbackHint {
        reference: wire
            .reference_id
            .and_then(|id| id.parse::<Reference>().ok()),
        payout: wire.external_id.and_then(|id| id.parse::<PayoutId>().ok()),
        claimed_status: wire.status,
    }
    .identified()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = "5f0c2a9e-2d1b-4c55-9f58-6a1f8d3e2b71";
    const PAYOUT: &str = "0196f1c2-7a3b-7c4d-8e5f-0123456789ab";

    #[test]
    fn a_full_callback_names_the_reference_and_the_payout() {
        let body = format!(
            r#"{{"referenceId":"{REFERENCE}","externalId":"{PAYOUT}","status":"SUCCESSFUL",
                "financialTransactionId":123456,"amount":100}}"#
        );
        let hint = parse_callback(body.as_bytes()).expect("a hint");
        assert_eq!(
            hint.reference.map(|r| r.to_string()).as_deref(),
            Some(REFERENCE)
        );
        assert_eq!(hint.payout.map(|p| p.to_string()).as_deref(), Some(PAYOUT));
        assert_eq!(hint.claimed_status.as_deref(), Some("SUCCESSFUL"));
    }

    #[test]
    fn without_a_reference_id_the_external_id_names_the_payout() {
        let body =
            format!(r#"{{"externalId":"{PAYOUT}","status":"FAILED","reason":"PAYEE_NOT_FOUND"}}"#);
        let hint = parse_callback(body.as_bytes()).expect("a hint");
        assert_eq!(hint.reference, None);
        assert_eq!(hint.payout.map(|p| p.to_string()).as_deref(), Some(PAYOUT));
    }

    #[test]
    fn a_callback_naming_nothing_of_ours_is_refused() {
        assert_eq!(
            parse_callback(br#"{"status":"SUCCESSFUL","externalId":"INV-1"}"#),
            Err(CallbackError::Unidentified)
        );
        assert_eq!(parse_callback(b"{}"), Err(CallbackError::Unidentified));
    }

    #[test]
    fn a_report_reads_what_the_callback_claims_with_a_reason_as_a_string() {
        let body = format!(
            r#"{{"financialTransactionId":"7","externalId":"{PAYOUT}","amount":1500,
                "currency":"RWF","payee":{{"partyIdType":"MSISDN","partyId":"250788123456"}},
                "status":"FAILED","reason":"PAYEE_NOT_FOUND"}}"#
        );
        let report = parse_report(body.as_bytes()).expect("a report");
        assert_eq!(
            report.payout.map(|p| p.to_string()).as_deref(),
            Some(PAYOUT)
        );
        assert_eq!(report.amount.as_deref(), Some("1500"));
        assert_eq!(report.currency.as_deref(), Some("RWF"));
        assert_eq!(report.payee.as_deref(), Some("250788123456"));
        assert_eq!(
            report.claimed,
            Some(PayoutStatus::Failed {
                code: "PAYEE_NOT_FOUND".into()
            })
        );
        let paid = parse_report(br#"{"status":"SUCCESSFUL","financialTransactionId":99}"#)
            .expect("a report");
        assert_eq!(
            paid.claimed,
            Some(PayoutStatus::Succeeded {
                operator_transaction_id: Some("99".into())
            })
        );
        assert_eq!(paid.payout, None);
    }

    #[test]
    fn a_body_that_is_not_json_is_refused() {
        assert!(matches!(
            parse_callback(b"<xml/>"),
            Err(CallbackError::NotJson(_))
        ));
    }
}
