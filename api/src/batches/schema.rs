//! A payroll batch written as JSON, as the OpenAPI document describes it. The application
//! layer reads the body itself, a line at a time (`payrail_engine::app::uploads`); these
//! types only say what the body looks like.

use serde::Serialize;
use utoipa::ToSchema;

use crate::amount_text::AmountText;

/// A payroll batch written as JSON.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JsonBatch {
    pub lines: Vec<JsonLine>,
}

/// One payout of a JSON batch; at most 16,384 bytes of JSON.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JsonLine {
    pub msisdn: String,
    pub amount: AmountText,
    pub name: Option<String>,
    pub reference: Option<String>,
    pub note: Option<String>,
}
