//! MTN MoMo's callbacks: POST or PUT, unsigned, every field optional, `referenceId` often
//! missing (then `externalId`, which we set to our payout id, names the payout), `reason` an
//! object or a plain string. They are read into a hint that brings a status query forward.

use payrail_engine::ids::{PayoutId, Reference};
use serde::Deserialize;

use crate::callback::{CallbackError, CallbackHint};
use crate::lenient;

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
    fn a_body_that_is_not_json_is_refused() {
        assert!(matches!(
            parse_callback(b"<xml/>"),
            Err(CallbackError::NotJson(_))
        ));
    }
}
