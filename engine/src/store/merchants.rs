//! Merchants: created with their fee agreement, ledger accounts and one API key per role
//! in one transaction; listed and read.

use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;
use tokio_postgres::Row;

use super::StoreError;
use super::api_keys::{self, IssuedKey};
use crate::api_key::Role;
use crate::fee::FeeAgreement;
use crate::ids::MerchantId;
use crate::ledger::{self, LedgerError};
use crate::money::{Amount, Currency};

/// A merchant to create.
#[derive(Clone, Debug)]
pub struct NewMerchant {
    pub name: String,
    pub currency: Currency,
    pub fees: FeeAgreement,
    /// Four-eyes approval: `None` never, zero always, otherwise above this total.
    pub approval_threshold: Option<Amount>,
}

/// A merchant as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Merchant {
    pub id: MerchantId,
    pub name: String,
    pub currency: Currency,
    pub fees: FeeAgreement,
    pub approval_threshold: Option<Amount>,
    /// The IANA time zone its reports are dated in.
    pub time_zone: String,
    pub created_at: Timestamp,
}

/// The time zone of a new merchant's reports.
pub const DEFAULT_TIME_ZONE: &str = "Africa/Kigali";

/// Why a merchant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateMerchantError {
    #[error("a merchant's name must be 1 to 200 characters")]
    InvalidName,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Longest merchant name, as the schema allows.
pub const NAME_MAX_CHARS: usize = 200;

const INSERT_MERCHANT: &str = "
    INSERT INTO merchants (id, name, currency, payout_fee, collection_fee_bps, approval_threshold)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING created_at";

/// Creates a merchant, opens its ledger accounts and issues one API key per role.
pub async fn create(
    tx: &Transaction<'_>,
    new: &NewMerchant,
) -> Result<(Merchant, Vec<IssuedKey>), CreateMerchantError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(CreateMerchantError::InvalidName);
    }
    let id = MerchantId::new();
    let row = tx
        .query_one(
            INSERT_MERCHANT,
            &[
                &id,
                &name,
                &new.currency.code(),
                &new.fees.payout_fee(),
                &i32::from(new.fees.collection_fee_bps()),
                &new.approval_threshold,
            ],
        )
        .await
        .map_err(StoreError::from)?;
    ledger::open_accounts(tx, id).await?;
    let mut keys = Vec::with_capacity(Role::ALL.len());
    for role in Role::ALL {
        keys.push(api_keys::issue(tx, id, role).await?);
    }
    let merchant = Merchant {
        id,
        name: name.to_owned(),
        currency: new.currency,
        fees: new.fees,
        approval_threshold: new.approval_threshold,
        time_zone: DEFAULT_TIME_ZONE.to_owned(),
        created_at: row.try_get(0).map_err(StoreError::from)?,
    };
    Ok((merchant, keys))
}

const COLUMNS: &str =
    "id, name, currency, payout_fee, collection_fee_bps, approval_threshold, created_at, time_zone";

const SET_APPROVAL: &str = "UPDATE merchants SET approval_threshold = $2 WHERE id = $1";

/// Changes when batches need four-eyes approval: `None` never, zero always, otherwise
/// above this total. Batches already uploaded keep the decision made at upload.
pub async fn set_approval_threshold(
    client: &impl GenericClient,
    id: MerchantId,
    threshold: Option<Amount>,
) -> Result<(), StoreError> {
    let changed = client.execute(SET_APPROVAL, &[&id, &threshold]).await?;
    if changed == 0 {
        return Err(StoreError::NotFound { what: "merchant" });
    }
    Ok(())
}

const SET_TIME_ZONE: &str = "UPDATE merchants SET time_zone = $2 WHERE id = $1";

/// Changes the time zone the merchant's reports are dated in (an IANA name, checked by
/// the caller).
pub async fn set_time_zone(
    client: &impl GenericClient,
    id: MerchantId,
    time_zone: &str,
) -> Result<(), StoreError> {
    let changed = client.execute(SET_TIME_ZONE, &[&id, &time_zone]).await?;
    if changed == 0 {
        return Err(StoreError::NotFound { what: "merchant" });
    }
    Ok(())
}

/// Reads one merchant.
pub async fn get(client: &impl GenericClient, id: MerchantId) -> Result<Merchant, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM merchants WHERE id = $1");
    let statement = client.prepare_cached(&sql).await?;
    let row = client
        .query_opt(&statement, &[&id])
        .await?
        .ok_or(StoreError::NotFound { what: "merchant" })?;
    from_row(&row)
}

/// Every merchant, oldest first.
pub async fn list(client: &impl GenericClient) -> Result<Vec<Merchant>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM merchants ORDER BY created_at, id");
    client
        .query(&sql, &[])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

fn from_row(row: &Row) -> Result<Merchant, StoreError> {
    let currency: &str = row.try_get(2)?;
    let bps: i32 = row.try_get(4)?;
    let bps =
        u16::try_from(bps).map_err(|_| StoreError::Corrupt(format!("collection fee {bps} bps")))?;
    let fees =
        FeeAgreement::new(row.try_get(3)?, bps).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Merchant {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency}")))?,
        fees,
        approval_threshold: row.try_get(5)?,
        created_at: row.try_get(6)?,
        time_zone: row.try_get(7)?,
    })
}
