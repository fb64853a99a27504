//! A merchant's balances, read from its accounts.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;

use super::LedgerError;
use crate::ids::MerchantId;
use crate::money::Amount;

/// One merchant's balances.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Balances {
    /// What the merchant may pay out now.
    pub available: Amount,
    /// Set aside for payouts queued or in flight.
    pub reserved: Amount,
    /// Fees Payrail earned from the merchant.
    pub fee_revenue: Amount,
    /// Paid out through each route.
    pub clearing: BTreeMap<String, Amount>,
    /// Everything that came in from outside: top-ups and collected money.
    pub received: Amount,
}

const BALANCES: &str = "SELECT kind, route, balance FROM ledger_accounts WHERE merchant_id = $1";

/// Reads a merchant's balances; `UnknownMerchant` when it has no accounts.
pub async fn balances(
    client: &impl GenericClient,
    merchant: MerchantId,
) -> Result<Balances, LedgerError> {
    let rows = client.query(BALANCES, &[&merchant]).await?;
    if rows.is_empty() {
        return Err(LedgerError::UnknownMerchant);
    }
    let mut balances = Balances::default();
    for row in rows {
        let kind: &str = row.get(0);
        let balance: i64 = row.get(2);
        if kind == "external_funding" {
            // The external account is negative by exactly what came in.
            balances.received = to_amount(balance.checked_neg().unwrap_or(i64::MIN))?;
            continue;
        }
        let amount = to_amount(balance)?;
        match kind {
            "merchant_available" => balances.available = amount,
            "merchant_reserved" => balances.reserved = amount,
            "fee_revenue" => balances.fee_revenue = amount,
            "route_clearing" => {
                balances.clearing.insert(row.get::<_, String>(1), amount);
            }
            _ => return Err(LedgerError::InvalidAmount("unknown account kind")),
        }
    }
    Ok(balances)
}

fn to_amount(minor: i64) -> Result<Amount, LedgerError> {
    Amount::from_minor(minor).map_err(|_| LedgerError::InvalidAmount("stored balance out of range"))
}
