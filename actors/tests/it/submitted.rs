//! The state a person reads is the true one: a payout the operator accepted and has not
//! finished reads `submitted` once it has waited past `submitted_after`, never `sending`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use payrail_adapters::simulator::{FaultRates, PPM, Simulator, SimulatorProfile};
use payrail_engine::testing::TestDb;

use crate::support::{batch, merchant, start_engine};

async fn lines_in(db: &TestDb, state: &str) -> i64 {
    db.client()
        .await
        .query_one(
            "SELECT count(*) FROM payout_lines WHERE state = $1",
            &[&state],
        )
        .await
        .expect("count")
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_payout_that_has_not_finished_reads_submitted() {
    let db = TestDb::new().await;
    // Every payout is accepted as pending and finishes only after a minute.
    let simulator = Arc::new(
        Simulator::new(SimulatorProfile {
            faults: FaultRates {
                pending: PPM,
                ..FaultRates::default()
            },
            pending_ms: 60_000,
            seed: 5,
            ..SimulatorProfile::default()
        })
        .expect("a valid profile"),
    );
    let engine = start_engine(&db, &simulator).await;
    let merchant = merchant(&db, 100_000).await;
    let batch = batch(&db, merchant, 5).await;
    engine.run_batch(merchant, batch);

    let deadline = Instant::now() + Duration::from_secs(10);
    while lines_in(&db, "submitted").await < 5 {
        assert!(Instant::now() < deadline, "still not submitted after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(lines_in(&db, "sending").await, 0);
    engine.stop().await;
}
