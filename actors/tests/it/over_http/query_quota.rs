//! Status queries and the operator's quota: the engine's own quota keeps it under MTN's,
//! and when the operator still says 429, queries slow down and no payout is lost.

use std::time::{Duration, Instant};

use payrail_adapters::simserver::{SimFaults, SimServerProfile};
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use super::{mtn_adapter, quiet_profile, simulator};
use crate::support::{batch, merchant, settings, wait_for};

const LINES: i32 = 150;

/// Every transfer is pending for a while, so each line needs a few status queries.
fn pending_profile(status_queries_per_second: u32) -> SimServerProfile {
    SimServerProfile {
        pending_ms: 300,
        faults: SimFaults::default(),
        ..quiet_profile(status_queries_per_second)
    }
}

/// Runs one batch with the engine querying at most `engine_rate` per second against a
/// simulator allowing `operator_rate`; returns the simulator and how long the batch took.
async fn run(
    engine_rate: u32,
    operator_rate: u32,
) -> (
    payrail_adapters::simserver::SimServerHandle,
    Duration,
    TestDb,
) {
    let db = TestDb::new().await;
    let simulator = simulator(pending_profile(operator_rate)).await;
    let engine = crate::support::start_engine_with_quotas(
        &db,
        mtn_adapter(&simulator),
        10_000,
        engine_rate,
        settings(),
    )
    .await;
    let merchant = merchant(&db, 1_000_000).await;
    let batch = batch(&db, merchant, LINES).await;
    let started = Instant::now();
    engine.run_batch(merchant, batch);
    let ended = wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed, BatchState::CompletedWithFailures],
        Duration::from_secs(60),
    )
    .await;
    let took = started.elapsed();
    engine.stop().await;
    assert_eq!(ended, BatchState::Completed);
    (simulator, took, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_queries_stay_within_the_engines_quota() {
    let (simulator, took, _db) = run(40, 50).await;
    let stats = simulator.stats();
    assert_eq!(stats.status_rate_limited, 0, "{stats:?}");
    assert!(stats.status_queries >= u64::try_from(LINES).expect("positive"));
    // Never more than 40 a second: the queries could not have been made faster.
    let fastest = Duration::from_secs_f64(stats.status_queries as f64 / 40.0);
    assert!(
        took + Duration::from_millis(100) >= fastest,
        "{took:?} < {fastest:?}"
    );
    assert!(simulator.report().executed_twice.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_status_queries_slows_them_down_and_loses_no_payout() {
    let (simulator, _, db) = run(1_000, 30).await;
    let stats = simulator.stats();
    assert!(
        stats.status_rate_limited > 0,
        "the operator pushed back: {stats:?}"
    );
    // After a 429 the route waits as the operator asks: far fewer refusals than queries.
    assert!(
        stats.status_rate_limited * 2 < stats.status_queries,
        "{stats:?}"
    );
    let report = simulator.report();
    assert_eq!(
        report.transfers.len(),
        usize::try_from(LINES).expect("positive")
    );
    assert!(
        report
            .transfers
            .iter()
            .all(|transfer| transfer.executions == 1)
    );
    let succeeded: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(succeeded, i64::from(LINES));
}
