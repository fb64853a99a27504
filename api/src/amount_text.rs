//! An amount as a request gives it: a decimal string ("1500", "12.50") or a JSON number,
//! kept as the exact text the client wrote. A number never passes through a float, so
//! `0.99999999999999999` stays what it is and is refused at the currency's scale, and
//! `1e3` is refused as a string "1e3" would be.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

/// An amount in the currency's major unit, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountText {
    /// Written as a JSON string.
    Text(String),
    /// Written as a JSON number: its digits exactly as sent.
    Number(String),
}

impl AmountText {
    /// The amount as written, to be parsed by the currency's strict rules.
    pub fn text(&self) -> &str {
        match self {
            AmountText::Text(text) | AmountText::Number(text) => text,
        }
    }
}

impl<'de> Deserialize<'de> for AmountText {
    /// Reads the value's raw JSON text; works on any serde_json deserializer.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AmountText, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.starts_with('"') {
            return serde_json::from_str(text)
                .map(AmountText::Text)
                .map_err(D::Error::custom);
        }
        if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return Ok(AmountText::Number(text.to_owned()));
        }
        Err(D::Error::custom(
            "an amount is a decimal string (\"1500\") or a number (1500)",
        ))
    }
}

impl Serialize for AmountText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AmountText::Text(text) => serializer.serialize_str(text),
            AmountText::Number(digits) => RawValue::from_string(digits.clone())
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer),
        }
    }
}

impl utoipa::PartialSchema for AmountText {
    fn schema() -> RefOr<Schema> {
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[0-9]+(\.[0-9]+)?$"));
        let number = ObjectBuilder::new().schema_type(Type::Number);
        OneOfBuilder::new()
            .item(text)
            .item(number)
            .description(Some(
                "In the currency's major unit: \"1500\" RWF, \"12.50\" EUR. A JSON number is read from its exact digits; an exponent or a finer scale than the currency's is refused.",
            ))
            .examples(["1500"])
            .into()
    }
}

impl utoipa::ToSchema for AmountText {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        amount: AmountText,
    }

    fn amount(json: &str) -> Result<AmountText, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|body| body.amount)
    }

    #[test]
    fn a_number_keeps_its_exact_digits() {
        assert_eq!(
            amount(r#"{"amount": 0.99999999999999999}"#)
                .expect("a number")
                .text(),
            "0.99999999999999999"
        );
        assert_eq!(
            amount(r#"{"amount": 99999999999999999999}"#)
                .expect("a number")
                .text(),
            "99999999999999999999"
        );
        assert_eq!(
            amount(r#"{"amount": 1e3}"#).expect("a number").text(),
            "1e3"
        );
        assert_eq!(
            amount(r#"{"amount": "12.50"}"#).expect("a string"),
            AmountText::Text("12.50".into())
        );
    }

    #[test]
    fn anything_else_is_refused() {
        assert!(amount(r#"{"amount": true}"#).is_err());
        assert!(amount(r#"{"amount": null}"#).is_err());
        assert!(amount(r#"{"amount": [1]}"#).is_err());
    }

    #[test]
    fn it_is_written_back_as_it_came() {
        let number = AmountText::Number("1500.00".into());
        assert_eq!(serde_json::to_string(&number).expect("json"), "1500.00");
        let text = AmountText::Text("7".into());
        assert_eq!(serde_json::to_string(&text).expect("json"), "\"7\"");
    }
}
