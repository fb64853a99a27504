//! Paying one person now: the line is checked and the payout written by the engine's group
//! commit with its answer under its Idempotency-Key (funded, or failed at once for want of
//! funds); a key already stored gets its stored answer;
//! the caller may wait a few seconds for its end. A payout is read by id, and one not yet
//! sent may be cancelled on its own.

use std::time::Duration;

use serde::Serialize;

use super::caller::{Caller, READERS};
use super::idempotency::{self, Answered, Claim, IdempotencyKey, Render};
use super::lines::{LineChecker, LineRules, RawLine};
use super::singles::{SinglePayout, Written};
use super::{App, AppError, FieldError};
use crate::api_key::Role;
use crate::ids::{MerchantId, PayoutId};
use crate::store::batch_decisions;
use crate::store::merchants::{self, Merchant};
use crate::store::payout_lines::NewPayoutLine;
use crate::store::payouts;
pub use crate::store::payouts::Payout;

/// The longest a request may wait for its payout to end.
pub const WAIT_MAX_SECONDS: u64 = 10;

/// A payout to one mobile number, as asked for.
#[derive(Clone, Debug, Serialize)]
pub struct NewPayout {
    /// "+250788123456", "250788123456" or "0788123456".
    pub msisdn: String,
    /// In the currency's major unit, as written.
    pub amount: String,
    /// Must be the merchant's.
    pub currency: String,
    pub reference: Option<String>,
    pub name: Option<String>,
    pub note: Option<String>,
}

/// The key a request holds and what makes two requests the same (the front end's own
/// fingerprint of the request as it came).
#[derive(Clone, Debug)]
pub struct Once {
    pub key: IdempotencyKey,
    pub request_sha256: [u8; 32],
}

impl App {
    /// Pays one mobile number now. The answer (`render` of the payout as written, or as it
    /// ended within `wait`) is stored under the key, so a replay gets it again.
    pub async fn pay_one(
        &self,
        caller: &Caller,
        new: &NewPayout,
        once: Once,
        wait: Duration,
        render: Render<Payout>,
    ) -> Result<Answered, AppError> {
        caller.require(&[Role::Maker])?;
        if wait.as_secs() > WAIT_MAX_SECONDS {
            return Err(AppError::invalid_field(
                "wait",
                format!("at most {WAIT_MAX_SECONDS} seconds"),
            ));
        }
        let (merchant, line) = self.checked_line(caller, new).await?;
        let _in_flight = self.singles_in_flight.hold(merchant.id, &once.key)?;
        let single = SinglePayout {
            merchant: merchant.id,
            currency: merchant.currency,
            created_by: caller.key,
            line,
            key: once.key.clone(),
            request_sha256: once.request_sha256,
            render,
        };
        let payout = match self.engine.write_single(single).await? {
            Written::Payout(payout) => *payout,
            Written::KeyHeld => {
                return idempotency::stored(&self.pool, merchant.id, &once.key)
                    .await?
                    .replay(&once.request_sha256);
            }
        };
        if wait.is_zero() || payout.state.is_final() {
            return fresh(render, &payout);
        }
        let payout = self.wait_for_end(merchant.id, payout.id, wait).await?;
        let answered = fresh(render, &payout)?;
        if payout.state.is_final() {
            let client = self.pool.get().await?;
            Claim::stored_with_answer(merchant.id, once.key)
                .finish(&client, &once.request_sha256, &answered.answer)
                .await?;
        }
        Ok(answered)
    }

    /// Checks a payout as `pay_one` would, without paying it: what would be sent, with its
    /// fee and route (the portal shows it before the person confirms).
    pub async fn check_payout(
        &self,
        caller: &Caller,
        new: &NewPayout,
    ) -> Result<NewPayoutLine, AppError> {
        Ok(self.checked_line(caller, new).await?.1)
    }

    /// The caller's merchant and the payout's line, checked.
    async fn checked_line(
        &self,
        caller: &Caller,
        new: &NewPayout,
    ) -> Result<(Merchant, NewPayoutLine), AppError> {
        caller.require(&[Role::Maker])?;
        let merchant = match self.merchants.get(caller.merchant) {
            Some(merchant) => merchant,
            None => {
                let merchant = merchants::get(&self.pool.get().await?, caller.merchant).await?;
                self.merchants.keep(merchant.clone());
                merchant
            }
        };
        if new.currency != merchant.currency.code() {
            return Err(AppError::invalid_field(
                "currency",
                format!("this merchant pays in {}", merchant.currency.code()),
            ));
        }
        let rules = LineRules {
            country: self.settings.country,
            routes: &self.settings.routes,
            currency: merchant.currency,
            fee: merchant.fees.payout_fee(),
        };
        let raw = RawLine {
            msisdn: &new.msisdn,
            amount: &new.amount,
            name: new.name.as_deref(),
            reference: new.reference.as_deref(),
            note: new.note.as_deref(),
        };
        let line = LineChecker::new(rules)
            .check(1, raw)
            .map_err(refused_line)?;
        Ok((merchant, line))
    }

    /// One of the caller's merchant's payouts.
    pub async fn payout(&self, caller: &Caller, id: PayoutId) -> Result<Payout, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        Ok(payouts::get(&client, caller.merchant, id).await?)
    }

    /// Cancels a single payout not yet sent and returns its reserved amount and fee; the
    /// other payouts written with it are untouched. A payroll line is cancelled with its
    /// batch, never on its own.
    pub async fn cancel_payout(&self, caller: &Caller, id: PayoutId) -> Result<Payout, AppError> {
        caller.require(&[Role::Maker, Role::Checker])?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        batch_decisions::cancel_single(&tx, caller.merchant, id)
            .await
            .map_err(|error| match error {
                batch_decisions::CancelSingleError::NotSingle => AppError::conflict(
                    "payout-state",
                    "this payout is a line of a payroll batch: cancel the batch",
                ),
                batch_decisions::CancelSingleError::Sent(state) => AppError::conflict(
                    "payout-state",
                    format!("this payout is {state}: only a payout not yet sent can be cancelled"),
                ),
                batch_decisions::CancelSingleError::Store(error) => error.into(),
            })?;
        let payout = payouts::get(&tx, caller.merchant, id).await?;
        tx.commit().await?;
        Ok(payout)
    }

    /// Reads the payout until it is final or `wait` has passed; polls quickly at first,
    /// since a payout to a fast operator ends within milliseconds.
    async fn wait_for_end(
        &self,
        merchant: MerchantId,
        id: PayoutId,
        wait: Duration,
    ) -> Result<Payout, AppError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = Duration::from_millis(5);
        loop {
            tokio::time::sleep(
                pause.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
            )
            .await;
            let client = self.pool.get().await?;
            let payout = payouts::get(&client, merchant, id).await?;
            if payout.state.is_final() || tokio::time::Instant::now() >= deadline {
                return Ok(payout);
            }
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

fn fresh(render: Render<Payout>, payout: &Payout) -> Result<Answered, AppError> {
    Ok(Answered {
        answer: render(payout)?,
        replayed: false,
    })
}

/// Refusals of a line, each with its field, as one error.
fn refused_line(errors: Vec<crate::store::line_errors::LineError>) -> AppError {
    AppError::Invalid {
        detail: errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.reason))
            .collect::<Vec<_>>()
            .join("; "),
        errors: errors
            .into_iter()
            .map(|e| FieldError {
                field: e.field,
                reason: e.reason,
            })
            .collect(),
    }
}
