//! An operator call that panics, before or after the operator executed the payout, loses no
//! line and pays nothing twice: the line becomes uncertain and is asked about.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use payrail_adapters::simulator::FaultRates;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{
    Hooked, assert_each_paid_once, batch, merchant, mtn, start_engine_on, wait_for,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_operator_call_loses_no_line_and_pays_nothing_twice() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    // Every 7th send panics: half of those before the simulator sees it, half after it paid.
    let sends = Arc::new(AtomicU32::new(0));
    let (counted, seen) = (Arc::clone(&sends), Arc::clone(&sends));
    let operator = Hooked {
        inner: simulator.clone(),
        before: Box::new(move |_| {
            let n = counted.fetch_add(1, Ordering::Relaxed);
            assert!(!n.is_multiple_of(14), "injected panic before sending");
            None
        }),
        after: Box::new(move |_| {
            let n = seen.load(Ordering::Relaxed).saturating_sub(1);
            assert!(n % 14 != 7, "injected panic after the operator paid");
        }),
    };
    let engine = start_engine_on(&db, Arc::new(operator), 100_000).await;
    let merchant = merchant(&db, 1_000_000).await;
    let batch = batch(&db, merchant, 300).await;
    engine.run_batch(merchant, batch);
    let ended = wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed],
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    assert_eq!(
        ended,
        BatchState::Completed,
        "every line was paid in the end"
    );
    assert!(
        sends.load(Ordering::Relaxed) > 300,
        "some sends panicked and were sent again"
    );
    assert_each_paid_once(&db, &simulator, 300).await;
}
