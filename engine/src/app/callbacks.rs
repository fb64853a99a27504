//! An operator's callback about a payout, read as a hint: it brings that payout's status
//! query forward, and nothing is settled from a callback's own word, since callbacks are
//! unsigned and may be forged, repeated or late.

use super::{App, AppError};
use crate::ids::{PayoutId, Reference};
use crate::route::RouteName;
use crate::store::payouts;

/// What a callback names, as the operator's adapter read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackHint {
    /// The operator's reference (MTN's `X-Reference-Id`), when the callback carries it.
    pub reference: Option<Reference>,
    /// Our payout id, when the callback carries it (as the operator's external id).
    pub payout: Option<PayoutId>,
}

impl App {
    /// Brings forward the status query of the payout a callback names. `routes` are those
    /// the calling operator serves: a reference alone does not say which of them it is.
    pub async fn operator_called_back(
        &self,
        routes: &[RouteName],
        hint: CallbackHint,
    ) -> Result<(), AppError> {
        self.engine.available()?;
        let targets: Vec<(RouteName, Reference)> = match (hint.reference, hint.payout) {
            (Some(reference), _) => routes
                .iter()
                .map(|route| (route.clone(), reference))
                .collect(),
            (None, Some(payout)) => {
                let client = self.pool.get().await?;
                payouts::route_and_reference(&client, payout)
                    .await?
                    .into_iter()
                    .collect()
            }
            (None, None) => Vec::new(),
        };
        for (route, reference) in targets {
            self.engine.nudge(&route, reference)?;
        }
        Ok(())
    }
}
