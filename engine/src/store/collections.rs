//! Collections (requests to pay): created `pending` with the fee of the merchant's
//! agreement, read and listed by merchant, and finished — paid, failed or expired — behind
//! a `WHERE state = 'pending'` guard, a paid one credited to the merchant in the same
//! transaction. The `collections_event` trigger writes the webhook and LTGS callback rows.

use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;
use serde_json::Value;
use tokio_postgres::Row;

use super::activity::count_ended;
use super::{StoreError, merchants};
use crate::ids::{ApiKeyId, CollectionId, MerchantId, NodeId, Reference};
use crate::ledger::{self, CollectionCredit};
use crate::money::{Amount, Currency};
use crate::msisdn::Msisdn;
use crate::route::RouteName;
use crate::state::collection::{CollectionEvent, CollectionState};

/// Longest merchant reference (LTGS `Sale_Reference_ID`) and payer message, as the schema allows.
pub const CLIENT_REFERENCE_MAX_CHARS: usize = 100;
pub const PAYER_MESSAGE_MAX_CHARS: usize = 160;

/// A collection to create. Its fee comes from the merchant's agreement at insert.
#[derive(Clone, Debug)]
pub struct NewCollection {
    pub id: CollectionId,
    pub merchant: MerchantId,
    pub msisdn: Msisdn,
    pub amount: Amount,
    /// Must be the merchant's currency.
    pub currency: Currency,
    pub route: RouteName,
    /// The operator's name as the payer knows it ("MTN MoMo").
    pub payment_channel: String,
    /// The merchant's own reference, unique per merchant (LTGS `Sale_Reference_ID`).
    pub client_reference: Option<String>,
    /// Shown to the payer when asked to approve.
    pub payer_message: Option<String>,
    /// Where the LTGS status callback goes when the collection ends.
    pub callback_url: Option<String>,
    /// LTGS fields kept as given (`Customer_KYC_ID`, `Email_Address`, `Services_Name`).
    pub ltgs: Option<Value>,
    /// The key that created it (`None` from the command line).
    pub created_by: Option<ApiKeyId>,
    /// When a collection still pending is given up as `expired`.
    pub expires_at: Timestamp,
}

/// A collection as stored.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Collection {
    pub id: CollectionId,
    pub merchant: MerchantId,
    pub msisdn: Msisdn,
    pub amount: Amount,
    pub fee: Amount,
    pub currency: Currency,
    pub route: RouteName,
    /// The id the operator knows this request by, reused on every resend.
    pub reference: Reference,
    pub client_reference: Option<String>,
    pub payer_message: Option<String>,
    pub callback_url: Option<String>,
    pub ltgs: Option<Value>,
    pub payment_channel: Option<String>,
    pub state: CollectionState,
    pub failure_code: Option<String>,
    pub operator_transaction_id: Option<String>,
    pub created_by: Option<ApiKeyId>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Why a collection could not be created; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CreateCollectionError {
    #[error("the merchant collects in {merchant}, not {requested}")]
    WrongCurrency {
        merchant: Currency,
        requested: Currency,
    },
    #[error("a collection must be for a positive amount")]
    ZeroAmount,
    /// The merchant already used this reference for another collection.
    #[error("the reference {0:?} is already used by another collection")]
    DuplicateReference(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a collection ended, as the operator said (or the clock, for `Expired`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollectionOutcome {
    Paid {
        operator_transaction_id: Option<String>,
    },
    Failed {
        code: String,
    },
    Expired,
}

impl CollectionOutcome {
    fn event(&self) -> CollectionEvent {
        match self {
            CollectionOutcome::Paid { .. } => CollectionEvent::Pay,
            CollectionOutcome::Failed { .. } => CollectionEvent::Fail,
            CollectionOutcome::Expired => CollectionEvent::Expire,
        }
    }
}

const COLUMNS: &str = "id, merchant_id, msisdn, amount, fee, currency, route, reference,
    client_reference, payer_message, callback_url, ltgs, payment_channel, state, failure_code,
    operator_transaction_id, created_by, expires_at, created_at, updated_at";

/// Creates a `pending` collection in the caller's transaction, its fee computed from the
/// merchant's agreement. A reference the merchant already used is `DuplicateReference`
/// (the transaction is then aborted: roll it back).
pub async fn insert(
    client: &impl GenericClient,
    new: &NewCollection,
) -> Result<Collection, CreateCollectionError> {
    if new.amount.is_zero() {
        return Err(CreateCollectionError::ZeroAmount);
    }
    let merchant = merchants::get(client, new.merchant).await?;
    if merchant.currency != new.currency {
        return Err(CreateCollectionError::WrongCurrency {
            merchant: merchant.currency,
            requested: new.currency,
        });
    }
    let fee = merchant.fees.collection_fee(new.amount);
    let sql = format!(
        "INSERT INTO collections (id, merchant_id, msisdn, amount, fee, currency, route,
             client_reference, payer_message, callback_url, ltgs, payment_channel, state,
             created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING {COLUMNS}"
    );
    let inserted = client
        .query_one(
            &sql,
            &[
                &new.id,
                &new.merchant,
                &new.msisdn,
                &new.amount,
                &fee,
                &new.currency,
                &new.route.as_str(),
                &new.client_reference,
                &new.payer_message,
                &new.callback_url,
                &new.ltgs,
                &new.payment_channel,
                &CollectionState::Pending,
                &new.created_by,
                &new.expires_at,
            ],
        )
        .await;
    match inserted {
        Ok(row) => Ok(from_row(&row)?),
        Err(error) if is_duplicate_reference(&error) => {
            Err(CreateCollectionError::DuplicateReference(
                new.client_reference.clone().unwrap_or_default(),
            ))
        }
        Err(error) => Err(StoreError::from(error).into()),
    }
}

fn is_duplicate_reference(error: &tokio_postgres::Error) -> bool {
    crate::constraint::violated(error) == Some("collections_client_reference")
}

/// Reads one of a merchant's collections; another merchant's is `NotFound`.
pub async fn get(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: CollectionId,
) -> Result<Collection, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM collections WHERE id = $1 AND merchant_id = $2");
    let row = client
        .query_opt(&sql, &[&id, &merchant])
        .await?
        .ok_or(StoreError::NotFound { what: "collection" })?;
    from_row(&row)
}

/// Reads a merchant's collection by its own reference (LTGS `Sale_Reference_ID`).
pub async fn by_client_reference(
    client: &impl GenericClient,
    merchant: MerchantId,
    client_reference: &str,
) -> Result<Collection, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM collections WHERE merchant_id = $1 AND client_reference = $2"
    );
    let row = client
        .query_opt(&sql, &[&merchant, &client_reference])
        .await?
        .ok_or(StoreError::NotFound { what: "collection" })?;
    from_row(&row)
}

/// Up to `limit` of a merchant's collections after `after`, oldest first (ids are UUIDv7).
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
    after: Option<CollectionId>,
    limit: i64,
) -> Result<Vec<Collection>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM collections
          WHERE merchant_id = $1 AND ($2::uuid IS NULL OR id > $2)
          ORDER BY id LIMIT $3"
    );
    let rows = client.query(&sql, &[&merchant, &after, &limit]).await?;
    rows.iter().map(from_row).collect()
}

/// Takes a pending collection for `node` to follow, unless another node follows it (then
/// `None`). `NotFound` when it does not exist.
pub async fn take(
    client: &impl GenericClient,
    node: NodeId,
    merchant: MerchantId,
    id: CollectionId,
) -> Result<Option<Collection>, StoreError> {
    let sql = format!(
        "UPDATE collections SET owner_node = $3
          WHERE id = $1 AND merchant_id = $2 AND state = 'pending'
            AND (owner_node IS NULL OR owner_node = $3)
            AND payrail_lease_holds($3)
         RETURNING {COLUMNS}"
    );
    match client.query_opt(&sql, &[&id, &merchant, &node]).await? {
        Some(row) => Ok(Some(from_row(&row)?)),
        None => get(client, merchant, id).await.map(|_| None),
    }
}

/// The pending collections `node` follows, oldest first: those it owns, and those nobody
/// owns (left by a node that died, or created where no engine runs), which it takes.
pub async fn to_follow(
    client: &impl GenericClient,
    node: NodeId,
) -> Result<Vec<Collection>, StoreError> {
    let sql = format!(
        "WITH taken AS (
            UPDATE collections SET owner_node = $2
             WHERE state = $1 AND owner_node IS NULL
               AND payrail_lease_holds($2)
            RETURNING {COLUMNS})
         SELECT * FROM (SELECT {COLUMNS} FROM collections WHERE state = $1 AND owner_node = $2
                        UNION ALL SELECT * FROM taken) AS collection
          ORDER BY created_at, id"
    );
    let rows = client
        .query(&sql, &[&CollectionState::Pending, &node])
        .await?;
    rows.iter().map(from_row).collect()
}

// The collection is counted for analytics in the same statement: an expired one under
// the failure code `expired`.
const FINISH: &str = concat!(
    "WITH finished AS (
        UPDATE collections
           SET state = $4, failure_code = $5, operator_transaction_id = $6, updated_at = now()
         WHERE id = $1 AND merchant_id = $2 AND state = $3
        RETURNING merchant_id, route, state, failure_code, amount, fee, created_at),
    ended AS (
        SELECT merchant_id, route,
               CASE state WHEN 'paid' THEN 'succeeded' ELSE 'failed' END AS outcome,
               CASE state WHEN 'expired' THEN 'expired' ELSE coalesce(failure_code, '') END
                   AS failure_code,
               amount, fee,
               (extract(epoch FROM now() - created_at) * 1000)::bigint AS latency_ms
          FROM finished),
    counted AS (",
    count_ended!("ended", "collection"),
    ")
    SELECT amount, fee FROM finished"
);

/// Ends a pending collection with `outcome` in the caller's transaction; a paid one is
/// credited to the merchant (amount − fee, the fee to revenue). `StaleState` when it was
/// no longer pending: someone else finished it first, and nothing changed.
pub async fn finish(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    id: CollectionId,
    outcome: &CollectionOutcome,
) -> Result<CollectionState, StoreError> {
    let from = CollectionState::Pending;
    let to = from.apply(&outcome.event())?;
    let (failure_code, transaction_id) = match outcome {
        CollectionOutcome::Paid {
            operator_transaction_id,
        } => (None, operator_transaction_id.as_deref()),
        CollectionOutcome::Failed { code } => (Some(code.as_str()), None),
        CollectionOutcome::Expired => (None, None),
    };
    let row = tx
        .query_opt(
            FINISH,
            &[&id, &merchant, &from, &to, &failure_code, &transaction_id],
        )
        .await?
        .ok_or(StoreError::StaleState {
            what: "collection",
            expected: from.as_str(),
        })?;
    if to == CollectionState::Paid {
        let credit = CollectionCredit {
            collection: id,
            amount: row.try_get(0)?,
            fee: row.try_get(1)?,
        };
        ledger::credit_collection(tx, merchant, &credit).await?;
    }
    Ok(to)
}

fn from_row(row: &Row) -> Result<Collection, StoreError> {
    let route: String = row.try_get(6)?;
    Ok(Collection {
        id: row.try_get(0)?,
        merchant: row.try_get(1)?,
        msisdn: row.try_get(2)?,
        amount: row.try_get(3)?,
        fee: row.try_get(4)?,
        currency: row.try_get(5)?,
        route: RouteName::new(route).map_err(|error| StoreError::Corrupt(error.to_string()))?,
        reference: row.try_get(7)?,
        client_reference: row.try_get(8)?,
        payer_message: row.try_get(9)?,
        callback_url: row.try_get(10)?,
        ltgs: row.try_get(11)?,
        payment_channel: row.try_get(12)?,
        state: row.try_get(13)?,
        failure_code: row.try_get(14)?,
        operator_transaction_id: row.try_get(15)?,
        created_by: row.try_get(16)?,
        expires_at: row.try_get(17)?,
        created_at: row.try_get(18)?,
        updated_at: row.try_get(19)?,
    })
}
