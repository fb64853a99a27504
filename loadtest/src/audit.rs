//! The audit after every benchmark and run, from the database and the operators' record: every payout line
//! and collection final, each succeeded line settled exactly once and nothing settled that
//! did not succeed, the ledger sound, nothing left reserved but what waits for review, no
//! reference executed twice (and the operators paid exactly the succeeded lines), and no
//! route over its quota in any one-second window. `payrail-loadtest audit` runs it again
//! on a database and a saved operator record.

use std::path::PathBuf;

use anyhow::{Context, bail};
use deadpool_postgres::Pool;
use payrail_engine::ids::MerchantId;
use payrail_engine::ledger::{self, AuditReport};
use serde::{Deserialize, Serialize};

use crate::bench_database::BenchDatabase;
use crate::operators::Executed;
use crate::report::{AuditCheck, AuditSummary};

/// `payrail-loadtest audit`: the run's audit again, on every merchant of a database.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The database a run used (`run --database-url`).
    #[arg(long)]
    database_url: String,
    /// The operator record the run saved (`run --operator-record`).
    #[arg(long)]
    operator_record: Option<PathBuf>,
}

/// Every merchant of the database (a benchmark's own).
pub async fn all_merchants(pool: &Pool) -> anyhow::Result<Vec<MerchantId>> {
    let client = pool.get().await?;
    let rows = client.query("SELECT id FROM merchants", &[]).await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Audits again, prints each check, and fails when one does.
pub async fn audit_again(args: AuditArgs) -> anyhow::Result<()> {
    let record: Option<OperatorRecord> = match &args.operator_record {
        Some(path) => Some(serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        )?),
        None => None,
    };
    let database = BenchDatabase::open(Some(&args.database_url), 2).await?;
    let merchants = all_merchants(&database.pool).await?;
    let summary = audit(&database.pool, &merchants, record.as_ref()).await?;
    let mut text = String::new();
    for check in &summary.checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        text.push_str(&format!("{mark} {}: {}\n", check.name, check.detail));
    }
    use std::io::Write;
    std::io::stdout().write_all(text.as_bytes())?;
    database.close().await?;
    if !summary.ok {
        bail!("the audit failed");
    }
    Ok(())
}

/// What the operators did, as the run saw it; saved with `run --operator-record`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OperatorRecord {
    /// Payouts the operators executed.
    pub executed_payouts: u64,
    /// References that moved money more than once.
    pub executed_twice: Vec<String>,
    pub routes: Vec<RouteSends>,
}

impl OperatorRecord {
    /// The record of what these operators executed, with each route's sends.
    pub fn new(executed: Executed, routes: Vec<RouteSends>) -> OperatorRecord {
        OperatorRecord {
            executed_payouts: u64::try_from(executed.payouts).unwrap_or(u64::MAX),
            executed_twice: executed.paid_twice,
            routes,
        }
    }
}

/// One route's quota and its busiest second.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RouteSends {
    pub route: String,
    pub sends_per_second: u32,
    pub busiest_second: u64,
}

const LINES: &str = "
    SELECT count(*) FILTER (WHERE state NOT IN ('succeeded', 'failed', 'rejected', 'cancelled', 'requires_review')),
           count(*) FILTER (WHERE state = 'succeeded'),
           count(*) FILTER (WHERE state = 'requires_review'),
           coalesce(sum(amount + fee) FILTER (WHERE state = 'requires_review'), 0)::bigint,
           count(*)
      FROM payout_lines WHERE merchant_id = ANY($1)";

const OPEN_COLLECTIONS: &str =
    "SELECT count(*) FROM collections WHERE merchant_id = ANY($1) AND state = 'pending'";

const SETTLEMENTS: &str = "
    SELECT (SELECT count(*) FROM payout_lines l
             WHERE l.merchant_id = ANY($1) AND l.state = 'succeeded'
               AND NOT EXISTS (SELECT 1 FROM payout_outcomes o
                                WHERE o.payout_id = l.id AND o.kind = 'settlement')),
           (SELECT count(*) FROM payout_outcomes o JOIN payout_lines l ON l.id = o.payout_id
             WHERE o.merchant_id = ANY($1) AND o.kind = 'settlement' AND l.state <> 'succeeded')";

const RESERVED: &str = "
    SELECT coalesce(sum(balance), 0)::bigint FROM ledger_accounts
     WHERE kind = 'merchant_reserved' AND merchant_id = ANY($1)";

/// Audits the merchants' work; the operator checks need the operators' record, and are
/// left out without one (the summary lists the checks made).
pub async fn audit(
    pool: &Pool,
    merchants: &[MerchantId],
    operators: Option<&OperatorRecord>,
) -> anyhow::Result<AuditSummary> {
    let client = pool.get().await?;
    let row = client.query_one(LINES, &[&merchants]).await?;
    let (open, succeeded, in_review, review_sum, lines): (i64, i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let open_collections: i64 = client
        .query_one(OPEN_COLLECTIONS, &[&merchants])
        .await?
        .get(0);
    let row = client.query_one(SETTLEMENTS, &[&merchants]).await?;
    let (unsettled, settled_not_succeeded): (i64, i64) = (row.get(0), row.get(1));
    let reserved: i64 = client.query_one(RESERVED, &[&merchants]).await?.get(0);
    let ledger = ledger::audit(&client).await?;

    let mut checks = vec![
        check(
            "every line final",
            open == 0 && open_collections == 0,
            format!(
                "{lines} lines: {open} not final ({in_review} awaiting review); {open_collections} collections pending"
            ),
        ),
        check(
            "settled exactly once",
            unsettled == 0
                && settled_not_succeeded == 0
                && ledger.outcomes_off_entries == 0
                && ledger.outcomes_without_entry == 0,
            format!(
                "{succeeded} succeeded; {unsettled} without a settlement, {settled_not_succeeded} settled without succeeding, {} settlement or release entries off their payouts, {} outcomes without their entry",
                ledger.outcomes_off_entries, ledger.outcomes_without_entry
            ),
        ),
        check("ledger balanced", ledger.is_sound(), ledger_detail(&ledger)),
        check(
            "nothing left reserved",
            reserved == review_sum,
            format!("{reserved} reserved; {review_sum} held for lines awaiting review"),
        ),
    ];
    checks.extend(operator_checks(operators, succeeded));
    Ok(AuditSummary {
        ok: checks.iter().all(|c| c.ok),
        checks,
    })
}

fn operator_checks(operators: Option<&OperatorRecord>, succeeded: i64) -> Vec<AuditCheck> {
    // A node driven with --target keeps its operators' record to itself.
    let Some(record) = operators else {
        return Vec::new();
    };
    let executed = i64::try_from(record.executed_payouts).unwrap_or(i64::MAX);
    let twice = &record.executed_twice;
    let mut checks = vec![check(
        "no reference executed twice",
        twice.is_empty() && executed == succeeded,
        format!(
            "operators executed {executed} payouts for {succeeded} succeeded lines; executed twice: {}",
            if twice.is_empty() {
                "none".to_owned()
            } else {
                twice.join(", ")
            }
        ),
    )];
    // Only a run logs its sends; the engine benchmark keeps its quotas out of the way.
    if !record.routes.is_empty() {
        checks.push(quota_check(&record.routes));
    }
    checks
}

fn quota_check(routes: &[RouteSends]) -> AuditCheck {
    let over: Vec<String> = routes
        .iter()
        .filter(|r| r.busiest_second > u64::from(r.sends_per_second))
        .map(|r| {
            format!(
                "{} sent {} in one second (quota {})",
                r.route, r.busiest_second, r.sends_per_second
            )
        })
        .collect();
    let detail = if over.is_empty() {
        let busiest: Vec<String> = routes
            .iter()
            .map(|r| format!("{} {}/{}", r.route, r.busiest_second, r.sends_per_second))
            .collect();
        format!("busiest second per route: {}", busiest.join(", "))
    } else {
        over.join("; ")
    };
    check("no route over its quota", over.is_empty(), detail)
}

/// The ledger audit's counts, each named.
fn ledger_detail(report: &AuditReport) -> String {
    format!(
        "unbalanced entries {}, entries without postings {}, balances off their postings {}, \
         negative balances {}, sum of all postings {}",
        report.unbalanced_entries,
        report.entries_without_postings,
        report.balances_off_postings,
        report.negative_balances,
        report.postings_sum
    )
}

fn check(name: &str, ok: bool, detail: String) -> AuditCheck {
    AuditCheck {
        name: name.to_owned(),
        ok,
        detail,
    }
}
