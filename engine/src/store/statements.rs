//! A merchant's account statement from the ledger: its money with Payrail (available +
//! reserved) at an instant, and the movements that changed it in a period, one per posted
//! movement: a funding, a settled payout (its amount and fee), a paid collection (its
//! amount and fee), a correction. A reservation and its release move money between the
//! merchant's own accounts, so they are not movements.

use deadpool_postgres::GenericClient;
use futures_util::{Stream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use uuid::Uuid;

use super::StoreError;
use crate::ids::MerchantId;

/// What moved the merchant's money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Funding,
    Payout,
    Collection,
    Correction,
}

impl MovementKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MovementKind::Funding => "funding",
            MovementKind::Payout => "payout",
            MovementKind::Collection => "collection",
            MovementKind::Correction => "correction",
        }
    }

    fn parse(text: &str) -> Result<MovementKind, StoreError> {
        Ok(match text {
            "funding" => MovementKind::Funding,
            "payout" => MovementKind::Payout,
            "collection" => MovementKind::Collection,
            "correction" => MovementKind::Correction,
            other => return Err(StoreError::Corrupt(format!("movement kind {other}"))),
        })
    }
}

/// Where a movement stands in its statement: its entry's time and id, then its own id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MovementKey {
    pub at: Timestamp,
    pub entry: i64,
    pub item: Uuid,
}

/// One posted movement, in minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    pub key: MovementKey,
    pub kind: MovementKind,
    /// The payee's name, the payer's message, or why the balance was funded or corrected.
    pub description: Option<String>,
    /// The merchant's own reference.
    pub reference: Option<String>,
    pub msisdn: Option<String>,
    pub operator_transaction_id: Option<String>,
    pub debit: i64,
    pub credit: i64,
    pub fee: i64,
}

/// Counts and sums of a period's movements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MovementTotals {
    pub credits: i64,
    pub credit_sum: i64,
    pub debits: i64,
    pub debit_sum: i64,
    pub fees: i64,
    pub fee_sum: i64,
}

impl MovementTotals {
    /// Every movement of the period: each has a credit or a debit.
    pub const fn movements(&self) -> i64 {
        self.credits + self.debits
    }
}

const BALANCE_AT: &str = "
    SELECT coalesce(sum(p.amount), 0)::bigint
      FROM postings p JOIN journal_entries e ON e.id = p.entry_id
     WHERE p.account_id IN (SELECT id FROM ledger_accounts
                             WHERE merchant_id = $1
                               AND kind IN ('merchant_available', 'merchant_reserved'))
       AND e.created_at < $2";

/// The merchant's money with Payrail (available + reserved) just before `at`, from the
/// postings themselves.
pub async fn balance_at(
    client: &impl GenericClient,
    merchant: MerchantId,
    at: Timestamp,
) -> Result<i64, StoreError> {
    Ok(client
        .query_one(BALANCE_AT, &[&merchant, &at])
        .await?
        .try_get(0)?)
}

// Amounts come from the ledger alone: a settlement entry's outcomes are its payouts; a
// collection's credit is what its entry posted to the merchant and to fee revenue (the
// amount), its fee the latter; a funding's or correction's amount is its posting to the
// available account. Entries come through (merchant_id, created_at, id).
const TOTALS: &str = "
    WITH entries AS (
        SELECT id, kind FROM journal_entries
         WHERE merchant_id = $1 AND created_at >= $2 AND created_at < $3
           AND kind IN ('funding', 'settlement', 'collection', 'correction')),
    movements AS (
        SELECT 0::bigint AS credit, o.amount AS debit, o.fee
          FROM entries e JOIN payout_outcomes o ON o.entry_id = e.id AND o.kind = 'settlement'
         WHERE e.kind = 'settlement'
        UNION ALL
        SELECT coalesce(sum(p.amount), 0)::bigint, 0,
               coalesce(sum(p.amount) FILTER (WHERE a.kind = 'fee_revenue'), 0)::bigint
          FROM entries e JOIN postings p ON p.entry_id = e.id
          JOIN ledger_accounts a ON a.id = p.account_id
                                AND a.kind IN ('merchant_available', 'fee_revenue')
         WHERE e.kind = 'collection'
         GROUP BY e.id
        UNION ALL
        SELECT greatest(p.amount, 0), greatest(-p.amount, 0), 0
          FROM entries e JOIN postings p ON p.entry_id = e.id
          JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'merchant_available'
         WHERE e.kind IN ('funding', 'correction'))
    SELECT count(*) FILTER (WHERE credit > 0), coalesce(sum(credit), 0)::bigint,
           count(*) FILTER (WHERE debit > 0), coalesce(sum(debit), 0)::bigint,
           count(*) FILTER (WHERE fee > 0), coalesce(sum(fee), 0)::bigint
      FROM movements";

/// The counts and sums of the merchant's movements in `[from, to)`.
pub async fn totals(
    client: &impl GenericClient,
    merchant: MerchantId,
    from: Timestamp,
    to: Timestamp,
) -> Result<MovementTotals, StoreError> {
    let row = client.query_one(TOTALS, &[&merchant, &from, &to]).await?;
    Ok(MovementTotals {
        credits: row.try_get(0)?,
        credit_sum: row.try_get(1)?,
        debits: row.try_get(2)?,
        debit_sum: row.try_get(3)?,
        fees: row.try_get(4)?,
        fee_sum: row.try_get(5)?,
    })
}

// Entries in time order through their index; within an entry, its movements by id. The
// amounts are the ledger's (as in TOTALS); a payout's particulars are its outcome's (copied
// from the line at settlement), a collection's are the collection's.
const MOVEMENTS: &str = "
    SELECT e.created_at, e.id, m.kind, m.item, m.description, m.reference, m.msisdn,
           m.operator_transaction_id, m.debit, m.credit, m.fee
      FROM journal_entries e
     CROSS JOIN LATERAL (
        SELECT 'payout' AS kind, o.payout_id AS item, o.description, o.reference, o.msisdn,
               o.operator_transaction_id, o.amount AS debit, 0::bigint AS credit, o.fee
          FROM payout_outcomes o
         WHERE e.kind = 'settlement' AND o.entry_id = e.id AND o.kind = 'settlement'
        UNION ALL
        SELECT 'collection', e.collection_id, c.payer_message, c.client_reference, c.msisdn,
               c.operator_transaction_id, 0, posted.credit, posted.fee
          FROM (SELECT coalesce(sum(p.amount), 0)::bigint AS credit,
                       coalesce(sum(p.amount) FILTER (WHERE a.kind = 'fee_revenue'), 0)::bigint
                           AS fee
                  FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
                 WHERE p.entry_id = e.id AND a.kind IN ('merchant_available', 'fee_revenue'))
               AS posted
          LEFT JOIN collections c ON c.id = e.collection_id
         WHERE e.kind = 'collection'
        UNION ALL
        SELECT e.kind, e.movement_id, e.description, NULL, NULL, NULL,
               greatest(-p.amount, 0), greatest(p.amount, 0), 0
          FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
         WHERE e.kind IN ('funding', 'correction') AND p.entry_id = e.id
           AND a.kind = 'merchant_available') AS m
     WHERE e.merchant_id = $1 AND e.created_at >= $2 AND e.created_at < $3
       AND e.kind IN ('funding', 'settlement', 'collection', 'correction')
       AND ($4::timestamptz IS NULL OR (e.created_at, e.id, m.item) > ($4, $5, $6))
     ORDER BY e.created_at, e.id, m.item
     LIMIT $7";

/// The merchant's movements in `[from, to)` after `after`, at most `limit`, in order, as
/// PostgreSQL sends them (a statement of a million movements is never held whole).
pub async fn movements<C: GenericClient>(
    client: &C,
    merchant: MerchantId,
    from: Timestamp,
    to: Timestamp,
    after: Option<MovementKey>,
    limit: Option<i64>,
) -> Result<impl Stream<Item = Result<Movement, StoreError>> + Send + use<C>, StoreError> {
    let statement = client.prepare_cached(MOVEMENTS).await?;
    let (at, entry, item) = match after {
        Some(key) => (Some(key.at), Some(key.entry), Some(key.item)),
        None => (None, None, None),
    };
    let limit = limit.unwrap_or(i64::MAX);
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] =
        [&merchant, &from, &to, &at, &entry, &item, &limit];
    let rows = client.query_raw(&statement, params).await?;
    Ok(rows.map_err(StoreError::from).map(|row| {
        let row = row?;
        let kind: &str = row.try_get(2)?;
        Ok(Movement {
            key: MovementKey {
                at: row.try_get(0)?,
                entry: row.try_get(1)?,
                item: row.try_get(3)?,
            },
            kind: MovementKind::parse(kind)?,
            description: row.try_get(4)?,
            reference: row.try_get(5)?,
            msisdn: row.try_get(6)?,
            operator_transaction_id: row.try_get(7)?,
            debit: row.try_get(8)?,
            credit: row.try_get(9)?,
            fee: row.try_get(10)?,
        })
    }))
}
