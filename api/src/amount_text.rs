//! An amount as a request gives it: a decimal string ("1500", "12.50"), or a JSON number
//! written the same way. It is read as text, never through a float, so "0.1" stays 0.1.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount in the currency's major unit.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AmountText {
    Text(String),
    #[schema(value_type = f64)]
    Number(serde_json::Number),
}

impl AmountText {
    /// The amount as written.
    pub fn text(&self) -> String {
        match self {
            AmountText::Text(text) => text.clone(),
            AmountText::Number(number) => number.to_string(),
        }
    }
}
