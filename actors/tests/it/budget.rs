//! A merchant's in-flight budget is shared by its batches: several payrolls of one merchant
//! under a small budget all finish, none starved and none stuck.

use std::time::Duration;

use payrail_adapters::simulator::FaultRates;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{batch, merchant, mtn, settings, start_engine_with, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchants_batches_share_its_budget_and_all_finish() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates {
        pending: 100_000,
        ..FaultRates::default()
    });
    let mut settings = settings();
    settings.batch.merchant_max_outstanding = 500;
    let engine = start_engine_with(&db, simulator.clone(), 100_000, settings).await;
    let merchant = merchant(&db, 10_000_000).await;
    let mut batches = Vec::new();
    for _ in 0..3 {
        let batch = batch(&db, merchant, 1_000).await;
        engine.run_batch(merchant, batch);
        batches.push(batch);
    }
    for batch in batches {
        wait_for(
            &db,
            merchant,
            batch,
            &[BatchState::Completed],
            Duration::from_secs(60),
        )
        .await;
    }
    engine.stop().await;
    assert_eq!(simulator.executions().payouts, 3_000);
}
