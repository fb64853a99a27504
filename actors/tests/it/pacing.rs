//! Pacing: a route keeps to its quota over every one-second window, and one merchant's
//! large payroll does not hold up another merchant's single payout.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use payrail_adapters::simulator::FaultRates;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{Hooked, batch, merchant, mtn, start_engine_on, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_never_exceeds_its_quota_in_any_one_second_window() {
    const QUOTA: usize = 200;
    let db = TestDb::new().await;
    let sends = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&sends);
    let recording = Hooked {
        inner: mtn(FaultRates::default()),
        before: Box::new(move |_| {
            record.lock().expect("not poisoned").push(Instant::now());
            None
        }),
        after: Box::new(|_| {}),
    };
    let engine = start_engine_on(
        &db,
        Arc::new(recording),
        u32::try_from(QUOTA).expect("small"),
    )
    .await;
    let merchant = merchant(&db, 1_000_000).await;
    let batch = batch(&db, merchant, 700).await;
    engine.run_batch(merchant, batch);
    wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed],
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    let sends = sends.lock().expect("not poisoned").clone();
    assert_eq!(sends.len(), 700);
    let busiest = sends
        .iter()
        .map(|start| {
            sends
                .iter()
                .filter(|t| **t >= *start && **t < *start + Duration::from_secs(1))
                .count()
        })
        .max()
        .expect("sends");
    assert!(
        busiest <= QUOTA,
        "{busiest} sends in one second, quota {QUOTA}"
    );
    // Three quarters, not all: a loaded CI machine delays some sends past their window.
    assert!(
        busiest >= QUOTA * 3 / 4,
        "the route uses its quota: {busiest} in its busiest second"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_payout_is_not_held_up_behind_a_large_payroll() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let engine = start_engine_on(&db, simulator.clone(), 5_000).await;
    let big = merchant(&db, 60_000_000).await;
    let payroll = batch(&db, big, 50_000).await;
    let small = merchant(&db, 10_000).await;
    let single = batch(&db, small, 1).await;
    engine.run_batch(big, payroll);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    while simulator.executions().payouts < 2_000 {
        assert!(Instant::now() < deadline, "the payroll started");
        poll.tick().await;
    }
    let started = Instant::now();
    engine.run_batch(small, single);
    wait_for(
        &db,
        small,
        single,
        &[BatchState::Completed],
        Duration::from_secs(10),
    )
    .await;
    let waited = started.elapsed();
    let payroll_state = payrail_engine::store::batches::get(&db.client().await, big, payroll)
        .await
        .expect("batch")
        .state;
    engine.stop().await;
    assert_eq!(
        payroll_state,
        BatchState::Running,
        "the payroll was still running meanwhile"
    );
    // Queued behind the payroll's 48,000 remaining lines it would take about ten seconds;
    // two leave room for a loaded machine.
    assert!(
        waited < Duration::from_secs(2),
        "the single payout took {waited:?}"
    );
}
