//! An operator that stops answering: the route's circuit opens and holds its sends back,
//! instead of every line hammering it with retries, then the batch finishes once the
//! operator is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use payrail_adapters::simulator::FaultRates;
use payrail_engine::operator::OperatorError;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{Hooked, batch, merchant, mtn, settings, start_engine_with, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_circuit_holds_sends_back_during_an_outage_and_the_batch_finishes_after() {
    const LINES: u32 = 200;
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    // Refuses every connection for the first 1.5 s.
    let back_at = Instant::now() + Duration::from_millis(1_500);
    let refused = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&refused);
    let operator = Hooked {
        inner: simulator.clone(),
        before: Box::new(move |_| {
            (Instant::now() < back_at).then(|| {
                counter.fetch_add(1, Ordering::Relaxed);
                Err(OperatorError::NotSent {
                    detail: "connection refused".into(),
                    retry_after_ms: None,
                })
            })
        }),
        after: Box::new(|_| {}),
    };
    let mut settings = settings();
    settings.retry.circuit_failures = 10;
    settings.retry.circuit_open_for = Duration::from_millis(300);
    settings.retry.not_sent_max = 1_000;
    let engine = start_engine_with(&db, Arc::new(operator), 100_000, settings).await;
    let merchant = merchant(&db, 1_000_000).await;
    let batch = batch(&db, merchant, i32::try_from(LINES).expect("small")).await;
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
    let refused = refused.load(Ordering::Relaxed);
    // The first wave leaves before any answer comes back; after that only one trial per
    // open period. Retrying every 2–50 ms without a circuit made over 7,000.
    assert!(refused <= LINES + 20, "{refused} sends during the outage");
    assert_eq!(
        simulator.executions().payouts,
        usize::try_from(LINES).expect("small")
    );
}
