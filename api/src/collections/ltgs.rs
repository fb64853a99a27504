//! The LTGS shape of a collection: the request LTGS sends (`Sale_Reference_ID`,
//! `Phone_Number`, `Total_Amount_to_Pay`, …), the fields of it we keep as given, and the
//! LTGS names echoed in our answers. The callback LTGS receives when the collection ends
//! (`Payment_Status`, `Payment_Ref_ID`, `Paid_On`, …) is written by the database trigger
//! `payrail_collection_events` (migration V4), not here.

use payrail_engine::app::collections::Collection;
use payrail_engine::state::collection::CollectionState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::amount_text::AmountText;

/// The field whose presence marks a request in the LTGS shape.
pub const MARKER: &str = "Sale_Reference_ID";

/// A request to pay in LTGS's shape. The amount may be a JSON number or a decimal string;
/// the currency is the merchant's.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LtgsRequest {
    /// LTGS's sale reference: unique per merchant, returned in the callback.
    #[serde(rename = "Sale_Reference_ID")]
    pub sale_reference_id: String,
    #[serde(rename = "Customer_KYC_ID")]
    pub customer_kyc_id: Option<String>,
    /// The payer's mobile number: "+250788123456", "250788123456" or "0788123456".
    #[serde(rename = "Phone_Number")]
    pub phone_number: String,
    #[serde(rename = "Email_Address")]
    pub email_address: Option<String>,
    /// What is paid for; its first 160 characters are shown to the payer.
    #[serde(rename = "Services_Name")]
    pub services_name: Option<String>,
    /// In the currency's major unit: 1500 or "1500".
    #[serde(rename = "Total_Amount_to_Pay")]
    pub total_amount_to_pay: AmountText,
    /// Where the payment status is sent when the collection ends.
    #[serde(rename = "Callback_URL")]
    pub callback_url: String,
}

impl LtgsRequest {
    /// The optional texts kept as given, with their names.
    pub fn texts(&self) -> [(&'static str, Option<&str>); 3] {
        [
            ("Customer_KYC_ID", self.customer_kyc_id.as_deref()),
            ("Email_Address", self.email_address.as_deref()),
            ("Services_Name", self.services_name.as_deref()),
        ]
    }
}

/// A collection made in the LTGS shape, under LTGS's names, in our answers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LtgsEcho {
    #[serde(rename = "Sale_Reference_ID")]
    pub sale_reference_id: Option<String>,
    #[serde(rename = "Customer_KYC_ID")]
    pub customer_kyc_id: Option<String>,
    /// E.164 digits without '+'.
    #[serde(rename = "Phone_Number")]
    pub phone_number: String,
    #[serde(rename = "Email_Address")]
    pub email_address: Option<String>,
    #[serde(rename = "Services_Name")]
    pub services_name: Option<String>,
    #[serde(rename = "Total_Amount_to_Pay")]
    pub total_amount_to_pay: String,
    #[serde(rename = "Callback_URL")]
    pub callback_url: Option<String>,
    /// `PENDING`, `PAID`, `FAILED` or `EXPIRED`.
    #[serde(rename = "Payment_Status")]
    pub payment_status: String,
    #[serde(rename = "Payment_Channel")]
    pub payment_channel: Option<String>,
    /// The operator's transaction id, once paid.
    #[serde(rename = "Payment_Ref_ID")]
    pub payment_ref_id: Option<String>,
}

impl LtgsEcho {
    /// The LTGS view of a collection made in the LTGS shape; `None` for our own shape.
    pub fn of(collection: &Collection) -> Option<LtgsEcho> {
        let kept = collection.ltgs.as_ref()?;
        let text = |name: &str| kept.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(LtgsEcho {
            sale_reference_id: collection.client_reference.clone(),
            customer_kyc_id: text("Customer_KYC_ID"),
            phone_number: collection.msisdn.as_str().to_owned(),
            email_address: text("Email_Address"),
            services_name: text("Services_Name"),
            total_amount_to_pay: collection.amount.format(collection.currency),
            callback_url: collection.callback_url.clone(),
            payment_status: payment_status(collection.state).to_owned(),
            payment_channel: collection.payment_channel.clone(),
            payment_ref_id: collection.operator_transaction_id.clone(),
        })
    }
}

/// LTGS's name for a collection's state, as the callback also uses it.
fn payment_status(state: CollectionState) -> &'static str {
    match state {
        CollectionState::Pending => "PENDING",
        CollectionState::Paid => "PAID",
        CollectionState::Failed => "FAILED",
        CollectionState::Expired => "EXPIRED",
    }
}
