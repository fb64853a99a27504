//! Airtel's callback read as a hint: `{"transaction": {"id", "message", "status_code",
//! "airtel_money_id"}}`, every field optional; the status it claims is never acted on.

use payrail_engine::ids::Reference;

use crate::callback::{CallbackError, CallbackHint};

use super::wire::CallbackBody;

/// The payout or request to pay an Airtel callback is about: its `transaction.id` is our
/// reference when it parses as one. Airtel's callbacks carry nothing else of ours.
pub fn parse_callback(body: &[u8]) -> Result<CallbackHint, CallbackError> {
    let body: CallbackBody =
        serde_json::from_slice(body).map_err(|error| CallbackError::NotJson(error.to_string()))?;
    let transaction = body.transaction;
    let (id, status_code) = transaction.map_or((None, None), |transaction| {
        (transaction.id, transaction.status_code)
    });
    CallbackHint {
        reference: id.and_then(|id| id.trim().parse::<Reference>().ok()),
        payout: None,
        claimed_status: status_code,
    }
    .identified()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = "0196f1c2-7a3b-7c4d-8e5f-0123456789ab";

    #[test]
    fn a_full_callback_names_our_reference_and_keeps_the_claim() {
        let body = format!(
            r#"{{"transaction":{{"id":"{REFERENCE}","message":"Paid","status_code":"TS",
            "airtel_money_id":"MP210603.1234.L06941"}}}}"#
        );
        let hint = parse_callback(body.as_bytes()).expect("a hint");
        assert_eq!(
            hint.reference,
            Some(REFERENCE.parse().expect("a reference"))
        );
        assert_eq!(hint.claimed_status.as_deref(), Some("TS"));
        assert_eq!(hint.payout, None);
    }

    #[test]
    fn numeric_fields_are_read_as_text() {
        let body = format!(
            r#"{{"transaction":{{"id":"{REFERENCE}","status_code":200,"airtel_money_id":12345}}}}"#
        );
        let hint = parse_callback(body.as_bytes()).expect("a hint");
        assert_eq!(hint.claimed_status.as_deref(), Some("200"));
    }

    #[test]
    fn a_callback_without_an_id_of_ours_is_unidentified() {
        for body in [
            r#"{"transaction":{"status_code":"TS"}}"#,
            r#"{"transaction":{"id":"AB12345","status_code":"TF"}}"#,
            r#"{"transaction":{"id":12345}}"#,
            r#"{"transaction":null}"#,
            r#"{}"#,
        ] {
            assert_eq!(
                parse_callback(body.as_bytes()),
                Err(CallbackError::Unidentified),
                "{body}"
            );
        }
    }

    #[test]
    fn garbage_is_not_json() {
        for body in [
            &b"<html>502</html>"[..],
            b"",
            b"{\"transaction\":",
            &[0xff, 0xfe],
        ] {
            assert!(matches!(
                parse_callback(body),
                Err(CallbackError::NotJson(_))
            ));
        }
    }

    #[test]
    fn a_transaction_of_the_wrong_shape_is_not_json_we_can_read() {
        assert!(matches!(
            parse_callback(br#"{"transaction":"TS"}"#),
            Err(CallbackError::NotJson(_))
        ));
    }
}
