//! An operator's callback about a payout. On a capability URL (`/<payout>/<token>`, the
//! token an HMAC of the payout id only the operator was told: `callback_token`) whose body
//! agrees with the payout and says it ended, the callback is the payout's outcome: the
//! engine settles or fails it at once, and a status query verifies it later. Any other
//! callback is a hint that brings the payout's status query forward and settles nothing.
//! Every capability callback is judged and counted by its verdict.

mod judge;

use super::{App, AppError};
use crate::ids::{PayoutId, Reference};
use crate::route::RouteName;
use crate::store::{callback_secrets, callback_settlements, payouts};

pub use judge::{CallbackReport, CallbackVerdict};

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

    /// Judges a callback that arrived on `payout`'s capability URL with `token`: a trusted
    /// final word goes to the engine as the payout's outcome; anything else is a hint.
    /// `operator` names the caller in the metric.
    pub async fn operator_reported(
        &self,
        operator: &'static str,
        payout: PayoutId,
        token: &str,
        report: &CallbackReport,
    ) -> Result<CallbackVerdict, AppError> {
        self.engine.available()?;
        let client = self.pool.get().await?;
        let stored = callback_settlements::called_back(&client, payout).await?;
        drop(client);
        let keys = self.settings.callback_keys.as_ref();
        let verdict = judge::judge(keys, payout, token, report, stored.as_ref());
        if let Some(stored) = &stored {
            match &verdict {
                CallbackVerdict::Settles(outcome) => {
                    self.engine
                        .called_back(&stored.route, stored.reference, outcome.clone())?;
                }
                verdict if !verdict.is_final_word() && !stored.state.is_final() => {
                    self.engine.nudge(&stored.route, stored.reference)?;
                }
                _ => {}
            }
        }
        metrics::counter!(crate::metrics::CALLBACKS, "operator" => operator, "verdict" => verdict.as_str())
            .increment(1);
        if let CallbackVerdict::ContradictsFinal = verdict {
            tracing::warn!(payout_id = %payout, "an authenticated callback contradicts the payout's final state; nothing changed");
        }
        Ok(verdict)
    }

    /// Makes a new secret sign callback URLs; the others stay accepted for `overlap` (the
    /// node's operator, from the command line). Every node reads it within its refresh.
    pub async fn rotate_callback_secret(
        &self,
        overlap: std::time::Duration,
    ) -> Result<(), AppError> {
        let secret: [u8; 32] = rand::random();
        let client = self.pool.get().await?;
        callback_secrets::rotate(&client, &secret, overlap.as_secs_f64()).await?;
        Ok(())
    }
}
