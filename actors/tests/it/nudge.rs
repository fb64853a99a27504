//! An operator callback brings a pending line's status query forward: the line ends long
//! before its backoff would have asked again, and only the query's answer settles it.

use std::time::{Duration, Instant};

use payrail_adapters::simulator::FaultRates;
use payrail_adapters::simulator::PPM;
use payrail_engine::app::EnginePort;
use payrail_engine::ids::Reference;
use payrail_engine::route::RouteName;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{batch, merchant, mtn, settings, start_engine_with, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nudge_asks_about_a_pending_line_before_its_backoff_ends() {
    let db = TestDb::new().await;
    // Every payout is pending for 30 ms; the first query after the send would come only
    // 10 to 20 seconds later.
    let simulator = mtn(FaultRates {
        pending: PPM,
        ..FaultRates::default()
    });
    let mut slow = settings();
    slow.retry.backoff_base = Duration::from_secs(20);
    slow.retry.backoff_max = Duration::from_secs(20);
    let engine = start_engine_with(&db, simulator.clone(), 1_000, slow).await;
    let merchant = merchant(&db, 10_000).await;
    let batch = batch(&db, merchant, 3).await;
    let started = Instant::now();
    engine.run_batch(merchant, batch);

    let client = db.client().await;
    let references: Vec<Reference> = loop {
        let rows = client
            .query(
                "SELECT reference FROM payout_lines WHERE state = 'sending'",
                &[],
            )
            .await
            .expect("lines");
        if rows.len() == 3 {
            break rows.iter().map(|row| row.get(0)).collect();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // Give the sends time to come back pending and park, and the payouts to turn final.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let nudger = engine.handle();
    let route = |name: &str| RouteName::new(name).expect("a route");
    for reference in &references {
        nudger
            .nudge(&route("mtn-rw"), *reference)
            .expect("the engine runs");
    }
    // A nudge for a reference nobody waits for, or a route that does not exist, is ignored.
    nudger
        .nudge(&route("mtn-rw"), Reference::new())
        .expect("ignored");
    nudger
        .nudge(&route("mpesa-ke"), references[0])
        .expect("ignored");

    let ended = wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed, BatchState::CompletedWithFailures],
        Duration::from_secs(8),
    )
    .await;
    assert_eq!(ended, BatchState::Completed);
    assert!(started.elapsed() < Duration::from_secs(9));
    engine.stop().await;
}
