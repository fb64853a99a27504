//! Lenient readers for operator replies: a string that may come as a number (MTN's own
//! examples do that), and a reason that may be an object or a plain string.

use serde::{Deserialize, Deserializer};

/// Reads a JSON string, number or boolean as its text: `"100"` and `100` both give "100".
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(number) => Ok(number.to_string()),
        serde_json::Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, found {other}"
        ))),
    }
}

/// Like `text`, for a field that may be missing or null.
pub fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => text(value).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Why the operator failed something: `{"code": "...", "message": "..."}` or `"CODE"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub code: String,
    pub message: Option<String>,
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Reason, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Object {
                #[serde(default, deserialize_with = "optional_text")]
                code: Option<String>,
                #[serde(default, deserialize_with = "optional_text")]
                message: Option<String>,
            },
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Text(code) => Reason {
                code,
                message: None,
            },
            // A reason object without a code still says the operator failed it; keep the
            // message and say the code was missing rather than invent one.
            Wire::Object { code, message } => Reason {
                code: code.unwrap_or_else(|| "UNSPECIFIED".into()),
                message,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    struct Reply {
        #[serde(deserialize_with = "text")]
        amount: String,
        #[serde(default, deserialize_with = "optional_text")]
        id: Option<String>,
        reason: Option<Reason>,
    }

    fn read(json: &str) -> Reply {
        serde_json::from_str(json).expect("a lenient reply")
    }

    #[test]
    fn numbers_are_read_where_strings_are_expected() {
        let reply = read(r#"{"amount": 100, "id": 363440463}"#);
        assert_eq!(reply.amount, "100");
        assert_eq!(reply.id.as_deref(), Some("363440463"));
        assert_eq!(read(r#"{"amount": "100", "id": null}"#).id, None);
    }

    #[test]
    fn a_reason_is_an_object_or_a_string() {
        let object = read(r#"{"amount":"1","reason":{"code":"PAYEE_NOT_FOUND","message":"no"}}"#);
        assert_eq!(
            object.reason,
            Some(Reason {
                code: "PAYEE_NOT_FOUND".into(),
                message: Some("no".into())
            })
        );
        let text = read(r#"{"amount":"1","reason":"NOT_ENOUGH_FUNDS"}"#);
        assert_eq!(
            text.reason.map(|reason| reason.code).as_deref(),
            Some("NOT_ENOUGH_FUNDS")
        );
    }

    #[test]
    fn an_array_is_not_a_string() {
        assert!(serde_json::from_str::<Reply>(r#"{"amount": [1]}"#).is_err());
    }
}
