//! Exactly once under faults: rejections, lost sends, lost replies and pending payouts,
//! and still every line ends once, the operator paid each succeeded line once and no
//! failed one, and the ledger balances to the franc.

use std::time::Duration;

use payrail_adapters::simulator::FaultRates;
use payrail_engine::ids::PayoutId;
use payrail_engine::ledger;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{PAYOUT_FEE, batch, merchant, mtn, start_engine, wait_for};

const MERCHANTS: usize = 10;
const LINES: i32 = 1_000;
const FUNDS: i64 = 2_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_ends_once_and_is_paid_at_most_once_under_faults() {
    let db = TestDb::new().await;
    let faults = FaultRates {
        rejected: 50_000,
        not_sent: 50_000,
        accepted_then_lost: 50_000,
        error_after_executing: 0,
        pending: 20_000,
    };
    let simulator = mtn(faults);
    let engine = start_engine(&db, &simulator).await;
    let mut batches = Vec::new();
    for _ in 0..MERCHANTS {
        let merchant = merchant(&db, FUNDS).await;
        let batch = batch(&db, merchant, LINES).await;
        engine.run_batch(merchant, batch);
        batches.push((merchant, batch));
    }
    for (merchant, batch) in &batches {
        let ended = wait_for(
            &db,
            *merchant,
            *batch,
            &[BatchState::Completed, BatchState::CompletedWithFailures],
            Duration::from_secs(120),
        )
        .await;
        assert_eq!(
            ended,
            BatchState::CompletedWithFailures,
            "5 % of lines are rejected"
        );
    }
    engine.stop().await;

    let client = db.client().await;
    let rows = client
        .query("SELECT id, state FROM payout_lines", &[])
        .await
        .expect("lines");
    assert_eq!(
        rows.len(),
        MERCHANTS * usize::try_from(LINES).expect("positive")
    );
    let (mut succeeded, mut failed) = (0, 0);
    for row in &rows {
        let (id, state): (PayoutId, &str) = (row.get(0), row.get(1));
        match state {
            "succeeded" => {
                succeeded += 1;
                assert_eq!(
                    simulator.executions_of(id),
                    1,
                    "a succeeded line was paid exactly once"
                );
            }
            "failed" => {
                failed += 1;
                assert_eq!(
                    simulator.executions_of(id),
                    0,
                    "a failed line was never paid"
                );
            }
            other => panic!("line {id} ended {other}"),
        }
    }
    assert!(simulator.executions().paid_twice.is_empty());
    assert_eq!(simulator.executions().payouts, succeeded);
    assert!(
        failed > 0 && succeeded > failed,
        "{succeeded} succeeded, {failed} failed"
    );

    let audit = ledger::audit(&client).await.expect("audit");
    assert!(audit.is_sound(), "{audit:?}");
    for (merchant, _) in &batches {
        let balances = ledger::balances(&client, *merchant)
            .await
            .expect("balances");
        assert_eq!(balances.reserved.minor(), 0, "nothing stays reserved");
        let paid: i64 = balances.clearing.values().map(|a| a.minor()).sum();
        let accounted = balances.available.minor() + paid + balances.fee_revenue.minor();
        assert_eq!(
            accounted,
            balances.received.minor(),
            "funded = available + settled + fees"
        );
        assert_eq!(
            balances.fee_revenue.minor() * 1_000,
            paid * PAYOUT_FEE,
            "one fee per paid line"
        );
    }
}
