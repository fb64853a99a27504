//! What a merchant may pay out now (`available`) and what is set aside for payouts queued
//! or in flight (`reserved`).

use super::caller::{Caller, READERS};
use super::{App, AppError};
use crate::ledger;
use crate::money::{Amount, Currency};
use crate::store::merchants;

/// A merchant's balance in its currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balance {
    pub currency: Currency,
    pub available: Amount,
    pub reserved: Amount,
}

impl App {
    /// The caller's merchant's balance.
    pub async fn balance(&self, caller: &Caller) -> Result<Balance, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        let merchant = merchants::get(&client, caller.merchant).await?;
        let balances = ledger::balances(&client, caller.merchant).await?;
        Ok(Balance {
            currency: merchant.currency,
            available: balances.available,
            reserved: balances.reserved,
        })
    }
}
