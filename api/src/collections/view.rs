//! How a collection looks in answers: amounts as decimal strings in the currency's major
//! unit, the state by its stored name, and — for one made in the LTGS shape — the LTGS
//! field names alongside ours.

use jiff::Timestamp;
use payrail_engine::app::collections::Collection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ltgs::LtgsEcho;

/// A collection (a request to pay).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CollectionView {
    pub id: Uuid,
    /// `pending`, `paid`, `failed` or `expired`.
    pub state: String,
    /// The payer's number: E.164 digits without '+'.
    pub msisdn: String,
    pub amount: String,
    /// Our fee, taken from the amount when it is paid.
    pub fee: String,
    /// What the merchant is credited when it is paid: amount − fee.
    pub net_amount: String,
    pub currency: String,
    /// The merchant's own reference (LTGS `Sale_Reference_ID`).
    pub reference: Option<String>,
    pub payer_message: Option<String>,
    /// The operator the payer approves with: "MTN MoMo", "Airtel Money".
    pub payment_channel: Option<String>,
    pub callback_url: Option<String>,
    /// Why it failed: the operator's code.
    pub failure_reason: Option<String>,
    /// The id the operator knows the request by.
    pub operator_reference: Uuid,
    pub operator_transaction_id: Option<String>,
    /// When a collection still pending is given up as `expired`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The LTGS names of a collection made in the LTGS shape.
    #[serde(flatten)]
    pub ltgs: Option<LtgsEcho>,
}

impl From<&Collection> for CollectionView {
    fn from(collection: &Collection) -> CollectionView {
        let currency = collection.currency;
        let net = collection
            .amount
            .checked_sub(collection.fee)
            .unwrap_or_default();
        CollectionView {
            id: *collection.id.as_uuid(),
            state: collection.state.as_str().to_owned(),
            msisdn: collection.msisdn.as_str().to_owned(),
            amount: collection.amount.format(currency),
            fee: collection.fee.format(currency),
            net_amount: net.format(currency),
            currency: currency.code().to_owned(),
            reference: collection.client_reference.clone(),
            payer_message: collection.payer_message.clone(),
            payment_channel: collection.payment_channel.clone(),
            callback_url: collection.callback_url.clone(),
            failure_reason: collection.failure_code.clone(),
            operator_reference: *collection.reference.as_uuid(),
            operator_transaction_id: collection.operator_transaction_id.clone(),
            expires_at: collection.expires_at,
            created_at: collection.created_at,
            updated_at: collection.updated_at,
            ltgs: LtgsEcho::of(collection),
        }
    }
}
