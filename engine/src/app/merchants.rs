//! Merchants: created (with their ledger accounts and one API key per role) and funded by
//! an operator of the node, who also corrects their balances; their settings read and
//! their four-eyes rule and time zone set by their own admins; their API keys listed,
//! issued and revoked.

use super::caller::{Caller, READERS};
use super::{App, AppError};
use crate::api_key::Role;
use crate::ids::{ApiKeyId, MerchantId, MovementId};
use crate::ledger::{self, Balances};
use crate::money::Amount;
use crate::store::api_keys::{self, IssuedKey};
use crate::store::merchants::{self, CreateMerchantError};

pub use crate::ledger::{Correction, Direction};
pub use crate::store::api_keys::{ApiKey, IssuedKey as IssuedApiKey};
pub use crate::store::merchants::{Merchant, NewMerchant};

/// When payroll batches wait for a second person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Required {
    Never,
    Always,
    /// When the batch's total is above an amount.
    Above,
}

/// The four-eyes rule as asked for: `above` goes with `Required::Above` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRule {
    pub required: Required,
    /// In the currency's major unit, as written.
    pub above: Option<String>,
}

impl App {
    /// Creates a merchant, its ledger accounts and one API key per role (shown this once).
    pub async fn create_merchant(
        &self,
        new: &NewMerchant,
    ) -> Result<(Merchant, Vec<IssuedKey>), AppError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let created = merchants::create(&tx, new)
            .await
            .map_err(|error| match error {
                CreateMerchantError::InvalidName => {
                    AppError::invalid_field("name", error.to_string())
                }
                other => AppError::internal(other),
            })?;
        tx.commit().await?;
        Ok(created)
    }

    /// Tops a merchant up from outside; returns its balances after.
    pub async fn fund_merchant(
        &self,
        merchant: MerchantId,
        amount: Amount,
    ) -> Result<Balances, AppError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        merchants::get(&tx, merchant).await?;
        if amount.is_zero() {
            return Err(AppError::invalid_field(
                "amount",
                "a top-up must be positive",
            ));
        }
        ledger::fund(&tx, merchant, amount).await?;
        tx.commit().await?;
        Ok(ledger::balances(&client, merchant).await?)
    }

    /// Corrects a merchant's balance (the node's operator, with a reason the statement
    /// shows); returns the correction's id and the balances after.
    pub async fn correct_balance(
        &self,
        merchant: MerchantId,
        correction: &ledger::Correction,
    ) -> Result<(MovementId, Balances), AppError> {
        if correction.description.trim().is_empty() || correction.description.chars().count() > 200
        {
            return Err(AppError::invalid_field(
                "reason",
                "say why, in 1 to 200 characters",
            ));
        }
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        merchants::get(&tx, merchant).await?;
        let id = ledger::correct(&tx, merchant, correction)
            .await
            .map_err(|error| match error {
                ledger::LedgerError::InsufficientFunds { .. } => {
                    AppError::invalid_field("amount", error.to_string())
                }
                ledger::LedgerError::InvalidAmount(reason) => {
                    AppError::invalid_field("amount", reason)
                }
                other => other.into(),
            })?;
        tx.commit().await?;
        Ok((id, ledger::balances(&client, merchant).await?))
    }

    /// Sets the time zone the merchant's reports are dated in (admins only).
    pub async fn set_time_zone(
        &self,
        caller: &Caller,
        time_zone: &str,
    ) -> Result<Merchant, AppError> {
        caller.require(&[Role::Admin])?;
        super::reports::period::zone(time_zone)?;
        let client = self.pool.get().await?;
        merchants::set_time_zone(&client, caller.merchant, time_zone).await?;
        Ok(merchants::get(&client, caller.merchant).await?)
    }

    /// A merchant and its balances, for the node's operator.
    pub async fn merchant(&self, merchant: MerchantId) -> Result<(Merchant, Balances), AppError> {
        let client = self.pool.get().await?;
        let found = merchants::get(&client, merchant).await?;
        Ok((found, ledger::balances(&client, merchant).await?))
    }

    /// Every merchant, oldest first, for the node's operator.
    pub async fn merchants(&self) -> Result<Vec<Merchant>, AppError> {
        let client = self.pool.get().await?;
        Ok(merchants::list(&client).await?)
    }

    /// The caller's merchant: its currency, fees and approval rule.
    pub async fn merchant_settings(&self, caller: &Caller) -> Result<Merchant, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        Ok(merchants::get(&client, caller.merchant).await?)
    }

    /// Sets when payroll batches need a second person's approval (admins only).
    pub async fn set_approval_rule(
        &self,
        caller: &Caller,
        rule: &ApprovalRule,
    ) -> Result<Merchant, AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        let merchant = merchants::get(&client, caller.merchant).await?;
        let threshold = match (rule.required, &rule.above) {
            (Required::Never, None) => None,
            (Required::Always, None) => Some(Amount::ZERO),
            (Required::Above, Some(above)) => {
                let amount = Amount::parse(above, merchant.currency)
                    .map_err(|error| AppError::invalid_field("above", error.to_string()))?;
                if amount.is_zero() {
                    return Err(AppError::invalid_field(
                        "above",
                        "use \"always\" for every batch",
                    ));
                }
                Some(amount)
            }
            (Required::Above, None) => {
                return Err(AppError::invalid_field(
                    "above",
                    "give the amount above which approval is needed",
                ));
            }
            (_, Some(_)) => {
                return Err(AppError::invalid_field(
                    "above",
                    "only with required: \"above\"",
                ));
            }
        };
        merchants::set_approval_threshold(&client, caller.merchant, threshold).await?;
        Ok(merchants::get(&client, caller.merchant).await?)
    }

    /// The merchant's API keys, revoked ones too (admins only).
    pub async fn api_keys(&self, caller: &Caller) -> Result<Vec<ApiKey>, AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        Ok(api_keys::list(&client, caller.merchant).await?)
    }

    /// Issues a new key of `role` for the caller's merchant (admins only); its secret is
    /// shown this once.
    pub async fn issue_api_key(&self, caller: &Caller, role: Role) -> Result<IssuedKey, AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        Ok(api_keys::issue(&client, caller.merchant, role).await?)
    }

    /// Revokes one of the merchant's keys (admins only); it stops working at once on this
    /// node, and within `caches::CACHED_FOR` on the others. A key
    /// may not revoke itself, so that a merchant cannot lock out its last admin by mistake.
    pub async fn revoke_api_key(&self, caller: &Caller, key: ApiKeyId) -> Result<(), AppError> {
        caller.require(&[Role::Admin])?;
        if key == caller.key {
            return Err(AppError::conflict(
                "own-key",
                "a key cannot revoke itself; revoke it with another admin key",
            ));
        }
        let client = self.pool.get().await?;
        api_keys::revoke(&client, caller.merchant, key).await?;
        self.keys.forget_all();
        Ok(())
    }
}
