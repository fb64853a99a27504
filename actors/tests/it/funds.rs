//! A batch the balance does not cover waits in `awaiting_funds` with nothing sent or
//! claimed, and runs once the merchant is topped up.

use std::time::Duration;

use payrail_adapters::simulator::FaultRates;
use payrail_engine::ledger;
use payrail_engine::state::batch::BatchState;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::payout_lines;
use payrail_engine::testing::TestDb;

use crate::support::{amount, batch, merchant, mtn, start_engine, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_waits_for_funds_then_runs_after_a_top_up() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let engine = start_engine(&db, &simulator).await;
    let merchant = merchant(&db, 50_000).await;
    let batch = batch(&db, merchant, 100).await;
    engine.run_batch(merchant, batch);
    wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::AwaitingFunds],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        simulator.executions().payouts,
        0,
        "nothing reached the operator"
    );
    // The actor that found the funds short has stopped; give a stray claim time to land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = payout_lines::count_by_state(&db.client().await, merchant, batch)
        .await
        .expect("counts");
    assert!(
        counts
            .iter()
            .all(|count| count.state == PayoutState::Validated),
        "no line is claimed before its batch holds its reservation: {counts:?}"
    );
    let balances = ledger::balances(&db.client().await, merchant)
        .await
        .expect("balances");
    assert_eq!(
        (balances.available, balances.reserved),
        (amount(50_000), amount(0))
    );

    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    ledger::fund(&tx, merchant, amount(60_000))
        .await
        .expect("top up");
    tx.commit().await.expect("commit");
    let ended = wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(ended, BatchState::Completed);
    assert_eq!(simulator.executions().payouts, 100);
    let balances = ledger::balances(&client, merchant).await.expect("balances");
    assert_eq!(balances.available, amount(110_000 - 100 * 1_100));
    engine.stop().await;
}
