//! What an operator callback is worth: a hint naming a payout or a request to pay to ask
//! about. Callbacks are unsigned and may be late, repeated, partial or forged, so a hint
//! never settles anything; it only brings a status query forward.

use payrail_engine::ids::{PayoutId, Reference};

/// The payout (or request to pay) a callback is about, as far as it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackHint {
    /// Our reference, when the callback carries it.
    pub reference: Option<Reference>,
    /// Our payout id, sent to the operator as the external id; MTN sometimes sends only this.
    pub payout: Option<PayoutId>,
    /// The status the callback claims, kept for the log; never acted on.
    pub claimed_status: Option<String>,
}

/// A callback that names nothing we could ask about.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback body is not JSON: {0}")]
    NotJson(String),
    #[error("the callback names neither a reference nor an external id of ours")]
    Unidentified,
}

impl CallbackHint {
    /// A hint that names at least one thing to ask about.
    pub fn identified(self) -> Result<CallbackHint, CallbackError> {
        if self.reference.is_none() && self.payout.is_none() {
            return Err(CallbackError::Unidentified);
        }
        Ok(self)
    }
}
