//! The port to a mobile-money operator (MTN MoMo, Airtel Money, or a simulator): what the
//! engine asks of one route, and errors that say what the caller may do next.

use crate::ids::{PayoutId, Reference};
use crate::money::{Amount, Currency};
use crate::msisdn::Msisdn;

/// One payout as an operator receives it. `reference` is sent on every attempt, so a resend
/// cannot execute twice; `payout` travels as the operator's external id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRequest {
    pub reference: Reference,
    pub payout: PayoutId,
    pub msisdn: Msisdn,
    pub amount: Amount,
    pub currency: Currency,
    /// Shown to the payee where the operator supports it.
    pub note: Option<String>,
}

/// Where the operator says a payout stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    /// Accepted, not final yet: ask again later.
    Pending,
    /// Paid to the payee.
    Succeeded {
        operator_transaction_id: Option<String>,
    },
    /// Not paid, finally; `code` is the operator's reason (e.g. `PAYEE_NOT_FOUND`).
    Failed { code: String },
}

/// A request to pay, approved (or not) by the customer on the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRequest {
    pub reference: Reference,
    pub msisdn: Msisdn,
    pub amount: Amount,
    pub currency: Currency,
    /// Shown to the customer when asked to approve.
    pub message: Option<String>,
}

/// Where the operator says a request to pay stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Waiting for the customer.
    Pending,
    Paid {
        operator_transaction_id: Option<String>,
    },
    Failed {
        code: String,
    },
    /// The customer did not answer in time.
    Expired,
}

/// What the operator knows of a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountHolder {
    /// The number holds an account that can receive money.
    pub active: bool,
    /// The holder's name, where the operator tells it.
    pub name: Option<String>,
}

/// Why an operator call did not give an answer, named for what the caller may do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    /// Never reached the operator (connection refused, 429, 503): resend with the same
    /// reference, after `retry_after_ms` when the operator said so.
    #[error("not sent: {detail}")]
    NotSent {
        detail: String,
        retry_after_ms: Option<u64>,
    },
    /// The operator said no: final, nothing was executed.
    #[error("rejected by the operator: {code}")]
    Rejected { code: String },
    /// The request may or may not have been executed (timeout, reset, 5xx, a reply that
    /// does not parse, a reference the operator already knows): query the status before
    /// anything else, never resend blindly.
    #[error("outcome unknown after {elapsed_ms} ms")]
    OutcomeUnknown { elapsed_ms: u64 },
}

/// One route's operator. Implementations are cheap to share (`Arc<dyn Operator>`) and every
/// call is safe to make concurrently.
#[async_trait::async_trait]
pub trait Operator: Send + Sync + std::fmt::Debug {
    /// Sends a payout. `Ok(Pending)` means accepted; the final status comes from
    /// `query_payout`.
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError>;

    /// The status of a payout by its reference; `Ok(None)` means the operator never created
    /// it, so a resend with the same reference is safe.
    async fn query_payout(
        &self,
        reference: Reference,
    ) -> Result<Option<PayoutStatus>, OperatorError>;

    /// Asks a customer to approve a payment on the phone.
    async fn request_payment(
        &self,
        request: &PaymentRequest,
    ) -> Result<PaymentStatus, OperatorError>;

    /// The status of a request to pay; `Ok(None)` when the operator never created it.
    async fn query_payment(
        &self,
        reference: Reference,
    ) -> Result<Option<PaymentStatus>, OperatorError>;

    /// Whether a number can receive money, and the holder's name where known.
    async fn account_holder(&self, msisdn: &Msisdn) -> Result<AccountHolder, OperatorError>;

    /// The balance of Payrail's account at the operator (the float payouts are paid from).
    async fn balance(&self) -> Result<(Amount, Currency), OperatorError>;
}
