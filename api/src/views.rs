//! How payouts and batches look in answers: amounts as decimal strings in the currency's
//! major unit ("1500" RWF, "12.50" EUR), states by their stored names, and the people
//! (API keys) who created, approved or cancelled a batch.

use std::collections::BTreeMap;

use jiff::Timestamp;
use payrail_engine::app::batches::{BatchSummary, LineError};
use payrail_engine::app::payouts::Payout;
use payrail_engine::money::{Amount, Currency};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A payout.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PayoutView {
    pub id: Uuid,
    pub batch_id: Uuid,
    /// `validated` or `queued` (not sent yet), `sending`, `submitted` (the operator has it
    /// and has not finished), `succeeded`, `failed`, `requires_review` or `cancelled`.
    pub state: String,
    /// E.164 digits without '+'.
    pub msisdn: String,
    pub amount: String,
    pub fee: String,
    pub currency: String,
    /// The merchant's own reference.
    pub reference: Option<String>,
    pub name: Option<String>,
    pub note: Option<String>,
    /// Why it failed: the operator's code, or `insufficient_balance`.
    pub failure_reason: Option<String>,
    /// The id the operator knows it by (MTN's `X-Reference-Id`).
    pub operator_reference: Uuid,
    pub operator_transaction_id: Option<String>,
    /// The line's number in its file (the header is line 1).
    pub line: i32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Payout> for PayoutView {
    fn from(payout: &Payout) -> PayoutView {
        PayoutView {
            id: *payout.id.as_uuid(),
            batch_id: *payout.batch.as_uuid(),
            state: payout.state.as_str().to_owned(),
            msisdn: payout.msisdn.clone(),
            amount: payout.amount.format(payout.currency),
            fee: payout.fee.format(payout.currency),
            currency: payout.currency.code().to_owned(),
            reference: payout.client_reference.clone(),
            name: payout.name.clone(),
            note: payout.note.clone(),
            failure_reason: payout.failure_code.clone(),
            operator_reference: *payout.reference.as_uuid(),
            operator_transaction_id: payout.operator_transaction_id.clone(),
            line: payout.line_no,
            created_at: payout.created_at,
            updated_at: payout.updated_at,
        }
    }
}

/// Lines in one state and their sums.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StateTotals {
    pub lines: i64,
    pub amount: String,
    pub fee: String,
}

/// A payroll batch with its counts and totals per line state.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchView {
    pub id: Uuid,
    /// `invalid`, `awaiting_approval`, `awaiting_funds`, `scheduled`, `running`,
    /// `completed`, `completed_with_failures` or `cancelled`.
    pub state: String,
    pub currency: String,
    pub line_count: i32,
    pub total_amount: String,
    pub total_fee: String,
    /// Lines refused by validation (see `/v1/batches/{id}/errors`).
    pub error_count: i32,
    /// Lines per state, with their amounts and fees.
    pub lines: BTreeMap<String, StateTotals>,
    /// The API keys that created, approved and cancelled it.
    pub created_by: Option<Uuid>,
    pub approved_by: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<Timestamp>,
    pub cancelled_by: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl BatchView {
    pub fn new(summary: &BatchSummary) -> BatchView {
        let (batch, counts) = (&summary.batch, &summary.counts);
        let currency = batch.currency;
        let text = |minor: i64| {
            payrail_engine::money::Amount::from_minor(minor)
                .map(|amount| amount.format(currency))
                .unwrap_or_else(|_| minor.to_string())
        };
        let key = |id: Option<payrail_engine::ids::ApiKeyId>| id.map(|id| *id.as_uuid());
        BatchView {
            id: *batch.id.as_uuid(),
            state: batch.state.as_str().to_owned(),
            currency: currency.code().to_owned(),
            line_count: batch.line_count,
            total_amount: batch.total_amount.format(currency),
            total_fee: batch.total_fee.format(currency),
            error_count: batch.error_count,
            lines: counts
                .iter()
                .map(|count| {
                    let totals = StateTotals {
                        lines: count.lines,
                        amount: text(count.amount),
                        fee: text(count.fee),
                    };
                    (count.state.as_str().to_owned(), totals)
                })
                .collect(),
            created_by: key(batch.created_by),
            approved_by: key(batch.approved_by),
            approved_at: batch.approved_at,
            cancelled_by: key(batch.cancelled_by),
            cancelled_at: batch.cancelled_at,
            created_at: batch.created_at,
            updated_at: batch.updated_at,
        }
    }
}

/// One refusal in a batch's validation report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LineErrorView {
    /// The line's number in the file (the header is line 1), or in the JSON list.
    pub line: i32,
    /// The column at fault, or `line` for a line that could not be split into columns.
    pub field: String,
    pub reason: String,
}

impl From<LineError> for LineErrorView {
    fn from(error: LineError) -> LineErrorView {
        LineErrorView {
            line: error.line,
            field: error.field,
            reason: error.reason,
        }
    }
}

/// Minor units as the API writes amounts ("1500", "12.50"); a sum that is not an amount
/// (past the largest) as its digits.
pub fn money_text(minor: i64, currency: Currency) -> String {
    Amount::from_minor(minor).map_or_else(|_| minor.to_string(), |amount| amount.format(currency))
}
