//! The audit after every run: every line final, the operators paid each succeeded line
//! once and nothing twice, the ledger sound, nothing left reserved.

use deadpool_postgres::Pool;
use payrail_engine::ledger::{self, AuditReport};
use serde::Serialize;

use crate::operators::Executed;

/// What the audit counted; `ok()` when all of it holds.
#[derive(Debug, Serialize)]
pub struct Audit {
    pub lines: i64,
    pub succeeded: i64,
    /// Lines not in a final state.
    pub not_final: i64,
    /// Payouts the simulators executed.
    pub executed: usize,
    /// Payouts the simulators executed more than once.
    pub paid_twice: usize,
    /// Money still reserved across merchants.
    pub reserved: i64,
    pub ledger: AuditReport,
    pub ok: bool,
}

impl Audit {
    pub fn ok(&self) -> bool {
        self.ok
    }
}

const LINES: &str = "
    SELECT count(*),
           count(*) FILTER (WHERE state = 'succeeded'),
           count(*) FILTER (WHERE state NOT IN ('succeeded', 'failed', 'rejected', 'cancelled')),
           (SELECT coalesce(sum(balance), 0)::bigint FROM ledger_accounts WHERE kind = 'merchant_reserved')
      FROM payout_lines";

pub async fn run(pool: &Pool, executions: &Executed) -> anyhow::Result<Audit> {
    let client = pool.get().await?;
    let row = client.query_one(LINES, &[]).await?;
    let (lines, succeeded, not_final, reserved): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let (executed, paid_twice) = (executions.payouts, executions.paid_twice.len());
    let ledger = ledger::audit(&client).await?;
    let ok = not_final == 0
        && paid_twice == 0
        && i64::try_from(executed)? == succeeded
        && reserved == 0
        && ledger.is_sound();
    Ok(Audit {
        lines,
        succeeded,
        not_final,
        executed,
        paid_twice,
        reserved,
        ledger,
        ok,
    })
}
