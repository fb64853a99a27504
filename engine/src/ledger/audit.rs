//! The ledger's invariants, checked against the whole database: what the property tests
//! and every load-test run assert.

use deadpool_postgres::GenericClient;

use super::LedgerError;

/// Counts of everything that would be wrong; all zero on a sound ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AuditReport {
    /// Journal entries whose postings do not sum to zero.
    pub unbalanced_entries: i64,
    /// Journal entries with fewer than two postings.
    pub entries_without_postings: i64,
    /// Accounts whose balance differs from the sum of their postings.
    pub balances_off_postings: i64,
    /// Accounts (other than the external one) below zero.
    pub negative_balances: i64,
    /// The sum of every posting: zero when money is only ever moved, never made.
    pub postings_sum: i64,
    /// Settlement and release entries whose payout outcomes do not add up to what the
    /// entry took from the reserved account (or that have no outcomes).
    pub outcomes_off_entries: i64,
    /// Payout outcomes whose entry is not a settlement or release of their merchant.
    pub outcomes_without_entry: i64,
}

impl AuditReport {
    pub fn is_sound(&self) -> bool {
        *self == AuditReport::default()
    }
}

const AUDIT: &str = "
    SELECT
      (SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id HAVING sum(amount) <> 0) AS e),
      (SELECT count(*) FROM journal_entries e
        WHERE (SELECT count(*) FROM postings p WHERE p.entry_id = e.id) < 2),
      (SELECT count(*) FROM ledger_accounts a
         LEFT JOIN (SELECT account_id, sum(amount) AS total FROM postings GROUP BY account_id) AS p
                ON p.account_id = a.id
        WHERE a.balance <> coalesce(p.total, 0)),
      (SELECT count(*) FROM ledger_accounts WHERE balance < 0 AND kind <> 'external_funding'),
      (SELECT coalesce(sum(amount), 0)::bigint FROM postings),
      (SELECT count(*) FROM journal_entries e
         LEFT JOIN (SELECT entry_id, sum(amount + fee) AS total FROM payout_outcomes GROUP BY entry_id) AS o
                ON o.entry_id = e.id
         LEFT JOIN (SELECT p.entry_id, -sum(p.amount) AS total FROM postings p
                      JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'merchant_reserved'
                     GROUP BY p.entry_id) AS r
                ON r.entry_id = e.id
        WHERE e.kind IN ('settlement', 'release')
          AND (o.total IS NULL OR o.total IS DISTINCT FROM r.total)),
      (SELECT count(*) FROM payout_outcomes o
        WHERE NOT EXISTS (SELECT 1 FROM journal_entries e
                           WHERE e.id = o.entry_id AND e.merchant_id = o.merchant_id
                             AND e.kind = o.kind))";

/// Checks every invariant of the ledger in one query.
pub async fn audit(client: &impl GenericClient) -> Result<AuditReport, LedgerError> {
    let row = client.query_one(AUDIT, &[]).await?;
    Ok(AuditReport {
        unbalanced_entries: row.get(0),
        entries_without_postings: row.get(1),
        balances_off_postings: row.get(2),
        negative_balances: row.get(3),
        postings_sum: row.get(4),
        outcomes_off_entries: row.get(5),
        outcomes_without_entry: row.get(6),
    })
}
