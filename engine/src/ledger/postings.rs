//! The ledger's operations. Each writes its journal entries and postings in one statement
//! however many lines it covers; the balances follow through the postings trigger. They
//! take a `Transaction` because a caller that gets an error must not commit.

use deadpool_postgres::Transaction;
use uuid::Uuid;

use super::{AccountKind, LedgerError};
use crate::ids::{BatchId, CollectionId, MerchantId, MovementId, PayoutId};
use crate::money::Amount;
use crate::route::RouteName;

/// One payout line to settle: it was paid, so its reservation moves to the route's
/// clearing account (the amount) and to fee revenue (the fee).
#[derive(Clone, Debug)]
pub struct Settlement {
    pub payout: PayoutId,
    pub route: RouteName,
    pub amount: Amount,
    pub fee: Amount,
}

/// One payout line to release: it will not be paid, so its reservation (amount + fee)
/// returns to the merchant's available balance.
#[derive(Clone, Debug)]
pub struct Release {
    pub payout: PayoutId,
    pub amount_with_fee: Amount,
}

/// A collection the customer paid: the merchant gets `amount − fee`, fee revenue `fee`.
#[derive(Clone, Debug)]
pub struct CollectionCredit {
    pub collection: CollectionId,
    pub amount: Amount,
    pub fee: Amount,
}

const OPEN_ACCOUNTS: &str = "
    INSERT INTO ledger_accounts (merchant_id, kind) SELECT $1, kind FROM unnest($2::text[]) AS kind";

/// Opens a new merchant's accounts (clearing accounts open with their route's first use).
pub async fn open_accounts(tx: &Transaction<'_>, merchant: MerchantId) -> Result<(), LedgerError> {
    let kinds: Vec<&str> = AccountKind::ALL
        .into_iter()
        .filter(|kind| *kind != AccountKind::RouteClearing)
        .map(AccountKind::as_str)
        .collect();
    tx.execute(OPEN_ACCOUNTS, &[&merchant, &kinds]).await?;
    Ok(())
}

const FUND: &str = "
    WITH accounts AS (
        SELECT
            (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'external_funding') AS external,
            (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'merchant_available') AS available),
    entry AS (
        INSERT INTO journal_entries (merchant_id, kind, movement_id, description)
        VALUES ($1, 'funding', $3, 'Top-up') RETURNING id),
    posted AS (
        INSERT INTO postings (entry_id, merchant_id, account_id, amount)
        SELECT entry.id, $1, leg.account_id, leg.amount
          FROM entry, accounts,
               LATERAL (VALUES (accounts.external, -$2::bigint), (accounts.available, $2::bigint)) AS leg (account_id, amount)
        RETURNING 1)
    SELECT count(*) FROM posted";

/// Tops up a merchant's available balance from outside (the external funding account).
pub async fn fund(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    amount: Amount,
) -> Result<(), LedgerError> {
    if amount.is_zero() {
        return Err(LedgerError::InvalidAmount("a top-up must be positive"));
    }
    let written: i64 = tx
        .query_one(FUND, &[&merchant, &amount.minor(), &MovementId::new()])
        .await?
        .get(0);
    expect_postings(2, written)
}

/// A correction of a merchant's balance by the node's operator: money found missing from
/// it (`Credit`) or paid into it by mistake (`Debit`), against the external account.
#[derive(Clone, Debug)]
pub struct Correction {
    pub direction: Direction,
    pub amount: Amount,
    /// Why, as the statement shows it.
    pub description: String,
}

/// Which way money moves for the merchant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Credit,
    Debit,
}

const CORRECT: &str = "
    WITH accounts AS (
        SELECT
            (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'external_funding') AS external,
            (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'merchant_available') AS available),
    entry AS (
        INSERT INTO journal_entries (merchant_id, kind, movement_id, description)
        VALUES ($1, 'correction', $3, $4) RETURNING id),
    posted AS (
        INSERT INTO postings (entry_id, merchant_id, account_id, amount)
        SELECT entry.id, $1, leg.account_id, leg.amount
          FROM entry, accounts,
               LATERAL (VALUES (accounts.external, -$2::bigint), (accounts.available, $2::bigint)) AS leg (account_id, amount)
        RETURNING 1)
    SELECT count(*) FROM posted";

const LOCK_AVAILABLE: &str = "
    SELECT balance FROM ledger_accounts
     WHERE merchant_id = $1 AND kind = 'merchant_available' FOR UPDATE";

/// Corrects a merchant's available balance; a debit the available balance does not cover
/// is refused (`InsufficientFunds`). Returns the correction's id.
pub async fn correct(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    correction: &Correction,
) -> Result<MovementId, LedgerError> {
    if correction.amount.is_zero() {
        return Err(LedgerError::InvalidAmount("a correction must be positive"));
    }
    let minor = correction.amount.minor();
    let signed = match correction.direction {
        Direction::Credit => minor,
        Direction::Debit => -minor,
    };
    if correction.direction == Direction::Debit {
        let available: i64 = tx
            .query_opt(LOCK_AVAILABLE, &[&merchant])
            .await?
            .ok_or(LedgerError::UnknownMerchant)?
            .get(0);
        if available < minor {
            return Err(LedgerError::InsufficientFunds {
                available: Amount::from_minor(available)
                    .map_err(|_| LedgerError::InvalidAmount("a stored balance is negative"))?,
                needed: correction.amount,
            });
        }
    }
    let id = MovementId::new();
    let written: i64 = tx
        .query_one(CORRECT, &[&merchant, &signed, &id, &correction.description])
        .await?
        .get(0);
    expect_postings(2, written)?;
    Ok(id)
}

const RESERVE: &str = "
    WITH available AS (
        SELECT id, balance FROM ledger_accounts
         WHERE merchant_id = $1 AND kind = 'merchant_available' FOR UPDATE),
    reserved AS (
        SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'merchant_reserved'),
    entry AS (
        INSERT INTO journal_entries (merchant_id, kind, batch_id)
        SELECT $1, 'reservation', $2 FROM available WHERE available.balance >= $3
        RETURNING id),
    posted AS (
        INSERT INTO postings (entry_id, merchant_id, account_id, amount)
        SELECT entry.id, $1, leg.account_id, leg.amount
          FROM entry, available, reserved,
               LATERAL (VALUES (available.id, -$3::bigint), (reserved.id, $3::bigint)) AS leg (account_id, amount)
        RETURNING 1)
    SELECT (SELECT balance FROM available), (SELECT count(*) FROM posted)";

/// Reserves a batch's whole total (amounts + fees) in one entry, all or nothing: when the
/// available balance does not cover it, nothing is posted and `InsufficientFunds` says
/// how much there is.
pub async fn reserve(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    batch: BatchId,
    total: Amount,
) -> Result<(), LedgerError> {
    if total.is_zero() {
        return Err(LedgerError::InvalidAmount("a reservation must be positive"));
    }
    let row = tx
        .query_one(
            &tx.prepare_cached(RESERVE).await?,
            &[&merchant, &batch, &total.minor()],
        )
        .await?;
    let available: Option<i64> = row.get(0);
    let written: i64 = row.get(1);
    let Some(available) = available else {
        return Err(LedgerError::UnknownMerchant);
    };
    if written == 0 {
        let available = Amount::from_minor(available)
            .map_err(|_| LedgerError::InvalidAmount("stored balance"))?;
        return Err(LedgerError::InsufficientFunds {
            available,
            needed: total,
        });
    }
    expect_postings(2, written)
}

const OPEN_CLEARING: &str = "
    INSERT INTO ledger_accounts (merchant_id, kind, route)
    SELECT DISTINCT $1::uuid, 'route_clearing', route FROM unnest($2::text[]) AS route
    ON CONFLICT (merchant_id, kind, route) DO NOTHING";

const SETTLE: &str = "
    WITH line AS (
        SELECT * FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[])
            AS line (payout_id, route, amount, fee)),
    reserved AS (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'merchant_reserved'),
    revenue AS (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'fee_revenue'),
    clearing AS (SELECT id, route FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'route_clearing'),
    entry AS (
        INSERT INTO journal_entries (merchant_id, kind) VALUES ($1, 'settlement') RETURNING id),
    outcome AS (
        INSERT INTO payout_outcomes (payout_id, merchant_id, entry_id, kind, amount, fee,
                                     description, reference, msisdn, operator_transaction_id)
        SELECT line.payout_id, $1, entry.id, 'settlement', line.amount, line.fee,
               coalesce(l.name, l.note), l.client_reference, l.msisdn, l.operator_transaction_id
          FROM line CROSS JOIN entry
               LEFT JOIN payout_lines l ON l.id = line.payout_id AND l.merchant_id = $1
        RETURNING 1),
    leg AS (
        SELECT reserved.id AS account_id, -sum(line.amount + line.fee) AS amount
          FROM line, reserved GROUP BY reserved.id
        UNION ALL
        SELECT clearing.id, sum(line.amount)
          FROM line JOIN clearing ON clearing.route = line.route GROUP BY clearing.id
        UNION ALL
        SELECT revenue.id, sum(line.fee) FROM line, revenue GROUP BY revenue.id),
    posted AS (
        INSERT INTO postings (entry_id, merchant_id, account_id, amount)
        SELECT entry.id, $1, leg.account_id, leg.amount FROM entry, leg WHERE leg.amount <> 0
        RETURNING 1)
    SELECT (SELECT count(*) FROM outcome), (SELECT count(*) FROM posted)";

/// Settles many paid lines in one statement: one journal entry whose postings are the sums
/// (reserved → each route's clearing account and fee revenue), and one outcome row per
/// line, which is what makes each line settled (or released) once. Each outcome copies its
/// line's particulars (name or note, reference, number, operator's transaction id, as the
/// line stands in this transaction), so a statement reads them from the ledger.
pub async fn settle(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    lines: &[Settlement],
) -> Result<(), LedgerError> {
    if lines.is_empty() {
        return Ok(());
    }
    let payouts: Vec<Uuid> = lines.iter().map(|l| *l.payout.as_uuid()).collect();
    let routes: Vec<&str> = lines.iter().map(|l| l.route.as_str()).collect();
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount.minor()).collect();
    let fees: Vec<i64> = lines.iter().map(|l| l.fee.minor()).collect();
    if amounts.contains(&0) {
        return Err(LedgerError::InvalidAmount(
            "a settled payout must be positive",
        ));
    }
    tx.execute(
        &tx.prepare_cached(OPEN_CLEARING).await?,
        &[&merchant, &routes],
    )
    .await?;
    let row = tx
        .query_one(
            &tx.prepare_cached(SETTLE).await?,
            &[&merchant, &payouts, &routes, &amounts, &fees],
        )
        .await?;
    let distinct_routes = routes
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    let fee_leg = usize::from(fees.iter().any(|f| *f != 0));
    expect_counts(
        (lines.len(), 1 + distinct_routes + fee_leg),
        (row.get(0), row.get(1)),
    )
}

const RELEASE: &str = "
    WITH line AS (
        SELECT * FROM unnest($2::uuid[], $3::bigint[]) AS line (payout_id, amount)),
    reserved AS (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'merchant_reserved'),
    available AS (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'merchant_available'),
    total AS (SELECT sum(amount) AS amount FROM line),
    entry AS (
        INSERT INTO journal_entries (merchant_id, kind) VALUES ($1, 'release') RETURNING id),
    outcome AS (
        INSERT INTO payout_outcomes (payout_id, merchant_id, entry_id, kind, amount, fee)
        SELECT line.payout_id, $1, entry.id, 'release', line.amount, 0 FROM line, entry
        RETURNING 1),
    posted AS (
        INSERT INTO postings (entry_id, merchant_id, account_id, amount)
        SELECT entry.id, $1, leg.account_id, leg.amount
          FROM entry, total, reserved, available,
               LATERAL (VALUES (reserved.id, -total.amount), (available.id, total.amount)) AS leg (account_id, amount)
        RETURNING 1)
    SELECT (SELECT count(*) FROM outcome), (SELECT count(*) FROM posted)";

/// Releases the reservations of many lines that will not be paid, in one statement: one
/// entry (reserved → available, the sum) and one outcome row per line.
pub async fn release(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    lines: &[Release],
) -> Result<(), LedgerError> {
    if lines.is_empty() {
        return Ok(());
    }
    let payouts: Vec<Uuid> = lines.iter().map(|l| *l.payout.as_uuid()).collect();
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount_with_fee.minor()).collect();
    if amounts.contains(&0) {
        return Err(LedgerError::InvalidAmount(
            "a released reservation must be positive",
        ));
    }
    let row = tx
        .query_one(
            &tx.prepare_cached(RELEASE).await?,
            &[&merchant, &payouts, &amounts],
        )
        .await?;
    expect_counts((lines.len(), 2), (row.get(0), row.get(1)))
}

const CREDIT_COLLECTION: &str = "
    WITH accounts AS (
        SELECT
            (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'external_funding') AS external,
            (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'merchant_available') AS available,
            (SELECT id FROM ledger_accounts WHERE merchant_id = $1 AND kind = 'fee_revenue') AS revenue),
    entry AS (
        INSERT INTO journal_entries (merchant_id, kind, collection_id) VALUES ($1, 'collection', $2) RETURNING id),
    posted AS (
        INSERT INTO postings (entry_id, merchant_id, account_id, amount)
        SELECT entry.id, $1, leg.account_id, leg.amount
          FROM entry, accounts,
               LATERAL (VALUES (accounts.external, -$3::bigint),
                               (accounts.available, $3::bigint - $4::bigint),
                               (accounts.revenue, $4::bigint)) AS leg (account_id, amount)
         WHERE leg.amount <> 0
        RETURNING 1)
    SELECT count(*) FROM posted";

/// Credits a paid collection to the merchant, less its fee, once.
pub async fn credit_collection(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    credit: &CollectionCredit,
) -> Result<(), LedgerError> {
    if credit.amount.is_zero() || credit.fee > credit.amount {
        return Err(LedgerError::InvalidAmount(
            "a collection must be positive and cover its fee",
        ));
    }
    let (amount, fee) = (credit.amount.minor(), credit.fee.minor());
    let written: i64 = tx
        .query_one(
            CREDIT_COLLECTION,
            &[&merchant, &credit.collection, &amount, &fee],
        )
        .await?
        .get(0);
    let expected = 1 + i64::from(amount != fee) + i64::from(fee != 0);
    expect_postings(expected, written)
}

/// Checks (outcome rows, postings) written against what the operation needs.
fn expect_counts(expected: (usize, usize), written: (i64, i64)) -> Result<(), LedgerError> {
    let outcomes = i64::try_from(expected.0).expect("line counts fit in i64");
    if outcomes != written.0 {
        return Err(LedgerError::Incomplete {
            expected: outcomes,
            written: written.0,
        });
    }
    expect_postings(i64::try_from(expected.1).expect("small"), written.1)
}

fn expect_postings(expected: i64, written: i64) -> Result<(), LedgerError> {
    if expected == written {
        Ok(())
    } else {
        Err(LedgerError::Incomplete { expected, written })
    }
}
