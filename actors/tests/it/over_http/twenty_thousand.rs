//! A 20,000-line batch over HTTP with 5 % of transfers lost after arriving, 5 % executed
//! then answered 500, and half the callbacks dropped: every line ends, each executed once.

use std::time::Duration;

use payrail_adapters::simserver::{CallbackProfile, SimFaults, SimServerProfile};
use payrail_engine::ledger;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use super::{mtn_adapter, quiet_profile, simulator};
use crate::support::{batch, merchant, settings, start_engine_with_quotas, wait_for};

const LINES: i32 = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_lines_with_faults_end_final_and_nothing_executes_twice() {
    let db = TestDb::new().await;
    let hostile = SimServerProfile {
        faults: SimFaults {
            accepted_then_lost: 50_000,
            error_after_executing: 50_000,
            ..SimFaults::default()
        },
        callbacks: CallbackProfile {
            drop_ppm: 500_000,
            ..CallbackProfile::default()
        },
        ..quiet_profile(0)
    };
    let simulator = simulator(hostile).await;
    let engine =
        start_engine_with_quotas(&db, mtn_adapter(&simulator), 100_000, 100_000, settings()).await;
    let merchant = merchant(&db, 30_000_000).await;
    let batch = batch(&db, merchant, LINES).await;
    engine.run_batch(merchant, batch);
    let ended = wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed, BatchState::CompletedWithFailures],
        Duration::from_secs(300),
    )
    .await;
    engine.stop().await;
    assert_eq!(ended, BatchState::Completed);

    let stats = simulator.stats();
    assert!(stats.faults.accepted_then_lost > 500, "{stats:?}");
    assert!(stats.faults.error_after_executing > 500, "{stats:?}");
    let report = simulator.report();
    assert!(
        report.executed_twice.is_empty(),
        "{:?}",
        report.executed_twice
    );
    assert_eq!(report.transfers.len(), 20_000);
    assert!(
        report
            .transfers
            .iter()
            .all(|transfer| transfer.executions == 1)
    );
    let client = db.client().await;
    let not_succeeded: i64 = client
        .query_one(
            "SELECT count(*) FROM payout_lines WHERE state <> 'succeeded'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(not_succeeded, 0);
    let audit = ledger::audit(&client).await.expect("audit");
    assert!(audit.is_sound(), "{audit:?}");
}
