//! The transaction report: a merchant's payouts (single and payroll lines), collections,
//! fundings and corrections in one list, and on request the fees they charged, sorted by
//! time (every id is a UUIDv7, so by id), filtered, with the totals of the whole filter.
//!
//! Each source reads one merchant's rows through an index that starts with the merchant
//! (its ids, or its numbers reversed for a search by last digits) and stops at the page's
//! size. The statements are not cached: PostgreSQL plans each with the filter's values, so
//! a filter left out costs nothing and a number's digits reach their index.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::StoreError;
use crate::ids::{BatchId, MerchantId};
use crate::money::Amount;

/// What kind of movement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    Payout,
    Collection,
    Funding,
    /// A fee a payout or a collection charged: listed only when asked for.
    Fee,
    Correction,
}

impl TransactionType {
    pub const ALL: [TransactionType; 5] = [
        TransactionType::Payout,
        TransactionType::Collection,
        TransactionType::Funding,
        TransactionType::Fee,
        TransactionType::Correction,
    ];

    /// What a report lists when no type is asked for: every movement, each fee in its own.
    pub const DEFAULT: [TransactionType; 4] = [
        TransactionType::Payout,
        TransactionType::Collection,
        TransactionType::Funding,
        TransactionType::Correction,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TransactionType::Payout => "payout",
            TransactionType::Collection => "collection",
            TransactionType::Funding => "funding",
            TransactionType::Fee => "fee",
            TransactionType::Correction => "correction",
        }
    }

    pub fn parse(text: &str) -> Option<TransactionType> {
        TransactionType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One row of the report, amounts in the merchant's currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub kind: TransactionType,
    /// The payout's, collection's or movement's id (a fee row carries its payout's or
    /// collection's).
    pub id: Uuid,
    /// The payout's or collection's state; `posted` for fundings, corrections and fees.
    pub state: String,
    pub msisdn: Option<String>,
    pub amount: Amount,
    pub fee: Amount,
    /// Money in for the merchant (collections, fundings, credit corrections).
    pub credit: bool,
    pub route: Option<String>,
    pub reference: Option<String>,
    pub description: Option<String>,
    pub failure_code: Option<String>,
    pub operator_transaction_id: Option<String>,
    /// The batch a payout belongs to.
    pub batch: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where a row stands: its id, then 0 for the movement or 1 for the fee it charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransactionKey {
    pub id: Uuid,
    pub rank: i32,
}

/// Which rows, each filter optional.
#[derive(Clone, Debug, Default)]
pub struct TransactionFilter {
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Empty: `TransactionType::DEFAULT`.
    pub types: Vec<TransactionType>,
    pub state: Option<String>,
    /// Any of these routes (a route, or an operator's routes).
    pub routes: Option<Vec<String>>,
    pub batch: Option<BatchId>,
    /// The number's last digits.
    pub msisdn_suffix: Option<String>,
    /// The merchant's reference, exactly.
    pub reference: Option<String>,
    pub amount_min: Option<Amount>,
    pub amount_max: Option<Amount>,
}

/// Counts and sums of every row the filter takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TransactionTotals {
    pub count: i64,
    pub amount: i64,
    pub fee: i64,
}

// $1 merchant, $2 types, $3 from, $4 until, $5 state, $6 routes, $7 batch, $8 reversed
// number digits, $9 reference, $10 min, $11 max, $12 the smallest id made at `from` or
// later (UUIDv7 ids hold their time, so the merchant's index starts there). Sources that
// cannot match a filter (a funding has no number) drop out when it is set. `__NUMBER__` is
// `NUMBER_SEARCH` when a number is searched for, and nothing otherwise.
const ROWS: &str = "
    (SELECT 'payout' AS type, 0 AS rank, l.id, l.state, l.msisdn, l.amount, l.fee, false AS credit,
           l.route, l.client_reference AS reference, coalesce(l.name, l.note) AS description,
           l.failure_code, l.operator_transaction_id, l.batch_id, l.created_at, l.updated_at
      FROM payout_lines l
     WHERE l.merchant_id = $1 AND 'payout' = ANY($2) __PAGE_L__
       AND ($3::timestamptz IS NULL OR (l.created_at >= $3 AND l.id >= $12))
       AND ($4::timestamptz IS NULL OR l.created_at < $4)
       AND ($5::text IS NULL OR l.state = $5) AND ($6::text[] IS NULL OR l.route = ANY($6))
       AND ($7::uuid IS NULL OR l.batch_id = $7)
       __NUMBER__
       AND ($9::text IS NULL OR l.client_reference = $9)
       AND ($10::bigint IS NULL OR l.amount >= $10) AND ($11::bigint IS NULL OR l.amount <= $11)
     __END_L__)
    UNION ALL
    (SELECT 'fee', 1, l.id, 'posted', l.msisdn, l.fee, 0, false, l.route, l.client_reference,
           coalesce(l.name, l.note), NULL, l.operator_transaction_id, l.batch_id, l.created_at,
           l.updated_at
      FROM payout_lines l
     WHERE l.merchant_id = $1 AND 'fee' = ANY($2) __PAGE_F__
       AND l.state = 'succeeded' AND l.fee > 0
       AND ($3::timestamptz IS NULL OR (l.created_at >= $3 AND l.id >= $12))
       AND ($4::timestamptz IS NULL OR l.created_at < $4)
       AND ($5::text IS NULL OR $5 = 'posted') AND ($6::text[] IS NULL OR l.route = ANY($6))
       AND ($7::uuid IS NULL OR l.batch_id = $7)
       __NUMBER__
       AND ($9::text IS NULL OR l.client_reference = $9)
       AND ($10::bigint IS NULL OR l.fee >= $10) AND ($11::bigint IS NULL OR l.fee <= $11)
     __END_F__)
    UNION ALL
    (SELECT 'collection', 0, c.id, c.state, c.msisdn, c.amount, c.fee, true, c.route,
           c.client_reference, c.payer_message, c.failure_code, c.operator_transaction_id,
           NULL::uuid, c.created_at, c.updated_at
      FROM collections c
     WHERE c.merchant_id = $1 AND 'collection' = ANY($2) AND $7::uuid IS NULL __PAGE_C__
       AND ($3::timestamptz IS NULL OR (c.created_at >= $3 AND c.id >= $12))
       AND ($4::timestamptz IS NULL OR c.created_at < $4)
       AND ($5::text IS NULL OR c.state = $5) AND ($6::text[] IS NULL OR c.route = ANY($6))
       AND ($8::text IS NULL OR reverse(c.msisdn) LIKE $8 || '%')
       AND ($9::text IS NULL OR c.client_reference = $9)
       AND ($10::bigint IS NULL OR c.amount >= $10) AND ($11::bigint IS NULL OR c.amount <= $11)
     __END_C__)
    UNION ALL
    (SELECT 'fee', 1, c.id, 'posted', c.msisdn, c.fee, 0, false, c.route, c.client_reference,
           c.payer_message, NULL, c.operator_transaction_id, NULL::uuid, c.created_at,
           c.updated_at
      FROM collections c
     WHERE c.merchant_id = $1 AND 'fee' = ANY($2) AND $7::uuid IS NULL __PAGE_G__
       AND c.state = 'paid' AND c.fee > 0
       AND ($3::timestamptz IS NULL OR (c.created_at >= $3 AND c.id >= $12))
       AND ($4::timestamptz IS NULL OR c.created_at < $4)
       AND ($5::text IS NULL OR $5 = 'posted') AND ($6::text[] IS NULL OR c.route = ANY($6))
       AND ($8::text IS NULL OR reverse(c.msisdn) LIKE $8 || '%')
       AND ($9::text IS NULL OR c.client_reference = $9)
       AND ($10::bigint IS NULL OR c.fee >= $10) AND ($11::bigint IS NULL OR c.fee <= $11)
     __END_G__)
    UNION ALL
    (SELECT e.kind, 0, e.movement_id, 'posted', NULL, abs(p.amount), 0, p.amount > 0, NULL, NULL,
           e.description, NULL, NULL, NULL::uuid, e.created_at, e.created_at
      FROM journal_entries e
      JOIN postings p ON p.entry_id = e.id
      JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'merchant_available'
     WHERE e.merchant_id = $1 AND e.kind IN ('funding', 'correction') AND e.kind = ANY($2)
       AND $6::text[] IS NULL AND $7::uuid IS NULL AND $8::text IS NULL AND $9::text IS NULL
       __PAGE_E__
       AND ($3::timestamptz IS NULL OR e.created_at >= $3)
       AND ($4::timestamptz IS NULL OR e.created_at < $4)
       AND ($5::text IS NULL OR $5 = 'posted')
       AND ($10::bigint IS NULL OR abs(p.amount) >= $10)
       AND ($11::bigint IS NULL OR abs(p.amount) <= $11)
     __END_E__)";

/// The payout lines whose number ends in the digits reversed in $8: through the numbers
/// table (store::payout_numbers), and for batches not yet indexed there, through their
/// lines. A batch's numbers and its mark are written together, so no line is missed.
/// `OFFSET 0` keeps the second part a loop over the few batches not yet indexed, each read
/// through its own lines' index, rather than a scan of every line joined to them.
const NUMBER_SEARCH: &str = "AND l.id IN (
        SELECT n.payout_id FROM payout_line_numbers n
         WHERE n.merchant_id = $1 AND n.reversed_msisdn LIKE $8 || '%'
        UNION ALL
        SELECT p.id FROM batches b,
               LATERAL (SELECT id FROM payout_lines
                         WHERE batch_id = b.id AND reverse(msisdn) LIKE $8 || '%'
                        OFFSET 0) AS p
         WHERE b.merchant_id = $1 AND NOT b.numbers_indexed)";

/// `ROWS` for a filter: with the number search when it has digits to search for.
fn rows_sql(filter: &TransactionFilter) -> String {
    let search = if filter.msisdn_suffix.is_some() {
        NUMBER_SEARCH
    } else {
        ""
    };
    ROWS.replace("__NUMBER__", search)
}

/// `ROWS` with each source starting after the key ($13 id, $14 rank) and stopping at the
/// page's size ($15) in id order, then merged: a page reads at most five pages of rows.
fn page_sql(filter: &TransactionFilter) -> String {
    let after = |id: &str, rank: i32| {
        if rank == 0 {
            format!("AND ($13::uuid IS NULL OR {id} > $13)")
        } else {
            format!("AND ($13::uuid IS NULL OR {id} > $13 OR ({id} = $13 AND $14 < {rank}))")
        }
    };
    let order = |id: &str| format!("ORDER BY {id} LIMIT $15");
    let rows = rows_sql(filter)
        .replace("__PAGE_L__", &after("l.id", 0))
        .replace("__PAGE_F__", &after("l.id", 1))
        .replace("__PAGE_C__", &after("c.id", 0))
        .replace("__PAGE_G__", &after("c.id", 1))
        .replace("__PAGE_E__", &after("e.movement_id", 0))
        .replace("__END_L__", &order("l.id"))
        .replace("__END_F__", &order("l.id"))
        .replace("__END_C__", &order("c.id"))
        .replace("__END_G__", &order("c.id"))
        .replace("__END_E__", &order("e.movement_id"));
    format!("SELECT * FROM ({rows}) AS t ORDER BY id, rank LIMIT $15")
}

fn totals_sql(filter: &TransactionFilter) -> String {
    let marks = [
        "__PAGE_L__",
        "__PAGE_F__",
        "__PAGE_C__",
        "__PAGE_G__",
        "__PAGE_E__",
        "__END_L__",
        "__END_F__",
        "__END_C__",
        "__END_G__",
        "__END_E__",
    ];
    let rows = marks
        .iter()
        .fold(rows_sql(filter), |sql, mark| sql.replace(mark, ""));
    format!(
        "SELECT count(*), coalesce(sum(amount), 0)::bigint, coalesce(sum(fee), 0)::bigint
           FROM ({rows}) AS t"
    )
}

/// The filter as the statements' first twelve parameters.
struct Params {
    types: Vec<&'static str>,
    floor: Option<Uuid>,
    reversed: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
}

impl Params {
    fn of(filter: &TransactionFilter) -> Params {
        let types = if filter.types.is_empty() {
            TransactionType::DEFAULT.to_vec()
        } else {
            filter.types.clone()
        };
        Params {
            types: types.into_iter().map(TransactionType::as_str).collect(),
            floor: filter.from.map(id_floor),
            reversed: filter
                .msisdn_suffix
                .as_ref()
                .map(|digits| digits.chars().rev().collect()),
            min: filter.amount_min.map(Amount::minor),
            max: filter.amount_max.map(Amount::minor),
        }
    }

    fn list<'a>(
        &'a self,
        merchant: &'a MerchantId,
        filter: &'a TransactionFilter,
    ) -> Vec<&'a (dyn ToSql + Sync)> {
        vec![
            merchant,
            &self.types,
            &filter.from,
            &filter.until,
            &filter.state,
            &filter.routes,
            &filter.batch,
            &self.reversed,
            &filter.reference,
            &self.min,
            &self.max,
            &self.floor,
        ]
    }
}

/// The smallest UUIDv7 made a minute before `at` or later: an id is made around its row's
/// transaction, a little before or after the row's `created_at`.
fn id_floor(at: Timestamp) -> Uuid {
    let millis = at.as_millisecond().saturating_sub(60_000).max(0);
    let millis = u64::try_from(millis).unwrap_or(0);
    let mut bytes = [0_u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    Uuid::from_bytes(bytes)
}

/// Up to `limit` rows after `after`, in order.
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
    filter: &TransactionFilter,
    after: Option<TransactionKey>,
    limit: i64,
) -> Result<Vec<Transaction>, StoreError> {
    let params = Params::of(filter);
    let (id, rank) = (after.map(|key| key.id), after.map_or(0, |key| key.rank));
    let mut values = params.list(&merchant, filter);
    values.extend([&id as &(dyn ToSql + Sync), &rank, &limit]);
    let rows = client.query(&page_sql(filter), &values).await?;
    rows.iter().map(from_row).collect()
}

/// The count and sums of every row the filter takes.
pub async fn totals(
    client: &impl GenericClient,
    merchant: MerchantId,
    filter: &TransactionFilter,
) -> Result<TransactionTotals, StoreError> {
    let params = Params::of(filter);
    let row = client
        .query_one(&totals_sql(filter), &params.list(&merchant, filter))
        .await?;
    Ok(TransactionTotals {
        count: row.try_get(0)?,
        amount: row.try_get(1)?,
        fee: row.try_get(2)?,
    })
}

fn from_row(row: &tokio_postgres::Row) -> Result<Transaction, StoreError> {
    let kind: &str = row.try_get(0)?;
    Ok(Transaction {
        kind: TransactionType::parse(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("transaction type {kind}")))?,
        id: row.try_get(2)?,
        state: row.try_get(3)?,
        msisdn: row.try_get(4)?,
        amount: row.try_get(5)?,
        fee: row.try_get(6)?,
        credit: row.try_get(7)?,
        route: row.try_get(8)?,
        reference: row.try_get(9)?,
        description: row.try_get(10)?,
        failure_code: row.try_get(11)?,
        operator_transaction_id: row.try_get(12)?,
        batch: row.try_get(13)?,
        created_at: row.try_get(14)?,
        updated_at: row.try_get(15)?,
    })
}

/// The plan PostgreSQL chooses for a page (and, with `analyze`, runs and times), one line a
/// row of EXPLAIN's text: what benchmarks print and tests hold to.
pub async fn explain_page(
    client: &impl GenericClient,
    merchant: MerchantId,
    filter: &TransactionFilter,
    analyze: bool,
) -> Result<Vec<String>, StoreError> {
    let options = if analyze {
        "ANALYZE, COSTS OFF"
    } else {
        "COSTS OFF"
    };
    let params = Params::of(filter);
    let (id, rank, limit) = (None::<Uuid>, 0_i32, 51_i64);
    let mut values = params.list(&merchant, filter);
    values.extend([&id as &(dyn ToSql + Sync), &rank, &limit]);
    let rows = client
        .query(
            &format!("EXPLAIN ({options}) {}", page_sql(filter)),
            &values,
        )
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<_, String>(0)?))
        .collect()
}

/// The plan of the totals of a filter, as `explain_page`.
pub async fn explain_totals(
    client: &impl GenericClient,
    merchant: MerchantId,
    filter: &TransactionFilter,
    analyze: bool,
) -> Result<Vec<String>, StoreError> {
    let options = if analyze {
        "ANALYZE, COSTS OFF"
    } else {
        "COSTS OFF"
    };
    let params = Params::of(filter);
    let rows = client
        .query(
            &format!("EXPLAIN ({options}) {}", totals_sql(filter)),
            &params.list(&merchant, filter),
        )
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<_, String>(0)?))
        .collect()
}
