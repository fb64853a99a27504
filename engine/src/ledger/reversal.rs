//! Putting a payout's money back in reserve when its outcome turns out wrong: a status
//! query contradicted the authenticated callback the payout was settled or released on.
//! One correction entry reverses the outcome's postings into the reserved account, where
//! a line in review holds its money; the outcome row stays, as the record of what was
//! booked, and the correction names the payout in its description.

use deadpool_postgres::Transaction;

use super::LedgerError;
use crate::ids::{MerchantId, MovementId, PayoutId};
use crate::money::Amount;

const OUTCOME: &str = "
    SELECT o.kind, o.amount,
           (SELECT balance FROM ledger_accounts
             WHERE merchant_id = $1 AND kind = 'merchant_available' FOR UPDATE)
      FROM payout_outcomes o WHERE o.payout_id = $2 AND o.merchant_id = $1";

const REVERSE: &str = "
    WITH outcome AS (
        SELECT o.kind, o.amount, o.fee, l.route
          FROM payout_outcomes o JOIN payout_lines l ON l.id = o.payout_id
         WHERE o.payout_id = $2 AND o.merchant_id = $1),
    account AS (
        SELECT kind, route, id FROM ledger_accounts WHERE merchant_id = $1),
    entry AS (
        INSERT INTO journal_entries (merchant_id, kind, movement_id, description)
        SELECT $1, 'correction', $3, $4 FROM outcome RETURNING id),
    leg AS (
        SELECT a.id AS account_id, o.amount + o.fee AS amount
          FROM outcome o JOIN account a ON a.kind = 'merchant_reserved'
        UNION ALL
        SELECT a.id, -o.amount
          FROM outcome o JOIN account a ON a.kind = 'route_clearing' AND a.route = o.route
         WHERE o.kind = 'settlement'
        UNION ALL
        SELECT a.id, -o.fee
          FROM outcome o JOIN account a ON a.kind = 'fee_revenue'
         WHERE o.kind = 'settlement'
        UNION ALL
        SELECT a.id, -o.amount
          FROM outcome o JOIN account a ON a.kind = 'merchant_available'
         WHERE o.kind = 'release'),
    posted AS (
        INSERT INTO postings (entry_id, merchant_id, account_id, amount)
        SELECT entry.id, $1, leg.account_id, leg.amount FROM entry, leg WHERE leg.amount <> 0
        RETURNING 1)
    SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM posted)";

/// Reverses `payout`'s settlement (clearing and fee revenue → reserved) or release
/// (available → reserved) in one correction entry described by `description`. A release
/// the available balance no longer covers is refused (`InsufficientFunds`), as is a payout
/// with no outcome (`InvalidAmount`).
pub async fn reserve_again(
    tx: &Transaction<'_>,
    merchant: MerchantId,
    payout: PayoutId,
    description: &str,
) -> Result<MovementId, LedgerError> {
    let row =
        tx.query_opt(OUTCOME, &[&merchant, &payout])
            .await?
            .ok_or(LedgerError::InvalidAmount(
                "the payout has no settlement or release to reverse",
            ))?;
    let (kind, amount, available): (&str, i64, i64) = (row.get(0), row.get(1), row.get(2));
    if kind == "release" && available < amount {
        let minor = |m| Amount::from_minor(m).unwrap_or(Amount::ZERO);
        return Err(LedgerError::InsufficientFunds {
            available: minor(available),
            needed: minor(amount),
        });
    }
    let id = MovementId::new();
    let row = tx
        .query_one(REVERSE, &[&merchant, &payout, &id, &description])
        .await?;
    let (entries, postings): (i64, i64) = (row.get(0), row.get(1));
    if entries != 1 || postings < 2 {
        return Err(LedgerError::Incomplete {
            expected: 2,
            written: postings,
        });
    }
    Ok(id)
}
